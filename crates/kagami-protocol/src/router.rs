//! Finds the REST operation a request is for by matching its method, path and query
//! against each operation's `requestUri` template (`/{Bucket}/{Key+}?uploads`).
//! Templates are matched in place, without compiling them or allocating per template.

use crate::query::pairs;
use kagami_model::{Operation, ServiceModel};
use std::borrow::Cow;

/// A request path split once into its raw (still percent-encoded) segments.
pub(crate) struct Path<'p> {
    raw: &'p str,
    segments: Vec<&'p str>,
}

impl<'p> Path<'p> {
    pub(crate) fn new(raw: &'p str) -> Path<'p> {
        let trimmed = raw.strip_prefix('/').unwrap_or(raw);
        let segments = if trimmed.is_empty() { Vec::new() } else { trimmed.split('/').collect() };
        Path { raw, segments }
    }

    /// The text from the start of segment `from` to the end of segment `to - 1`.
    fn span(&self, from: usize, to: usize) -> &'p str {
        let (Some(first), Some(last)) = (self.segments.get(from), to.checked_sub(1).and_then(|i| self.segments.get(i)))
        else {
            return "";
        };
        let base = self.raw.as_ptr() as usize;
        let start = first.as_ptr() as usize - base;
        let end = last.as_ptr() as usize - base + last.len();
        self.raw.get(start..end).unwrap_or("")
    }
}

/// A label of the template and the raw text it matched.
pub(crate) type Labels<'t, 'p> = Vec<(&'t str, &'p str)>;

fn template_parts(uri: &str) -> (&str, &str) {
    uri.split_once('?').unwrap_or((uri, ""))
}

fn segments(template_path: &str) -> impl Iterator<Item = &str> + Clone {
    let t = template_path.strip_prefix('/').unwrap_or(template_path);
    t.split('/').filter(move |_| !t.is_empty())
}

enum Seg<'t> {
    Literal(&'t str),
    Label(&'t str),
    Greedy(&'t str),
}

fn classify(seg: &str) -> Seg<'_> {
    match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        Some(name) => match name.strip_suffix('+') {
            Some(g) => Seg::Greedy(g),
            None => Seg::Label(name),
        },
        None => Seg::Literal(seg),
    }
}

fn literal_matches(literal: &str, raw: &str) -> bool {
    literal == raw || percent_encoding::percent_decode_str(raw).decode_utf8().is_ok_and(|d| d == literal)
}

/// The rank of a candidate: literal segments, labels, query literals matched, whether
/// every required binding is present, how many are; larger wins.
type Rank = (u16, u16, u16, bool, u16, bool, bool);

/// How specific a match is; a larger score wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Score {
    literals: u16,
    labels: u16,
    exact_slash: bool,
}

/// Matches a template path; on success the labels are pushed to `labels`.
pub(crate) fn match_path<'t, 'p>(
    template_path: &'t str,
    path: &Path<'p>,
    labels: &mut Labels<'t, 'p>,
) -> Option<Score> {
    let mut segs = path.segments.as_slice();
    let tsegs = segments(template_path);
    let t_count = tsegs.clone().count();
    // A trailing slash the template does not have is tolerated (`/bucket/`).
    let mut exact_slash = true;
    let has_greedy = tsegs.clone().any(|s| matches!(classify(s), Seg::Greedy(_)));
    if !has_greedy && segs.len() == t_count + 1 && segs.last() == Some(&"") {
        segs = &segs[..t_count];
        exact_slash = false;
    }
    let mut score = Score { literals: 0, labels: 0, exact_slash };
    let mut i = 0;
    let mut tail = tsegs.clone();
    for (ti, t) in tsegs.enumerate() {
        tail.next();
        match classify(t) {
            Seg::Literal(l) => {
                if !literal_matches(l, segs.get(i)?) {
                    return None;
                }
                score.literals += 1;
                i += 1;
            }
            Seg::Label(name) => {
                let s = segs.get(i)?;
                if s.is_empty() {
                    return None;
                }
                labels.push((name, s));
                score.labels += 1;
                i += 1;
            }
            Seg::Greedy(name) => {
                // The greedy label takes everything but what the rest of the template needs.
                let rest = t_count - ti - 1;
                let end = segs.len().checked_sub(rest)?;
                if end <= i {
                    return None;
                }
                let value = path.span(i, end);
                if value.is_empty() {
                    return None;
                }
                labels.push((name, value));
                i = end;
            }
        }
    }
    (i == segs.len()).then_some(score)
}

/// Literal query parts of a template (`?uploads`, `?list-type=2`) must be in the
/// request; the number matched ranks the candidates. `x-id` is the one exception: SDKs
/// add it as a hint and AWS ignores it, so its absence does not disqualify.
fn match_query(template_query: &str, query: &[(Cow<str>, Cow<str>)]) -> Option<u16> {
    let mut matched = 0;
    for part in template_query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = match part.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (part, None),
        };
        match query.iter().find(|(k, _)| k == key) {
            Some((_, v)) => {
                if value.is_some_and(|want| v != want) {
                    return None;
                }
                matched += 1;
            }
            None if key == "x-id" => {}
            None => return None,
        }
    }
    Some(matched)
}

/// How many of the operation's required header and query members the request has,
/// and whether it has all of them: S3's PutObject, CopyObject and UploadPart share one
/// template and differ only in these.
fn required_bindings(
    model: &ServiceModel,
    op: &Operation,
    headers: &http::HeaderMap,
    query: &[(Cow<str>, Cow<str>)],
) -> (bool, u16) {
    let Some(shape) = op.input.as_ref().and_then(|r| model.shapes.get(&r.shape)) else { return (true, 0) };
    let mut all = true;
    let mut present = 0;
    for name in &shape.required {
        let Some(r) = shape.members.get(name) else { continue };
        let wire = r.location_name.as_deref().unwrap_or(name);
        let found = match r.location.as_deref() {
            Some("header") => headers.contains_key(wire),
            Some("querystring") => query.iter().any(|(k, _)| k == wire),
            _ => continue,
        };
        if found {
            present += 1;
        } else {
            all = false;
        }
    }
    (all, present)
}

pub(crate) fn resolve<'m>(
    model: &'m ServiceModel,
    method: &http::Method,
    raw_path: &str,
    raw_query: &str,
    headers: &http::HeaderMap,
) -> Option<&'m Operation> {
    let path = Path::new(raw_path);
    let query: Vec<(Cow<str>, Cow<str>)> = pairs(raw_query).collect();
    let mut labels = Vec::new();
    let mut best: Option<(Rank, &Operation)> = None;
    for op in model.operations.values() {
        if !op.http.method.eq_ignore_ascii_case(method.as_str()) {
            continue;
        }
        let (tpath, tquery) = template_parts(&op.http.request_uri);
        labels.clear();
        let Some(score) = match_path(tpath, &path, &mut labels) else { continue };
        let Some(query_literals) = match_query(tquery, &query) else { continue };
        let (all_required, required) = required_bindings(model, op, headers, &query);
        // Ties go to the current operation over the deprecated one it replaced
        // (PutBucketLifecycleConfiguration over PutBucketLifecycle).
        let rank = (score.literals, score.labels, query_literals, all_required, required, score.exact_slash, !op.deprecated);
        if best.as_ref().is_none_or(|(b, _)| rank > *b) {
            best = Some((rank, op));
        }
    }
    best.map(|(_, op)| op)
}

/// The labels of `op`'s template in `raw_path`, still percent-encoded.
pub(crate) fn labels<'t, 'p>(op: &'t Operation, raw_path: &'p str) -> Labels<'t, 'p> {
    let path = Path::new(raw_path);
    let mut labels = Vec::new();
    let (tpath, _) = template_parts(&op.http.request_uri);
    if match_path(tpath, &path, &mut labels).is_none() {
        labels.clear();
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> ServiceModel {
        let op = |name: &str, method: &str, uri: &str| serde_json::json!({"name": name, "http": {"method": method, "requestUri": uri}, "input": {"shape": format!("{name}In")}});
        let key_in = |extra: serde_json::Value| {
            let mut members = serde_json::json!({
                "Bucket": {"shape": "S", "location": "uri", "locationName": "Bucket"},
                "Key": {"shape": "S", "location": "uri", "locationName": "Key"},
            });
            let mut required = vec!["Bucket", "Key"];
            if let serde_json::Value::Object(extra) = extra {
                for (k, v) in extra {
                    required.push(if k == "UploadId" {
                        "UploadId"
                    } else if k == "CopySource" {
                        "CopySource"
                    } else {
                        "PartNumber"
                    });
                    members[k] = v;
                }
            }
            serde_json::json!({"type": "structure", "required": required, "members": members})
        };
        serde_json::from_value(serde_json::json!({
            "metadata": {"apiVersion": "1", "protocol": "rest-xml", "endpointPrefix": "s3"},
            "operations": {
                "ListBuckets": op("ListBuckets", "GET", "/"),
                "ListObjects": op("ListObjects", "GET", "/{Bucket}"),
                "ListObjectsV2": op("ListObjectsV2", "GET", "/{Bucket}?list-type=2"),
                "ListMultipartUploads": op("ListMultipartUploads", "GET", "/{Bucket}?uploads"),
                "GetObject": op("GetObject", "GET", "/{Bucket}/{Key+}?x-id=GetObject"),
                "GetObjectAcl": op("GetObjectAcl", "GET", "/{Bucket}/{Key+}?acl"),
                "PutObject": op("PutObject", "PUT", "/{Bucket}/{Key+}?x-id=PutObject"),
                "CopyObject": op("CopyObject", "PUT", "/{Bucket}/{Key+}?x-id=CopyObject"),
                "UploadPart": op("UploadPart", "PUT", "/{Bucket}/{Key+}?x-id=UploadPart"),
                "Greedy": op("Greedy", "GET", "/g/{A}/{Rest+}/end"),
            },
            "shapes": {
                "S": {"type": "string"},
                "ListBucketsIn": {"type": "structure", "members": {}},
                "ListObjectsIn": key_in(serde_json::json!({})),
                "ListObjectsV2In": key_in(serde_json::json!({})),
                "ListMultipartUploadsIn": key_in(serde_json::json!({})),
                "GetObjectIn": key_in(serde_json::json!({})),
                "GetObjectAclIn": key_in(serde_json::json!({})),
                "PutObjectIn": key_in(serde_json::json!({})),
                "CopyObjectIn": key_in(serde_json::json!({"CopySource": {"shape": "S", "location": "header", "locationName": "x-amz-copy-source"}})),
                "UploadPartIn": key_in(serde_json::json!({
                    "UploadId": {"shape": "S", "location": "querystring", "locationName": "uploadId"},
                    "PartNumber": {"shape": "S", "location": "querystring", "locationName": "partNumber"}})),
                "GreedyIn": {"type": "structure", "members": {}},
            }
        }))
        .unwrap()
    }

    fn route(
        m: &ServiceModel,
        method: &str,
        path: &str,
        query: &str,
        headers: &[(&'static str, &str)],
    ) -> Option<String> {
        let mut h = http::HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, v.parse().unwrap());
        }
        resolve(m, &method.parse().unwrap(), path, query, &h).map(|op| op.name.clone())
    }

    #[test]
    fn the_most_specific_template_wins() {
        let m = model();
        assert_eq!(route(&m, "GET", "/", "", &[]).as_deref(), Some("ListBuckets"));
        assert_eq!(route(&m, "GET", "/b", "", &[]).as_deref(), Some("ListObjects"));
        assert_eq!(route(&m, "GET", "/b/", "", &[]).as_deref(), Some("ListObjects"));
        assert_eq!(route(&m, "GET", "/b", "list-type=2&prefix=a", &[]).as_deref(), Some("ListObjectsV2"));
        assert_eq!(route(&m, "GET", "/b", "uploads", &[]).as_deref(), Some("ListMultipartUploads"));
        assert_eq!(route(&m, "GET", "/b/k/with/slash", "", &[]).as_deref(), Some("GetObject"));
        assert_eq!(route(&m, "GET", "/b/k", "x-id=GetObject", &[]).as_deref(), Some("GetObject"));
        assert_eq!(route(&m, "GET", "/b/k", "acl", &[]).as_deref(), Some("GetObjectAcl"));
        assert_eq!(route(&m, "PUT", "/b/k", "", &[]).as_deref(), Some("PutObject"));
        assert_eq!(route(&m, "PUT", "/b/k", "", &[("x-amz-copy-source", "/o/k")]).as_deref(), Some("CopyObject"));
        assert_eq!(route(&m, "PUT", "/b/k", "partNumber=1&uploadId=u", &[]).as_deref(), Some("UploadPart"));
        assert_eq!(route(&m, "DELETE", "/b/k", "", &[]), None);
    }

    #[test]
    fn greedy_labels_take_the_middle_and_labels_stay_encoded() {
        let m = model();
        assert_eq!(route(&m, "GET", "/g/a/x/y/end", "", &[]).as_deref(), Some("Greedy"));
        assert_eq!(
            route(&m, "GET", "/g/a/end", "", &[]).as_deref(),
            Some("GetObject"),
            "a greedy label is never empty"
        );
        let l = labels(&m.operations["Greedy"], "/g/a%2Fb/x/y/end");
        assert_eq!(l, vec![("A", "a%2Fb"), ("Rest", "x/y")]);
        let l = labels(&m.operations["GetObject"], "/b/dir/file.txt");
        assert_eq!(l, vec![("Bucket", "b"), ("Key", "dir/file.txt")]);
    }
}
