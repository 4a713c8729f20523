//! Partial reads of GetObject and HeadObject: the `Range` header and `partNumber`, with
//! S3's answers (206 and `Content-Range`; 416 for what cannot be satisfied; a header S3
//! cannot use is ignored and the whole object returned).

use crate::errors::{invalid_argument, invalid_range, invalid_request, part_number_not_satisfiable};
use crate::persistence::ObjectRecord;
use kagami_core::{ServiceError, Value};

/// Highest part number S3 accepts.
const MAX_PART_NUMBER: i32 = 10_000;

/// The bytes a read returns: the whole object, or a window of it with the
/// `Content-Range` and (for a part of a multipart object) the part count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub start: u64,
    pub len: u64,
    pub content_range: Option<String>,
    pub parts_count: Option<i32>,
}

impl Window {
    fn whole(size: u64) -> Window {
        Window {
            start: 0,
            len: size,
            content_range: None,
            parts_count: None,
        }
    }

    /// The inclusive byte range `first..=last` of an object of `size` bytes.
    fn partial(first: u64, last: u64, size: u64) -> Window {
        Window {
            start: first,
            len: last - first + 1,
            content_range: Some(format!("bytes {first}-{last}/{size}")),
            parts_count: None,
        }
    }
}

impl Window {
    /// The checksum mode under which the object's own checksum is reported: only when
    /// the whole body goes out, since a client checks it against the bytes it receives.
    pub fn whole_object_checksum(&self, record: &ObjectRecord, mode: Option<String>) -> Option<String> {
        (self.start == 0 && self.len == record.size).then_some(mode).flatten()
    }

    /// The stored checksum of the part a `partNumber` read of a multipart object returns
    /// (algorithm, value, checksum type), when checksum mode is on and the part has one.
    pub fn part_checksum(
        &self,
        record: &ObjectRecord,
        part_number: Option<i32>,
        mode: Option<&str>,
    ) -> Option<(String, String, Option<String>)> {
        if mode != Some("ENABLED") || self.parts_count.is_none() || self.len == record.size {
            return None;
        }
        let index = usize::try_from(part_number?.checked_sub(1)?).ok()?;
        let value = record.parts.get(index)?.checksum.clone()?;
        let (algorithm, _) = record.checksum.as_ref()?;
        Some((algorithm.clone(), value, record.checksum_type.clone()))
    }
}

/// The window a read of `record` asks for with `range` or `part_number`.
pub fn window(
    record: &ObjectRecord,
    range: Option<&str>,
    part_number: Option<i32>,
) -> Result<Window, ServiceError> {
    match (range, part_number) {
        (Some(_), Some(_)) => Err(invalid_request(
            "Cannot specify both Range header and partNumber query parameter",
        )),
        (Some(r), None) => byte_range(r, record.size),
        (None, Some(n)) => part(record, n),
        (None, None) => Ok(Window::whole(record.size)),
    }
}

/// `bytes=a-b`, `bytes=a-` and `bytes=-n` on an object of `size` bytes. S3 serves one
/// range per request: several, a malformed header or a last byte before the first are
/// ignored, and the whole object is returned.
pub fn byte_range(header: &str, size: u64) -> Result<Window, ServiceError> {
    let Some(spec) = parse(header) else {
        return Ok(Window::whole(size));
    };
    let unsatisfiable = || invalid_range(header, size);
    match spec {
        (None, Some(0)) => Err(unsatisfiable()),
        (Some(first), _) if first >= size => Err(unsatisfiable()),
        (Some(first), last) => {
            let last = last.map_or(size - 1, |l| l.min(size - 1));
            Ok(if first > last {
                Window::whole(size)
            } else {
                Window::partial(first, last, size)
            })
        }
        (None, Some(suffix)) if size > 0 => Ok(Window::partial(size - suffix.min(size), size - 1, size)),
        _ => Ok(Window::whole(size)),
    }
}

/// The first and last byte positions of a single `bytes=` range; `None` for a header
/// S3 ignores.
fn parse(header: &str) -> Option<(Option<u64>, Option<u64>)> {
    let (unit, spec) = header.trim().split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let number = |s: &str| -> Option<Option<u64>> {
        let s = s.trim();
        if s.is_empty() {
            Some(None)
        } else if s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().ok().map(Some)
        } else {
            None
        }
    };
    match (number(first)?, number(last)?) {
        (None, None) => None,
        spec => Some(spec),
    }
}

/// Part `n` of a multipart object; part 1 of any other object is all of it.
fn part(record: &ObjectRecord, n: i32) -> Result<Window, ServiceError> {
    if !(1..=MAX_PART_NUMBER).contains(&n) {
        return Err(invalid_argument(
            &format!("Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive"),
            "partNumber",
            &n.to_string(),
        ));
    }
    let index = usize::try_from(n - 1).unwrap_or(usize::MAX);
    if record.parts.is_empty() {
        return match index {
            0 if record.size > 0 => Ok(Window::partial(0, record.size - 1, record.size)),
            0 => Ok(Window::whole(0)),
            _ => Err(part_number_not_satisfiable(n, 1)),
        };
    }
    let count = record.parts.len();
    let Some(wanted) = record.parts.get(index) else {
        return Err(part_number_not_satisfiable(n, count));
    };
    let start: u64 = record.parts.iter().take(index).map(|p| p.size).sum();
    let mut window = if wanted.size == 0 {
        Window::whole(0)
    } else {
        Window::partial(start, start + wanted.size - 1, record.size)
    };
    window.start = start;
    window.parts_count = i32::try_from(count).ok();
    Ok(window)
}

/// S3 answers a GetObject or HeadObject that returns part of an object with
/// `206 Partial Content`, which always comes with `Content-Range` (and never otherwise).
pub fn partial_content_status(operation: &str, mut output: Value) -> Value {
    if matches!(operation, "GetObject" | "HeadObject") && output.get("ContentRange").is_some() {
        output.insert(kagami_protocol::STATUS_MEMBER, Value::Int(206));
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persistence::PartRecord;

    fn range(h: &str, size: u64) -> Result<(u64, u64, Option<String>), String> {
        byte_range(h, size)
            .map(|w| (w.start, w.len, w.content_range))
            .map_err(|e| format!("{} {}", e.status, e.code))
    }

    #[test]
    fn byte_ranges_clamp_to_the_object() {
        let r = |a, b, c: &str| Ok((a, b, Some(c.to_string())));
        assert_eq!(range("bytes=0-3", 10), r(0, 4, "bytes 0-3/10"));
        assert_eq!(range("bytes=5-", 10), r(5, 5, "bytes 5-9/10"));
        assert_eq!(range("bytes=4-100", 10), r(4, 6, "bytes 4-9/10"));
        assert_eq!(range("bytes=-3", 10), r(7, 3, "bytes 7-9/10"));
        assert_eq!(range("bytes=-30", 10), r(0, 10, "bytes 0-9/10"));
        assert_eq!(range("bytes=9-9", 10), r(9, 1, "bytes 9-9/10"));
    }

    #[test]
    fn unsatisfiable_ranges_are_416_and_unusable_ones_are_ignored() {
        assert_eq!(range("bytes=10-", 10), Err("416 InvalidRange".into()));
        assert_eq!(range("bytes=-0", 10), Err("416 InvalidRange".into()));
        assert_eq!(range("bytes=0-", 0), Err("416 InvalidRange".into()));
        for ignored in ["bytes=0-1,3-4", "bytes=5-2", "bytes=a-b", "items=0-1", "bytes=-", "0-1", "bytes=+1-2"] {
            assert_eq!(range(ignored, 10), Ok((0, 10, None)), "{ignored}");
        }
        assert_eq!(range("bytes=-5", 0), Ok((0, 0, None)));
        let e = byte_range("bytes=20-30", 10).unwrap_err();
        assert_eq!(e.fields.len(), 2, "RangeRequested and ActualObjectSize");
    }

    #[test]
    fn only_reads_with_a_content_range_answer_206() {
        let status = |op: &str, range: Option<&str>| {
            let mut v = Value::map();
            if let Some(r) = range {
                v.insert("ContentRange", Value::Str(r.into()));
            }
            partial_content_status(op, v).get(kagami_protocol::STATUS_MEMBER).and_then(Value::as_i64)
        };
        assert_eq!(status("GetObject", Some("bytes 0-1/2")), Some(206));
        assert_eq!(status("HeadObject", Some("bytes 0-1/2")), Some(206));
        assert_eq!(status("GetObject", None), None);
        assert_eq!(status("UploadPartCopy", Some("bytes 0-1/2")), None);
    }

    #[test]
    fn parts_of_multipart_objects_and_part_one_of_others() {
        let multipart = ObjectRecord {
            size: 12,
            parts: [5, 5, 2]
                .into_iter()
                .map(|size| PartRecord { size, ..Default::default() })
                .collect(),
            ..Default::default()
        };
        let w = window(&multipart, None, Some(2)).unwrap();
        assert_eq!((w.start, w.len, w.content_range.as_deref(), w.parts_count), (5, 5, Some("bytes 5-9/12"), Some(3)));
        let w = window(&multipart, None, Some(3)).unwrap();
        assert_eq!(w.content_range.as_deref(), Some("bytes 10-11/12"));
        assert_eq!(window(&multipart, None, Some(4)).unwrap_err().code, "InvalidPartNumber");
        assert_eq!(window(&multipart, None, Some(0)).unwrap_err().code, "InvalidArgument");
        let single = ObjectRecord { size: 7, ..Default::default() };
        let w = window(&single, None, Some(1)).unwrap();
        assert_eq!((w.len, w.content_range.as_deref(), w.parts_count), (7, Some("bytes 0-6/7"), None));
        assert_eq!(window(&single, None, Some(2)).unwrap_err().status, 416);
        assert_eq!(window(&single, Some("bytes=0-1"), Some(1)).unwrap_err().code, "InvalidRequest");
    }
}
