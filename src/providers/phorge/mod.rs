//! Phorge and Phabricator: every API token, web and Conduit session, SSH key, OAuth authorization
//! and temporary token of an account, named, dated and revocable.
//!
//! Conduit, Phorge's API, cannot list or revoke tokens, sessions or OAuth authorizations: its
//! settings panels can. So Keyward signs in through the web login with the account's password
//! (and its one-time code, where it has a second factor) and keeps that ONE web session across
//! commands, its cookie in the keyring; each listing reads the panels with it, and Conduit calls
//! ride on it too (cookie plus `__csrf__`). A pasted `api-`/`cli-` token is the other way in, for
//! Conduit alone: then the listing says what only the web pages show.
//!
//! What is kept in the keyring, and why: the session's cookies; and, for an account without a
//! second factor, the username and password, so that when Phorge ends the session (it expires,
//! someone terminates it) Keyward signs in again by itself instead of asking. With a second
//! factor a new login needs a fresh code, so the password is not kept and an ended session means
//! "sign in again". The one-time code is never kept. No API token is made at sign-in: it would be
//! one more key to the account, and for an MFA account the high-security checkpoint it needs is
//! refused for about 90 seconds after the login's code anyway.
//!
//! Listing never changes anything and never calls Conduit with the web session, so the Conduit
//! call log it shows ("the account's last Conduit call", the nearest thing Phorge has to a
//! token's last use) is not filled with Keyward's own reading; the one call Keyward does make,
//! `user.whoami` at sign-in, is remembered and passed over.
//!
//! "Sign out every session" (Conduit `auth.logout`) is modelled as a pseudo-credential of its own,
//! `every-session`: the model has no account-wide action with a warning, and revoking a
//! credential is where faces already ask "are you sure" and show `revoke_warning`, which says
//! exactly what it does: every web and Conduit session goes, Keyward's own included, API tokens,
//! SSH keys and OAuth authorizations stay. It is marked as Keyward's own (`current`) when Keyward
//! uses a web session, so the core's rule applies: it is revoked only when the user says to
//! include Keyward's own session, and then the account is signed out. With a token sign-in it is
//! not Keyward's own (the token stays), and it is also what "sign out all other sessions" does.
//! Phorge's "Terminate All Sessions" (every other session, the Conduit ones too, Keyward's own
//! kept) is `revoke_all_others`.
//!
//! Files: `session.rs` the login, the kept session and posting actions through the high-security
//! checkpoint; `conduit.rs` Conduit; `pages.rs` the panel readers; `dates.rs` their dates;
//! `credentials.rs` rows into credentials; `actions.rs` rename and revoke. Facts:
//! `shared/reference/phorge-hypothesis.md` and the captured pages in `tests/data/phorge/`.

mod actions;
mod conduit;
mod credentials;
mod dates;
mod pages;
mod session;

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;
use url::Url;

use crate::error::{Error, Result};
use crate::model::{AccountActions, Fact, Gap, Kind};
use crate::net::http::{join, Http};
use crate::provider::{
    Capabilities, Found, Identified, Proof, Provider, Revoked, Session, SignInMethod, SignInRequest, SignInSecret, SignedIn, TokenShape,
};
use crate::secret::{self, Secret};
use conduit::Refusal;
use credentials::Clock;
use pages::Unrecognised;
use session::{Kept, Page, Web};

pub struct Phorge;

/// This kind of server, as the registry and stored accounts name it.
pub const KIND: Kind = Kind::new("phorge");

/// What Keyward keeps in the keyring for a Phorge account (see the module doc for why).
#[derive(Serialize, Deserialize)]
struct Stored {
    /// The user as Phorge names it in its addresses (`alice`), whatever was typed to sign in.
    username: String,
    user_phid: String,
    /// What was typed at the login form (username or e-mail), kept with `password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    login: Option<String>,
    #[serde(default, with = "secret::stored::option", skip_serializing_if = "Option::is_none")]
    password: Option<Secret>,
    /// `name=value; name=value` of the web session's cookies.
    #[serde(default, with = "secret::stored::option", skip_serializing_if = "Option::is_none")]
    cookies: Option<Secret>,
    /// A pasted Conduit token (then there is no web session).
    #[serde(default, with = "secret::stored::option", skip_serializing_if = "Option::is_none")]
    token: Option<Secret>,
    /// When Keyward made its one Conduit call with the web session (`user.whoami` at sign-in,
    /// epoch seconds): the Conduit log's row of it is not someone else's use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    own_call: Option<i64>,
}

impl Stored {
    fn cookie_map(&self) -> BTreeMap<String, Secret> {
        let Some(c) = &self.cookies else { return BTreeMap::new() };
        c.expose().split(';').filter_map(|p| p.trim().split_once('=')).map(|(k, v)| (k.to_string(), Secret::new(v))).collect()
    }

    fn set_cookies(&mut self, m: &BTreeMap<String, Secret>) {
        self.cookies =
            (!m.is_empty()).then(|| Secret::new(m.iter().map(|(k, v)| format!("{k}={}", v.expose())).collect::<Vec<_>>().join("; ")));
    }

    fn relogin(&self) -> Option<(String, Secret)> {
        Some((self.login.clone()?, self.password.clone()?))
    }

    fn panel(&self, key: &str) -> String {
        format!("settings/user/{}/page/{key}/", self.username)
    }
}

/// A page layout the readers do not know, as one line.
fn unrecognised(host: &str, u: Unrecognised) -> Error {
    Error::bad_response(host, format!("a page layout Keyward does not know: {}", u.0))
}

/// A Conduit refusal as one line (never with the server's words about a token: they quote it).
fn refusal(s: &Session<'_>, r: Refusal, token: bool) -> Error {
    match r {
        Refusal::BadToken if token => s.sign_in_again("Phorge no longer accepts the Conduit API token Keyward was given"),
        Refusal::BadToken | Refusal::NoSession => s.sign_in_again("Phorge ended Keyward's session"),
        Refusal::Other(e) => e,
    }
}

impl Phorge {
    /// The kept web session of an account, ready to read pages.
    fn kept(s: &Session<'_>, stored: &Stored) -> Result<Kept> {
        Ok(Kept::new(Web::resume(&s.base_url()?, stored.cookie_map()), stored.relogin(), s.account.name()))
    }

    /// Saves the session's cookies when a new session replaced the kept one.
    async fn keep(s: &Session<'_>, stored: &mut Stored, kept: &Kept) -> Result<()> {
        if kept.renewed {
            stored.set_cookies(kept.web.cookies());
            s.save(&*stored).await?;
        }
        Ok(())
    }

    /// A page that must be there (200), read by `read`.
    async fn panel<T>(kept: &mut Kept, path: &str, what: &str, read: fn(&str) -> std::result::Result<T, Unrecognised>) -> Result<T> {
        let p = kept.page(path).await?;
        Self::expect(&p, what)?;
        read(&p.html).map_err(|u| unrecognised(&crate::model::host_of(p.url.as_str()), u))
    }

    fn expect(p: &Page, what: &str) -> Result<()> {
        match p.status {
            200 => Ok(()),
            403 => Err(Error::forbidden(format!("Phorge does not let this account see its {what}"))),
            _ => Err(Error::bad_response(crate::model::host_of(p.url.as_str()), format!("the {what} page answered HTTP {}", p.status))),
        }
    }

    async fn list_web(&self, s: &Session<'_>, stored: &Stored, kept: &mut Kept) -> Result<Found> {
        let base = s.base_url()?;
        let host = s.account.host();
        let url = |path: &str| join(&base, path).to_string();
        let zone_page = kept.page(&stored.panel("datetime")).await?;
        let zone = (zone_page.status == 200).then(|| pages::time_zone(&zone_page.html)).flatten();
        let clock = Clock { zone, now: Utc::now() };
        let calls = Self::panel(kept, "conduit/log/", "Conduit call log", pages::conduit_log).await?;
        let last_call = credentials::last_call_words(&calls, &clock, stored.own_call);
        let tokens = Self::panel(kept, &stored.panel("apitokens"), "Conduit API Tokens panel", pages::api_tokens).await?;
        let sessions = Self::panel(kept, &stored.panel("sessions"), "Sessions panel", pages::sessions).await?;
        let log = Self::panel(kept, &stored.panel("activity"), "Activity Logs panel", pages::activity).await?;
        let keys = Self::panel(kept, &stored.panel("ssh"), "SSH Public Keys panel", pages::ssh_keys).await?;
        let temps = Self::panel(kept, &stored.panel("tokens"), "Temporary Tokens panel", pages::temporary_tokens).await?;
        let oauth_page = kept.page(&stored.panel("oauthorizations")).await?;

        let mut gaps = Vec::new();
        let mut creds = Vec::new();
        let tokens_url = url(&stored.panel("apitokens"));
        creds.extend(tokens.rows.iter().map(|t| credentials::token(t, &clock, last_call.as_deref(), &tokens_url)));
        let sessions_url = url(&stored.panel("sessions"));
        creds.extend(sessions.rows.iter().map(|r| credentials::session(r, &sessions.rows, &clock, Some(&log), &sessions_url)));
        creds.push(credentials::every_session(true));
        creds.extend(keys.iter().map(|k| credentials::ssh_key(k, &clock, &base)));
        let oauth_url = url(&stored.panel("oauthorizations"));
        match oauth_page.status {
            404 => gaps.push(Gap::new(
                "This Phorge has no OAuth Authorizations panel (its OAuth server is a prototype application, turned off here), so no application can hold an OAuth authorization of this account",
            )),
            _ => {
                Self::expect(&oauth_page, "OAuth Authorizations panel")?;
                let rows = pages::oauth_authorizations(&oauth_page.html).map_err(|u| unrecognised(&host, u))?;
                creds.extend(rows.iter().map(|o| credentials::oauth(o, &clock, &oauth_url)));
            }
        }
        let temps_url = url(&stored.panel("tokens"));
        creds.extend(temps.iter().enumerate().map(|(n, t)| credentials::temporary_token(t, n, &clock, &temps_url)));
        gaps.push(credentials::last_used_gap(last_call.as_deref(), &url("conduit/log/")));
        if clock.zone.is_none() {
            gaps.push(Gap::with_url(
                "Keyward could not read this account's time zone setting, so Phorge's times are shown in its own words",
                url(&stored.panel("datetime")),
            ));
        }
        let own_credential = sessions.rows.iter().find(|r| r.current).map(|r| credentials::session_id(r, &sessions.rows));
        let account_actions =
            AccountActions { revoke_all_others: sessions.terminate_all, manage_url: Some(sessions_url), ..Default::default() };
        Ok(Found { credentials: creds, gaps, account_actions, own_credential })
    }

    async fn list_token(&self, s: &Session<'_>, stored: &Stored, token: &Secret) -> Result<Found> {
        let base = s.base_url()?;
        let host = s.account.host();
        conduit::with_token(s.http, &base, token, "user.whoami", json!({})).await.map_err(|r| refusal(s, r, true))?;
        let keys = conduit::with_token(s.http, &base, token, "auth.querypublickeys", conduit::keys_of(&stored.user_phid))
            .await
            .map_err(|r| refusal(s, r, true))?;
        let mut credentials: Vec<_> =
            conduit::public_keys(keys, &host)?.iter().filter_map(|k| credentials::ssh_key_from_conduit(k, &base)).collect();
        credentials.push(credentials::every_session(false));
        let gaps = vec![Gap::with_url(
            "Signed in with a Conduit API token, Keyward reaches Phorge's API only: API tokens, web and Conduit sessions, OAuth authorizations, temporary tokens and the activity and Conduit logs are on Phorge's settings pages, which need a password sign-in; SSH keys are listed without dates and cannot be revoked from here",
            join(&base, "settings/").to_string(),
        )];
        let account_actions = AccountActions { revoke_all_others: true, ..Default::default() };
        Ok(Found { credentials, gaps, account_actions, own_credential: None })
    }

    async fn sign_in_password(&self, base: &Url, req: &SignInRequest, password: &Secret) -> Result<SignedIn> {
        let host = crate::model::host_of(base.as_str());
        let account = format!("{}@{host}", req.login);
        let (mut web, mfa) = Web::sign_in(base, &req.login, password, Some(req), &account).await?;
        let signed = async {
            let username = web.username().await?;
            let own_call = Utc::now().timestamp();
            let who = conduit::with_web(&mut web, "user.whoami", json!({})).await.map_err(|r| match r {
                Refusal::Other(e) => e,
                _ => Error::bad_response(host.clone(), "Phorge's Conduit refused the session it had just opened"),
            })?;
            let who = conduit::whoami(who, &host)?;
            let mut stored = Stored {
                username,
                user_phid: who.phid.clone(),
                login: (!mfa).then(|| req.login.clone()),
                password: (!mfa).then(|| password.clone()),
                cookies: None,
                token: None,
                own_call: Some(own_call),
            };
            stored.set_cookies(web.cookies());
            let mut facts = identity_facts(&who);
            facts.push(Fact::new("Signed in with", "password: Keyward keeps one web session and reads the settings panels with it"));
            if mfa {
                facts.push(Fact::new("Second factor", "on: a new web session, and a high-security action, need a one-time code"));
            }
            Ok::<_, Error>(SignedIn {
                base_url: base.clone(),
                user_id: who.user_name,
                own_credential: None,
                server_facts: facts,
                stored: crate::provider::to_stored(&stored)?,
            })
        }
        .await;
        if signed.is_err() {
            web.log_out().await.ok();
        }
        signed
    }

    async fn sign_in_token(&self, http: &Http, base: &Url, req: &SignInRequest, token: &Secret) -> Result<SignedIn> {
        let host = crate::model::host_of(base.as_str());
        conduit::token_shape(token.expose().trim()).map_err(Error::input)?;
        let token = Secret::new(token.expose().trim());
        let who = conduit::with_token(http, base, &token, "user.whoami", json!({})).await.map_err(|r| match r {
            Refusal::BadToken | Refusal::NoSession => Error::SignInMethod {
                message: format!(
                    "{host} does not accept this Conduit API token (it is unknown, expired or terminated); nothing was changed"
                ),
                remedy: Some(session::token_remedy(base)),
            },
            Refusal::Other(e) => e,
        })?;
        let who = conduit::whoami(who, &host)?;
        let login = req.login.trim();
        if !login.eq_ignore_ascii_case(&who.user_name) && who.primary_email.as_deref().is_none_or(|m| !m.eq_ignore_ascii_case(login)) {
            return Err(Error::input(format!("this token belongs to {}, not {login}", who.user_name)));
        }
        let stored = Stored {
            username: who.user_name.clone(),
            user_phid: who.phid.clone(),
            login: None,
            password: None,
            cookies: None,
            token: Some(token),
            own_call: None,
        };
        let mut facts = identity_facts(&who);
        facts.push(Fact::new("Signed in with", "a Conduit API token: Phorge's API only, not its settings pages"));
        Ok(SignedIn {
            base_url: base.clone(),
            user_id: who.user_name,
            own_credential: None,
            server_facts: facts,
            stored: crate::provider::to_stored(&stored)?,
        })
    }
}

fn identity_facts(who: &conduit::Whoami) -> Vec<Fact> {
    let mut facts = vec![Fact::new(
        "User",
        match &who.real_name {
            Some(r) if !r.is_empty() => format!("{} ({r})", who.user_name),
            _ => who.user_name.clone(),
        },
    )];
    facts.push(Fact::new("User PHID", who.phid.clone()));
    if !who.roles.is_empty() {
        facts.push(Fact::new("Roles", who.roles.join(", ")));
    }
    facts
}

#[async_trait]
impl Provider for Phorge {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            kind: KIND,
            display_name: "Phorge",
            aliases: &["phabricator"],
            sign_in: &[SignInMethod::Password, SignInMethod::Token],
            token_label: "Conduit API token",
            token_page: Some("settings/panel/apitokens/"),
            rename: true,
            revoke: true,
            revoke_many: true,
            revoke_all_others: true,
            sign_out: true,
            token_shapes: &[TokenShape { what: "Phorge Conduit API token", matches: |t| conduit::token_shape(t).is_ok() }],
            ..Default::default()
        }
    }

    /// `user.whoami` with the pasted token says whose it is (Phorge logs that call, nothing else
    /// changes); the token row is the one whose first 8 characters, as the panel shows them, match.
    async fn identify(&self, s: &Session<'_>, token: &Secret) -> Result<Identified> {
        let pasted = Secret::new(token.expose().trim());
        let base = s.base_url()?;
        let who = match conduit::with_token(s.http, &base, &pasted, "user.whoami", json!({})).await {
            Ok(v) => conduit::whoami(v, &s.account.host())?,
            Err(Refusal::BadToken) => return Ok(Identified { valid: Some(false), ..Default::default() }),
            Err(Refusal::NoSession) => return Ok(Identified { valid: Some(false), ..Default::default() }),
            Err(Refusal::Other(e)) => return Err(e),
        };
        if who.user_name != s.account.user_id {
            return Ok(Identified { valid: Some(true), user_id: Some(who.user_name), credential_id: None });
        }
        let prefix: String = pasted.expose().chars().take(8).collect();
        let credential_id = self.list(s).await.ok().and_then(|found| {
            found
                .credentials
                .into_iter()
                .find(|c| c.details.iter().any(|f| f.label == "Token (first 8 characters)" && f.value.trim_end_matches('…') == prefix))
                .map(|c| c.id)
        });
        Ok(Identified { valid: Some(true), user_id: Some(who.user_name), credential_id })
    }

    async fn probe(&self, http: &Http, url: &Url) -> Result<Option<Url>> {
        Ok(conduit::is_phorge(http, url).await?.then(|| url.clone()))
    }

    async fn sign_in(&self, http: &Http, req: SignInRequest) -> Result<SignedIn> {
        let base = self.require(http, &req.url).await?;
        match &req.secret {
            SignInSecret::Password(p) => self.sign_in_password(&base, &req, &p.clone()).await,
            SignInSecret::Token(t) => self.sign_in_token(http, &base, &req, &t.clone()).await,
        }
    }

    async fn list(&self, s: &Session<'_>) -> Result<Found> {
        let mut stored: Stored = s.load().await?;
        if let Some(token) = stored.token.clone() {
            return self.list_token(s, &stored, &token).await;
        }
        let mut kept = Self::kept(s, &stored)?;
        let found = self.list_web(s, &stored, &mut kept).await;
        Self::keep(s, &mut stored, &kept).await?;
        found
    }

    async fn rename(&self, s: &Session<'_>, id: &str, name: &str, proof: &Proof) -> Result<()> {
        let mut stored: Stored = s.load().await?;
        if stored.token.is_some() {
            return Err(actions::needs_web(s));
        }
        let mut kept = Self::kept(s, &stored)?;
        let done = actions::rename(s, &stored.panel("apitokens"), &mut kept, id, name, proof).await;
        Self::keep(s, &mut stored, &kept).await?;
        done
    }

    async fn revoke(&self, s: &Session<'_>, ids: &[String], proof: &Proof) -> Result<Vec<Revoked>> {
        let mut stored: Stored = s.load().await?;
        if let Some(token) = stored.token.clone() {
            return actions::revoke_with_token(s, &token, ids).await;
        }
        let mut kept = Self::kept(s, &stored)?;
        let done = actions::revoke(s, &actions::Panels::of(&stored), &mut kept, ids, proof).await;
        Self::keep(s, &mut stored, &kept).await?;
        done
    }

    async fn revoke_all_others(&self, s: &Session<'_>, proof: &Proof) -> Result<Vec<Revoked>> {
        let mut stored: Stored = s.load().await?;
        if let Some(token) = stored.token.clone() {
            return actions::revoke_with_token(s, &token, &[credentials::EVERY_SESSION.to_string()]).await;
        }
        let mut kept = Self::kept(s, &stored)?;
        let done = actions::terminate_all_others(s, &stored.panel("sessions"), &mut kept, proof).await;
        Self::keep(s, &mut stored, &kept).await?;
        done
    }

    /// Logs Keyward's web session out (that session only). A token sign-in has nothing of
    /// Keyward's own to end: the token was the user's before and stays.
    async fn sign_out(&self, s: &Session<'_>) -> Result<()> {
        let stored: Stored = s.load().await?;
        if stored.token.is_some() || stored.cookies.is_none() {
            return Ok(());
        }
        let mut web = Web::resume(&s.base_url()?, stored.cookie_map());
        match web.get("settings/panel/apitokens/").await? {
            session::Got::Dead => Ok(()),
            session::Got::Page(_) => web.log_out().await,
        }
    }
}
