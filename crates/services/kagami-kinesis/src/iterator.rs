//! Shard iterators: opaque strings that name a position in one shard of one stream and
//! expire five minutes after they were issued.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// https://docs.aws.amazon.com/kinesis/latest/APIReference/API_GetShardIterator.html
pub(crate) const ITERATOR_LIFETIME_MS: i64 = 300_000;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Position {
    pub account: String,
    pub region: String,
    pub stream: String,
    /// Tells a recreated stream of the same name from the one the iterator was made for.
    pub stream_created_ms: i64,
    pub shard: u32,
    /// Records with a counter above this one come next.
    pub after: u64,
    /// AT_TIMESTAMP: records that arrived before this are skipped.
    pub not_before_ms: Option<i64>,
    pub issued_ms: i64,
}

const VERSION: &str = "kgm1";

impl Position {
    pub fn encode(&self) -> String {
        let raw = format!(
            "{VERSION}|{}|{}|{}|{}|{}|{}|{}|{}",
            self.account,
            self.region,
            self.stream,
            self.stream_created_ms,
            self.shard,
            self.after,
            self.not_before_ms.map_or_else(String::new, |t| t.to_string()),
            self.issued_ms
        );
        STANDARD.encode(raw)
    }

    pub fn decode(iterator: &str) -> Option<Position> {
        let raw = String::from_utf8(STANDARD.decode(iterator.as_bytes()).ok()?).ok()?;
        let parts: Vec<&str> = raw.split('|').collect();
        let [version, account, region, stream, created, shard, after, not_before, issued] = parts.as_slice() else { return None };
        if *version != VERSION {
            return None;
        }
        Some(Position {
            account: account.to_string(),
            region: region.to_string(),
            stream: stream.to_string(),
            stream_created_ms: created.parse().ok()?,
            shard: shard.parse().ok()?,
            after: after.parse().ok()?,
            not_before_ms: if not_before.is_empty() { None } else { Some(not_before.parse().ok()?) },
            issued_ms: issued.parse().ok()?,
        })
    }
}

/// How Java's `Date.toString` prints an instant in UTC ("Tue Dec 01 13:28:25 UTC 2026"),
/// which is how AWS's ExpiredIteratorException message prints times.
pub(crate) fn java_date(ms: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let weekday = DAYS.get(usize::try_from(days.rem_euclid(7)).unwrap_or(0)).copied().unwrap_or("Thu");
    let month = MONTHS.get(usize::try_from(m - 1).unwrap_or(0)).copied().unwrap_or("Jan");
    format!("{weekday} {month} {d:02} {:02}:{:02}:{:02} UTC {y}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Howard Hinnant's days-to-civil algorithm: (year, month 1..=12, day 1..=31).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iterators_round_trip_and_reject_garbage() {
        let p = Position {
            account: "000000000000".into(),
            region: "us-east-1".into(),
            stream: "s".into(),
            stream_created_ms: 5,
            shard: 2,
            after: 9,
            not_before_ms: Some(7),
            issued_ms: 11,
        };
        assert_eq!(Position::decode(&p.encode()), Some(p));
        assert_eq!(Position::decode("not an iterator"), None);
    }

    #[test]
    fn dates_print_like_java() {
        assert_eq!(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(java_date(1_796_131_705_000), "Tue Dec 01 13:28:25 UTC 2026");
    }
}
