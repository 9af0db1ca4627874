//! The dates Phorge prints on its panels, read back into UTC.
//!
//! Phorge prints times for people, in the viewing user's own time zone (a setting), and drops the
//! year within 30 days of now: `Sun, Nov 22, 1:01 PM` and `Tue, Dec 22` near now, `Nov 22 2026,
//! 1:01 PM` and `Dec 22 2026` further away (`phutil_date_format()`), with the user's time format
//! (`1:01 PM` or `13:01`). Two rows five minutes apart can use both forms. A date without a year
//! is given the year that puts it nearest to now; a date without a time (the Expires of a
//! session) stands for the end of that day, so a session that expires today is never shown as
//! expired already.
//!
//! Deliberately not here: guessing a zone. Without the user's zone there is no UTC time, and the
//! caller keeps the page's words instead.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use regex::Regex;

use crate::net::web::local_to_utc;

/// A date (and maybe a time) as a panel prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Printed {
    weekday: Option<Weekday>,
    month: u32,
    day: u32,
    year: Option<i32>,
    time: Option<NaiveTime>,
}

fn printed(text: &str) -> Option<Printed> {
    let re = Regex::new(
        r"^(?:(Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{1,2})(?: (\d{4}))?(?:, (.+))?$",
    )
    .expect("a valid regex");
    let c = re.captures(text.trim())?;
    let weekday = c.get(1).and_then(|w| w.as_str().parse::<Weekday>().ok());
    let month =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].iter().position(|m| *m == &c[2])? as u32 + 1;
    let time = match c.get(5) {
        Some(t) => Some(clock(t.as_str())?),
        None => None,
    };
    Some(Printed { weekday, month, day: c[3].parse().ok()?, year: c.get(4).and_then(|y| y.as_str().parse().ok()), time })
}

/// `1:01 PM` (Phorge's default `g:i A`) or `13:01` (`H:i`).
fn clock(text: &str) -> Option<NaiveTime> {
    let t = text.trim();
    NaiveTime::parse_from_str(t, "%I:%M %p").or_else(|_| NaiveTime::parse_from_str(t, "%H:%M")).ok()
}

/// The day a printed date stands for (its own year, else the year that puts it nearest now) and
/// that day at `time`, in UTC.
fn pick(p: Printed, time: NaiveTime, zone: &str, now: DateTime<Utc>) -> Option<(NaiveDate, DateTime<Utc>)> {
    let years = match p.year {
        Some(y) => vec![y],
        None => vec![now.year() - 1, now.year(), now.year() + 1],
    };
    years
        .into_iter()
        .filter_map(|y| NaiveDate::from_ymd_opt(y, p.month, p.day))
        // Without a year, a weekday that does not fit is another year's date.
        .filter(|d| p.year.is_some() || p.weekday.is_none_or(|w| d.weekday() == w))
        .filter_map(|d| local_to_utc(NaiveDateTime::new(d, time), zone).map(|t| (d, t)))
        .min_by_key(|(_, t)| (*t - now).num_seconds().abs())
}

/// A date and time (`Sun, Nov 22, 1:01 PM`, `Nov 22 2026, 1:01 PM`) in UTC.
pub fn datetime(text: &str, zone: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let p = printed(text)?;
    pick(p, p.time?, zone, now).map(|(_, t)| t)
}

/// A date without a time (`Tue, Dec 22`, `Dec 22 2026`): the last second of that day, in UTC.
pub fn end_of_day(text: &str, zone: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let p = printed(text)?;
    if p.time.is_some() {
        return None;
    }
    let noon = NaiveTime::from_hms_opt(12, 0, 0)?;
    let (day, _) = pick(p, noon, zone, now)?;
    // The next local midnight (a day can last 23 or 25 hours), less one second.
    local_to_utc(NaiveDateTime::new(day.succ_opt()?, NaiveTime::MIN), zone).map(|m| m - Duration::seconds(1))
}

/// A date column and a time column (the activity log's `Sun, Nov 22` + `1:06 PM`) in UTC.
pub fn date_and_time(date: &str, time: &str, zone: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let p = printed(date)?;
    if p.time.is_some() {
        return None;
    }
    pick(p, clock(time)?, zone, now).map(|(_, t)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// The captures' clock: 2026-11-22 13:04 UTC.
    fn capture_now() -> DateTime<Utc> {
        utc("2026-11-22T13:04:00Z")
    }

    #[test]
    fn near_dates_without_a_year_take_the_nearest_year() {
        let now = capture_now();
        assert_eq!(datetime("Sun, Nov 22, 1:01 PM", "UTC", now), Some(utc("2026-11-22T13:01:00Z")));
        assert_eq!(datetime("Mon, Nov 23, 1:02 PM", "UTC", now), Some(utc("2026-11-23T13:02:00Z")));
        // Early January seen from late December belongs to the next year.
        let new_year = utc("2026-12-30T10:00:00Z");
        assert_eq!(datetime("Fri, Jan 1, 9:00 AM", "UTC", new_year), Some(utc("2027-01-01T09:00:00Z")));
    }

    #[test]
    fn both_expiry_forms_of_one_panel_read_the_same_way() {
        // sessions-panel-two-date-forms.html: two sessions five minutes apart.
        let now = utc("2026-11-22T13:06:30Z");
        assert_eq!(end_of_day("Tue, Dec 22", "UTC", now), Some(utc("2026-12-22T23:59:59Z")));
        assert_eq!(end_of_day("Dec 22 2026", "UTC", now), Some(utc("2026-12-22T23:59:59Z")));
        assert_eq!(datetime("Dec 22 2026, 1:06 PM", "UTC", now), Some(utc("2026-12-22T13:06:00Z")));
    }

    #[test]
    fn the_users_zone_and_time_format_are_honoured() {
        let now = capture_now();
        assert_eq!(datetime("Sun, Nov 22, 2:01 PM", "Europe/Berlin", now), Some(utc("2026-11-22T13:01:00Z")));
        assert_eq!(datetime("Sun, Nov 22, 14:01", "Europe/Berlin", now), Some(utc("2026-11-22T13:01:00Z")));
        assert_eq!(date_and_time("Sun, Nov 22", "1:06 PM", "UTC", now), Some(utc("2026-11-22T13:06:00Z")));
        // Sydney is 11 hours ahead in November: its Nov 23 ends at 12:59:59 UTC.
        assert_eq!(end_of_day("Mon, Nov 23", "Australia/Sydney", now), Some(utc("2026-11-23T12:59:59Z")));
    }

    #[test]
    fn unknown_words_and_zones_give_nothing() {
        let now = capture_now();
        for t in ["Never", "Expired", "", "Sun, Nov 22", "yesterday", "Nov 31 2026, 1:00 PM", "Sun, Nov 22, 25:00"] {
            assert_eq!(datetime(t, "UTC", now), None, "{t}");
        }
        assert_eq!(end_of_day("Sun, Nov 22, 1:01 PM", "UTC", now), None);
        assert_eq!(datetime("Sun, Nov 22, 1:01 PM", "Nowhere/Atlantis", now), None);
    }
}
