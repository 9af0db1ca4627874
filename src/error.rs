//! The one error type users see. Every variant prints as one plain sentence that says what went
//! wrong and, where there is one, what to do. The server's own words are kept as detail where they
//! help; a secret never is (the HTTP layer never puts request bodies or headers into an error).

use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Something the user typed is not usable ("not a URL", "unknown account").
    #[error("{0}")]
    Input(String),

    /// The URL answers, but not as a server of the kind asked for.
    #[error("{url} is not a {kind} server{}", detail_suffix(.detail))]
    NotThisKind { url: String, kind: &'static str, detail: Option<String> },

    /// No server of any known kind answers at this URL.
    #[error("could not tell what kind of server {url} is: pass --kind (one of matrix, jupyterhub, homeassistant, wordpress, moodle, phorge, hypothesis)")]
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

    #[error("wrong username or password for {account}; nothing was changed")]
    WrongPassword { account: String },

    /// The app's own credential no longer works.
    #[error("{account} must sign in again: the server no longer accepts Keyward's session ({why})")]
    SignInAgain { account: String, why: String },

    #[error("{host} is limiting requests (rate limit); try again in {secs} seconds")]
    RateLimited { host: String, secs: u64 },

    /// The server lacks a permission or feature the action needs.
    #[error("{0}")]
    NotAllowed(String),

    /// The action is done elsewhere: open this page ("This server manages sessions on its
    /// account page: https://…").
    #[error("{message}: {url}")]
    OpenInBrowser { message: String, url: String },

    #[error("no keyring available: install/unlock GNOME Keyring or KeePassXC's Secret Service ({0})")]
    NoKeyring(String),

    #[error("the keyring did not answer within {0} seconds: is it locked, waiting for a password?")]
    KeyringTimeout(u64),

    #[error("the keyring refused: {0}")]
    Keyring(String),

    #[error("{0}")]
    Store(String),

    #[error("unknown account {name:?}: `keyward accounts` lists them")]
    UnknownAccount { name: String },

    #[error("{account} has no credential {id:?}: `keyward list {account}` shows their ids")]
    UnknownCredential { account: String, id: String },

    /// The action needs the account's password and none was given.
    #[error("{0}")]
    PasswordNeeded(String),

    // Stand-ins for the variants issue 9's core brings (replaced by core's error.rs on merge).
    #[error("{host} redirected to another host ({to}); Keyward does not follow it with your credentials")]
    Redirected { host: String, to: String },
    #[error("{host} sent an answer larger than {limit_mib} MiB; Keyward does not read it")]
    TooLarge { host: String, limit_mib: u64 },
    #[error("{host} is reached over plain http, which anyone on the network can read, passwords included")]
    Insecure { host: String },
    #[error("{message}")]
    Refused { message: String, remedy: Option<()> },
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
            Error::WrongPassword { .. } => "wrong_password",
            Error::SignInAgain { .. } => "sign_in_again",
            Error::RateLimited { .. } => "rate_limited",
            Error::NotAllowed(_) => "not_allowed",
            Error::OpenInBrowser { .. } => "open_in_browser",
            Error::NoKeyring(_) => "no_keyring",
            Error::KeyringTimeout(_) => "keyring_timeout",
            Error::Keyring(_) => "keyring",
            Error::Store(_) => "store",
            Error::UnknownAccount { .. } => "unknown_account",
            Error::UnknownCredential { .. } => "unknown_credential",
            Error::PasswordNeeded(_) => "password_needed",
            Error::Redirected { .. } => "redirected",
            Error::TooLarge { .. } => "too_large",
            Error::Insecure { .. } => "insecure",
            Error::Refused { .. } => "refused",
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
}
