//! gzip (RFC 1952) around miniz_oxide's deflate, for export data files and imported
//! objects compressed with GZIP.

/// The most one imported object may inflate to.
const MAX_INFLATED: usize = 1 << 30;

pub fn gzip(data: &[u8]) -> Vec<u8> {
    // Magic, deflate, no flags, no mtime, no extra flags, OS unknown.
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    out.extend_from_slice(&miniz_oxide::deflate::compress_to_vec(data, 6));
    out.extend_from_slice(&crc32(data).to_le_bytes());
    // ISIZE is the input size modulo 2^32, by definition.
    out.extend_from_slice(&((data.len() & 0xffff_ffff) as u32).to_le_bytes());
    out
}

/// The inflated member of a gzip file; None when it is not one.
pub fn gunzip(data: &[u8]) -> Option<Vec<u8>> {
    const FHCRC: u8 = 2;
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    if data.len() < 18 || data[0] != 0x1f || data[1] != 0x8b || data[2] != 8 {
        return None;
    }
    let flags = data[3];
    let mut pos = 10;
    if flags & FEXTRA != 0 {
        let len = data.get(pos..pos + 2)?;
        pos += 2 + usize::from(u16::from_le_bytes([len[0], len[1]]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            pos += data.get(pos..)?.iter().position(|&b| b == 0)? + 1;
        }
    }
    if flags & FHCRC != 0 {
        pos += 2;
    }
    let deflated = data.get(pos..data.len().saturating_sub(8))?;
    miniz_oxide::inflate::decompress_to_vec_with_limit(deflated, MAX_INFLATED).ok()
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
    fn gzip_round_trips() {
        let data = b"{\"Item\":{\"pk\":{\"S\":\"a\"}}}\n".repeat(100);
        assert_eq!(gunzip(&gzip(&data)).as_deref(), Some(&data[..]));
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert!(gunzip(b"not gzip at all, not at all").is_none());
    }
}
