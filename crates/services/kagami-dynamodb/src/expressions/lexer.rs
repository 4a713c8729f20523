//! Tokens of the expression languages, with their byte spans so that a syntax error can
//! quote the text around the offending token as DynamoDB does.

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// An attribute name, a function name or a keyword (AND, SET, ...).
    Ident,
    /// `#name`: an expression attribute name.
    Name,
    /// `:value`: an expression attribute value.
    Value,
    /// Digits: only meaningful as a list index.
    Number,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    /// A character no expression may contain; the parser reports it as a syntax error.
    Unknown,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

pub(crate) fn tokenize(src: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = src.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let single = |tok: Tok| Token { tok, start, end: start + c.len_utf8() };
        let token = match c {
            c if c.is_whitespace() => continue,
            '(' => single(Tok::LParen),
            ')' => single(Tok::RParen),
            '[' => single(Tok::LBracket),
            ']' => single(Tok::RBracket),
            ',' => single(Tok::Comma),
            '.' => single(Tok::Dot),
            '+' => single(Tok::Plus),
            '-' => single(Tok::Minus),
            '=' => single(Tok::Eq),
            '<' | '>' => {
                let (two, one) = match (c, chars.peek().map(|&(_, n)| n)) {
                    ('<', Some('>')) => (Some(Tok::Ne), Tok::Lt),
                    ('<', Some('=')) => (Some(Tok::Le), Tok::Lt),
                    ('>', Some('=')) => (Some(Tok::Ge), Tok::Gt),
                    ('<', _) => (None, Tok::Lt),
                    _ => (None, Tok::Gt),
                };
                match two {
                    Some(tok) => {
                        chars.next();
                        Token { tok, start, end: start + 2 }
                    }
                    None => single(one),
                }
            }
            '#' | ':' => {
                let mut end = start + 1;
                while let Some(&(i, n)) = chars.peek() {
                    if !is_name_char(n) {
                        break;
                    }
                    end = i + n.len_utf8();
                    chars.next();
                }
                let tok = if end == start + 1 {
                    Tok::Unknown
                } else if c == '#' {
                    Tok::Name
                } else {
                    Tok::Value
                };
                Token { tok, start, end }
            }
            c if c.is_ascii_digit() => {
                let mut end = start + 1;
                while let Some(&(i, n)) = chars.peek() {
                    if !n.is_ascii_digit() {
                        break;
                    }
                    end = i + 1;
                    chars.next();
                }
                Token { tok: Tok::Number, start, end }
            }
            // A plain name starts with a letter; `_` alone is no token DynamoDB knows.
            c if c.is_ascii_alphabetic() => {
                let mut end = start + 1;
                while let Some(&(i, n)) = chars.peek() {
                    if !is_name_char(n) {
                        break;
                    }
                    end = i + 1;
                    chars.next();
                }
                Token { tok: Tok::Ident, start, end }
            }
            _ => single(Tok::Unknown),
        };
        out.push(token);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(Tok, &str)> {
        tokenize(src).into_iter().map(|t| (t.tok, &src[t.start..t.end])).collect()
    }

    #[test]
    fn tokens_carry_their_text() {
        assert_eq!(
            kinds("#n.a[12] <> :v_1 AND size(b)>=:x"),
            vec![
                (Tok::Name, "#n"),
                (Tok::Dot, "."),
                (Tok::Ident, "a"),
                (Tok::LBracket, "["),
                (Tok::Number, "12"),
                (Tok::RBracket, "]"),
                (Tok::Ne, "<>"),
                (Tok::Value, ":v_1"),
                (Tok::Ident, "AND"),
                (Tok::Ident, "size"),
                (Tok::LParen, "("),
                (Tok::Ident, "b"),
                (Tok::RParen, ")"),
                (Tok::Ge, ">="),
                (Tok::Value, ":x"),
            ]
        );
        assert_eq!(kinds("a!=é"), vec![(Tok::Ident, "a"), (Tok::Unknown, "!"), (Tok::Eq, "="), (Tok::Unknown, "é")]);
        assert_eq!(kinds("# :"), vec![(Tok::Unknown, "#"), (Tok::Unknown, ":")]);
        assert_eq!(kinds("_a1 #_ :_"), vec![(Tok::Unknown, "_"), (Tok::Ident, "a1"), (Tok::Name, "#_"), (Tok::Value, ":_")]);
    }
}
