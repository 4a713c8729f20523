//! Just enough of `application/x-www-form-urlencoded` to route query-protocol requests.

use kagami_protocol::RequestParts;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionVersion {
    pub action: String,
    pub version: Option<String>,
}

/// `Action` and `Version` from the query string, or from a form-encoded body.
pub fn action_and_version(parts: &RequestParts<'_>) -> Option<ActionVersion> {
    if let Some(av) = scan(parts.query.as_bytes()) {
        return Some(av);
    }
    let is_form = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if is_form { scan(parts.body) } else { None }
}

fn scan(raw: &[u8]) -> Option<ActionVersion> {
    let mut action = None;
    let mut version = None;
    for pair in raw.split(|&b| b == b'&') {
        let (k, v) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &[][..]),
        };
        match k {
            b"Action" => action = Some(decode(v)),
            b"Version" => version = Some(decode(v)),
            _ => {}
        }
        if action.is_some() && version.is_some() {
            break;
        }
    }
    Some(ActionVersion {
        action: action.filter(|a| !a.is_empty())?,
        version: version.filter(|v| !v.is_empty()),
    })
}

/// Form decoding: `+` is a space, `%XX` a byte.
fn decode(v: &[u8]) -> String {
    let spaced: Vec<u8> = v
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_encoding::percent_decode(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_and_version_are_read_from_a_form() {
        let av = scan(b"Action=SendMessage&QueueUrl=x&Version=2012-11-05").unwrap();
        assert_eq!(av.action, "SendMessage");
        assert_eq!(av.version.as_deref(), Some("2012-11-05"));
        assert_eq!(scan(b"QueueUrl=x"), None);
        assert_eq!(scan(b"Action=&Version=1"), None);
        assert_eq!(scan(b"Action=A%42").unwrap().action, "AB");
    }
}
