//! Matrix next-gen auth: the OAuth 2.0 API of the Matrix spec (v1.15+, MSC3861 and its parts), as
//! the Matrix Authentication Service serves it.
//!
//! Discovery (`/_matrix/client/v1/auth_metadata`, else the older `org.matrix.msc2965` path, else
//! the well-known's `org.matrix.msc2965.authentication` issuer and its OpenID configuration),
//! dynamic client registration (RFC 7591 with the Matrix client metadata), the authorisation
//! code grant with PKCE S256 and `state` through the loopback listener, the device-scoped token,
//! refresh with rotation, and revocation (RFC 7009) of Keyward's own token.
//!
//! The endpoints are checked once, at sign-in (all on the issuer's origin, https when the
//! homeserver is https), and kept in the account's stored secret as a [`Grant`]: a refresh or a
//! sign-out never asks the homeserver again where to send a token, so a homeserver whose metadata
//! changes later cannot have a refresh token sent elsewhere.
//!
//! Ending another session is the account page's (`account_management_uri`, with the newest
//! action the server names): this module makes that page's address, remembers the ask with the
//! grant, and says in the listing that it waits for the user's confirmation until it is gone.
//!
//! Not here: the listing itself (the client API is the classic one, with this token).

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use url::Url;

use super::{server_error, Matrix, Stored, Whoami};
use crate::error::{Error, Result};
use crate::model::{host_of, Credential, Fact};
use crate::net::http::{join, one_line, Http, Response};
use crate::provider::{Approved, BrowserAsk, BrowserPage, Provider, Revoked, Session, SignedIn};
use crate::secret::{self, Secret, SecretBody};

/// The page that says what Keyward is, given as the client's `client_uri` (https, as the spec
/// requires).
const CLIENT_URI: &str = "https://github.com/keyward-app/keyward";

/// The account-page actions that end one session, newest first (spec v1.18 renamed
/// `org.matrix.session_end` to `org.matrix.device_delete`).
const END_ACTIONS: [&str; 2] = ["org.matrix.device_delete", "org.matrix.session_end"];

/// The authorisation server's metadata (RFC 8414 fields the Matrix spec requires, and MSC4191's
/// account management fields).
#[derive(Deserialize, Clone)]
pub(super) struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub registration_endpoint: Option<String>,
    pub revocation_endpoint: Option<String>,
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
    #[serde(default)]
    pub scopes_supported: Vec<String>,
    pub account_management_uri: Option<String>,
    #[serde(default)]
    pub account_management_actions_supported: Vec<String>,
}

/// How the metadata was found: the stable path (spec v1.15+: stable scopes) or an older one.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub(super) enum FoundAt {
    Stable,
    Unstable,
}

/// `org.matrix.msc2965.authentication` in `/.well-known/matrix/client` (MSC2965's first form).
#[derive(Deserialize)]
struct WellKnown {
    #[serde(rename = "org.matrix.msc2965.authentication")]
    authentication: Option<WellKnownAuth>,
}

#[derive(Deserialize)]
struct WellKnownAuth {
    issuer: String,
}

/// What Keyward keeps for an OAuth account beside its tokens, in the keyring: where the tokens go
/// (fixed at sign-in), the account page, and the sign-outs asked for there and not yet seen done.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct Grant {
    pub issuer: String,
    pub client_id: String,
    pub token_endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_management_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
    /// Sessions whose end was asked for on the account page, not yet confirmed gone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ending: Vec<Ending>,
    /// When the access token expires, as the server said (`expires_in`) when it was issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A sign-out asked for on the account page.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(super) struct Ending {
    pub device_id: String,
    pub asked: DateTime<Utc>,
}

/// When a token issued now with `expires_in` seconds to live expires (`None`: the server did not
/// say).
pub(super) fn expiry(expires_in: Option<u64>) -> Option<DateTime<Utc>> {
    let secs = i64::try_from(expires_in?).ok()?.min(10 * 365 * 24 * 3600);
    Some(Utc::now() + chrono::Duration::seconds(secs))
}

impl Grant {
    /// Is the access token past its expiry time (as this computer's clock tells)?
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|t| now >= t)
    }

    /// The account page that ends `device_id`, with the newest action the server supports;
    /// `None` when it names no page or supports no such action.
    pub fn end_session_url(&self, device_id: &str) -> Option<String> {
        let action = END_ACTIONS.into_iter().find(|a| self.actions.iter().any(|s| s == a))?;
        let mut url = Url::parse(self.account_management_uri.as_deref()?).ok()?;
        url.query_pairs_mut().append_pair("action", action).append_pair("device_id", device_id);
        Some(url.to_string())
    }
}

/// What `browser_page` hands to `sign_in_approved`, in memory only (the PKCE verifier is in it).
#[derive(Serialize, Deserialize)]
struct Carry {
    /// Marks the carry as this module's (other browser sign-ins of Matrix carry their own).
    oauth: u8,
    #[serde(with = "secret::stored")]
    verifier: Secret,
    redirect_uri: String,
    device_id: String,
    grant: Grant,
}

/// RFC 6749 §5.2 error answer.
#[derive(Deserialize)]
struct OAuthError {
    error: Option<String>,
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct Registered {
    client_id: String,
}

#[derive(Deserialize)]
pub(super) struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: Option<u64>,
}

/// The registration request (RFC 7591, with the Matrix spec's client metadata).
#[derive(Serialize)]
struct Registration<'a> {
    client_name: &'a str,
    client_uri: &'a str,
    redirect_uris: [&'a str; 1],
    application_type: &'static str,
    token_endpoint_auth_method: &'static str,
    grant_types: [&'static str; 2],
    response_types: [&'static str; 1],
}

/// The server's metadata, when it uses next-gen auth: the stable path, the unstable one, then the
/// well-known's issuer (each only when the one before has none). `None` for a classic server.
pub(super) async fn discover(http: &Http, base: &Url) -> Result<Option<(Metadata, FoundAt)>> {
    let (stable, unstable) = tokio::join!(
        http.send(http.get(join(base, "_matrix/client/v1/auth_metadata"))),
        http.send(http.get(join(base, "_matrix/client/unstable/org.matrix.msc2965/auth_metadata"))),
    );
    for (r, found) in [(stable, FoundAt::Stable), (unstable, FoundAt::Unstable)] {
        let r = r?;
        if r.is_success() {
            if let Ok(m) = serde_json::from_slice::<Metadata>(&r.body) {
                return Ok(Some((m, found)));
            }
        }
    }
    let wk = match http.send(http.get(join(base, ".well-known/matrix/client"))).await {
        Ok(r) if r.is_success() => r,
        _ => return Ok(None),
    };
    let Ok(WellKnown { authentication: Some(auth) }) = serde_json::from_slice::<WellKnown>(&wk.body) else { return Ok(None) };
    let Ok(issuer) = Url::parse(&auth.issuer) else { return Ok(None) };
    let r = http.send(http.get(join(&issuer, ".well-known/openid-configuration"))).await?;
    if !r.is_success() {
        return Ok(None);
    }
    Ok(serde_json::from_slice::<Metadata>(&r.body).ok().map(|m| (m, FoundAt::Unstable)))
}

/// The metadata, checked: every endpoint on the issuer's own origin (the one authorisation server
/// the homeserver names), https when the homeserver is, PKCE S256 offered. Returns the issuer.
fn checked(base: &Url, m: &Metadata) -> Result<Url> {
    let host = host_of(base.as_str());
    let issuer = Url::parse(&m.issuer).map_err(|_| Error::bad_response(&host, "its authorisation server has no valid address"))?;
    let mut all = vec![&m.authorization_endpoint, &m.token_endpoint];
    all.extend(m.registration_endpoint.iter());
    all.extend(m.revocation_endpoint.iter());
    all.extend(m.account_management_uri.iter());
    for ep in std::iter::once(&m.issuer).chain(all) {
        let u = Url::parse(ep).map_err(|_| Error::bad_response(&host, "its authorisation server names an invalid address"))?;
        if !matches!(u.scheme(), "http" | "https") || !u.username().is_empty() || u.password().is_some() {
            return Err(Error::bad_response(&host, "its authorisation server names an address that is not a plain web address"));
        }
        if base.scheme() == "https" && u.scheme() != "https" {
            return Err(crate::net::http::downgrade(&host_of(u.as_str())));
        }
        if u.origin() != issuer.origin() {
            return Err(Error::Refused {
                message: format!(
                    "the authorisation server of {host} ({}) sends Keyward to another host ({}); Keyward does not send your tokens there",
                    host_of(issuer.as_str()),
                    host_of(u.as_str())
                ),
                remedy: None,
            });
        }
    }
    if !m.code_challenge_methods_supported.iter().any(|c| c == "S256") {
        return Err(Error::SignInMethod {
            message: format!("the authorisation server of {host} does not offer PKCE (S256), which the Matrix spec requires"),
            remedy: None,
        });
    }
    Ok(issuer)
}

fn oauth_error(r: &Response) -> Error {
    let e: OAuthError = serde_json::from_slice(&r.body).unwrap_or(OAuthError { error: None, error_description: None });
    match (e.error, e.error_description) {
        (Some(code), Some(d)) => Error::Server { host: r.host(), message: format!("{}: {}", one_line(&code), one_line(&d)) },
        (Some(code), None) => Error::Server { host: r.host(), message: one_line(&code) },
        _ => r.unexpected(),
    }
}

/// The approval page: registers Keyward with the authorisation server for this loopback address,
/// then the authorisation request with a fresh device id, PKCE and `state`.
pub(super) async fn browser_page(http: &Http, base: &Url, (m, found): (Metadata, FoundAt), ask: BrowserAsk<'_>) -> Result<BrowserPage> {
    let issuer = checked(base, &m)?;
    let host = host_of(issuer.as_str());
    let Some(registration) = &m.registration_endpoint else {
        return Err(Error::SignInMethod {
            message: format!("the authorisation server {host} does not let apps register themselves, so Keyward cannot sign in there"),
            remedy: None,
        });
    };
    let redirect_uri = ask.back.redirect.to_string();
    let body = Registration {
        client_name: "Keyward",
        client_uri: CLIENT_URI,
        redirect_uris: [&redirect_uri],
        application_type: "native",
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
    };
    let r = http
        .send(http.post(Url::parse(registration).map_err(|_| Error::bad_response(&host, "bad registration address"))?).json(&body))
        .await?;
    if !r.is_success() {
        return Err(oauth_error(&r));
    }
    let client: Registered = r.json("a client registration")?;
    let device_id = random(12, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")?;
    let verifier = Secret::new(random(64, b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")?);
    let challenge = base64url(ring::digest::digest(&ring::digest::SHA256, verifier.expose().as_bytes()).as_ref());
    let stable = found == FoundAt::Stable || m.scopes_supported.iter().any(|s| s == "urn:matrix:client:api:*");
    let scope = if stable {
        format!("urn:matrix:client:api:* urn:matrix:client:device:{device_id}")
    } else {
        format!("urn:matrix:org.matrix.msc2967.client:api:* urn:matrix:org.matrix.msc2967.client:device:{device_id}")
    };
    let mut page = Url::parse(&m.authorization_endpoint).map_err(|_| Error::bad_response(&host, "bad authorisation address"))?;
    page.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("response_mode", "query")
        .append_pair("client_id", &client.client_id)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("scope", &scope)
        .append_pair("state", &ask.back.state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let grant = Grant {
        issuer: m.issuer.clone(),
        client_id: client.client_id,
        token_endpoint: m.token_endpoint.clone(),
        revocation_endpoint: m.revocation_endpoint.clone(),
        account_management_uri: m.account_management_uri.clone(),
        actions: m.account_management_actions_supported.clone(),
        ending: Vec::new(),
        expires_at: None,
    };
    let carry = crate::provider::to_stored(&Carry { oauth: 1, verifier, redirect_uri, device_id, grant })?;
    Ok(BrowserPage { page, carry: Some(carry), also_on: Some(issuer) })
}

/// Is this carry one of this module's?
pub(super) fn carries_oauth(carry: Option<&Secret>) -> bool {
    carry.is_some_and(|c| serde_json::from_str::<Carry>(c.expose()).is_ok())
}

/// What the sign-in made: the tokens, the device they are scoped to, and the grant to keep.
pub(super) struct SignedInWith {
    pub tokens: Tokens,
    pub device_id: String,
    pub grant: Grant,
}

/// The browser's answer, checked, exchanged for the device-scoped tokens (PKCE verifier sent).
pub(super) async fn exchange(http: &Http, a: &Approved) -> Result<SignedInWith> {
    let carry: Carry = a
        .carry
        .as_ref()
        .and_then(|c| serde_json::from_str(c.expose()).ok())
        .ok_or_else(|| Error::input("the browser sign-in lost what it started with"))?;
    let host = host_of(&carry.grant.issuer);
    let cb = &a.callback;
    if let Some(e) = cb.text("error") {
        let message = if e == "access_denied" {
            format!("Keyward was not approved on {host} (rejected in the browser); nothing was stored")
        } else {
            let why = cb.text("error_description").map(|d| format!(": {}", one_line(&d))).unwrap_or_default();
            format!("{host} did not approve Keyward ({}{why}); nothing was stored", one_line(&e))
        };
        return Err(Error::NotApproved { message });
    }
    // RFC 9207: when the server says who answered, it must be the issuer asked.
    if let Some(iss) = cb.text("iss") {
        if iss != carry.grant.issuer {
            return Err(Error::Refused {
                message: format!("the answer came from {} instead of {host}; Keyward did not use it and stored nothing", host_of(&iss)),
                remedy: None,
            });
        }
    }
    let Some(code) = cb.get("code").filter(|c| !c.is_empty()) else {
        return Err(Error::bad_response(&host, "the browser came back without an authorisation code"));
    };
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code.expose()),
        ("redirect_uri", &carry.redirect_uri),
        ("client_id", &carry.grant.client_id),
        ("code_verifier", carry.verifier.expose()),
    ];
    let r = http.send(http.post(endpoint(&carry.grant.token_endpoint, &host)?).secret_form(&fields)).await?;
    if !r.is_success() {
        return Err(match serde_json::from_slice::<OAuthError>(&r.body).ok().and_then(|e| e.error).as_deref() {
            Some("invalid_grant") => {
                Error::NotApproved { message: format!("{host} no longer accepts this approval (expired or used); nothing was stored") }
            }
            _ => oauth_error(&r),
        });
    }
    let tokens: Tokens = r.json("tokens")?;
    let grant = Grant { expires_at: expiry(tokens.expires_in), ..carry.grant };
    Ok(SignedInWith { tokens, device_id: carry.device_id, grant })
}

fn endpoint(url: &str, host: &str) -> Result<Url> {
    Url::parse(url).map_err(|_| Error::Store(format!("the stored address of the authorisation server {host} is damaged; sign in again")))
}

/// What a refresh at the token endpoint brought.
pub(super) enum Refreshed {
    Tokens(Tokens),
    /// The refresh token is no longer accepted (`invalid_grant`).
    Refused,
}

/// Refreshes at the token endpoint fixed at sign-in (the refresh token rotates).
pub(super) async fn refresh(http: &Http, grant: &Grant, refresh_token: &Secret) -> Result<Refreshed> {
    let host = host_of(&grant.issuer);
    let fields = [("grant_type", "refresh_token"), ("refresh_token", refresh_token.expose()), ("client_id", &grant.client_id)];
    let r = http.send(http.post(endpoint(&grant.token_endpoint, &host)?).secret_form(&fields)).await?;
    if r.is_success() {
        return Ok(Refreshed::Tokens(r.json("a token refresh answer")?));
    }
    let code = serde_json::from_slice::<OAuthError>(&r.body).ok().and_then(|e| e.error);
    match (r.status, code.as_deref()) {
        (StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED, Some("invalid_grant" | "invalid_client")) => Ok(Refreshed::Refused),
        _ => Err(oauth_error(&r)),
    }
}

/// Revokes Keyward's own token at the revocation endpoint fixed at sign-in (RFC 7009): the
/// refresh token when there is one (that ends the whole session on the server), else the access
/// token. A server that names no such endpoint is said plainly.
pub(super) async fn revoke(http: &Http, grant: &Grant, token: &Secret, is_refresh: bool) -> Result<()> {
    let host = host_of(&grant.issuer);
    let Some(ep) = &grant.revocation_endpoint else {
        return Err(Error::unsupported(format!(
            "the authorisation server {host} offers no way for Keyward to end its own session; end it on the account page"
        )));
    };
    let hint = if is_refresh { "refresh_token" } else { "access_token" };
    let fields = [("token", token.expose()), ("token_type_hint", hint), ("client_id", &grant.client_id)];
    let r = http.send(http.post(endpoint(ep, &host)?).secret_form(&fields)).await?;
    if r.is_success() {
        return Ok(());
    }
    Err(oauth_error(&r))
}

/// What the account page says while a sign-out asked for there is not confirmed.
const WAITING: &str = "Waiting for you to confirm the sign-out in your browser";
/// ... and once the asking is long past (the page was closed without confirming).
const NOT_CONFIRMED: &str = "Still signed in: the sign-out asked for in the browser was not confirmed";
/// How long a sign-out asked for on the account page counts as waiting.
const CONFIRM_WAIT_MINUTES: i64 = 10;

/// What a listing says of a device whose end was asked for on the account page: waiting for the
/// confirmation, or, long after, that it was not confirmed; `None` when none was asked.
fn pending_words(ending: &[Ending], device_id: &str, now: DateTime<Utc>) -> Option<&'static str> {
    let e = ending.iter().find(|e| e.device_id == device_id)?;
    Some(if now - e.asked < chrono::Duration::minutes(CONFIRM_WAIT_MINUTES) { WAITING } else { NOT_CONFIRMED })
}

/// Next-gen auth (the OAuth 2.0 API): the sign-in and the sign-outs on the account page.
impl Matrix {
    /// Signs in with the browser's answer: the tokens for the device Keyward named, checked with
    /// `whoami` (the device must be that one); anything wrong revokes them again.
    pub(super) async fn sign_in_oauth(&self, http: &Http, approved: Approved) -> Result<SignedIn> {
        let base = self.require(http, &approved.url).await?;
        let made = exchange(http, &approved).await?;
        let access = Secret::new(made.tokens.access_token);
        let refresh = made.tokens.refresh_token.map(Secret::new);
        let undo = |why: Error| async {
            let _ = match &refresh {
                Some(t) => revoke(http, &made.grant, t, true).await,
                None => revoke(http, &made.grant, &access, false).await,
            };
            why
        };
        let who = match http.send(http.get(join(&base, "_matrix/client/v3/account/whoami")).bearer_auth(access.expose())).await {
            Ok(r) if r.is_success() => match r.json::<Whoami>("an account answer") {
                Ok(w) => w,
                Err(e) => return Err(undo(e).await),
            },
            Ok(r) => return Err(undo(server_error(&r)).await),
            Err(e) => return Err(undo(e).await),
        };
        if who.device_id.as_deref() != Some(made.device_id.as_str()) {
            let e = Error::bad_response(base.host_str().unwrap_or(""), "the token is not for the device Keyward asked for");
            return Err(undo(e).await);
        }
        if let Some(asked) = approved.login.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
            let local = |id: &str| id.trim_start_matches('@').split(':').next().unwrap_or("").to_lowercase();
            if local(asked) != local(&who.user_id) {
                let e = Error::NotApproved {
                    message: format!(
                        "the browser approved Keyward as {}, not as {}; the session made for it was ended and nothing was stored",
                        crate::text::field(&who.user_id),
                        crate::text::field(asked)
                    ),
                };
                return Err(undo(e).await);
            }
        }
        let issuer = made.grant.issuer.clone();
        let stored = Stored {
            access_token: access,
            refresh_token: refresh,
            device_id: made.device_id.clone(),
            user_id: who.user_id.clone(),
            server_admin: None,
            sso: false,
            oauth: Some(made.grant),
        };
        let mut facts = vec![Fact::new("Homeserver", crate::net::http::base_string(&base))];
        if let Some(v) = self.versions(http, &base).await {
            facts.push(Fact::new("Spec version", v));
        }
        facts.push(Fact::new("Sign-in", "next-gen auth (OAuth 2.0)"));
        facts.push(Fact::new(crate::model::AUTH_SERVER_FACT, issuer));
        Ok(SignedIn {
            base_url: base,
            user_id: who.user_id,
            own_credential: Some(made.device_id),
            server_facts: facts,
            stored: crate::provider::to_stored(&stored)?,
        })
    }

    /// Ends devices the way the spec wants on such a server: Keyward's own through the
    /// revocation endpoint, each other one on the account page (its address to open), remembered
    /// until a listing sees it gone.
    pub(super) async fn end_on_account_page(
        &self,
        s: &Session<'_>,
        grant: &Grant,
        stored: &Stored,
        ids: &[String],
    ) -> Result<Vec<Revoked>> {
        let mut results = Vec::new();
        let mut asked = Vec::new();
        for id in ids {
            if *id == stored.device_id {
                results.push(match self.sign_out(s).await {
                    Ok(()) => Revoked::ok(id),
                    Err(e) => Revoked::failed(id, e),
                });
                continue;
            }
            match grant.end_session_url(id) {
                Some(url) => {
                    results.push(Revoked::to_confirm(id, url));
                    asked.push(id.clone());
                }
                None => results.push(Revoked::failed(id, "the server's account page offers no way to end one session")),
            }
        }
        if !asked.is_empty() {
            let _held = s.exclusive().await?;
            let mut now: Stored = s.reload().await?;
            if let Some(g) = now.oauth.as_mut() {
                g.ending.retain(|e| !asked.contains(&e.device_id));
                g.ending.extend(asked.into_iter().map(|device_id| Ending { device_id, asked: Utc::now() }));
            }
            s.save(&now).await?;
        }
        Ok(results)
    }

    /// Says on each device whose end was asked for that it waits for the user's confirmation,
    /// and forgets the ones now gone (under the account's lock, over a fresh read).
    pub(super) async fn mark_ending(&self, s: &Session<'_>, grant: &Grant, credentials: &mut [Credential]) {
        if grant.ending.is_empty() {
            return;
        }
        let now = Utc::now();
        for c in credentials.iter_mut() {
            c.pending = pending_words(&grant.ending, &c.id, now).map(str::to_string);
        }
        let present = |id: &str| credentials.iter().any(|c| c.id == id);
        if grant.ending.iter().all(|e| present(&e.device_id)) {
            return;
        }
        let Ok(_held) = s.exclusive().await else { return };
        let Ok(mut fresh) = s.reload::<Stored>().await else { return };
        if let Some(g) = fresh.oauth.as_mut() {
            g.ending.retain(|e| present(&e.device_id));
        }
        if let Err(e) = s.save(&fresh).await {
            tracing::debug!("could not forget the sign-outs seen done: {e}");
        }
    }
}

/// `n` characters of `alphabet` from the operating system's CSPRNG, each equally likely.
fn random(n: usize, alphabet: &[u8]) -> Result<String> {
    use ring::rand::SecureRandom;
    let rng = ring::rand::SystemRandom::new();
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(n);
    while out.len() < n {
        let mut b = [0u8; 64];
        rng.fill(&mut b).map_err(|_| Error::input("the system's random number generator failed"))?;
        out.extend(b.iter().filter(|&&x| (x as usize) < limit).map(|&x| alphabet[x as usize % alphabet.len()] as char));
    }
    out.truncate(n);
    Ok(out)
}

/// Base64url without padding (RFC 7636's `BASE64URL-ENCODE`).
fn base64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &b)| acc | (b as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(issuer: &str) -> Metadata {
        Metadata {
            issuer: issuer.into(),
            authorization_endpoint: format!("{issuer}authorize"),
            token_endpoint: format!("{issuer}oauth2/token"),
            registration_endpoint: Some(format!("{issuer}oauth2/registration")),
            revocation_endpoint: Some(format!("{issuer}oauth2/revoke")),
            code_challenge_methods_supported: vec!["S256".into()],
            scopes_supported: vec![],
            account_management_uri: Some(format!("{issuer}account/")),
            account_management_actions_supported: vec!["org.matrix.session_end".into()],
        }
    }

    #[test]
    fn a_sign_out_asked_on_the_account_page_waits_then_says_it_was_not_confirmed() {
        let asked = chrono::TimeZone::timestamp_opt(&Utc, 1_700_000_000, 0).unwrap();
        let ending = [Ending { device_id: "PHONE".into(), asked }];
        assert_eq!(pending_words(&ending, "PHONE", asked + chrono::Duration::minutes(1)), Some(WAITING));
        assert_eq!(pending_words(&ending, "PHONE", asked + chrono::Duration::minutes(11)), Some(NOT_CONFIRMED));
        assert_eq!(pending_words(&ending, "LAPTOP", asked), None);
    }

    #[test]
    fn pkce_challenge_is_rfc7636_s256() {
        // RFC 7636 appendix B.
        let v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let c = base64url(ring::digest::digest(&ring::digest::SHA256, v.as_bytes()).as_ref());
        assert_eq!(c, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert_eq!(base64url(b"ab"), "YWI");
    }

    #[test]
    fn endpoints_must_be_on_the_issuer_and_https_when_the_homeserver_is() {
        let base = Url::parse("https://matrix.example.org/").unwrap();
        assert!(checked(&base, &meta("https://auth.example.org/")).is_ok());
        let mut m = meta("https://auth.example.org/");
        m.token_endpoint = "https://evil.example/token".into();
        assert!(checked(&base, &m).unwrap_err().to_string().contains("evil.example"));
        let m = meta("http://auth.example.org/");
        assert!(checked(&base, &m).unwrap_err().to_string().contains("plain http"));
        let mut m = meta("https://auth.example.org/");
        m.code_challenge_methods_supported = vec!["plain".into()];
        assert!(checked(&base, &m).unwrap_err().to_string().contains("PKCE"));
    }

    #[test]
    fn the_end_page_uses_the_newest_action_offered() {
        let mut g = Grant {
            issuer: "https://auth.example.org/".into(),
            client_id: "c".into(),
            token_endpoint: "https://auth.example.org/oauth2/token".into(),
            revocation_endpoint: None,
            account_management_uri: Some("https://auth.example.org/account/".into()),
            actions: vec!["org.matrix.session_end".into()],
            ending: vec![],
            expires_at: None,
        };
        assert_eq!(g.end_session_url("ABC").unwrap(), "https://auth.example.org/account/?action=org.matrix.session_end&device_id=ABC");
        g.actions.push("org.matrix.device_delete".into());
        assert!(g.end_session_url("ABC").unwrap().contains("action=org.matrix.device_delete"));
        g.actions = vec!["org.matrix.profile".into()];
        assert!(g.end_session_url("ABC").is_none());
    }

    #[test]
    fn device_ids_and_verifiers_are_long_and_random() {
        let a = random(12, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ").unwrap();
        assert_eq!(a.len(), 12);
        assert!(a.chars().all(|c| c.is_ascii_uppercase()));
        assert_ne!(a, random(12, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ").unwrap());
    }
}
