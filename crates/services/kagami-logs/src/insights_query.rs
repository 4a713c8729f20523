//! The Logs Insights query language, the part kagami runs: `fields`, `filter` (`=`,
//! `!=`, `<`, `>`, `<=`, `>=`, `like /regex/` or `like "text"`, `ispresent(f)`, `and`,
//! `or`, `not`),
//! `parse [field] "glob * with * stars" as a, b` or `parse [field] /(?<name>regex)/`,
//! `sort`, `limit`, `dedup f, g`, and
//! `stats count(*)|count(f)|count_distinct(f)|sum|avg|min|max ... by f, bin(5m)`.
//! https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax.html

use indexmap::IndexMap;

/// One row: field name -> value as Insights prints it.
pub(crate) type Row = IndexMap<String, String>;

#[derive(Debug)]
pub(crate) enum Command {
    Fields(Vec<String>),
    Filter(Cond),
    Sort(Vec<(String, bool)>),
    Limit(usize),
    Stats { aggregates: Vec<Aggregate>, by: Vec<GroupKey> },
    Parse { field: String, regex: regex_lite::Regex, names: Vec<String> },
    Dedup(Vec<String>),
}

/// What `stats ... by` groups on: a field, or `@timestamp` rounded down to a period.
#[derive(Debug)]
pub(crate) struct GroupKey {
    name: String,
    bin_ms: Option<i64>,
}

impl GroupKey {
    fn value(&self, row: &Row) -> String {
        match self.bin_ms {
            None => row.get(&self.name).cloned().unwrap_or_default(),
            Some(period) => {
                let Some(ms) = row.get("@timestamp").and_then(|t| parse_time(t)) else { return String::new() };
                crate::insights::format_time(ms.div_euclid(period) * period)
            }
        }
    }
}

/// `2024-01-31 12:00:00.000` back to epoch milliseconds.
fn parse_time(text: &str) -> Option<i64> {
    kagami_core::Timestamp::parse_iso8601(&format!("{}Z", text.replacen(' ', "T", 1))).ok().map(|t| t.as_millis())
}

/// `5m`, `30s`, `1h`... in milliseconds.
fn period(text: &str) -> Option<i64> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = text.split_at(split);
    let n: i64 = n.parse().ok().filter(|n| *n > 0)?;
    let unit_ms = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => return None,
    };
    n.checked_mul(unit_ms)
}

#[derive(Debug)]
pub(crate) struct Aggregate {
    function: String,
    field: Option<String>,
    name: String,
}

#[derive(Debug)]
pub(crate) enum Cond {
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
    Compare(Operand, String, Operand),
    Like(Operand, Matcher),
    /// `ispresent(f)`: the row has the field.
    Present(String),
}

#[derive(Debug)]
pub(crate) enum Operand {
    Field(String),
    Text(String),
    Number(f64),
}

#[derive(Debug)]
pub(crate) enum Matcher {
    Regex(regex_lite::Regex),
    Contains(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Regex(String),
    Sym(String),
}

pub(crate) fn parse(query: &str) -> Result<Vec<Command>, String> {
    let mut commands = Vec::new();
    for part in split_pipes(query) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (verb, rest) = part.split_once(char::is_whitespace).unwrap_or((part, ""));
        let tokens = lex(rest)?;
        let command = match verb.to_ascii_lowercase().as_str() {
            "fields" | "display" => Command::Fields(field_list(&tokens)?),
            "filter" => {
                let mut p = Parser { tokens, at: 0 };
                let c = p.or()?;
                if p.at != p.tokens.len() {
                    return Err(format!("unexpected input in filter: {rest}"));
                }
                Command::Filter(c)
            }
            "sort" => Command::Sort(sort_list(&tokens)?),
            "limit" => Command::Limit(rest.trim().parse().map_err(|_| format!("limit expects a number: {rest}"))?),
            "stats" => stats(&tokens)?,
            "parse" => parse_command(&tokens)?,
            "dedup" => Command::Dedup(field_list(&tokens)?),
            other => return Err(format!("unsupported command: {other}")),
        };
        commands.push(command);
    }
    Ok(commands)
}

/// Splits on `|` outside quotes and regexes.
fn split_pipes(query: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in query.chars() {
        match (quote, c) {
            (None, '|') => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            (None, '"' | '\'' | '/' | '`') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    parts
}

fn lex(text: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '"' | '\'' | '/' | '`' => {
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err("unterminated literal".into()),
                        Some(x) if x == c => break,
                        Some('\\') if c != '/' => s.push(chars.next().ok_or("unterminated literal")?),
                        Some(x) => s.push(x),
                    }
                }
                out.push(match c {
                    '/' => Tok::Regex(s),
                    '`' => Tok::Word(s),
                    _ => Tok::Quoted(s),
                });
            }
            '(' | ')' | ',' | '*' => out.push(Tok::Sym(c.to_string())),
            '=' | '!' | '<' | '>' => {
                let mut op = c.to_string();
                if let Some(n) = chars.next_if(|n| *n == '=' || *n == '~') {
                    op.push(n);
                }
                out.push(Tok::Sym(op));
            }
            _ => {
                let mut s = c.to_string();
                while let Some(n) = chars.next_if(|n| !n.is_whitespace() && !"()=,!<>\"'".contains(*n)) {
                    s.push(n);
                }
                out.push(Tok::Word(s));
            }
        }
    }
    Ok(out)
}

fn field_list(tokens: &[Tok]) -> Result<Vec<String>, String> {
    tokens
        .split(|t| *t == Tok::Sym(",".into()))
        .map(|f| match f {
            [Tok::Word(w)] => Ok(w.clone()),
            _ => Err("fields expects field names".to_string()),
        })
        .collect()
}

fn sort_list(tokens: &[Tok]) -> Result<Vec<(String, bool)>, String> {
    tokens
        .split(|t| *t == Tok::Sym(",".into()))
        .map(|f| match f {
            [Tok::Word(w)] => Ok((w.clone(), false)),
            [Tok::Word(w), Tok::Word(d)] if d.eq_ignore_ascii_case("desc") => Ok((w.clone(), true)),
            [Tok::Word(w), Tok::Word(d)] if d.eq_ignore_ascii_case("asc") => Ok((w.clone(), false)),
            _ => Err("sort expects field [asc|desc]".to_string()),
        })
        .collect()
}

fn stats(tokens: &[Tok]) -> Result<Command, String> {
    let by_at = tokens.iter().position(|t| matches!(t, Tok::Word(w) if w.eq_ignore_ascii_case("by")));
    let (aggs, by) = match by_at {
        Some(i) => (&tokens[..i], group_keys(&tokens[i + 1..])?),
        None => (tokens, Vec::new()),
    };
    let mut aggregates = Vec::new();
    for a in aggs.split(|t| *t == Tok::Sym(",".into())) {
        let (function, field, rest) = match a {
            [Tok::Word(f), Tok::Sym(o), Tok::Sym(star), Tok::Sym(c), rest @ ..] if o == "(" && star == "*" && c == ")" => (f.to_ascii_lowercase(), None, rest),
            [Tok::Word(f), Tok::Sym(o), Tok::Sym(c), rest @ ..] if o == "(" && c == ")" => (f.to_ascii_lowercase(), None, rest),
            [Tok::Word(f), Tok::Sym(o), Tok::Word(x), Tok::Sym(c), rest @ ..] if o == "(" && c == ")" => (f.to_ascii_lowercase(), Some(x.clone()), rest),
            _ => return Err("stats expects aggregate functions".into()),
        };
        if !matches!(function.as_str(), "count" | "count_distinct" | "sum" | "avg" | "min" | "max") {
            return Err(format!("unsupported stats function: {function}"));
        }
        if function != "count" && field.is_none() {
            return Err(format!("{function} needs a field"));
        }
        let default_name = format!("{function}({})", field.as_deref().unwrap_or("*"));
        let name = match rest {
            [] => default_name,
            [Tok::Word(a), Tok::Word(n)] if a.eq_ignore_ascii_case("as") => n.clone(),
            _ => return Err("stats: unexpected input after an aggregate".into()),
        };
        aggregates.push(Aggregate { function, field, name });
    }
    Ok(Command::Stats { aggregates, by })
}

fn group_keys(tokens: &[Tok]) -> Result<Vec<GroupKey>, String> {
    let sym = |s: &str| Tok::Sym(s.into());
    let mut keys = Vec::new();
    for item in tokens.split(|t| *t == sym(",")) {
        let (key, rest) = match item {
            [Tok::Word(b), o, Tok::Word(p), c, rest @ ..] if b.eq_ignore_ascii_case("bin") && *o == sym("(") && *c == sym(")") => {
                let ms = period(p).ok_or_else(|| format!("bin expects a period such as 5m: {p}"))?;
                (GroupKey { name: format!("bin({p})"), bin_ms: Some(ms) }, rest)
            }
            [Tok::Word(f), rest @ ..] => (GroupKey { name: f.clone(), bin_ms: None }, rest),
            _ => return Err("stats: by expects fields or bin(period)".into()),
        };
        let key = match rest {
            [] => key,
            [Tok::Word(a), Tok::Word(alias)] if a.eq_ignore_ascii_case("as") => GroupKey { name: alias.clone(), ..key },
            _ => return Err("stats: unexpected input after a grouping field".into()),
        };
        keys.push(key);
    }
    Ok(keys)
}

/// `parse [field] "glob" as a, b` or `parse [field] /regex with (?<named> groups)/`.
fn parse_command(tokens: &[Tok]) -> Result<Command, String> {
    let (field, rest) = match tokens {
        [Tok::Word(f), rest @ ..] if !f.eq_ignore_ascii_case("as") => (f.clone(), rest),
        rest => ("@message".to_string(), rest),
    };
    match rest {
        [Tok::Regex(r)] => {
            let regex = regex_lite::Regex::new(r).map_err(|e| e.to_string())?;
            let names: Vec<String> = regex.capture_names().flatten().map(str::to_string).collect();
            if names.is_empty() {
                return Err("parse: the regular expression names no fields".into());
            }
            Ok(Command::Parse { field, regex, names })
        }
        [Tok::Quoted(glob), Tok::Word(a), names @ ..] if a.eq_ignore_ascii_case("as") => {
            let names = field_list(names)?;
            let parts: Vec<&str> = glob.split('*').collect();
            if parts.len() - 1 != names.len() {
                return Err(format!("parse: {} wildcards but {} field names", parts.len() - 1, names.len()));
            }
            // Each `*` takes as little as it can, except a trailing one, which takes the rest.
            let mut pattern = String::from("(?s)");
            for (i, part) in parts.iter().enumerate() {
                pattern.push_str(&regex_lite::escape(part));
                if i + 1 < parts.len() {
                    pattern.push_str(if i + 2 == parts.len() && parts[i + 1].is_empty() { "(.*)" } else { "(.*?)" });
                }
            }
            let regex = regex_lite::Regex::new(&pattern).map_err(|e| e.to_string())?;
            Ok(Command::Parse { field, regex, names })
        }
        _ => Err("parse expects \"pattern\" as fields, or /regex/".into()),
    }
}

struct Parser {
    tokens: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn or(&mut self) -> Result<Cond, String> {
        let mut left = self.and()?;
        while self.peek_word("or") {
            self.at += 1;
            left = Cond::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Cond, String> {
        let mut left = self.not()?;
        while self.peek_word("and") {
            self.at += 1;
            left = Cond::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Cond, String> {
        if self.peek_word("not") {
            self.at += 1;
            return Ok(Cond::Not(Box::new(self.not()?)));
        }
        if self.tokens.get(self.at) == Some(&Tok::Sym("(".into())) {
            self.at += 1;
            let c = self.or()?;
            if self.tokens.get(self.at) != Some(&Tok::Sym(")".into())) {
                return Err("missing )".into());
            }
            self.at += 1;
            return Ok(c);
        }
        if self.peek_word("ispresent") && self.tokens.get(self.at + 1) == Some(&Tok::Sym("(".into())) {
            let (Some(Tok::Word(field)), Some(Tok::Sym(close))) = (self.tokens.get(self.at + 2), self.tokens.get(self.at + 3)) else {
                return Err("ispresent expects one field".into());
            };
            if close != ")" {
                return Err("ispresent expects one field".into());
            }
            let field = field.clone();
            self.at += 4;
            return Ok(Cond::Present(field));
        }
        let left = self.operand()?;
        let negate = self.peek_word("not");
        if negate {
            self.at += 1;
        }
        if self.peek_word("like") || self.tokens.get(self.at) == Some(&Tok::Sym("=~".into())) {
            self.at += 1;
            let matcher = match self.tokens.get(self.at).cloned() {
                Some(Tok::Regex(r)) => Matcher::Regex(regex_lite::Regex::new(&r).map_err(|e| e.to_string())?),
                Some(Tok::Quoted(s)) => Matcher::Contains(s),
                _ => return Err("like expects /regex/ or \"text\"".into()),
            };
            self.at += 1;
            let c = Cond::Like(left, matcher);
            return Ok(if negate { Cond::Not(Box::new(c)) } else { c });
        }
        if negate {
            return Err("not must be followed by like".into());
        }
        let op = match self.tokens.get(self.at) {
            Some(Tok::Sym(s)) if matches!(s.as_str(), "=" | "==" | "!=" | "<" | ">" | "<=" | ">=") => s.clone(),
            // A bare field: true when present and not empty.
            _ => return Ok(Cond::Compare(left, "!=".into(), Operand::Text(String::new()))),
        };
        self.at += 1;
        let right = self.operand()?;
        Ok(Cond::Compare(left, op, right))
    }

    fn operand(&mut self) -> Result<Operand, String> {
        let t = self.tokens.get(self.at).cloned().ok_or("expected a field or value")?;
        self.at += 1;
        match t {
            Tok::Quoted(s) => Ok(Operand::Text(s)),
            Tok::Word(w) => Ok(w.parse::<f64>().map_or(Operand::Field(w), Operand::Number)),
            _ => Err("expected a field or value".into()),
        }
    }
}

fn value<'a>(row: &'a Row, o: &'a Operand) -> Option<std::borrow::Cow<'a, str>> {
    match o {
        Operand::Field(f) => row.get(f).map(|s| std::borrow::Cow::Borrowed(s.as_str())),
        Operand::Text(s) => Some(std::borrow::Cow::Borrowed(s.as_str())),
        Operand::Number(n) => Some(std::borrow::Cow::Owned(n.to_string())),
    }
}

pub(crate) fn holds(c: &Cond, row: &Row) -> bool {
    match c {
        Cond::And(a, b) => holds(a, row) && holds(b, row),
        Cond::Or(a, b) => holds(a, row) || holds(b, row),
        Cond::Not(a) => !holds(a, row),
        Cond::Present(f) => row.contains_key(f),
        Cond::Like(o, m) => value(row, o).is_some_and(|v| match m {
            Matcher::Regex(r) => r.is_match(&v),
            Matcher::Contains(s) => v.contains(s.as_str()),
        }),
        Cond::Compare(l, op, r) => {
            let (Some(a), Some(b)) = (value(row, l), value(row, r)) else { return false };
            let ordering = match (a.parse::<f64>(), b.parse::<f64>()) {
                (Ok(x), Ok(y)) => x.partial_cmp(&y),
                _ => Some(a.cmp(&b)),
            };
            let Some(o) = ordering else { return false };
            match op.as_str() {
                "=" | "==" => o.is_eq(),
                "!=" => o.is_ne(),
                "<" => o.is_lt(),
                ">" => o.is_gt(),
                "<=" => o.is_le(),
                _ => o.is_ge(),
            }
        }
    }
}

fn compare_values(a: Option<&String>, b: Option<&String>) -> std::cmp::Ordering {
    match (a.and_then(|x| x.parse::<f64>().ok()), b.and_then(|x| x.parse::<f64>().ok())) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
        _ => a.cmp(&b),
    }
}

/// What running the commands over `rows` leaves: the rows, and the fields to show
/// (`None`: the defaults).
pub(crate) fn run(commands: &[Command], mut rows: Vec<Row>) -> (Vec<Row>, Option<Vec<String>>, bool) {
    let mut display: Option<Vec<String>> = None;
    let mut aggregated = false;
    for c in commands {
        match c {
            Command::Fields(f) => display = Some(f.clone()),
            Command::Filter(cond) => rows.retain(|r| holds(cond, r)),
            Command::Sort(keys) => rows.sort_by(|a, b| {
                keys.iter()
                    .map(|(k, desc)| {
                        let o = compare_values(a.get(k), b.get(k));
                        if *desc { o.reverse() } else { o }
                    })
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            }),
            Command::Limit(n) => rows.truncate(*n),
            Command::Stats { aggregates, by } => {
                rows = aggregate(&rows, aggregates, by);
                display = Some(by.iter().map(|k| k.name.clone()).chain(aggregates.iter().map(|a| a.name.clone())).collect());
                aggregated = true;
            }
            Command::Parse { field, regex, names } => {
                for row in &mut rows {
                    let Some(caps) = row.get(field).and_then(|v| regex.captures(v)) else { continue };
                    let values: Vec<(String, String)> = if regex.capture_names().flatten().next().is_some() {
                        names.iter().filter_map(|n| caps.name(n).map(|m| (n.clone(), m.as_str().to_string()))).collect()
                    } else {
                        names.iter().enumerate().filter_map(|(i, n)| caps.get(i + 1).map(|m| (n.clone(), m.as_str().to_string()))).collect()
                    };
                    row.extend(values);
                }
            }
            Command::Dedup(fields) => {
                let mut seen = std::collections::HashSet::new();
                // Rows missing one of the fields are never duplicates.
                rows.retain(|r| {
                    let key: Option<Vec<String>> = fields.iter().map(|f| r.get(f).cloned()).collect();
                    key.is_none_or(|k| seen.insert(k))
                });
            }
        }
    }
    (rows, display, aggregated)
}

fn aggregate(rows: &[Row], aggregates: &[Aggregate], by: &[GroupKey]) -> Vec<Row> {
    let mut groups: IndexMap<Vec<String>, Vec<&Row>> = IndexMap::new();
    for r in rows {
        let key: Vec<String> = by.iter().map(|k| k.value(r)).collect();
        groups.entry(key).or_default().push(r);
    }
    groups
        .into_iter()
        .map(|(key, members)| {
            let mut out = Row::new();
            for (k, v) in by.iter().zip(key) {
                out.insert(k.name.clone(), v);
            }
            for a in aggregates {
                let values: Vec<f64> = match &a.field {
                    Some(f) => members.iter().filter_map(|r| r.get(f)?.parse::<f64>().ok()).collect(),
                    None => Vec::new(),
                };
                let v = match a.function.as_str() {
                    "count" => match &a.field {
                        None => members.len().to_string(),
                        Some(f) => members.iter().filter(|r| r.contains_key(f)).count().to_string(),
                    },
                    "count_distinct" => {
                        let field = a.field.as_deref().unwrap_or_default();
                        members.iter().filter_map(|r| r.get(field)).collect::<std::collections::HashSet<_>>().len().to_string()
                    }
                    "sum" => number(values.iter().sum()),
                    "avg" if !values.is_empty() => number(values.iter().sum::<f64>() / values.len() as f64),
                    "min" => values.iter().copied().reduce(f64::min).map(number).unwrap_or_default(),
                    "max" => values.iter().copied().reduce(f64::max).map(number).unwrap_or_default(),
                    _ => String::new(),
                };
                out.insert(a.name.clone(), v);
            }
            out
        })
        .collect()
}

fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { n.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_dedup_bins_and_distinct_counts() {
        let rows = vec![
            row(&[("@timestamp", "2024-01-31 12:01:10.000"), ("@message", "[INFO] user=ann took 30ms")]),
            row(&[("@timestamp", "2024-01-31 12:03:00.000"), ("@message", "[ERROR] user=bob took 100ms")]),
            row(&[("@timestamp", "2024-01-31 12:07:00.000"), ("@message", "[INFO] user=ann took 5ms")]),
            row(&[("@timestamp", "2024-01-31 12:08:00.000"), ("@message", "no match here")]),
        ];
        let q = parse("parse @message \"[*] user=* took *ms\" as level, user, ms | filter ispresent_dummy = 1 or level = \"INFO\"").unwrap();
        let (out, _, _) = run(&q, rows.clone());
        assert_eq!(out.len(), 2);
        assert_eq!((out[0]["level"].as_str(), out[0]["user"].as_str(), out[0]["ms"].as_str()), ("INFO", "ann", "30"));
        let q = parse("parse /user=(?<who>\\w+) took (?<ms>\\d+)/ | stats sum(ms) as total, count_distinct(who) as people").unwrap();
        let (out, _, _) = run(&q, rows.clone());
        assert_eq!((out[0]["total"].as_str(), out[0]["people"].as_str()), ("135", "2"));
        let q = parse("parse @message \"user=* \" as user | dedup user").unwrap();
        let (out, _, _) = run(&q, rows.clone());
        assert_eq!(out.len(), 3, "ann once, bob once, and the row without a user");
        let q = parse("stats count(*) as n by bin(5m)").unwrap();
        let (out, display, _) = run(&q, rows);
        assert_eq!(display.unwrap(), vec!["bin(5m)", "n"]);
        let got: Vec<(&str, &str)> = out.iter().map(|r| (r["bin(5m)"].as_str(), r["n"].as_str())).collect();
        assert_eq!(got, vec![("2024-01-31 12:00:00.000", "2"), ("2024-01-31 12:05:00.000", "2")]);
    }

    fn row(pairs: &[(&str, &str)]) -> Row {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn filters_sort_limit_and_stats() {
        let rows = vec![
            row(&[("level", "ERROR"), ("ms", "30"), ("@message", "disk full")]),
            row(&[("level", "INFO"), ("ms", "5"), ("@message", "ok")]),
            row(&[("level", "ERROR"), ("ms", "100"), ("@message", "timeout")]),
        ];
        let q = parse("fields level, ms | filter level = \"ERROR\" and ms > 10 | sort ms desc | limit 1").unwrap();
        let (out, display, _) = run(&q, rows.clone());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0]["ms"], "100");
        assert_eq!(display.unwrap(), vec!["level", "ms"]);
        let q = parse("filter @message like /dis[k]/ or @message like \"time\"").unwrap();
        assert_eq!(run(&q, rows.clone()).0.len(), 2);
        let q = parse("filter level != 'ERROR'").unwrap();
        assert_eq!(run(&q, rows.clone()).0.len(), 1);
        let q = parse("stats count(*) as n, avg(ms) by level | sort n desc").unwrap();
        let (out, display, aggregated) = run(&q, rows);
        assert!(aggregated);
        assert_eq!(display.unwrap(), vec!["level", "n", "avg(ms)"]);
        assert_eq!(out[0]["level"], "ERROR");
        assert_eq!(out[0]["n"], "2");
        assert_eq!(out[0]["avg(ms)"], "65");
        assert!(parse("frobnicate x").is_err());
        let q = parse("filter ispresent(ms) and not ispresent(nothing)").unwrap();
        let present = vec![row(&[("ms", "1")]), row(&[("ms", "2")]), row(&[("ms", "3"), ("nothing", "x")]), row(&[("x", "1")])];
        assert_eq!(run(&q, present).0.len(), 2);
        assert!(parse("filter ispresent(a, b)").is_err());
        assert!(parse("stats count(*) by bin(5q)").is_err());
        assert!(parse("parse @message \"a * b\" as x, y").is_err());
        assert!(parse("filter x like /(/").is_err());
    }
}
