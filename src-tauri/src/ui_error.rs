//! An error as the web view gets it: the core's stable code, its one plain sentence, and what the
//! user can do about it as a structured [`Remedy`], which the UI words with its own buttons. The
//! core's sentences never name a CLI flag; the tests below hold every error the app can receive
//! to that.

use keyward::error::Remedy;
use keyward::Error;
use serde::Serialize;

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
        UiError { code: e.code().to_string(), message: e.to_string(), remedy: e.remedy() }
    }
}

impl UiError {
    /// The error with what screen-share-safe mode hides masked (its sentence and its remedy's
    /// pages); the code stays.
    pub fn masked(e: Error, m: &mut keyward::mask::Masker) -> Self {
        use keyward::mask::Mask;
        UiError { code: e.code().to_string(), message: m.text(&e.to_string()), remedy: e.remedy().map(|r| r.mask(m)) }
    }
}

pub type Answer<T> = Result<T, UiError>;

#[cfg(test)]
mod tests {
    use std::path::Path;

    use keyward::error::Remedy;
    use keyward::Error;

    use super::UiError;

    /// A CLI flag: two dashes and a letter ("--password-stdin").
    fn names_a_flag(text: &str) -> bool {
        text.as_bytes().windows(3).any(|w| w[0] == b'-' && w[1] == b'-' && w[2].is_ascii_alphabetic())
    }

    /// Every kind of error the core makes, with the words its code puts in them.
    fn every_error() -> Vec<Error> {
        let remedies = || {
            [
                None,
                Some(Remedy::UseToken { label: "access token".into(), page: Some("https://matrix.example.org/account".into()) }),
                Some(Remedy::GivePassword),
                Some(Remedy::AskAdmin),
                Some(Remedy::OpenPage { url: "https://moodle.example.org/user/managetoken.php".into() }),
            ]
        };
        let mut errors = vec![
            Error::input("the new name is empty"),
            Error::NotThisKind { url: "https://x.example".into(), kind: "Matrix", detail: Some("no /_matrix/client/versions".into()) },
            Error::UnknownKind { url: "https://x.example".into() },
            Error::Unreachable { host: "x.example:443".into(), reason: "connection refused".into() },
            Error::Timeout { host: "x.example:443".into(), secs: 15 },
            Error::bad_response("x.example:443", "not JSON"),
            Error::Server { host: "x.example:443".into(), message: "500 Internal Server Error".into() },
            Error::RateLimited { host: "x.example:443".into(), secs: 30 },
            Error::Redirected { host: "x.example:443".into(), to: "evil.example:443".into() },
            Error::TooLarge { host: "x.example:443".into(), limit_mib: 8 },
            Error::Insecure { host: "x.example:80".into() },
            Error::WrongPassword { account: "alice@x.example".into() },
            Error::CodeNeeded { account: "alice@x.example".into() },
            Error::WrongCode { account: "alice@x.example".into() },
            Error::PasswordNeeded { account: "alice@x.example".into(), server: "Matrix" },
            Error::SignInAgain { account: "alice@x.example".into(), why: "the token expired".into() },
            Error::Deactivated { account: "alice@x.example".into() },
            Error::OpenInBrowser {
                message: "this server manages sessions on its account page".into(),
                url: "https://x.example/account".into(),
            },
            Error::NoKeyring("no secret service".into()),
            Error::KeyringTimeout(20),
            Error::Keyring("locked".into()),
            Error::Store("the accounts file is damaged".into()),
            Error::UnknownAccount { name: "bob".into() },
            Error::UnknownCredential { account: "alice@x.example".into(), id: "DEV1".into() },
        ];
        for remedy in remedies() {
            errors.push(Error::Unsupported { message: "Matrix has no way to rename a push registration".into(), remedy: remedy.clone() });
            errors.push(Error::Forbidden { message: "the account lacks the scope".into(), remedy: remedy.clone() });
            errors.push(Error::SignInMethod { message: "this account signs in with single sign-on only".into(), remedy: remedy.clone() });
            errors.push(Error::Refused { message: "DEV1 is Keyward's own session".into(), remedy });
        }
        errors
    }

    #[test]
    fn no_error_the_app_receives_names_a_cli_flag() {
        for e in every_error() {
            let sent = serde_json::to_string(&UiError::from(e)).unwrap();
            assert!(!names_a_flag(&sent), "the app would show a CLI flag: {sent}");
            assert!(!sent.contains('\n'), "one line: {sent}");
        }
    }

    #[test]
    fn an_error_carries_its_code_and_its_remedy_as_data() {
        let sent = serde_json::to_value(UiError::from(Error::PasswordNeeded { account: "alice@x".into(), server: "Matrix" })).unwrap();
        assert_eq!(sent["code"], "password_needed");
        assert_eq!(sent["remedy"], serde_json::json!({ "remedy": "give_password" }));
        let sent = serde_json::to_value(UiError::from(Error::UnknownKind { url: "https://x.example".into() })).unwrap();
        assert_eq!(sent["remedy"]["remedy"], "choose_kind");
        assert!(sent["remedy"]["kinds"].as_array().unwrap().iter().any(|k| k == "matrix"));
    }

    /// The texts the core sends that no error above covers (gaps, notes, warnings, why-nots, the
    /// messages providers build): every string literal in the core outside the CLI. The CLI
    /// (`src/main.rs`) words remedies with its flags; nothing else may.
    #[test]
    fn no_text_in_the_core_names_a_cli_flag() {
        let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("../src");
        let mut offenders = Vec::new();
        let mut files = vec![core.clone()];
        while let Some(p) = files.pop() {
            if p.is_dir() {
                files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") || p == core.join("main.rs") {
                continue;
            }
            for (n, line) in std::fs::read_to_string(&p).unwrap().lines().enumerate() {
                if line.trim_start().starts_with("//") {
                    continue;
                }
                for literal in line.split('"').skip(1).step_by(2) {
                    if names_a_flag(literal) {
                        offenders.push(format!("{}:{}: {literal}", p.strip_prefix(&core).unwrap().display(), n + 1));
                    }
                }
            }
        }
        assert!(offenders.is_empty(), "core text that the app would show names a CLI flag:\n{}", offenders.join("\n"));
    }
}
