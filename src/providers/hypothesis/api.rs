//! The parts of h's HTTP API the provider uses: the links document (detection), `/api/profile`
//! (who a token is), `/api/debug-token` (whether a token works, and its dates and client) and
//! `/oauth/revoke` (RFC 7009, as h answers it).
//!
//! Each call says what h's answer means and no more; judging it (sign in again, refuse, report a
//! failure) is `mod.rs`'s job. A token goes only to the account's own server, in the
//! `Authorization` header or the revoke form; never into an error.

use reqwest::header::{ACCEPT, AUTHORIZATION};
use url::Url;

use super::wire::{self, DebugToken, Failure, Profile, TokenShape};
use crate::error::{Error, Result};
use crate::net::http::{join, Http, Response};
use crate::secret::Secret;

/// h's API at one base URL.
pub struct Api<'a> {
    http: &'a Http,
    base: &'a Url,
}

impl<'a> Api<'a> {
    pub fn new(http: &'a Http, base: &'a Url) -> Self {
        Api { http, base }
    }

    async fn get(&self, path: &str, token: Option<&Secret>) -> Result<Response> {
        let mut req = self.http.get(join(self.base, path)).header(ACCEPT, "application/json");
        if let Some(t) = token {
            req = req.header(AUTHORIZATION, format!("Bearer {}", t.expose()));
        }
        self.http.send(req).await
    }

    /// Does `GET /api/` answer with h's links document?
    pub async fn is_hypothesis(&self) -> Result<bool> {
        let r = self.get("api/", None).await?;
        Ok(r.is_success() && r.json_value().is_some_and(|v| wire::is_links_document(&v)))
    }

    /// `GET /api/profile` as the token (or as nobody). HTTP 200 even for a token h does not accept:
    /// then `userid` is null.
    pub async fn profile(&self, token: Option<&Secret>) -> Result<Profile> {
        let r = self.get("api/profile", token).await?;
        if !r.is_success() {
            return Err(r.unexpected());
        }
        r.json("a Hypothesis profile")
    }

    /// `GET /api/debug-token`: the token's facts, or `None` when h does not accept it (401).
    pub async fn debug_token(&self, token: &Secret) -> Result<Option<DebugToken>> {
        let r = self.get("api/debug-token", Some(token)).await?;
        match r.status.as_u16() {
            200 => r.json("a Hypothesis token description").map(Some),
            401 => Ok(None),
            _ => Err(r.unexpected()),
        }
    }

    /// Does h accept this token as `userid` right now? Both questions must say yes: debug-token
    /// checks only the token, the profile also its user (a deleted user's token passes the first).
    pub async fn works_as(&self, token: &Secret, userid: &str) -> Result<bool> {
        let debug = self.debug_token(token).await?;
        if !debug.is_some_and(|d| d.userid.as_deref() == Some(userid) && !d.expired) {
            return Ok(false);
        }
        Ok(self.profile(Some(token)).await?.userid.as_deref() == Some(userid))
    }

    /// Is this token dead: refused by debug-token, and nobody to the profile?
    pub async fn is_dead(&self, token: &Secret) -> Result<bool> {
        if self.debug_token(token).await?.is_some() {
            return Ok(false);
        }
        Ok(self.profile(Some(token)).await?.userid.is_none())
    }

    /// `POST /oauth/revoke` with `token=`: 200 `{}` when h deleted the token pair, 401
    /// `invalid_client` when it does not know the token (already revoked); both leave it gone.
    /// Never with a developer token: h answers that with HTTP 500 (it looks for the token's OAuth
    /// client, which a developer token has none of).
    pub async fn revoke_oauth(&self, token: &Secret) -> Result<()> {
        if TokenShape::of(token.expose()) == TokenShape::Developer {
            return Err(Error::Refused {
                message: "a developer token is not an OAuth token: Hypothesis replaces it on the developer page instead".into(),
                remedy: None,
            });
        }
        let req = self.http.post(join(self.base, "oauth/revoke")).header(ACCEPT, "application/json").form(&[("token", token.expose())]);
        let r = self.http.send(req).await?;
        match r.status.as_u16() {
            200 => Ok(()),
            401 if r.json::<Failure>("a Hypothesis error").ok().and_then(|f| f.oauth_error()).as_deref() == Some("invalid_client") => {
                Ok(())
            }
            _ => Err(failure(&r)),
        }
    }
}

/// An unexpected answer as one sentence: h's `{"status": "failure", "reason"}` when it gave one.
pub fn failure(r: &Response) -> Error {
    match r.json::<Failure>("a Hypothesis error") {
        Ok(Failure { status: Some(s), reason: Some(reason) }) if s == "failure" => {
            let said = Failure { status: None, reason: Some(reason.clone()) }.oauth_error().unwrap_or(reason);
            Error::Server { host: r.host(), message: format!("HTTP {}: {}", r.status.as_u16(), crate::net::http::one_line(&said)) }
        }
        _ => r.unexpected(),
    }
}
