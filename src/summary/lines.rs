//! The parts of a credential's line, each in plain words: who ("Element Desktop on macOS", else
//! the credential's own name, else its kind's noun), how it was used ("active 2 hours ago",
//! "never used", "used by Google Calendar yesterday and by curl 3 weeks ago"), and its expiry
//! ("expires in 3 days", "no expiry"), with the badges and [`Moment`]s that go with them.
//!
//! Deliberately not here: how a time is worded (`time.rs`), and which parts a line has in which
//! order (`summarise_at` in `mod.rs`).

use std::borrow::Cow;

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::time::{absolute_in, day_relative_in, plural, relative_in, until_in};
use super::{Badge, Moment, EXPIRES_SOON_DAYS, INACTIVE_AFTER_DAYS};
use crate::clients::{self, Client};
use crate::model::{Credential, LastUsedMeaning};

/// One client that used the credential, from the server's per-client records.
pub(super) struct User {
    name: String,
    pub(super) client: Option<Client>,
    pub(super) last_used: Option<DateTime<Utc>>,
    pub(super) ip: Option<String>,
}

/// The distinct clients in the credential's usage, most recent first.
pub(super) fn users_of(c: &Credential) -> Vec<User> {
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
pub(super) fn used_by_line<Tz: TimeZone>(users: &[User], now: DateTime<Utc>, tz: &Tz, times: &mut Vec<Moment>) -> String
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
/// Who uses it: the recognised client; else what kind of thing it is. The credential's own name
/// is never repeated here — faces show it as the title above the line.
pub(super) fn who(c: &Credential, client: Option<&Client>, line: &mut Line) {
    let name = c.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    match client {
        Some(cl) if cl.recognised || name.is_none_or(|n| !cl.name.trim().eq_ignore_ascii_case(n)) => line.push(&cl.label()),
        _ => line.push(&capitalised(c.kind.noun())),
    }
}

/// The line being written: parts joined by " · ".
#[derive(Default)]
pub(super) struct Line(pub(super) String);

impl Line {
    pub(super) fn push(&mut self, part: &str) {
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

pub(super) const INACTIVE_WORDS: &str = "inactive for 90+ days";

/// "active 2 hours ago · 203.0.113.7", "never used · created 4 months ago",
/// "inactive for 90+ days · last active in March", or just "created …" where use is not recorded.
#[allow(clippy::too_many_arguments)]
pub(super) fn use_words<Tz: TimeZone>(
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
pub(super) fn expiry_words<Tz: TimeZone>(
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

pub(super) fn latest_of(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    a.max(b)
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(f) => f.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
