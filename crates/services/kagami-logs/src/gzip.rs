//! gzip (RFC 1952) around miniz_oxide's deflate: subscription deliveries are
//! base64(gzip(json)), as CloudWatch Logs sends them.

/// The gzip member of `data`, compressed at the default level.
pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
    // Magic, deflate, no flags, no mtime, no extra flags, OS unknown.
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    out.extend_from_slice(&miniz_oxide::deflate::compress_to_vec(data, 6));
    out.extend_from_slice(&crc32(data).to_le_bytes());
    // ISIZE is the input size modulo 2^32, by definition.
    out.extend_from_slice(&((data.len() & 0xffff_ffff) as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn gzip_members_inflate_back() {
        let z = gzip(b"hello hello hello");
        assert_eq!(&z[..2], &[0x1f, 0x8b]);
        let body = &z[10..z.len() - 8];
        assert_eq!(miniz_oxide::inflate::decompress_to_vec(body).unwrap(), b"hello hello hello");
    }
}
