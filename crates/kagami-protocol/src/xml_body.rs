//! XML bodies driven by the model, shared by the query, ec2 and restXml protocols:
//! element names from `locationName`, wrapped or flattened lists and maps, `xmlAttribute`
//! members and `xmlNamespace` declarations.

use crate::Value;
use crate::scalar::{TsFormat, parse_text, write_text};
use crate::schema::{Bindings, MAX_DEPTH, is_document, is_flattened, wire_name};
use crate::xml::XmlWriter;
use indexmap::IndexMap;
use kagami_model::{ServiceModel, Shape, ShapeRef, ShapeType, XmlNamespace};
use roxmltree::Node;

/// Why a document does not fit the model.
pub(crate) type Mismatch = String;

// ---------------------------------------------------------------------------------
// Writing

pub(crate) fn write_namespace(w: &mut XmlWriter, ns: Option<&XmlNamespace>) {
    if let Some(ns) = ns {
        match ns.prefix() {
            Some(p) => w.attr(&format!("xmlns:{p}"), ns.uri()),
            None => w.attr("xmlns", ns.uri()),
        }
    }
}

/// The `xmlAttribute` members of `shape` on the element whose start tag is open.
pub(crate) fn write_attributes(w: &mut XmlWriter, model: &ServiceModel, shape: &Shape, map: &IndexMap<String, Value>) {
    for (name, r) in shape.members.iter().filter(|(_, r)| r.xml_attribute) {
        let (Some(v), Some(s)) = (map.get(name), model.shapes.get(&r.shape)) else { continue };
        if matches!(v, Value::Null) {
            continue;
        }
        let mut text = String::new();
        write_text(&mut text, v, s, Some(r), w.timestamps);
        w.attr(wire_name(name, r), &text);
    }
}

/// The element members of structure `shape`, in the model's order. Attributes are the
/// caller's (they belong to the enclosing start tag); `bindings` leaves out members
/// bound to the HTTP message.
pub(crate) fn write_members(
    w: &mut XmlWriter,
    model: &ServiceModel,
    shape: &Shape,
    map: &IndexMap<String, Value>,
    bindings: Bindings,
) {
    let order = interleave_order(shape, map);
    let mut interleaved = false;
    for (name, r) in &shape.members {
        if r.xml_attribute || bindings.binds(r) {
            continue;
        }
        let Some(v) = map.get(name) else { continue };
        if matches!(v, Value::Null) {
            continue;
        }
        let Some(ms) = model.shapes.get(&r.shape) else { continue };
        let element = wire_name(name, r);
        if order.contains(&name.as_str()) {
            if !interleaved {
                interleaved = true;
                write_interleaved(w, model, shape, map, &order);
            }
            continue;
        }
        match (ms.shape_type, v) {
            (ShapeType::List, Value::List(items)) if is_flattened(Some(r), ms) => {
                for item in items {
                    write_flattened_item(w, model, name, r, ms, item);
                }
            }
            (ShapeType::Map, Value::Map(entries)) if is_flattened(Some(r), ms) => {
                for (k, item) in entries {
                    w.start(element);
                    write_namespace(w, r.xml_namespace.as_ref());
                    write_entry(w, model, ms, k, item);
                    w.end(element);
                }
            }
            _ => write_element(w, model, element, ms, Some(r), v),
        }
    }
}

/// The flattened list members named by the map's order pseudo-member, in the order
/// they first appear there; empty when there is none.
fn interleave_order<'m>(shape: &Shape, map: &'m IndexMap<String, Value>) -> Vec<&'m str> {
    let Some(Value::List(names)) = map.get(crate::XML_ORDER_MEMBER) else { return Vec::new() };
    let mut members: Vec<&str> = Vec::new();
    for n in names {
        if let Value::Str(n) = n
            && shape.members.contains_key(n.as_str())
            && !members.contains(&n.as_str())
        {
            members.push(n);
        }
    }
    members
}

/// The items of the ordered members, one at a time as the order names them; items the
/// order does not reach follow, member by member, so none is lost.
fn write_interleaved(
    w: &mut XmlWriter,
    model: &ServiceModel,
    shape: &Shape,
    map: &IndexMap<String, Value>,
    members: &[&str],
) {
    let items_of = |name: &str| match map.get(name) {
        Some(Value::List(items)) => items.as_slice(),
        _ => &[],
    };
    let mut next = vec![0usize; members.len()];
    let write = |w: &mut XmlWriter, name: &str, item: &Value| {
        let Some(r) = shape.members.get(name) else { return };
        let Some(ms) = model.shapes.get(&r.shape) else { return };
        write_flattened_item(w, model, name, r, ms, item);
    };
    if let Some(Value::List(names)) = map.get(crate::XML_ORDER_MEMBER) {
        for n in names {
            let Value::Str(n) = n else { continue };
            let Some(i) = members.iter().position(|m| m == n) else { continue };
            let (Some(item), Some(slot)) = (items_of(n).get(next.get(i).copied().unwrap_or(0)), next.get_mut(i))
            else {
                continue;
            };
            *slot += 1;
            write(w, n, item);
        }
    }
    for (i, name) in members.iter().enumerate() {
        for item in items_of(name).iter().skip(next.get(i).copied().unwrap_or(0)) {
            write(w, name, item);
        }
    }
}

/// One item of flattened list member `name`: repeated in place, named like the list's
/// member when that has a name (what SDK parsers look for). Lists not flattened are
/// written whole.
fn write_flattened_item(w: &mut XmlWriter, model: &ServiceModel, name: &str, r: &ShapeRef, ms: &Shape, item: &Value) {
    let element = wire_name(name, r);
    if !is_flattened(Some(r), ms) || ms.shape_type != ShapeType::List {
        return write_element(w, model, element, ms, Some(r), &Value::List(vec![item.clone()]));
    }
    let Some((mr, mshape)) = ms.member.as_ref().and_then(|m| model.shapes.get(&m.shape).map(|s| (m, s))) else {
        return;
    };
    let item_name = mr.location_name.as_deref().unwrap_or(element);
    write_element(w, model, item_name, mshape, Some(mr), item);
}

fn write_entry(w: &mut XmlWriter, model: &ServiceModel, map_shape: &Shape, key: &str, v: &Value) {
    let kr = map_shape.key.as_ref();
    let key_name = kr.and_then(|k| k.location_name.as_deref()).unwrap_or("key");
    w.start(key_name);
    write_namespace(w, kr.and_then(|k| k.xml_namespace.as_ref()));
    w.text(key);
    w.end(key_name);
    if let Some((vr, vs)) = map_shape.value.as_ref().and_then(|r| model.shapes.get(&r.shape).map(|s| (r, s))) {
        let value_name = vr.location_name.as_deref().unwrap_or("value");
        write_element(w, model, value_name, vs, Some(vr), v);
    }
}

/// `v` as element `name` of `shape`.
pub(crate) fn write_element(
    w: &mut XmlWriter,
    model: &ServiceModel,
    name: &str,
    shape: &Shape,
    r: Option<&ShapeRef>,
    v: &Value,
) {
    w.start(name);
    write_namespace(w, r.and_then(|r| r.xml_namespace.as_ref()).or(shape.xml_namespace.as_ref()));
    match (shape.shape_type, v) {
        (ShapeType::Structure, Value::Map(m)) if !is_document(shape) => {
            write_attributes(w, model, shape, m);
            write_members(w, model, shape, m, Bindings::None);
        }
        (ShapeType::List, Value::List(items)) => {
            if let Some((mr, ms)) = shape.member.as_ref().and_then(|m| model.shapes.get(&m.shape).map(|s| (m, s))) {
                let item_name = mr.location_name.as_deref().unwrap_or("member");
                for item in items {
                    write_element(w, model, item_name, ms, Some(mr), item);
                }
            }
        }
        (ShapeType::Map, Value::Map(entries)) => {
            for (k, item) in entries {
                w.start("entry");
                write_entry(w, model, shape, k, item);
                w.end("entry");
            }
        }
        (_, v) => {
            let mut text = String::new();
            write_text(&mut text, v, shape, r, w.timestamps);
            w.text(&text);
        }
    }
    w.end(name);
}

// ---------------------------------------------------------------------------------
// Parsing

fn text_of(node: Node) -> String {
    let mut out = String::new();
    for c in node.children().filter(Node::is_text) {
        out.push_str(c.text().unwrap_or(""));
    }
    out
}

/// The member of `shape` that element `tag` belongs to.
fn find_member<'m>(
    model: &'m ServiceModel,
    shape: &'m Shape,
    tag: &str,
    bindings: Bindings,
) -> Option<(&'m str, &'m ShapeRef)> {
    let usable = |r: &ShapeRef| !r.xml_attribute && !bindings.binds(r);
    if let Some((name, r)) = shape.members.get_key_value(tag)
        && r.location_name.as_deref().is_none_or(|l| l == tag)
        && usable(r)
    {
        return Some((name.as_str(), r));
    }
    shape
        .members
        .iter()
        .find(|(_, r)| usable(r) && r.location_name.as_deref() == Some(tag))
        .or_else(|| {
            // Items of a flattened list carry the list member's name.
            shape.members.iter().find(|(_, r)| {
                usable(r)
                    && model.shapes.get(&r.shape).is_some_and(|s| {
                        s.shape_type == ShapeType::List
                            && is_flattened(Some(r), s)
                            && s.member.as_ref().and_then(|m| m.location_name.as_deref()) == Some(tag)
                    })
            })
        })
        .map(|(name, r)| (name.as_str(), r))
}

fn attribute<'a>(node: Node<'a, '_>, name: &str) -> Option<&'a str> {
    let local = name.rsplit_once(':').map_or(name, |(_, l)| l);
    node.attributes().find(|a| a.name() == local).map(|a| a.value())
}

/// The members of structure `shape` from the attributes and children of `node`.
pub(crate) fn parse_struct(
    model: &ServiceModel,
    shape: &Shape,
    node: Node,
    bindings: Bindings,
    depth: u32,
) -> Result<IndexMap<String, Value>, Mismatch> {
    if depth > MAX_DEPTH {
        return Err("nesting too deep".to_string());
    }
    let mut out = IndexMap::new();
    for (name, r) in shape.members.iter().filter(|(_, r)| r.xml_attribute) {
        let (Some(text), Some(s)) = (attribute(node, wire_name(name, r)), model.shapes.get(&r.shape)) else { continue };
        let v = parse_text(s, Some(r), text, TsFormat::Iso8601).map_err(|e| format!("{name} must be {}", e.0))?;
        out.insert(name.clone(), v);
    }
    for child in node.children().filter(Node::is_element) {
        let tag = child.tag_name().name();
        let Some((name, r)) = find_member(model, shape, tag, bindings) else { continue };
        let ms = model.shapes.get(&r.shape).ok_or_else(|| format!("model has no shape {}", r.shape))?;
        match ms.shape_type {
            ShapeType::List if is_flattened(Some(r), ms) => {
                let Some(mr) = ms.member.as_ref() else { continue };
                let mshape = model.shapes.get(&mr.shape).ok_or_else(|| format!("model has no shape {}", mr.shape))?;
                let item = parse_value(model, mshape, Some(mr), child, depth + 1)?;
                let slot = out.entry(name.to_owned()).or_insert_with(|| Value::List(Vec::new()));
                if let (Value::List(items), Some(item)) = (slot, item) {
                    items.push(item);
                }
            }
            ShapeType::Map if is_flattened(Some(r), ms) => {
                let (k, v) = parse_entry(model, ms, child, depth + 1)?;
                let slot = out.entry(name.to_owned()).or_insert_with(Value::map);
                if let (Value::Map(entries), Some(v)) = (slot, v) {
                    entries.insert(k, v);
                }
            }
            _ => {
                if let Some(v) = parse_value(model, ms, Some(r), child, depth + 1)? {
                    out.insert(name.to_owned(), v);
                }
            }
        }
    }
    Ok(out)
}

/// One `<entry>` (or flattened map element): its key and its value.
fn parse_entry(
    model: &ServiceModel,
    map_shape: &Shape,
    node: Node,
    depth: u32,
) -> Result<(String, Option<Value>), Mismatch> {
    let key_name = map_shape.key.as_ref().and_then(|k| k.location_name.as_deref()).unwrap_or("key");
    let vr = map_shape.value.as_ref().ok_or("map shape without value")?;
    let vs = model.shapes.get(&vr.shape).ok_or_else(|| format!("model has no shape {}", vr.shape))?;
    let value_name = vr.location_name.as_deref().unwrap_or("value");
    let mut key = None;
    let mut value = None;
    for c in node.children().filter(Node::is_element) {
        let tag = c.tag_name().name();
        if tag == key_name {
            key = Some(text_of(c));
        } else if tag == value_name {
            value = parse_value(model, vs, Some(vr), c, depth + 1)?;
        }
    }
    Ok((key.ok_or("map entry without a key")?, value))
}

/// The value of `shape` held by element `node`; `None` when there is nothing to hold.
pub(crate) fn parse_value(
    model: &ServiceModel,
    shape: &Shape,
    r: Option<&ShapeRef>,
    node: Node,
    depth: u32,
) -> Result<Option<Value>, Mismatch> {
    if depth > MAX_DEPTH {
        return Err("nesting too deep".to_string());
    }
    if is_document(shape) {
        return Ok(Some(Value::Document(serde_json::Value::String(text_of(node)))));
    }
    let v = match shape.shape_type {
        ShapeType::Structure => Value::Map(parse_struct(model, shape, node, Bindings::None, depth + 1)?),
        ShapeType::List => {
            let mr = shape.member.as_ref().ok_or("list shape without member")?;
            let ms = model.shapes.get(&mr.shape).ok_or_else(|| format!("model has no shape {}", mr.shape))?;
            let mut items = Vec::new();
            for c in node.children().filter(Node::is_element) {
                if let Some(v) = parse_value(model, ms, Some(mr), c, depth + 1)? {
                    items.push(v);
                }
            }
            Value::List(items)
        }
        ShapeType::Map => {
            let mut entries = IndexMap::new();
            for c in node.children().filter(Node::is_element) {
                let (k, v) = parse_entry(model, shape, c, depth + 1)?;
                if let Some(v) = v {
                    entries.insert(k, v);
                }
            }
            Value::Map(entries)
        }
        _ => {
            let text = text_of(node);
            let name = node.tag_name().name();
            parse_text(shape, r, &text, TsFormat::Iso8601).map_err(|e| format!("{name} must be {}", e.0))?
        }
    };
    Ok(Some(v))
}

/// Deeper than any AWS document nests, and shallow enough for roxmltree, which
/// recurses per element, to stay within a thread's stack even in debug builds.
const MAX_XML_DEPTH: usize = 128;

/// The index just past the first `needle` in `text` at or after `from`, or the end
/// of the text when there is none (an unterminated construct, which the parser refuses).
fn skip_past(text: &[u8], from: usize, needle: &[u8]) -> usize {
    text.get(from..)
        .and_then(|rest| rest.windows(needle.len()).position(|w| w == needle))
        .map_or(text.len(), |i| from + i + needle.len())
}

/// Whether elements nest deeper than `limit`. Comments, CDATA sections, processing
/// instructions and quoted attribute values are skipped as the parser skips them, so
/// markup-like text inside them (`<![CDATA[</a>]]>`, `<a x="/>">`) cannot make the
/// count fall behind the real nesting; it may only run ahead of it (never past a
/// real element the parser would recurse into).
fn nests_deeper_than(text: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(offset) = text.get(i..).and_then(|rest| rest.iter().position(|&b| b == b'<')) {
        let at = i + offset;
        let rest = &text[at..];
        if rest.starts_with(b"<!--") {
            i = skip_past(text, at + 4, b"-->");
        } else if rest.starts_with(b"<![CDATA[") {
            i = skip_past(text, at + 9, b"]]>");
        } else if rest.starts_with(b"<?") {
            i = skip_past(text, at + 2, b"?>");
        } else if rest.starts_with(b"<!") {
            // A DOCTYPE: the parser refuses it before reading any element.
            i = skip_past(text, at + 2, b">");
        } else if rest.starts_with(b"</") {
            depth = depth.saturating_sub(1);
            i = skip_past(text, at + 2, b">");
        } else {
            depth += 1;
            if depth > limit {
                return true;
            }
            let (end, self_closing) = start_tag_end(text, at + 1);
            if self_closing {
                depth -= 1;
            }
            i = end;
        }
    }
    false
}

/// The index past the `>` that ends the start tag whose name begins at `from`, and
/// whether the tag closes itself (`/>`); a `>` inside a quoted attribute value does not end it.
fn start_tag_end(text: &[u8], from: usize) -> (usize, bool) {
    let mut quote = None;
    for (i, &b) in text.iter().enumerate().skip(from) {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'>') => return (i + 1, i > from && text[i - 1] == b'/'),
            (None, _) => {}
        }
    }
    (text.len(), false)
}

/// Parses a whole document; DTDs are refused (roxmltree's default), which rules out
/// entity-expansion attacks, and so is nesting deeper than [`MAX_XML_DEPTH`].
pub(crate) fn parse_document(body: &[u8]) -> Result<roxmltree::Document<'_>, Mismatch> {
    let text = std::str::from_utf8(body).map_err(|_| "body is not UTF-8".to_string())?;
    if nests_deeper_than(body, MAX_XML_DEPTH) {
        return Err(format!("elements nest deeper than {MAX_XML_DEPTH} levels"));
    }
    roxmltree::Document::parse(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> ServiceModel {
        serde_json::from_value(serde_json::json!({
            "metadata": {"apiVersion": "1", "protocol": "rest-xml", "endpointPrefix": "t"},
            "operations": {},
            "shapes": {
                "Out": {"type": "structure", "members": {
                    "Attr": {"shape": "S", "xmlAttribute": true, "locationName": "test"},
                    "Name": {"shape": "S", "locationName": "name"},
                    "Items": {"shape": "L"},
                    "Flat": {"shape": "FL"},
                    "Tags": {"shape": "M"},
                    "FlatTags": {"shape": "M", "flattened": true, "locationName": "Tag"},
                    "When": {"shape": "T"},
                    "Ns": {"shape": "S", "xmlNamespace": {"uri": "http://ns", "prefix": "p"}},
                }},
                "S": {"type": "string"}, "T": {"type": "timestamp"},
                "L": {"type": "list", "member": {"shape": "S", "locationName": "item"}},
                "FL": {"type": "list", "member": {"shape": "S", "locationName": "F"}, "flattened": true},
                "M": {"type": "map", "key": {"shape": "S", "locationName": "K"}, "value": {"shape": "S"}},
            }
        }))
        .unwrap()
    }

    fn sample() -> IndexMap<String, Value> {
        let list = |xs: &[&str]| Value::List(xs.iter().map(|s| Value::Str(s.to_string())).collect());
        IndexMap::from([
            ("Attr".to_string(), Value::Str("a\"1".into())),
            ("Name".to_string(), Value::Str(" x&y ".into())),
            ("Items".to_string(), list(&["1", "2"])),
            ("Flat".to_string(), list(&["3", "4"])),
            ("Tags".to_string(), Value::Map(IndexMap::from([("k".to_string(), Value::Str("v".into()))]))),
            ("FlatTags".to_string(), Value::Map(IndexMap::from([("k2".to_string(), Value::Str("v2".into()))]))),
            ("When".to_string(), Value::Timestamp(crate::Timestamp::from_secs(1_398_796_238))),
            ("Ns".to_string(), Value::Str("n".into())),
        ])
    }

    #[test]
    fn structures_write_with_xml_traits() {
        let m = model();
        let shape = &m.shapes["Out"];
        let v = sample();
        let mut w = XmlWriter::new();
        w.start("Out");
        write_attributes(&mut w, &m, shape, &v);
        write_members(&mut w, &m, shape, &v, Bindings::None);
        w.end("Out");
        assert_eq!(
            w.finish(),
            "<Out test=\"a&quot;1\"><name> x&amp;y </name><Items><item>1</item><item>2</item></Items><F>3</F><F>4</F>\
             <Tags><entry><K>k</K><value>v</value></entry></Tags><Tag><K>k2</K><value>v2</value></Tag>\
             <When>2014-04-29T18:30:38Z</When><Ns xmlns:p=\"http://ns\">n</Ns></Out>"
        );
    }

    #[test]
    fn an_order_member_interleaves_flattened_lists_and_is_not_written() {
        let m: ServiceModel = serde_json::from_value(serde_json::json!({
            "metadata": {"apiVersion": "1", "protocol": "rest-xml", "endpointPrefix": "t"},
            "operations": {},
            "shapes": {
                "Out": {"type": "structure", "members": {
                    "A": {"shape": "S"},
                    "Versions": {"shape": "VL", "locationName": "Version"},
                    "Markers": {"shape": "ML", "locationName": "DeleteMarker"},
                    "Z": {"shape": "S"},
                }},
                "S": {"type": "string"},
                "VL": {"type": "list", "member": {"shape": "S"}, "flattened": true},
                "ML": {"type": "list", "member": {"shape": "S"}, "flattened": true},
            }
        }))
        .unwrap();
        let list = |xs: &[&str]| Value::List(xs.iter().map(|s| Value::Str(s.to_string())).collect());
        let mut v = IndexMap::from([
            ("A".to_string(), Value::Str("a".into())),
            ("Versions".to_string(), list(&["v1", "v2", "v3"])),
            ("Markers".to_string(), list(&["d1", "d2"])),
            ("Z".to_string(), Value::Str("z".into())),
        ]);
        let write = |v: &IndexMap<String, Value>| {
            let mut w = XmlWriter::new();
            write_members(&mut w, &m, &m.shapes["Out"], v, Bindings::None);
            w.finish()
        };
        assert_eq!(
            write(&v),
            "<A>a</A><Version>v1</Version><Version>v2</Version><Version>v3</Version>\
             <DeleteMarker>d1</DeleteMarker><DeleteMarker>d2</DeleteMarker><Z>z</Z>"
        );
        // The order names one member per item; items it does not reach still follow.
        v.insert(crate::XML_ORDER_MEMBER.to_string(), list(&["Markers", "Versions", "Markers", "Versions"]));
        assert_eq!(
            write(&v),
            "<A>a</A><DeleteMarker>d1</DeleteMarker><Version>v1</Version><DeleteMarker>d2</DeleteMarker>\
             <Version>v2</Version><Version>v3</Version><Z>z</Z>"
        );
    }

    #[test]
    fn rest_xml_writers_print_timestamps_with_milliseconds() {
        let m = model();
        let v = IndexMap::from([("When".to_string(), Value::Timestamp(crate::Timestamp::from_secs(1_255_369_830)))]);
        let mut w = XmlWriter::new();
        w.timestamps = TsFormat::Iso8601Millis;
        write_members(&mut w, &m, &m.shapes["Out"], &v, Bindings::None);
        assert_eq!(w.finish(), "<When>2009-10-12T17:50:30.000Z</When>");
    }

    #[test]
    fn what_is_written_parses_back_to_the_same_value() {
        let m = model();
        let shape = &m.shapes["Out"];
        let v = sample();
        let mut w = XmlWriter::new();
        w.start("Out");
        write_attributes(&mut w, &m, shape, &v);
        write_members(&mut w, &m, shape, &v, Bindings::None);
        w.end("Out");
        let xml = w.finish();
        let doc = parse_document(xml.as_bytes()).unwrap();
        let parsed = parse_struct(&m, shape, doc.root_element(), Bindings::None, 0).unwrap();
        assert_eq!(parsed, v);
    }

    #[test]
    fn bad_scalars_and_dtds_are_errors() {
        let m = model();
        let doc = parse_document(b"<Out><When>yesterday</When></Out>").unwrap();
        assert_eq!(
            parse_struct(&m, &m.shapes["Out"], doc.root_element(), Bindings::None, 0).unwrap_err(),
            "When must be a timestamp"
        );
        assert!(parse_document(b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]><x>&a;</x>").is_err());
        assert!(parse_document(b"<a><b></a>").is_err());
        let deep = format!("{}{}", "<a>".repeat(10_000), "</a>".repeat(10_000));
        assert!(parse_document(deep.as_bytes()).is_err(), "refused before roxmltree recurses");
        let fine = format!("<?xml version=\"1.0\"?>{}<b/><!-- c -->{}", "<a x=\"1\">".repeat(100), "</a>".repeat(100));
        assert!(parse_document(fine.as_bytes()).is_ok());
    }

    /// Markup-like text that a naive scan would count as closing tags must not hide
    /// real nesting: each of these documents nests 100,000 elements deep, which would
    /// overflow the stack inside roxmltree if it reached it.
    #[test]
    fn nesting_hidden_behind_text_cdata_comments_or_attributes_is_refused() {
        let n = 100_000;
        for (open, close) in [
            ("<a>/>", "</a>"),
            ("<a><![CDATA[</a></a>]]>", "</a>"),
            ("<a><!-- </a></a> -->", "</a>"),
            ("<a><?pi </a></a> ?>", "</a>"),
            ("<a x=\"/>\" y='</a>'>", "</a>"),
        ] {
            let doc = format!("{}{}", open.repeat(n), close.repeat(n));
            assert_eq!(
                parse_document(doc.as_bytes()).unwrap_err(),
                format!("elements nest deeper than {MAX_XML_DEPTH} levels"),
                "{open}"
            );
        }
        assert!(!nests_deeper_than(b"<a/><a/><a x='>'/><b><!-- <c> --></b>", 1));
        assert!(nests_deeper_than(b"<a><b x='/>'>", 1));
    }
}
