//! Recognises the client behind a credential from every hint a server gives (user agent, device
//! name, app or OAuth client name, token note, push app id).
//!
//! FIRST CUT: only reads Element-style device names and falls back to the raw hint. The full
//! recogniser (uap-core patterns plus the project's own rules) replaces this.

use serde::{Deserialize, Serialize};

use crate::model::ClientHints;

/// What kind of program a client is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Form {
    Browser,
    DesktopApp,
    MobileApp,
    Sync,
    Script,
    Integration,
    Unknown,
}

/// The client behind a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    pub form: Form,
    /// True when a rule knew the client; false when the name is only the server's own text.
    pub recognised: bool,
}

/// The client the hints point to, if any hint says anything.
pub fn recognise(hints: &ClientHints) -> Option<Client> {
    let raw = hints
        .app_name
        .as_deref()
        .or(hints.oauth_client.as_deref())
        .or(hints.device_name.as_deref())
        .or(hints.note.as_deref())
        .or(hints.user_agent.as_deref())?
        .trim();
    if raw.is_empty() {
        return None;
    }
    Some(Client { name: raw.to_string(), version: None, os: None, device: None, form: Form::Unknown, recognised: false })
}
