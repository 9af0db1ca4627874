//! The history of what was done through Keyward: every rename and revoke, with the account, the
//! credential, when, and how it ended. Kept locally so the user (or the person helping them) can
//! see what was cleaned up; never a secret — only ids, names and one-sentence results.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Entries kept; the oldest go first beyond this.
pub const MAX_ENTRIES: usize = 5_000;

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Rename,
    Revoke,
    /// A revoke that made the server replace the credential with a new value.
    Replace,
    /// "Sign out all other sessions".
    SignOutOthers,
    /// Sent to the server's own page to be confirmed there (Matrix next-gen auth): not gone yet.
    AskedToConfirm,
}

impl Action {
    pub fn past_tense(self) -> &'static str {
        match self {
            Action::Rename => "renamed",
            Action::Revoke => "revoked",
            Action::Replace => "replaced",
            Action::SignOutOthers => "signed out (all other sessions)",
            Action::AskedToConfirm => "sent to the server's page to confirm",
        }
    }
}

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub at: DateTime<Utc>,
    pub account: String,
    pub account_id: String,
    /// The other user whose credential it was, when an administrator acted on it; `None` for
    /// the account's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    pub action: Action,
    pub credential_id: String,
    /// The credential's name when it was acted on (for a rename: the name before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// For a rename: the new name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
    pub ok: bool,
    /// Why it did not work, in one sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Entry {
    /// How it ended, in a word or the server's sentence (unescaped: each face escapes it as its
    /// format needs): "done", "asked" for a sign-out left to be confirmed on the server's page.
    pub fn result(&self) -> &str {
        match (self.ok, self.action) {
            (true, Action::AskedToConfirm) => "asked",
            (true, _) => "done",
            (false, _) => self.error.as_deref().unwrap_or("failed"),
        }
    }
}

/// The history file's shape.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct History {
    #[serde(default)]
    pub entries: Vec<Entry>,
}

impl History {
    pub fn push(&mut self, e: Entry) {
        self.entries.push(e);
        if self.entries.len() > MAX_ENTRIES {
            let extra = self.entries.len() - MAX_ENTRIES;
            self.entries.drain(..extra);
        }
    }
}
