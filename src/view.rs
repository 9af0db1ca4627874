//! What the faces show, in one shape for both: the CLI's `--json` output and the desktop app's
//! data are these same rows. Built from the model plus the summary; no provider knowledge here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::clients::Client;
use crate::model::{Account, AccountActions, CredentialKind, Fact, Gap, Kind, LastUsedMeaning, Listing, Usage};
use crate::provider::Capabilities;
use crate::summary::{self, Badge, Moment};

/// One credential as a face shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CredentialRow {
    /// The account's name (label or `<login>@<host:port>`).
    pub account: String,
    pub account_id: String,
    pub account_kind: Kind,
    pub id: String,
    pub kind: CredentialKind,
    pub name: Option<String>,
    /// The recognised client's display name ("Element Desktop"), if any.
    pub client: Option<String>,
    pub client_info: Option<Client>,
    /// The plain-words line.
    pub summary: String,
    pub badges: Vec<Badge>,
    /// Every time the summary speaks of, relative and absolute, in the user's time zone.
    pub times: Vec<Moment>,
    pub created: Option<DateTime<Utc>>,
    pub last_used: Option<DateTime<Utc>>,
    pub last_used_meaning: LastUsedMeaning,
    pub last_ip: Option<String>,
    pub expires: Option<DateTime<Utc>>,
    pub current: bool,
    pub can_rename: bool,
    pub can_revoke: bool,
    pub revoke_needs_password: bool,
    pub revoke_warning: Option<String>,
    pub why_not: Option<String>,
    pub manage_url: Option<String>,
    pub restrictions: Vec<String>,
    pub usage: Vec<Usage>,
    pub details: Vec<Fact>,
}

/// The rows of one listing, in the order the provider gave them.
pub fn rows(account: &Account, listing: &Listing, now: DateTime<Utc>) -> Vec<CredentialRow> {
    listing
        .credentials
        .iter()
        .map(|c| {
            let s = summary::summarise(c, now);
            CredentialRow {
                account: account.name(),
                account_id: account.id.clone(),
                account_kind: account.kind,
                id: c.id.clone(),
                kind: c.kind,
                name: c.name.clone(),
                client: s.client.as_ref().map(|cl| cl.name.clone()),
                client_info: s.client,
                summary: s.line,
                badges: s.badges,
                times: s.times,
                created: c.created,
                last_used: c.last_used,
                last_used_meaning: c.last_used_meaning,
                last_ip: c.last_ip.clone(),
                expires: c.expires,
                current: c.current,
                can_rename: c.actions.rename && account.signed_in,
                can_revoke: c.actions.revoke && account.signed_in,
                revoke_needs_password: c.actions.revoke_needs_password,
                revoke_warning: c.actions.revoke_warning.clone(),
                why_not: c.actions.why_not.clone(),
                manage_url: c.manage_url.clone(),
                restrictions: c.restrictions.clone(),
                usage: c.usage.clone(),
                details: c.details.clone(),
            }
        })
        .collect()
}

/// One account as a face shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccountView {
    pub id: String,
    pub name: String,
    pub label: Option<String>,
    pub kind: Kind,
    pub kind_name: String,
    pub base_url: String,
    pub login: String,
    pub user_id: String,
    pub signed_in: bool,
    pub server_facts: Vec<Fact>,
    /// When the shown listing was fetched (None: never listed yet).
    pub fetched: Option<DateTime<Utc>>,
    pub gaps: Vec<Gap>,
    pub account_actions: AccountActions,
    pub capabilities: CapabilitiesView,
}

/// The provider's capabilities, as data.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CapabilitiesView {
    pub sign_in: Vec<String>,
    pub token_label: String,
    pub token_page: Option<String>,
    pub rename: bool,
    pub revoke: bool,
    pub revoke_many: bool,
    pub revoke_all_others: bool,
    pub revoke_needs_password: bool,
    pub sign_out: bool,
}

impl From<&Capabilities> for CapabilitiesView {
    fn from(c: &Capabilities) -> Self {
        CapabilitiesView {
            sign_in: c.sign_in.iter().map(|m| serde_json::to_value(m).unwrap().as_str().unwrap().to_string()).collect(),
            token_label: c.token_label.to_string(),
            token_page: c.token_page.map(str::to_string),
            rename: c.rename,
            revoke: c.revoke,
            revoke_many: c.revoke_many,
            revoke_all_others: c.revoke_all_others,
            revoke_needs_password: c.revoke_needs_password,
            sign_out: c.sign_out,
        }
    }
}

/// One kind of server as the add-account form shows it: its name and what it can do.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KindView {
    pub kind: Kind,
    pub display_name: String,
    pub capabilities: CapabilitiesView,
}

impl From<&Capabilities> for KindView {
    fn from(c: &Capabilities) -> Self {
        KindView { kind: c.kind, display_name: c.display_name.to_string(), capabilities: c.into() }
    }
}

/// An account together with the rows of one of its listings (the cached one, or a fresh one):
/// everything a face needs to draw that account.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccountListing {
    pub account: AccountView,
    pub rows: Vec<CredentialRow>,
}

pub fn account_listing(account: &Account, listing: Option<&Listing>, caps: &Capabilities, now: DateTime<Utc>) -> AccountListing {
    AccountListing { account: account_view(account, listing, caps), rows: listing.map(|l| rows(account, l, now)).unwrap_or_default() }
}

pub fn account_view(account: &Account, listing: Option<&Listing>, caps: &Capabilities) -> AccountView {
    AccountView {
        id: account.id.clone(),
        name: account.name(),
        label: account.label.clone(),
        kind: account.kind,
        kind_name: account.kind.display_name().to_string(),
        base_url: account.base_url.clone(),
        login: account.login.clone(),
        user_id: account.user_id.clone(),
        signed_in: account.signed_in,
        server_facts: account.server_facts.clone(),
        fetched: listing.map(|l| l.fetched),
        gaps: listing.map(|l| l.gaps.clone()).unwrap_or_default(),
        account_actions: listing.map(|l| l.account_actions.clone()).unwrap_or_default(),
        capabilities: caps.into(),
    }
}
