//! The PartiQL statements DynamoDB accepts, parsed: SELECT (with WHERE), INSERT ... VALUE,
//! UPDATE ... SET/REMOVE ... WHERE, DELETE ... WHERE, with literals (strings, numbers,
//! booleans, NULL, maps, lists, sets) and `?` parameters.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.html>

use crate::attribute::{AttributeValue, Map};
use crate::errors::ValidationError;
use crate::number::Number;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Str(String),
    Num(String),
    Sym(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    Name(String),
    Index(usize),
}

pub type Path = Vec<Segment>;

#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Cmp(Path, &'static str, AttributeValue),
    Between(Path, AttributeValue, AttributeValue),
    In(Path, Vec<AttributeValue>),
    Func(&'static str, Path, AttributeValue),
    Missing(Path, bool),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Select { table: String, index: Option<String>, projection: Option<Vec<Path>>, filter: Option<Cond> },
    Insert { table: String, item: Map },
    Update { table: String, sets: Vec<(Path, AttributeValue)>, removes: Vec<Path>, filter: Cond },
    Delete { table: String, filter: Cond },
}

impl Statement {
    pub fn table(&self) -> &str {
        match self {
            Statement::Select { table, .. } | Statement::Insert { table, .. } | Statement::Update { table, .. } | Statement::Delete { table, .. } => {
                table
            }
        }
    }
}

fn malformed(detail: impl std::fmt::Display) -> ValidationError {
    ValidationError::new(format!("Statement wasn't well formed, can't be processed: {detail}"))
}

const SYMBOLS: &[&str] = &["<<", ">>", "<>", "!=", "<=", ">=", "{", "}", "[", "]", "(", ")", ",", ":", ".", "=", "<", ">", "?", "*", ";"];

fn tokenize(src: &str) -> Result<Vec<Token>, ValidationError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' || c == '"' {
            let mut text = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(malformed("unterminated quoted text")),
                    Some(&q) if q == c && chars.get(i + 1) == Some(&c) => {
                        text.push(c);
                        i += 2;
                    }
                    Some(&q) if q == c => {
                        i += 1;
                        break;
                    }
                    Some(&other) => {
                        text.push(other);
                        i += 1;
                    }
                }
            }
            out.push(if c == '\'' { Token::Str(text) } else { Token::Quoted(text) });
        } else if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let start = i;
            i += 1;
            while chars.get(i).is_some_and(|d| d.is_ascii_alphanumeric() || *d == '.' || ((*d == '-' || *d == '+') && matches!(chars.get(i - 1), Some('e' | 'E')))) {
                i += 1;
            }
            out.push(Token::Num(chars.get(start..i).unwrap_or_default().iter().collect()));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while chars.get(i).is_some_and(|d| d.is_alphanumeric() || *d == '_') {
                i += 1;
            }
            out.push(Token::Word(chars.get(start..i).unwrap_or_default().iter().collect()));
        } else {
            let rest: String = chars.get(i..(i + 2).min(chars.len())).unwrap_or_default().iter().collect();
            let Some(sym) = SYMBOLS.iter().find(|s| rest.starts_with(**s)) else {
                return Err(malformed(format!("unexpected character {c}")));
            };
            i += sym.chars().count();
            out.push(Token::Sym(sym));
        }
    }
    Ok(out)
}

/// Nesting (parentheses, NOT, maps, lists) the parser accepts before refusing a statement,
/// so that no statement can exhaust the stack.
const MAX_NESTING: usize = 64;

pub struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    parameters: Vec<AttributeValue>,
    next_parameter: usize,
    depth: usize,
}

impl Parser {
    pub fn parse(text: &str, parameters: Vec<AttributeValue>) -> Result<Statement, ValidationError> {
        let mut p = Parser { tokens: tokenize(text)?, pos: 0, parameters, next_parameter: 0, depth: 0 };
        let statement = p.statement()?;
        p.eat_sym(";");
        if p.pos != p.tokens.len() {
            return Err(malformed("unexpected text after the statement"));
        }
        if p.next_parameter != p.parameters.len() {
            return Err(ValidationError::new(format!(
                "Number of parameters in request and statement don't match. Parameters: {}, statement parameters: {}",
                p.parameters.len(),
                p.next_parameter
            )));
        }
        Ok(statement)
    }

    fn deeper<T>(&mut self, f: impl FnOnce(&mut Parser) -> Result<T, ValidationError>) -> Result<T, ValidationError> {
        if self.depth >= MAX_NESTING {
            return Err(malformed("the statement nests too deeply"));
        }
        self.depth += 1;
        let out = f(self);
        self.depth -= 1;
        out
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let found = self.is_word(word);
        if found {
            self.pos += 1;
        }
        found
    }

    fn expect_word(&mut self, word: &str) -> Result<(), ValidationError> {
        if self.eat_word(word) { Ok(()) } else { Err(malformed(format!("expected {word}"))) }
    }

    fn eat_sym(&mut self, sym: &str) -> bool {
        let found = matches!(self.peek(), Some(Token::Sym(s)) if *s == sym);
        if found {
            self.pos += 1;
        }
        found
    }

    fn expect_sym(&mut self, sym: &str) -> Result<(), ValidationError> {
        if self.eat_sym(sym) { Ok(()) } else { Err(malformed(format!("expected {sym}"))) }
    }

    fn name(&mut self) -> Result<String, ValidationError> {
        match self.tokens.get(self.pos).cloned() {
            Some(Token::Word(w) | Token::Quoted(w)) => {
                self.pos += 1;
                Ok(w)
            }
            _ => Err(malformed("expected a name")),
        }
    }

    fn statement(&mut self) -> Result<Statement, ValidationError> {
        if self.eat_word("SELECT") {
            let projection = if self.eat_sym("*") {
                None
            } else {
                let mut paths = vec![self.path()?];
                while self.eat_sym(",") {
                    paths.push(self.path()?);
                }
                Some(paths)
            };
            self.expect_word("FROM")?;
            let table = self.name()?;
            let index = if self.eat_sym(".") { Some(self.name()?) } else { None };
            let filter = if self.eat_word("WHERE") { Some(self.or()?) } else { None };
            return Ok(Statement::Select { table, index, projection, filter });
        }
        if self.eat_word("INSERT") {
            self.expect_word("INTO")?;
            let table = self.name()?;
            self.expect_word("VALUE")?;
            let AttributeValue::M(item) = self.value()? else {
                return Err(malformed("INSERT takes a map of the item's attributes"));
            };
            return Ok(Statement::Insert { table, item });
        }
        if self.eat_word("UPDATE") {
            let table = self.name()?;
            let mut sets = Vec::new();
            let mut removes = Vec::new();
            loop {
                if self.eat_word("SET") {
                    loop {
                        let path = self.path()?;
                        self.expect_sym("=")?;
                        sets.push((path, self.value()?));
                        if !self.eat_sym(",") {
                            break;
                        }
                    }
                } else if self.eat_word("REMOVE") {
                    removes.push(self.path()?);
                    while self.eat_sym(",") {
                        removes.push(self.path()?);
                    }
                } else {
                    break;
                }
            }
            if sets.is_empty() && removes.is_empty() {
                return Err(malformed("UPDATE needs SET or REMOVE"));
            }
            self.expect_word("WHERE")?;
            let filter = self.or()?;
            return Ok(Statement::Update { table, sets, removes, filter });
        }
        if self.eat_word("DELETE") {
            self.expect_word("FROM")?;
            let table = self.name()?;
            self.expect_word("WHERE")?;
            let filter = self.or()?;
            return Ok(Statement::Delete { table, filter });
        }
        Err(malformed("expected SELECT, INSERT, UPDATE or DELETE"))
    }

    fn path(&mut self) -> Result<Path, ValidationError> {
        let mut path = vec![Segment::Name(self.name()?)];
        loop {
            if self.eat_sym(".") {
                path.push(Segment::Name(self.name()?));
            } else if self.eat_sym("[") {
                let Some(Token::Num(n)) = self.peek().cloned() else { return Err(malformed("expected a list index")) };
                self.pos += 1;
                path.push(Segment::Index(n.parse().map_err(|_| malformed("invalid list index"))?));
                self.expect_sym("]")?;
            } else {
                return Ok(path);
            }
        }
    }

    fn value(&mut self) -> Result<AttributeValue, ValidationError> {
        self.deeper(Parser::value_inner)
    }

    fn value_inner(&mut self) -> Result<AttributeValue, ValidationError> {
        let token = self.tokens.get(self.pos).cloned().ok_or_else(|| malformed("expected a value"))?;
        self.pos += 1;
        match token {
            Token::Str(s) => Ok(AttributeValue::S(s)),
            Token::Num(n) => Ok(AttributeValue::N(Number::parse(&n)?)),
            Token::Word(w) if w.eq_ignore_ascii_case("TRUE") => Ok(AttributeValue::Bool(true)),
            Token::Word(w) if w.eq_ignore_ascii_case("FALSE") => Ok(AttributeValue::Bool(false)),
            Token::Word(w) if w.eq_ignore_ascii_case("NULL") => Ok(AttributeValue::Null),
            Token::Sym("?") => {
                let value = self.parameters.get(self.next_parameter).cloned();
                self.next_parameter += 1;
                value.ok_or_else(|| ValidationError::new("Number of parameters in request and statement don't match."))
            }
            Token::Sym("{") => {
                let mut map = Map::new();
                if !self.eat_sym("}") {
                    loop {
                        let key = match self.tokens.get(self.pos).cloned() {
                            Some(Token::Str(k) | Token::Quoted(k)) => k,
                            _ => return Err(malformed("map keys are quoted strings")),
                        };
                        self.pos += 1;
                        self.expect_sym(":")?;
                        map.insert(key, self.value()?);
                        if self.eat_sym("}") {
                            break;
                        }
                        self.expect_sym(",")?;
                    }
                }
                Ok(AttributeValue::M(map))
            }
            Token::Sym("[") => Ok(AttributeValue::L(self.list("]")?)),
            Token::Sym("<<") => {
                let members = self.list(">>")?;
                set_of(members)
            }
            _ => Err(malformed("expected a value")),
        }
    }

    fn list(&mut self, close: &str) -> Result<Vec<AttributeValue>, ValidationError> {
        let mut out = Vec::new();
        if self.eat_sym(close) {
            return Ok(out);
        }
        loop {
            out.push(self.value()?);
            if self.eat_sym(close) {
                return Ok(out);
            }
            self.expect_sym(",")?;
        }
    }

    fn or(&mut self) -> Result<Cond, ValidationError> {
        let mut left = self.and()?;
        while self.eat_word("OR") {
            left = Cond::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Cond, ValidationError> {
        let mut left = self.not()?;
        while self.eat_word("AND") {
            left = Cond::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Cond, ValidationError> {
        self.deeper(|p| {
            if p.eat_word("NOT") {
                return Ok(Cond::Not(Box::new(p.not()?)));
            }
            p.primary()
        })
    }

    fn primary(&mut self) -> Result<Cond, ValidationError> {
        if self.eat_sym("(") {
            let inner = self.or()?;
            self.expect_sym(")")?;
            return Ok(inner);
        }
        for (word, func) in [("begins_with", "begins_with"), ("contains", "contains")] {
            if self.is_word(word) && matches!(self.tokens.get(self.pos + 1), Some(Token::Sym("("))) {
                self.pos += 2;
                let path = self.path()?;
                self.expect_sym(",")?;
                let value = self.value()?;
                self.expect_sym(")")?;
                return Ok(Cond::Func(func, path, value));
            }
        }
        let path = self.path()?;
        if self.eat_word("IS") {
            let negated = self.eat_word("NOT");
            self.expect_word("MISSING")?;
            return Ok(Cond::Missing(path, !negated));
        }
        if self.eat_word("BETWEEN") {
            let lo = self.value()?;
            self.expect_word("AND")?;
            return Ok(Cond::Between(path, lo, self.value()?));
        }
        if self.eat_word("IN") {
            let open = if self.eat_sym("[") { "]" } else { self.expect_sym("(").map(|_| ")")? };
            return Ok(Cond::In(path, self.list(open)?));
        }
        let op = match self.tokens.get(self.pos) {
            Some(Token::Sym(s @ ("=" | "<>" | "<" | "<=" | ">" | ">="))) => *s,
            Some(Token::Sym("!=")) => "<>",
            _ => return Err(malformed("expected a comparison")),
        };
        self.pos += 1;
        Ok(Cond::Cmp(path, op, self.value()?))
    }
}

fn set_of(members: Vec<AttributeValue>) -> Result<AttributeValue, ValidationError> {
    let mismatch = || malformed("a set holds members of one scalar type");
    match members.first() {
        Some(AttributeValue::S(_)) => {
            members.into_iter().map(|m| if let AttributeValue::S(s) = m { Ok(s) } else { Err(mismatch()) }).collect::<Result<_, _>>().map(AttributeValue::Ss)
        }
        Some(AttributeValue::N(_)) => {
            members.into_iter().map(|m| if let AttributeValue::N(n) = m { Ok(n) } else { Err(mismatch()) }).collect::<Result<_, _>>().map(AttributeValue::Ns)
        }
        Some(AttributeValue::B(_)) => {
            members.into_iter().map(|m| if let AttributeValue::B(b) = m { Ok(b) } else { Err(mismatch()) }).collect::<Result<_, _>>().map(AttributeValue::Bs)
        }
        _ => Err(mismatch()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Statement {
        Parser::parse(text, vec![AttributeValue::N(Number::from(7i64))]).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn statements_of_each_kind_parse() {
        match parse(r#"SELECT a, b.c[1] FROM "t"."idx" WHERE pk = 'x' AND n BETWEEN 1 AND ? OR NOT c IS MISSING"#) {
            Statement::Select { table, index, projection, filter } => {
                assert_eq!(table, "t");
                assert_eq!(index.as_deref(), Some("idx"));
                assert_eq!(projection.map(|p| p.len()), Some(2));
                assert!(matches!(filter, Some(Cond::Or(..))));
            }
            other => panic!("{other:?}"),
        }
        match Parser::parse(r#"INSERT INTO t VALUE {'pk': 'a', 'n': -1.5, 'l': [TRUE, NULL], 's': <<'x','y'>>}"#, vec![]) {
            Ok(Statement::Insert { item, .. }) => {
                assert_eq!(item.get("s"), Some(&AttributeValue::Ss(vec!["x".into(), "y".into()])));
                assert_eq!(item.len(), 4);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse("UPDATE t SET a = 1, b = ? REMOVE c WHERE pk = 'a'"), Statement::Update { .. }));
        assert!(matches!(Parser::parse("DELETE FROM t WHERE pk = 'a'", vec![]), Ok(Statement::Delete { .. })));
    }

    #[test]
    fn malformed_statements_and_parameter_counts_are_refused() {
        assert!(Parser::parse("SELEC * FROM t", vec![]).is_err());
        assert!(Parser::parse("SELECT * FROM t WHERE", vec![]).is_err());
        assert!(Parser::parse("SELECT * FROM t WHERE a = ?", vec![]).is_err());
        assert!(Parser::parse("SELECT * FROM t", vec![AttributeValue::Null]).is_err());
        assert!(Parser::parse("INSERT INTO t VALUE {'a': 'unterminated}", vec![]).is_err());
        let deep = format!("SELECT * FROM t WHERE {}a = 1{}", "(".repeat(5000), ")".repeat(5000));
        assert!(Parser::parse(&deep, vec![]).is_err());
        let deep_value = format!("INSERT INTO t VALUE {}{}", "[".repeat(5000), "]".repeat(5000));
        assert!(Parser::parse(&deep_value, vec![]).is_err());
    }
}
