//! What Keyward keeps on disk: the accounts, and the last listing of each account so the app can
//! show it at once on start-up. Never a secret (those live in the keyring, see `vault.rs`).
//!
//! The directory is `$KEYWARD_CONFIG_DIR`, else the platform's config directory
//! (`~/.config/keyward` on Linux). Every write is atomic: a temporary file in the same directory,
//! fsync, rename, fsync of the directory; a crash leaves the old file or the new one, never half.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{Account, Listing};

const ACCOUNTS_FILE: &str = "accounts.json";
const LISTINGS_DIR: &str = "listings";

#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
}

#[derive(Serialize, Deserialize, Default)]
struct AccountsFile {
    version: u32,
    accounts: Vec<Account>,
}

impl Store {
    /// The store in `$KEYWARD_CONFIG_DIR` or the platform config directory.
    pub fn open_default() -> Result<Self> {
        let dir = match std::env::var_os("KEYWARD_CONFIG_DIR").filter(|d| !d.is_empty()) {
            Some(d) => PathBuf::from(d),
            None => dirs::config_dir()
                .ok_or_else(|| Error::Store("cannot find a config directory: set KEYWARD_CONFIG_DIR".into()))?
                .join("keyward"),
        };
        Ok(Store::at(dir))
    }

    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Store { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn accounts(&self) -> Result<Vec<Account>> {
        Ok(self.read::<AccountsFile>(&self.dir.join(ACCOUNTS_FILE))?.map(|f| f.accounts).unwrap_or_default())
    }

    pub fn save_accounts(&self, accounts: &[Account]) -> Result<()> {
        let file = AccountsFile { version: 1, accounts: accounts.to_vec() };
        self.write(&self.dir.join(ACCOUNTS_FILE), &file)
    }

    /// The last listing saved for an account, if any.
    pub fn listing(&self, account_id: &str) -> Result<Option<Listing>> {
        self.read(&self.listing_path(account_id))
    }

    pub fn save_listing(&self, listing: &Listing) -> Result<()> {
        self.write(&self.listing_path(&listing.account_id), listing)
    }

    pub fn delete_listing(&self, account_id: &str) -> Result<()> {
        match fs::remove_file(self.listing_path(account_id)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.io_error("remove", &self.listing_path(account_id), e)),
        }
    }

    fn listing_path(&self, account_id: &str) -> PathBuf {
        let safe: String = account_id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
        self.dir.join(LISTINGS_DIR).join(format!("{safe}.json"))
    }

    fn read<T: DeserializeOwned>(&self, path: &Path) -> Result<Option<T>> {
        match fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::Store(format!("{} is damaged ({e}); move it away to start afresh", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.io_error("read", path, e)),
        }
    }

    fn write<T: Serialize>(&self, path: &Path, value: &T) -> Result<()> {
        let dir = path.parent().expect("store paths have a parent");
        create_private_dir(dir).map_err(|e| self.io_error("create", dir, e))?;
        let bytes = serde_json::to_vec_pretty(value).map_err(|e| Error::Store(format!("cannot encode {}: {e}", path.display())))?;
        let tmp = dir.join(format!(".{}.{}.tmp", path.file_name().unwrap().to_string_lossy(), rand::random::<u32>()));
        let result = (|| {
            let mut f = private_file(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            fs::rename(&tmp, path)?;
            fs::File::open(dir)?.sync_all()
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            return Err(self.io_error("write", path, e));
        }
        Ok(())
    }

    fn io_error(&self, what: &str, path: &Path, e: std::io::Error) -> Error {
        Error::Store(format!("cannot {what} {}: {e}", path.display()))
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new().write(true).create_new(true).open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn account(id: &str) -> Account {
        Account {
            id: id.into(),
            kind: crate::providers::matrix::KIND,
            base_url: "http://127.0.0.1:8008".into(),
            login: "alice".into(),
            user_id: "@alice:localhost".into(),
            label: None,
            own_credential: Some("DEV".into()),
            server_facts: vec![],
            signed_in: true,
            added: Utc::now(),
        }
    }

    #[test]
    fn accounts_round_trip_and_leave_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path().join("cfg"));
        assert!(store.accounts().unwrap().is_empty());
        store.save_accounts(&[account("a1"), account("a2")]).unwrap();
        store.save_accounts(&[account("a1")]).unwrap();
        assert_eq!(
            store.accounts().unwrap(),
            vec![account("a1")]
                .into_iter()
                .map(|mut a| {
                    a.added = store.accounts().unwrap()[0].added;
                    a
                })
                .collect::<Vec<_>>()
        );
        let names: Vec<_> = fs::read_dir(store.dir()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        assert_eq!(names, vec!["accounts.json"]);
    }

    #[test]
    fn a_damaged_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path());
        fs::write(dir.path().join("accounts.json"), b"{not json").unwrap();
        let e = store.accounts().unwrap_err().to_string();
        assert!(e.contains("accounts.json is damaged"), "{e}");
    }
}
