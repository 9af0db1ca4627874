//! The shapes every face and every provider agree on: an [`Account`] the app signed in to, and the
//! [`Credential`]s (sessions, devices, tokens, app passwords, push registrations, keys) that can get
//! into it.
//!
//! Fields a server does not give stay `None`; nothing here is ever invented. Nothing here holds a
//! secret: the app's own tokens live in the keyring (see `vault.rs`), and these values are written
//! to disk and sent to the web view as they are.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A kind of server, named by its provider (`"matrix"`, `"wordpress"`). The kinds there are, with
/// their names and aliases, are the provider registry (`crate::providers::all()`); nothing else
/// lists them. Serialised as its id, which is also the CLI's `--kind` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Kind(&'static str);

impl Kind {
    /// The kind with this id; providers declare theirs as a constant (`Kind::new("matrix")`).
    pub const fn new(id: &'static str) -> Self {
        Kind(id)
    }

    /// The value used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// The name people know the server by ("Home Assistant"), from its provider; the id when no
    /// provider of this version knows the kind.
    pub fn display_name(self) -> &'static str {
        crate::providers::get(self).map(|p| p.capabilities().display_name).unwrap_or(self.0)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::str::FromStr for Kind {
    type Err = String;
    /// An id, a display name or an alias of a registered provider, in any case, with or without
    /// spaces, dashes and underscores ("Home Assistant", "home-assistant", "phabricator").
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = |t: &str| t.trim().to_ascii_lowercase().replace([' ', '-', '_'], "");
        let wanted = norm(s);
        crate::providers::all()
            .map(|p| p.capabilities())
            .find(|c| norm(c.kind.as_str()) == wanted || norm(c.display_name) == wanted || c.aliases.iter().any(|a| norm(a) == wanted))
            .map(|c| c.kind)
            .ok_or_else(|| format!("unknown kind {s:?}: choose one of {}", crate::providers::kind_names().join(", ")))
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for Kind {
    /// A registered kind; an id no provider of this version knows is kept as it is (so an
    /// accounts file written by a newer Keyward is not lost), and then every action on it says
    /// plainly that this version cannot manage it.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let id = String::deserialize(d)?;
        Ok(crate::providers::all().map(|p| p.kind()).find(|k| k.as_str() == id).unwrap_or_else(|| Kind(Box::leak(id.into_boxed_str()))))
    }
}

/// One account on one server that the app is signed in to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// Random, stable, never shown: the key of the account's secret in the keyring.
    pub id: String,
    pub kind: Kind,
    /// The server's base URL as the app talks to it (after discovery), without a trailing slash.
    pub base_url: String,
    /// The name the user signed in with (`alice`).
    pub login: String,
    /// The user as the server names it (`@alice:example.org`), when it differs from `login`.
    pub user_id: String,
    /// A name the user chose for the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The id of the app's own credential on the server (a device id, a token id …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_credential: Option<String>,
    /// Facts about the server worth showing (site name, version, auth style …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub server_facts: Vec<Fact>,
    /// False once the app's own credential is gone (revoked, expired): the account must sign in
    /// again before anything else works.
    #[serde(default = "yes")]
    pub signed_in: bool,
    pub added: DateTime<Utc>,
}

fn yes() -> bool {
    true
}

impl Account {
    /// `host:port` of the base URL (`127.0.0.1:8008`, `matrix.org`).
    pub fn host(&self) -> String {
        host_of(&self.base_url)
    }

    /// How people and the CLI name the account: its label, else `<login>@<host:port>`.
    pub fn name(&self) -> String {
        self.label.clone().unwrap_or_else(|| self.default_name())
    }

    /// `<login>@<host:port>`, which always names the account even when it has a label.
    pub fn default_name(&self) -> String {
        format!("{}@{}", self.login, self.host())
    }

    /// The origins of the account's own pages, which a face may open: its server's, and the
    /// authorisation server it signed in through when its provider recorded one (as the fact
    /// [`AUTH_SERVER_FACT`], at sign-in: never from a later answer of the server).
    pub fn own_origins(&self) -> Vec<url::Url> {
        std::iter::once(self.base_url.as_str())
            .chain(self.server_facts.iter().filter(|f| f.label == AUTH_SERVER_FACT).map(|f| f.value.as_str()))
            .filter_map(|u| url::Url::parse(u).ok())
            .collect()
    }

    /// Does `name` (as typed on the command line) name this account?
    pub fn answers_to(&self, name: &str) -> bool {
        let name = name.trim();
        self.label.as_deref() == Some(name) || self.default_name().eq_ignore_ascii_case(name) || self.user_id == name || self.id == name
    }
}

/// `host[:port]` of a URL, or the text itself when it does not parse.
pub fn host_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => url.to_string(),
        },
        Err(_) => url.to_string(),
    }
}

/// The fact a provider records at sign-in for an account that signs in through a separate
/// authorisation server (its issuer URL): pages there are the account's own too
/// ([`Account::own_origins`]).
pub const AUTH_SERVER_FACT: &str = "Authorisation server";

/// A labelled value shown as it is ("Release" → "4.3").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Fact {
    pub label: String,
    pub value: String,
}

impl Fact {
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Fact { label: label.into(), value: value.into() }
    }
}

/// What sort of thing a credential is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// A signed-in client: a Matrix device, a Home Assistant refresh token, a browser session.
    Session,
    /// A token for programs (JupyterHub API token, Home Assistant long-lived token, Moodle
    /// web service token, Conduit API token).
    ApiToken,
    /// A grant to a third-party app (OAuth).
    OauthGrant,
    /// A password made for one app (WordPress application password).
    AppPassword,
    /// A registration that lets the server push notifications to a device.
    PushRegistration,
    /// A key (SSH key, RSS key, private key).
    Key,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Session => "session",
            CredentialKind::ApiToken => "api_token",
            CredentialKind::OauthGrant => "oauth_grant",
            CredentialKind::AppPassword => "app_password",
            CredentialKind::PushRegistration => "push_registration",
            CredentialKind::Key => "key",
        }
    }

    /// Plain words, singular ("session", "API token").
    pub fn noun(self) -> &'static str {
        match self {
            CredentialKind::Session => "session",
            CredentialKind::ApiToken => "API token",
            CredentialKind::OauthGrant => "app authorisation",
            CredentialKind::AppPassword => "app password",
            CredentialKind::PushRegistration => "push registration",
            CredentialKind::Key => "key",
        }
    }
}

impl std::str::FromStr for CredentialKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let all = [
            CredentialKind::Session,
            CredentialKind::ApiToken,
            CredentialKind::OauthGrant,
            CredentialKind::AppPassword,
            CredentialKind::PushRegistration,
            CredentialKind::Key,
        ];
        let wanted = s.trim().to_ascii_lowercase().replace('-', "_");
        all.into_iter().find(|k| k.as_str() == wanted).ok_or_else(|| {
            let names: Vec<_> = all.iter().map(|k| k.as_str()).collect();
            format!("unknown credential kind {s:?}: choose one of {}", names.join(", "))
        })
    }
}

/// What the server's "last used" time really records. Words differ: "active 2 hours ago" versus
/// "last refreshed 2 hours ago".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum LastUsedMeaning {
    /// The last request made with it (within the server's recording granularity).
    #[default]
    Used,
    /// The last time it minted a new access token (Home Assistant refresh tokens).
    Refreshed,
    /// The last time its record changed (Moodle push devices).
    Modified,
    /// The day it was last used: the server records at most one use a day (WordPress).
    UsedDay,
}

/// Everything a server tells about who or what is behind a credential. The client recogniser
/// (`clients.rs`) reads these; none of them is trusted text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ClientHints {
    /// An HTTP user agent string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The name a device gave itself (Matrix display name, push device name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    /// The name of an app (Home Assistant client name, WordPress app name, push app name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_name: Option<String>,
    /// An app identifier (push app id `im.vector.app.android`, WordPress app id, Moodle appid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// An OAuth client (name or id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_client: Option<String>,
    /// A note or name the user wrote on a token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Device model and platform as the server reports them (Moodle push devices).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// A client's own version string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// A URL the client gave (Element's client information, an OAuth client URI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl ClientHints {
    pub fn is_empty(&self) -> bool {
        *self == ClientHints::default()
    }
}

/// One use of a credential by one client, where the server records use per client
/// (Synapse's admin `whois`: per IP and user agent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Usage {
    pub hints: ClientHints,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
}

/// What can be done with one credential, decided by its provider.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actions {
    pub rename: bool,
    pub revoke: bool,
    /// The server asks for the account's password before it revokes this.
    #[serde(default)]
    pub revoke_needs_password: bool,
    /// Said before revoking, when revoking does more than the row suggests
    /// ("Moodle gives this same token to your phone: it will be signed out too").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke_warning: Option<String>,
    /// Revoking makes the server replace it with a new value (Hypothesis's developer token): the
    /// faces say "Replace", not "Revoke".
    #[serde(default)]
    pub revoke_replaces: bool,
    /// Revoking opens the server's own page, where the user confirms it in the browser (one page
    /// for each); it is gone once they did (Matrix next-gen auth).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub revoke_in_browser: bool,
    /// Why it cannot be renamed or revoked here, in one sentence, when it cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why_not: Option<String>,
}

/// A session, device, token, app password, push registration or key that grants access.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credential {
    /// Stable within its account; what the CLI's `rename`/`revoke` take.
    pub id: String,
    pub kind: CredentialKind,
    /// The name the server shows for it (device name, token note, app password name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "ClientHints::is_empty")]
    pub hints: ClientHints,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_used_meaning: LastUsedMeaning,
    /// The server records use, but never recorded any for this one ("never used").
    /// False when the server does not record use at all (then `last_used` is simply unknown).
    #[serde(default)]
    pub tracks_use: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<DateTime<Utc>>,
    /// The server says this never expires (as opposed to: the server does not say).
    #[serde(default)]
    pub never_expires: bool,
    /// Scopes, IP limits, roles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restrictions: Vec<String>,
    /// Use per client, where the server records it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub usage: Vec<Usage>,
    /// This is the app's own credential.
    #[serde(default)]
    pub current: bool,
    #[serde(default)]
    pub actions: Actions,
    /// The server's page that manages this credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manage_url: Option<String>,
    /// Its end was asked for on the server's page and is not confirmed yet: in words ("Waiting
    /// for you to confirm the sign-out in your browser").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<String>,
    /// Every other field the server gave, labelled for people.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<Fact>,
}

impl Credential {
    /// A credential with only what every one has; providers fill in the rest.
    pub fn new(id: impl Into<String>, kind: CredentialKind) -> Self {
        Credential {
            id: id.into(),
            kind,
            name: None,
            hints: ClientHints::default(),
            created: None,
            last_used: None,
            last_used_meaning: LastUsedMeaning::Used,
            tracks_use: false,
            last_ip: None,
            expires: None,
            never_expires: false,
            restrictions: Vec::new(),
            usage: Vec::new(),
            current: false,
            actions: Actions::default(),
            manage_url: None,
            pending: None,
            details: Vec::new(),
        }
    }
}

/// A note about what a listing could not show, in one sentence, with the page that can
/// ("Browser sessions cannot be listed by Hypothesis: see your account page").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Gap {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// What the user can do to see it, when there is something (each face words it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy: Option<crate::error::Remedy>,
}

impl Gap {
    /// A gap with its message only.
    pub fn new(message: impl Into<String>) -> Self {
        Gap { message: message.into(), url: None, remedy: None }
    }

    /// A gap with the page that shows what Keyward cannot.
    pub fn with_url(message: impl Into<String>, url: impl Into<String>) -> Self {
        Gap { message: message.into(), url: Some(url.into()), remedy: None }
    }
}

/// Everything one refresh of one account found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listing {
    pub account_id: String,
    pub fetched: DateTime<Utc>,
    pub credentials: Vec<Credential>,
    /// What the server cannot show or the app could not read, said plainly.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<Gap>,
    /// What can be done across the account right now.
    #[serde(default)]
    pub account_actions: AccountActions,
}

/// Account-wide actions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AccountActions {
    /// "Sign out all other sessions" applies.
    pub revoke_all_others: bool,
    pub revoke_all_others_needs_password: bool,
    /// Where to send the user for what the app cannot do (next-gen Matrix auth, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manage_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_parses_its_own_names_and_aliases() {
        for p in crate::providers::all() {
            let c = p.capabilities();
            assert_eq!(c.kind.as_str().parse::<Kind>().unwrap(), c.kind);
            assert_eq!(c.display_name.parse::<Kind>().unwrap(), c.kind);
            for a in c.aliases {
                assert_eq!(a.parse::<Kind>().unwrap(), c.kind, "alias {a}");
            }
        }
        assert_eq!("Home Assistant".parse::<Kind>().unwrap().as_str(), "homeassistant");
        assert!("gitlab".parse::<Kind>().unwrap_err().contains("choose one of matrix"));
    }

    #[test]
    fn an_unknown_kind_in_a_stored_file_is_kept_not_lost() {
        let k: Kind = serde_json::from_str("\"gitlab\"").unwrap();
        assert_eq!(k.as_str(), "gitlab");
        assert_eq!(serde_json::to_string(&k).unwrap(), "\"gitlab\"");
        assert!(crate::providers::get(k).is_err());
    }

    #[test]
    fn account_is_named_by_label_or_login_at_host() {
        let mut a = Account {
            id: "x1".into(),
            kind: crate::providers::matrix::KIND,
            base_url: "http://127.0.0.1:8008".into(),
            login: "alice".into(),
            user_id: "@alice:localhost".into(),
            label: None,
            own_credential: None,
            server_facts: vec![],
            signed_in: true,
            added: Utc::now(),
        };
        assert_eq!(a.name(), "alice@127.0.0.1:8008");
        assert!(a.answers_to("alice@127.0.0.1:8008"));
        a.label = Some("work".into());
        assert_eq!(a.name(), "work");
        assert!(a.answers_to("work") && a.answers_to("alice@127.0.0.1:8008"));
        assert!(!a.answers_to("bob@127.0.0.1:8008"));
    }
}
