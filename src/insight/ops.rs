//! The insight operations as [`Keyward`] offers them to both faces: the checkup, changes since the
//! last look, the history, the report and "whose token is this?", plus the hooks through which
//! refresh, rename and revoke keep the changes and the history up to date.
//!
//! Where things live (config directory, no secrets): `watch/<account id>.json` (pending changes
//! and the addresses seen per credential), `checkup.json` (findings called fine, thresholds),
//! `history.json` (what was done). Recording is best effort: a refresh or a revoke that worked is
//! never turned into a failure because its record could not be written (the failure is logged).

use chrono::Utc;
use futures::future::join_all;
use serde::{Deserialize, Serialize};

use super::changes::{ChangeKind, Watch};
use super::checkup::{self, Code, Dismissal, Finding, Thresholds};
use super::history::{Action, Entry, History};
use super::identify::{self, Identity};
use super::report::{AccountLine, Report};
use crate::error::{Error, Result};
use crate::model::{Account, Credential, Listing};
use crate::provider::{Identified, Proof, Revoked, Session};
use crate::providers;
use crate::secret::Secret;
use crate::service::Keyward;
use crate::summary;

const CHECKUP_DOC: &str = "checkup.json";
const HISTORY_DOC: &str = "history.json";

fn watch_doc(account_id: &str) -> String {
    format!("watch/{account_id}.json")
}

/// The checkup's remembered answers and settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CheckupState {
    #[serde(default)]
    pub dismissed: Vec<Dismissal>,
    #[serde(default)]
    pub thresholds: Thresholds,
}

/// One change as a face shows it.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeView {
    pub account: String,
    pub account_id: String,
    pub credential_id: String,
    pub change: ChangeKind,
    pub name: Option<String>,
    /// The credential's plain-words line, worded now.
    pub summary: String,
    /// One sentence: "New since you last looked: Firefox on Windows · active 2 minutes ago · 198.51.100.7".
    pub words: String,
    pub at: chrono::DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

impl Keyward {
    // ---- hooks (called by refresh, rename, revoke, remove) ----

    pub(crate) fn watch(&self, account: &Account, previous: Option<&Listing>, next: &Listing) {
        if let Err(e) = self.store().update_doc(&watch_doc(&account.id), |w: &mut Watch| w.record(previous, next)) {
            tracing::warn!(account = %account.id, "cannot keep the changes: {e}");
        }
    }

    pub(crate) fn forget_watch(&self, account: &Account) {
        let _ = self.store().delete_doc(&watch_doc(&account.id));
    }

    pub(crate) fn record_rename(&self, account: &Account, cred: &Credential, new_name: &str, done: &Result<()>) {
        self.record(vec![Entry {
            at: Utc::now(),
            account: account.name(),
            account_id: account.id.clone(),
            user: None,
            action: Action::Rename,
            credential_id: cred.id.clone(),
            name: cred.name.clone(),
            new_name: Some(new_name.to_string()),
            ok: done.is_ok(),
            error: done.as_ref().err().map(|e| e.to_string()),
        }]);
    }

    pub(crate) fn record_revokes(&self, account: &Account, listing: &Listing, results: &[Revoked], all_others: bool) {
        self.record_revokes_of(account, None, listing, results, all_others)
    }

    /// [`Self::record_revokes`] of another user's credentials (`user`), done as an administrator.
    pub(crate) fn record_revokes_of(
        &self,
        account: &Account,
        user: Option<&str>,
        listing: &Listing,
        results: &[Revoked],
        all_others: bool,
    ) {
        let entries = results
            .iter()
            .map(|r| Entry {
                at: Utc::now(),
                account: account.name(),
                account_id: account.id.clone(),
                user: user.map(str::to_string),
                action: if r.confirm_url.is_some() {
                    Action::AskedToConfirm
                } else if r.replaced {
                    Action::Replace
                } else if all_others {
                    Action::SignOutOthers
                } else {
                    Action::Revoke
                },
                credential_id: r.id.clone(),
                name: listing.credentials.iter().find(|c| c.id == r.id).and_then(|c| c.name.clone()),
                new_name: None,
                ok: r.error.is_none(),
                error: r.error.clone(),
            })
            .collect();
        self.record(entries);
    }

    fn record(&self, entries: Vec<Entry>) {
        let kept = self.store().update_doc(HISTORY_DOC, |h: &mut History| {
            for e in entries {
                h.push(e);
            }
        });
        if let Err(e) = kept {
            tracing::warn!("cannot keep the history: {e}");
        }
    }

    // ---- the operations ----

    /// The accounts named (one, or all when `None`).
    fn chosen(&self, name: Option<&str>) -> Result<Vec<Account>> {
        match name {
            Some(n) => Ok(vec![self.find(n)?]),
            None => self.accounts(),
        }
    }

    pub fn checkup_state(&self) -> Result<CheckupState> {
        Ok(self.store().doc(CHECKUP_DOC)?.unwrap_or_default())
    }

    /// The checkup over the saved listings of the accounts named (no network: refresh first).
    pub fn checkup(&self, name: Option<&str>) -> Result<Vec<Finding>> {
        let accounts = self.chosen(name)?;
        let state = self.checkup_state()?;
        let mut held = Vec::new();
        for a in &accounts {
            if let Some(l) = self.cached(a)? {
                let appeared = self.store().doc::<Watch>(&watch_doc(&a.id))?.unwrap_or_default().appeared();
                held.push((a, l, appeared));
            }
        }
        let inputs: Vec<checkup::Input> =
            held.iter().map(|(a, l, ap)| checkup::Input { account: a, listing: l, appeared: ap.as_slice() }).collect();
        Ok(checkup::findings(&inputs, &state.dismissed, &state.thresholds, Utc::now()))
    }

    /// "This is fine": the finding is not raised again until the credential changes.
    pub fn dismiss(&self, name: &str, credential_id: &str, code: Code) -> Result<Finding> {
        let account = self.find(name)?;
        let listing = self.cached(&account)?.unwrap_or_else(|| Listing {
            account_id: account.id.clone(),
            fetched: Utc::now(),
            credentials: Vec::new(),
            gaps: Vec::new(),
            account_actions: Default::default(),
        });
        let credential_id = &self.resolve_ids(&account, &listing, &[credential_id.to_string()])?[0];
        let finding =
            self.checkup(Some(&account.id))?.into_iter().find(|f| &f.credential_id == credential_id && f.code == code).ok_or_else(
                || Error::input(format!("the checkup has no {} finding for {credential_id} on {}", code.as_str(), account.name())),
            )?;
        self.store().update_doc(CHECKUP_DOC, |state: &mut CheckupState| {
            state.dismissed.retain(|d| !(d.account_id == finding.account_id && d.credential_id == finding.credential_id && d.code == code));
            state.dismissed.push(Dismissal {
                account_id: finding.account_id.clone(),
                credential_id: finding.credential_id.clone(),
                code,
                fingerprint: finding.fingerprint.clone(),
            });
        })?;
        Ok(finding)
    }

    /// The changes not seen yet of the accounts named, oldest first.
    pub fn changes(&self, name: Option<&str>) -> Result<Vec<ChangeView>> {
        let now = Utc::now();
        let mut out = Vec::new();
        for a in self.chosen(name)? {
            let w: Watch = self.store().doc(&watch_doc(&a.id))?.unwrap_or_default();
            for c in w.pending {
                let line = summary::summarise(&c.credential, now).line;
                let what = c.credential.name.clone().unwrap_or_else(|| c.credential.kind.noun().to_string());
                let words = match c.change {
                    ChangeKind::Appeared => format!("New since you last looked: {line}"),
                    ChangeKind::Disappeared => format!("Gone since you last looked: {what} ({line})"),
                    ChangeKind::NewAddress => {
                        format!("Used from a new address, {}: {line}", c.address.as_deref().unwrap_or("unknown"))
                    }
                };
                out.push(ChangeView {
                    account: a.name(),
                    account_id: a.id.clone(),
                    credential_id: c.credential.id.clone(),
                    change: c.change,
                    name: c.credential.name.clone(),
                    summary: line,
                    words,
                    at: c.at,
                    address: c.address,
                });
            }
        }
        out.sort_by_key(|c| c.at);
        Ok(out)
    }

    /// Marks the pending changes of the accounts named as seen.
    pub fn mark_changes_seen(&self, name: Option<&str>) -> Result<()> {
        for a in self.chosen(name)? {
            self.store().update_doc(&watch_doc(&a.id), |w: &mut Watch| w.pending.clear())?;
        }
        Ok(())
    }

    /// Everything done through Keyward, oldest first.
    pub fn history(&self) -> Result<Vec<Entry>> {
        Ok(self.store().doc::<History>(HISTORY_DOC)?.unwrap_or_default().entries)
    }

    /// The report for a helper: accounts, the checkup (from the saved listings), the history.
    pub fn report(&self) -> Result<Report> {
        Ok(Report {
            generated: Utc::now(),
            accounts: self.accounts()?.iter().map(AccountLine::from).collect(),
            findings: self.checkup(None)?,
            history: self.history()?,
            safe: false,
        })
    }

    /// Whose is this token? Recognised by shape, then asked only of the accounts of a kind whose
    /// shape it has. With `revoke`, revokes exactly that credential (the rules of `revoke`: never
    /// Keyward's own) and asks again to check it is dead.
    pub async fn identify(&self, token: &Secret, revoke: bool, proof: &Proof) -> Result<Identity> {
        if token.is_empty() {
            return Err(Error::input("the token is empty"));
        }
        let candidates = identify::candidates(token);
        let mut identity = Identity { candidates: candidates.iter().map(|c| c.what.to_string()).collect(), ..Default::default() };
        let Some(first) = candidates.first() else {
            identity.what = "it does not look like a token of any kind of server Keyward knows".into();
            return Ok(identity);
        };
        identity.kind = Some(first.kind);
        identity.what = first.what.to_string();
        let accounts: Vec<Account> =
            self.accounts()?.into_iter().filter(|a| a.signed_in && candidates.iter().any(|c| c.kind == a.kind)).collect();
        // What each account looked like before the token was used: asking a server about a token
        // is using it, and some servers then record that use (Synapse: the device's last seen
        // time and address), which would hide where the leaked token was really used from.
        let before: Vec<Option<Listing>> = join_all(accounts.iter().map(|a| async move {
            match self.refresh(a).await {
                Ok(l) => Some(l),
                Err(_) => self.cached(a).ok().flatten(),
            }
        }))
        .await;
        let answers = join_all(accounts.iter().map(|a| self.ask(a, token))).await;
        let mut valid_elsewhere = None;
        for ((a, answer), listing) in accounts.iter().zip(answers).zip(before) {
            let Ok(found) = answer else { continue };
            let ours = found.user_id.as_deref().is_none_or(|u| u == a.user_id);
            match (&found.credential_id, ours) {
                (Some(cred), true) => {
                    identity.kind = Some(a.kind);
                    if let Some(c) = candidates.iter().find(|c| c.kind == a.kind) {
                        identity.what = c.what.to_string();
                    }
                    identity.account = Some(a.name());
                    identity.account_id = Some(a.id.clone());
                    identity.credential_id = Some(cred.clone());
                    identity.valid = found.valid;
                    if let Some(c) = listing.as_ref().and_then(|l| l.credentials.iter().find(|c| &c.id == cred)) {
                        identity.name = c.name.clone();
                        identity.summary = Some(summary::summarise(c, Utc::now()).line);
                    }
                    break;
                }
                _ => {
                    if found.valid.is_some() {
                        valid_elsewhere = valid_elsewhere.or(found.valid);
                    }
                }
            }
        }
        if identity.account.is_none() {
            identity.valid = valid_elsewhere;
            return Ok(identity);
        }
        if revoke {
            let (Some(account_id), Some(cred)) = (identity.account_id.clone(), identity.credential_id.clone()) else { return Ok(identity) };
            let report = self.revoke(&account_id, std::slice::from_ref(&cred), proof, false).await?;
            if !report.all_ok() {
                let why = report.results.iter().find_map(|r| r.error.clone()).unwrap_or_default();
                return Err(Error::Server { host: self.find(&account_id)?.host(), message: why });
            }
            if let Some(page) = report.results.iter().find_map(|r| r.confirm_url.clone()) {
                identity.confirm_url = Some(page);
                return Ok(identity);
            }
            let account = self.find(&account_id)?;
            let after = self.ask(&account, token).await.ok();
            identity.valid = after.and_then(|f| f.valid).or(Some(false));
            identity.revoked = identity.valid != Some(true);
        }
        Ok(identity)
    }

    async fn ask(&self, account: &Account, token: &Secret) -> Result<Identified> {
        let provider = providers::get(account.kind)?;
        provider.identify(&Session::new(account, self.http(), self.vault()), token).await
    }
}
