//! Timestamps as the wire carries them: epoch seconds with fractions, ISO 8601 and
//! RFC 822 (HTTP dates). Civil-date arithmetic is done here rather than with a date
//! crate because these three formats are all the wire needs.

use std::fmt;

/// A point in time with millisecond-or-better precision, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    pub secs: i64,
    pub nanos: u32,
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("invalid timestamp {0:?}")]
pub struct TimestampError(pub String);

impl Timestamp {
    pub fn from_secs(secs: i64) -> Self {
        Timestamp { secs, nanos: 0 }
    }

    pub fn from_millis(ms: i64) -> Self {
        Timestamp { secs: ms.div_euclid(1000), nanos: (ms.rem_euclid(1000) as u32) * 1_000_000 }
    }

    /// Saturates rather than overflows for timestamps millions of years out, which a
    /// provider may build from a client's number.
    pub fn as_millis(&self) -> i64 {
        self.secs.saturating_mul(1000).saturating_add(i64::from(self.nanos / 1_000_000))
    }

    /// Whole epoch seconds a client sent: `None` outside the years 0001..=9999, which
    /// are all the wire formats can express (and all that millisecond arithmetic on
    /// the result can hold).
    pub fn from_epoch_secs(secs: i64) -> Option<Self> {
        (MIN_EPOCH_SECS..MAX_EPOCH_SECS).contains(&secs).then_some(Timestamp { secs, nanos: 0 })
    }

    pub fn from_epoch_f64(v: f64) -> Option<Self> {
        // The bounds are exact in f64; beyond them the arithmetic below would overflow.
        if !v.is_finite() || !(MIN_EPOCH_SECS as f64..MAX_EPOCH_SECS as f64).contains(&v) {
            return None;
        }
        let secs = v.floor();
        // An f64 near today's epoch seconds carries about seven significant fraction
        // digits; rounding to microseconds keeps `.123` from becoming `.122999906`.
        let micros = ((v - secs) * 1e6).round() as u32;
        let (secs, nanos) = if micros >= 1_000_000 { (secs as i64 + 1, 0) } else { (secs as i64, micros * 1000) };
        Some(Timestamp { secs, nanos })
    }

    pub fn as_epoch_f64(&self) -> f64 {
        self.secs as f64 + f64::from(self.nanos) / 1e9
    }

    /// `2014-04-29T18:30:38Z`, or with milliseconds when there are any:
    /// `2014-04-29T18:30:38.123Z`.
    pub fn to_iso8601(&self) -> String {
        let (y, mo, d, h, mi, s) = civil(self.secs);
        let ms = self.nanos / 1_000_000;
        if ms == 0 {
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
        } else {
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
        }
    }

    /// Always with milliseconds, as several services (SQS, STS) print them.
    pub fn to_iso8601_millis(&self) -> String {
        let (y, mo, d, h, mi, s) = civil(self.secs);
        let ms = self.nanos / 1_000_000;
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
    }

    /// `Tue, 29 Apr 2014 18:30:38 GMT`.
    pub fn to_rfc822(&self) -> String {
        let (y, mo, d, h, mi, s) = civil(self.secs);
        let weekday = WEEKDAYS[(self.secs.div_euclid(86_400) + 4).rem_euclid(7) as usize];
        let month = MONTHS[(mo - 1) as usize];
        if !(0..=9999).contains(&y) {
            return format!("{weekday}, {d:02} {month} {y:04} {h:02}:{mi:02}:{s:02} GMT");
        }
        // Written digit by digit: S3 answers carry one on every GET and HEAD, and
        // `format!` with padding costs several times as much.
        let mut out = String::with_capacity(29);
        let two = |out: &mut String, n: i64| {
            out.push(char::from(b'0' + (n / 10 % 10) as u8));
            out.push(char::from(b'0' + (n % 10) as u8));
        };
        out.push_str(weekday);
        out.push_str(", ");
        two(&mut out, d);
        out.push(' ');
        out.push_str(month);
        out.push(' ');
        two(&mut out, y / 100);
        two(&mut out, y % 100);
        out.push(' ');
        two(&mut out, h);
        out.push(':');
        two(&mut out, mi);
        out.push(':');
        two(&mut out, s);
        out.push_str(" GMT");
        out
    }

    /// Epoch seconds as the JSON protocols print them: an integer when whole.
    pub fn to_epoch_string(&self) -> String {
        if self.nanos == 0 {
            self.secs.to_string()
        } else {
            let ms = self.nanos / 1_000_000;
            let mut s = format!("{}.{ms:03}", self.secs);
            while s.ends_with('0') {
                s.pop();
            }
            s
        }
    }

    /// Accepts ISO 8601 (with or without fraction, `Z` or an offset).
    pub fn parse_iso8601(s: &str) -> Result<Self, TimestampError> {
        let err = || TimestampError(s.to_string());
        let b = s.as_bytes();
        if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b't') {
            return Err(err());
        }
        let num = |r: std::ops::Range<usize>| -> Result<i64, TimestampError> {
            s.get(r)
                .filter(|x| x.bytes().all(|c| c.is_ascii_digit()))
                .and_then(|x| x.parse::<i64>().ok())
                .ok_or_else(err)
        };
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
            return Err(err());
        }
        let mut rest = &s[19..];
        let mut nanos = 0u32;
        if let Some(frac) = rest.strip_prefix('.') {
            let digits: String = frac.chars().take_while(char::is_ascii_digit).collect();
            if digits.is_empty() {
                return Err(err());
            }
            let mut padded = digits.clone();
            padded.truncate(9);
            while padded.len() < 9 {
                padded.push('0');
            }
            nanos = padded.parse().map_err(|_| err())?;
            rest = &frac[digits.len()..];
        }
        let offset = match rest {
            "Z" | "z" | "" => 0,
            _ => {
                let sign = match rest.as_bytes()[0] {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return Err(err()),
                };
                let digits: String = rest[1..].chars().filter(char::is_ascii_digit).collect();
                if digits.len() != 4 {
                    return Err(err());
                }
                let oh: i64 = digits[..2].parse().map_err(|_| err())?;
                let om: i64 = digits[2..].parse().map_err(|_| err())?;
                sign * (oh * 3600 + om * 60)
            }
        };
        let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset;
        Ok(Timestamp { secs, nanos })
    }

    /// Accepts `Tue, 29 Apr 2014 18:30:38 GMT`.
    pub fn parse_rfc822(s: &str) -> Result<Self, TimestampError> {
        let err = || TimestampError(s.to_string());
        let rest = s.split_once(", ").map_or(s, |(_, r)| r).trim();
        let parts: Vec<&str> = rest.split_whitespace().collect();
        if parts.len() < 4 {
            return Err(err());
        }
        let d: i64 = parts[0].parse().map_err(|_| err())?;
        let mo = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(parts[1])).ok_or_else(err)? as i64 + 1;
        let y: i64 = parts[2].parse().map_err(|_| err())?;
        let hms: Vec<&str> = parts[3].split(':').collect();
        if hms.len() != 3 {
            return Err(err());
        }
        let h: i64 = hms[0].parse().map_err(|_| err())?;
        let mi: i64 = hms[1].parse().map_err(|_| err())?;
        let (sec_str, frac) = hms[2].split_once('.').unwrap_or((hms[2], ""));
        let sec: i64 = sec_str.parse().map_err(|_| err())?;
        if !(0..=9999).contains(&y) || !(1..=31).contains(&d) || !(0..=23).contains(&h) || !(0..=59).contains(&mi) || !(0..=60).contains(&sec) {
            return Err(err());
        }
        let nanos = if frac.is_empty() {
            0
        } else {
            let mut p: String = frac.chars().take(9).collect();
            while p.len() < 9 {
                p.push('0');
            }
            p.parse().map_err(|_| err())?
        };
        Ok(Timestamp { secs: days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec, nanos })
    }

    /// Epoch seconds, integer or fractional, as text.
    pub fn parse_epoch(s: &str) -> Result<Self, TimestampError> {
        s.trim()
            .parse::<f64>()
            .ok()
            .and_then(Timestamp::from_epoch_f64)
            .ok_or_else(|| TimestampError(s.to_string()))
    }

    /// Tries every format, as lenient AWS front ends do for input.
    pub fn parse_any(s: &str) -> Result<Self, TimestampError> {
        Timestamp::parse_epoch(s)
            .or_else(|_| Timestamp::parse_iso8601(s))
            .or_else(|_| Timestamp::parse_rfc822(s))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_iso8601())
    }
}

/// 0001-01-01T00:00:00Z, the first instant the wire formats can express.
const MIN_EPOCH_SECS: i64 = -62_135_596_800;
/// 10000-01-01T00:00:00Z, the first instant past the last one they can express.
const MAX_EPOCH_SECS: i64 = 253_402_300_800;

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Howard Hinnant's days-from-civil algorithm.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil(secs: i64) -> (i64, i64, i64, i64, i64, i64) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, rem / 3600, (rem % 3600) / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip() {
        let t = Timestamp { secs: 1_398_796_238, nanos: 123_000_000 };
        assert_eq!(t.to_iso8601(), "2014-04-29T18:30:38.123Z");
        assert_eq!(Timestamp::from_secs(1_398_796_238).to_rfc822(), "Tue, 29 Apr 2014 18:30:38 GMT");
        assert_eq!(Timestamp::from_secs(0).to_rfc822(), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(Timestamp::from_secs(-30_610_224_000).to_rfc822(), "Wed, 01 Jan 1000 00:00:00 GMT");
        assert_eq!(Timestamp::from_secs(253_402_300_799).to_rfc822(), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(Timestamp::from_secs(253_402_300_800).to_rfc822(), "Sat, 01 Jan 10000 00:00:00 GMT");
        assert_eq!(Timestamp::parse_iso8601("2014-04-29T18:30:38.123Z").unwrap(), t);
        assert_eq!(Timestamp::parse_rfc822("Tue, 29 Apr 2014 18:30:38 GMT").unwrap().secs, 1_398_796_238);
        assert_eq!(t.to_epoch_string(), "1398796238.123");
        assert_eq!(Timestamp::parse_iso8601("2014-04-29T20:30:38+02:00").unwrap().secs, 1_398_796_238);
    }

    #[test]
    fn epoch_seconds_outside_years_1_to_9999_are_refused() {
        assert_eq!(Timestamp::from_epoch_secs(MIN_EPOCH_SECS).map(|t| t.to_iso8601()).as_deref(), Some("0001-01-01T00:00:00Z"));
        assert_eq!(
            Timestamp::from_epoch_secs(MAX_EPOCH_SECS - 1).map(|t| t.to_iso8601()).as_deref(),
            Some("9999-12-31T23:59:59Z")
        );
        assert_eq!(Timestamp::from_epoch_secs(MAX_EPOCH_SECS), None);
        assert_eq!(Timestamp::from_epoch_secs(i64::MAX), None);
        assert_eq!(Timestamp::from_epoch_secs(i64::MIN), None);
        assert_eq!(Timestamp::parse_epoch("1e300"), Err(TimestampError("1e300".into())));
    }

    #[test]
    fn millis_of_far_timestamps_saturate() {
        assert_eq!(Timestamp::from_secs(i64::MAX).as_millis(), i64::MAX);
        assert_eq!(Timestamp::from_secs(i64::MIN).as_millis(), i64::MIN);
        assert_eq!(Timestamp { secs: 1, nanos: 250_000_000 }.as_millis(), 1250);
    }

    #[test]
    fn fractional_epoch_seconds_keep_their_milliseconds() {
        let t = Timestamp::from_epoch_f64(946_845_296.123).unwrap();
        assert_eq!(t, Timestamp { secs: 946_845_296, nanos: 123_000_000 });
        assert_eq!(t.to_iso8601(), "2000-01-02T20:34:56.123Z");
    }
}
