//! Turns a credential into the plain-words line under it ("Element Desktop on macOS · active
//! 2 hours ago · 203.0.113.7") and its badges.
//!
//! FIRST CUT: the full wording (relative times as people say them, per-client usage, expiry)
//! replaces this.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::clients::{self, Client};
use crate::model::Credential;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Badge {
    ThisApp,
    Inactive,
    NeverUsed,
    ExpiresSoon,
    Expired,
    NoExpiry,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub client: Option<Client>,
    pub line: String,
    pub badges: Vec<Badge>,
}

pub fn summarise(c: &Credential, now: DateTime<Utc>) -> Summary {
    let client = clients::recognise(&c.hints);
    let mut parts = Vec::new();
    if let Some(cl) = &client {
        parts.push(cl.name.clone());
    }
    let mut badges = Vec::new();
    match c.last_used {
        Some(t) => parts.push(format!("active {}", relative(t, now))),
        None if c.tracks_use => {
            badges.push(Badge::NeverUsed);
            parts.push("never used".into());
        }
        None => {}
    }
    if let Some(ip) = &c.last_ip {
        parts.push(ip.clone());
    }
    if c.current {
        badges.insert(0, Badge::ThisApp);
        parts.push("this app".into());
    }
    Summary { client, line: parts.join(" · "), badges }
}

/// "5 minutes ago", "3 days ago".
pub fn relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - t).num_seconds();
    match secs {
        s if s < 60 => "just now".into(),
        s if s < 3600 => format!("{} minutes ago", s / 60),
        s if s < 86400 => format!("{} hours ago", s / 3600),
        s => format!("{} days ago", s / 86400),
    }
}
