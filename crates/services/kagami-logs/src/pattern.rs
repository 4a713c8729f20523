//! CloudWatch Logs filter patterns, as FilterLogEvents, subscription filters and
//! metric filters use them.
//! https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
//!
//! - terms: `ERROR "disk full"` (all), `?ERROR ?WARN` (any), `ERROR -timeout` (excluding);
//!   case-sensitive, matched anywhere in the message;
//! - JSON: `{ $.level = "ERROR" && ($.latency > 100 || $.user.id NOT EXISTS) }`;
//! - space-delimited: `[ip, user, ..., status = 4*, bytes > 1000]`;
//! - regular expressions between `%`, as a term (`%ERR[0-9]+%`) or a value to compare
//!   (`{ $.level = %^ERR%}`, `[ip = %^10\.%, ...]`), in AWS's subset: no groups, no
//!   multi-byte characters, at most two in a JSON or space-delimited pattern.
//!   https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/regex-expressions.html

use serde_json::Value as Json;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Pattern {
    All,
    Terms { all: Vec<Term>, any: Vec<Term>, none: Vec<Term> },
    Json(Expr),
    Delimited { fields: Vec<Field>, condition: Option<Expr> },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Term {
    Text(String),
    Regex(Re),
}

impl Term {
    fn found_in(&self, message: &str) -> bool {
        match self {
            Term::Text(t) => message.contains(t.as_str()),
            Term::Regex(r) => r.0.is_match(message),
        }
    }
}

/// A filter-pattern regular expression; equal when written the same.
#[derive(Debug, Clone)]
pub(crate) struct Re(regex_lite::Regex);

impl PartialEq for Re {
    fn eq(&self, other: &Re) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

/// Filter patterns allow at most two regular expressions in a JSON or space-delimited pattern.
const MAX_REGEXES: usize = 2;

/// Compiles `%...%`'s inside, refusing what AWS's subset leaves out (spaces are let
/// through: a phrase is a natural thing to look for).
fn regex(text: &str) -> Result<Re, String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || " :_#=@/;,-^$?[]{}|\\*+.".contains(c);
    if text.is_empty() || !text.chars().all(allowed) {
        return Err(INVALID.into());
    }
    regex_lite::Regex::new(text).map(Re).map_err(|_| INVALID.into())
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Field {
    Named(String),
    Ellipsis,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare { selector: String, op: Op, value: Literal },
    IsNull(String),
    Exists(String, bool),
    IsBool(String, bool),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    /// Quoted, or an unquoted word that is not a number; `*` is a wildcard.
    Text(String),
    Number(f64),
    Regex(Re),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Comma,
    Op(Op),
    Quoted(String),
    Word(String),
    Regex(Re),
}

const INVALID: &str = "Invalid filter pattern";

impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Pattern::All);
        }
        if let Some(inner) = text.strip_prefix('{') {
            let inner = inner.strip_suffix('}').ok_or(INVALID)?;
            let mut p = Parser { tokens: lex(inner)?, at: 0 };
            if p.tokens.iter().filter(|t| matches!(t, Token::Regex(_))).count() > MAX_REGEXES {
                return Err(INVALID.into());
            }
            let expr = p.or()?;
            p.end()?;
            return Ok(Pattern::Json(expr));
        }
        if let Some(inner) = text.strip_prefix('[') {
            let inner = inner.strip_suffix(']').ok_or(INVALID)?;
            return parse_delimited(inner);
        }
        parse_terms(text)
    }

    pub fn matches(&self, message: &str) -> bool {
        match self {
            Pattern::All => true,
            Pattern::Terms { all, any, none } => {
                all.iter().all(|t| t.found_in(message))
                    && (any.is_empty() || any.iter().any(|t| t.found_in(message)))
                    && !none.iter().any(|t| t.found_in(message))
            }
            Pattern::Json(expr) => match serde_json::from_str::<Json>(message.trim()) {
                Ok(doc) => eval(expr, &|sel| select(&doc, sel)),
                Err(_) => false,
            },
            Pattern::Delimited { fields, condition } => {
                let words = split_fields(message);
                let Some(bound) = bind(fields, &words) else { return false };
                condition.as_ref().is_none_or(|c| {
                    eval(c, &|name| bound.iter().find(|(n, _)| *n == name).map(|(_, v)| Json::String(v.to_string())))
                })
            }
        }
    }
}

impl Pattern {
    /// The fields a space-delimited pattern binds in `message`, named `$field` as
    /// TestMetricFilter reports them (none for other patterns); None when it does not match.
    pub fn extract(&self, message: &str) -> Option<Vec<(String, String)>> {
        if !self.matches(message) {
            return None;
        }
        let Pattern::Delimited { fields, .. } = self else { return Some(Vec::new()) };
        let words = split_fields(message);
        let mut bound = bind(fields, &words)?;
        bound.reverse();
        Some(bound.into_iter().map(|(n, v)| (format!("${n}"), v.to_string())).collect())
    }
}

fn parse_terms(text: &str) -> Result<Pattern, String> {
    let (mut all, mut any, mut none) = (Vec::new(), Vec::new(), Vec::new());
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else { break };
        let target = match first {
            '-' => {
                chars.next();
                &mut none
            }
            '?' => {
                chars.next();
                &mut any
            }
            _ => &mut all,
        };
        let term = if chars.next_if_eq(&'%').is_some() {
            let mut text = String::new();
            loop {
                match chars.next() {
                    None => return Err(INVALID.into()),
                    Some('%') => break,
                    Some(c) => text.push(c),
                }
            }
            target.push(Term::Regex(regex(&text)?));
            continue;
        } else if chars.next_if_eq(&'"').is_some() {
            let mut term = String::new();
            loop {
                match chars.next() {
                    None => return Err(INVALID.into()),
                    Some('"') => break,
                    Some('\\') => term.push(chars.next().ok_or(INVALID)?),
                    Some(c) => term.push(c),
                }
            }
            term
        } else {
            let mut term = String::new();
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                term.push(c);
            }
            term
        };
        if term.is_empty() {
            return Err(INVALID.into());
        }
        target.push(Term::Text(term));
    }
    Ok(Pattern::Terms { all, any, none })
}

fn parse_delimited(inner: &str) -> Result<Pattern, String> {
    let tokens = lex(inner)?;
    if tokens.iter().filter(|t| matches!(t, Token::Regex(_))).count() > MAX_REGEXES {
        return Err(INVALID.into());
    }
    let mut fields = Vec::new();
    let mut condition: Option<Expr> = None;
    for group in tokens.split(|t| *t == Token::Comma) {
        match group {
            [] => return Err(INVALID.into()),
            [Token::Word(w)] if w == "..." => fields.push(Field::Ellipsis),
            [Token::Word(w)] => fields.push(Field::Named(w.clone())),
            [Token::Word(w), ..] => {
                fields.push(Field::Named(w.clone()));
                let mut p = Parser { tokens: group.to_vec(), at: 0 };
                let c = p.or()?;
                p.end()?;
                condition = Some(match condition {
                    None => c,
                    Some(prev) => Expr::And(Box::new(prev), Box::new(c)),
                });
            }
            _ => return Err(INVALID.into()),
        }
    }
    Ok(Pattern::Delimited { fields, condition })
}

fn lex(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let token = match c {
            c if c.is_whitespace() => continue,
            '(' => Token::Open,
            ')' => Token::Close,
            ',' => Token::Comma,
            '&' if chars.next_if_eq(&'&').is_some() => Token::And,
            '|' if chars.next_if_eq(&'|').is_some() => Token::Or,
            '=' => Token::Op(Op::Eq),
            '!' if chars.next_if_eq(&'=').is_some() => Token::Op(Op::Ne),
            '<' if chars.next_if_eq(&'=').is_some() => Token::Op(Op::Le),
            '>' if chars.next_if_eq(&'=').is_some() => Token::Op(Op::Ge),
            '<' => Token::Op(Op::Lt),
            '>' => Token::Op(Op::Gt),
            '"' => {
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err(INVALID.into()),
                        Some('"') => break,
                        Some('\\') => s.push(chars.next().ok_or(INVALID)?),
                        Some(c) => s.push(c),
                    }
                }
                Token::Quoted(s)
            }
            '%' => {
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err(INVALID.into()),
                        Some('%') => break,
                        Some(c) => s.push(c),
                    }
                }
                Token::Regex(regex(&s)?)
            }
            c => {
                let mut s = String::from(c);
                while let Some(c) = chars.next_if(|c| !c.is_whitespace() && !"(),=!<>&|\"".contains(*c)) {
                    s.push(c);
                }
                Token::Word(s)
            }
        };
        out.push(token);
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn end(&self) -> Result<(), String> {
        if self.at < self.tokens.len() { Err(INVALID.into()) } else { Ok(()) }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while self.peek() == Some(&Token::And) {
            self.at += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Token::Open) => {
                let e = self.or()?;
                match self.next() {
                    Some(Token::Close) => Ok(e),
                    _ => Err(INVALID.into()),
                }
            }
            Some(Token::Word(selector)) => self.comparison(selector),
            _ => Err(INVALID.into()),
        }
    }

    fn comparison(&mut self, selector: String) -> Result<Expr, String> {
        match self.next() {
            Some(Token::Op(op)) => {
                let value = match self.next() {
                    Some(Token::Quoted(s)) => Literal::Text(s),
                    Some(Token::Regex(r)) if matches!(op, Op::Eq | Op::Ne) => Literal::Regex(r),
                    Some(Token::Word(w)) => w.parse::<f64>().map_or(Literal::Text(w), Literal::Number),
                    _ => return Err(INVALID.into()),
                };
                if matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge) && !matches!(value, Literal::Number(_)) {
                    return Err(INVALID.into());
                }
                Ok(Expr::Compare { selector, op, value })
            }
            Some(Token::Word(w)) if w == "IS" => match self.next() {
                Some(Token::Word(v)) if v == "NULL" => Ok(Expr::IsNull(selector)),
                Some(Token::Word(v)) if v == "TRUE" => Ok(Expr::IsBool(selector, true)),
                Some(Token::Word(v)) if v == "FALSE" => Ok(Expr::IsBool(selector, false)),
                _ => Err(INVALID.into()),
            },
            Some(Token::Word(w)) if w == "NOT" => match self.next() {
                Some(Token::Word(v)) if v == "EXISTS" => Ok(Expr::Exists(selector, false)),
                _ => Err(INVALID.into()),
            },
            Some(Token::Word(w)) if w == "EXISTS" => Ok(Expr::Exists(selector, true)),
            _ => Err(INVALID.into()),
        }
    }
}

fn eval(expr: &Expr, lookup: &dyn Fn(&str) -> Option<Json>) -> bool {
    match expr {
        Expr::And(a, b) => eval(a, lookup) && eval(b, lookup),
        Expr::Or(a, b) => eval(a, lookup) || eval(b, lookup),
        Expr::IsNull(s) => matches!(lookup(s), Some(Json::Null)),
        Expr::Exists(s, exists) => lookup(s).is_some() == *exists,
        Expr::IsBool(s, b) => lookup(s).and_then(|v| v.as_bool()) == Some(*b),
        Expr::Compare { selector, op, value } => {
            let Some(found) = lookup(selector) else { return false };
            compare(&found, *op, value)
        }
    }
}

fn compare(found: &Json, op: Op, value: &Literal) -> bool {
    let number = match found {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.parse::<f64>().ok(),
        _ => None,
    };
    match value {
        Literal::Number(want) => {
            let Some(have) = number else { return op == Op::Ne };
            match op {
                Op::Eq => have == *want,
                Op::Ne => have != *want,
                Op::Lt => have < *want,
                Op::Le => have <= *want,
                Op::Gt => have > *want,
                Op::Ge => have >= *want,
            }
        }
        Literal::Regex(re) => {
            let have = match found {
                Json::String(s) => s.clone(),
                Json::Null | Json::Array(_) | Json::Object(_) => return op == Op::Ne,
                other => other.to_string(),
            };
            re.0.is_match(&have) == (op == Op::Eq)
        }
        Literal::Text(want) => {
            let have = match found {
                Json::String(s) => s.clone(),
                Json::Null | Json::Array(_) | Json::Object(_) => return op == Op::Ne,
                other => other.to_string(),
            };
            let eq = glob(want, &have);
            if op == Op::Ne { !eq } else { eq }
        }
    }
}

/// `*` matches any run of characters; everything else is literal.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// `$.a.b[0].c` into a JSON document.
fn select(doc: &Json, selector: &str) -> Option<Json> {
    let path = selector.strip_prefix('$')?;
    let mut node = doc;
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            node = node.get(&r[..end])?;
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            node = node.get(r[..end].parse::<usize>().ok()?)?;
            rest = &r[end + 1..];
        } else {
            return None;
        }
    }
    Some(node.clone())
}

/// Fields of a space-delimited message: text in "quotes" or [brackets] is one field.
fn split_fields(message: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = message.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' => i += 1,
            open @ (b'"' | b'[') => {
                let close = if open == b'"' { b'"' } else { b']' };
                let start = i + 1;
                let end = bytes[start..].iter().position(|&b| b == close).map_or(bytes.len(), |p| start + p);
                out.push(&message[start..end]);
                i = end + 1;
            }
            _ => {
                let start = i;
                while i < bytes.len() && !matches!(bytes[i], b' ' | b'\t') {
                    i += 1;
                }
                out.push(&message[start..i]);
            }
        }
    }
    out
}

/// Binds field names to the message's fields; `...` takes any number of them.
fn bind<'a>(fields: &'a [Field], words: &[&'a str]) -> Option<Vec<(&'a str, &'a str)>> {
    match fields.split_first() {
        None => words.is_empty().then(Vec::new),
        Some((Field::Named(name), rest)) => {
            let (word, words) = words.split_first()?;
            let mut bound = bind(rest, words)?;
            bound.push((name.as_str(), *word));
            Some(bound)
        }
        Some((Field::Ellipsis, rest)) => (0..=words.len()).find_map(|skip| bind(rest, &words[skip..])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, message: &str) -> bool {
        Pattern::parse(pattern).unwrap().matches(message)
    }

    #[test]
    fn terms_match_all_any_and_exclusions() {
        assert!(m("ERROR", "an ERROR here"));
        assert!(!m("ERROR", "an error here"));
        assert!(m("ERROR disk", "ERROR: disk full"));
        assert!(!m("ERROR disk", "ERROR: memory"));
        assert!(m("\"disk full\"", "ERROR: disk full"));
        assert!(!m("\"disk full\"", "disk is full"));
        assert!(m("?ERROR ?WARN", "WARN x"));
        assert!(!m("?ERROR ?WARN", "INFO x"));
        assert!(m("ERROR -timeout", "ERROR disk"));
        assert!(!m("ERROR -timeout", "ERROR timeout"));
        assert!(m("", "anything"));
    }

    #[test]
    fn json_patterns_compare_selected_values() {
        let msg = r#"{"level":"ERROR","latency":250,"user":{"id":"u1"},"tags":["a","b"],"ok":false,"n":null}"#;
        assert!(m(r#"{ $.level = "ERROR" }"#, msg));
        assert!(m(r#"{ $.level = ERR* }"#, msg));
        assert!(!m(r#"{ $.level = "INFO" }"#, msg));
        assert!(m(r#"{ $.level = "ERROR" && $.latency > 100 }"#, msg));
        assert!(!m(r#"{ $.level = "ERROR" && $.latency > 300 }"#, msg));
        assert!(m(r#"{ ($.latency > 300 || $.user.id = "u1") && $.tags[1] = "b" }"#, msg));
        assert!(m(r#"{ $.missing NOT EXISTS }"#, msg));
        assert!(m(r#"{ $.n IS NULL }"#, msg));
        assert!(m(r#"{ $.ok IS FALSE }"#, msg));
        assert!(m(r#"{ $.level != "INFO" }"#, msg));
        assert!(!m(r#"{ $.level = "ERROR" }"#, "not json"));
        assert!(Pattern::parse("{ $.a = }").is_err());
        assert!(Pattern::parse("{ $.a > \"x\" }").is_err());
    }

    #[test]
    fn space_delimited_patterns_bind_fields() {
        let line = r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 1534"#;
        assert!(m("[ip, user, username, timestamp, request, status_code, bytes]", line));
        assert!(!m("[ip, user, username, timestamp, request, status_code]", line));
        assert!(m("[ip, user, username, timestamp, request, status_code = 4*, bytes > 1000]", line));
        assert!(!m("[ip, user, username, timestamp, request, status_code = 5*, bytes]", line));
        assert!(m("[..., status_code = 404, bytes]", line));
        assert!(m("[ip = 127.0.0.1, ...]", line));
        assert!(m(r#"[ip, ..., request = "*GET*", status, bytes]"#, line));
        assert!(m("[..., status = 500 || status = 404, bytes]", line));
    }

    #[test]
    fn regular_expressions_match_terms_and_values() {
        assert!(m("%AUTHORIZED%", "[ERROR 401] UNAUTHORIZED REQUEST"));
        assert!(m("%[Ee]rror|[Ff]ail%", "disk failure"));
        assert!(!m("%^[hc]at%", "a cat"));
        assert!(m("%[hc]at$%", "a cat"));
        assert!(m("%colou?r%", "color"));
        assert!(m("%a{3,5}%", "xaaay"));
        assert!(!m("%a{3,5}%", "xaay"));
        assert!(m(r"%\d{1,3}\.\d{1,3}%", "ip 10.0"));
        assert!(m(r#"{ $.level = %^ERR% }"#, r#"{"level":"ERROR"}"#));
        assert!(!m(r#"{ $.level = %^ERR% }"#, r#"{"level":"WARN"}"#));
        assert!(m(r#"{ $.level != %^ERR% }"#, r#"{"level":"WARN"}"#));
        assert!(m(r"[ip = %^10\.%, ...]", "10.0.0.1 GET /"));
        assert!(!m(r"[ip = %^10\.%, ...]", "192.168.0.1 GET /"));
        assert!(Pattern::parse("%something!%").is_err());
        assert!(Pattern::parse("%(a)%").is_err());
        assert!(Pattern::parse("%unclosed").is_err());
        assert!(Pattern::parse("{ $.a = %a% || $.b = %b% || $.c = %c% }").is_err());
    }

    #[test]
    fn extraction_names_space_delimited_fields() {
        let p = Pattern::parse("[ip, user, status = 404, ...]").unwrap();
        let got = p.extract("1.2.3.4 bob 404 12").unwrap();
        assert_eq!(got, vec![("$ip".into(), "1.2.3.4".into()), ("$user".into(), "bob".into()), ("$status".into(), "404".into())]);
        assert_eq!(p.extract("1.2.3.4 bob 200 12"), None);
        assert_eq!(Pattern::parse("ERROR").unwrap().extract("an ERROR"), Some(vec![]));
    }

    #[test]
    fn globs_match_wildcards() {
        assert!(glob("a*c", "abc"));
        assert!(glob("*", ""));
        assert!(!glob("a*c", "ab"));
        assert!(glob("*b*", "abc"));
        assert!(!glob("aa*aa", "aaa"));
    }
}
