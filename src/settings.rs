//! The core's own settings, shared by every face and every process: `settings.json` in the
//! store's directory, written atomically under the store's lock like every other document
//! ([`crate::store::Store::update_doc`]). Never a secret of an account.
//!
//! - `safe_mode`: screen-share-safe mode ([`crate::mask`]) is on until switched off; the app
//!   shows its banner and masks everything, and the CLI masks its output as with `--safe`.
//! - `mask_key`: the random key masked ids are made with (made the first time one is needed), so
//!   a masked id is the same in every process and maps back to its credential. Losing it only
//!   changes how ids look when masked.
//! - `keep_watching`: the app keeps a background watch ([`Keyward::background_watch`]) after its
//!   window closes, with a tray icon, and tells each new sign-in in a desktop notification; off
//!   until the user switches it on.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::mask::{mask_id, Masker};
use crate::model::{Account, Listing};
use crate::service::Keyward;

const SETTINGS_DOC: &str = "settings.json";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Settings {
    #[serde(default)]
    pub safe_mode: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mask_key: Option<String>,
    #[serde(default)]
    pub keep_watching: bool,
}

impl Keyward {
    pub fn settings(&self) -> Result<Settings> {
        Ok(self.store().doc(SETTINGS_DOC)?.unwrap_or_default())
    }

    /// Is screen-share-safe mode on (the persisted setting)?
    pub fn safe_mode(&self) -> Result<bool> {
        Ok(self.settings()?.safe_mode)
    }

    /// Switches screen-share-safe mode on or off for every face, until switched again.
    pub fn set_safe_mode(&self, on: bool) -> Result<bool> {
        self.store().update_doc(SETTINGS_DOC, |s: &mut Settings| {
            s.safe_mode = on;
            if s.mask_key.is_none() {
                s.mask_key = Some(new_key());
            }
        })?;
        Ok(on)
    }

    /// Does the app keep watching (and notifying) after its window closes?
    pub fn keep_watching(&self) -> Result<bool> {
        Ok(self.settings()?.keep_watching)
    }

    /// Switches the background watch on or off, for every process of the app.
    pub fn set_keep_watching(&self, on: bool) -> Result<bool> {
        self.store().update_doc(SETTINGS_DOC, |s: &mut Settings| s.keep_watching = on)?;
        Ok(on)
    }

    fn mask_key(&self) -> Result<Vec<u8>> {
        if let Some(k) = self.settings()?.mask_key {
            return Ok(k.into_bytes());
        }
        let k = self.store().update_doc(SETTINGS_DOC, |s: &mut Settings| s.mask_key.get_or_insert_with(new_key).clone())?;
        Ok(k.into_bytes())
    }

    /// A masker for one view, knowing the user's own accounts and every id of their saved
    /// listings (so an id named in free text, an error say, is masked too).
    pub fn masker(&self) -> Result<Masker> {
        let accounts = self.accounts()?;
        let mut m = Masker::new(&self.mask_key()?, &accounts);
        for a in &accounts {
            if let Some(l) = self.cached(a)? {
                for c in &l.credentials {
                    m.id(&a.id, &c.id);
                }
            }
        }
        Ok(m)
    }

    /// `value` masked when `safe` (the CLI's `--safe`) or the persisted mode says so.
    pub fn shown<T: crate::mask::Mask>(&self, value: T, safe: bool) -> Result<T> {
        match self.face_masker(safe)? {
            Some(mut m) => Ok(value.mask(&mut m)),
            None => Ok(value),
        }
    }

    /// The masker one answer of a face goes through: `Some` when `safe` (the CLI's `--safe`) or
    /// the persisted mode says so, `None` when what is shown is shown as it is. A settings file
    /// that cannot be read is an error, never "off": a face must not show in clear what the
    /// user asked to hide.
    pub fn face_masker(&self, safe: bool) -> Result<Option<Masker>> {
        if safe || self.safe_mode()? {
            Ok(Some(self.masker()?))
        } else {
            Ok(None)
        }
    }

    /// The credential ids meant by `ids`, some of which may be masked (`•••xxxxxx`, from a face in
    /// screen-share-safe mode): each masked one is matched against the ids of `listing` (the
    /// account's current one). A masked id that matches none is an unknown credential.
    pub(crate) fn resolve_ids(&self, account: &Account, listing: &Listing, ids: &[String]) -> Result<Vec<String>> {
        if !ids.iter().any(|i| i.contains('•')) {
            return Ok(ids.to_vec());
        }
        let key = self.mask_key()?;
        ids.iter()
            .map(|id| {
                if !id.contains('•') {
                    return Ok(id.clone());
                }
                listing
                    .credentials
                    .iter()
                    .find(|c| mask_id(&key, &account.id, &c.id) == id.trim())
                    .map(|c| c.id.clone())
                    .ok_or_else(|| Error::UnknownCredential { account: account.name(), id: id.clone() })
            })
            .collect()
    }
}

fn new_key() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
