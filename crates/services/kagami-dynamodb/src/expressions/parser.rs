//! The grammar of the four expression languages, producing syntax trees whose names
//! (`#n`) and values (`:v`) are not resolved yet. Syntax errors come out here, worded as
//! DynamoDB words them: `Syntax error; token: "x", near: "a x b"`.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html>

use super::lexer::{Tok, Token, tokenize};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawName {
    /// A name written as is; it must not be a reserved word.
    Plain(String),
    /// `#n`, resolved through ExpressionAttributeNames.
    Placeholder(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawElement {
    Name(RawName),
    Index(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawPath {
    pub head: RawName,
    pub rest: Vec<RawElement>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Comparator {
    pub fn symbol(self) -> &'static str {
        match self {
            Comparator::Eq => "=",
            Comparator::Ne => "<>",
            Comparator::Lt => "<",
            Comparator::Le => "<=",
            Comparator::Gt => ">",
            Comparator::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawOperand {
    Path(RawPath),
    Value(String),
    Call(String, Vec<RawOperand>),
    Paren(Box<RawOperand>),
    /// `x + y` and `x - y`: update expressions only.
    Plus(Box<RawOperand>, Box<RawOperand>),
    Minus(Box<RawOperand>, Box<RawOperand>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawCondition {
    Compare(Comparator, RawOperand, RawOperand),
    Between(RawOperand, RawOperand, RawOperand),
    In(RawOperand, Vec<RawOperand>),
    /// A function standing as a condition (`begins_with(a, :p)`).
    Call(String, Vec<RawOperand>),
    And(Box<RawCondition>, Box<RawCondition>),
    Or(Box<RawCondition>, Box<RawCondition>),
    Not(Box<RawCondition>),
    Paren(Box<RawCondition>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawClause {
    Set(Vec<(RawPath, RawOperand)>),
    Remove(Vec<RawPath>),
    Add(Vec<(RawPath, String)>),
    Delete(Vec<(RawPath, String)>),
}

impl RawClause {
    pub fn keyword(&self) -> &'static str {
        match self {
            RawClause::Set(_) => "SET",
            RawClause::Remove(_) => "REMOVE",
            RawClause::Add(_) => "ADD",
            RawClause::Delete(_) => "DELETE",
        }
    }
}

/// A syntax error at a token index (`tokens.len()` for the end of the expression).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub at: usize,
}

type Parsed<T> = Result<T, SyntaxError>;

pub(crate) struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    /// Parentheses, NOTs and function calls currently open.
    depth: usize,
}

/// Nesting the parser accepts; an expression of at most 4 KB nesting deeper is refused
/// as a syntax error rather than risking the stack.
const MAX_NESTING: usize = 128;

/// A parenthesised group is a condition, or an operand whose comparator follows the
/// closing parenthesis (`(a) = :v`); the position is where that comparator was expected.
enum Node {
    Condition(RawCondition),
    Operand(RawOperand, usize),
}

impl Node {
    fn into_condition(self) -> Parsed<RawCondition> {
        match self {
            Node::Condition(c) => Ok(c),
            Node::Operand(_, at) => Err(SyntaxError { at }),
        }
    }
}

const CONDITION_KEYWORDS: &[&str] = &["AND", "OR", "NOT", "BETWEEN", "IN"];
const UPDATE_KEYWORDS: &[&str] = &["SET", "REMOVE", "ADD", "DELETE"];

impl<'a> Parser<'a> {
    pub fn new(src: &'a str) -> Parser<'a> {
        Parser { src, tokens: tokenize(src), pos: 0, depth: 0 }
    }

    /// `Syntax error; token: "x", near: "a x b"`: the offending token with its neighbours.
    pub fn message(&self, error: &SyntaxError) -> String {
        let text = |t: &Token| self.src.get(t.start..t.end).unwrap_or("");
        let (token, near) = match self.tokens.get(error.at) {
            Some(t) => {
                let start = error.at.checked_sub(1).and_then(|i| self.tokens.get(i)).map_or(t.start, |p| p.start);
                let end = self.tokens.get(error.at + 1).map_or(t.end, |n| n.end);
                (text(t).to_string(), self.src.get(start..end).unwrap_or(""))
            }
            None => {
                let near = match self.tokens.last() {
                    Some(last) => self.src.get(last.start..last.end).unwrap_or(""),
                    None => "",
                };
                ("<EOF>".to_string(), near)
            }
        };
        format!("Syntax error; token: \"{token}\", near: \"{near}\"")
    }

    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|t| &t.tok)
    }

    fn peek_at(&self, offset: usize) -> Option<&Tok> {
        self.tokens.get(self.pos + offset).map(|t| &t.tok)
    }

    fn text_at(&self, index: usize) -> &'a str {
        let src = self.src;
        self.tokens.get(index).and_then(|t| src.get(t.start..t.end)).unwrap_or("")
    }

    fn error<T>(&self) -> Parsed<T> {
        Err(SyntaxError { at: self.pos })
    }

    fn expect(&mut self, tok: Tok) -> Parsed<()> {
        if self.peek() == Some(&tok) {
            self.pos += 1;
            Ok(())
        } else {
            self.error()
        }
    }

    /// Whether the next token is the keyword `word` (keywords ignore case).
    fn at_keyword(&self, word: &str) -> bool {
        self.peek() == Some(&Tok::Ident) && self.text_at(self.pos).eq_ignore_ascii_case(word)
    }

    fn is_keyword(&self, index: usize, keywords: &[&str]) -> bool {
        let text = self.text_at(index);
        keywords.iter().any(|k| text.eq_ignore_ascii_case(k))
    }

    fn end(&self) -> Parsed<()> {
        if self.pos < self.tokens.len() { self.error() } else { Ok(()) }
    }

    // ---- condition expressions -------------------------------------------------------
    //
    // A `(` may open a condition or an operand (`(a) = :v`). Rather than trying both (which
    // costs twice per level of nesting), a parenthesised group is parsed once as a `Node`:
    // a condition, or an operand still waiting for its comparator.

    pub fn condition_expression(&mut self) -> Parsed<RawCondition> {
        let c = self.or()?.into_condition()?;
        self.end()?;
        Ok(c)
    }

    fn or(&mut self) -> Parsed<Node> {
        let mut left = self.and()?;
        while self.at_keyword("OR") {
            let a = left.into_condition()?;
            self.pos += 1;
            let b = self.and()?.into_condition()?;
            left = Node::Condition(RawCondition::Or(Box::new(a), Box::new(b)));
        }
        Ok(left)
    }

    fn and(&mut self) -> Parsed<Node> {
        let mut left = self.not()?;
        while self.at_keyword("AND") {
            let a = left.into_condition()?;
            self.pos += 1;
            let b = self.not()?.into_condition()?;
            left = Node::Condition(RawCondition::And(Box::new(a), Box::new(b)));
        }
        Ok(left)
    }

    fn not(&mut self) -> Parsed<Node> {
        if self.at_keyword("NOT") {
            self.pos += 1;
            let inner = self.nested(|p| p.not())?.into_condition()?;
            return Ok(Node::Condition(RawCondition::Not(Box::new(inner))));
        }
        self.primary()
    }

    fn primary(&mut self) -> Parsed<Node> {
        if self.peek() != Some(&Tok::LParen) {
            let left = self.operand(false)?;
            return self.comparison(left);
        }
        self.pos += 1;
        let inner = self.nested(|p| p.or())?;
        self.expect(Tok::RParen)?;
        if self.peek_is_comparison_continuation() {
            let operand = match inner {
                Node::Operand(op, _) => op,
                Node::Condition(RawCondition::Call(name, args)) => RawOperand::Call(name, args),
                Node::Condition(_) => return self.error(),
            };
            return self.comparison(RawOperand::Paren(Box::new(operand)));
        }
        Ok(match inner {
            Node::Condition(c) => Node::Condition(RawCondition::Paren(Box::new(c))),
            Node::Operand(op, _) => Node::Operand(RawOperand::Paren(Box::new(op)), self.pos),
        })
    }

    fn peek_is_comparison_continuation(&self) -> bool {
        matches!(self.peek(), Some(Tok::Eq | Tok::Ne | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge))
            || self.at_keyword("BETWEEN")
            || self.at_keyword("IN")
    }

    /// What follows the left operand: a comparator, BETWEEN or IN; or nothing, when the
    /// operand is a function standing as a condition (or an operand inside parentheses
    /// whose comparator comes after the closing one).
    fn comparison(&mut self, left: RawOperand) -> Parsed<Node> {
        let comparator = match self.peek() {
            Some(Tok::Eq) => Some(Comparator::Eq),
            Some(Tok::Ne) => Some(Comparator::Ne),
            Some(Tok::Lt) => Some(Comparator::Lt),
            Some(Tok::Le) => Some(Comparator::Le),
            Some(Tok::Gt) => Some(Comparator::Gt),
            Some(Tok::Ge) => Some(Comparator::Ge),
            _ => None,
        };
        if let Some(comparator) = comparator {
            self.pos += 1;
            let right = self.operand(false)?;
            return Ok(Node::Condition(RawCondition::Compare(comparator, left, right)));
        }
        if self.at_keyword("BETWEEN") {
            self.pos += 1;
            let low = self.operand(false)?;
            if !self.at_keyword("AND") {
                return self.error();
            }
            self.pos += 1;
            let high = self.operand(false)?;
            return Ok(Node::Condition(RawCondition::Between(left, low, high)));
        }
        if self.at_keyword("IN") {
            self.pos += 1;
            self.expect(Tok::LParen)?;
            let list = self.arguments()?;
            return Ok(Node::Condition(RawCondition::In(left, list)));
        }
        Ok(match left {
            RawOperand::Call(name, args) => Node::Condition(RawCondition::Call(name, args)),
            other => Node::Operand(other, self.pos),
        })
    }

    /// Runs `f` one level deeper, refusing nesting deep enough to exhaust the stack.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Parsed<T>) -> Parsed<T> {
        if self.depth >= MAX_NESTING {
            return self.error();
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    /// Operands after an opening parenthesis, up to and including the closing one.
    fn arguments(&mut self) -> Parsed<Vec<RawOperand>> {
        let mut args = vec![self.operand(false)?];
        while self.peek() == Some(&Tok::Comma) {
            self.pos += 1;
            args.push(self.operand(false)?);
        }
        self.expect(Tok::RParen)?;
        Ok(args)
    }

    /// An operand; `update` admits `x + y` and `x - y` inside parentheses and the update
    /// keywords instead of the condition ones.
    fn operand(&mut self, update: bool) -> Parsed<RawOperand> {
        match self.peek() {
            Some(Tok::LParen) if !update => {
                self.pos += 1;
                let inner = self.nested(|p| p.operand(false))?;
                self.expect(Tok::RParen)?;
                Ok(RawOperand::Paren(Box::new(inner)))
            }
            Some(Tok::Value) => {
                let text = self.text_at(self.pos).to_string();
                self.pos += 1;
                Ok(RawOperand::Value(text))
            }
            Some(Tok::Ident) if self.peek_at(1) == Some(&Tok::LParen) => {
                let keywords = if update { UPDATE_KEYWORDS } else { CONDITION_KEYWORDS };
                if self.is_keyword(self.pos, keywords) {
                    return self.error();
                }
                let name = self.text_at(self.pos).to_string();
                self.pos += 2;
                let args = self.nested(|p| p.arguments())?;
                Ok(RawOperand::Call(name, args))
            }
            _ => Ok(RawOperand::Path(self.path(update)?)),
        }
    }

    fn name(&mut self, update: bool) -> Parsed<RawName> {
        match self.peek() {
            Some(Tok::Ident) => {
                let keywords = if update { UPDATE_KEYWORDS } else { CONDITION_KEYWORDS };
                if self.is_keyword(self.pos, keywords) {
                    return self.error();
                }
                let name = self.text_at(self.pos).to_string();
                self.pos += 1;
                Ok(RawName::Plain(name))
            }
            Some(Tok::Name) => {
                let name = self.text_at(self.pos).to_string();
                self.pos += 1;
                Ok(RawName::Placeholder(name))
            }
            _ => self.error(),
        }
    }

    fn path(&mut self, update: bool) -> Parsed<RawPath> {
        let head = self.name(update)?;
        let mut rest = Vec::new();
        loop {
            match self.peek() {
                Some(Tok::Dot) => {
                    self.pos += 1;
                    rest.push(RawElement::Name(self.name(update)?));
                }
                Some(Tok::LBracket) => {
                    self.pos += 1;
                    if self.peek() != Some(&Tok::Number) {
                        return self.error();
                    }
                    let Ok(index) = self.text_at(self.pos).parse::<usize>() else {
                        return self.error();
                    };
                    self.pos += 1;
                    self.expect(Tok::RBracket)?;
                    rest.push(RawElement::Index(index));
                }
                _ => return Ok(RawPath { head, rest }),
            }
        }
    }

    // ---- projection expressions ------------------------------------------------------

    pub fn projection_expression(&mut self) -> Parsed<Vec<RawPath>> {
        let mut paths = vec![self.path(false)?];
        while self.peek() == Some(&Tok::Comma) {
            self.pos += 1;
            paths.push(self.path(false)?);
        }
        self.end()?;
        Ok(paths)
    }

    // ---- update expressions ----------------------------------------------------------

    pub fn update_expression(&mut self) -> Parsed<Vec<RawClause>> {
        let mut clauses = Vec::new();
        loop {
            let keyword = self.text_at(self.pos).to_ascii_uppercase();
            if self.peek() != Some(&Tok::Ident) {
                return self.error();
            }
            self.pos += 1;
            let clause = match keyword.as_str() {
                "SET" => RawClause::Set(self.list(|p| {
                    let path = p.path(true)?;
                    p.expect(Tok::Eq)?;
                    Ok((path, p.set_value()?))
                })?),
                "REMOVE" => RawClause::Remove(self.list(|p| p.path(true))?),
                "ADD" => RawClause::Add(self.list(|p| p.path_and_value())?),
                "DELETE" => RawClause::Delete(self.list(|p| p.path_and_value())?),
                _ => {
                    self.pos -= 1;
                    return self.error();
                }
            };
            clauses.push(clause);
            if self.pos >= self.tokens.len() {
                return Ok(clauses);
            }
        }
    }

    fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Parsed<T>) -> Parsed<Vec<T>> {
        let mut items = vec![item(self)?];
        while self.peek() == Some(&Tok::Comma) {
            self.pos += 1;
            items.push(item(self)?);
        }
        Ok(items)
    }

    fn path_and_value(&mut self) -> Parsed<(RawPath, String)> {
        let path = self.path(true)?;
        if self.peek() != Some(&Tok::Value) {
            return self.error();
        }
        let value = self.text_at(self.pos).to_string();
        self.pos += 1;
        Ok((path, value))
    }

    /// `SET path = v`: `(x + y)`, `x + y`, `x - y` or an operand, each side of the
    /// arithmetic an operand in at most one pair of parentheses.
    fn set_value(&mut self) -> Parsed<RawOperand> {
        if self.peek() == Some(&Tok::LParen) {
            let start = self.pos;
            let grouped = (|| {
                self.pos += 1;
                let inner = self.arithmetic()?;
                self.expect(Tok::RParen)?;
                if matches!(self.peek(), Some(Tok::Plus | Tok::Minus)) {
                    return self.error();
                }
                Ok(RawOperand::Paren(Box::new(inner)))
            })();
            if let Ok(v) = grouped {
                return Ok(v);
            }
            self.pos = start;
        }
        self.arithmetic()
    }

    fn arithmetic(&mut self) -> Parsed<RawOperand> {
        let left = self.update_operand()?;
        match self.peek() {
            Some(Tok::Plus) => {
                self.pos += 1;
                let right = self.update_operand()?;
                Ok(RawOperand::Plus(Box::new(left), Box::new(right)))
            }
            Some(Tok::Minus) => {
                self.pos += 1;
                let right = self.update_operand()?;
                Ok(RawOperand::Minus(Box::new(left), Box::new(right)))
            }
            _ => Ok(left),
        }
    }

    fn update_operand(&mut self) -> Parsed<RawOperand> {
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let inner = self.nested(|p| p.update_operand())?;
            self.expect(Tok::RParen)?;
            return Ok(RawOperand::Paren(Box::new(inner)));
        }
        self.operand(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syntax(src: &str, parse: fn(&mut Parser) -> Result<(), SyntaxError>) -> String {
        let mut p = Parser::new(src);
        match parse(&mut p) {
            Ok(()) => panic!("{src:?} parsed"),
            Err(e) => p.message(&e),
        }
    }

    fn condition(p: &mut Parser) -> Result<(), SyntaxError> {
        p.condition_expression().map(|_| ())
    }

    fn update(p: &mut Parser) -> Result<(), SyntaxError> {
        p.update_expression().map(|_| ())
    }

    fn projection(p: &mut Parser) -> Result<(), SyntaxError> {
        p.projection_expression().map(|_| ())
    }

    #[test]
    fn syntax_errors_quote_the_token_and_its_neighbours() {
        assert_eq!(syntax("a x b", condition), r#"Syntax error; token: "x", near: "a x b""#);
        assert_eq!(syntax("SET path = VALUE 1", update), r#"Syntax error; token: "1", near: "VALUE 1""#);
        assert_eq!(syntax("SET _123 = :val1", update), r#"Syntax error; token: "_", near: "SET _123""#);
        assert_eq!(syntax("id = :type", |p| p.update_expression().map(|_| ())), r#"Syntax error; token: "id", near: "id =""#);
        assert_eq!(syntax("a = :type AND", condition), r#"Syntax error; token: "<EOF>", near: "AND""#);
        assert_eq!(syntax("SET", update), r#"Syntax error; token: "<EOF>", near: "SET""#);
        assert_eq!(syntax("a b", projection), r#"Syntax error; token: "b", near: "a b""#);
        assert_eq!(syntax("a,", projection), r#"Syntax error; token: "<EOF>", near: ",""#);
        assert_eq!(syntax("attribute_type()", condition), r#"Syntax error; token: ")", near: "()""#);
        assert_eq!(syntax("a > 4", condition), r#"Syntax error; token: "4", near: "> 4""#);
    }

    #[test]
    fn malformed_expressions_are_syntax_errors() {
        for src in [
            "things are not gonna be ok",
            "a > 4",
            "(size(a))[0] > a",
            "a =",
            "a = :v OR",
            "NOT",
            "a BETWEEN :x",
            "a IN :x",
            "a IN ()",
            "a[x] = :v",
            "a[] = :v",
            "a = = :v",
            "a = :v :w",
            "(a = :v",
            "a.:v = :w",
            "a = \"x\"",
        ] {
            let mut p = Parser::new(src);
            assert!(p.condition_expression().is_err(), "{src}");
        }
        for src in [
            "whatever",
            "set a",
            "add a",
            "delete a",
            "set a=set",
            "remove a = b",
            "add a = b",
            "delete a = b",
            "delete a b",
            "remove a b",
            "set a b",
            "set :a = b",
            "add :a b",
            "delete :a b",
            "remove :a",
            "set a = b / c",
            "set a = b * c",
            "set a[1] = \"eight\"",
            "set a[1] = 1",
            "SET if_not_exist(a, b) = a",
            "set (a = (b + c))",
            "set a = b + c + d",
            "set a = :v,",
            "SET a = :v REMOVE",
            "SET _abc = :v",
            "SET 123a = :v",
            "SET hi-there = :v",
            "SET hi$there = :v",
            "SET a = :",
            "SET a[:xyz] = :v",
            "SET a[#xyz] = :v",
            "SET c = if_not_exists(c, :val1+:val2)",
            "SET a = _f(b)",
            "HELLO b = :v",
        ] {
            let mut p = Parser::new(src);
            assert!(p.update_expression().is_err(), "{src}");
        }
    }

    #[test]
    fn precedence_is_not_then_and_then_or() {
        let mut p = Parser::new("a = :a OR NOT b = :b AND c = :c");
        let parsed = p.condition_expression();
        let Ok(RawCondition::Or(left, right)) = parsed else { panic!("{parsed:?}") };
        assert!(matches!(*left, RawCondition::Compare(Comparator::Eq, _, _)));
        let RawCondition::And(not, _) = *right else { panic!("{right:?}") };
        assert!(matches!(*not, RawCondition::Not(_)));
    }

    #[test]
    fn parentheses_group_conditions_and_operands() {
        for src in [
            "(a = :v)",
            "(a) = :v",
            "(a = :v) AND (b = :w OR c = :x)",
            "NOT (a = :v)",
            "((a = :v))",
            "size(a) > :v",
            "begins_with(a, :p)",
            "a BETWEEN :x AND :y",
            "a IN (:x, :y)",
            "#n.b[2].c <> :v",
        ] {
            let mut p = Parser::new(src);
            assert!(p.condition_expression().is_ok(), "{src}: {:?}", Parser::new(src).condition_expression());
        }
        for src in [
            "SET a = (b + c)",
            "SET a = (b) + c",
            "SET a = if_not_exists(a, :z) + :one, b = list_append(b, :l) REMOVE c[1], d ADD e :n DELETE f :s",
            "set a = b - :c",
        ] {
            let mut p = Parser::new(src);
            assert!(p.update_expression().is_ok(), "{src}");
        }
    }
}
