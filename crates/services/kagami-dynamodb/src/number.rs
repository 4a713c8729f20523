//! DynamoDB numbers: decimal, up to 38 significant digits, magnitudes from 1E-130 to
//! 9.9999999999999999999999999999999999999E+125, compared and added exactly (never
//! through f64), and written back in the normalised form DynamoDB returns.
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html#HowItWorks.DataTypes.Number>

use crate::errors::ValidationError;
use std::cmp::Ordering;
use std::fmt;

/// Significant digits a number may have.
pub const MAX_SIGNIFICANT_DIGITS: usize = 38;
/// Largest power of ten of the leading digit (9.99…E+125).
pub const MAX_EXPONENT: i64 = 125;
/// Smallest power of ten of the leading digit (1E-130).
pub const MIN_EXPONENT: i64 = -130;

/// Why a text is not a DynamoDB number; the messages are AWS's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("The parameter cannot be converted to a numeric value")]
    Empty,
    #[error("The parameter cannot be converted to a numeric value: {0}")]
    NotNumeric(String),
    #[error("Number overflow. Attempting to store a number with magnitude larger than supported range")]
    Overflow,
    #[error("Number underflow. Attempting to store a number with magnitude smaller than supported range")]
    Underflow,
    #[error("Attempting to store more than 38 significant digits in a Number")]
    Precision,
}

impl From<NumberError> for ValidationError {
    fn from(e: NumberError) -> ValidationError {
        ValidationError::new(e.to_string())
    }
}

/// An exact DynamoDB number. Equal numbers have equal representations ("1.50" and "15E-1"
/// are the same `Number`), so the derived `Eq`/`Hash` are numeric equality.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Number {
    negative: bool,
    /// Significant digits (0..=9), most significant first, without leading or trailing
    /// zeros; empty for zero.
    digits: Vec<u8>,
    /// The value is `digits × 10^scale`.
    scale: i64,
}

impl Number {
    pub fn zero() -> Number {
        Number { negative: false, digits: Vec::new(), scale: 0 }
    }

    /// Parses the text of an `N` value as DynamoDB accepts it: an optional sign, digits with
    /// an optional decimal point, an optional exponent; no spaces, no NaN or Infinity.
    pub fn parse(text: &str) -> Result<Number, NumberError> {
        if text.is_empty() {
            return Err(NumberError::Empty);
        }
        let not_numeric = || NumberError::NotNumeric(text.to_string());
        let bytes = text.as_bytes();
        let mut i = 0;
        let negative = match bytes.first() {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let mut mantissa = Vec::new();
        let mut fraction_digits: i64 = 0;
        let mut seen_point = false;
        let mut seen_digit = false;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'0'..=b'9' => {
                    seen_digit = true;
                    mantissa.push(b - b'0');
                    if seen_point {
                        fraction_digits += 1;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => break,
            }
            i += 1;
        }
        if !seen_digit {
            return Err(not_numeric());
        }
        let mut exponent: i64 = 0;
        if let Some(b'e' | b'E') = bytes.get(i) {
            i += 1;
            let exponent_negative = match bytes.get(i) {
                Some(b'-') => {
                    i += 1;
                    true
                }
                Some(b'+') => {
                    i += 1;
                    false
                }
                _ => false,
            };
            let start = i;
            while let Some(&b) = bytes.get(i) {
                if !b.is_ascii_digit() {
                    break;
                }
                // Saturate: anything this large is out of range either way.
                exponent = (exponent * 10 + i64::from(b - b'0')).min(1_000_000_000_000);
                i += 1;
            }
            if i == start {
                return Err(not_numeric());
            }
            if exponent_negative {
                exponent = -exponent;
            }
        }
        if i != bytes.len() {
            return Err(not_numeric());
        }
        Number::from_parts(negative, mantissa, exponent - fraction_digits)
    }

    /// Normalises `digits × 10^scale` and checks DynamoDB's range and precision.
    fn from_parts(negative: bool, mut digits: Vec<u8>, mut scale: i64) -> Result<Number, NumberError> {
        let leading = digits.iter().take_while(|&&d| d == 0).count();
        digits.drain(..leading);
        while digits.last() == Some(&0) {
            digits.pop();
            scale += 1;
        }
        if digits.is_empty() {
            return Ok(Number::zero());
        }
        let adjusted = scale + digits.len() as i64 - 1;
        if adjusted > MAX_EXPONENT {
            return Err(NumberError::Overflow);
        }
        if adjusted < MIN_EXPONENT {
            return Err(NumberError::Underflow);
        }
        if digits.len() > MAX_SIGNIFICANT_DIGITS {
            return Err(NumberError::Precision);
        }
        Ok(Number { negative, digits, scale })
    }

    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Significant digits, which is what the item size counts.
    pub fn significant_digits(&self) -> usize {
        self.digits.len()
    }

    /// Power of ten of the leading digit; meaningless for zero.
    fn adjusted(&self) -> i64 {
        self.scale + self.digits.len() as i64 - 1
    }

    pub fn negate(&self) -> Number {
        let mut n = self.clone();
        if !n.is_zero() {
            n.negative = !n.negative;
        }
        n
    }

    /// `self + other`, exact. A result that needs more than 38 significant digits is refused
    /// with the overflow message, as DynamoDB words it for `SET a = a + :v` and `ADD`.
    pub fn checked_add(&self, other: &Number) -> Result<Number, NumberError> {
        if other.is_zero() {
            return Ok(self.clone());
        }
        if self.is_zero() {
            return Ok(other.clone());
        }
        let scale = self.scale.min(other.scale);
        let a = aligned(self, scale);
        let b = aligned(other, scale);
        let (negative, digits) = if self.negative == other.negative {
            (self.negative, add_magnitudes(&a, &b))
        } else {
            match compare_magnitudes(&a, &b) {
                Ordering::Equal => return Ok(Number::zero()),
                Ordering::Greater => (self.negative, subtract_magnitudes(&a, &b)),
                Ordering::Less => (other.negative, subtract_magnitudes(&b, &a)),
            }
        };
        Number::from_parts(negative, digits, scale).map_err(|e| match e {
            NumberError::Precision => NumberError::Overflow,
            other => other,
        })
    }

    /// `self - other`, exact, with the same limits as [`Number::checked_add`].
    pub fn checked_sub(&self, other: &Number) -> Result<Number, NumberError> {
        self.checked_add(&other.negate())
    }

    /// The integral part as an i64 when it fits (TTL attributes hold epoch seconds).
    pub fn trunc_i64(&self) -> Option<i64> {
        if self.is_zero() {
            return Some(0);
        }
        let integer_digits = self.digits.len() as i64 + self.scale;
        if integer_digits <= 0 {
            return Some(0);
        }
        if integer_digits > 19 {
            return None;
        }
        let mut value: i128 = 0;
        for k in 0..integer_digits {
            let digit = self.digits.get(k as usize).copied().unwrap_or(0);
            value = value * 10 + i128::from(digit);
        }
        if self.negative {
            value = -value;
        }
        i64::try_from(value).ok()
    }
}

/// The digits of `n` scaled to `scale` (which is at most `n.scale`): trailing zeros appended.
fn aligned(n: &Number, scale: i64) -> Vec<u8> {
    let mut digits = n.digits.clone();
    let zeros = usize::try_from(n.scale - scale).unwrap_or(0);
    digits.resize(digits.len() + zeros, 0);
    digits
}

fn compare_magnitudes(a: &[u8], b: &[u8]) -> Ordering {
    let a = strip_leading_zeros(a);
    let b = strip_leading_zeros(b);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn strip_leading_zeros(d: &[u8]) -> &[u8] {
    let leading = d.iter().take_while(|&&x| x == 0).count();
    d.get(leading..).unwrap_or(&[])
}

fn add_magnitudes(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
    let mut carry = 0u8;
    let mut ia = a.iter().rev();
    let mut ib = b.iter().rev();
    loop {
        let (x, y) = (ia.next(), ib.next());
        if x.is_none() && y.is_none() {
            break;
        }
        let sum = x.copied().unwrap_or(0) + y.copied().unwrap_or(0) + carry;
        out.push(sum % 10);
        carry = sum / 10;
    }
    if carry > 0 {
        out.push(carry);
    }
    out.reverse();
    out
}

/// `a - b` for `a >= b`.
fn subtract_magnitudes(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len());
    let mut borrow = 0i8;
    let mut ib = b.iter().rev();
    for &x in a.iter().rev() {
        let mut d = x as i8 - borrow - ib.next().copied().unwrap_or(0) as i8;
        borrow = 0;
        if d < 0 {
            d += 10;
            borrow = 1;
        }
        out.push(d as u8);
    }
    out.reverse();
    out
}

impl Ord for Number {
    fn cmp(&self, other: &Number) -> Ordering {
        let sign = |n: &Number| {
            if n.is_zero() {
                0
            } else if n.negative {
                -1
            } else {
                1
            }
        };
        let (sa, sb) = (sign(self), sign(other));
        if sa != sb || sa == 0 {
            return sa.cmp(&sb);
        }
        // Same sign, both non-zero: digits carry no leading zeros, so the leading digit's
        // power decides first, then the digits themselves.
        let magnitude = self.adjusted().cmp(&other.adjusted()).then_with(|| self.digits.cmp(&other.digits));
        if sa < 0 { magnitude.reverse() } else { magnitude }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The text DynamoDB returns: plain decimal notation, no exponent, no trailing zeros after
/// the point, no leading `+`, and `0` for every zero.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let mut out = String::with_capacity(self.digits.len() + 8);
        if self.negative {
            out.push('-');
        }
        let digit = |d: &u8| char::from(b'0' + d);
        let len = self.digits.len() as i64;
        if self.scale >= 0 {
            out.extend(self.digits.iter().map(digit));
            out.extend(std::iter::repeat_n('0', self.scale as usize));
        } else if len + self.scale > 0 {
            let point = (len + self.scale) as usize;
            let (integer, fraction) = self.digits.split_at(point);
            out.extend(integer.iter().map(digit));
            out.push('.');
            out.extend(fraction.iter().map(digit));
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-(len + self.scale)) as usize));
            out.extend(self.digits.iter().map(digit));
        }
        f.write_str(&out)
    }
}

impl std::str::FromStr for Number {
    type Err = NumberError;
    fn from_str(s: &str) -> Result<Number, NumberError> {
        Number::parse(s)
    }
}

impl From<i64> for Number {
    fn from(v: i64) -> Number {
        let digits: Vec<u8> = v.unsigned_abs().to_string().bytes().map(|b| b - b'0').collect();
        // An i64 has at most 19 digits: always within range.
        Number::from_parts(v < 0, digits, 0).unwrap_or_else(|_| Number::zero())
    }
}

impl From<usize> for Number {
    fn from(v: usize) -> Number {
        let digits: Vec<u8> = v.to_string().bytes().map(|b| b - b'0').collect();
        Number::from_parts(false, digits, 0).unwrap_or_else(|_| Number::zero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn numbers_are_returned_in_normalised_form() {
        for (input, expected) in [
            ("3", "3"),
            ("+3", "3"),
            ("-0", "0"),
            ("0.000", "0"),
            ("0e1000", "0"),
            ("1.50", "1.5"),
            ("0001.23", "1.23"),
            (".123", "0.123"),
            ("1.", "1"),
            ("1e+5", "100000"),
            ("-17e5", "-1700000"),
            ("-17.4E37", "-174000000000000000000000000000000000000"),
            ("1e-5", "0.00001"),
            ("-7.1234", "-7.1234"),
            ("100", "100"),
            ("123.4500e2", "12345"),
            ("3.1415926535897932384626433832795028841", "3.1415926535897932384626433832795028841"),
        ] {
            assert_eq!(n(input).to_string(), expected, "{input}");
        }
        assert_eq!(n("1e125").to_string(), format!("1{}", "0".repeat(125)));
        assert_eq!(n("1e-130").to_string(), format!("0.{}1", "0".repeat(129)));
    }

    #[test]
    fn texts_that_are_not_numbers_are_refused_with_aws_messages() {
        assert_eq!(Number::parse("").unwrap_err().to_string(), "The parameter cannot be converted to a numeric value");
        for bad in ["NaN", "Infinity", "-Infinity", "-NaN", "dog", "-dog", " 1", "1 ", "1e", "e5", ".", "-", "1..2", "1e5.5", "0x10", "1,5"]
        {
            assert_eq!(
                Number::parse(bad).unwrap_err().to_string(),
                format!("The parameter cannot be converted to a numeric value: {bad}"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn magnitude_and_precision_limits_are_aws_limits() {
        for ok in [
            "1e125",
            "9.99999999e125",
            "-9.9999999999999999999999999999999999999E+125",
            "1e-130",
            "-1e-130",
            "31415926535897932384626433832795028841e30",
        ] {
            assert!(Number::parse(ok).is_ok(), "{ok}");
        }
        let overflow = "Number overflow. Attempting to store a number with magnitude larger than supported range";
        let underflow = "Number underflow. Attempting to store a number with magnitude smaller than supported range";
        let precision = "Attempting to store more than 38 significant digits in a Number";
        for (bad, message) in [
            ("1e126", overflow),
            ("-1e126", overflow),
            ("11e125", overflow),
            ("1.0e100000000", overflow),
            ("1e-131", underflow),
            ("-1e-131", underflow),
            ("0.9e-130", underflow),
            ("123456789012345678901234567890123456789", precision),
            ("-1.23456789012345678901234567890123456789", precision),
            ("3.14159265358979323846264338327950288419", precision),
        ] {
            assert_eq!(Number::parse(bad).unwrap_err().to_string(), message, "{bad}");
        }
        // Trailing zeros are not significant.
        assert!(Number::parse(&format!("1{}", "0".repeat(60))).is_ok());
    }

    #[test]
    fn comparison_is_numeric_and_exact() {
        let ordered = [
            "-1e125",
            "-100",
            "-1.5",
            "-1",
            "-0.0001",
            "0",
            "1e-130",
            "0.1",
            "0.99999999999999999999999999999999999999",
            "1",
            "1.0000000000000000000000000000000000001",
            "2",
            "10",
            "9.9e125",
        ];
        for w in ordered.windows(2) {
            assert!(n(w[0]) < n(w[1]), "{} < {}", w[0], w[1]);
            assert!(n(w[1]) > n(w[0]), "{} > {}", w[1], w[0]);
        }
        assert_eq!(n("1.50"), n("15e-1"));
        assert_eq!(n("-0"), n("0"));
        assert_eq!(n("100").cmp(&n("1e2")), Ordering::Equal);
    }

    #[test]
    fn addition_and_subtraction_are_exact() {
        for (a, b, sum) in [
            ("1", "10000000000000000000000", "10000000000000000000001"),
            ("0.1", "0.2", "0.3"),
            ("-5", "3", "-2"),
            ("5", "-5", "0"),
            ("1.25", "-0.25", "1"),
            ("99999999999999999999999999999999999999", "-1", "99999999999999999999999999999999999998"),
        ] {
            assert_eq!(n(a).checked_add(&n(b)).map(|x| x.to_string()), Ok(sum.to_string()), "{a} + {b}");
        }
        assert_eq!(n("10000000000000000000000").checked_sub(&n("1")).map(|x| x.to_string()), Ok("9999999999999999999999".to_string()));
        assert_eq!(n("3").checked_sub(&n("5")).map(|x| x.to_string()), Ok("-2".to_string()));
        assert_eq!(n("1e-130").checked_add(&n("1e-130")).map(|x| x.to_string()), Ok(format!("0.{}2", "0".repeat(129))));
    }

    #[test]
    fn arithmetic_beyond_the_range_or_precision_is_refused_as_overflow() {
        assert_eq!(n("9e125").checked_add(&n("9e125")), Err(NumberError::Overflow));
        assert_eq!(n("9e125").checked_sub(&n("-9e125")), Err(NumberError::Overflow));
        // 1e50 + 1 needs 51 significant digits; DynamoDB reports it as an overflow.
        assert_eq!(n("1e50").checked_add(&n("1")), Err(NumberError::Overflow));
        assert_eq!(n("1e50").checked_sub(&n("1")), Err(NumberError::Overflow));
    }

    /// `value / 10^scale` written in decimal, as a client would send it.
    fn decimal_text(value: i128, scale: u32) -> String {
        let digits = value.unsigned_abs().to_string();
        let sign = if value < 0 { "-" } else { "" };
        if scale == 0 {
            return format!("{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale as usize + 1);
        let (int, frac) = padded.split_at(padded.len() - scale as usize);
        format!("{sign}{int}.{frac}")
    }

    #[test]
    fn arithmetic_and_order_agree_with_exact_integers() {
        // A small deterministic generator: the test must not depend on a seed source.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..5000 {
            let a = (next() as i64) as i128 >> (next() % 60);
            let b = (next() as i64) as i128 >> (next() % 60);
            let scale = (next() % 8) as u32;
            let (x, y) = (n(&decimal_text(a, scale)), n(&decimal_text(b, scale)));
            assert_eq!(x.cmp(&y), a.cmp(&b), "{a} vs {b} at scale {scale}");
            let expected = |v: i128| n(&decimal_text(v, scale));
            assert_eq!(x.checked_add(&y), Ok(expected(a + b)), "{a} + {b} at scale {scale}");
            assert_eq!(x.checked_sub(&y), Ok(expected(a - b)), "{a} - {b} at scale {scale}");
        }
    }

    #[test]
    fn integral_part_for_ttl() {
        assert_eq!(n("1700000000").trunc_i64(), Some(1_700_000_000));
        assert_eq!(n("1700000000.9").trunc_i64(), Some(1_700_000_000));
        assert_eq!(n("-3.5").trunc_i64(), Some(-3));
        assert_eq!(n("0.5").trunc_i64(), Some(0));
        assert_eq!(n("1e30").trunc_i64(), None);
        assert_eq!(Number::from(-42i64).to_string(), "-42");
        assert_eq!(Number::from(1000usize).to_string(), "1000");
    }
}
