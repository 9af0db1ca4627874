//! Turns a credential into the plain-words line under it and its badges:
//! "Element Desktop on macOS · active 2 hours ago · 203.0.113.7", "CI script · never used ·
//! created 4 months ago", "used by Google Calendar yesterday and by Nextcloud Android 3 days ago".
//!
//! The words follow what the server's times really mean ([`LastUsedMeaning`](crate::model::LastUsedMeaning)): "active" for a
//! request, "last refreshed" for a token refresh, "updated" for a changed record, "used today"
//! where the server records one use a day. A server that does not record use gets no words about
//! use at all, never "never used". Relative times are said as people say them, in the user's
//! time zone ([`summarise`] uses the local zone; [`summarise_at`] takes one, for tests), and every
//! time the line mentions is also in [`Summary::times`] with its absolute form.
//!
//! The parts of the line are in `lines.rs`; every wording of a time, which the faces use too, is
//! in [`time`].
//!
//! Deliberately not here: recognising clients (`clients`), and anything a face decides (colours,
//! icons, sorting). Nothing here is invented: no client, no time, no IP the credential lacks.

pub mod guide;
mod lines;
pub mod time;

use std::borrow::Cow;

use chrono::{DateTime, Duration, Local, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use self::lines::{expiry_words, latest_of, use_words, used_by_line, users_of, who, Line, INACTIVE_WORDS};
pub use self::time::{absolute, absolute_in, day_relative_in, relative, relative_in, until_in};
use crate::clients::{self, Client};
use crate::model::{Credential, CredentialKind};

/// Unused for this long: "inactive for 90+ days".
pub const INACTIVE_AFTER_DAYS: i64 = 90;
/// Expiring within this long: the "Expires soon" badge.
pub const EXPIRES_SOON_DAYS: i64 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
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
#[cfg_attr(feature = "specta", derive(specta::Type))]
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
    // For sessions and devices only: a token or app password the user named is recognised by
    // that name; a session whose program nothing identifies is worth a look.
    let device_like = matches!(c.kind, CredentialKind::Session | CredentialKind::PushRegistration);
    if device_like && !c.hints.is_empty() && !client.as_ref().is_some_and(|cl| cl.recognised) {
        badges.push(Badge::Unrecognised);
    }
    Summary { client, line: parts.0, badges, times }
}

#[cfg(test)]
mod tests {
    use chrono::FixedOffset;

    use super::*;
    use crate::model::{ClientHints, CredentialKind, LastUsedMeaning, Usage};

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
        // The title already says "CI script": the line says what it is instead of repeating it,
        // and a name the user gave is recognition enough (no Unrecognised badge).
        assert_eq!(s.line, "API token · never used · created 4 months ago");
        assert_eq!(s.badges, vec![Badge::NeverUsed]);
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

#[cfg(test)]
mod words_a_person_trusts {
    use super::*;
    use crate::model::ClientHints;
    use chrono::{Duration, Utc};

    #[test]
    fn a_token_the_user_named_is_said_by_its_kind_not_its_name_again() {
        let mut c = Credential::new("t", CredentialKind::ApiToken);
        c.name = Some("Nightly backup script".into());
        c.hints.note = c.name.clone();
        c.tracks_use = true;
        c.last_used = Some(Utc::now() - Duration::minutes(5));
        c.never_expires = true;
        let s = summarise(&c, Utc::now());
        assert_eq!(s.line, "API token · active 5 minutes ago · no expiry");
        assert!(!s.badges.contains(&Badge::Unrecognised), "a name the user gave is recognition: {:?}", s.badges);
    }

    #[test]
    fn a_session_nothing_identifies_is_unrecognised() {
        let mut c = Credential::new("s", CredentialKind::Session);
        c.hints = ClientHints { user_agent: Some("zzqq-unknown-agent/0.1".into()), ..Default::default() };
        assert!(summarise(&c, Utc::now()).badges.contains(&Badge::Unrecognised));
    }

    #[test]
    fn a_renamed_device_whose_agent_names_a_known_app_still_says_the_app() {
        let mut c = Credential::new("d", CredentialKind::Session);
        c.name = Some("Work laptop".into());
        c.hints = ClientHints {
            device_name: Some("Work laptop".into()),
            user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Element/1.11.85 Chrome/130.0.6723.191 Electron/33.2.1 Safari/537.36".into()),
            ..Default::default()
        };
        let s = summarise(&c, Utc::now());
        assert!(s.line.starts_with("Element Desktop on Linux"), "{}", s.line);
    }
}
