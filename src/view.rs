//! What the faces show, in one shape for both: the CLI's `--json` output and the desktop app's
//! data are these same rows (output only: nothing reads them back). Built from the model plus the summary; no provider knowledge here.
//!
//! Everything a face would otherwise have to decide is decided here, once: the title of a row
//! without a name, what the kind of credential is called, what revoking it is called, the words
//! of every time, the order of the rows, and which ids "sign out all other sessions" covers. The
//! desktop app's TypeScript types are generated from these types (`specta` feature), so the UI
//! cannot drift from them.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::clients::{self, Client};
use crate::model::{Account, AccountActions, Credential, CredentialKind, Fact, Gap, Kind, LastUsedMeaning, Listing, Usage};
use crate::provider::{Capabilities, SignInMethod};
use crate::summary::{self, Badge, Moment};

/// What revoking a credential does, so each face can name its button ("Sign out", "Revoke",
/// "Replace").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum RevokeVerb {
    /// A session: whoever uses it is signed out.
    SignOut,
    /// A token, app password, grant or key: it stops working.
    Revoke,
    /// The server replaces it with a new value (the old one stops working).
    Replace,
}

/// The rank of a row within its account in each order a face offers (0 comes first). Keyward's
/// own session always comes first, as Element pins the current session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SortKeys {
    /// Most recently used first; never used (or not recorded) last.
    pub recent: u32,
    /// Least recently used first; never used (or not recorded) before everything else.
    pub oldest: u32,
    /// By title, case-insensitively.
    pub name: u32,
}

/// One client that used a credential, in words (where the server records use per client).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct UsedBy {
    /// The client as people call it ("Element Desktop on macOS"), or "Unknown client".
    pub who: String,
    pub ip: Option<String>,
    pub last_used: Option<Moment>,
}

/// One credential as a face shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CredentialRow {
    /// The account's name (label or `<login>@<host:port>`).
    pub account: String,
    pub account_id: String,
    pub account_kind: Kind,
    pub id: String,
    pub kind: CredentialKind,
    /// What this kind of credential is called, singular ("API token").
    pub kind_noun: String,
    /// ... and plural, for a group of them ("API tokens").
    pub kind_plural: String,
    /// What this kind of credential is, in one paragraph of plain words (`summary::guide`).
    pub guide: String,
    pub name: Option<String>,
    /// The name, or "Unnamed <kind>" when the server gave none.
    pub title: String,
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
    pub revoke_verb: RevokeVerb,
    pub revoke_warning: Option<String>,
    pub why_not: Option<String>,
    pub manage_url: Option<String>,
    /// Revoking opens the server's page where the user confirms it (one page each).
    pub revoke_in_browser: bool,
    /// Its end was asked for on the server's page and is not confirmed yet, in words.
    pub pending: Option<String>,
    pub restrictions: Vec<String>,
    pub usage: Vec<Usage>,
    /// `usage`, in words.
    pub used_by: Vec<UsedBy>,
    pub details: Vec<Fact>,
    /// Where the row goes in each order.
    pub sort: SortKeys,
}

/// The rows of one listing, in the order the provider gave them, each with its ranks.
pub fn rows(account: &Account, listing: &Listing, now: DateTime<Utc>) -> Vec<CredentialRow> {
    // The account's name once, not per row (it parses the server's URL).
    let name = account.name();
    let mut rows: Vec<CredentialRow> = listing.credentials.iter().map(|c| row(account, &name, c, now)).collect();
    rank(&mut rows, &listing.credentials);
    rows
}

fn row(account: &Account, account_name: &str, c: &Credential, now: DateTime<Utc>) -> CredentialRow {
    let s = summary::summarise(c, now);
    CredentialRow {
        account: account_name.to_string(),
        account_id: account.id.clone(),
        account_kind: account.kind,
        id: c.id.clone(),
        kind: c.kind,
        kind_noun: c.kind.noun().to_string(),
        kind_plural: plural(c.kind).to_string(),
        guide: summary::guide::explain(c.kind, account.kind).to_string(),
        name: c.name.clone(),
        title: title(c, s.client.as_ref()),
        client: s.client.as_ref().map(|cl| cl.name.clone()),
        client_info: s.client,
        summary: line(&s.line),
        badges: s.badges,
        times: s.times.into_iter().map(|t| Moment { label: line(&t.label).into(), ..t }).collect(),
        created: c.created,
        last_used: c.last_used,
        last_used_meaning: c.last_used_meaning,
        last_ip: c.last_ip.clone(),
        expires: c.expires,
        current: c.current,
        can_rename: c.actions.rename && account.signed_in,
        can_revoke: c.actions.revoke && account.signed_in,
        revoke_needs_password: c.actions.revoke_needs_password,
        revoke_verb: revoke_verb(c),
        revoke_warning: c.actions.revoke_warning.as_deref().map(line),
        why_not: c.actions.why_not.as_deref().map(line),
        manage_url: c.manage_url.clone(),
        revoke_in_browser: c.actions.revoke_in_browser,
        pending: c.pending.as_deref().map(line),
        restrictions: c.restrictions.clone(),
        usage: c.usage.clone(),
        used_by: c.usage.iter().map(|u| used_by(u, now)).collect(),
        details: c.details.clone(),
        sort: SortKeys::default(),
    }
}

/// A line the core wrote around server text (a summary, a warning, a gap), without the bidi
/// controls that server text may carry: a U+202E in a device name must not reverse the words
/// after it ("active 2 hours ago"). Fields that are only server text (names, ids) keep every
/// character; faces isolate those whole (the app in `<bdi>`).
fn line(s: &str) -> String {
    s.chars().filter(|c| !crate::text::is_bidi_control(*c)).collect()
}

/// The credential's name, or "Unnamed API token".
/// The credential's name — unless that "name" is only the OAuth client id the server filed it
/// under (Home Assistant's `https://home-assistant.io/android`) and the client is known: then
/// the app ("Home Assistant for Android"); the id stays in the details.
fn title(c: &Credential, client: Option<&crate::clients::Client>) -> String {
    let name = c.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    match (name, client.filter(|cl| cl.recognised)) {
        (Some(n), Some(cl)) if c.hints.oauth_client.as_deref().map(str::trim) == Some(n) => cl.label(),
        (Some(n), _) => n.to_string(),
        (None, _) => format!("Unnamed {}", c.kind.noun()),
    }
}

/// What a group of credentials of a kind is called.
fn plural(kind: CredentialKind) -> &'static str {
    match kind {
        CredentialKind::Session => "Sessions",
        CredentialKind::ApiToken => "API tokens",
        CredentialKind::OauthGrant => "App authorisations",
        CredentialKind::AppPassword => "App passwords",
        CredentialKind::PushRegistration => "Push registrations",
        CredentialKind::Key => "Keys",
    }
}

fn revoke_verb(c: &Credential) -> RevokeVerb {
    if c.actions.revoke_replaces {
        RevokeVerb::Replace
    } else if c.kind == CredentialKind::Session {
        RevokeVerb::SignOut
    } else {
        RevokeVerb::Revoke
    }
}

fn used_by(u: &Usage, now: DateTime<Utc>) -> UsedBy {
    UsedBy {
        who: clients::recognise(&u.hints).map(|c| c.label()).unwrap_or_else(|| "Unknown client".into()),
        ip: u.ip.clone(),
        last_used: u.last_used.map(|t| moment("Last used", t, now)),
    }
}

fn moment(label: &'static str, at: DateTime<Utc>, now: DateTime<Utc>) -> Moment {
    Moment { label: label.into(), at, relative: summary::relative(at, now), absolute: summary::absolute(at) }
}

/// The last use the summary speaks of: the credential's own, or its latest per-client use.
fn last_use(c: &Credential) -> Option<DateTime<Utc>> {
    c.usage.iter().filter_map(|u| u.last_used).max().max(c.last_used)
}

/// Gives each row its place in every order (rows and credentials are in the same order).
fn rank(rows: &mut [CredentialRow], credentials: &[Credential]) {
    let used: Vec<Option<DateTime<Utc>>> = credentials.iter().map(last_use).collect();
    let names: Vec<String> = rows.iter().map(|r| r.title.to_lowercase()).collect();
    let by_name = |a: usize, b: usize| names[a].cmp(&names[b]).then_with(|| rows[a].id.cmp(&rows[b].id));
    let own_first = |a: usize, b: usize| rows[b].current.cmp(&rows[a].current);
    let order = |cmp: &dyn Fn(usize, usize) -> std::cmp::Ordering| {
        let mut idx: Vec<usize> = (0..rows.len()).collect();
        idx.sort_by(|&a, &b| own_first(a, b).then_with(|| cmp(a, b)).then_with(|| by_name(a, b)));
        let mut ranks = vec![0u32; rows.len()];
        for (rank, i) in idx.into_iter().enumerate() {
            ranks[i] = rank as u32;
        }
        ranks
    };
    // `None < Some(_)`: never used sorts as the oldest.
    let recent = order(&|a, b| used[b].cmp(&used[a]));
    let oldest = order(&|a, b| used[a].cmp(&used[b]));
    let name = order(&|_, _| std::cmp::Ordering::Equal);
    for (i, r) in rows.iter_mut().enumerate() {
        r.sort = SortKeys { recent: recent[i], oldest: oldest[i], name: name[i] };
    }
}

/// One account as a face shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AccountView {
    pub id: String,
    pub name: String,
    pub label: Option<String>,
    pub kind: Kind,
    pub kind_name: String,
    pub base_url: String,
    /// The server is reached over plain http to another computer: signing in again needs the
    /// user's explicit yes.
    pub insecure: bool,
    pub login: String,
    pub user_id: String,
    pub signed_in: bool,
    pub server_facts: Vec<Fact>,
    /// When the shown listing was fetched (None: never listed yet).
    pub fetched: Option<DateTime<Utc>>,
    /// The same, in words.
    pub listed: Option<Moment>,
    pub gaps: Vec<Gap>,
    pub account_actions: AccountActions,
    /// The ids "Sign out all other sessions" signs out (empty when it does not apply).
    pub all_others: Vec<String>,
    pub capabilities: CapabilitiesView,
}

/// The provider's capabilities, as data.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CapabilitiesView {
    /// "password", "token", "browser" (the CLI prints these as they are; the same words `SignInMethod`
    /// serialises to, which is what the UI's type says).
    #[cfg_attr(feature = "specta", specta(type = Vec<SignInMethod>))]
    pub sign_in: Vec<String>,
    pub token_label: String,
    pub token_page: Option<String>,
    pub rename: bool,
    pub revoke: bool,
    pub revoke_many: bool,
    pub revoke_all_others: bool,
    pub revoke_needs_password: bool,
    pub sign_out: bool,
    /// An administrator's account can see and revoke other users' credentials here.
    pub other_users: bool,
}

fn sign_in_name(m: SignInMethod) -> &'static str {
    match m {
        SignInMethod::Password => "password",
        SignInMethod::Token => "token",
        SignInMethod::Browser => "browser",
    }
}

impl From<&Capabilities> for CapabilitiesView {
    fn from(c: &Capabilities) -> Self {
        CapabilitiesView {
            sign_in: c.sign_in.iter().map(|m| sign_in_name(*m).to_string()).collect(),
            token_label: c.token_label.to_string(),
            token_page: c.token_page.map(str::to_string),
            rename: c.rename,
            revoke: c.revoke,
            revoke_many: c.revoke_many,
            revoke_all_others: c.revoke_all_others,
            revoke_needs_password: c.revoke_needs_password,
            sign_out: c.sign_out,
            other_users: c.other_users,
        }
    }
}

/// One kind of server as the add-account form shows it: its name and what it can do.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
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
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AccountListing {
    pub account: AccountView,
    pub rows: Vec<CredentialRow>,
}

/// Another user's credentials as an administrator's account sees them: the same rows as the
/// account's own listing, none of them the app's own (they are not the account's).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct UserListing {
    pub account: AccountView,
    /// The user as the server names them (`@bob:example.org`, `bob`).
    pub user: String,
    pub rows: Vec<CredentialRow>,
    pub gaps: Vec<Gap>,
}

/// [`UserListing`] of a listing of another user's credentials.
pub fn user_listing(account: &Account, user: &str, listing: &Listing, caps: &Capabilities, now: DateTime<Utc>) -> UserListing {
    let mut rows = rows(account, listing, now);
    for r in &mut rows {
        r.current = false;
    }
    UserListing { account: account_view_at(account, None, caps, now), user: user.to_string(), rows, gaps: listing.gaps.clone() }
}

pub fn account_listing(account: &Account, listing: Option<&Listing>, caps: &Capabilities, now: DateTime<Utc>) -> AccountListing {
    AccountListing {
        account: account_view_at(account, listing, caps, now),
        rows: listing.map(|l| rows(account, l, now)).unwrap_or_default(),
    }
}

pub fn account_view(account: &Account, listing: Option<&Listing>, caps: &Capabilities) -> AccountView {
    account_view_at(account, listing, caps, Utc::now())
}

fn account_view_at(account: &Account, listing: Option<&Listing>, caps: &Capabilities, now: DateTime<Utc>) -> AccountView {
    let actions = listing.map(|l| l.account_actions.clone()).unwrap_or_default();
    let all_others = match listing {
        Some(l) if actions.revoke_all_others && account.signed_in => crate::provider::other_sessions(&l.credentials),
        _ => Vec::new(),
    };
    AccountView {
        id: account.id.clone(),
        name: account.name(),
        label: account.label.clone(),
        kind: account.kind,
        kind_name: account.kind.display_name().to_string(),
        base_url: account.base_url.clone(),
        insecure: insecure(&account.base_url),
        login: account.login.clone(),
        user_id: account.user_id.clone(),
        signed_in: account.signed_in,
        server_facts: account.server_facts.clone(),
        fetched: listing.map(|l| l.fetched),
        listed: listing.map(|l| moment("Listed", l.fetched, now)),
        gaps: listing.map(|l| l.gaps.iter().map(|g| Gap { message: line(&g.message), ..g.clone() }).collect()).unwrap_or_default(),
        account_actions: actions,
        all_others,
        capabilities: caps.into(),
    }
}

/// Plain http to a host that is not this computer (signing in there needs the user's yes): the
/// same rule `net::http::check_transport` enforces.
pub fn insecure(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| crate::net::http::check_transport(&u, false).is_err())
}

/// A kind is sent as its id (`"matrix"`).
#[cfg(feature = "specta")]
impl specta::Type for Kind {
    fn definition(types: &mut specta::Types) -> specta::datatype::DataType {
        <String as specta::Type>::definition(types)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Actions, Credential};

    fn cred(id: &str, name: Option<&str>, last_used: Option<i64>, current: bool) -> Credential {
        let mut c = Credential::new(id, CredentialKind::Session);
        c.name = name.map(str::to_string);
        c.last_used = last_used.map(|d| DateTime::from_timestamp(1_700_000_000 + d * 86_400, 0).unwrap());
        c.current = current;
        c.actions = Actions { revoke: true, ..Default::default() };
        c
    }

    fn account() -> Account {
        serde_json::from_value(serde_json::json!({
            "id": "a1", "kind": "matrix", "base_url": "http://127.0.0.1:8008", "login": "alice",
            "user_id": "@alice:localhost", "signed_in": true, "added": "2026-01-01T00:00:00Z"
        }))
        .unwrap()
    }

    fn listing(credentials: Vec<Credential>) -> Listing {
        Listing {
            account_id: "a1".into(),
            fetched: Utc::now(),
            credentials,
            gaps: Vec::new(),
            account_actions: AccountActions { revoke_all_others: true, ..Default::default() },
        }
    }

    fn ids_in(rows: &[CredentialRow], key: impl Fn(&SortKeys) -> u32) -> Vec<String> {
        let mut r: Vec<_> = rows.iter().collect();
        r.sort_by_key(|r| key(&r.sort));
        r.into_iter().map(|r| r.id.clone()).collect()
    }

    #[test]
    fn rows_rank_own_session_first_then_by_last_use_or_title() {
        let l = listing(vec![
            cred("old", Some("Old phone"), Some(1), false),
            cred("never", Some("alpha"), None, false),
            cred("me", Some("Keyward"), None, true),
            cred("new", Some("Laptop"), Some(9), false),
        ]);
        let rows = rows(&account(), &l, Utc::now());
        assert_eq!(ids_in(&rows, |k| k.recent), ["me", "new", "old", "never"]);
        assert_eq!(ids_in(&rows, |k| k.oldest), ["me", "never", "old", "new"]);
        assert_eq!(ids_in(&rows, |k| k.name), ["me", "never", "new", "old"]);
    }

    #[test]
    fn a_row_without_a_name_is_titled_by_its_kind() {
        let rows = rows(&account(), &listing(vec![cred("x", Some("  "), None, false)]), Utc::now());
        assert_eq!(rows[0].title, "Unnamed session");
        assert_eq!(rows[0].kind_plural, "Sessions");
        assert_eq!(rows[0].revoke_verb, RevokeVerb::SignOut);
    }

    #[test]
    fn all_others_are_the_revocable_sessions_but_keywards_own() {
        let mut locked = cred("locked", None, None, false);
        locked.actions.revoke = false;
        let l = listing(vec![cred("me", None, None, true), cred("a", None, None, false), locked, cred("b", None, None, false)]);
        let caps = crate::providers::all().next().unwrap().capabilities();
        let view = account_view(&account(), Some(&l), &caps);
        assert_eq!(view.all_others, ["a", "b"]);
    }

    #[test]
    fn a_bidi_override_in_a_name_cannot_reverse_the_line_around_it() {
        let mut c = cred("x", Some("evil\u{202E}gnp.exe"), Some(1), false);
        // The server's own words for the client, not the title: the line says them.
        c.hints.device_name = Some("phone evil\u{202E}gnp.exe".into());
        c.actions.why_not = Some("the server says \u{2067}no\u{2069}".into());
        let rows = rows(&account(), &listing(vec![c]), Utc::now());
        for text in [&rows[0].summary, rows[0].why_not.as_ref().unwrap()] {
            assert!(!text.chars().any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')), "{text:?}");
        }
        assert!(rows[0].summary.contains("phone evilgnp.exe"), "{}", rows[0].summary);
        assert_eq!(rows[0].name.as_deref(), Some("evil\u{202E}gnp.exe"), "the name itself is kept whole");
    }

    #[test]
    fn sign_in_methods_are_named_as_they_serialise() {
        for m in [SignInMethod::Password, SignInMethod::Token, SignInMethod::Browser] {
            assert_eq!(serde_json::to_value(m).unwrap(), sign_in_name(m));
        }
    }

    #[test]
    fn plain_http_is_insecure_only_off_this_computer() {
        assert!(insecure("http://matrix.example.org"));
        assert!(!insecure("https://matrix.example.org"));
        assert!(!insecure("http://127.0.0.1:8008"));
        assert!(!insecure("http://localhost:8008"));
        assert!(!insecure("http://[::1]:8008"));
    }
}
