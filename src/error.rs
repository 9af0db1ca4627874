//! The one error type users see. Every variant prints as one plain sentence that says what went
//! wrong, in words any face can show as it is: it never names a CLI flag or a button. What the
//! user can do about it is a structured [`Remedy`] (`Error::remedy`), which each face words its
//! own way (the CLI names its flags, the app its buttons).
//!
//! The server's own words are kept as detail where they help; a secret never is (the HTTP layer
//! never puts request bodies, headers or full URLs into an error).

use std::fmt;

use serde::{Deserialize, Serialize};

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What the user can do about an error (or about a gap in a listing). Faces word these; the core
/// never does, so no face shows another face's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "remedy", rename_all = "snake_case")]
pub enum Remedy {
    /// Sign in with a token (or app password) instead of a password; `label` names it ("access
    /// token"), `page` is where the user makes one.
    UseToken { label: String, page: Option<String> },
    /// The account's password is needed for this.
    GivePassword,
    /// A one-time code from the account's second factor is needed for this.
    GiveCode,
    /// Sign the account in to Keyward again.
    SignInAgain,
    /// Name the kind of server (detection could not tell); one of `kinds`.
    ChooseKind { kinds: Vec<String> },
    /// Say explicitly that Keyward's own session is to go too.
    IncludeOwnSession,
    /// Say explicitly that plain http to this host is acceptable.
    AllowInsecure,
    /// Say yes to a sign-in that ends another of the user's sessions (a concurrent-login limit).
    AllowEndingSession,
    /// The server does this on its own page.
    OpenPage { url: String },
    /// A site administrator must change a setting.
    AskAdmin,
    /// Try again after this many seconds.
    Wait { secs: u64 },
    /// See which accounts there are.
    ListAccounts,
    /// See the credential ids of this account.
    ListCredentials { account: String },
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Something the user typed is not usable ("not a URL", "the new name is empty").
    #[error("{0}")]
    Input(String),

    /// The URL answers, but not as a server of the kind asked for.
    #[error("{url} is not a {kind} server{}", detail_suffix(.detail))]
    NotThisKind { url: String, kind: &'static str, detail: Option<String> },

    /// No server of any known kind answers at this URL.
    #[error("could not tell what kind of server {url} is")]
    UnknownKind { url: String },

    /// Connection refused, DNS failure, TLS failure.
    #[error("cannot reach {host}: {reason}")]
    Unreachable { host: String, reason: String },

    /// The server took longer than the app waits.
    #[error("{host} did not answer within {secs} seconds")]
    Timeout { host: String, secs: u64 },

    /// The server answered with something the app cannot read (garbage, HTML instead of JSON,
    /// a page layout the parser does not know).
    #[error("{host} gave an answer Keyward cannot read ({what})")]
    BadResponse { host: String, what: String },

    /// The server answered 5xx or another error the app does not handle specially.
    #[error("{host} refused: {message}")]
    Server { host: String, message: String },

    #[error("{host} is limiting requests (rate limit); try again in {secs} seconds")]
    RateLimited { host: String, secs: u64 },

    /// The server sent a request elsewhere; Keyward does not follow it with credentials.
    #[error("{host} redirected to another host ({to}); Keyward does not follow it with your credentials")]
    Redirected { host: String, to: String },

    /// An answer larger than Keyward reads from a server.
    #[error("{host} sent an answer larger than {limit_mib} MiB; Keyward does not read it")]
    TooLarge { host: String, limit_mib: u64 },

    /// Plain http to a host that is not this computer: passwords and tokens would cross the
    /// network readable by anyone on the way.
    #[error("{host} is reached over plain http, which anyone on the network can read, passwords included")]
    Insecure { host: String },

    #[error("wrong username or password for {account}; nothing was changed")]
    WrongPassword { account: String },

    /// The server asks for a one-time code (second factor) and none was given.
    #[error("{account} asks for a one-time code from its second factor")]
    CodeNeeded { account: String },

    #[error("the one-time code for {account} was not accepted; nothing was changed")]
    WrongCode { account: String },

    /// The action needs the account's password and none was given.
    #[error("{server} asks for the account's password before it signs anything out of {account}")]
    PasswordNeeded { account: String, server: &'static str },

    /// The app's own credential no longer works.
    #[error("{account} must sign in again: the server no longer accepts Keyward's session ({why})")]
    SignInAgain { account: String, why: String },

    /// The server, or this kind of server, offers no way to do this ("Matrix has no way to rename
    /// a push registration", "this site has its web services turned off").
    #[error("{message}")]
    Unsupported { message: String, remedy: Option<Remedy> },

    /// The account lacks a permission or scope on its server.
    #[error("{message}")]
    Forbidden { message: String, remedy: Option<Remedy> },

    /// This way of signing in does not work for this account (single sign-on only, a second
    /// factor Keyward cannot answer, password sign-in turned off).
    #[error("{message}")]
    SignInMethod { message: String, remedy: Option<Remedy> },

    /// The account is deactivated on its server.
    #[error("{account} is deactivated on its server")]
    Deactivated { account: String },

    /// Keyward's own rules stopped it before anything was sent (Keyward's own session not
    /// included explicitly, a credential the server does not let go).
    #[error("{message}")]
    Refused { message: String, remedy: Option<Remedy> },

    /// A sign-in in the browser ended without the user's approval: rejected there, not finished
    /// in time, or cancelled in Keyward. Nothing was stored.
    #[error("{message}")]
    NotApproved { message: String },

    /// The action is done elsewhere: open this page.
    #[error("{message}: {url}")]
    OpenInBrowser { message: String, url: String },

    #[error("no keyring available: install or unlock GNOME Keyring or KeePassXC's Secret Service ({0})")]
    NoKeyring(String),

    #[error("the keyring did not answer within {0} seconds: is it locked, waiting for a password?")]
    KeyringTimeout(u64),

    #[error("the keyring refused: {0}")]
    Keyring(String),

    #[error("{0}")]
    Store(String),

    #[error("there is no account named {name:?}")]
    UnknownAccount { name: String },

    #[error("{account} has no credential {id:?}")]
    UnknownCredential { account: String, id: String },

    /// The account is not an administrator of its server, so it cannot see or end other users'
    /// credentials.
    #[error("{account} is not an administrator of its server, so it cannot see or revoke another user's sessions or tokens; nothing was changed")]
    NotAdmin { account: String },

    /// This kind of server offers administrators no way to see other users' credentials.
    #[error("{kind} offers administrators no way to see or revoke another user's sessions or tokens")]
    NoAdminApi { kind: &'static str },

    /// The server has no such user.
    #[error("the server of {account} has no user {user:?}")]
    UnknownUser { account: String, user: String },
}

fn detail_suffix(d: &Option<String>) -> String {
    match d {
        Some(d) => format!(" ({d})"),
        None => String::new(),
    }
}

impl Error {
    pub fn input(msg: impl fmt::Display) -> Self {
        Error::Input(msg.to_string())
    }

    pub fn bad_response(host: impl Into<String>, what: impl Into<String>) -> Self {
        Error::BadResponse { host: host.into(), what: what.into() }
    }

    /// [`Error::Unsupported`] with no remedy.
    pub fn unsupported(msg: impl fmt::Display) -> Self {
        Error::Unsupported { message: msg.to_string(), remedy: None }
    }

    /// [`Error::Forbidden`] with no remedy.
    pub fn forbidden(msg: impl fmt::Display) -> Self {
        Error::Forbidden { message: msg.to_string(), remedy: None }
    }

    /// A short machine-readable tag for JSON output and the UI ("wrong_password").
    pub fn code(&self) -> &'static str {
        match self {
            Error::Input(_) => "input",
            Error::NotThisKind { .. } => "not_this_kind",
            Error::UnknownKind { .. } => "unknown_kind",
            Error::Unreachable { .. } => "unreachable",
            Error::Timeout { .. } => "timeout",
            Error::BadResponse { .. } => "bad_response",
            Error::Server { .. } => "server",
            Error::RateLimited { .. } => "rate_limited",
            Error::Redirected { .. } => "redirected",
            Error::TooLarge { .. } => "too_large",
            Error::Insecure { .. } => "insecure",
            Error::WrongPassword { .. } => "wrong_password",
            Error::CodeNeeded { .. } => "code_needed",
            Error::WrongCode { .. } => "wrong_code",
            Error::PasswordNeeded { .. } => "password_needed",
            Error::SignInAgain { .. } => "sign_in_again",
            Error::Unsupported { .. } => "unsupported",
            Error::Forbidden { .. } => "forbidden",
            Error::SignInMethod { .. } => "sign_in_method",
            Error::Deactivated { .. } => "deactivated",
            Error::Refused { .. } => "refused",
            Error::NotApproved { .. } => "not_approved",
            Error::OpenInBrowser { .. } => "open_in_browser",
            Error::NoKeyring(_) => "no_keyring",
            Error::KeyringTimeout(_) => "keyring_timeout",
            Error::Keyring(_) => "keyring",
            Error::Store(_) => "store",
            Error::UnknownAccount { .. } => "unknown_account",
            Error::UnknownCredential { .. } => "unknown_credential",
            Error::NotAdmin { .. } => "not_admin",
            Error::NoAdminApi { .. } => "no_admin_api",
            Error::UnknownUser { .. } => "unknown_user",
        }
    }

    /// What the user can do about it, when there is something.
    pub fn remedy(&self) -> Option<Remedy> {
        match self {
            Error::UnknownKind { .. } => Some(Remedy::ChooseKind { kinds: crate::providers::kind_names() }),
            Error::RateLimited { secs, .. } => Some(Remedy::Wait { secs: *secs }),
            Error::Insecure { .. } => Some(Remedy::AllowInsecure),
            Error::CodeNeeded { .. } | Error::WrongCode { .. } => Some(Remedy::GiveCode),
            Error::PasswordNeeded { .. } => Some(Remedy::GivePassword),
            Error::SignInAgain { .. } => Some(Remedy::SignInAgain),
            Error::Unsupported { remedy, .. }
            | Error::Forbidden { remedy, .. }
            | Error::SignInMethod { remedy, .. }
            | Error::Refused { remedy, .. } => remedy.clone(),
            Error::OpenInBrowser { url, .. } => Some(Remedy::OpenPage { url: url.clone() }),
            Error::UnknownAccount { .. } => Some(Remedy::ListAccounts),
            Error::UnknownCredential { account, .. } => Some(Remedy::ListCredentials { account: account.clone() }),
            Error::NotAdmin { .. } => Some(Remedy::AskAdmin),
            _ => None,
        }
    }

    /// The page to open for this error, when there is one.
    pub fn url(&self) -> Option<&str> {
        match self {
            Error::OpenInBrowser { url, .. } => Some(url),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_read_as_one_line() {
        let errs = [
            Error::NotThisKind { url: "http://x".into(), kind: "Matrix", detail: None },
            Error::Unreachable { host: "x:1".into(), reason: "connection refused".into() },
            Error::WrongPassword { account: "alice@x".into() },
            Error::NoKeyring("no secret service".into()),
        ];
        for e in errs {
            let s = e.to_string();
            assert!(!s.contains('\n') && !s.is_empty(), "{s}");
        }
    }

    #[test]
    fn no_error_names_a_flag_and_each_remedy_is_data() {
        let errs = [
            Error::UnknownKind { url: "http://x".into() },
            Error::PasswordNeeded { account: "a@x".into(), server: "Matrix" },
            Error::CodeNeeded { account: "a@x".into() },
            Error::UnknownAccount { name: "nobody".into() },
            Error::UnknownCredential { account: "a@x".into(), id: "D".into() },
            Error::Insecure { host: "example.org".into() },
            Error::RateLimited { host: "x".into(), secs: 3 },
            Error::SignInAgain { account: "a@x".into(), why: "expired".into() },
        ];
        for e in errs {
            let s = e.to_string();
            assert!(!s.contains("--") && !s.contains('`'), "{s}");
            assert!(e.remedy().is_some(), "{s} has no remedy");
        }
        let kinds = match (Error::UnknownKind { url: "u".into() }).remedy() {
            Some(Remedy::ChooseKind { kinds }) => kinds,
            other => panic!("{other:?}"),
        };
        assert!(kinds.contains(&"matrix".to_string()));
    }
}
