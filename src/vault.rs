//! The OS keyring: the only place Keyward keeps a secret (Secret Service on Linux, Keychain on
//! macOS, Credential Manager on Windows).
//!
//! Every call runs off the async threads with a timeout, because a locked keyring may pop up an
//! unlock window and wait forever. When there is no keyring the error says so plainly; nothing
//! ever falls back to a file or to memory. Entries are keyed by the account's random id under the
//! service name `keyward` (or `$KEYWARD_KEYRING_SERVICE`, which tests use to stay apart).

use std::time::Duration;

use crate::error::{Error, Result};
use crate::secret::Secret;

const DEFAULT_TIMEOUT_SECS: u64 = 15;

#[derive(Clone, Debug)]
pub struct Vault {
    service: String,
    timeout: Duration,
}

impl Default for Vault {
    fn default() -> Self {
        Self::new()
    }
}

impl Vault {
    pub fn new() -> Self {
        let service = std::env::var("KEYWARD_KEYRING_SERVICE").ok().filter(|s| !s.is_empty()).unwrap_or_else(|| "keyward".into());
        let secs = std::env::var("KEYWARD_KEYRING_TIMEOUT_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_TIMEOUT_SECS);
        Vault { service, timeout: Duration::from_secs(secs) }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    /// The secret stored for `key`, or `None` when there is none.
    pub async fn get(&self, key: &str) -> Result<Option<Secret>> {
        self.call("read", key, |e| match e.get_password() {
            Ok(s) => Ok(Some(Secret::new(s))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e),
        })
        .await
    }

    pub async fn set(&self, key: &str, value: &Secret) -> Result<()> {
        let value = value.clone();
        self.call("write", key, move |e| e.set_password(value.expose())).await
    }

    /// Removes the secret; removing one that is not there is not an error.
    pub async fn delete(&self, key: &str) -> Result<()> {
        self.call("delete", key, |e| match e.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(e),
        })
        .await
    }

    /// Checks that a keyring is there and answers, before anything is changed on a server.
    pub async fn check(&self) -> Result<()> {
        self.get("keyward-availability-check").await.map(|_| ())
    }

    /// One keyring round trip (`op` is "read", "write" or "delete"), logged at debug level
    /// without the value, so the number of round trips per operation can be counted.
    async fn call<T, F>(&self, op: &'static str, key: &str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&keyring::Entry) -> std::result::Result<T, keyring::Error> + Send + 'static,
    {
        tracing::debug!(target: "keyward::vault", op, key, "keyring call");
        let service = self.service.clone();
        let user = key.to_string();
        let task = tokio::task::spawn_blocking(move || {
            let entry = keyring::Entry::new(&service, &user)?;
            f(&entry)
        });
        match tokio::time::timeout(self.timeout, task).await {
            Err(_) => Err(Error::KeyringTimeout(self.timeout.as_secs())),
            Ok(Err(join)) => Err(Error::Keyring(format!("the keyring call failed: {join}"))),
            Ok(Ok(r)) => r.map_err(keyring_error),
        }
    }
}

/// Turns the keyring crate's errors into what a user can act on.
fn keyring_error(e: keyring::Error) -> Error {
    match e {
        keyring::Error::PlatformFailure(inner) => {
            let s = inner.to_string();
            let lower = s.to_ascii_lowercase();
            if lower.contains("org.freedesktop.secrets")
                || lower.contains("serviceunknown")
                || lower.contains("unavailable")
                || lower.contains("no secret service")
                || lower.contains("dbus")
                || lower.contains("d-bus")
            {
                Error::NoKeyring(first_line(&s))
            } else {
                Error::Keyring(first_line(&s))
            }
        }
        keyring::Error::NoStorageAccess(inner) => {
            Error::NoKeyring(format!("the keyring is locked or refused access: {}", first_line(&inner.to_string())))
        }
        other => Error::Keyring(first_line(&other.to_string())),
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}
