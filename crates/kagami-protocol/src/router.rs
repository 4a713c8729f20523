//! Finds the REST operation a request is for by matching its method, path and query
//! against each operation's `requestUri` template (`/{Bucket}/{Key+}?uploads`).
//! Templates are matched in place, without compiling them or allocating per template.

use crate::query::pairs;
use kagami_model::{FastHash, Operation, ServiceModel};
use std::borrow::Cow;
use std::collections::HashMap;

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
    literal == raw
        || (raw.contains('%') && percent_encoding::percent_decode_str(raw).decode_utf8().is_ok_and(|d| d == literal))
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
fn match_query(template_query: &[(String, Option<String>)], query: &[(Cow<str>, Cow<str>)]) -> Option<u16> {
    let mut matched = 0;
    for (key, value) in template_query {
        let (key, value) = (key.as_str(), value.as_deref());
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

/// A required header or query member of an operation's input, by its wire name.
enum Required {
    Header(http::HeaderName),
    /// A header name `http` cannot parse, looked up as text.
    HeaderText(String),
    Query(String),
}

/// The required header and query members of `op`'s input.
fn required_of(model: &ServiceModel, op: &Operation) -> Vec<Required> {
    let Some(shape) = op.input.as_ref().and_then(|r| model.shapes.get(&r.shape)) else { return Vec::new() };
    let mut out = Vec::new();
    for name in &shape.required {
        let Some(r) = shape.members.get(name) else { continue };
        let wire = r.location_name.as_deref().unwrap_or(name);
        match r.location.as_deref() {
            Some("header") => out.push(match http::HeaderName::from_bytes(wire.as_bytes()) {
                Ok(h) => Required::Header(h),
                Err(_) => Required::HeaderText(wire.to_string()),
            }),
            Some("querystring") => out.push(Required::Query(wire.to_string())),
            _ => {}
        }
    }
    out
}

/// How many of the operation's required header and query members the request has,
/// and whether it has all of them: S3's PutObject, CopyObject and UploadPart share one
/// template and differ only in these.
fn required_bindings(required: &[Required], headers: &http::HeaderMap, query: &[(Cow<str>, Cow<str>)]) -> (bool, u16) {
    let mut all = true;
    let mut present = 0;
    for r in required {
        let found = match r {
            Required::Header(h) => headers.contains_key(h),
            Required::HeaderText(h) => headers.contains_key(h.as_str()),
            Required::Query(q) => query.iter().any(|(k, _)| k == q),
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
    let index = route_index(model)?;
    let path = Path::new(raw_path);
    let query: Vec<(Cow<str>, Cow<str>)> = pairs(raw_query).collect();
    let mut best: Option<(Rank, &Operation)> = None;
    let routes = index.by_method.iter().find(|(m, _)| m.eq_ignore_ascii_case(method.as_str()))?;
    for route in &routes.1 {
        let Some(query_literals) = match_query(&route.query, &query) else { continue };
        let Some(score) = route.match_path(&path) else { continue };
        let Some((_, op)) = model.operations.get_index(route.op) else { continue };
        let (all_required, required) = required_bindings(&route.required, headers, &query);
        // Ties go to the current operation over the deprecated one it replaced
        // (PutBucketLifecycleConfiguration over PutBucketLifecycle).
        let rank = (score.literals, score.labels, query_literals, all_required, required, score.exact_slash, !op.deprecated);
        if best.as_ref().is_none_or(|(b, _)| rank > *b) {
            best = Some((rank, op));
        }
    }
    best.map(|(_, op)| op)
}

/// A model's REST templates, split once, grouped by HTTP method: a request is matched
/// against pre-classified segments instead of re-parsing every template.
struct RouteIndex {
    by_method: Vec<(String, Vec<Route>)>,
    /// The literal segments every template starts with (`/v20180820` for S3 Control,
    /// empty for S3): a path without them is for no operation of the model.
    common_prefix: String,
    /// The header members of each input shape, by input shape name.
    inputs: HashMap<String, HeaderMembers, FastHash>,
}

/// The positions of an input shape's header members, by lower-case header name: a
/// request's few headers are looked up here, rather than each of a large input's dozens
/// of header members among the request's headers (S3's PutObject has over forty).
struct HeaderMembers {
    by_name: HashMap<String, Vec<usize>, FastHash>,
}

/// Which members of the input shape `shape_name` (whose members are `members` long) are
/// bound to a header the request has, by member position; `None` when the model has no
/// index for the shape.
pub(crate) fn present_headers(
    model: &ServiceModel,
    shape_name: &str,
    members: usize,
    headers: &http::HeaderMap,
) -> Option<Vec<bool>> {
    let index = route_index(model)?.inputs.get(shape_name)?;
    let mut present = vec![false; members];
    for name in headers.keys() {
        for &p in index.by_name.get(name.as_str()).map(Vec::as_slice).unwrap_or_default() {
            if let Some(slot) = present.get_mut(p) {
                *slot = true;
            }
        }
    }
    Some(present)
}

/// The literal path prefix all of a REST model's operations share (`/v20180820`), or
/// "" when they share none: lets a caller rule a model out without routing.
pub fn common_literal_prefix(model: &ServiceModel) -> &str {
    route_index(model).map_or("", |i| i.common_prefix.as_str())
}

struct Route {
    /// Position of the operation in `model.operations`.
    op: usize,
    segs: Vec<Compiled>,
    greedy: bool,
    /// The template's query literals (`uploads`, `list-type=2`), split.
    query: Vec<(String, Option<String>)>,
    required: Vec<Required>,
}

enum Compiled {
    Literal(String),
    Label,
    Greedy,
}

fn route_index(model: &ServiceModel) -> Option<&RouteIndex> {
    model
        .derived
        .get_or_init(|| std::sync::Arc::new(build_index(model)))
        .downcast_ref::<RouteIndex>()
}

fn build_index(model: &ServiceModel) -> RouteIndex {
    let mut by_method: Vec<(String, Vec<Route>)> = Vec::new();
    for (i, op) in model.operations.values().enumerate() {
        let (tpath, tquery) = template_parts(&op.http.request_uri);
        let segs: Vec<Compiled> = segments(tpath)
            .map(|s| match classify(s) {
                Seg::Literal(l) => Compiled::Literal(l.to_string()),
                Seg::Label(_) => Compiled::Label,
                Seg::Greedy(_) => Compiled::Greedy,
            })
            .collect();
        let route = Route {
            op: i,
            greedy: segs.iter().any(|s| matches!(s, Compiled::Greedy)),
            segs,
            query: tquery
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|part| match part.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (part.to_string(), None),
                })
                .collect(),
            required: required_of(model, op),
        };
        let method = op.http.method.to_ascii_uppercase();
        match by_method.iter_mut().find(|(m, _)| *m == method) {
            Some((_, routes)) => routes.push(route),
            None => by_method.push((method, vec![route])),
        }
    }
    let common_prefix = common_prefix(model);
    let mut inputs: HashMap<String, HeaderMembers, FastHash> = HashMap::default();
    for op in model.operations.values() {
        let Some(input) = &op.input else { continue };
        let Some(shape) = model.shapes.get(&input.shape) else { continue };
        inputs.entry(input.shape.clone()).or_insert_with(|| {
            let mut by_name: HashMap<String, Vec<usize>, FastHash> = HashMap::default();
            for (pos, (name, r)) in shape.members.iter().enumerate() {
                if r.location.as_deref() == Some("header") {
                    let wire = r.location_name.as_deref().unwrap_or(name);
                    by_name.entry(wire.to_ascii_lowercase()).or_default().push(pos);
                }
            }
            HeaderMembers { by_name }
        });
    }
    RouteIndex { by_method, common_prefix, inputs }
}

fn common_prefix(model: &ServiceModel) -> String {
    let mut common: Option<Vec<&str>> = None;
    for op in model.operations.values() {
        let (tpath, _) = template_parts(&op.http.request_uri);
        let literals: Vec<&str> = segments(tpath).take_while(|s| matches!(classify(s), Seg::Literal(_))).collect();
        common = Some(match common {
            None => literals,
            Some(c) => c.iter().zip(&literals).take_while(|(a, b)| a == b).map(|(a, _)| *a).collect(),
        });
    }
    common.filter(|c| !c.is_empty()).map(|c| format!("/{}", c.join("/"))).unwrap_or_default()
}

impl Route {
    /// `match_path` over the pre-split template, without collecting labels.
    fn match_path(&self, path: &Path<'_>) -> Option<Score> {
        let mut segs = path.segments.as_slice();
        let t_count = self.segs.len();
        let mut exact_slash = true;
        if !self.greedy {
            if segs.len() == t_count + 1 && segs.last() == Some(&"") {
                segs = &segs[..t_count];
                exact_slash = false;
            } else if segs.len() != t_count {
                return None;
            }
        }
        let mut score = Score { literals: 0, labels: 0, exact_slash };
        let mut i = 0;
        for (ti, t) in self.segs.iter().enumerate() {
            match t {
                Compiled::Literal(l) => {
                    if !literal_matches(l, segs.get(i)?) {
                        return None;
                    }
                    score.literals += 1;
                    i += 1;
                }
                Compiled::Label => {
                    if segs.get(i)?.is_empty() {
                        return None;
                    }
                    score.labels += 1;
                    i += 1;
                }
                Compiled::Greedy => {
                    let rest = t_count - ti - 1;
                    let end = segs.len().checked_sub(rest)?;
                    if end <= i || path.span(i, end).is_empty() {
                        return None;
                    }
                    i = end;
                }
            }
        }
        (i == segs.len()).then_some(score)
    }
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
