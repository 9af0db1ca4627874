//! Every wording of a time that Keyward shows, in one place, so that the CLI, the summary lines
//! and the desktop app say times the same way: a past time as people say it ("5 minutes ago",
//! "yesterday", "in March"), a past day ("today"), a future time ("in 3 days", "tomorrow"), and
//! the absolute form beside them ("22 Nov 2026, 14:05"). Days are counted in the user's time zone
//! (the local one, or one given, for tests).
//!
//! Deliberately not here: what a time means (active, refreshed, created: `lines.rs`), and any
//! locale other than English.

use chrono::{DateTime, Datelike, Local, TimeZone, Timelike, Utc};

/// "5 minutes ago", "yesterday", "in March", in the local zone.
pub fn relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    relative_in(t, now, &Local)
}

/// "22 Nov 2026, 14:05" in the local zone.
pub fn absolute(t: DateTime<Utc>) -> String {
    absolute_in(t, &Local)
}

/// "22 Nov 2026, 14:05" in `tz`.
pub fn absolute_in<Tz: TimeZone>(t: DateTime<Utc>, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let local = t.with_timezone(tz).naive_local();
    let mut s = String::with_capacity(20);
    push_number(&mut s, local.day(), 1);
    s.push(' ');
    s.push_str(&MONTHS[local.month0() as usize][..3]);
    s.push(' ');
    push_number(&mut s, local.year().unsigned_abs(), 4);
    s.push_str(", ");
    push_number(&mut s, local.hour(), 2);
    s.push(':');
    push_number(&mut s, local.minute(), 2);
    s
}

/// A past time as people say it: "just now", "5 minutes ago", "2 hours ago", "yesterday",
/// "3 days ago", "2 weeks ago", "4 months ago", "in March", "last year", "3 years ago".
pub fn relative_in<Tz: TimeZone>(t: DateTime<Utc>, now: DateTime<Utc>, tz: &Tz) -> String {
    let secs = (now - t).num_seconds();
    if secs < 60 {
        return "just now".into();
    }
    if secs < 3600 {
        return format!("{} ago", plural(secs / 60, "minute"));
    }
    let days = calendar_days(t, now, tz);
    if days == 0 || (days == 1 && secs < 6 * 3600) {
        return format!("{} ago", plural((secs / 3600).max(1), "hour"));
    }
    days_ago(t, now, days, tz)
}

/// A past time at day granularity: "today", "yesterday", "3 days ago", "in March".
pub fn day_relative_in<Tz: TimeZone>(t: DateTime<Utc>, now: DateTime<Utc>, tz: &Tz) -> String {
    match calendar_days(t, now, tz) {
        d if d <= 0 => "today".into(),
        d => days_ago(t, now, d, tz),
    }
}

/// A future time: "in 5 minutes", "in 3 hours", "tomorrow", "in 3 days", "in 2 weeks",
/// "in 4 months", "in 2 years".
pub fn until_in<Tz: TimeZone>(t: DateTime<Utc>, now: DateTime<Utc>, tz: &Tz) -> String {
    let secs = (t - now).num_seconds();
    if secs < 60 {
        return "in under a minute".into();
    }
    if secs < 3600 {
        return format!("in {}", plural(secs / 60, "minute"));
    }
    let days = calendar_days(now, t, tz);
    if days == 0 || (days == 1 && secs < 6 * 3600) {
        return format!("in {}", plural((secs / 3600).max(1), "hour"));
    }
    let whole = (t - now).num_days().max(days);
    match whole {
        1 => "tomorrow".into(),
        d if d < 14 => format!("in {d} days"),
        d if d < 60 => format!("in {}", plural(d / 7, "week")),
        d if d < 365 => format!("in {}", plural(((d as f64) / 30.44).round().max(2.0) as i64, "month")),
        d => format!("in {}", plural(d / 365, "year")),
    }
}

/// Whole calendar days from `earlier` to `later` in `tz` (0 on the same day).
fn calendar_days<Tz: TimeZone>(earlier: DateTime<Utc>, later: DateTime<Utc>, tz: &Tz) -> i64 {
    let a = earlier.with_timezone(tz).date_naive();
    let b = later.with_timezone(tz).date_naive();
    (b - a).num_days()
}

/// The words for a past day `days` calendar days back (at least 1).
fn days_ago<Tz: TimeZone>(t: DateTime<Utc>, now: DateTime<Utc>, days: i64, tz: &Tz) -> String {
    match days {
        1 => "yesterday".into(),
        d if d < 14 => format!("{d} days ago"),
        d if d < 60 => format!("{} ago", plural(d / 7, "week")),
        d if d < 183 => format!("{} ago", plural(((d as f64) / 30.44).round().max(2.0) as i64, "month")),
        _ => {
            let (then, today) = (t.with_timezone(tz), now.with_timezone(tz));
            match today.year() - then.year() {
                0 => format!("in {}", MONTHS[then.month0() as usize]),
                1 => "last year".into(),
                y => format!("{y} years ago"),
            }
        }
    }
}

/// Appends `n` with at least `width` digits (zero-padded), without the formatting machinery.
fn push_number(s: &mut String, n: u32, width: usize) {
    let mut digits = [b'0'; 10];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let start = i.min(digits.len() - width.min(digits.len()));
    s.extend(digits[start..].iter().map(|&d| d as char));
}

const MONTHS: [&str; 12] =
    ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

pub(super) fn plural(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, FixedOffset};

    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-22T14:05:00Z".parse().unwrap()
    }

    fn utc() -> FixedOffset {
        FixedOffset::east_opt(0).unwrap()
    }

    fn ago(d: Duration) -> DateTime<Utc> {
        now() - d
    }

    #[test]
    fn relative_times_are_said_as_people_say_them() {
        let tz = utc();
        let said = |d: Duration| relative_in(ago(d), now(), &tz);
        assert_eq!(said(Duration::seconds(20)), "just now");
        assert_eq!(said(Duration::minutes(1)), "1 minute ago");
        assert_eq!(said(Duration::minutes(5)), "5 minutes ago");
        assert_eq!(said(Duration::hours(2)), "2 hours ago");
        assert_eq!(said(Duration::hours(20)), "yesterday");
        assert_eq!(said(Duration::days(3)), "3 days ago");
        assert_eq!(said(Duration::days(20)), "2 weeks ago");
        assert_eq!(said(Duration::days(120)), "4 months ago");
        assert_eq!(relative_in("2026-03-10T10:00:00Z".parse().unwrap(), now(), &tz), "in March");
        assert_eq!(relative_in("2025-06-10T10:00:00Z".parse().unwrap(), now(), &tz), "last year");
        assert_eq!(relative_in("2023-06-10T10:00:00Z".parse().unwrap(), now(), &tz), "3 years ago");
    }

    #[test]
    fn yesterday_depends_on_the_users_time_zone() {
        // 23:30 UTC yesterday is 08:30 today in Tokyo.
        let t: DateTime<Utc> = "2026-11-21T23:30:00Z".parse().unwrap();
        let later: DateTime<Utc> = "2026-11-22T13:00:00Z".parse().unwrap();
        assert_eq!(relative_in(t, later, &utc()), "yesterday");
        assert_eq!(relative_in(t, later, &FixedOffset::east_opt(9 * 3600).unwrap()), "13 hours ago");
        assert_eq!(day_relative_in(t, later, &FixedOffset::east_opt(9 * 3600).unwrap()), "today");
    }

    #[test]
    fn absolute_times_are_day_month_year_and_clock() {
        assert_eq!(absolute_in(now(), &utc()), "22 Nov 2026, 14:05");
        assert_eq!(absolute_in(now(), &FixedOffset::east_opt(3600).unwrap()), "22 Nov 2026, 15:05");
        assert_eq!(absolute_in("2026-03-05T09:07:00Z".parse().unwrap(), &utc()), "5 Mar 2026, 09:07");
        assert_eq!(absolute_in("2026-12-31T23:00:00Z".parse().unwrap(), &FixedOffset::east_opt(3600).unwrap()), "1 Jan 2027, 00:00");
    }
}
