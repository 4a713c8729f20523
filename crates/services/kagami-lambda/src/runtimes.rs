//! The runtime identifiers kagami runs and the local program behind each: Python and
//! Node.js through bootstrap programs kagami ships, `provided.*` through the package's
//! own `bootstrap`. The interpreters default to the ones on PATH.

use serde_json::{Value, json};

pub const PYTHON_BOOTSTRAP: &str = include_str!("bootstrap/python.py");
pub const NODE_BOOTSTRAP: &str = include_str!("bootstrap/node.js");

/// Runtimes accepted by CreateFunction (Lambda's supported, non-deprecated identifiers).
/// https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
pub const RUNTIMES: &[&str] = &[
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "python3.14",
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
    "nodejs24.x",
    "provided.al2",
    "provided.al2023",
];

const PYTHON_ENV: &str = "KAGAMI_LAMBDA_PYTHON";
const NODE_ENV: &str = "KAGAMI_LAMBDA_NODE";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Python,
    Node,
    Provided,
}

pub fn family(runtime: &str) -> Option<Family> {
    if !RUNTIMES.contains(&runtime) {
        return None;
    }
    Some(if runtime.starts_with("python") {
        Family::Python
    } else if runtime.starts_with("nodejs") {
        Family::Node
    } else {
        Family::Provided
    })
}

/// The interpreter a family runs under (none for `provided.*`).
pub fn interpreter(family: Family) -> Option<String> {
    let var = |name: &str, default: &str| std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_string());
    match family {
        Family::Python => Some(var(PYTHON_ENV, "python3")),
        Family::Node => Some(var(NODE_ENV, "node")),
        Family::Provided => None,
    }
}

/// `GET /_kagami/lambda/runtimes`.
pub fn describe() -> Value {
    let map: serde_json::Map<String, Value> = RUNTIMES
        .iter()
        .filter_map(|r| {
            let f = family(r)?;
            let v = match (f, interpreter(f)) {
                (Family::Provided, _) | (_, None) => json!({ "command": "<package>/bootstrap" }),
                (Family::Python, Some(i)) => json!({ "command": i, "override": PYTHON_ENV }),
                (Family::Node, Some(i)) => json!({ "command": i, "override": NODE_ENV }),
            };
            Some((r.to_string(), v))
        })
        .collect();
    json!({ "runtimes": map })
}
