//! The [`Provider`] trait every server kind implements, the [`Capabilities`] each one declares,
//! and the [`Session`] handle through which a provider reaches its account's stored secret.
//!
//! A provider turns its server's answers into the model (`Credential`, `Listing`) and performs
//! renames and revocations. It never decides what a face shows (no summaries, no wording of
//! times), never stores anything but through `Session::save`, and never prints. The core checks
//! the declared capabilities before it calls a provider, so a provider is never asked for what it
//! said it cannot do.

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

use crate::error::{Error, Result};
use crate::model::{Account, AccountActions, Credential, CredentialKind, Fact, Gap, Kind};
use crate::net::http::Http;
use crate::secret::Secret;
use crate::store::AccountLock;
use crate::vault::Vault;

/// One of several ways a server offers to approve Keyward in the browser, as the user picks it
/// (one identity provider of a server's single sign-on): the provider's id for
/// [`BrowserAsk::choice`], and the server's name for it, made safe to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SignInChoice {
    pub id: String,
    pub name: String,
}

/// How an account can sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum SignInMethod {
    /// Username and password; the app makes its own credential on the server.
    Password,
    /// A token (or app password) the user made on the server and pastes.
    Token,
    /// The user approves Keyward on the server's own page in their browser, which sends the
    /// browser back to Keyward (a loopback listener) with the app's credential.
    Browser,
}

/// What a kind of server lets the app do, declared once per provider (with `..Default::default()`
/// for what it cannot). The core refuses an action a provider does not declare before any request
/// is made; faces read this (and the per-credential [`crate::model::Actions`]) and offer exactly
/// what works; they never test the kind.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Capabilities {
    pub kind: Kind,
    pub display_name: &'static str,
    /// Other names people type for this kind ("phabricator" for Phorge).
    pub aliases: &'static [&'static str],
    pub sign_in: &'static [SignInMethod],
    /// What the token sign-in asks for, in words ("access token", "application password").
    pub token_label: &'static str,
    /// The server page where a user makes such a token, relative to the base URL.
    pub token_page: Option<&'static str>,
    pub rename: bool,
    pub revoke: bool,
    /// Many credentials go in one request with one check (else: one by one).
    pub revoke_many: bool,
    pub revoke_all_others: bool,
    pub revoke_needs_password: bool,
    /// The app can end its own credential on the server when the account is removed.
    pub sign_out: bool,
    /// An administrator's account can list and revoke another user's credentials on the same
    /// server (`Provider::list_user`, `Provider::revoke_user`); whether this account is one is
    /// the server's to say.
    pub other_users: bool,
    /// What this kind's tokens look like, for "whose token is this?" (`Provider::identify` is
    /// asked only for tokens of these shapes).
    #[serde(skip)]
    pub token_shapes: &'static [TokenShape],
}

/// One shape of token a kind issues ("Matrix access token": `syt_…`).
#[derive(Debug, Clone, Copy)]
pub struct TokenShape {
    pub what: &'static str,
    pub matches: fn(&str) -> bool,
}

/// What a server said about a pasted token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identified {
    /// Still accepted; `None` when that cannot be told without using it for more than asking.
    pub valid: Option<bool>,
    /// The user it belongs to, as the account's `user_id` names users.
    pub user_id: Option<String>,
    /// The credential it is, as this provider's `list` names it.
    pub credential_id: Option<String>,
}

/// What the user typed to sign in.
#[derive(Debug, Clone)]
pub enum SignInSecret {
    Password(Secret),
    Token(Secret),
}

#[derive(Debug)]
pub struct SignInRequest {
    /// The URL as the user typed it, parsed (`https://example.org/`).
    pub url: Url,
    pub login: String,
    pub secret: SignInSecret,
    /// The name the app gives its own credential: "Keyward on <hostname>".
    pub client_name: String,
    /// A one-time code from the account's second factor, when the user gave one.
    pub code: Option<Secret>,
    /// The user said yes to a sign-in that ends another of their sessions (a concurrent-login
    /// limit); without it a provider must not make such a sign-in.
    pub allow_ending_sessions: bool,
    /// How to ask the user for a one-time code at the moment the server wants one, when `code`
    /// was not given up front (a face's prompt); `None` when nobody can be asked.
    pub ask_code: Option<std::sync::Arc<dyn AskCode>>,
}

impl SignInRequest {
    /// The one-time code: the one given, else the user's answer when they can be asked; `None`
    /// when there is none.
    pub async fn code_now(&self, account: &str) -> Option<Secret> {
        match (&self.code, &self.ask_code) {
            (Some(c), _) => Some(c.clone()),
            (None, Some(ask)) => ask.code(account).await,
            (None, None) => None,
        }
    }
}

/// A face's way of asking for a one-time code while a sign-in waits (the CLI's no-echo prompt).
#[async_trait]
pub trait AskCode: Send + Sync {
    /// The code the user typed for `account`, or `None` when they gave none.
    async fn code(&self, account: &str) -> Option<Secret>;
}

impl std::fmt::Debug for dyn AskCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<ask code>")
    }
}

/// A face's way of sending the user to a page of the account's server to confirm an action
/// there (the single sign-on step Matrix asks for before it signs devices out of an account
/// without a password). The core lets only pages of the account's own server through.
#[async_trait]
pub trait ConfirmInBrowser: Send + Sync {
    /// Opens `page` for the user and returns at once (the CLI prints it and runs `$BROWSER`; the
    /// app opens the system browser and shows that it waits); the provider then waits for the
    /// server to see the step done.
    async fn open(&self, page: &Url);

    /// The user gave up waiting (a face's Cancel).
    fn cancelled(&self) -> bool {
        false
    }

    /// How long the user has to finish in the browser.
    fn wait(&self) -> std::time::Duration {
        crate::net::loopback::DEFAULT_WAIT
    }
}

impl std::fmt::Debug for dyn ConfirmInBrowser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<confirm in browser>")
    }
}

/// What the user gave for an action the server guards: the account's password (Matrix's
/// user-interactive auth), a one-time code (Phorge's high-security checkpoint), or a way to
/// confirm in the browser when the server asks for that instead.
#[derive(Debug, Default, Clone)]
pub struct Proof {
    pub password: Option<Secret>,
    pub code: Option<Secret>,
    pub confirm: Option<std::sync::Arc<dyn ConfirmInBrowser>>,
}

impl Proof {
    pub fn password(&self) -> Option<&Secret> {
        self.password.as_ref()
    }

    pub fn code(&self) -> Option<&Secret> {
        self.code.as_ref()
    }

    /// The face's way to confirm in the browser, when it has one.
    pub fn confirm(&self) -> Option<&dyn ConfirmInBrowser> {
        self.confirm.as_deref()
    }
}

/// A successful sign-in: what goes into the account, and the secret for the keyring.
#[derive(Debug)]
pub struct SignedIn {
    pub base_url: Url,
    pub user_id: String,
    pub own_credential: Option<String>,
    pub server_facts: Vec<Fact>,
    /// The provider's stored secret, serialised (see [`Session::load`]). Goes to the keyring only.
    pub stored: Secret,
}

/// Where the server sends the browser back once the user decided on its approval page: Keyward's
/// loopback listener (`crate::net::loopback`), whose `state` the answer must carry.
#[derive(Debug, Clone)]
pub struct BrowserReturn {
    /// For servers that keep this URL's query and add theirs: `state` is in it already.
    pub approved: Url,
    /// The same for a rejection, where the server takes a separate URL for that.
    pub rejected: Url,
    /// Without `state`, for servers that send `state` back themselves (OAuth).
    pub redirect: Url,
    pub state: String,
}

/// What a provider gets to make its approval page ([`Provider::browser_page`]).
#[derive(Debug, Clone, Copy)]
pub struct BrowserAsk<'a> {
    /// The URL as the user typed it, parsed (or the account's base URL when signing in again).
    pub url: &'a Url,
    pub back: &'a BrowserReturn,
    /// The name the app gives its own credential: "Keyward on <hostname>".
    pub client_name: &'a str,
    /// The way the user picked among several the server offers (one identity provider of its
    /// single sign-on), as the provider named it; `None` for the server's default.
    pub choice: Option<&'a str>,
}

/// The approval page to open, and what the provider needs again when the browser comes back.
#[derive(Debug)]
pub struct BrowserPage {
    pub page: Url,
    /// Held in memory only until the browser comes back, then handed over as [`Approved::carry`]
    /// (an OAuth PKCE verifier and the client registered for it); never stored anywhere.
    pub carry: Option<Secret>,
    /// The one other origin the page may be on: the authorisation server the server itself named
    /// (Matrix next-gen auth's issuer, found by the provider on the server). `None`: the page is
    /// on the server being added.
    pub also_on: Option<Url>,
}

impl BrowserPage {
    pub fn at(page: Url) -> Self {
        BrowserPage { page, carry: None, also_on: None }
    }
}

/// What the browser brought back from an approval, to sign in with.
#[derive(Debug)]
pub struct Approved {
    /// The URL as the user typed it, parsed.
    pub url: Url,
    /// The user name the user said they would approve as, if they said one.
    pub login: Option<String>,
    /// The name the app gives its own credential: "Keyward on <hostname>".
    pub client_name: String,
    pub callback: crate::net::loopback::Callback,
    /// What [`Provider::browser_page`] asked to be handed back ([`BrowserPage::carry`]).
    pub carry: Option<Secret>,
}

/// What a provider's `list` returns; the core adds the account id and time.
#[derive(Debug, Default)]
pub struct Found {
    pub credentials: Vec<Credential>,
    pub gaps: Vec<Gap>,
    pub account_actions: AccountActions,
    /// The app's own credential id, when the listing learned it (it can change on refresh).
    pub own_credential: Option<String>,
}

/// The result of revoking one credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Revoked {
    pub id: String,
    /// `None` when it is gone; else why not, in one sentence.
    pub error: Option<String>,
    /// The server replaced it with a new value (the old one no longer works).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replaced: bool,
    /// Not gone yet: the server ends it once the user confirms on this page of the server's,
    /// which the face opens (Matrix next-gen auth's account page). The next listings say it is
    /// waiting for that, until it is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_url: Option<String>,
}

impl Revoked {
    pub fn ok(id: impl Into<String>) -> Self {
        Revoked { id: id.into(), error: None, replaced: false, confirm_url: None }
    }
    pub fn failed(id: impl Into<String>, why: impl std::fmt::Display) -> Self {
        Revoked { id: id.into(), error: Some(why.to_string()), replaced: false, confirm_url: None }
    }
    /// Gone, and a new value took its place.
    pub fn replaced(id: impl Into<String>) -> Self {
        Revoked { id: id.into(), error: None, replaced: true, confirm_url: None }
    }
    /// Asked for: it goes once the user confirms on the server's page `url`.
    pub fn to_confirm(id: impl Into<String>, url: impl Into<String>) -> Self {
        Revoked { id: id.into(), error: None, replaced: false, confirm_url: Some(url.into()) }
    }
}

/// The ids "sign out all other sessions" covers in a listing: every session that is not the
/// app's own and can be revoked. The one rule for it: the default `revoke_all_others` and every
/// face use this.
pub fn other_sessions(credentials: &[Credential]) -> Vec<String> {
    credentials.iter().filter(|c| c.kind == CredentialKind::Session && !c.current && c.actions.revoke).map(|c| c.id.clone()).collect()
}

/// The handle a provider gets for one signed-in account: the account, the HTTP client, and its
/// stored secret in the keyring.
pub struct Session<'a> {
    pub account: &'a Account,
    pub http: &'a Http,
    secret: SecretSource<'a>,
    /// The stored secret once read: one keyring round trip per operation, however many requests.
    cached: std::sync::Mutex<Option<Secret>>,
}

enum SecretSource<'a> {
    Vault(&'a Vault),
    /// A sign-in the core is undoing before its secret ever reached the keyring.
    Given(Secret),
}

impl<'a> Session<'a> {
    pub fn new(account: &'a Account, http: &'a Http, vault: &'a Vault) -> Self {
        Session { account, http, secret: SecretSource::Vault(vault), cached: std::sync::Mutex::new(None) }
    }

    /// A session over a secret that is not in the keyring (yet): used only to undo a sign-in
    /// whose secret could not be kept. `save` does nothing on it.
    pub(crate) fn unsaved(account: &'a Account, http: &'a Http, stored: Secret) -> Self {
        Session { account, http, secret: SecretSource::Given(stored), cached: std::sync::Mutex::new(None) }
    }

    /// The account's base URL, with a trailing slash so relative paths join under it. A stored
    /// URL that does not parse (a hand-edited accounts file) is one plain error, never a panic.
    pub fn base_url(&self) -> Result<Url> {
        let mut u = Url::parse(&self.account.base_url).map_err(|e| {
            Error::Store(format!(
                "the server address of {} in the accounts file is damaged ({e}); remove the account and add it again",
                self.account.name()
            ))
        })?;
        if !u.path().ends_with('/') {
            let p = format!("{}/", u.path());
            u.set_path(&p);
        }
        Ok(u)
    }

    /// The provider's stored secret for this account: read from the keyring the first time, then
    /// from this session's copy.
    pub async fn load<T: DeserializeOwned>(&self) -> Result<T> {
        let cached = self.cached.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let raw = match (cached, &self.secret) {
            (Some(s), _) => s,
            (None, SecretSource::Given(s)) => s.clone(),
            (None, SecretSource::Vault(v)) => match v.get(&self.account.id).await? {
                Some(s) => {
                    *self.cached.lock().unwrap_or_else(|p| p.into_inner()) = Some(s.clone());
                    s
                }
                None => return Err(self.sign_in_again("its credential is not in the keyring")),
            },
        };
        serde_json::from_str(raw.expose()).map_err(|_| self.sign_in_again("the keyring entry is unreadable"))
    }

    /// Holds this account exclusively, across every Keyward process (two CLIs, the CLI beside
    /// the app), until the returned guard is dropped, and forgets the secret read so far so that
    /// the next [`Session::load`] reads the keyring afresh: another process may have changed it
    /// while this one waited. For read-modify-write of the stored secret, such as a refresh token
    /// that rotates (take it, load, refresh only if still needed, save, drop it).
    pub async fn exclusive(&self) -> Result<AccountLock> {
        let held = match &self.secret {
            SecretSource::Vault(v) => v.lock(&self.account.id).await?,
            // Not in the keyring: no other process can see it.
            SecretSource::Given(_) => AccountLock::unshared(),
        };
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) = None;
        Ok(held)
    }

    /// Reads the stored secret from the keyring again, past this session's copy: for a provider
    /// that must see what another process may have just written (a rotated refresh token).
    pub async fn reload<T: DeserializeOwned>(&self) -> Result<T> {
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.load().await
    }

    /// Replaces the stored secret (for example right after a token refresh, before the new
    /// access token is used).
    pub async fn save<T: Serialize>(&self, value: &T) -> Result<()> {
        let stored = to_stored(value)?;
        if let SecretSource::Vault(v) = &self.secret {
            v.set(&self.account.id, &stored).await?;
        }
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) = Some(stored);
        Ok(())
    }

    /// "<account> must sign in again (<why>)".
    pub fn sign_in_again(&self, why: impl Into<String>) -> Error {
        Error::SignInAgain { account: self.account.name(), why: why.into() }
    }

    pub fn wrong_password(&self) -> Error {
        Error::WrongPassword { account: self.account.name() }
    }
}

/// Serialises a provider's stored-secret value for the keyring.
pub fn to_stored<T: Serialize>(value: &T) -> Result<Secret> {
    // Measured and written once into a wiped buffer: a growing String would leave copies behind.
    let bytes = crate::secret::json_bytes(value).map_err(|e| Error::Keyring(format!("cannot encode the credential: {e}")))?;
    Secret::from_utf8(bytes).ok_or_else(|| Error::Keyring("cannot encode the credential".into()))
}

/// One kind of server. Implementations are stateless; everything per account comes in through
/// [`Session`].
#[async_trait]
pub trait Provider: Send + Sync {
    fn capabilities(&self) -> Capabilities;

    fn kind(&self) -> Kind {
        self.capabilities().kind
    }

    /// The rules that recognise this kind's own clients (its apps, bridges, integrations) from
    /// a credential's hints, declared in the provider's module as `CLIENT_RULES`. The engine in
    /// `crate::clients` tries them after Keyward's own rule and before the shared ones, in the
    /// order of the registry. None by default.
    fn client_rules(&self) -> &'static [crate::clients::Rule] {
        &[]
    }

    /// Is there a server of this kind at `url`? `Ok(Some(base))` with the URL to use from now on,
    /// `Ok(None)` when something answers but is not this kind, `Err` when nothing answers.
    async fn probe(&self, http: &Http, url: &Url) -> Result<Option<Url>>;

    /// The base URL of this kind of server at `url`, or [`Error::NotThisKind`] when something
    /// else answers there (what `sign_in` starts with when the user named the kind).
    async fn require(&self, http: &Http, url: &Url) -> Result<Url> {
        match self.probe(http, url).await? {
            Some(base) => Ok(base),
            None => {
                Err(Error::NotThisKind { url: crate::net::http::base_string(url), kind: self.capabilities().display_name, detail: None })
            }
        }
    }

    /// Signs in and returns the secret to keep. Errors leave nothing behind on the server.
    async fn sign_in(&self, http: &Http, req: SignInRequest) -> Result<SignedIn>;

    /// The ways this server offers to sign in, asked of the server (what the kind declares,
    /// narrowed to what this server has turned on). By default: the declared ones, once the
    /// server is found to be of this kind.
    async fn sign_in_options(&self, http: &Http, url: &Url) -> Result<Vec<SignInMethod>> {
        self.require(http, url).await?;
        Ok(self.capabilities().sign_in.to_vec())
    }

    /// The ways among which the user picks for [`SignInMethod::Browser`] (identity providers of
    /// a single sign-on) at the base URL `base`, asked of the server; none by default (the
    /// server's one way). Asked only when `sign_in_options` offers the browser.
    async fn sign_in_choices(&self, http: &Http, base: &Url) -> Result<Vec<SignInChoice>> {
        let _ = (http, base);
        Ok(Vec::new())
    }

    /// The server's page where the user approves Keyward in the browser (for kinds that declare
    /// [`SignInMethod::Browser`]); the server sends the browser back to `ask.back`, and what it
    /// brings goes to [`Provider::sign_in_approved`].
    async fn browser_page(&self, http: &Http, ask: BrowserAsk<'_>) -> Result<BrowserPage> {
        let _ = (http, ask);
        Err(Error::unsupported(format!("{} offers no approval in the browser", self.capabilities().display_name)))
    }

    /// Signs in with what the browser brought back from [`Provider::browser_page`]: a rejection
    /// is [`Error::NotApproved`]; errors leave nothing behind on the server.
    async fn sign_in_approved(&self, http: &Http, approved: Approved) -> Result<SignedIn> {
        let _ = (http, approved);
        Err(Error::unsupported(format!("{} offers no approval in the browser", self.capabilities().display_name)))
    }

    /// Everything that can get into the account.
    async fn list(&self, s: &Session<'_>) -> Result<Found>;

    /// Renames a credential. Called only when the capabilities say `rename`.
    async fn rename(&self, s: &Session<'_>, id: &str, name: &str, proof: &Proof) -> Result<()> {
        let _ = (s, id, name, proof);
        Err(Error::unsupported(format!("{} offers no way to rename this", self.capabilities().display_name)))
    }

    /// Revokes the given credentials (ids from `list`). The core has already checked that they
    /// exist and that the app's own credential is included only when the user asked for that.
    async fn revoke(&self, s: &Session<'_>, ids: &[String], proof: &Proof) -> Result<Vec<Revoked>>;

    /// Revokes every other session of the account (never the app's own).
    ///
    /// By default: [`other_sessions`] of a fresh listing, through `revoke`.
    async fn revoke_all_others(&self, s: &Session<'_>, proof: &Proof) -> Result<Vec<Revoked>> {
        let found = self.list(s).await?;
        let ids = other_sessions(&found.credentials);
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.revoke(s, &ids, proof).await
    }

    /// The user name an account signed in as `user_id` is known by (a sign-in in the browser
    /// where the user typed none): by default the id itself.
    fn login_of(&self, user_id: &str) -> String {
        user_id.to_string()
    }

    /// The server's own name for a user a person typed for [`Provider::list_user`] (a Matrix
    /// localpart `bob` becomes `@bob:example.org` on the account's server). By default the name
    /// as typed, trimmed.
    fn other_user_name(&self, account: &Account, typed: &str) -> String {
        let _ = account;
        typed.trim().to_string()
    }

    /// Everything that can get into another user's account on the same server, as this account
    /// (an administrator) sees it. `user` is the server's own name for the user
    /// ([`Provider::other_user_name`]). Never includes this account's own credentials and
    /// never marks a credential `current`. [`Error::NotAdmin`] when the account is not an
    /// administrator, [`Error::UnknownUser`] when the server has no such user. Called only when
    /// the capabilities say `other_users`.
    async fn list_user(&self, s: &Session<'_>, user: &str) -> Result<Found> {
        let _ = (s, user);
        Err(Error::NoAdminApi { kind: self.capabilities().display_name })
    }

    /// Revokes credentials of another user (ids from `list_user` for the same `user`), as an
    /// administrator. The core has already checked that they exist in that user's listing.
    async fn revoke_user(&self, s: &Session<'_>, user: &str, ids: &[String], proof: &Proof) -> Result<Vec<Revoked>> {
        let _ = (s, user, ids, proof);
        Err(Error::NoAdminApi { kind: self.capabilities().display_name })
    }

    /// Ends the app's own credential on the server (when the user removes the account and asks
    /// for that).
    async fn sign_out(&self, s: &Session<'_>) -> Result<()>;

    /// Whose is this token, asked of this account's server (its introspection: Matrix `whoami`,
    /// JupyterHub's `/user` …)? Called only for tokens of a shape this kind declares; must not
    /// change anything on the server.
    async fn identify(&self, s: &Session<'_>, token: &Secret) -> Result<Identified> {
        let _ = (s, token);
        Err(Error::unsupported(format!("{} offers no way to ask whose a token is", self.capabilities().display_name)))
    }
}
