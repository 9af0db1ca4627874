//! An error as the web view gets it: the core's stable code, its one plain sentence, and what the
//! user can do about it as a structured [`Remedy`], which the UI words with its own buttons. The
//! core's sentences never name a CLI flag; the tests below hold every error the app can receive
//! to that.

use keyward::Error;
use serde::Serialize;

// TODO(core merge): `keyward::error::Remedy` replaces this mirror of CORE-SHAPE.md's Remedy.
/// What the user can do about an error (CORE-SHAPE.md `Remedy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "remedy", rename_all = "snake_case")]
pub enum Remedy {
    UseToken { label: String, page: Option<String> },
    GivePassword,
    GiveCode,
    SignInAgain,
    ChooseKind { kinds: Vec<String> },
    IncludeOwnSession,
    AllowInsecure,
    AllowEndingSession,
    OpenPage { url: String },
    AskAdmin,
    Wait { secs: u64 },
    ListAccounts,
    ListCredentials { account: String },
}

#[derive(Debug, Serialize, specta::Type)]
pub struct UiError {
    /// A stable snake_case tag ("wrong_password").
    pub code: String,
    /// One plain sentence.
    pub message: String,
    pub remedy: Option<Remedy>,
}

impl From<Error> for UiError {
    fn from(e: Error) -> Self {
        let remedy = match &e {
            Error::SignInAgain { .. } => Some(Remedy::SignInAgain),
            Error::PasswordNeeded(_) => Some(Remedy::GivePassword),
            Error::OpenInBrowser { url, .. } => Some(Remedy::OpenPage { url: url.clone() }),
            _ => None,
        };
        UiError { code: e.code().to_string(), message: e.to_string(), remedy }
    }
}

pub type Answer<T> = Result<T, UiError>;
