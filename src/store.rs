//! What Keyward keeps on disk: the accounts, and the last listing of each account so the app can
//! show it at once on start-up. Never a secret (those live in the keyring, see `vault.rs`).
//!
//! The directory is `$KEYWARD_CONFIG_DIR`, else the platform's config directory
//! (`~/.config/keyward` on Linux). Several Keyward processes may use it at once (the app beside
//! the CLI, two CLIs in two terminals), so:
//! - every change happens under one cross-process lock (`.lock`, an OS file lock that dies with
//!   its process), and a change of the accounts is a read-modify-write inside that lock
//!   ([`Store::update_accounts`], the only way to change them): no process ever writes back a
//!   stale copy over another's change;
//! - every write is atomic: a temporary file in the same directory, fsync, rename, fsync of the
//!   directory; a crash (even `kill -9`) leaves the old file or the new one, never half, and the
//!   temporary files such a crash leaves are removed by the next write or open;
//! - [`Store::lock_account`] holds one account across processes, for a provider that must
//!   read-modify-write the account's keyring entry (a refresh token that rotates).
//!
//! Reading needs no lock: a reader sees the file before or after a rename, whole.
//!
//! Deliberately not here: secrets, and any judgement of what an account's fields mean beyond
//! "this file can be used" (a stored server address must be a URL).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{Account, Listing};

const ACCOUNTS_FILE: &str = "accounts.json";
const LISTINGS_DIR: &str = "listings";
/// The lock every change of the store is made under.
const LOCK_FILE: &str = ".lock";
/// One lock file per account, for [`Store::lock_account`].
const ACCOUNT_LOCKS_DIR: &str = "locks";
/// The longest a change waits for other processes' changes (each takes milliseconds; a busy
/// machine with many Keyward processes queued may take seconds).
const STORE_LOCK_WAIT: Duration = Duration::from_secs(30);
/// The longest a provider waits for another process to finish with an account (a token refresh:
/// one bounded HTTP exchange, with its rate-limit waits).
const ACCOUNT_LOCK_WAIT: Duration = Duration::from_secs(120);

#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
}

/// One account held exclusively by this process (see [`Store::lock_account`]); released when
/// dropped, and by the operating system when the process ends however it ends.
#[derive(Debug)]
#[must_use = "the account is held only while the guard lives"]
pub struct AccountLock {
    _file: Option<fs::File>,
}

impl AccountLock {
    /// A guard that holds nothing, for a secret no other process can see (one not yet in the
    /// keyring).
    pub(crate) fn unshared() -> Self {
        AccountLock { _file: None }
    }
}

/// The store's change lock, held while a change is made.
struct ChangeLock {
    _file: fs::File,
}

#[derive(Serialize, Deserialize, Default)]
struct AccountsFile {
    version: u32,
    accounts: Vec<Account>,
}

impl Store {
    /// The store in `$KEYWARD_CONFIG_DIR` or the platform config directory. Removes what an
    /// interrupted write left behind, when no other process is changing the store just then.
    pub fn open_default() -> Result<Self> {
        let dir = match std::env::var_os("KEYWARD_CONFIG_DIR").filter(|d| !d.is_empty()) {
            Some(d) => PathBuf::from(d),
            None => dirs::config_dir()
                .ok_or_else(|| Error::Store("cannot find a config directory: set KEYWARD_CONFIG_DIR".into()))?
                .join("keyward"),
        };
        let store = Store::at(dir);
        store.tidy_if_idle();
        Ok(store)
    }

    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Store { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The accounts, in the order they were added. A file that cannot be used (not JSON, or an
    /// account whose server address is not a URL) is an error naming the file.
    pub fn accounts(&self) -> Result<Vec<Account>> {
        let path = self.accounts_path();
        let accounts = self.read::<AccountsFile>(&path)?.map(|f| f.accounts).unwrap_or_default();
        if let Some(bad) = accounts.iter().find(|a| !usable_base_url(&a.base_url)) {
            return Err(Error::Store(format!(
                "{} is damaged (the server address of the account of {:?} is not a URL); correct it, or move the file away to start afresh",
                path.display(),
                bad.login
            )));
        }
        Ok(accounts)
    }

    /// Changes the accounts: under the store's lock, reads the file afresh, lets `f` change the
    /// list, and writes it back when `f` changed it. Concurrent changes, in this process or in
    /// another, happen one after the other, each on the result of the one before.
    pub fn update_accounts<T>(&self, f: impl FnOnce(&mut Vec<Account>) -> T) -> Result<T> {
        let _lock = self.lock_changes()?;
        let mut accounts = self.accounts()?;
        let before = accounts.clone();
        let out = f(&mut accounts);
        if accounts != before {
            self.write(&self.accounts_path(), &AccountsFile { version: 1, accounts })?;
        }
        Ok(out)
    }

    /// The last listing saved for an account, if any.
    pub fn listing(&self, account_id: &str) -> Result<Option<Listing>> {
        self.read(&self.listing_path(account_id))
    }

    pub fn save_listing(&self, listing: &Listing) -> Result<()> {
        let _lock = self.lock_changes()?;
        self.write(&self.listing_path(&listing.account_id), listing)
    }

    pub fn delete_listing(&self, account_id: &str) -> Result<()> {
        let _lock = self.lock_changes()?;
        let path = self.listing_path(account_id);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error("remove", &path, e)),
        }
    }

    /// A document of the core's own (the checkup's answers, pending changes, the history), by a
    /// relative name such as `history.json` or `watch/<account id>.json`; `None` when absent.
    pub fn doc<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>> {
        self.read(&self.doc_path(name))
    }

    /// Changes a document under the store's lock, read afresh inside it (a missing one starts
    /// as the default), so two processes recording at once lose nothing.
    pub fn update_doc<T, R>(&self, name: &str, f: impl FnOnce(&mut T) -> R) -> Result<R>
    where
        T: DeserializeOwned + Serialize + Default,
    {
        let _lock = self.lock_changes()?;
        let path = self.doc_path(name);
        let mut value: T = self.read(&path)?.unwrap_or_default();
        let out = f(&mut value);
        self.write(&path, &value)?;
        Ok(out)
    }

    pub fn delete_doc(&self, name: &str) -> Result<()> {
        let _lock = self.lock_changes()?;
        let path = self.doc_path(name);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error("remove", &path, e)),
        }
    }

    /// Each segment keeps only characters that cannot leave the directory.
    fn doc_path(&self, name: &str) -> PathBuf {
        name.split('/')
            .map(|seg| seg.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect::<String>())
            .filter(|seg| !seg.is_empty() && seg != "." && seg != "..")
            .fold(self.dir.clone(), |p, seg| p.join(seg))
    }

    /// Holds the account `account_id` exclusively across every Keyward process using this
    /// store, until the guard is dropped: for read-modify-write of the account's keyring entry.
    /// Waits (without blocking the async threads) while another process holds it, up to two
    /// minutes.
    pub async fn lock_account(&self, account_id: &str) -> Result<AccountLock> {
        Ok(self.lock_account_saying_if_waited(account_id).await?.0)
    }

    /// [`Store::lock_account`], and whether another holder had to be waited for (then what it
    /// did, such as a refresh just saved, may make this one's work unneeded).
    pub async fn lock_account_saying_if_waited(&self, account_id: &str) -> Result<(AccountLock, bool)> {
        let dir = self.dir.join(ACCOUNT_LOCKS_DIR);
        create_private_dir(&dir).map_err(|e| io_error("create", &dir, e))?;
        let path = dir.join(format!("{}.lock", safe_name(account_id)));
        let file = open_lock_file(&path)?;
        let start = Instant::now();
        let mut pause = Duration::from_millis(2);
        let mut waited = false;
        loop {
            match fs4::FileExt::try_lock(&file) {
                Ok(()) => return Ok((AccountLock { _file: Some(file) }, waited)),
                Err(fs4::TryLockError::WouldBlock) if start.elapsed() < ACCOUNT_LOCK_WAIT => {
                    waited = true;
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
                Err(fs4::TryLockError::WouldBlock) => {
                    return Err(Error::Store(format!(
                        "another Keyward process has been busy with this account for {} s ({} is locked); try again later",
                        ACCOUNT_LOCK_WAIT.as_secs(),
                        path.display()
                    )))
                }
                Err(fs4::TryLockError::Error(e)) => return Err(io_error("lock", &path, e)),
            }
        }
    }

    fn accounts_path(&self) -> PathBuf {
        self.dir.join(ACCOUNTS_FILE)
    }

    fn listing_path(&self, account_id: &str) -> PathBuf {
        self.dir.join(LISTINGS_DIR).join(format!("{}.json", safe_name(account_id)))
    }

    /// Takes the change lock (waiting for another process's change, briefly), then removes the
    /// temporary files an interrupted write left: under the lock no write is in progress.
    fn lock_changes(&self) -> Result<ChangeLock> {
        create_private_dir(&self.dir).map_err(|e| io_error("create", &self.dir, e))?;
        let path = self.dir.join(LOCK_FILE);
        let file = open_lock_file(&path)?;
        let start = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            match fs4::FileExt::try_lock(&file) {
                Ok(()) => break,
                Err(fs4::TryLockError::WouldBlock) if start.elapsed() < STORE_LOCK_WAIT => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
                Err(fs4::TryLockError::WouldBlock) => {
                    return Err(Error::Store(format!(
                        "{} is locked by another Keyward process that has not let go for {} s; try again",
                        path.display(),
                        STORE_LOCK_WAIT.as_secs()
                    )))
                }
                Err(fs4::TryLockError::Error(e)) => return Err(io_error("lock", &path, e)),
            }
        }
        self.remove_stale_temp_files();
        Ok(ChangeLock { _file: file })
    }

    /// On open: tidies up when no other process is changing the store (never waits).
    fn tidy_if_idle(&self) {
        let Ok(file) = open_lock_file(&self.dir.join(LOCK_FILE)) else { return };
        if fs4::FileExt::try_lock(&file).is_ok() {
            self.remove_stale_temp_files();
        }
    }

    /// Removes `.<name>.<n>.tmp` files in the store's directories. Only called under the change
    /// lock, so none of them belongs to a write in progress.
    fn remove_stale_temp_files(&self) {
        for dir in [self.dir.clone(), self.dir.join(LISTINGS_DIR)] {
            let Ok(entries) = fs::read_dir(&dir) else { continue };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if is_temp_name(&name) {
                    tracing::debug!(file = %name, "removing a temporary file an interrupted write left");
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
    }

    fn read<T: DeserializeOwned>(&self, path: &Path) -> Result<Option<T>> {
        match fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::Store(format!("{} is damaged ({e}); move it away to start afresh", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("read", path, e)),
        }
    }

    /// Writes `value` to `path` atomically. The caller holds the change lock.
    fn write<T: Serialize>(&self, path: &Path, value: &T) -> Result<()> {
        let dir = path.parent().unwrap_or(&self.dir);
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        create_private_dir(dir).map_err(|e| io_error("create", dir, e))?;
        let bytes = serde_json::to_vec_pretty(value).map_err(|e| Error::Store(format!("cannot encode {}: {e}", path.display())))?;
        let tmp = dir.join(format!(".{name}.{}.tmp", rand::random::<u32>()));
        let result = (|| {
            let mut f = private_file(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            fs::rename(&tmp, path)?;
            sync_dir(dir)
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            return Err(io_error("write", path, e));
        }
        Ok(())
    }
}

/// Is this the name of a temporary file of [`Store::write`] (`.accounts.json.123.tmp`)?
fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp") && name.len() > ".tmp".len() + 1
}

/// Can this stored server address be used: an http(s) URL with a host?
fn usable_base_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

/// An account id as a file name: only `[A-Za-z0-9_-]`.
fn safe_name(id: &str) -> String {
    id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::Store(format!("cannot {what} {}: {e}", path.display()))
}

fn open_lock_file(path: &Path) -> Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map_err(|e| io_error("open", path, e))
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
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

    fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        names
    }

    #[test]
    fn accounts_round_trip_and_leave_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path().join("cfg"));
        assert!(store.accounts().unwrap().is_empty());
        let (a1, a2) = (account("a1"), account("a2"));
        store.update_accounts(|accounts| accounts.extend([a1.clone(), a2.clone()])).unwrap();
        store.update_accounts(|accounts| accounts.retain(|a| a.id == "a1")).unwrap();
        assert_eq!(store.accounts().unwrap(), vec![a1]);
        assert_eq!(files_in(store.dir()), vec![".lock", "accounts.json"]);
    }

    #[test]
    fn an_update_that_changes_nothing_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path());
        store.update_accounts(|accounts| accounts.push(account("a1"))).unwrap();
        let before = fs::metadata(dir.path().join(ACCOUNTS_FILE)).unwrap().modified().unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let n = store.update_accounts(|accounts| accounts.len()).unwrap();
        assert_eq!(n, 1);
        assert_eq!(fs::metadata(dir.path().join(ACCOUNTS_FILE)).unwrap().modified().unwrap(), before);
    }

    #[test]
    fn updates_from_many_threads_each_see_the_one_before() {
        let dir = tempfile::tempdir().unwrap();
        let threads: Vec<_> = (0..16)
            .map(|i| {
                let store = Store::at(dir.path());
                std::thread::spawn(move || store.update_accounts(|accounts| accounts.push(account(&format!("t{i}")))).unwrap())
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(Store::at(dir.path()).accounts().unwrap().len(), 16);
    }

    #[test]
    fn a_damaged_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path());
        fs::write(dir.path().join("accounts.json"), b"{not json").unwrap();
        let e = store.accounts().unwrap_err().to_string();
        assert!(e.contains("accounts.json is damaged"), "{e}");
        let e = store.update_accounts(|_| ()).unwrap_err().to_string();
        assert!(e.contains("accounts.json is damaged"), "{e}");
        assert_eq!(fs::read(dir.path().join("accounts.json")).unwrap(), b"{not json", "a damaged file is left as it was");
    }

    #[test]
    fn a_stored_address_that_is_not_a_url_is_named_with_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path());
        store.update_accounts(|accounts| accounts.push(account("a1"))).unwrap();
        let path = dir.path().join(ACCOUNTS_FILE);
        let text = fs::read_to_string(&path).unwrap().replace("http://127.0.0.1:8008", "not a url");
        fs::write(&path, text).unwrap();
        let e = store.accounts().unwrap_err().to_string();
        assert!(e.contains(&path.display().to_string()) && e.contains("not a URL"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn temp_files_of_an_interrupted_write_go_at_the_next_write_and_open() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(LISTINGS_DIR)).unwrap();
        let stale = [dir.path().join(".accounts.json.1234.tmp"), dir.path().join(LISTINGS_DIR).join(".a1.json.99.tmp")];
        for p in &stale {
            fs::write(p, b"{\"half").unwrap();
        }
        let store = Store::at(dir.path());
        store.update_accounts(|accounts| accounts.push(account("a1"))).unwrap();
        assert!(stale.iter().all(|p| !p.exists()), "removed by the next write");

        let held = store.lock_changes().unwrap();
        fs::write(&stale[0], b"{\"half").unwrap();
        Store::at(dir.path()).tidy_if_idle();
        assert!(stale[0].exists(), "left alone while another process is changing the store");
        drop(held);
        Store::at(dir.path()).tidy_if_idle();
        assert!(!stale[0].exists(), "removed on open (open_default tidies this way)");
    }

    #[test]
    fn only_write_temp_names_count_as_temp_files() {
        assert!(is_temp_name(".accounts.json.42.tmp"));
        assert!(!is_temp_name("accounts.json"));
        assert!(!is_temp_name(".tmp"));
        assert!(!is_temp_name("notes.tmp"));
    }

    #[tokio::test]
    async fn an_account_lock_is_held_until_dropped_and_others_wait() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path());
        let held = store.lock_account("acc1").await.unwrap();
        let other = store.clone();
        let waiter = tokio::spawn(async move {
            let started = Instant::now();
            let _g = other.lock_account("acc1").await.unwrap();
            started.elapsed()
        });
        let _unrelated = store.lock_account("acc2").await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        drop(held);
        let waited = waiter.await.unwrap();
        assert!(waited >= Duration::from_millis(140), "the second holder waited for the first: {waited:?}");
    }
}
