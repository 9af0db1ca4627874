//! [`Keyward`]: the operations both faces (the CLI and the desktop app) call. It ties the store,
//! the vault and the providers together and enforces the product's rules in one place:
//! nothing changes on bad input, a provider is asked only for what its capabilities declare
//! (checked before any request), the app's own credential is revoked only when asked for
//! explicitly, listings of many accounts run concurrently and one failure never stops the others,
//! and a secret never leaves the keyring except to go to its server.

use std::time::Duration;

use chrono::Utc;
use serde::Serialize;
use url::Url;

use crate::error::{Error, Remedy, Result};
use crate::model::{Account, Kind, Listing};
use crate::net::http::Http;
use crate::provider::{Capabilities, Found, Proof, Provider, Revoked, Session, SignInMethod, SignInRequest, SignInSecret};
use crate::providers;
use crate::secret::Secret;
use crate::store::Store;
use crate::vault::Vault;
use crate::view::{self, AccountListing, KindView, UserListing};

/// What the user gives to add an account.
#[derive(Debug)]
pub struct AddAccount {
    pub url: String,
    pub kind: Option<Kind>,
    pub login: String,
    pub secret: SignInSecret,
    pub label: Option<String>,
    /// A one-time code from the account's second factor, when the user gave one.
    pub code: Option<Secret>,
    /// The user said yes to a sign-in that ends another of their sessions.
    pub allow_ending_sessions: bool,
    /// The user said yes to plain http to a host that is not this computer.
    pub allow_insecure: bool,
    /// How to ask for a one-time code when the server wants one and `code` is not given.
    pub ask_code: Option<std::sync::Arc<dyn crate::provider::AskCode>>,
}

impl AddAccount {
    /// An account to add with nothing said yes to and no code.
    pub fn new(url: impl Into<String>, login: impl Into<String>, secret: SignInSecret) -> Self {
        AddAccount {
            url: url.into(),
            kind: None,
            login: login.into(),
            secret,
            label: None,
            code: None,
            allow_ending_sessions: false,
            allow_insecure: false,
            ask_code: None,
        }
    }
}

/// How a server offers to sign in (see [`Keyward::sign_in_options`]).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SignInOptions {
    pub kind: Kind,
    pub base_url: String,
    pub methods: Vec<SignInMethod>,
    /// The ways to approve in the browser the user picks among (the server's identity providers),
    /// each one an [`AddInBrowser::choice`]; empty when the server has just one way.
    pub choices: Vec<crate::provider::SignInChoice>,
}

/// What the user gives to add an account approved in the browser.
#[derive(Debug, Default)]
pub struct AddInBrowser {
    pub url: String,
    pub kind: Option<Kind>,
    /// The user they mean to approve as, when they said (an approval as another is refused).
    pub login: Option<String>,
    pub label: Option<String>,
    pub allow_insecure: bool,
    /// How long to wait for the browser (5 minutes when `None`).
    pub wait: Option<Duration>,
    /// Which of the server's ways to approve (an identity provider it offers), when it offers
    /// several; `None` for its default.
    pub choice: Option<String>,
}

/// An add waiting for the user in their browser: [`Keyward::start_browser_add`].
pub struct BrowserAdd {
    /// The server's page to open in the browser.
    pub page: Url,
    loopback: crate::net::loopback::Loopback,
    kind: Kind,
    url: Url,
    login: Option<String>,
    label: Option<String>,
    allow_insecure: bool,
    carry: Option<crate::secret::Secret>,
}

impl BrowserAdd {
    /// Ends the wait at once (a face's Cancel): `finish_browser_add` then fails, storing nothing.
    pub fn cancel_handle(&self) -> crate::net::loopback::Cancel {
        self.loopback.cancel_handle()
    }

    /// How long `finish_browser_add` waits for the browser.
    pub fn wait_limit(&self) -> Duration {
        self.loopback.wait_limit()
    }
}

/// The outcome of a revoke: one result per credential, and whether the app signed itself out.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RevokeReport {
    pub account: String,
    /// The other user whose credentials these were, when an administrator revoked them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    pub results: Vec<Revoked>,
    /// The app's own credential was among them: the account is signed out of the app.
    pub signed_out: bool,
}

impl RevokeReport {
    pub fn all_ok(&self) -> bool {
        self.results.iter().all(|r| r.error.is_none())
    }
}

pub struct Keyward {
    store: Store,
    vault: Vault,
    http: Http,
}

impl Keyward {
    /// The store in the default place, the OS keyring, a fresh HTTP client.
    pub fn open() -> Result<Self> {
        Ok(Self::with(Store::open_default()?, Vault::new()))
    }

    pub fn with(store: Store, vault: Vault) -> Self {
        // The vault takes its per-account locks in the store's directory, across processes.
        Keyward { vault: vault.locking_in(&store), store, http: Http::new() }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn vault(&self) -> &Vault {
        &self.vault
    }

    pub(crate) fn http(&self) -> &Http {
        &self.http
    }

    pub fn accounts(&self) -> Result<Vec<Account>> {
        self.store.accounts()
    }

    /// The account a name (label, `<login>@<host:port>`, user id) names.
    pub fn find(&self, name: &str) -> Result<Account> {
        let accounts = self.accounts()?;
        let matching: Vec<_> = accounts.iter().filter(|a| a.answers_to(name)).collect();
        match matching.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(Error::UnknownAccount { name: name.to_string() }),
            many => Err(Error::input(format!(
                "{name:?} names {} accounts ({}); use one of those names",
                many.len(),
                many.iter().map(|a| a.default_name()).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// The kind of server at `url`, and the base URL to use for it.
    pub async fn detect(&self, url: &str) -> Result<(Kind, Url)> {
        let url = crate::net::http::parse_server_url(url)?;
        // Detection sends no secret, so plain http anywhere may be asked; a downgrade may not.
        providers::detect(&self.http.bound_to(&url, true)?, &url).await
    }

    /// The ways the server at `url` offers to sign in, asked of the server (never guessed from
    /// its kind): what a face's add dialog offers.
    pub async fn sign_in_options(&self, url: &str, kind: Option<Kind>) -> Result<SignInOptions> {
        let typed = crate::net::http::parse_server_url(url)?;
        // Asking sends no secret, so plain http anywhere may be asked; a downgrade may not.
        let http = self.http.bound_to(&typed, true)?;
        let limit = add_deadline(&http);
        let host = crate::model::host_of(typed.as_str());
        let asked = async {
            let (kind, base) = match kind {
                Some(k) => (k, typed.clone()),
                None => providers::detect(&http, &typed).await?,
            };
            let provider = providers::get(kind)?;
            let methods = provider.sign_in_options(&http, &base).await?;
            let choices = match methods.contains(&SignInMethod::Browser) {
                true => provider.sign_in_choices(&http, &base).await?,
                false => Vec::new(),
            };
            Ok::<_, Error>(SignInOptions { kind, base_url: crate::net::http::base_string(&base), methods, choices })
        };
        tokio::time::timeout(limit, asked).await.map_err(|_| Error::Timeout { host, secs: limit.as_secs() })?
    }

    /// Signs in and remembers the account. The keyring is checked before anything happens on the
    /// server, so a missing keyring changes nothing anywhere.
    pub async fn add(&self, req: AddAccount) -> Result<Account> {
        let typed = crate::net::http::parse_server_url(&req.url)?;
        let login = req.login.trim().to_string();
        if login.is_empty() {
            return Err(Error::input("the user name to sign in with is empty"));
        }
        let secret_empty = match &req.secret {
            SignInSecret::Password(s) | SignInSecret::Token(s) => s.is_empty(),
        };
        if secret_empty {
            return Err(Error::input("the password or token is empty"));
        }
        let label = req.label.map(|l| l.trim().to_string()).filter(|l| !l.is_empty());
        // Plain http elsewhere only with the user's yes; no discovery step may go to http when
        // the address was given with https.
        let http = self.http.bound_to(&typed, req.allow_insecure)?;
        self.vault.check().await?;

        // One deadline for everything the server is asked: detection and sign-in together.
        let host = crate::model::host_of(typed.as_str());
        let deadline = tokio::time::Instant::now() + add_deadline(&http);
        let too_late = || Error::Timeout { host: host.clone(), secs: add_deadline(&http).as_secs() };
        let (kind, url) = match req.kind {
            Some(kind) => (kind, typed),
            None => tokio::time::timeout_at(deadline, providers::detect(&http, &typed)).await.map_err(|_| too_late())??,
        };
        let provider = providers::get(kind)?;
        let caps = provider.capabilities();
        check_sign_in_method(&caps, &req.secret, &url)?;

        // A password sign-in makes a credential on the server, which an abandoned add must end;
        // a pasted token (or application password) was the user's before and stays.
        let made_here = matches!(req.secret, SignInSecret::Password(_));
        // The time a person spends typing a one-time code does not count against the deadline.
        let asking = std::sync::Arc::new(std::sync::Mutex::new(Asking::default()));
        let sign_in = provider.sign_in(
            &http,
            SignInRequest {
                url,
                login: login.clone(),
                secret: req.secret,
                client_name: client_name(),
                code: req.code,
                allow_ending_sessions: req.allow_ending_sessions,
                ask_code: req.ask_code.map(|inner| std::sync::Arc::new(TimedAsk { inner, asking: asking.clone() }) as _),
            },
        );
        let signed = until_deadline(deadline, &asking, sign_in).await.ok_or_else(too_late)??;
        self.keep(kind, provider, login, label, made_here, signed).await
    }

    /// Step one of adding an account whose server approves Keyward in the user's browser
    /// ([`SignInMethod::Browser`]): listens on the loopback address for the browser's return
    /// and gives the server's page to open. The face opens [`BrowserAdd::page`], may cancel
    /// through [`BrowserAdd::cancel_handle`], and calls [`Keyward::finish_browser_add`]. Nothing
    /// is stored until that one succeeds.
    pub async fn start_browser_add(&self, req: AddInBrowser) -> Result<BrowserAdd> {
        let typed = crate::net::http::parse_server_url(&req.url)?;
        let http = self.http.bound_to(&typed, req.allow_insecure)?;
        self.vault.check().await?;
        let host = crate::model::host_of(typed.as_str());
        let limit = add_deadline(&http);
        let too_late = || Error::Timeout { host: host.clone(), secs: limit.as_secs() };
        let (kind, url) = match req.kind {
            Some(kind) => (kind, typed),
            None => tokio::time::timeout(limit, providers::detect(&http, &typed)).await.map_err(|_| too_late())??,
        };
        let provider = providers::get(kind)?;
        let caps = provider.capabilities();
        if !caps.sign_in.contains(&SignInMethod::Browser) {
            return Err(Error::SignInMethod {
                message: format!("{} accounts cannot be approved in the browser", caps.display_name),
                remedy: caps.sign_in.first().map(|m| match m {
                    SignInMethod::Password => Remedy::GivePassword,
                    _ => Remedy::UseToken {
                        label: caps.token_label.to_string(),
                        page: caps.token_page.map(|p| crate::net::http::join(&url, p).to_string()),
                    },
                }),
            });
        }
        let loopback = crate::net::loopback::Loopback::bind().await?.waiting(req.wait.unwrap_or(crate::net::loopback::DEFAULT_WAIT));
        let back = crate::provider::BrowserReturn {
            approved: loopback.url("approved"),
            rejected: loopback.url("rejected"),
            redirect: loopback.redirect_url("approved"),
            state: loopback.state().to_string(),
        };
        let client_name = client_name();
        let ask = crate::provider::BrowserAsk { url: &url, back: &back, client_name: &client_name, choice: req.choice.as_deref() };
        let crate::provider::BrowserPage { page, carry, also_on } =
            tokio::time::timeout(limit, provider.browser_page(&http, ask)).await.map_err(|_| too_late())??;
        // Whatever the provider found, a face opens only a page of the server being added (or of
        // the authorisation server that server named): it may open `page` without a check of
        // its own.
        if !approval_page_allowed(&url, also_on.as_ref(), &page) {
            return Err(Error::Redirected { host, to: crate::model::host_of(page.as_str()) });
        }
        Ok(BrowserAdd {
            page,
            loopback,
            kind,
            url,
            login: req.login.map(|l| l.trim().to_string()).filter(|l| !l.is_empty()),
            label: req.label.map(|l| l.trim().to_string()).filter(|l| !l.is_empty()),
            allow_insecure: req.allow_insecure,
            carry,
        })
    }

    /// Step two of [`Keyward::start_browser_add`]: waits for the browser to come back (up to
    /// the wait asked for, or until cancelled), checks what it brought with the server, and
    /// remembers the account with its secret in the keyring. A rejection, a timeout or a cancel
    /// is [`Error::NotApproved`], and nothing is stored.
    pub async fn finish_browser_add(&self, pending: BrowserAdd) -> Result<Account> {
        let BrowserAdd { loopback, kind, url, login, label, allow_insecure, carry, .. } = pending;
        let callback = loopback.wait().await?;
        let http = self.http.bound_to(&url, allow_insecure)?;
        let provider = providers::get(kind)?;
        let host = crate::model::host_of(url.as_str());
        let limit = add_deadline(&http);
        let approved = crate::provider::Approved { url, login: login.clone(), client_name: client_name(), callback, carry };
        let signed = tokio::time::timeout(limit, provider.sign_in_approved(&http, approved))
            .await
            .map_err(|_| Error::Timeout { host, secs: limit.as_secs() })??;
        // The server made the credential for Keyward: an add abandoned now must end it.
        let login = login.unwrap_or_else(|| provider.login_of(&signed.user_id));
        self.keep(kind, provider, login, label, true, signed).await
    }

    /// Remembers a fresh sign-in: its account in the store and its secret in the keyring. An
    /// account already there and working, a label that names another account, or a keyring
    /// that refuses undoes the sign-in on the server when Keyward made it (`made_here`).
    async fn keep(
        &self,
        kind: Kind,
        provider: &dyn Provider,
        login: String,
        label: Option<String>,
        made_here: bool,
        signed: crate::provider::SignedIn,
    ) -> Result<Account> {
        let existing = self.accounts()?;
        let base_url = crate::net::http::base_string(&signed.base_url);
        let previous =
            existing.iter().find(|a| a.kind == kind && a.base_url == base_url && (a.login == login || a.user_id == signed.user_id));
        if let Some(prev) = previous.filter(|a| a.signed_in) {
            // Already here and working: undo the sign-in we just made, keep what was there.
            let fresh = Account { id: "pending".into(), ..prev.clone() };
            let _ = self.sign_out_stored(made_here, provider, &fresh, &signed.stored).await;
            return Err(Error::input(format!("{} is already added", prev.name())));
        }
        let account = Account {
            id: previous.map(|a| a.id.clone()).unwrap_or_else(new_account_id),
            kind,
            base_url,
            login,
            user_id: signed.user_id,
            label: label.or_else(|| previous.and_then(|a| a.label.clone())),
            own_credential: signed.own_credential,
            server_facts: signed.server_facts,
            signed_in: true,
            added: previous.map(|a| a.added).unwrap_or_else(Utc::now),
        };
        if let Some(l) = account.label.clone() {
            if existing.iter().any(|a| a.id != account.id && a.answers_to(&l)) {
                let _ = self.sign_out_stored(made_here, provider, &account, &signed.stored).await;
                return Err(Error::input(format!("the label {l:?} already names another account")));
            }
        }
        if let Err(e) = self.vault.set(&account.id, &signed.stored).await {
            let _ = self.sign_out_stored(made_here, provider, &account, &signed.stored).await;
            return Err(e);
        }
        self.update_accounts(|accounts| {
            accounts.retain(|a| a.id != account.id);
            accounts.push(account.clone());
        })?;
        Ok(account)
    }

    /// Ends a just-made sign-in on the server using its secret before it reaches the keyring,
    /// when the sign-in made it (`made_here`).
    async fn sign_out_stored(&self, made_here: bool, provider: &dyn Provider, account: &Account, stored: &Secret) -> Result<()> {
        if !made_here {
            return Ok(());
        }
        provider.sign_out(&Session::unsaved(account, &self.http, stored.clone())).await
    }

    /// Forgets an account; with `sign_out`, first ends the app's own credential on the server.
    pub async fn remove(&self, name: &str, sign_out: bool) -> Result<Account> {
        let account = self.find(name)?;
        if sign_out && account.signed_in {
            let provider = providers::get(account.kind)?;
            let caps = provider.capabilities();
            if !caps.sign_out {
                return Err(Error::unsupported(format!(
                    "{} offers no way for Keyward to end its own session; forget the account without signing out, then end it on the server",
                    caps.display_name
                )));
            }
            provider.sign_out(&Session::new(&account, &self.http, &self.vault)).await?;
        }
        self.vault.delete(&account.id).await?;
        self.update_accounts(|accounts| accounts.retain(|a| a.id != account.id))?;
        self.store.delete_listing(&account.id)?;
        self.forget_watch(&account);
        Ok(account)
    }

    /// The listing saved by the last refresh, shown at once on start-up.
    pub fn cached(&self, account: &Account) -> Result<Option<Listing>> {
        self.store.listing(&account.id)
    }

    /// Lists an account on its server and saves the listing.
    pub async fn refresh(&self, account: &Account) -> Result<Listing> {
        if !account.signed_in {
            return Err(Error::SignInAgain { account: account.name(), why: "it was signed out".into() });
        }
        let provider = providers::get(account.kind)?;
        // One refresh of an account at a time, across every Keyward process (the app beside
        // `keyward watch`): one that had to wait for another uses the listing that one just
        // saved instead of asking the server the same thing again.
        let asked = Utc::now();
        let (_turn, waited) = self.store.lock_account_saying_if_waited(&format!("{}-refresh", account.id)).await?;
        if waited {
            if let Some(saved) = self.store.listing(&account.id).ok().flatten().filter(|l| l.fetched >= asked) {
                return Ok(saved);
            }
        }
        let found = self.bounded_listing(account, provider.list(&Session::new(account, &self.http, &self.vault))).await?;
        if found.own_credential.is_some() && found.own_credential != account.own_credential {
            let own = found.own_credential.clone();
            self.update_accounts(|accounts| {
                if let Some(a) = accounts.iter_mut().find(|a| a.id == account.id) {
                    a.own_credential = own.clone();
                }
            })?;
        }
        let listing = Listing {
            account_id: account.id.clone(),
            fetched: Utc::now(),
            credentials: found.credentials,
            gaps: found.gaps,
            account_actions: found.account_actions,
        };
        let previous = self.store.listing(&account.id).ok().flatten();
        self.store.save_listing(&listing)?;
        self.watch(account, previous.as_ref(), &listing);
        Ok(listing)
    }

    /// An account and its last saved listing, as the faces show it (no network).
    pub fn show_cached(&self, account: &Account) -> Result<AccountListing> {
        let caps = providers::get(account.kind)?.capabilities();
        let listing = self.cached(account)?;
        Ok(view::account_listing(account, listing.as_ref(), &caps, Utc::now()))
    }

    /// Every account with its last saved listing, in the order they were added.
    pub fn show_all_cached(&self) -> Result<Vec<AccountListing>> {
        self.accounts()?.iter().map(|a| self.show_cached(a)).collect()
    }

    /// Refreshes one account (named as [`Keyward::find`] takes it) and returns it as the faces
    /// show it. On failure the error says why; the saved listing stays as it was.
    pub async fn refresh_shown(&self, name: &str) -> Result<AccountListing> {
        let account = self.find(name)?;
        let caps = providers::get(account.kind)?.capabilities();
        let listing = self.refresh(&account).await?;
        // The refresh may have updated the account (its own credential id): show the stored one.
        let account = self.find(&account.id).unwrap_or(account);
        Ok(view::account_listing(&account, Some(&listing), &caps, Utc::now()))
    }

    /// The kinds of server that can be added, with what each can do.
    pub fn kinds(&self) -> Vec<KindView> {
        providers::all().map(|p| KindView::from(&p.capabilities())).collect()
    }

    /// The page `url` names, when a face may open it: an http(s) page, with no user info, on the
    /// server of one of the accounts (same scheme, host and port as its base URL). Anything else
    /// (a link a server sent to somewhere else) is refused, so that opening a page never takes
    /// the user away from their own servers.
    pub fn own_page(&self, url: &str) -> Result<Url> {
        own_page_of(&self.accounts()?, url)
    }

    /// Refreshes many accounts at once; each gets its own result, in the order given.
    pub async fn refresh_many(&self, accounts: &[Account]) -> Vec<Result<Listing>> {
        futures::future::join_all(accounts.iter().map(|a| self.refresh(a))).await
    }

    /// Renames a credential, after checking that the kind can rename (before any request) and
    /// that the credential exists and can be renamed.
    pub async fn rename(&self, name: &str, credential_id: &str, new_name: &str, proof: &Proof) -> Result<()> {
        let account = self.find(name)?;
        let provider = providers::get(account.kind)?;
        let caps = provider.capabilities();
        if !caps.rename {
            return Err(Error::unsupported(format!("{} offers no way to rename sessions or tokens", caps.display_name)));
        }
        let new_name = new_name.trim();
        if new_name.is_empty() {
            return Err(Error::input("the new name is empty"));
        }
        let listing = self.refresh(&account).await?;
        let credential_id = &self.resolve_ids(&account, &listing, &[credential_id.to_string()])?[0];
        let cred = listing
            .credentials
            .iter()
            .find(|c| &c.id == credential_id)
            .ok_or_else(|| Error::UnknownCredential { account: account.name(), id: credential_id.to_string() })?;
        if !cred.actions.rename {
            return Err(Error::Unsupported {
                message: cred
                    .actions
                    .why_not
                    .clone()
                    .unwrap_or_else(|| format!("{} offers no way to rename this {}", caps.display_name, cred.kind.noun())),
                remedy: cred.manage_url.clone().map(|url| Remedy::OpenPage { url }),
            });
        }
        let done = provider.rename(&Session::new(&account, &self.http, &self.vault), credential_id, new_name, proof).await;
        self.record_rename(&account, cred, new_name, &done);
        done?;
        let _ = self.refresh(&account).await;
        Ok(())
    }

    /// Revokes credentials of one account. Every id must exist and be revocable, and the app's
    /// own credential is refused unless `include_own`; otherwise nothing is revoked.
    pub async fn revoke(&self, name: &str, ids: &[String], proof: &Proof, include_own: bool) -> Result<RevokeReport> {
        let account = self.find(name)?;
        let provider = providers::get(account.kind)?;
        let caps = provider.capabilities();
        if !caps.revoke {
            return Err(Error::unsupported(format!("{} offers no way to revoke sessions or tokens", caps.display_name)));
        }
        if ids.is_empty() {
            return Err(Error::input("name at least one credential to revoke"));
        }
        let mut ids: Vec<String> = ids.iter().map(|s| s.trim().to_string()).collect();
        let mut seen = std::collections::HashSet::new();
        ids.retain(|id| seen.insert(id.clone()));
        let listing = self.refresh(&account).await?;
        let ids = self.resolve_ids(&account, &listing, &ids)?;
        let mut own = false;
        for id in &ids {
            let cred = listing
                .credentials
                .iter()
                .find(|c| &c.id == id)
                .ok_or_else(|| Error::UnknownCredential { account: account.name(), id: id.clone() })?;
            if !cred.actions.revoke {
                return Err(Error::Refused {
                    message: cred.actions.why_not.clone().unwrap_or_else(|| format!("{id} cannot be revoked here")),
                    remedy: cred.manage_url.clone().map(|url| Remedy::OpenPage { url }),
                });
            }
            // Replacing Keyward's own credential (a new value takes its place, which the provider
            // keeps) does not sign Keyward out, so it needs no extra yes.
            if cred.current && !cred.actions.revoke_replaces {
                if !include_own {
                    return Err(Error::Refused {
                        message: format!(
                            "{id} is Keyward's own session on {}: revoking it signs Keyward out of the account",
                            account.name()
                        ),
                        remedy: Some(Remedy::IncludeOwnSession),
                    });
                }
                own = true;
            }
            if cred.actions.revoke_needs_password && proof.password.is_none() {
                return Err(Error::PasswordNeeded { account: account.name(), server: caps.display_name });
            }
        }
        let proof = &on_account_server(&account, proof);
        let results = provider.revoke(&Session::new(&account, &self.http, &self.vault), &ids, proof).await?;
        let results = reported_for(&ids, results);
        self.record_revokes(&account, &listing, &results, false);
        let own_gone = own
            && results.iter().any(|r| {
                r.error.is_none() && !r.replaced && r.confirm_url.is_none() && listing.credentials.iter().any(|c| c.id == r.id && c.current)
            });
        self.after_revoke(&account, own_gone).await?;
        Ok(RevokeReport { account: account.name(), user: None, results, signed_out: own_gone })
    }

    /// Signs out every other session of the account (never the app's own).
    pub async fn revoke_all_others(&self, name: &str, proof: &Proof) -> Result<RevokeReport> {
        let account = self.find(name)?;
        let provider = providers::get(account.kind)?;
        let caps = provider.capabilities();
        if !caps.revoke_all_others {
            return Err(Error::unsupported(format!("{} offers no way to sign out all other sessions", caps.display_name)));
        }
        let listing = self.refresh(&account).await?;
        if !listing.account_actions.revoke_all_others {
            return Err(Error::Unsupported {
                message: format!("{} offers no way to sign out all other sessions of this account here", caps.display_name),
                remedy: listing.account_actions.manage_url.clone().map(|url| Remedy::OpenPage { url }),
            });
        }
        if listing.account_actions.revoke_all_others_needs_password && proof.password.is_none() {
            return Err(Error::PasswordNeeded { account: account.name(), server: caps.display_name });
        }
        let proof = &on_account_server(&account, proof);
        let results = provider.revoke_all_others(&Session::new(&account, &self.http, &self.vault), proof).await?;
        self.record_revokes(&account, &listing, &results, true);
        self.after_revoke(&account, false).await?;
        Ok(RevokeReport { account: account.name(), user: None, results, signed_out: false })
    }

    /// The provider of an account that may act on other users, and the user named, trimmed;
    /// refused before any request when the kind cannot, the name is empty, or it names the
    /// account itself (its own credentials are listed and revoked without naming a user, with
    /// the rule for its own session).
    fn other_user(&self, account: &Account, user: &str) -> Result<(&'static dyn Provider, Capabilities, String)> {
        let provider = providers::get(account.kind)?;
        let caps = provider.capabilities();
        if !caps.other_users {
            return Err(Error::NoAdminApi { kind: caps.display_name });
        }
        if !account.signed_in {
            return Err(Error::SignInAgain { account: account.name(), why: "it was signed out".into() });
        }
        if user.trim().is_empty() {
            return Err(Error::input("the user name is empty"));
        }
        let user = provider.other_user_name(account, user);
        if names_account_itself(account, &user) {
            return Err(Error::input(format!(
                "{user} is {} itself: list or revoke its own credentials without naming a user",
                account.name()
            )));
        }
        Ok((provider, caps, user))
    }

    /// A provider's listing for `account` (its own or another user's), within the listing
    /// deadline; a "sign in again" answer marks the account signed out.
    async fn bounded_listing(&self, account: &Account, list: impl std::future::Future<Output = Result<Found>>) -> Result<Found> {
        let limit = self.http.timeout() * 4 + Duration::from_secs(5);
        let found =
            tokio::time::timeout(limit, list).await.unwrap_or_else(|_| Err(Error::Timeout { host: account.host(), secs: limit.as_secs() }));
        if let Err(Error::SignInAgain { .. }) = &found {
            self.set_signed_in(&account.id, false)?;
        }
        found
    }

    /// Another user's credentials, fresh from the server, as the account's provider names them
    /// (never saved: the account's own listing, changes and checkup stay the account's).
    async fn user_found(&self, provider: &dyn Provider, account: &Account, user: &str) -> Result<Listing> {
        let found = self.bounded_listing(account, provider.list_user(&Session::new(account, &self.http, &self.vault), user)).await?;
        let mut credentials = found.credentials;
        // Not the account's: nothing in it is the app's own, whatever a provider said.
        for c in &mut credentials {
            c.current = false;
        }
        Ok(Listing {
            account_id: account.id.clone(),
            fetched: Utc::now(),
            credentials,
            gaps: found.gaps,
            account_actions: Default::default(),
        })
    }

    /// Another user's credentials as this account (an administrator of its server) sees them, in
    /// the rows `list` shows. [`Error::NoAdminApi`] for a kind that cannot, [`Error::NotAdmin`]
    /// when the account is not an administrator, [`Error::UnknownUser`] for no such user.
    pub async fn list_user(&self, name: &str, user: &str) -> Result<UserListing> {
        let account = self.find(name)?;
        let (provider, caps, user) = self.other_user(&account, user)?;
        let listing = self.user_found(provider, &account, &user).await?;
        Ok(view::user_listing(&account, &user, &listing, &caps, Utc::now()))
    }

    /// Revokes credentials of another user as this account (an administrator). Every id must be
    /// in that user's fresh listing and revocable; otherwise nothing is revoked. Recorded in the
    /// history with the user named.
    pub async fn revoke_user(&self, name: &str, user: &str, ids: &[String], proof: &Proof) -> Result<RevokeReport> {
        let account = self.find(name)?;
        let (provider, caps, user) = self.other_user(&account, user)?;
        if !caps.revoke {
            return Err(Error::unsupported(format!("{} offers no way to revoke sessions or tokens", caps.display_name)));
        }
        let mut ids: Vec<String> = ids.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        let mut seen = std::collections::HashSet::new();
        ids.retain(|id| seen.insert(id.clone()));
        if ids.is_empty() {
            return Err(Error::input("name at least one credential to revoke"));
        }
        let listing = self.user_found(provider, &account, &user).await?;
        let ids = self.resolve_ids(&account, &listing, &ids)?;
        for id in &ids {
            // The account's own credentials are never in another user's listing: naming one here
            // (Keyward's own session included) is refused like any other stranger's id.
            let cred = listing.credentials.iter().find(|c| &c.id == id).ok_or_else(|| {
                Error::input(format!("{user} has no credential {id:?} on the server of {}; nothing was changed", account.name()))
            })?;
            if !cred.actions.revoke {
                return Err(Error::Refused {
                    message: cred.actions.why_not.clone().unwrap_or_else(|| format!("{id} cannot be revoked here")),
                    remedy: cred.manage_url.clone().map(|url| Remedy::OpenPage { url }),
                });
            }
            if cred.actions.revoke_needs_password && proof.password.is_none() {
                return Err(Error::PasswordNeeded { account: account.name(), server: caps.display_name });
            }
        }
        let results = provider.revoke_user(&Session::new(&account, &self.http, &self.vault), &user, &ids, proof).await?;
        let results = reported_for(&ids, results);
        self.record_revokes_of(&account, Some(&user), &listing, &results, false);
        Ok(RevokeReport { account: account.name(), user: Some(user), results, signed_out: false })
    }

    async fn after_revoke(&self, account: &Account, signed_out: bool) -> Result<()> {
        if signed_out {
            self.vault.delete(&account.id).await?;
            self.set_signed_in(&account.id, false)?;
            self.store.delete_listing(&account.id)?;
        } else {
            let _ = self.refresh(account).await;
        }
        Ok(())
    }

    fn set_signed_in(&self, id: &str, signed_in: bool) -> Result<()> {
        self.update_accounts(|accounts| {
            if let Some(a) = accounts.iter_mut().find(|a| a.id == id) {
                a.signed_in = signed_in;
            }
        })
    }

    /// Sets or clears an account's label.
    pub fn set_label(&self, name: &str, label: Option<&str>) -> Result<Account> {
        let account = self.find(name)?;
        let label = label.map(str::trim).filter(|l| !l.is_empty()).map(str::to_string);
        // Checked and changed inside the store's lock, and only the label: a change another
        // process makes to the same account meanwhile (a refresh) is kept.
        self.store.update_accounts(|accounts| {
            if let Some(l) = &label {
                if accounts.iter().any(|a| a.id != account.id && a.answers_to(l)) {
                    return Err(Error::input(format!("the label {l:?} already names another account")));
                }
            }
            let a = accounts.iter_mut().find(|a| a.id == account.id).ok_or_else(|| Error::UnknownAccount { name: name.to_string() })?;
            a.label = label.clone();
            Ok(a.clone())
        })?
    }

    /// A read-modify-write of the accounts under the store's cross-process lock.
    fn update_accounts(&self, f: impl FnOnce(&mut Vec<Account>)) -> Result<()> {
        self.store.update_accounts(f)
    }
}

/// Does `user` name the account's own user (its login or user id, in any case, or the
/// localpart of a `@local:server` id)?
fn names_account_itself(account: &Account, user: &str) -> bool {
    let u = user.trim().trim_start_matches('@');
    let local = |id: &str| id.trim_start_matches('@').split(':').next().unwrap_or("").to_string();
    [account.login.as_str(), account.user_id.as_str()].iter().any(|own| {
        let own = own.trim().trim_start_matches('@');
        own.eq_ignore_ascii_case(u) || (!u.contains(':') && account.user_id.starts_with('@') && local(own).eq_ignore_ascii_case(u))
    })
}

/// [`Keyward::own_page`] over these accounts.
fn own_page_of(accounts: &[Account], url: &str) -> Result<Url> {
    let refuse = |why: &str| Error::Refused { message: format!("Keyward opens only pages of your accounts' servers; {why}"), remedy: None };
    let page = Url::parse(url.trim()).map_err(|_| refuse("this is not a web address"))?;
    if !matches!(page.scheme(), "http" | "https") || !page.username().is_empty() || page.password().is_some() {
        return Err(refuse("this is not a plain web page"));
    }
    let own = accounts.iter().flat_map(|a| a.own_origins()).any(|base| base.origin() == page.origin());
    if own {
        Ok(page)
    } else {
        Err(refuse(&format!("{} is not one of them", crate::model::host_of(page.as_str()))))
    }
}

/// Is `page` a plain web page on the server at `base` (same host and port, or its https)?
fn page_on_server(base: &Url, page: &Url) -> bool {
    matches!(page.scheme(), "http" | "https")
        && page.username().is_empty()
        && page.password().is_none()
        && crate::net::http::stays_on(base, page)
}

/// May a face open this approval page: on the server being added (`base`), or on the one other
/// origin the provider found that server naming for its sign-in (`also_on`, an OAuth issuer)?
fn approval_page_allowed(base: &Url, also_on: Option<&Url>, page: &Url) -> bool {
    page_on_server(base, page) || also_on.is_some_and(|a| page_on_server(a, page))
}

/// `proof` with its confirmation in the browser ([`crate::provider::ConfirmInBrowser`]) let open
/// only pages of the account's own server: a face opens what it is given without a check.
fn on_account_server(account: &Account, proof: &Proof) -> Proof {
    let mut checked = proof.clone();
    if let (Some(inner), Ok(base)) = (proof.confirm.clone(), Url::parse(&account.base_url)) {
        checked.confirm = Some(std::sync::Arc::new(OnServer { base, inner }));
    }
    checked
}

struct OnServer {
    base: Url,
    inner: std::sync::Arc<dyn crate::provider::ConfirmInBrowser>,
}

#[async_trait::async_trait]
impl crate::provider::ConfirmInBrowser for OnServer {
    async fn open(&self, page: &Url) {
        if page_on_server(&self.base, page) {
            self.inner.open(page).await;
        } else {
            tracing::warn!("not opening a page of another server ({})", crate::model::host_of(page.as_str()));
        }
    }

    fn cancelled(&self) -> bool {
        self.inner.cancelled()
    }

    fn wait(&self) -> Duration {
        self.inner.wait()
    }
}

/// Is this secret a way of signing in this kind offers? Refused before anything is sent, with the
/// way that works as the remedy.
fn check_sign_in_method(caps: &Capabilities, secret: &SignInSecret, url: &Url) -> Result<()> {
    let wanted = match secret {
        SignInSecret::Password(_) => SignInMethod::Password,
        SignInSecret::Token(_) => SignInMethod::Token,
    };
    if caps.sign_in.contains(&wanted) {
        return Ok(());
    }
    Err(match wanted {
        SignInMethod::Password => Error::SignInMethod {
            message: format!(
                "{} accounts sign in with {} {}, not a password",
                caps.display_name,
                article(caps.token_label),
                caps.token_label
            ),
            remedy: Some(Remedy::UseToken {
                label: caps.token_label.to_string(),
                page: caps.token_page.map(|p| crate::net::http::join(url, p).to_string()),
            }),
        },
        SignInMethod::Token | SignInMethod::Browser => Error::SignInMethod {
            message: format!("{} accounts sign in with a password, not a token", caps.display_name),
            remedy: Some(Remedy::GivePassword),
        },
    })
}

fn article(noun: &str) -> &'static str {
    if noun.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    }
}

/// Exactly one result per id asked for, in that order: an id the provider did not report on is a
/// failure, never "done" (a revoke must fail closed).
fn reported_for(ids: &[String], results: Vec<Revoked>) -> Vec<Revoked> {
    ids.iter()
        .map(|id| {
            results
                .iter()
                .find(|r| &r.id == id)
                .cloned()
                .unwrap_or_else(|| Revoked::failed(id, "the server did not say whether it was revoked"))
        })
        .collect()
}

/// How long a whole `add` may ask the server: 30 seconds, or one request's timeout when that was
/// set longer.
/// How long people have spent answering questions during one `add`: the time already spent, and
/// since when a question is open.
#[derive(Default)]
struct Asking {
    spent: Duration,
    since: Option<tokio::time::Instant>,
}

impl Asking {
    /// The time not to count: what was spent, plus the open question's time so far.
    fn excused(&self, now: tokio::time::Instant) -> Duration {
        self.spent + self.since.map(|s| now - s).unwrap_or_default()
    }
}

/// An `AskCode` that keeps [`Asking`] up to date.
struct TimedAsk {
    inner: std::sync::Arc<dyn crate::provider::AskCode>,
    asking: std::sync::Arc<std::sync::Mutex<Asking>>,
}

#[async_trait::async_trait]
impl crate::provider::AskCode for TimedAsk {
    async fn code(&self, account: &str) -> Option<Secret> {
        let start = tokio::time::Instant::now();
        self.asking.lock().unwrap_or_else(|p| p.into_inner()).since = Some(start);
        let code = self.inner.code(account).await;
        let mut a = self.asking.lock().unwrap_or_else(|p| p.into_inner());
        a.since = None;
        a.spent += start.elapsed();
        code
    }
}

/// `fut`'s result, unless `deadline` passes first — moved on by the time people spent
/// answering questions (`asking`), so a person typing a code is never cut off.
async fn until_deadline<T>(
    deadline: tokio::time::Instant,
    asking: &std::sync::Mutex<Asking>,
    fut: impl std::future::Future<Output = T>,
) -> Option<T> {
    tokio::pin!(fut);
    loop {
        let moved = |now| deadline + asking.lock().unwrap_or_else(|p| p.into_inner()).excused(now);
        let until = moved(tokio::time::Instant::now());
        tokio::select! {
            out = &mut fut => return Some(out),
            _ = tokio::time::sleep_until(until) => {
                let now = tokio::time::Instant::now();
                if now >= moved(now) {
                    return None;
                }
            }
        }
    }
}

fn add_deadline(http: &Http) -> Duration {
    http.timeout().max(Duration::from_secs(30))
}

/// "Keyward on <hostname>": how the app names its own session on every server.
pub fn client_name() -> String {
    let host = hostname::get().ok().and_then(|h| h.into_string().ok()).filter(|h| !h.is_empty()).unwrap_or_else(|| "this computer".into());
    format!("Keyward on {host}")
}

fn new_account_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(base_url: &str) -> Account {
        serde_json::from_value(serde_json::json!({
            "id": "a1", "kind": "matrix", "base_url": base_url, "login": "alice",
            "user_id": "@alice:example.org", "added": "2026-01-01T00:00:00Z"
        }))
        .unwrap()
    }

    #[test]
    fn a_user_named_like_the_account_is_the_account_itself() {
        let a = account("https://matrix.example.org");
        for me in ["alice", "Alice", "@alice", "@alice:example.org"] {
            assert!(names_account_itself(&a, me), "{me}");
        }
        for other in ["bob", "@alice:other.example", "alice2"] {
            assert!(!names_account_itself(&a, other), "{other}");
        }
    }

    #[test]
    fn only_pages_of_the_accounts_own_servers_may_be_opened() {
        let accounts = [account("https://matrix.example.org"), account("http://127.0.0.1:8008")];
        assert!(own_page_of(&accounts, "https://matrix.example.org/_matrix/client/account?x=1").is_ok());
        assert!(own_page_of(&accounts, "http://127.0.0.1:8008/").is_ok());
        for other in [
            "https://evil.example/",
            "http://matrix.example.org/",
            "https://matrix.example.org:8443/",
            "https://matrix.example.org.evil.example/",
            "https://alice:pw@matrix.example.org/",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "http://127.0.0.1:8009/",
            "not a url",
        ] {
            let e = own_page_of(&accounts, other).unwrap_err().to_string();
            assert!(e.starts_with("Keyward opens only pages of your accounts' servers"), "{other}: {e}");
            assert!(!e.contains("pw") && !e.contains("?"), "{e}");
        }
    }

    #[test]
    fn an_approval_page_may_be_on_the_authorisation_server_found_and_nowhere_else() {
        let base = Url::parse("https://matrix.example.org/").unwrap();
        let issuer = Url::parse("https://auth.example.org/").unwrap();
        let page = Url::parse("https://auth.example.org/authorize?client_id=x").unwrap();
        assert!(approval_page_allowed(&base, Some(&issuer), &page));
        assert!(!approval_page_allowed(&base, None, &page));
        for other in ["https://evil.example/authorize", "http://auth.example.org/authorize", "https://auth.example.org:8443/"] {
            assert!(!approval_page_allowed(&base, Some(&issuer), &Url::parse(other).unwrap()), "{other}");
        }
    }

    #[test]
    fn the_authorisation_server_an_account_signed_in_through_is_its_own_page_too() {
        let mut a = account("https://matrix.example.org");
        a.server_facts.push(crate::model::Fact::new(crate::model::AUTH_SERVER_FACT, "https://auth.example.org/"));
        let accounts = [a];
        assert!(own_page_of(&accounts, "https://auth.example.org/account/?action=org.matrix.device_delete&device_id=X").is_ok());
        assert!(own_page_of(&accounts, "https://evil.example/").is_err());
        // The same words from anything but that fact open nothing.
        let mut b = account("https://matrix.example.org");
        b.server_facts.push(crate::model::Fact::new("Site", "https://auth.example.org/"));
        assert!(own_page_of(&[b], "https://auth.example.org/account/").is_err());
    }

    #[test]
    fn a_browser_approval_page_must_be_on_the_server_being_added() {
        let base = Url::parse("http://wp.example.org/blog").unwrap();
        for ok in ["http://wp.example.org/blog/wp-admin/authorize-application.php?x=1", "https://wp.example.org/wp-admin/"] {
            assert!(page_on_server(&base, &Url::parse(ok).unwrap()), "{ok}");
        }
        for other in [
            "http://evil.example/wp-admin/authorize-application.php",
            "http://wp.example.org:8080/",
            "http://wp.example.org.evil.example/",
            "http://alice:pw@wp.example.org/",
            "file:///etc/passwd",
            "javascript:alert(1)",
        ] {
            assert!(!page_on_server(&base, &Url::parse(other).unwrap()), "{other}");
        }
    }
}
