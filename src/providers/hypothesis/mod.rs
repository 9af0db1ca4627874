//! Hypothesis (h, the annotation server): the developer token and OAuth tokens of an account,
//! and honest words about the rest.
//!
//! h gives each user one developer token (`6879-…`, no expiry) that the developer page shows and
//! replaces in place, and apps OAuth tokens (`5768-…` access, `4657-…` refresh) that only their
//! holder sees. Login sessions are listed nowhere. So Keyward signs in one of two ways:
//!
//! - with the username (or e-mail) and password, through the web login (`web.rs`): its cookies
//!   reach the developer page, where the token is read and replaced. The password is not kept:
//!   the login lasts 90 days from its last use, and after that the account signs in again.
//! - with a pasted developer token, or an app's OAuth access token, for the API alone. Replacing
//!   the developer token then needs the account's password for that one action (the web login
//!   is made for it and logged out after), and Keyward switches to the new token itself.
//!
//! `/api/profile` answers HTTP 200 for any token, with `userid: null` when it does not accept it:
//! only a userid is an account. Replacing the developer token is reported done only once the old
//! value is refused and the new one accepted. An OAuth token is revoked at `/oauth/revoke`; a
//! developer token is never sent there (h answers it with HTTP 500).
//!
//! Facts: `shared/reference/phorge-hypothesis.md`, above all what a real h (2026-07) answered.
//! Not here: sign-in through ORCID, Google or Facebook (h's other login buttons), and OAuth tokens
//! Keyward does not hold (h shows them to nobody else).

mod api;
mod credentials;
mod web;
mod wire;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Error, Result};
use crate::model::{host_of, AccountActions, Fact, Kind};
use crate::net::http::Http;
use crate::provider::{
    Capabilities, Found, Identified, Proof, Provider, Revoked, Session, SignInMethod, SignInRequest, SignInSecret, SignedIn,
};
use crate::secret::{self, Secret};
use api::Api;
use credentials::{Access, DEVELOPER_TOKEN_ID, OAUTH_TOKEN_ID, WEB_LOGIN_ID};
use web::{LoginFailed, Web};
use wire::{DebugToken, TokenShape};

pub struct Hypothesis;

/// This kind of server, as the registry and stored accounts name it.
pub const KIND: Kind = Kind::new("hypothesis");

const DISPLAY_NAME: &str = "Hypothesis";

/// What the keyring keeps for a Hypothesis account.
#[derive(Serialize, Deserialize)]
struct Stored {
    /// The user's h name (`alice` of `acct:alice@hypothes.is`): what the login form takes.
    username: String,
    #[serde(flatten)]
    via: Via,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "via", rename_all = "snake_case")]
enum Via {
    /// The web login's cookies (`auth`, `h_api_authcookie.v2`, `session`), and when it was made.
    WebLogin {
        #[serde(with = "secret::stored")]
        cookies: Secret,
        since: DateTime<Utc>,
    },
    /// A developer token or an app's OAuth access token the user pasted.
    Token {
        #[serde(with = "secret::stored")]
        token: Secret,
        /// An app's OAuth access token (h describes it with its client), not the developer token.
        #[serde(default)]
        oauth: bool,
    },
}

impl Stored {
    fn access(&self) -> Access {
        match &self.via {
            Via::WebLogin { .. } => Access::WebLogin,
            Via::Token { oauth: true, .. } => Access::OauthToken,
            Via::Token { .. } => Access::DeveloperToken,
        }
    }
}

fn wrong_password(login: &str, base: &Url) -> Error {
    Error::WrongPassword { account: format!("{login}@{}", host_of(base.as_str())) }
}

fn not_accepted(base: &Url, why: &str) -> Error {
    Error::input(format!("{} does not accept this token: {why}; nothing was kept", host_of(base.as_str())))
}

impl Hypothesis {
    // ---- signing in ----

    async fn sign_in_with_password(&self, http: &Http, base: Url, login: &str, password: &Secret) -> Result<SignedIn> {
        let (mut web, redirected_to) = match Web::login(&base, login, password).await {
            Ok(w) => w,
            Err(LoginFailed::WrongPassword) => return Err(wrong_password(login, &base)),
            Err(LoginFailed::Other(e)) => return Err(e),
        };
        match self.identify(http, &base, &mut web, redirected_to).await {
            Ok(signed) => Ok(signed),
            Err(e) => {
                // Nothing is left behind: the login just made ends with the sign-in that failed.
                let _ = web.logout().await;
                Err(e)
            }
        }
    }

    /// Who the fresh web login is, from the developer token's own user where there is one, else
    /// from the user h's login redirected to; and what to keep.
    async fn identify(&self, http: &Http, base: &Url, web: &mut Web, redirected_to: Option<String>) -> Result<SignedIn> {
        let host = host_of(base.as_str());
        let Some(page) = web.developer_page().await? else {
            return Err(Error::Server { host, message: "Hypothesis signed Keyward in but then did not show it the developer page".into() });
        };
        let api = Api::new(http, base);
        let authority = api.profile(None).await?.authority.filter(|a| !a.is_empty()).unwrap_or_else(|| host.clone());
        let from_token = match &page.token {
            Some(t) => api.profile(Some(t)).await?.userid,
            None => None,
        };
        let userid = match (from_token, redirected_to) {
            (Some(u), Some(name)) if wire::username_of(&u).is_some_and(|n| !n.eq_ignore_ascii_case(&name)) => {
                return Err(Error::bad_response(host, "the login and the developer token name different users"));
            }
            (Some(u), _) => u,
            (None, Some(name)) => format!("acct:{name}@{authority}"),
            (None, None) => return Err(Error::bad_response(host, "the login did not say which user signed in")),
        };
        let Some(username) = wire::username_of(&userid).map(str::to_string) else {
            return Err(Error::bad_response(host, "a user id that is not of the form acct:name@authority"));
        };
        let facts = vec![
            Fact::new("Signed in with", "the password (web login; the password is not kept)"),
            Fact::new("Authority", authority),
            Fact::new("Developer token", if page.token.is_some() { "yes" } else { "none" }),
        ];
        let stored = Stored { username, via: Via::WebLogin { cookies: web.cookies(), since: Utc::now() } };
        Ok(SignedIn {
            base_url: base.clone(),
            user_id: userid,
            own_credential: Some(WEB_LOGIN_ID.into()),
            server_facts: facts,
            stored: crate::provider::to_stored(&stored)?,
        })
    }

    async fn sign_in_with_token(&self, http: &Http, base: Url, login: &str, token: Secret) -> Result<SignedIn> {
        let shape = TokenShape::of(token.expose());
        if shape == TokenShape::OauthRefresh {
            return Err(Error::input(
                "that is an OAuth refresh token (4657-…), which cannot sign in: paste the developer token (6879-…) from the developer page",
            ));
        }
        let token = Secret::new(token.expose().trim());
        let api = Api::new(http, &base);
        // HTTP 200 is no answer here: only a userid is an account.
        let profile = api.profile(Some(&token)).await?;
        let Some(userid) = profile.userid.filter(|u| !u.is_empty()) else {
            return Err(not_accepted(&base, "Hypothesis answers for it as for a signed-out visitor (its profile has no user)"));
        };
        let Some(debug) = api.debug_token(&token).await? else {
            return Err(not_accepted(&base, "Hypothesis does not know it or it has expired"));
        };
        if debug.userid.as_deref() != Some(userid.as_str()) || debug.expired {
            return Err(not_accepted(&base, "Hypothesis describes it as another user's, or expired"));
        }
        let username = wire::username_of(&userid).unwrap_or(&userid).to_string();
        let typed = login.trim();
        if !(typed.eq_ignore_ascii_case(&username) || typed == userid) {
            return Err(Error::input(format!("this token belongs to {username}, not {typed}; nothing was kept")));
        }
        let oauth = shape == TokenShape::OauthAccess || debug.client.is_some();
        let mut facts = vec![Fact::new(
            "Signed in with",
            if oauth { "an app's OAuth access token (it expires within the hour)" } else { "the developer token" },
        )];
        if let Some(a) = profile.authority.filter(|a| !a.is_empty()) {
            facts.push(Fact::new("Authority", a));
        }
        if let Some(n) = profile.user_info.and_then(|u| u.display_name).filter(|n| !n.is_empty()) {
            facts.push(Fact::new("Display name", n));
        }
        let stored = Stored { username, via: Via::Token { token, oauth } };
        Ok(SignedIn {
            base_url: base,
            user_id: userid,
            own_credential: Some(if oauth { OAUTH_TOKEN_ID } else { DEVELOPER_TOKEN_ID }.into()),
            server_facts: facts,
            stored: crate::provider::to_stored(&stored)?,
        })
    }

    // ---- listing ----

    /// The web login's view: the developer page, and the token it shows described by h.
    async fn list_web(&self, s: &Session<'_>, stored: &mut Stored, base: &Url, cookies: &Secret, since: DateTime<Utc>) -> Result<Found> {
        let mut web = Web::resume(base, cookies);
        let Some(page) = web.developer_page().await? else {
            return Err(s.sign_in_again("Hypothesis no longer takes its web login as signed in (logged out, or 90 days without use)"));
        };
        self.keep_cookies(s, stored, &web).await?;
        let mut credentials = Vec::new();
        if let Some(token) = &page.token {
            let debug = Api::new(s.http, base).debug_token(token).await?;
            if let Some(u) = debug.as_ref().and_then(|d| d.userid.as_deref()).filter(|u| *u != s.account.user_id) {
                return Err(Error::bad_response(
                    s.account.host(),
                    format!("the developer page shows a token of another user ({})", crate::net::http::one_line(u)),
                ));
            }
            credentials.push(credentials::developer_token(base, token, debug.as_ref(), Access::WebLogin));
        }
        credentials.push(credentials::web_login(since));
        let gaps = credentials::gaps(base, Access::WebLogin, Some(page.token.is_some()));
        Ok(Found { credentials, gaps, account_actions: self.account_actions(base), own_credential: Some(WEB_LOGIN_ID.into()) })
    }

    /// The pasted token's view: the token itself, described by h.
    async fn list_token(&self, s: &Session<'_>, token: &Secret, access: Access, base: &Url) -> Result<Found> {
        let debug = self.own_token(s, token, base).await?;
        let (credential, own) = match access {
            Access::OauthToken => (credentials::oauth_token(base, token, &debug), OAUTH_TOKEN_ID),
            _ => (credentials::developer_token(base, token, Some(&debug), access), DEVELOPER_TOKEN_ID),
        };
        let gaps = credentials::gaps(base, access, None);
        Ok(Found { credentials: vec![credential], gaps, account_actions: self.account_actions(base), own_credential: Some(own.into()) })
    }

    /// h's description of the token Keyward signs in with, or "sign in again" when h no longer
    /// takes it as this account's.
    async fn own_token(&self, s: &Session<'_>, token: &Secret, base: &Url) -> Result<DebugToken> {
        let api = Api::new(s.http, base);
        let profile = api.profile(Some(token)).await?;
        if profile.userid.as_deref() != Some(s.account.user_id.as_str()) {
            return Err(
                s.sign_in_again("Hypothesis answers for its token as for a signed-out visitor: it was replaced, revoked or has expired")
            );
        }
        match api.debug_token(token).await? {
            Some(d) if !d.expired => Ok(d),
            _ => Err(s.sign_in_again("Hypothesis no longer accepts its token")),
        }
    }

    fn account_actions(&self, base: &Url) -> AccountActions {
        AccountActions { manage_url: Some(credentials::developer_page_url(base)), ..Default::default() }
    }

    async fn keep_cookies(&self, s: &Session<'_>, stored: &mut Stored, web: &Web) -> Result<()> {
        let now = web.cookies();
        if let Via::WebLogin { cookies, .. } = &mut stored.via {
            if cookies.expose() != now.expose() {
                *cookies = now;
                s.save(&*stored).await?;
            }
        }
        Ok(())
    }

    // ---- replacing the developer token ----

    /// Replaces the developer token and reports it done only when h refuses the old value and
    /// accepts the new one as this account's.
    async fn replace_developer_token(&self, s: &Session<'_>, stored: &mut Stored, proof: &Proof) -> Result<Revoked> {
        let base = s.base_url()?;
        let id = DEVELOPER_TOKEN_ID;
        let (mut web, temporary) = match &stored.via {
            Via::WebLogin { cookies, .. } => (Web::resume(&base, cookies), false),
            Via::Token { .. } => {
                let Some(password) = proof.password() else {
                    return Err(Error::PasswordNeeded { account: s.account.name(), server: DISPLAY_NAME });
                };
                match Web::login(&base, &stored.username, password).await {
                    Ok((web, _)) => (web, true),
                    Err(LoginFailed::WrongPassword) => return Err(s.wrong_password()),
                    Err(LoginFailed::Other(e)) => return Err(e),
                }
            }
        };
        let result = self.replace_on_page(s, stored, &mut web, &base).await;
        if temporary {
            // The web login was made for this one action: end it whatever happened.
            let _ = web.logout().await;
        } else {
            self.keep_cookies(s, stored, &web).await?;
        }
        result.map(|r| r.unwrap_or_else(|why| Revoked::failed(id, why)))
    }

    /// The replacement itself, on the developer page of a signed-in web session. `Ok(Err(why))`
    /// is a replacement that did not happen as it must, in words for the report.
    async fn replace_on_page(&self, s: &Session<'_>, stored: &mut Stored, web: &mut Web, base: &Url) -> Result<Result<Revoked, String>> {
        let userid = s.account.user_id.as_str();
        let api = Api::new(s.http, base);
        let Some(before) = web.developer_page().await? else {
            return Err(s.sign_in_again("Hypothesis no longer takes its web login as signed in"));
        };
        let Some(old) = before.token else {
            return Ok(Err("this account has no developer token any more: nothing was replaced".into()));
        };
        if let Via::Token { token, .. } = &stored.via {
            if token.expose() != old.expose() {
                return Ok(Err(
                    "the password signs in to an account whose developer token is not the one Keyward holds: nothing was replaced".into(),
                ));
            }
        }
        if !api.works_as(&old, userid).await? {
            return Ok(Err("the developer token on the page is not this account's: nothing was replaced".into()));
        }
        let Some(after) = web.regenerate().await? else {
            return Err(s.sign_in_again("Hypothesis no longer takes its web login as signed in"));
        };
        let Some(new) = after.token.filter(|n| n.expose() != old.expose()) else {
            return Ok(Err("Hypothesis answered without a new developer token: the old one still stands".into()));
        };
        if let Via::Token { token, .. } = &mut stored.via {
            // Keyward signs in with it: keep working with the new value before anything else.
            *token = new.clone();
            s.save(&*stored).await?;
        }
        let old_dead = api.is_dead(&old).await?;
        let new_works = api.works_as(&new, userid).await?;
        Ok(match (old_dead, new_works) {
            (true, true) => Ok(Revoked::replaced(DEVELOPER_TOKEN_ID)),
            (false, _) => Err("Hypothesis made a new developer token but the old one still works, so scripts using it are not cut off: replace it again on the developer page".into()),
            (true, false) => Err("Hypothesis replaced the developer token, but the new one does not work: see the developer page".into()),
        })
    }

    // ---- revoking the OAuth token ----

    async fn revoke_oauth_token(&self, s: &Session<'_>, stored: &Stored) -> Result<Revoked> {
        let Via::Token { token, oauth: true } = &stored.via else {
            return Ok(Revoked::failed(OAUTH_TOKEN_ID, "Keyward holds no OAuth token for this account"));
        };
        let base = s.base_url()?;
        let api = Api::new(s.http, &base);
        api.revoke_oauth(token).await?;
        if !api.is_dead(token).await? {
            return Ok(Revoked::failed(OAUTH_TOKEN_ID, "Hypothesis still accepts the token after revoking it"));
        }
        Ok(Revoked::ok(OAUTH_TOKEN_ID))
    }
}

#[async_trait]
impl Provider for Hypothesis {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            kind: KIND,
            display_name: DISPLAY_NAME,
            aliases: &["hypothes.is", "h"],
            sign_in: &[SignInMethod::Password, SignInMethod::Token],
            token_label: "developer token",
            token_page: Some(web::DEVELOPER_PAGE),
            revoke: true,
            sign_out: true,
            token_shapes: &[
                crate::provider::TokenShape { what: "Hypothesis developer token", matches: |t| TokenShape::of(t) == TokenShape::Developer },
                crate::provider::TokenShape {
                    what: "Hypothesis OAuth access token",
                    matches: |t| TokenShape::of(t) == TokenShape::OauthAccess,
                },
                crate::provider::TokenShape {
                    what: "Hypothesis OAuth refresh token",
                    matches: |t| TokenShape::of(t) == TokenShape::OauthRefresh,
                },
            ],
            ..Default::default()
        }
    }

    /// `/api/debug-token` says whose a bearer token is without changing anything on h. A
    /// refresh token is no bearer token: only using it would tell, so it is not sent.
    async fn identify(&self, s: &Session<'_>, token: &Secret) -> Result<Identified> {
        let shape = TokenShape::of(token.expose());
        if shape == TokenShape::OauthRefresh || shape == TokenShape::Other {
            return Ok(Identified::default());
        }
        let base = s.base_url()?;
        let pasted = Secret::new(token.expose().trim());
        let Some(debug) = Api::new(s.http, &base).debug_token(&pasted).await? else {
            return Ok(Identified { valid: Some(false), ..Default::default() });
        };
        let credential_id = match shape {
            TokenShape::Developer => Some(DEVELOPER_TOKEN_ID.to_string()),
            _ => None,
        };
        Ok(Identified { valid: Some(!debug.expired), user_id: debug.userid, credential_id })
    }

    async fn probe(&self, http: &Http, url: &Url) -> Result<Option<Url>> {
        Ok(Api::new(http, url).is_hypothesis().await?.then(|| url.clone()))
    }

    async fn sign_in(&self, http: &Http, req: SignInRequest) -> Result<SignedIn> {
        let base = self.require(http, &req.url).await?;
        match req.secret {
            SignInSecret::Password(p) => self.sign_in_with_password(http, base, &req.login, &p).await,
            SignInSecret::Token(t) => self.sign_in_with_token(http, base, &req.login, t).await,
        }
    }

    async fn list(&self, s: &Session<'_>) -> Result<Found> {
        let mut stored: Stored = s.load().await?;
        let base = s.base_url()?;
        let access = stored.access();
        match &stored.via {
            Via::WebLogin { cookies, since } => {
                let (cookies, since) = (cookies.clone(), *since);
                self.list_web(s, &mut stored, &base, &cookies, since).await
            }
            Via::Token { token, .. } => self.list_token(s, token, access, &base).await,
        }
    }

    async fn revoke(&self, s: &Session<'_>, ids: &[String], proof: &Proof) -> Result<Vec<Revoked>> {
        let mut stored: Stored = s.load().await?;
        let mut results = Vec::new();
        for id in ids {
            results.push(match id.as_str() {
                DEVELOPER_TOKEN_ID => self.replace_developer_token(s, &mut stored, proof).await?,
                OAUTH_TOKEN_ID => self.revoke_oauth_token(s, &stored).await?,
                WEB_LOGIN_ID => {
                    Revoked::failed(id, "Keyward's own web login ends when the account is removed from Keyward with signing out")
                }
                _ => Revoked::failed(id, "Keyward does not know this kind of Hypothesis credential"),
            });
        }
        Ok(results)
    }

    /// Ends Keyward's web login. A pasted token stays: it was the user's before Keyward had it.
    async fn sign_out(&self, s: &Session<'_>) -> Result<()> {
        let stored: Stored = s.load().await?;
        match &stored.via {
            Via::WebLogin { cookies, .. } => Web::resume(&s.base_url()?, cookies).logout().await,
            Via::Token { .. } => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::http::join;

    #[test]
    fn stored_round_trips_for_both_ways_in() {
        let web = Stored { username: "alice".into(), via: Via::WebLogin { cookies: Secret::new("auth=x"), since: Utc::now() } };
        let json = crate::provider::to_stored(&web).unwrap();
        let back: Stored = serde_json::from_str(json.expose()).unwrap();
        assert!(matches!(back.via, Via::WebLogin { ref cookies, .. } if cookies.expose() == "auth=x"));
        assert_eq!(back.access(), Access::WebLogin);
        let tok = Stored { username: "alice".into(), via: Via::Token { token: Secret::new("5768-abc"), oauth: true } };
        let back: Stored = serde_json::from_str(crate::provider::to_stored(&tok).unwrap().expose()).unwrap();
        assert_eq!(back.access(), Access::OauthToken);
    }

    #[test]
    fn token_page_is_relative_to_the_base() {
        let base = Url::parse("https://h.example/sub/").unwrap();
        assert_eq!(join(&base, Hypothesis.capabilities().token_page.unwrap()).as_str(), "https://h.example/sub/account/developer");
    }
}
