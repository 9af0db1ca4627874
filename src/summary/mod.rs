//! Turns a credential into the plain-words line under it and its badges:
//! "Element Desktop on macOS · active 2 hours ago · 203.0.113.7", "CI script · never used ·
//! created 4 months ago", "used by Google Calendar yesterday and by Nextcloud Android 3 days ago".
//!
//! The words follow what the server's times really mean ([`LastUsedMeaning`]): "active" for a
//! request, "last refreshed" for a token refresh, "updated" for a changed record, "used today"
//! where the server records one use a day. A server that does not record use gets no words about
//! use at all, never "never used". Relative times are said as people say them, in the user's
//! time zone ([`summarise`] uses the local zone; [`summarise_at`] takes one, for tests), and every
//! time the line mentions is also in [`Summary::times`] with its absolute form.
//!
//! Deliberately not here: recognising clients (`clients.rs`), and anything a face decides (colours,
//! icons, sorting). Nothing here is invented: no client, no time, no IP the credential lacks.

use std::borrow::Cow;

use chrono::{DateTime, Datelike, Duration, Local, TimeZone, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::clients::{self, Client};
use crate::model::{Credential, LastUsedMeaning};

/// Unused for this long: "inactive for 90+ days".
pub const INACTIVE_AFTER_DAYS: i64 = 90;
/// Expiring within this long: the "Expires soon" badge.
pub const EXPIRES_SOON_DAYS: i64 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Badge {
    ThisApp,
    Inactive,
    NeverUsed,
    ExpiresSoon,
    Expired,
    NoExpiry,
    /// The server named a client that no rule knows (or named none at all although it gave hints).
    Unrecognised,
}

/// A time the line speaks of, in both forms ("2 hours ago" beside "22 Nov 2026, 14:05").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moment {
    /// "Last active", "Last refreshed", "Updated", "Last used", "Created", "Expires", "Expired",
    /// or "Used by <client>".
    pub label: Cow<'static, str>,
    pub at: DateTime<Utc>,
    pub relative: String,
    pub absolute: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub client: Option<Client>,
    pub line: String,
    pub badges: Vec<Badge>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub times: Vec<Moment>,
}

/// The summary in the user's local time zone.
pub fn summarise(c: &Credential, now: DateTime<Utc>) -> Summary {
    summarise_at(c, now, &Local)
}

/// The summary with relative days and absolute times in `tz`.
pub fn summarise_at<Tz: TimeZone>(c: &Credential, now: DateTime<Utc>, tz: &Tz) -> Summary
where
    Tz::Offset: std::fmt::Display,
{
    let hinted = clients::recognise(&c.hints);
    let users = users_of(c);
    let mut parts = Line::default();
    let mut badges = Vec::with_capacity(3);
    let mut times = Vec::new();

    if users.len() > 1 {
        if c.current {
            parts.push("this app");
        }
        parts.push(&used_by_line(&users, now, tz, &mut times));
        let latest = users.iter().filter_map(|u| u.last_used).max();
        if latest.is_some_and(|t| now - t >= Duration::days(INACTIVE_AFTER_DAYS)) {
            badges.push(Badge::Inactive);
            parts.push(INACTIVE_WORDS);
        }
    } else {
        let only = users.first();
        who(c, hinted.as_ref().or_else(|| only.and_then(|u| u.client.as_ref())), &mut parts);
        if c.current {
            parts.push("this app");
        }
        let last_used = latest_of(c.last_used, only.and_then(|u| u.last_used));
        let ip = c.last_ip.as_deref().or_else(|| only.and_then(|u| u.ip.as_deref()));
        use_words(c, last_used, ip, now, tz, &mut parts, &mut badges, &mut times);
    }
    expiry_words(c, now, tz, &mut parts, &mut badges, &mut times);

    let client = hinted.or_else(|| users.into_iter().find_map(|u| u.client));
    if c.current {
        badges.insert(0, Badge::ThisApp);
    }
    if !c.hints.is_empty() && !client.as_ref().is_some_and(|cl| cl.recognised) {
        badges.push(Badge::Unrecognised);
    }
    Summary { client, line: parts.0, badges, times }
}

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

// ---- the parts of the line ----

/// One client that used the credential, from the server's per-client records.
struct User {
    name: String,
    client: Option<Client>,
    last_used: Option<DateTime<Utc>>,
    ip: Option<String>,
}

/// The distinct clients in the credential's usage, most recent first.
fn users_of(c: &Credential) -> Vec<User> {
    let mut users: Vec<User> = Vec::new();
    for u in &c.usage {
        let client = clients::recognise(&u.hints);
        let name = client.as_ref().map_or_else(|| "an unknown client".to_string(), |cl| cl.name.clone());
        match users.iter_mut().find(|x| x.name == name) {
            Some(x) => {
                if u.last_used > x.last_used {
                    x.last_used = u.last_used;
                    x.ip = u.ip.clone();
                }
            }
            None => users.push(User { name, client, last_used: u.last_used, ip: u.ip.clone() }),
        }
    }
    users.sort_by_key(|u| std::cmp::Reverse(u.last_used));
    users
}

/// "used by Google Calendar yesterday, by Thunderbird 2 days ago and by curl 3 weeks ago".
fn used_by_line<Tz: TimeZone>(users: &[User], now: DateTime<Utc>, tz: &Tz, times: &mut Vec<Moment>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    const NAMED: usize = 3;
    let mut pieces: Vec<String> = users
        .iter()
        .take(NAMED)
        .map(|u| match u.last_used {
            Some(t) => {
                let rel = relative_in(t, now, tz);
                let words = format!("by {} {rel}", u.name);
                times.push(moment(Cow::Owned(format!("Used by {}", u.name)), t, rel, tz));
                words
            }
            None => format!("by {}", u.name),
        })
        .collect();
    if users.len() > NAMED {
        pieces.push(format!("by {} more", plural((users.len() - NAMED) as i64, "other client")));
    }
    let last = pieces.pop().unwrap_or_default();
    if pieces.is_empty() {
        format!("used {last}")
    } else {
        format!("used {} and {last}", pieces.join(", "))
    }
}

/// The client's label, else the credential's own name, else the kind's noun ("API token").
fn who(c: &Credential, client: Option<&Client>, line: &mut Line) {
    match (client, c.name.as_deref().map(str::trim).filter(|n| !n.is_empty())) {
        (Some(cl), _) => line.push(&cl.label()),
        (None, Some(n)) => line.push(n),
        (None, None) => line.push(&capitalised(c.kind.noun())),
    }
}

/// The line being written: parts joined by " · ".
#[derive(Default)]
struct Line(String);

impl Line {
    fn push(&mut self, part: &str) {
        self.sep();
        self.0.push_str(part);
    }

    /// Two words as one part ("active" and "2 hours ago").
    fn push2(&mut self, a: &str, b: &str) {
        self.sep();
        self.0.push_str(a);
        self.0.push(' ');
        self.0.push_str(b);
    }

    fn sep(&mut self) {
        if self.0.is_empty() {
            self.0.reserve(64);
        } else {
            self.0.push_str(" · ");
        }
    }
}

const INACTIVE_WORDS: &str = "inactive for 90+ days";

/// "active 2 hours ago · 203.0.113.7", "never used · created 4 months ago",
/// "inactive for 90+ days · last active in March", or just "created …" where use is not recorded.
#[allow(clippy::too_many_arguments)]
fn use_words<Tz: TimeZone>(
    c: &Credential,
    last_used: Option<DateTime<Utc>>,
    ip: Option<&str>,
    now: DateTime<Utc>,
    tz: &Tz,
    parts: &mut Line,
    badges: &mut Vec<Badge>,
    times: &mut Vec<Moment>,
) where
    Tz::Offset: std::fmt::Display,
{
    match last_used {
        Some(t) => {
            let meaning = c.last_used_meaning;
            let rel = match meaning {
                LastUsedMeaning::UsedDay => day_relative_in(t, now, tz),
                _ => relative_in(t, now, tz),
            };
            let inactive = meaning != LastUsedMeaning::Modified && now - t >= Duration::days(INACTIVE_AFTER_DAYS);
            if inactive {
                badges.push(Badge::Inactive);
                parts.push(INACTIVE_WORDS);
                parts.push2(last_words(meaning), &rel);
            } else {
                parts.push2(recent_words(meaning), &rel);
            }
            times.push(moment(Cow::Borrowed(last_label(meaning)), t, rel, tz));
            if let Some(ip) = ip.filter(|i| !i.is_empty()) {
                parts.push(ip);
            }
        }
        None => {
            if c.tracks_use {
                badges.push(Badge::NeverUsed);
                parts.push("never used");
            }
            if let Some(created) = c.created {
                let rel = relative_in(created, now, tz);
                parts.push2("created", &rel);
                times.push(moment(Cow::Borrowed("Created"), created, rel, tz));
            }
        }
    }
}

/// "expires in 3 days", "expired", "no expiry", or nothing when the server does not say.
fn expiry_words<Tz: TimeZone>(
    c: &Credential,
    now: DateTime<Utc>,
    tz: &Tz,
    parts: &mut Line,
    badges: &mut Vec<Badge>,
    times: &mut Vec<Moment>,
) where
    Tz::Offset: std::fmt::Display,
{
    match c.expires {
        Some(t) if t <= now => {
            times.push(moment(Cow::Borrowed("Expired"), t, relative_in(t, now, tz), tz));
            badges.push(Badge::Expired);
            parts.push("expired");
        }
        Some(t) => {
            let rel = until_in(t, now, tz);
            if t - now <= Duration::days(EXPIRES_SOON_DAYS) {
                badges.push(Badge::ExpiresSoon);
            }
            parts.push2("expires", &rel);
            times.push(moment(Cow::Borrowed("Expires"), t, rel, tz));
        }
        None if c.never_expires => {
            badges.push(Badge::NoExpiry);
            parts.push("no expiry");
        }
        None => {}
    }
}

fn recent_words(m: LastUsedMeaning) -> &'static str {
    match m {
        LastUsedMeaning::Used => "active",
        LastUsedMeaning::Refreshed => "last refreshed",
        LastUsedMeaning::Modified => "updated",
        LastUsedMeaning::UsedDay => "used",
    }
}

fn last_words(m: LastUsedMeaning) -> &'static str {
    match m {
        LastUsedMeaning::Used => "last active",
        LastUsedMeaning::Refreshed => "last refreshed",
        LastUsedMeaning::Modified => "updated",
        LastUsedMeaning::UsedDay => "last used",
    }
}

fn last_label(m: LastUsedMeaning) -> &'static str {
    match m {
        LastUsedMeaning::Used => "Last active",
        LastUsedMeaning::Refreshed => "Last refreshed",
        LastUsedMeaning::Modified => "Updated",
        LastUsedMeaning::UsedDay => "Last used",
    }
}

fn moment<Tz: TimeZone>(label: Cow<'static, str>, at: DateTime<Utc>, relative: String, tz: &Tz) -> Moment
where
    Tz::Offset: std::fmt::Display,
{
    Moment { label, at, relative, absolute: absolute_in(at, tz) }
}

fn latest_of(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    a.max(b)
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

fn plural(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(f) => f.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::FixedOffset;

    use super::*;
    use crate::model::{ClientHints, CredentialKind, Usage};

    fn now() -> DateTime<Utc> {
        "2026-11-22T14:05:00Z".parse().unwrap()
    }

    fn utc() -> FixedOffset {
        FixedOffset::east_opt(0).unwrap()
    }

    fn ago(d: Duration) -> DateTime<Utc> {
        now() - d
    }

    fn session(name: &str) -> Credential {
        let mut c = Credential::new("D1", CredentialKind::Session);
        c.name = Some(name.into());
        c.hints = ClientHints { device_name: Some(name.into()), ..Default::default() };
        c.tracks_use = true;
        c
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

    #[test]
    fn active_session_names_client_place_time_and_ip() {
        let mut c = session("Element Desktop: macOS");
        c.last_used = Some(ago(Duration::hours(2)));
        c.last_ip = Some("203.0.113.7".into());
        let s = summarise_at(&c, now(), &utc());
        assert_eq!(s.line, "Element Desktop on macOS · active 2 hours ago · 203.0.113.7");
        assert!(s.badges.is_empty());
        assert_eq!(s.times[0].absolute, "22 Nov 2026, 12:05");
    }

    #[test]
    fn never_used_token_says_when_it_was_made() {
        let mut c = Credential::new("7", CredentialKind::ApiToken);
        c.name = Some("CI script".into());
        c.hints.note = Some("CI script".into());
        c.tracks_use = true;
        c.created = Some(ago(Duration::days(122)));
        let s = summarise_at(&c, now(), &utc());
        assert_eq!(s.line, "CI script · never used · created 4 months ago");
        assert_eq!(s.badges, vec![Badge::NeverUsed, Badge::Unrecognised]);
    }

    #[test]
    fn untracked_use_is_not_called_never_used() {
        let mut c = Credential::new("s1", CredentialKind::Session);
        c.created = Some(ago(Duration::days(3)));
        let s = summarise_at(&c, now(), &utc());
        assert_eq!(s.line, "Session · created 3 days ago");
        assert!(s.badges.is_empty());
    }

    #[test]
    fn the_words_follow_what_last_used_means() {
        let mut c = Credential::new("r1", CredentialKind::Session);
        c.hints.oauth_client = Some("https://home-assistant.io/android".into());
        c.last_used = Some(ago(Duration::minutes(30)));
        c.last_used_meaning = LastUsedMeaning::Refreshed;
        assert_eq!(summarise_at(&c, now(), &utc()).line, "Home Assistant for Android · last refreshed 30 minutes ago");
        c.last_used_meaning = LastUsedMeaning::UsedDay;
        assert_eq!(summarise_at(&c, now(), &utc()).line, "Home Assistant for Android · used today");
        c.last_used_meaning = LastUsedMeaning::Modified;
        c.last_used = Some(ago(Duration::days(200)));
        let s = summarise_at(&c, now(), &utc());
        assert_eq!(s.line, "Home Assistant for Android · updated in May");
        assert!(!s.badges.contains(&Badge::Inactive));
    }

    #[test]
    fn old_use_is_inactive() {
        let mut c = session("Element X on Pixel 8");
        c.last_used = Some(ago(Duration::days(100)));
        let s = summarise_at(&c, now(), &utc());
        assert_eq!(s.line, "Element X on Pixel 8 · inactive for 90+ days · last active 3 months ago");
        assert_eq!(s.badges, vec![Badge::Inactive]);
    }

    #[test]
    fn expiry_is_said_and_badged() {
        let mut c = Credential::new("t", CredentialKind::ApiToken);
        c.expires = Some(now() + Duration::days(3));
        let s = summarise_at(&c, now(), &utc());
        assert_eq!((s.line.as_str(), s.badges.as_slice()), ("API token · expires in 3 days", &[Badge::ExpiresSoon][..]));
        c.expires = Some(now() - Duration::days(1));
        let s = summarise_at(&c, now(), &utc());
        assert_eq!((s.line.as_str(), s.badges.as_slice()), ("API token · expired", &[Badge::Expired][..]));
        c.expires = None;
        c.never_expires = true;
        let s = summarise_at(&c, now(), &utc());
        assert_eq!((s.line.as_str(), s.badges.as_slice()), ("API token · no expiry", &[Badge::NoExpiry][..]));
        c.never_expires = false;
        assert_eq!(summarise_at(&c, now(), &utc()).line, "API token");
    }

    #[test]
    fn the_apps_own_credential_says_so() {
        let mut c = session("Keyward on laptop");
        c.current = true;
        c.last_used = Some(ago(Duration::seconds(5)));
        let s = summarise_at(&c, now(), &utc());
        assert_eq!(s.line, "Keyward · this app · active just now");
        assert_eq!(s.badges, vec![Badge::ThisApp]);
    }

    #[test]
    fn per_client_use_names_each_client() {
        let mut c = Credential::new("p", CredentialKind::AppPassword);
        c.tracks_use = true;
        let usage = |ua: &str, d: Duration| Usage {
            hints: ClientHints { user_agent: Some(ua.into()), ..Default::default() },
            last_used: Some(ago(d)),
            ip: Some("198.51.100.4".into()),
        };
        c.usage = vec![
            usage("Mozilla/5.0 (Android) Nextcloud-android/3.27.0", Duration::days(3)),
            usage("Google-Calendar-Importer", Duration::hours(26)),
            usage("Mozilla/5.0 (Android) Nextcloud-android/3.26.0", Duration::days(5)),
        ];
        let s = summarise_at(&c, now(), &utc());
        assert_eq!(s.line, "used by Google Calendar yesterday and by Nextcloud Android 3 days ago");
        assert_eq!(s.client.unwrap().name, "Google Calendar");
        c.usage.truncate(1);
        assert_eq!(summarise_at(&c, now(), &utc()).line, "Nextcloud Android · active 3 days ago · 198.51.100.4");
    }
}
