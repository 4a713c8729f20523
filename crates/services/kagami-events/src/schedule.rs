//! Schedule expressions: `rate(value unit)` and six-field `cron(...)` in UTC, and the
//! next instant each fires.
//! https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;
/// How far ahead a cron expression is searched for its next firing (years ranges end at 2199).
const MAX_SEARCH_DAYS: i64 = 366 * 200;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Schedule {
    /// Period in milliseconds.
    Rate(i64),
    Cron(Box<Cron>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cron {
    minutes: Vec<bool>,
    hours: Vec<bool>,
    /// Day of month; `None` for `?`.
    dom: Option<DayOfMonth>,
    months: Vec<bool>,
    /// Day of week; `None` for `?`.
    dow: Option<DayOfWeek>,
    years: Option<Vec<bool>>,
}

#[derive(Debug, Clone, PartialEq)]
enum DayOfMonth {
    Days(Vec<bool>),
    Last,
    /// `NW`: the weekday nearest day N.
    NearestWeekday(u32),
}

#[derive(Debug, Clone, PartialEq)]
enum DayOfWeek {
    /// Indexed 1 (Sunday) ..= 7 (Saturday).
    Days(Vec<bool>),
    /// `dL`: the last such weekday of the month.
    Last(u32),
    /// `d#n`: the n-th such weekday of the month.
    Nth(u32, u32),
}

pub(crate) fn parse(expr: &str) -> Option<Schedule> {
    if let Some(inner) = expr.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        let (value, unit) = inner.trim().split_once(' ')?;
        let value: i64 = value.parse().ok().filter(|v| *v > 0)?;
        let unit_ms = match (unit.trim(), value) {
            ("minute", 1) | ("minutes", 2..) => MINUTE_MS,
            ("hour", 1) | ("hours", 2..) => 60 * MINUTE_MS,
            ("day", 1) | ("days", 2..) => DAY_MS,
            _ => return None,
        };
        return Some(Schedule::Rate(value.checked_mul(unit_ms)?));
    }
    let inner = expr.strip_prefix("cron(").and_then(|r| r.strip_suffix(')'))?;
    let fields: Vec<&str> = inner.split_whitespace().collect();
    let [min, hour, dom, month, dow, year] = fields.as_slice() else { return None };
    let dom = parse_dom(dom)?;
    let dow = parse_dow(dow)?;
    // Exactly one of day-of-month and day-of-week is `?`.
    if dom.is_some() == dow.is_some() {
        return None;
    }
    Some(Schedule::Cron(Box::new(Cron {
        minutes: parse_set(min, 0, 59, &[])?,
        hours: parse_set(hour, 0, 23, &[])?,
        dom,
        months: parse_set(month, 1, 12, &MONTHS)?,
        dow,
        years: if *year == "*" { None } else { Some(parse_set(year, 1970, 2199, &[])?) },
    })))
}

const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// `*`, `n`, `a-b`, `*/s`, `a/s`, `a-b/s` and comma lists; names count from `lo`.
fn parse_set(field: &str, lo: u32, hi: u32, names: &[&str]) -> Option<Vec<bool>> {
    let mut set = vec![false; usize::try_from(hi + 1).ok()?];
    let value = |s: &str| -> Option<u32> {
        let upper = s.to_ascii_uppercase();
        if let Some(i) = names.iter().position(|n| *n == upper) {
            return Some(lo + u32::try_from(i).ok()?);
        }
        s.parse().ok().filter(|v| (lo..=hi).contains(v))
    };
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (start, end) = match range {
            "*" => (lo, hi),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                None if step > 1 => (value(r)?, hi),
                None => (value(r)?, value(r)?),
            },
        };
        if start > end {
            return None;
        }
        let mut v = start;
        while v <= end {
            set[usize::try_from(v).ok()?] = true;
            v += step;
        }
    }
    Some(set)
}

fn parse_dom(field: &str) -> Option<Option<DayOfMonth>> {
    match field {
        "?" => Some(None),
        "L" => Some(Some(DayOfMonth::Last)),
        f if f.ends_with('W') => {
            let day: u32 = f.strip_suffix('W')?.parse().ok().filter(|d| (1..=31).contains(d))?;
            Some(Some(DayOfMonth::NearestWeekday(day)))
        }
        f => Some(Some(DayOfMonth::Days(parse_set(f, 1, 31, &[])?))),
    }
}

fn parse_dow(field: &str) -> Option<Option<DayOfWeek>> {
    let day = |s: &str| -> Option<u32> { parse_set(s, 1, 7, &WEEKDAYS)?.iter().position(|b| *b).and_then(|p| u32::try_from(p).ok()) };
    match field {
        "?" => Some(None),
        f if f.contains('#') => {
            let (d, n) = f.split_once('#')?;
            let n: u32 = n.parse().ok().filter(|n| (1..=5).contains(n))?;
            Some(Some(DayOfWeek::Nth(day(d)?, n)))
        }
        f if f.len() > 1 && f.ends_with('L') => Some(Some(DayOfWeek::Last(day(f.strip_suffix('L')?)?))),
        f => Some(Some(DayOfWeek::Days(parse_set(f, 1, 7, &WEEKDAYS)?))),
    }
}

impl Schedule {
    /// The first firing strictly after `after` (epoch milliseconds); `anchor` is when a
    /// rate rule started counting.
    pub(crate) fn next_after(&self, anchor: i64, after: i64) -> Option<i64> {
        match self {
            Schedule::Rate(period) => {
                let periods = (after - anchor).div_euclid(*period) + 1;
                Some(anchor + periods.max(1) * period)
            }
            Schedule::Cron(cron) => cron.next_after(after),
        }
    }
}

impl Cron {
    fn next_after(&self, after: i64) -> Option<i64> {
        let start = (after.div_euclid(MINUTE_MS) + 1) * MINUTE_MS;
        let first_day = start.div_euclid(DAY_MS);
        for day in first_day..first_day + MAX_SEARCH_DAYS {
            if !self.day_matches(day) {
                continue;
            }
            let from_minute = if day == first_day { start.rem_euclid(DAY_MS) / MINUTE_MS } else { 0 };
            for minute_of_day in from_minute..24 * 60 {
                let (h, m) = (minute_of_day / 60, minute_of_day % 60);
                if self.hours[usize::try_from(h).ok()?] && self.minutes[usize::try_from(m).ok()?] {
                    return Some(day * DAY_MS + minute_of_day * MINUTE_MS);
                }
            }
        }
        None
    }

    fn day_matches(&self, day: i64) -> bool {
        let (y, m, d) = civil_from_days(day);
        if let Some(years) = &self.years
            && !usize::try_from(y).ok().and_then(|y| years.get(y)).copied().unwrap_or(false)
        {
            return false;
        }
        if !self.months[m as usize] {
            return false;
        }
        let last = days_in_month(y, m);
        // 1 = Sunday: day 0 (1970-01-01) was a Thursday.
        let weekday = |day: i64| -> u32 { u32::try_from((day + 4).rem_euclid(7)).unwrap_or(0) + 1 };
        let dom_ok = match &self.dom {
            None => true,
            Some(DayOfMonth::Days(days)) => days[d as usize],
            Some(DayOfMonth::Last) => d == last,
            Some(DayOfMonth::NearestWeekday(n)) => {
                let target = (*n).min(last);
                let target_day = day - i64::from(d) + i64::from(target);
                let nearest = match weekday(target_day) {
                    7 if target == 1 => target + 2,
                    7 => target - 1,
                    1 if target == last => target - 2,
                    1 => target + 1,
                    _ => target,
                };
                d == nearest
            }
        };
        let dow_ok = match &self.dow {
            None => true,
            Some(DayOfWeek::Days(days)) => days[weekday(day) as usize],
            Some(DayOfWeek::Last(w)) => weekday(day) == *w && d + 7 > last,
            Some(DayOfWeek::Nth(w, n)) => weekday(day) == *w && (d - 1) / 7 + 1 == *n,
        };
        dom_ok && dow_ok
    }
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 to (year, month 1-12, day 1-31) (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-12-01T00:00:00Z, a Tuesday.
    const DEC_1_2026: i64 = 1_796_083_200_000;

    #[test]
    fn rates() {
        assert_eq!(parse("rate(5 minutes)"), Some(Schedule::Rate(300_000)));
        assert_eq!(parse("rate(1 hour)"), Some(Schedule::Rate(3_600_000)));
        assert_eq!(parse("rate(1 minutes)"), None);
        assert_eq!(parse("rate(0 days)"), None);
        assert_eq!(parse("rate(5 weeks)"), None);
        let s = Schedule::Rate(60_000);
        assert_eq!(s.next_after(0, 0), Some(60_000));
        assert_eq!(s.next_after(0, 59_999), Some(60_000));
        assert_eq!(s.next_after(0, 60_000), Some(120_000));
    }

    #[test]
    fn crons() {
        assert_eq!(civil_from_days(DEC_1_2026 / DAY_MS), (2026, 12, 1));
        let every_10 = parse("cron(0/10 * * * ? *)").unwrap();
        assert_eq!(every_10.next_after(0, DEC_1_2026 + 1), Some(DEC_1_2026 + 600_000));
        let noon_fri = parse("cron(0 12 ? * FRI *)").unwrap();
        assert_eq!(noon_fri.next_after(0, DEC_1_2026), Some(DEC_1_2026 + 3 * DAY_MS + 12 * 3_600_000));
        let last_day = parse("cron(15 10 L * ? *)").unwrap();
        assert_eq!(last_day.next_after(0, DEC_1_2026), Some(DEC_1_2026 + 30 * DAY_MS + 10 * 3_600_000 + 15 * 60_000));
        assert!(parse("cron(0 12 * * * *)").is_none(), "day of month and day of week both set");
        assert!(parse("cron(0 12 * *)").is_none());
        assert!(parse("cron(61 12 * * ? *)").is_none());
    }
}
