//! Home Assistant: the user's sessions (refresh tokens) and long-lived access tokens, listed and
//! revoked over the websocket API.
//!
//! Signs in through the login flow with a username and password as the OAuth client
//! `https://keyward.app/` (Home Assistant shows a session by its client id), keeps the refresh
//! token in the keyring and mints 30-minute access tokens from it when needed; or with a pasted
//! long-lived access token, used as it is. Home Assistant records a refresh token's "last used"
//! only when it mints an access token, so that time is "last refreshed". No rename exists.
//!
//! Two-factor login: when the flow's next step is `mfa` (the TOTP module; `select_mfa_module`
//! first when the user has several, where the authenticator app is chosen), the one-time code is
//! the one given up front or asked for then (`SignInRequest::code_now`); a wrong code ends the
//! flow, so nothing is made on the server.
//!
//! Facts: `shared/reference/more-servers.md`. Not here: other users' tokens, making long-lived
//! tokens.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::error::TlsError;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};
use url::Url;

use crate::clients::{rule, Rule, ANDROID, APP_ID, BROWSER, DESKTOP, INTEGRATION, IOS, MACOS, MOBILE, NAMES, OAUTH, UA};
use crate::error::{Error, Remedy, Result};
use crate::model::{host_of, Actions, ClientHints, Credential, CredentialKind, Fact, Kind, LastUsedMeaning};
use crate::net::http::{base_string, join, one_line, Http, Response};
use crate::provider::{
    Capabilities, Found, Identified, Proof, Provider, Revoked, Session, SignInMethod, SignInRequest, SignInSecret, SignedIn, TokenShape,
};
use crate::secret::{self, Secret, SecretBody};

pub struct HomeAssistant;

/// This kind of server, as the registry and stored accounts name it.
pub const KIND: Kind = Kind::new("homeassistant");

/// The OAuth client id the app signs in as. Home Assistant requires a URL, and a `redirect_uri`
/// on the same host (else it fetches the client id page to look for one).
const CLIENT_ID: &str = "https://keyward.app/";
const REDIRECT_URI: &str = "https://keyward.app/auth/callback";
/// Mint a new access token when the kept one has less than this left.
const ACCESS_MARGIN_SECS: i64 = 60;

/// What the app keeps in the keyring for a Home Assistant account.
#[derive(Serialize, Deserialize)]
struct Stored {
    /// The session (from the login flow); absent when signed in with a long-lived token.
    #[serde(default, with = "secret::stored::option", skip_serializing_if = "Option::is_none")]
    refresh_token: Option<Secret>,
    /// The last minted access token, or the pasted long-lived token.
    #[serde(with = "secret::stored")]
    access_token: Secret,
    /// When the access token expires (none for a long-lived token: the server decides).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_expires: Option<DateTime<Utc>>,
    client_id: String,
}

// ---- wire types (the server's own words) ----

#[derive(Deserialize)]
struct AuthProvider {
    #[serde(rename = "type")]
    provider_type: String,
}

/// `GET /auth/providers`: a list in older releases, an object with `providers` in 2024.3.
#[derive(Deserialize)]
#[serde(untagged)]
enum ProvidersAnswer {
    List(Vec<AuthProvider>),
    Object { providers: Vec<AuthProvider> },
}

#[derive(Deserialize)]
struct FlowStep {
    #[serde(rename = "type")]
    step_type: String,
    flow_id: Option<String>,
    step_id: Option<String>,
    #[serde(default)]
    errors: Option<Value>,
    /// The authorisation code, when `type` is `create_entry`.
    result: Option<Value>,
    reason: Option<String>,
}

/// The answer to the login flow's form step. Borrowed fields: built straight into a wiped buffer
/// (see `secret::SecretBody`).
#[derive(Serialize)]
struct LoginFlowAnswer<'a> {
    client_id: &'a str,
    username: &'a str,
    password: &'a str,
}

/// The answer to the login flow's second-factor step (`mfa`), built straight into a wiped buffer.
#[derive(Serialize)]
struct MfaAnswer<'a> {
    client_id: &'a str,
    code: &'a str,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: Option<i64>,
    refresh_token: Option<String>,
}

#[derive(Deserialize)]
struct CurrentUser {
    id: String,
    name: Option<String>,
    #[serde(default)]
    is_owner: bool,
    #[serde(default)]
    is_admin: bool,
}

#[derive(Deserialize)]
struct RefreshToken {
    id: String,
    client_id: Option<String>,
    client_name: Option<String>,
    client_icon: Option<String>,
    #[serde(rename = "type")]
    token_type: String,
    created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    is_current: bool,
    last_used_at: Option<DateTime<Utc>>,
    last_used_ip: Option<String>,
    auth_provider_type: Option<String>,
    /// Newer releases: when an unused session expires (seconds since the epoch).
    expire_at: Option<f64>,
}

fn ws_url(base: &Url) -> Result<Url> {
    let mut u = join(base, "api/websocket");
    let scheme = if u.scheme() == "https" { "wss" } else { "ws" };
    u.set_scheme(scheme).map_err(|_| Error::input("this URL cannot carry a websocket"))?;
    Ok(u)
}

/// One websocket connection, authenticated.
struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    host: String,
    timeout: Duration,
}

/// How opening a websocket ended: authenticated, or the token was refused.
enum Opened {
    Ready(Box<Ws>),
    Refused,
}

impl Ws {
    async fn open(http: &Http, base: &Url, token: &Secret) -> Result<Opened> {
        let url = ws_url(base)?;
        let host = host_of(base.as_str());
        let timeout = http.timeout();
        // The same trust as every HTTP request (the system's certificates), and the same cap as
        // a listing over HTTP.
        let config = WebSocketConfig {
            max_message_size: Some(crate::net::http::LISTING_LIMIT),
            max_frame_size: Some(crate::net::http::LISTING_LIMIT),
            ..Default::default()
        };
        let tls = Connector::Rustls(crate::net::tls::client_config());
        let connect = tokio_tungstenite::connect_async_tls_with_config(url.as_str().to_string(), Some(config), false, Some(tls));
        let (stream, _) = match tokio::time::timeout(http.first_answer(), connect).await {
            Err(_) => return Err(Error::Timeout { host, secs: http.first_answer().as_secs() }),
            Ok(Err(e)) => return Err(ws_error(&host, e)),
            Ok(Ok(s)) => s,
        };
        let mut ws = Ws { stream, next_id: 1, host, timeout };
        let first = ws.receive().await?;
        if first.get("type").and_then(Value::as_str) != Some("auth_required") {
            return Err(Error::bad_response(ws.host.clone(), "expected the websocket to ask for authentication"));
        }
        ws.send(json!({ "type": "auth", "access_token": token.expose() })).await?;
        let answer = ws.receive().await?;
        match answer.get("type").and_then(Value::as_str) {
            Some("auth_ok") => Ok(Opened::Ready(Box::new(ws))),
            Some("auth_invalid") => Ok(Opened::Refused),
            _ => Err(Error::bad_response(ws.host.clone(), "expected the websocket to accept or refuse the token")),
        }
    }

    async fn send(&mut self, v: Value) -> Result<()> {
        let host = self.host.clone();
        self.stream.send(Message::Text(v.to_string())).await.map_err(|e| ws_error(&host, e))
    }

    /// The next JSON message (pings and other frames skipped), within one deadline however many
    /// pings the server sends meanwhile.
    async fn receive(&mut self) -> Result<Value> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        self.receive_by(deadline).await
    }

    /// The next JSON message, by `deadline`.
    async fn receive_by(&mut self, deadline: tokio::time::Instant) -> Result<Value> {
        loop {
            let next = match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return Err(Error::Timeout { host: self.host.clone(), secs: self.timeout.as_secs() }),
                Ok(n) => n,
            };
            match next {
                None => {
                    return Err(Error::Unreachable {
                        host: self.host.clone(),
                        reason: "the websocket closed before the server answered".into(),
                    })
                }
                Some(Err(e)) => return Err(ws_error(&self.host, e)),
                Some(Ok(Message::Text(t))) => {
                    return serde_json::from_str(&t).map_err(|_| Error::bad_response(self.host.clone(), "expected JSON on the websocket"));
                }
                Some(Ok(Message::Close(_))) => {
                    return Err(Error::Unreachable { host: self.host.clone(), reason: "the server closed the websocket".into() });
                }
                Some(Ok(_)) => continue,
            }
        }
    }

    /// Sends one command and returns its `result`, or the server's error as a plain error.
    async fn call(&mut self, command: &str, mut fields: Value) -> Result<Value> {
        let id = self.next_id;
        self.next_id += 1;
        fields["id"] = json!(id);
        fields["type"] = json!(command);
        self.send(fields).await?;
        // One deadline for the answer, however many other messages come first.
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let m = self.receive_by(deadline).await?;
            if m.get("id").and_then(Value::as_u64) != Some(id) || m.get("type").and_then(Value::as_str) != Some("result") {
                continue;
            }
            if m.get("success").and_then(Value::as_bool) == Some(true) {
                return Ok(m.get("result").cloned().unwrap_or(Value::Null));
            }
            let code = m.pointer("/error/code").and_then(Value::as_str).unwrap_or("error").to_string();
            let message = m.pointer("/error/message").and_then(Value::as_str).map(one_line).unwrap_or_default();
            if code == "unauthorized" {
                return Err(Error::forbidden(format!("Home Assistant does not let this user {command} ({message})")));
            }
            return Err(Error::Server { host: self.host.clone(), message: format!("{code}: {message}") });
        }
    }

    async fn refresh_tokens(&mut self) -> Result<Vec<RefreshToken>> {
        let v = self.call("auth/refresh_tokens", json!({})).await?;
        serde_json::from_value(v).map_err(|e| Error::bad_response(self.host.clone(), format!("expected a token list ({e})")))
    }

    async fn current_user(&mut self) -> Result<CurrentUser> {
        let v = self.call("auth/current_user", json!({})).await?;
        serde_json::from_value(v).map_err(|e| Error::bad_response(self.host.clone(), format!("expected the current user ({e})")))
    }

    async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}

fn ws_error(host: &str, e: tokio_tungstenite::tungstenite::Error) -> Error {
    use tokio_tungstenite::tungstenite::Error as W;
    match e {
        W::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            Error::Unreachable { host: host.to_string(), reason: "connection refused (is the server running?)".into() }
        }
        W::Io(io) => match crate::net::tls::rustls_error(&io) {
            Some(tls) => Error::Unreachable { host: host.to_string(), reason: crate::net::tls::reason(tls) },
            None => Error::Unreachable { host: host.to_string(), reason: "the connection failed".into() },
        },
        W::Tls(TlsError::Rustls(tls)) => Error::Unreachable { host: host.to_string(), reason: crate::net::tls::reason(&tls) },
        W::Tls(_) => {
            Error::Unreachable { host: host.to_string(), reason: "the secure connection failed (certificate or TLS problem)".into() }
        }
        W::Capacity(_) => Error::TooLarge { host: host.to_string(), limit_mib: (crate::net::http::LISTING_LIMIT >> 20) as u64 },
        W::Http(r) => Error::bad_response(host.to_string(), format!("the websocket API answered HTTP {}", r.status().as_u16())),
        W::ConnectionClosed | W::AlreadyClosed | W::Protocol(_) => {
            Error::Unreachable { host: host.to_string(), reason: "the websocket closed before the server answered".into() }
        }
        _ => Error::bad_response(host.to_string(), "the websocket failed"),
    }
}

/// The server's `{"error", "error_description"}` or `{"message"}` in one line.
fn server_error(r: &Response) -> Error {
    if let Some(v) = r.json_value() {
        let text = v.get("error_description").or_else(|| v.get("message")).or_else(|| v.get("error")).and_then(Value::as_str).map(one_line);
        if let Some(t) = text {
            return Error::Server { host: r.host(), message: format!("HTTP {}: {t}", r.status.as_u16()) };
        }
    }
    r.unexpected()
}

/// When an access token that lives `expires_in` seconds from now expires; `None` for a number
/// no clock can hold.
fn expiry(expires_in: Option<i64>) -> Option<DateTime<Utc>> {
    Utc::now().checked_add_signed(chrono::TimeDelta::try_seconds(expires_in?)?)
}

/// What the app calls Home Assistant's own web interface (its client id is the server's origin).
const WEB_INTERFACE: &str = "Home Assistant web interface";

fn token_credential(t: RefreshToken, manage: &str) -> Credential {
    let kind = match t.token_type.as_str() {
        "long_lived_access_token" => CredentialKind::ApiToken,
        _ => CredentialKind::Session,
    };
    let mut c = Credential::new(t.id.clone(), kind);
    let client_name = t.client_name.clone().filter(|n| !n.is_empty());
    let client_id = t.client_id.clone().filter(|n| !n.is_empty());
    c.name = client_name.clone().or_else(|| client_id.clone());
    c.hints = ClientHints { app_name: client_name.clone(), oauth_client: client_id.clone(), ..Default::default() };
    if let Some(id) = &client_id {
        if id.starts_with("http://") || id.starts_with("https://") {
            c.hints.url = Some(id.clone());
        }
    }
    c.created = t.created_at;
    c.last_used = t.last_used_at;
    c.last_used_meaning = LastUsedMeaning::Refreshed;
    // A session refreshes as it is used; a long-lived token mints its one access token when made.
    c.tracks_use = kind == CredentialKind::Session;
    c.last_ip = t.last_used_ip.clone().filter(|ip| !ip.is_empty());
    c.expires = t.expire_at.and_then(|s| Utc.timestamp_opt(s as i64, 0).single());
    c.current = t.is_current;
    c.manage_url = Some(manage.to_string());
    c.details.push(Fact::new("Token ID", t.id.clone()));
    c.details.push(Fact::new("Type", t.token_type.clone()));
    if let Some(id) = client_id {
        c.details.push(Fact::new("Client ID", id));
    }
    if let Some(icon) = t.client_icon.filter(|i| !i.is_empty()) {
        c.details.push(Fact::new("Client icon", icon));
    }
    if let Some(p) = t.auth_provider_type.filter(|p| !p.is_empty()) {
        c.details.push(Fact::new("Signed in through", p));
    }
    if kind == CredentialKind::ApiToken {
        c.details.push(Fact::new("Use", "Home Assistant does not record when a long-lived token is used"));
    }
    c.actions = if t.token_type == "system" {
        Actions {
            rename: false,
            revoke: false,
            why_not: Some("This is a system token that Home Assistant itself uses; it cannot be revoked".into()),
            ..Default::default()
        }
    } else {
        Actions { rename: false, revoke: true, why_not: Some("Home Assistant has no way to rename this".into()), ..Default::default() }
    };
    c
}

impl HomeAssistant {
    async fn discover(&self, http: &Http, url: &Url) -> Result<Option<Url>> {
        let r = http.send(http.get(join(url, "auth/providers"))).await?;
        if r.status == StatusCode::BAD_REQUEST {
            // A new installation whose owner has not finished onboarding in the browser yet.
            let onboarding = r.json_value().and_then(|v| v.get("code").and_then(Value::as_str).map(|c| c == "onboarding_required"));
            return Ok(onboarding.unwrap_or(false).then(|| url.clone()));
        }
        if !r.is_success() {
            return Ok(None);
        }
        let providers = match serde_json::from_slice::<ProvidersAnswer>(&r.body) {
            Ok(ProvidersAnswer::List(p)) | Ok(ProvidersAnswer::Object { providers: p }) => p,
            Err(_) => return Ok(None),
        };
        let known = ["homeassistant", "trusted_networks", "command_line", "legacy_api_password", "insecure_example"];
        let is_ha = !providers.is_empty() && providers.iter().all(|p| known.contains(&p.provider_type.as_str()));
        Ok(is_ha.then(|| url.clone()))
    }

    /// Mints an access token from the refresh token and keeps it.
    async fn mint(&self, s: &Session<'_>, mut stored: Stored) -> Result<Stored> {
        let Some(refresh) = stored.refresh_token.as_ref() else {
            return Err(s.sign_in_again("the server no longer accepts its long-lived token"));
        };
        let form = [("grant_type", "refresh_token"), ("refresh_token", refresh.expose()), ("client_id", stored.client_id.as_str())];
        let r = s.http.send(s.http.post(join(&s.base_url()?, "auth/token")).secret_form(&form)).await?;
        if matches!(r.status, StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            return Err(s.sign_in_again("its session was revoked or expired"));
        }
        if !r.is_success() {
            return Err(server_error(&r));
        }
        let t: TokenAnswer = r.json("a token answer")?;
        stored.access_token = Secret::new(t.access_token);
        stored.access_expires = expiry(t.expires_in);
        s.save(&stored).await?;
        Ok(stored)
    }

    /// An authenticated websocket: with the kept access token while it lasts, else a fresh one.
    async fn connect(&self, s: &Session<'_>) -> Result<Box<Ws>> {
        let mut stored: Stored = s.load().await?;
        let stale = stored.refresh_token.is_some()
            && stored
                .access_expires
                .map(|e| e.checked_sub_signed(chrono::Duration::seconds(ACCESS_MARGIN_SECS)).is_none_or(|t| t < Utc::now()))
                .unwrap_or(true);
        let mut minted = false;
        if stale {
            stored = self.mint(s, stored).await?;
            minted = true;
        }
        match Ws::open(s.http, &s.base_url()?, &stored.access_token).await? {
            Opened::Ready(ws) => return Ok(ws),
            Opened::Refused if minted || stored.refresh_token.is_none() => {
                return Err(s.sign_in_again("the server no longer accepts its token"));
            }
            Opened::Refused => {}
        }
        let stored = self.mint(s, stored).await?;
        match Ws::open(s.http, &s.base_url()?, &stored.access_token).await? {
            Opened::Ready(ws) => Ok(ws),
            Opened::Refused => Err(s.sign_in_again("the server no longer accepts its token")),
        }
    }

    /// The login flow: username and password for an authorisation code, then tokens.
    async fn login(&self, http: &Http, base: &Url, req: &SignInRequest, password: &Secret, account: &str) -> Result<TokenAnswer> {
        let login = req.login.as_str();
        let start = json!({ "client_id": CLIENT_ID, "handler": ["homeassistant", null], "redirect_uri": REDIRECT_URI });
        let r = http.send(http.post(join(base, "auth/login_flow")).json(&start)).await?;
        if r.status == StatusCode::NOT_FOUND {
            return Err(Error::SignInMethod {
                message: format!("{} does not offer username and password sign-in", host_of(base.as_str())),
                remedy: Some(Remedy::UseToken {
                    label: "long-lived access token".into(),
                    page: Some(join(base, "profile/security").to_string()),
                }),
            });
        }
        if !r.is_success() {
            return Err(server_error(&r));
        }
        let step: FlowStep = r.json("a login flow")?;
        let Some(flow_id) = step.flow_id.filter(|_| step.step_type == "form") else {
            return Err(Error::bad_response(r.host(), "expected a login form"));
        };
        let answer = LoginFlowAnswer { client_id: CLIENT_ID, username: login, password: password.expose() };
        let r = http.send(http.post(join(base, &format!("auth/login_flow/{flow_id}"))).secret_json(&answer)).await?;
        if !r.is_success() {
            return Err(server_error(&r));
        }
        let mut step: FlowStep = r.json("a login flow step")?;
        let flow_step = |id: &str| format!("auth/login_flow/{id}");
        if step.step_type == "form" && step.step_id.as_deref() == Some("select_mfa_module") {
            // More than one second factor: the authenticator app's codes are what Keyward asks for.
            let r = http
                .send(
                    http.post(join(base, &flow_step(&flow_id)))
                        .json(&json!({ "client_id": CLIENT_ID, "multi_factor_auth_module": "totp" })),
                )
                .await?;
            if !r.is_success() {
                return Err(server_error(&r));
            }
            step = r.json("a login flow step")?;
        }
        if step.step_type == "form" && step.step_id.as_deref() == Some("mfa") {
            // The second factor: one code, asked for now (or given up front); a wrong one ends
            // the flow, so nothing is made on the server.
            let Some(code) = req.code_now(account).await else {
                return Err(Error::CodeNeeded { account: account.to_string() });
            };
            let answer = MfaAnswer { client_id: CLIENT_ID, code: code.expose().trim() };
            let r = http.send(http.post(join(base, &flow_step(&flow_id))).secret_json(&answer)).await?;
            if !r.is_success() {
                return Err(server_error(&r));
            }
            step = r.json("a login flow step")?;
            match step.step_type.as_str() {
                "create_entry" => {}
                "form" | "abort" => {
                    return match step.reason.as_deref() {
                        Some("login_expired") => Err(Error::SignInMethod {
                            message: format!("the sign-in to {account} took too long; nothing was changed"),
                            remedy: None,
                        }),
                        _ => Err(Error::WrongCode { account: account.to_string() }),
                    };
                }
                _ => {}
            }
        }
        let code = match step.step_type.as_str() {
            "create_entry" => match step.result {
                Some(Value::String(code)) => code,
                _ => return Err(Error::bad_response(r.host(), "expected an authorisation code")),
            },
            "form" if step.step_id.as_deref().is_some_and(|s| s == "mfa" || s == "select_mfa_module") => {
                return Err(Error::bad_response(r.host(), "the second factor step came back"));
            }
            "form" => {
                let base_error = step.errors.as_ref().and_then(|e| e.get("base")).and_then(Value::as_str).unwrap_or("");
                if base_error == "invalid_auth" || base_error.is_empty() {
                    return Err(Error::WrongPassword { account: account.to_string() });
                }
                return Err(Error::Server { host: r.host(), message: format!("the login was refused ({})", one_line(base_error)) });
            }
            "abort" => {
                return Err(Error::SignInMethod {
                    message: format!("Home Assistant refused the login ({})", one_line(step.reason.as_deref().unwrap_or("aborted"))),
                    remedy: None,
                });
            }
            other => return Err(Error::bad_response(r.host(), format!("unexpected login step {other:?}"))),
        };
        let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("client_id", CLIENT_ID)];
        let r = http.send(http.post(join(base, "auth/token")).form(&form)).await?;
        if !r.is_success() {
            return Err(server_error(&r));
        }
        r.json("a token answer")
    }

    /// Revokes a refresh token with itself (`/auth/revoke` always answers 200).
    async fn revoke_refresh_token(&self, http: &Http, base: &Url, refresh: &Secret) -> Result<()> {
        let r = http.send(http.post(join(base, "auth/revoke")).secret_form(&[("token", refresh.expose())])).await?;
        if r.is_success() {
            Ok(())
        } else {
            Err(server_error(&r))
        }
    }
}

#[async_trait]
impl Provider for HomeAssistant {
    fn client_rules(&self) -> &'static [Rule] {
        CLIENT_RULES
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            kind: KIND,
            display_name: "Home Assistant",
            sign_in: &[SignInMethod::Password, SignInMethod::Token],
            token_label: "long-lived access token",
            token_page: Some("profile/security"),
            revoke: true,
            revoke_all_others: true,
            sign_out: true,
            token_shapes: &[TokenShape {
                what: "Home Assistant access token",
                matches: |t| {
                    crate::insight::identify::is_jwt(t) && crate::insight::identify::jwt_claims(t).is_some_and(|c| c["iss"].is_string())
                },
            }],
            ..Default::default()
        }
    }

    async fn probe(&self, http: &Http, url: &Url) -> Result<Option<Url>> {
        self.discover(http, url).await
    }

    async fn sign_in(&self, http: &Http, req: SignInRequest) -> Result<SignedIn> {
        let base = self.require(http, &req.url).await?;
        let account_name = format!("{}@{}", req.login, host_of(base.as_str()));
        let stored = match &req.secret {
            SignInSecret::Password(password) => {
                let t = self.login(http, &base, &req, password, &account_name).await?;
                let Some(refresh) = t.refresh_token else {
                    return Err(Error::bad_response(host_of(base.as_str()), "expected a refresh token"));
                };
                Stored {
                    refresh_token: Some(Secret::new(refresh)),
                    access_token: Secret::new(t.access_token),
                    access_expires: expiry(t.expires_in),
                    client_id: CLIENT_ID.into(),
                }
            }
            SignInSecret::Token(token) => {
                Stored { refresh_token: None, access_token: token.clone(), access_expires: None, client_id: CLIENT_ID.into() }
            }
        };
        let looked_up = async {
            let mut ws = match Ws::open(http, &base, &stored.access_token).await? {
                Opened::Ready(ws) => ws,
                Opened::Refused => return Err(Error::input(format!("Home Assistant does not accept this token for {account_name}"))),
            };
            let user = ws.current_user().await?;
            let tokens = ws.refresh_tokens().await?;
            ws.close().await;
            Ok((user, tokens))
        };
        let (user, tokens) = match looked_up.await {
            Ok(x) => x,
            Err(e) => {
                // Leave nothing behind: end the session the login flow just made.
                if let Some(r) = &stored.refresh_token {
                    let _ = self.revoke_refresh_token(http, &base, r).await;
                }
                return Err(e);
            }
        };
        let own = tokens.iter().find(|t| t.is_current).map(|t| t.id.clone());
        let mut facts = vec![Fact::new("Server", base_string(&base))];
        let role = if user.is_owner {
            "owner"
        } else if user.is_admin {
            "administrator"
        } else {
            "user"
        };
        facts.push(Fact::new("Role", role));
        facts.push(Fact::new("Sign-in", if stored.refresh_token.is_some() { "password (session)" } else { "long-lived access token" }));
        let user_id = user.name.filter(|n| !n.is_empty()).unwrap_or(user.id);
        Ok(SignedIn { base_url: base, user_id, own_credential: own, server_facts: facts, stored: crate::provider::to_stored(&stored)? })
    }

    async fn list(&self, s: &Session<'_>) -> Result<Found> {
        let mut ws = self.connect(s).await?;
        let tokens = ws.refresh_tokens().await?;
        ws.close().await;
        let own = tokens.iter().find(|t| t.is_current).map(|t| t.id.clone());
        let manage = join(&s.base_url()?, "profile/security").to_string();
        let origin = s.base_url()?.origin().ascii_serialization();
        let mut credentials: Vec<Credential> = tokens
            .into_iter()
            .map(|t| {
                // Home Assistant's own web interface signs in with its origin as the client id.
                let own_frontend = t.client_id.as_deref().map(|id| id.trim_end_matches('/') == origin).unwrap_or(false);
                let mut c = token_credential(t, &manage);
                if own_frontend && c.hints.app_name.is_none() {
                    c.hints.app_name = Some(WEB_INTERFACE.into());
                }
                c
            })
            .collect();
        // The app's own session first, then sessions before tokens, the most recent first.
        credentials.sort_by(|a, b| {
            b.current.cmp(&a.current).then(a.kind.cmp(&b.kind)).then(b.last_used.cmp(&a.last_used)).then(b.created.cmp(&a.created))
        });
        let account_actions = crate::model::AccountActions { revoke_all_others: true, ..Default::default() };
        Ok(Found { credentials, gaps: Vec::new(), account_actions, own_credential: own })
    }

    async fn revoke(&self, s: &Session<'_>, ids: &[String], _proof: &Proof) -> Result<Vec<Revoked>> {
        let mut ws = self.connect(s).await?;
        let own = ws.refresh_tokens().await?.into_iter().find(|t| t.is_current).map(|t| t.id);
        // The app's own session last: deleting it ends this connection.
        let mut ordered: Vec<&String> = ids.iter().filter(|id| Some(id.as_str()) != own.as_deref()).collect();
        ordered.extend(ids.iter().filter(|id| Some(id.as_str()) == own.as_deref()));
        let mut results = Vec::new();
        for id in ordered {
            match ws.call("auth/delete_refresh_token", json!({ "refresh_token_id": id })).await {
                Ok(_) => results.push(Revoked::ok(id)),
                Err(e @ Error::Forbidden { .. }) if results.is_empty() => return Err(e),
                Err(e) if Some(id.as_str()) == own.as_deref() && matches!(e, Error::Unreachable { .. }) => {
                    // The server may close the connection as it deletes the session it runs on.
                    results.push(Revoked::ok(id));
                }
                Err(e) => results.push(Revoked::failed(id, e)),
            }
        }
        ws.close().await;
        Ok(results)
    }

    /// A Home Assistant access token is a JWT whose `iss` is the id of the refresh token (the
    /// session) it came from: the session is known without sending the token anywhere. Only when
    /// that session is this account's is the token shown to this server, to tell if it still works.
    async fn identify(&self, s: &Session<'_>, token: &Secret) -> Result<Identified> {
        let t = token.expose().trim();
        let Some(iss) = crate::insight::identify::jwt_claims(t).and_then(|c| c["iss"].as_str().map(str::to_string)) else {
            return Ok(Identified::default());
        };
        let mut ws = self.connect(s).await?;
        let ours = ws.refresh_tokens().await?.into_iter().any(|rt| rt.id == iss);
        ws.close().await;
        if !ours {
            return Ok(Identified::default());
        }
        let r = s.http.send(s.http.get(join(&s.base_url()?, "api/")).bearer_auth(t)).await?;
        let valid = match r.status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Some(false),
            st if st.is_success() => Some(true),
            _ => None,
        };
        Ok(Identified { valid, user_id: Some(s.account.user_id.clone()), credential_id: Some(iss) })
    }

    async fn sign_out(&self, s: &Session<'_>) -> Result<()> {
        let stored: Stored = s.load().await?;
        if let Some(refresh) = &stored.refresh_token {
            return self.revoke_refresh_token(s.http, &s.base_url()?, refresh).await;
        }
        let mut ws = match self.connect(s).await {
            Ok(ws) => ws,
            // The token no longer works: it is gone already.
            Err(Error::SignInAgain { .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        let own = ws.refresh_tokens().await?.into_iter().find(|t| t.is_current).map(|t| t.id);
        let Some(own) = own else {
            ws.close().await;
            return Err(Error::Unsupported {
                message: "Home Assistant did not say which token Keyward uses".into(),
                remedy: Some(Remedy::OpenPage { url: join(&s.base_url()?, "profile/security").to_string() }),
            });
        };
        match ws.call("auth/delete_refresh_token", json!({ "refresh_token_id": own })).await {
            Ok(_) | Err(Error::Unreachable { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

// ---- recognising this kind's clients ----

/// The Home Assistant companion apps, the web interface and the server itself, by the OAuth
/// client ids, token names and user agents Home Assistant keeps. Tried in order, after Keyward's own rule and
/// before the shared ones (see `crate::clients`); each has cases in `tests/data/clients/`.
pub(crate) const CLIENT_RULES: &[Rule] = &[
    rule("Home Assistant for Android", MOBILE, ANDROID, OAUTH, r"^https://home-assistant\.io/android/?$"),
    rule("Home Assistant for iOS", MOBILE, IOS, OAUTH, r"^https://home-assistant\.io/ios/?$"),
    rule("Home Assistant for macOS", DESKTOP, MACOS, OAUTH, r"^https://home-assistant\.io/mac/?$"),
    rule("Home Assistant for Android", MOBILE, ANDROID, NAMES, r"^Home ?Assistant (?:Companion )?(?:for |app for )?Android\b"),
    rule("Home Assistant for iOS", MOBILE, IOS, NAMES, r"^Home ?Assistant (?:Companion )?(?:for |app for )?(?:iOS|iPhone|iPad)\b"),
    rule("Home Assistant for macOS", DESKTOP, MACOS, NAMES, r"^Home ?Assistant (?:Companion )?(?:for |app for )?macOS\b"),
    rule("Home Assistant web interface", BROWSER, None, NAMES, r"^Home Assistant web interface$"),
    rule("Home Assistant server", INTEGRATION, None, UA, r"^HomeAssistant/(?P<v>[\d.]+\S*) aiohttp/"),
    rule("Home Assistant for Android", MOBILE, ANDROID, UA, r"\bHome ?Assistant/(?P<v>[\w.+-]+) \(Android [\d.]+(?:; (?P<dev>[^;)]+))?"),
    rule("Home Assistant for macOS", DESKTOP, MACOS, UA, r"\bHome ?Assistant/(?P<v>[\w.+-]+) \(io\.robbie\.HomeAssistant[^)]*; macOS\b"),
    rule("Home Assistant for iOS", MOBILE, IOS, UA, r"\bHome ?Assistant/(?P<v>[\w.+-]+) \((?:io\.robbie\.HomeAssistant|iOS\b|iPadOS\b)"),
    rule("Home Assistant for Android", MOBILE, ANDROID, APP_ID, r"^io\.homeassistant\.companion\.android\b"),
    rule("Home Assistant for iOS", MOBILE, IOS, APP_ID, r"^io\.robbie\.HomeAssistant\b"),
];

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;

    fn token(v: Value) -> RefreshToken {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn sessions_are_last_refreshed_and_tokens_are_api_tokens() {
        let c = token_credential(
            token(json!({
                "id": "r1", "client_id": "https://keyward.app/", "client_name": null, "client_icon": null,
                "type": "normal", "created_at": "2024-03-20T10:00:00.123456+00:00", "is_current": true,
                "last_used_at": "2024-03-21T10:00:00+00:00", "last_used_ip": "127.0.0.1", "auth_provider_type": "homeassistant"
            })),
            "http://h/profile/security",
        );
        assert_eq!(c.kind, CredentialKind::Session);
        assert_eq!(c.last_used_meaning, LastUsedMeaning::Refreshed);
        assert!(c.current && c.tracks_use && c.actions.revoke);
        assert_eq!(c.name.as_deref(), Some("https://keyward.app/"));
        assert_eq!(c.last_ip.as_deref(), Some("127.0.0.1"));

        let c = token_credential(
            token(json!({
                "id": "r2", "client_id": null, "client_name": "Grafana", "type": "long_lived_access_token",
                "created_at": "2024-03-20T10:00:00+00:00", "is_current": false, "last_used_at": null, "last_used_ip": null
            })),
            "http://h/profile/security",
        );
        assert_eq!(c.kind, CredentialKind::ApiToken);
        assert_eq!(c.name.as_deref(), Some("Grafana"));
        assert!(!c.tracks_use && !c.current);

        let c = token_credential(token(json!({ "id": "r3", "type": "system", "is_current": false })), "x");
        assert!(!c.actions.revoke && c.actions.why_not.is_some());
    }

    #[test]
    fn providers_answer_has_two_shapes() {
        let a: ProvidersAnswer = serde_json::from_str(r#"[{"name":"Home Assistant Local","id":null,"type":"homeassistant"}]"#).unwrap();
        assert!(matches!(a, ProvidersAnswer::List(ref p) if p[0].provider_type == "homeassistant"));
        let b: ProvidersAnswer =
            serde_json::from_str(r#"{"providers":[{"name":"x","id":null,"type":"homeassistant"}],"preselect_remember_me":true}"#).unwrap();
        assert!(matches!(b, ProvidersAnswer::Object { .. }));
    }

    #[test]
    fn websocket_url_follows_the_scheme() {
        assert_eq!(ws_url(&Url::parse("http://127.0.0.1:8123/").unwrap()).unwrap().as_str(), "ws://127.0.0.1:8123/api/websocket");
        assert_eq!(ws_url(&Url::parse("https://ha.example.org/").unwrap()).unwrap().as_str(), "wss://ha.example.org/api/websocket");
    }
}
