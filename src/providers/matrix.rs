//! Matrix homeservers (Synapse and any server that follows the Client-Server spec).
//!
//! Devices are the sessions of Matrix; push registrations (pushers) are listed beside them.
//! Signs in with a password (asking for a refresh token, the device named "Keyward on <host>")
//! or an existing access token. Renames devices; signs devices out in ONE `delete_devices`
//! request with one password check and a fresh user-interactive-auth session every time.
//! On next-gen auth servers (Matrix Authentication Service), listing works and sign-outs are
//! handed to the server's account page, as the spec requires.
//!
//! Server admins also see and sign out another user's devices through the Synapse admin API
//! (`list_user`, `revoke_user`): devices with their user agents and connections (`whois`),
//! pushers read-only, and one `delete_devices` request for many.
//!
//! On next-gen auth servers Keyward signs in through the OAuth 2.0 API (`oauth`): the listing is
//! the same with that token, and ending another session opens the account page for it, which
//! the account remembers until the session is seen gone. Single sign-on (`m.login.sso`, and its
//! step of user-interactive auth) is in [`sso`].
//!
//! Facts: `shared/reference/matrix.md`. Not here: the rest of the Synapse admin API (users,
//! rooms, media).

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use url::Url;

use crate::clients::{
    rule, Rule, ANDROID, APP_ID, BROWSER, BY_OS, DESKTOP, INTEGRATION, IOS, MACOS, MOBILE, NAMES, NAMES_AND_UA, SCRIPT, UA,
};
use crate::error::{Error, Result};
use crate::model::{AccountActions, Actions, ClientHints, Credential, CredentialKind, Fact, Gap, Kind};
use crate::net::http::{join, one_line, Http, Response};
use crate::provider::{
    Approved, BrowserAsk, BrowserPage, Capabilities, Found, Identified, Proof, Provider, Revoked, Session, SignInChoice, SignInMethod,
    SignInRequest, SignInSecret, SignedIn, TokenShape,
};
use crate::secret::{self, Secret, SecretBody};

mod sso;

pub struct Matrix;

/// This kind of server, as the registry and stored accounts name it.
pub const KIND: Kind = Kind::new("matrix");

/// What the app keeps in the keyring for a Matrix account.
#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(with = "secret::stored")]
    access_token: Secret,
    #[serde(default, with = "secret::stored::option", skip_serializing_if = "Option::is_none")]
    refresh_token: Option<Secret>,
    device_id: String,
    user_id: String,
    /// Whether the account is a Synapse server admin, learned on the first listing that asked and
    /// remembered, so later refreshes ask the admin API only where it answers. `None` for an
    /// account not yet asked (or signed in before this was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    server_admin: Option<bool>,
    /// Signed in through next-gen auth (OAuth 2.0): where its tokens go, fixed at sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    oauth: Option<oauth::Grant>,
    /// Signed in by single sign-on: the account may have no password, and its sign-outs are
    /// confirmed in the browser when the server asks for that.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    sso: bool,
}

/// What the Synapse admin API said about the account's role.
enum AdminAnswer {
    /// Admin: each device's user agent.
    Admin(HashMap<String, String>),
    /// 403: not a server admin (or not Synapse).
    NotAdmin,
    /// Anything else (down, garbage, rate-limited): nothing learned.
    Unknown,
}

// ---- wire types (the server's own words) ----

#[derive(Deserialize)]
struct Versions {
    versions: Vec<String>,
}

#[derive(Deserialize)]
struct WellKnown {
    #[serde(rename = "m.homeserver")]
    homeserver: Option<WellKnownHomeserver>,
}

#[derive(Deserialize)]
struct WellKnownHomeserver {
    base_url: String,
}

/// `POST /login` with a password. Borrowed fields: the body is built straight into a wiped
/// buffer (see `secret::SecretBody`), with no copy of the password left behind.
#[derive(Serialize)]
struct LoginRequest<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    identifier: UserIdentifier<'a>,
    password: &'a str,
    initial_device_display_name: &'a str,
    refresh_token: bool,
}

#[derive(Serialize)]
struct UserIdentifier<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    user: &'a str,
}

impl<'a> UserIdentifier<'a> {
    fn user(user: &'a str) -> Self {
        UserIdentifier { kind: "m.id.user", user }
    }
}

/// `POST /refresh`.
#[derive(Serialize)]
struct RefreshRequest<'a> {
    refresh_token: &'a str,
}

/// `POST /delete_devices` with the password stage of user-interactive auth.
#[derive(Serialize)]
struct DeleteDevicesRequest<'a> {
    devices: &'a [String],
    auth: PasswordAuth<'a>,
}

#[derive(Serialize)]
struct PasswordAuth<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    identifier: UserIdentifier<'a>,
    password: &'a str,
    session: &'a str,
}

#[derive(Deserialize)]
struct LoginResponse {
    user_id: String,
    access_token: String,
    device_id: String,
    refresh_token: Option<String>,
}

#[derive(Deserialize)]
struct RefreshResponse {
    access_token: String,
    refresh_token: Option<String>,
}

#[derive(Deserialize)]
struct Whoami {
    user_id: String,
    device_id: Option<String>,
}

#[derive(Deserialize)]
struct DevicesResponse {
    devices: Vec<Device>,
}

#[derive(Deserialize)]
struct Device {
    device_id: String,
    display_name: Option<String>,
    last_seen_ip: Option<String>,
    last_seen_ts: Option<i64>,
    /// Only from the Synapse admin API.
    last_seen_user_agent: Option<String>,
}

/// `GET /_synapse/admin/v1/whois/<user_id>`: each device's connections (admins only).
#[derive(Deserialize)]
struct Whois {
    #[serde(default)]
    devices: HashMap<String, WhoisDevice>,
}

#[derive(Deserialize)]
struct WhoisDevice {
    #[serde(default)]
    sessions: Vec<WhoisSession>,
}

#[derive(Deserialize)]
struct WhoisSession {
    #[serde(default)]
    connections: Vec<WhoisConnection>,
}

#[derive(Deserialize)]
struct WhoisConnection {
    ip: Option<String>,
    last_seen: Option<i64>,
    user_agent: Option<String>,
}

#[derive(Deserialize)]
struct PushersResponse {
    pushers: Vec<Pusher>,
}

#[derive(Deserialize)]
struct Pusher {
    app_display_name: Option<String>,
    app_id: String,
    device_display_name: Option<String>,
    kind: Option<String>,
    lang: Option<String>,
    profile_tag: Option<String>,
    pushkey: String,
    #[serde(default)]
    data: Value,
}

/// Element's `io.element.matrix_client_information.<device_id>` account data.
const CLIENT_INFO_PREFIX: &str = "io.element.matrix_client_information.";

#[derive(Deserialize)]
struct SyncResponse {
    #[serde(default)]
    account_data: AccountData,
}

#[derive(Deserialize, Default)]
struct AccountData {
    #[serde(default)]
    events: Vec<AccountDataEvent>,
}

#[derive(Deserialize)]
struct AccountDataEvent {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    content: Value,
}

#[derive(Deserialize)]
struct ClientInformation {
    name: Option<String>,
    version: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize)]
struct AuthMetadata {
    account_management_uri: Option<String>,
    #[serde(default)]
    account_management_actions_supported: Vec<String>,
}

#[derive(Deserialize)]
struct UiaResponse {
    session: Option<String>,
    #[serde(default)]
    flows: Vec<UiaFlow>,
    errcode: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct UiaFlow {
    #[serde(default)]
    stages: Vec<String>,
}

#[derive(Deserialize)]
struct MatrixError {
    errcode: Option<String>,
    error: Option<String>,
}

fn matrix_error(r: &Response) -> MatrixError {
    serde_json::from_slice(&r.body).unwrap_or(MatrixError { errcode: None, error: None })
}

fn errcode(r: &Response) -> String {
    matrix_error(r).errcode.unwrap_or_default()
}

/// The server's error in one line ("M_TOO_LARGE: Display name is too long").
fn server_error(r: &Response) -> Error {
    let e = matrix_error(r);
    match (e.errcode, e.error) {
        (Some(code), Some(msg)) => Error::Server { host: r.host(), message: format!("{code}: {}", one_line(&msg)) },
        _ => r.unexpected(),
    }
}

/// Next-gen auth: where the server's account page is and what it can do.
struct AccountManagement {
    uri: String,
    actions: Vec<String>,
}

impl AccountManagement {
    /// The page that ends one session, using the newest action the server supports.
    fn end_session_url(&self, device_id: &str) -> String {
        let action = ["org.matrix.device_delete", "org.matrix.session_end", "org.matrix.session_view"]
            .into_iter()
            .find(|a| self.actions.iter().any(|s| s == a));
        let mut url = match Url::parse(&self.uri) {
            Ok(u) => u,
            Err(_) => return self.uri.clone(),
        };
        if let Some(action) = action {
            url.query_pairs_mut().append_pair("action", action).append_pair("device_id", device_id);
        }
        url.to_string()
    }

    fn sessions_url(&self) -> String {
        let mut url = match Url::parse(&self.uri) {
            Ok(u) => u,
            Err(_) => return self.uri.clone(),
        };
        for action in ["org.matrix.sessions_list", "org.matrix.devices_list"] {
            if self.actions.iter().any(|s| s == action) {
                url.query_pairs_mut().append_pair("action", action);
                break;
            }
        }
        url.to_string()
    }
}

fn ms_to_time(ms: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single()
}

/// A short stable id for a pusher that does not reveal its push key.
fn pusher_id(app_id: &str, pushkey: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in app_id.bytes().chain([0u8]).chain(pushkey.bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("push-{h:016x}")
}

impl Matrix {
    /// The homeserver base URL for what the user typed: the well-known's `m.homeserver`, else
    /// the URL itself; `None` when neither serves `/_matrix/client/versions`.
    ///
    /// The well-known may name another host (that is what it is for), but never plain http for an
    /// address given with https, not even this computer's: that is refused in one line. A
    /// well-known that redirects to another host is not followed, as if there were none.
    async fn discover(&self, http: &Http, url: &Url) -> Result<Option<Url>> {
        let mut candidates = Vec::new();
        let wk = match http.send(http.get(join(url, ".well-known/matrix/client"))).await {
            Ok(wk) => Some(wk),
            Err(Error::Redirected { .. }) => None,
            Err(e) => return Err(e),
        };
        if let Some(wk) = wk.filter(|wk| wk.is_success()) {
            if let Ok(WellKnown { homeserver: Some(hs) }) = serde_json::from_slice::<WellKnown>(&wk.body) {
                if let Ok(u) = crate::net::http::parse_server_url(&hs.base_url) {
                    if url.scheme() == "https" && u.scheme() != "https" {
                        return Err(crate::net::http::downgrade(&crate::model::host_of(u.as_str())));
                    }
                    candidates.push(u);
                }
            }
        }
        candidates.push(url.clone());
        for base in candidates {
            match http.send(http.get(join(&base, "_matrix/client/versions"))).await {
                Ok(r) if r.is_success() => {
                    if serde_json::from_slice::<Versions>(&r.body).map(|v| !v.versions.is_empty()).unwrap_or(false) {
                        return Ok(Some(base));
                    }
                }
                Ok(_) => {}
                Err(e) if base == *url => return Err(e),
                Err(_) => {}
            }
        }
        Ok(None)
    }

    /// A fresh sign-in (`how`: "password", "single sign-on" …) with the facts of its server.
    async fn signed_in(&self, http: &Http, base: Url, stored: Stored, how: &str) -> Result<SignedIn> {
        let mut facts = vec![Fact::new("Homeserver", crate::net::http::base_string(&base))];
        if let Some(v) = self.versions(http, &base).await {
            facts.push(Fact::new("Spec version", v));
        }
        facts.push(Fact::new("Sign-in", how));
        Ok(SignedIn {
            base_url: base,
            user_id: stored.user_id.clone(),
            own_credential: Some(stored.device_id.clone()),
            server_facts: facts,
            stored: crate::provider::to_stored(&stored)?,
        })
    }

    async fn versions(&self, http: &Http, base: &Url) -> Option<String> {
        let r = http.send(http.get(join(base, "_matrix/client/versions"))).await.ok()?;
        let v: Versions = serde_json::from_slice(&r.body).ok()?;
        v.versions.last().cloned()
    }

    /// The next-gen auth account page, when the server uses next-gen auth.
    async fn account_management(&self, http: &Http, base: &Url) -> Result<Option<AccountManagement>> {
        // Both paths at once (the stable one wins); most servers answer neither.
        let (stable, unstable) = tokio::join!(
            http.send(http.get(join(base, "_matrix/client/v1/auth_metadata"))),
            http.send(http.get(join(base, "_matrix/client/unstable/org.matrix.msc2965/auth_metadata"))),
        );
        for r in [stable, unstable] {
            let r = r?;
            if r.is_success() {
                if let Ok(m) = serde_json::from_slice::<AuthMetadata>(&r.body) {
                    if let Some(uri) = m.account_management_uri {
                        return Ok(Some(AccountManagement { uri, actions: m.account_management_actions_supported }));
                    }
                    return Ok(Some(AccountManagement { uri: base.to_string(), actions: vec![] }));
                }
            }
        }
        Ok(None)
    }

    /// An authenticated request. When the access token has expired and a refresh token is kept,
    /// refreshes once (saving the new tokens before using them) and repeats the request.
    async fn call<B: Serialize + Sync + ?Sized>(&self, s: &Session<'_>, method: Method, path: &str, body: Option<&B>) -> Result<Response> {
        let stored: Stored = s.load().await?;
        // An OAuth access token past the time the server gave it is renewed before use, not
        // after the server refuses it.
        let used = match &stored.oauth {
            Some(g) if g.expired(Utc::now()) => self.refreshed(s, &stored.access_token).await?,
            _ => stored.access_token.clone(),
        };
        let r = self.send_with(s, &used, method.clone(), path, body).await?;
        if r.status != StatusCode::UNAUTHORIZED || errcode(&r) != "M_UNKNOWN_TOKEN" {
            return Ok(r);
        }
        let fresh = self.refreshed(s, &used).await?;
        self.send_with(s, &fresh, method, path, body).await
    }

    /// One authenticated request; a body goes in a wiped buffer (some carry the password).
    async fn send_with<B: Serialize + Sync + ?Sized>(
        &self,
        s: &Session<'_>,
        token: &Secret,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<Response> {
        let mut req = s.http.request(method, join(&s.base_url()?, path)).bearer_auth(token.expose());
        if let Some(b) = body {
            req = req.secret_json(b);
        }
        // Device lists (and the admin API's, and the account data) can be thousands long.
        s.http.send_limited(req, crate::net::http::LISTING_LIMIT).await
    }

    /// A working access token after `failed` was refused: someone else's refresh, or our own.
    ///
    /// Refreshing uses up the refresh token, so only one refresh of an account may run at a
    /// time across every Keyward process: the account is held exclusively, the keyring read
    /// afresh inside (another process may have refreshed while this one waited, and its tokens
    /// are then the ones to use), and the new tokens saved before the lock is let go.
    async fn refreshed(&self, s: &Session<'_>, failed: &Secret) -> Result<Secret> {
        let _held = s.exclusive().await?;
        let stored: Stored = s.reload().await?;
        if stored.access_token != *failed {
            return Ok(stored.access_token);
        }
        let Some(refresh_token) = stored.refresh_token.clone() else {
            return Err(s.sign_in_again("the server no longer accepts its access token"));
        };
        if let Some(grant) = stored.oauth.clone() {
            // Only to the token endpoint fixed at sign-in, whatever the server says now.
            let fresh = match oauth::refresh(s.http, &grant, &refresh_token).await? {
                oauth::Refreshed::Tokens(t) => t,
                oauth::Refreshed::Refused => return Err(s.sign_in_again("its session expired and could not be renewed")),
            };
            let next = Stored {
                access_token: Secret::new(fresh.access_token),
                refresh_token: fresh.refresh_token.map(Secret::new).or(Some(refresh_token)),
                oauth: Some(oauth::Grant { expires_at: oauth::expiry(fresh.expires_in), ..grant }),
                ..stored
            };
            s.save(&next).await?;
            return Ok(next.access_token);
        }
        let r = s
            .http
            .send(
                s.http
                    .post(join(&s.base_url()?, "_matrix/client/v3/refresh"))
                    .secret_json(&RefreshRequest { refresh_token: refresh_token.expose() }),
            )
            .await?;
        if !r.is_success() {
            return Err(match r.status {
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => s.sign_in_again("its session expired and could not be renewed"),
                _ => server_error(&r),
            });
        }
        let fresh: RefreshResponse = r.json("a token refresh answer")?;
        let next = Stored {
            access_token: Secret::new(fresh.access_token),
            // A server may keep the old refresh token valid and not send a new one.
            refresh_token: fresh.refresh_token.map(Secret::new).or(Some(refresh_token)),
            device_id: stored.device_id,
            user_id: stored.user_id,
            server_admin: stored.server_admin,
            oauth: stored.oauth,
            sso: stored.sso,
        };
        // Saved before first use: once the new access token is used the old refresh token dies.
        s.save(&next).await?;
        Ok(next.access_token)
    }

    /// A checked JSON answer of an authenticated call.
    async fn get_json<T: for<'de> Deserialize<'de>>(&self, s: &Session<'_>, path: &str, what: &str) -> Result<T> {
        let r = self.call(s, Method::GET, path, None::<&Value>).await?;
        if r.status == StatusCode::UNAUTHORIZED {
            return Err(s.sign_in_again("the server no longer accepts its access token"));
        }
        if !r.is_success() {
            return Err(server_error(&r));
        }
        r.json(what)
    }

    /// Element's client information for every device, from the account data, in one filtered
    /// `/sync` request (not one request per device, which would be thousands for some accounts).
    /// Missing or unreadable account data just means no extra hints.
    async fn client_informations(&self, s: &Session<'_>) -> HashMap<String, ClientInformation> {
        let filter = json!({
            "account_data": { "types": [format!("{CLIENT_INFO_PREFIX}*")] },
            "presence": { "types": [] },
            "room": { "rooms": [] },
        });
        let mut path = String::from("_matrix/client/v3/sync?timeout=0&set_presence=offline&filter=");
        path.push_str(&enc(&filter.to_string()));
        let Ok(r) = self.call(s, Method::GET, &path, None::<&Value>).await else { return HashMap::new() };
        if !r.is_success() {
            return HashMap::new();
        }
        let Ok(sync) = serde_json::from_slice::<SyncResponse>(&r.body) else { return HashMap::new() };
        sync.account_data
            .events
            .into_iter()
            .filter_map(|e| {
                let device = e.kind.strip_prefix(CLIENT_INFO_PREFIX)?.to_string();
                let info: ClientInformation = serde_json::from_value(e.content).ok()?;
                Some((device, info))
            })
            .collect()
    }

    /// Server admins see each device's user agent through the Synapse admin API; others get 403
    /// (and servers other than Synapse 404 or 400).
    async fn admin_user_agents(&self, s: &Session<'_>, user_id: &str) -> AdminAnswer {
        let path = format!("_synapse/admin/v2/users/{}/devices", enc(user_id));
        let Ok(r) = self.call(s, Method::GET, &path, None::<&Value>).await else { return AdminAnswer::Unknown };
        if matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST | StatusCode::METHOD_NOT_ALLOWED) {
            return AdminAnswer::NotAdmin;
        }
        if !r.is_success() {
            return AdminAnswer::Unknown;
        }
        let Ok(d) = serde_json::from_slice::<DevicesResponse>(&r.body) else { return AdminAnswer::Unknown };
        AdminAnswer::Admin(
            d.devices.into_iter().filter_map(|d| Some((d.device_id, d.last_seen_user_agent.filter(|u| !u.is_empty())?))).collect(),
        )
    }

    /// An admin API answer about another user (`target`): a 403 means the account
    /// is not a server admin (remembered, as a listing would), an unknown or remote user is
    /// [`Error::UnknownUser`], a server without the Synapse admin API is [`Error::NoAdminApi`].
    async fn admin_json<T: for<'de> Deserialize<'de>>(
        &self,
        s: &Session<'_>,
        known_admin: Option<bool>,
        method: Method,
        path: &str,
        body: Option<&Value>,
        target: &str,
    ) -> Result<T> {
        let r = self.call(s, method, path, body).await?;
        let code = errcode(&r);
        match r.status {
            st if st.is_success() => {
                if known_admin != Some(true) {
                    self.remember_admin(s, true).await;
                }
                return r.json("an answer of the Synapse admin API");
            }
            StatusCode::UNAUTHORIZED => return Err(s.sign_in_again("the server no longer accepts its access token")),
            StatusCode::FORBIDDEN => {
                if known_admin != Some(false) {
                    self.remember_admin(s, false).await;
                }
                return Err(Error::NotAdmin { account: s.account.name() });
            }
            _ => {}
        }
        match (r.status, code.as_str()) {
            // Synapse: "Unknown user"; "Can only look up local users" for another server's.
            (StatusCode::NOT_FOUND, "M_NOT_FOUND") | (StatusCode::BAD_REQUEST, _) => {
                Err(Error::UnknownUser { account: s.account.name(), user: target.to_string() })
            }
            (StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED, _) => Err(Error::NoAdminApi { kind: "This Matrix server" }),
            _ => Err(server_error(&r)),
        }
    }

    /// Keeps what the admin API said about the account's role, once: under the account's lock,
    /// over a fresh read of the keyring (another process may have rotated the tokens meanwhile).
    /// A failure to keep it only means asking again next time.
    async fn remember_admin(&self, s: &Session<'_>, admin: bool) {
        let Ok(_held) = s.exclusive().await else { return };
        let Ok(mut stored) = s.reload::<Stored>().await else { return };
        if stored.server_admin == Some(admin) {
            return;
        }
        stored.server_admin = Some(admin);
        if let Err(e) = s.save(&stored).await {
            tracing::debug!("could not remember the account's admin role: {e}");
        }
    }

    /// Signs devices out in one request: a fresh UIA session, then the password once, or the
    /// single sign-on step confirmed in the browser where the account has no password.
    async fn delete_devices(&self, s: &Session<'_>, user_id: &str, devices: &[String], proof: &Proof) -> Result<()> {
        let password = proof.password();
        let first = self.call(s, Method::POST, "_matrix/client/v3/delete_devices", Some(&json!({ "devices": devices }))).await?;
        if first.is_success() {
            return Ok(());
        }
        if first.status != StatusCode::UNAUTHORIZED {
            return Err(server_error(&first));
        }
        let uia: UiaResponse = match serde_json::from_slice(&first.body) {
            Ok(u) => u,
            Err(_) => return Err(Error::bad_response(first.host(), "expected a sign-in challenge")),
        };
        let Some(session) = uia.session.filter(|_| !uia.flows.is_empty()) else {
            // A 401 without a UIA challenge: the token itself was refused.
            return Err(s.sign_in_again("the server no longer accepts its access token"));
        };
        let offers_password = uia.flows.iter().any(|f| f.stages == ["m.login.password"]);
        let sso_stage = uia.flows.iter().find(|f| f.stages == ["m.login.sso"]).map(|f| f.stages[0].as_str());
        if let (Some(stage), Some(confirm)) = (sso_stage, proof.confirm().filter(|_| password.is_none() || !offers_password)) {
            return self.delete_devices_confirmed(s, devices, stage, &session, confirm).await;
        }
        if !offers_password {
            let stage = uia.flows.first().and_then(|f| f.stages.first()).cloned().unwrap_or_default();
            let mut fallback = join(&s.base_url()?, &format!("_matrix/client/v3/auth/{}/fallback/web", enc(&stage)));
            fallback.query_pairs_mut().append_pair("session", &session);
            return Err(Error::OpenInBrowser {
                message: format!("this server asks for a sign-in step Keyward cannot do ({stage}) before it signs devices out; sign them out in a Matrix client such as Element, or complete the step in the browser"),
                url: fallback.to_string(),
            });
        }
        let Some(password) = password else {
            return Err(Error::PasswordNeeded { account: s.account.name(), server: "Matrix" });
        };
        let body = DeleteDevicesRequest {
            devices,
            auth: PasswordAuth {
                kind: "m.login.password",
                identifier: UserIdentifier::user(user_id),
                password: password.expose(),
                session: &session,
            },
        };
        let second = self.call(s, Method::POST, "_matrix/client/v3/delete_devices", Some(&body)).await?;
        if second.is_success() {
            return Ok(());
        }
        let uia: Option<UiaResponse> = serde_json::from_slice(&second.body).ok();
        match uia {
            Some(u) if u.errcode.as_deref() == Some("M_FORBIDDEN") => Err(s.wrong_password()),
            Some(u) if u.errcode.is_some() => Err(Error::Server {
                host: second.host(),
                message: format!("{}: {}", u.errcode.unwrap_or_default(), one_line(&u.error.unwrap_or_default())),
            }),
            _ => Err(server_error(&second)),
        }
    }

    /// [`Matrix::delete_devices`] through the single sign-on stage: its fallback page opened in
    /// the browser, then the same request with the UIA `session` only, repeated until the server
    /// sees the stage done (or the wait ends).
    async fn delete_devices_confirmed(
        &self,
        s: &Session<'_>,
        devices: &[String],
        stage: &str,
        session: &str,
        confirm: &dyn crate::provider::ConfirmInBrowser,
    ) -> Result<()> {
        confirm.open(&sso::fallback_page(&s.base_url()?, stage, session)).await;
        let body = json!({ "devices": devices, "auth": { "session": session } });
        sso::until_confirmed(
            confirm.wait(),
            || confirm.cancelled(),
            || async {
                match self.call(s, Method::POST, "_matrix/client/v3/delete_devices", Some(&body)).await {
                    Ok(r) => sso::Retry::of(s, &r),
                    Err(e) => sso::Retry::Failed(e),
                }
            },
        )
        .await
    }
}

/// Matrix tokens by shape: Synapse's `syt_`/`syr_`, the Matrix Authentication Service's
/// `mat_`/`mar_`.
const TOKEN_SHAPES: &[TokenShape] = &[
    TokenShape { what: "Matrix access token", matches: |t| shaped(t, "syt_") || shaped(t, "mat_") },
    TokenShape { what: "Matrix refresh token", matches: |t| shaped(t, "syr_") || shaped(t, "mar_") },
];

fn shaped(t: &str, prefix: &str) -> bool {
    t.strip_prefix(prefix).is_some_and(|rest| rest.len() >= 10 && crate::insight::identify::charset(rest, "_-"))
}

/// The localpart a Synapse token names (`syt_<base64 localpart>_<random>_<crc>`).
fn synapse_localpart(t: &str) -> Option<String> {
    let rest = t.strip_prefix("syt_").or_else(|| t.strip_prefix("syr_"))?;
    let b64 = rest.split('_').next()?;
    String::from_utf8(crate::insight::identify::base64url(b64)?).ok()
}

/// The full user id for a name typed for "another user": `@bob:server` as it is, a bare
/// localpart (`bob`, `@bob`) on the account's own server, lowercased as Synapse keeps localparts.
fn other_user_id(typed: &str, own_user_id: &str) -> String {
    let t = typed.trim();
    if t.starts_with('@') && t.contains(':') {
        return t.to_string();
    }
    let server = own_user_id.split_once(':').map(|(_, s)| s).unwrap_or("");
    format!("@{}:{server}", t.trim_start_matches('@').to_lowercase())
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
}

fn device_credential(
    d: Device,
    own: &str,
    info: Option<ClientInformation>,
    user_agent: Option<String>,
    mgmt: Option<&AccountManagement>,
    needs_password: bool,
) -> Credential {
    let mut c = Credential::new(d.device_id.clone(), CredentialKind::Session);
    c.name = d.display_name.clone().filter(|n| !n.is_empty());
    c.hints = ClientHints { device_name: c.name.clone(), user_agent: user_agent.clone(), ..Default::default() };
    if let Some(info) = info {
        if let Some(name) = &info.name {
            let client = match &info.version {
                Some(v) => format!("{name} {v}"),
                None => name.clone(),
            };
            c.details.push(Fact::new("Client", client));
        }
        c.hints.app_name = info.name;
        c.hints.version = info.version;
        c.hints.url = info.url;
    }
    c.last_used = d.last_seen_ts.and_then(ms_to_time);
    c.tracks_use = true;
    c.last_ip = d.last_seen_ip.filter(|ip| !ip.is_empty());
    c.current = d.device_id == own;
    c.details.push(Fact::new("Device ID", d.device_id.clone()));
    if let Some(ua) = user_agent {
        c.details.push(Fact::new("User agent", ua));
    }
    if let Some(url) = &c.hints.url {
        c.details.push(Fact::new("Client URL", url.clone()));
    }
    c.actions = match mgmt {
        None => Actions { rename: true, revoke: true, revoke_needs_password: needs_password, ..Default::default() },
        Some(m) => {
            c.manage_url = Some(m.end_session_url(&d.device_id));
            Actions { rename: true, revoke: true, revoke_in_browser: true, ..Default::default() }
        }
    };
    c
}

/// A device of another user, as a server admin sees it: its user agent, and each connection the
/// server remembers (`whois`); signed out through the admin API without a password; renamed only
/// by its user.
fn user_device_credential(d: Device, connections: Vec<WhoisConnection>) -> Credential {
    let ua = d.last_seen_user_agent.clone().filter(|u| !u.is_empty());
    let mut c = device_credential(d, "", None, ua, None, false);
    c.usage = connections
        .into_iter()
        .map(|k| crate::model::Usage {
            hints: ClientHints { user_agent: k.user_agent.filter(|u| !u.is_empty()), ..Default::default() },
            last_used: k.last_seen.and_then(ms_to_time),
            ip: k.ip.filter(|ip| !ip.is_empty()),
        })
        .collect();
    c.current = false;
    c.actions = Actions {
        rename: false,
        revoke: true,
        why_not: Some("Keyward renames only the signed-in account's own devices".into()),
        ..Default::default()
    };
    c
}

/// The connections a server remembers for the user without saying which device made them, in
/// one sentence: how many, and from which addresses (the most recent first, at most five).
fn connections_gap(connections: &[WhoisConnection]) -> Option<Gap> {
    if connections.is_empty() {
        return None;
    }
    let mut by_time: Vec<&WhoisConnection> = connections.iter().collect();
    by_time.sort_by_key(|c| std::cmp::Reverse(c.last_seen));
    let mut ips: Vec<&str> = Vec::new();
    for c in by_time {
        if let Some(ip) = c.ip.as_deref().filter(|ip| !ip.is_empty()) {
            if !ips.contains(&ip) {
                ips.push(ip);
            }
        }
    }
    let n = connections.len();
    let shown = ips.iter().take(5).copied().collect::<Vec<_>>().join(", ");
    let more = if ips.len() > 5 { format!(" and {} more", ips.len() - 5) } else { String::new() };
    Some(Gap {
        message: format!(
            "The server also remembers {n} connection{} of this user{} without saying which device made each",
            if n == 1 { "" } else { "s" },
            if ips.is_empty() { String::new() } else { format!(" (from {shown}{more})") }
        ),
        url: None,
        remedy: None,
    })
}

fn pusher_credential(p: Pusher) -> Credential {
    let mut c = Credential::new(pusher_id(&p.app_id, &p.pushkey), CredentialKind::PushRegistration);
    c.name = p.device_display_name.clone().filter(|n| !n.is_empty()).or_else(|| p.app_display_name.clone());
    c.hints = ClientHints {
        device_name: p.device_display_name.clone(),
        app_name: p.app_display_name.clone(),
        app_id: Some(p.app_id.clone()),
        ..Default::default()
    };
    if let Some(name) = &p.app_display_name {
        c.details.push(Fact::new("App", name.clone()));
    }
    c.details.push(Fact::new("App ID", p.app_id.clone()));
    if let Some(kind) = &p.kind {
        c.details.push(Fact::new("Kind", kind.clone()));
    }
    if let Some(url) = p.data.get("url").and_then(Value::as_str) {
        c.details.push(Fact::new("Push gateway", url.to_string()));
    }
    if let Some(format) = p.data.get("format").and_then(Value::as_str) {
        c.details.push(Fact::new("Format", format.to_string()));
    }
    if let Some(lang) = p.lang.filter(|l| !l.is_empty()) {
        c.details.push(Fact::new("Language", lang));
    }
    if let Some(tag) = p.profile_tag.filter(|t| !t.is_empty()) {
        c.details.push(Fact::new("Profile tag", tag));
    }
    c.actions = Actions {
        rename: false,
        revoke: true,
        why_not: Some("Matrix has no way to rename a push registration; it takes its device's name".into()),
        ..Default::default()
    };
    c
}

#[async_trait]
impl Provider for Matrix {
    fn client_rules(&self) -> &'static [Rule] {
        CLIENT_RULES
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            kind: KIND,
            display_name: "Matrix",
            aliases: &["synapse"],
            sign_in: &[SignInMethod::Password, SignInMethod::Token, SignInMethod::Browser],
            token_label: "access token",
            rename: true,
            revoke: true,
            revoke_many: true,
            revoke_all_others: true,
            revoke_needs_password: true,
            sign_out: true,
            other_users: true,
            token_shapes: TOKEN_SHAPES,
            ..Default::default()
        }
    }

    async fn probe(&self, http: &Http, url: &Url) -> Result<Option<Url>> {
        self.discover(http, url).await
    }

    async fn sign_in(&self, http: &Http, req: SignInRequest) -> Result<SignedIn> {
        let base = self.require(http, &req.url).await?;
        let account_name = format!("{}@{}", req.login, crate::model::host_of(base.as_str()));
        let next_gen = self.account_management(http, &base).await?;
        let stored = match req.secret {
            SignInSecret::Password(password) => {
                if let Some(m) = &next_gen {
                    return Err(Error::SignInMethod {
                        message: "this server signs in only in the browser (next-gen auth), not with a password: add it with the sign-in in the browser, or with an access token made on its account page".into(),
                        remedy: Some(crate::error::Remedy::OpenPage { url: m.uri.clone() }),
                    });
                }
                let body = LoginRequest {
                    kind: "m.login.password",
                    identifier: UserIdentifier::user(&req.login),
                    password: password.expose(),
                    initial_device_display_name: &req.client_name,
                    refresh_token: true,
                };
                let r = http.send(http.post(join(&base, "_matrix/client/v3/login")).secret_json(&body)).await?;
                if r.status == StatusCode::FORBIDDEN && errcode(&r) == "M_FORBIDDEN" {
                    return Err(Error::WrongPassword { account: account_name });
                }
                if r.status == StatusCode::FORBIDDEN && errcode(&r) == "M_USER_DEACTIVATED" {
                    return Err(Error::Deactivated { account: account_name });
                }
                if !r.is_success() {
                    return Err(sso::without_password(http, &base).await.unwrap_or_else(|| server_error(&r)));
                }
                let login: LoginResponse = r.json("a login answer")?;
                Stored {
                    access_token: Secret::new(login.access_token),
                    refresh_token: login.refresh_token.map(Secret::new),
                    device_id: login.device_id,
                    user_id: login.user_id,
                    server_admin: None,
                    sso: false,
                    oauth: None,
                }
            }
            SignInSecret::Token(token) => {
                let r = http.send(http.get(join(&base, "_matrix/client/v3/account/whoami")).bearer_auth(token.expose())).await?;
                if r.status == StatusCode::UNAUTHORIZED {
                    return Err(Error::input(format!("the server does not accept this access token for {account_name}")));
                }
                if !r.is_success() {
                    return Err(server_error(&r));
                }
                let who: Whoami = r.json("an account answer")?;
                let localpart = who.user_id.trim_start_matches('@').split(':').next().unwrap_or("");
                if !(localpart.eq_ignore_ascii_case(req.login.trim_start_matches('@').split(':').next().unwrap_or(""))) {
                    return Err(Error::input(format!("this access token belongs to {}, not {}", who.user_id, req.login)));
                }
                let Some(device_id) = who.device_id else {
                    return Err(Error::input("this access token has no device (an appservice or admin token?): use a user's access token"));
                };
                Stored {
                    access_token: token,
                    refresh_token: None,
                    device_id,
                    user_id: who.user_id,
                    server_admin: None,
                    sso: false,
                    oauth: None,
                }
            }
        };
        self.signed_in(http, base, stored, if next_gen.is_some() { "next-gen auth (account page)" } else { "password" }).await
    }

    async fn sign_in_options(&self, http: &Http, url: &Url) -> Result<Vec<SignInMethod>> {
        let base = self.require(http, url).await?;
        // Next-gen auth: the browser (OAuth 2.0), or a token made elsewhere; no password.
        if oauth::discover(http, &base).await?.is_some() {
            return Ok(vec![SignInMethod::Browser, SignInMethod::Token]);
        }
        Ok(sso::LoginFlows::of(http, &base).await?.methods())
    }

    /// The identity providers of single sign-on; none on a next-gen server (its own page).
    async fn sign_in_choices(&self, http: &Http, base: &Url) -> Result<Vec<SignInChoice>> {
        let base = self.require(http, base).await?;
        if oauth::discover(http, &base).await?.is_some() {
            return Ok(Vec::new());
        }
        Ok(sso::LoginFlows::of(http, &base).await?.identity_providers())
    }

    /// Next-gen auth ([`oauth::browser_page`]) where the server has it, else single sign-on
    /// ([`sso::page`]).
    async fn browser_page(&self, http: &Http, ask: BrowserAsk<'_>) -> Result<BrowserPage> {
        let base = self.require(http, ask.url).await?;
        if let Some(found) = oauth::discover(http, &base).await? {
            return oauth::browser_page(http, &base, found, ask).await;
        }
        sso::page(http, &base, ask).await
    }

    /// The return of whichever [`Matrix::browser_page`] gave: OAuth's carries its verifier.
    async fn sign_in_approved(&self, http: &Http, approved: Approved) -> Result<SignedIn> {
        if oauth::carries_oauth(approved.carry.as_ref()) {
            return self.sign_in_oauth(http, approved).await;
        }
        let base = self.require(http, &approved.url).await?;
        let stored = sso::sign_in(http, &base, &approved).await?;
        self.signed_in(http, base, stored, "single sign-on").await
    }

    async fn list(&self, s: &Session<'_>) -> Result<Found> {
        // Read once here, so the requests below all use this copy instead of each asking the keyring.
        let stored: Stored = s.load().await?;
        let base = s.base_url()?;
        // Independent of each other: asked together, so a refresh costs about one round trip,
        // not five.
        let (devices, mgmt, pushers, agents, mut infos) = tokio::join!(
            self.get_json::<DevicesResponse>(s, "_matrix/client/v3/devices", "a device list"),
            async {
                match &stored.oauth {
                    // Signed in through it: the account page named at sign-in, never asked again.
                    Some(g) => Ok(Some(AccountManagement {
                        uri: g.account_management_uri.clone().unwrap_or_else(|| g.issuer.clone()),
                        actions: g.actions.clone(),
                    })),
                    None => self.account_management(s.http, &base).await,
                }
            },
            self.get_json::<PushersResponse>(s, "_matrix/client/v3/pushers", "a pusher list"),
            async {
                match stored.server_admin {
                    // Known not to be an admin: the admin API is not asked again.
                    Some(false) => AdminAnswer::NotAdmin,
                    _ => self.admin_user_agents(s, &stored.user_id).await,
                }
            },
            self.client_informations(s),
        );
        let agents = match agents {
            AdminAnswer::Admin(agents) => {
                if stored.server_admin != Some(true) {
                    self.remember_admin(s, true).await;
                }
                agents
            }
            AdminAnswer::NotAdmin => {
                if stored.server_admin.is_none() {
                    self.remember_admin(s, false).await;
                }
                HashMap::new()
            }
            AdminAnswer::Unknown => HashMap::new(),
        };
        let (devices, mgmt) = (devices?, mgmt?);
        let mut gaps = Vec::new();
        let pushers = match pushers {
            Ok(p) => p.pushers,
            Err(e @ Error::SignInAgain { .. }) => return Err(e),
            Err(e) => {
                gaps.push(Gap { message: format!("Push registrations could not be read: {e}"), url: None, remedy: None });
                Vec::new()
            }
        };
        let mut credentials: Vec<Credential> = devices
            .devices
            .into_iter()
            .map(|d| {
                let info = infos.remove(&d.device_id);
                let ua = agents.get(&d.device_id).cloned();
                // Signed in by single sign-on: the server may ask for that step instead.
                device_credential(d, &stored.device_id, info, ua, mgmt.as_ref(), !stored.sso)
            })
            .collect();
        if let Some(grant) = &stored.oauth {
            self.mark_ending(s, grant, &mut credentials).await;
        }
        // The app's own session first, then the most recently active.
        credentials.sort_by(|a, b| b.current.cmp(&a.current).then(b.last_used.cmp(&a.last_used)));
        credentials.extend(pushers.into_iter().map(pusher_credential));
        let account_actions = match &mgmt {
            None => AccountActions { revoke_all_others: true, revoke_all_others_needs_password: !stored.sso, manage_url: None },
            Some(m) => {
                AccountActions { revoke_all_others: false, revoke_all_others_needs_password: false, manage_url: Some(m.sessions_url()) }
            }
        };
        if let Some(m) = &mgmt {
            gaps.push(Gap {
                message: "This server manages sign-outs on its account page (next-gen auth): Keyward lists the sessions and opens that page to end them".into(),
                url: Some(m.sessions_url()),
                remedy: None,
            });
        }
        Ok(Found { credentials, gaps, account_actions, own_credential: Some(stored.device_id) })
    }

    async fn rename(&self, s: &Session<'_>, id: &str, name: &str, _proof: &Proof) -> Result<()> {
        if id.starts_with("push-") {
            return Err(Error::unsupported("Matrix has no way to rename a push registration"));
        }
        let r =
            self.call(s, Method::PUT, &format!("_matrix/client/v3/devices/{}", enc(id)), Some(&json!({ "display_name": name }))).await?;
        match (r.status, errcode(&r).as_str()) {
            (st, _) if st.is_success() => Ok(()),
            (StatusCode::NOT_FOUND, "M_NOT_FOUND") => Err(Error::UnknownCredential { account: s.account.name(), id: id.to_string() }),
            (_, "M_TOO_LARGE") => Err(Error::input("the server refuses names that long (Matrix allows up to 100 characters)")),
            (StatusCode::UNAUTHORIZED, _) => Err(s.sign_in_again("the server no longer accepts its access token")),
            _ => Err(server_error(&r)),
        }
    }

    async fn revoke(&self, s: &Session<'_>, ids: &[String], proof: &Proof) -> Result<Vec<Revoked>> {
        let stored: Stored = s.load().await?;
        let (push_ids, device_ids): (Vec<String>, Vec<String>) = ids.iter().cloned().partition(|id| id.starts_with("push-"));
        if !device_ids.is_empty() && stored.oauth.is_none() {
            if let Some(m) = self.account_management(s.http, &s.base_url()?).await? {
                let url = if device_ids.len() == 1 { m.end_session_url(&device_ids[0]) } else { m.sessions_url() };
                return Err(Error::OpenInBrowser {
                    message: "this server ends sessions on its own account page (next-gen auth); open it to sign them out".into(),
                    url,
                });
            }
        }
        let mut results = Vec::new();
        // Push registrations first: signing out the app's own device ends its token.
        if !push_ids.is_empty() {
            let pushers: PushersResponse = self.get_json(s, "_matrix/client/v3/pushers", "a pusher list").await?;
            for id in &push_ids {
                let Some(p) = pushers.pushers.iter().find(|p| pusher_id(&p.app_id, &p.pushkey) == *id) else {
                    results.push(Revoked::failed(id, "it is already gone"));
                    continue;
                };
                let body = json!({ "app_id": p.app_id, "pushkey": p.pushkey, "kind": null });
                match self.call(s, Method::POST, "_matrix/client/v3/pushers/set", Some(&body)).await {
                    Ok(r) if r.is_success() => results.push(Revoked::ok(id)),
                    Ok(r) => results.push(Revoked::failed(id, server_error(&r))),
                    Err(e) => results.push(Revoked::failed(id, e)),
                }
            }
        }
        if let (Some(grant), false) = (&stored.oauth, device_ids.is_empty()) {
            results.extend(self.end_on_account_page(s, grant, &stored, &device_ids).await?);
        } else if !device_ids.is_empty() {
            // All or nothing: one request, one password check.
            self.delete_devices(s, &stored.user_id, &device_ids, proof).await?;
            results.extend(device_ids.iter().map(Revoked::ok));
        }
        Ok(results)
    }

    /// `@alice:example.org` is known as `alice`, as a password sign-in names it.
    fn login_of(&self, user_id: &str) -> String {
        user_id.trim_start_matches('@').split(':').next().filter(|l| !l.is_empty()).unwrap_or(user_id).to_string()
    }

    fn other_user_name(&self, account: &crate::model::Account, typed: &str) -> String {
        other_user_id(typed, &account.user_id)
    }

    async fn list_user(&self, s: &Session<'_>, user: &str) -> Result<Found> {
        let stored: Stored = s.load().await?;
        let target = other_user_id(user, &stored.user_id);
        if target == stored.user_id {
            return Err(Error::input(format!("{target} is {} itself", s.account.name())));
        }
        let devices_path = format!("_synapse/admin/v2/users/{}/devices", enc(&target));
        let devices: DevicesResponse = self.admin_json(s, stored.server_admin, Method::GET, &devices_path, None, &target).await?;
        // Asked once the account is known to be an admin: both only add to the devices.
        let whois_path = format!("_synapse/admin/v1/whois/{}", enc(&target));
        let pushers_path = format!("_synapse/admin/v1/users/{}/pushers", enc(&target));
        let (whois, pushers) = tokio::join!(
            self.admin_json::<Whois>(s, Some(true), Method::GET, &whois_path, None, &target),
            self.admin_json::<PushersResponse>(s, Some(true), Method::GET, &pushers_path, None, &target),
        );
        let mut whois = whois.map(|w| w.devices).unwrap_or_default();
        let mut gaps = Vec::new();
        let mut credentials: Vec<Credential> = devices
            .devices
            .into_iter()
            .map(|d| {
                let connections =
                    whois.remove(&d.device_id).map(|w| w.sessions.into_iter().flat_map(|s| s.connections).collect()).unwrap_or_default();
                user_device_credential(d, connections)
            })
            .collect();
        credentials.sort_by_key(|c| std::cmp::Reverse(c.last_used));
        // Synapse files every connection under the device "": they are the user's, not a device's.
        let unattributed: Vec<WhoisConnection> = whois.into_values().flat_map(|d| d.sessions).flat_map(|s| s.connections).collect();
        if let Some(gap) = connections_gap(&unattributed) {
            gaps.push(gap);
        }
        match pushers {
            Ok(p) => credentials.extend(p.pushers.into_iter().map(|p| {
                let mut c = pusher_credential(p);
                c.actions = Actions {
                    revoke: false,
                    why_not: Some(
                        "The Synapse admin API cannot remove another user's push registration; signing out its device does".into(),
                    ),
                    ..Default::default()
                };
                c
            })),
            Err(e) => gaps.push(Gap { message: format!("Push registrations could not be read: {e}"), url: None, remedy: None }),
        }
        Ok(Found { credentials, gaps, account_actions: AccountActions::default(), own_credential: None })
    }

    async fn revoke_user(&self, s: &Session<'_>, user: &str, ids: &[String], _proof: &Proof) -> Result<Vec<Revoked>> {
        let stored: Stored = s.load().await?;
        let target = other_user_id(user, &stored.user_id);
        if target == stored.user_id {
            return Err(Error::input(format!("{target} is {} itself", s.account.name())));
        }
        let path = format!("_synapse/admin/v2/users/{}/delete_devices", enc(&target));
        // All at once: one request for every device.
        let body = json!({ "devices": ids });
        let _: Value = self.admin_json(s, stored.server_admin, Method::POST, &path, Some(&body), &target).await?;
        Ok(ids.iter().map(Revoked::ok).collect())
    }

    async fn identify(&self, s: &Session<'_>, token: &Secret) -> Result<Identified> {
        let t = token.expose().trim();
        // Synapse's tokens carry the user's localpart: a token of another localpart is not this
        // account's, and is not sent to this server at all.
        if let Some(local) = synapse_localpart(t) {
            let ours = s.account.user_id.trim_start_matches('@').split(':').next().unwrap_or("");
            if local != ours {
                return Ok(Identified::default());
            }
        }
        if t.starts_with("syr_") || t.starts_with("mar_") {
            // A refresh token: only using it would tell more, and using it rotates it.
            return Ok(Identified { valid: None, user_id: Some(s.account.user_id.clone()), credential_id: None });
        }
        let r = self.send_with(s, &Secret::new(t), Method::GET, "_matrix/client/v3/account/whoami", None::<&Value>).await?;
        if r.status == StatusCode::UNAUTHORIZED {
            return Ok(Identified { valid: Some(false), ..Default::default() });
        }
        if !r.is_success() {
            return Err(server_error(&r));
        }
        let me: Whoami = r.json("the owner of the token")?;
        Ok(Identified { valid: Some(true), user_id: Some(me.user_id), credential_id: me.device_id })
    }

    async fn sign_out(&self, s: &Session<'_>) -> Result<()> {
        let stored: Stored = s.load().await?;
        if let Some(grant) = &stored.oauth {
            // The refresh token ends the whole session; the access token when there is none.
            return match &stored.refresh_token {
                Some(t) => oauth::revoke(s.http, grant, t, true).await,
                None => oauth::revoke(s.http, grant, &stored.access_token, false).await,
            };
        }
        let r = self.call(s, Method::POST, "_matrix/client/v3/logout", Some(&json!({}))).await?;
        match r.status {
            st if st.is_success() => Ok(()),
            // Already signed out on the server: the goal is reached.
            StatusCode::UNAUTHORIZED => Ok(()),
            _ => {
                if let Some(m) = self.account_management(s.http, &s.base_url()?).await? {
                    let stored: Stored = s.load().await?;
                    return Err(Error::OpenInBrowser {
                        message: "this server ends sessions on its own account page".into(),
                        url: m.end_session_url(&stored.device_id),
                    });
                }
                Err(server_error(&r))
            }
        }
    }
}

// ---- recognising this kind's clients ----

/// The Matrix clients, bridges and bots, by the device names, user agents and push app ids a
/// homeserver keeps. Tried in order, after Keyward's own rule and
/// before the shared ones (see `crate::clients`); each has cases in `tests/data/clients/`.
pub(crate) const CLIENT_RULES: &[Rule] = &[
    // Element and its relatives (Matrix).
    rule("{x} Desktop", DESKTOP, None, UA, r"\b(?P<x>Element|Riot|SchildiChat)(?:-?Nightly)?/(?P<v>[\d.]+\S*) .*\bElectron/"),
    rule("{x} Desktop", DESKTOP, None, NAMES, r"^(?P<x>Element|Riot|SchildiChat)(?: Nightly)? Desktop(?: Nightly)?: (?P<os>.+)$"),
    // Element X iOS running on a Mac (an iOS app on Apple silicon) says "(Mac; macOS …)".
    rule("Element X", DESKTOP, MACOS, UA, r"^Element ?X(?: dbg)?/(?P<v>[^\s(]+) \(Mac; macOS\b"),
    rule("Element X", MOBILE, None, UA, r"^Element ?X(?: dbg)?/(?P<v>[^\s(]+)(?: \((?P<dev>[^;]+); (?P<os>Android|iOS|iPadOS)\b)?"),
    rule("Element X", MOBILE, None, NAMES, r"^Element X (?:on|for) (?P<dev>.+)$"),
    rule("Element X", MOBILE, None, NAMES, r"^Element X(?: \(?(?P<os>Android|iOS)\)?)?$"),
    rule("Element X", MOBILE, None, APP_ID, r"^io\.element\.(?:elementx|android\.x)\b"),
    rule(
        "SchildiChat Android",
        MOBILE,
        ANDROID,
        UA,
        r"^SchildiChat(?: dbg)?/(?P<v>[^\s(]+) \((?:Linux; (?:U; )?Android [\d.]+; (?P<dev2>[^;]+?) Build/|(?P<dev>[^;]+); Android\b)",
    ),
    rule("SchildiChat Android", MOBILE, ANDROID, APP_ID, r"^de\.spiritcroc\.riotx\b"),
    rule("SchildiChat Web", BROWSER, None, NAMES, r"^[\w.-]*schildi[\w.-]*(?::\d+)?(?:/\S*)?(?::| via) (?P<browser>.+?) on (?P<os>.+)$"),
    rule(
        "Element Android",
        MOBILE,
        ANDROID,
        UA,
        r"^(?:Element|Riot\.im|RiotX)(?: dbg)?/(?P<v>[^\s(]+) \((?:Linux; (?:U; )?Android [\d.]+; (?P<dev2>[^;]+?) Build/|(?P<dev>[^;]+); Android\b)",
    ),
    rule(
        "Element iOS",
        MOBILE,
        IOS,
        UA,
        r"^(?:Element|Riot\.im|Riot)/(?P<v>[^\s(]+) \((?P<dev>(?:iPhone|iPad|iPod)[^;]*); (?:iOS|iPadOS)\b",
    ),
    rule("Element Android", MOBILE, ANDROID, NAMES, r"^(?:Element|Riot|RiotX)(?: for|:)? Android$"),
    rule("Element iOS", MOBILE, IOS, NAMES, r"^(?:Element|Riot)(?: for|:)? iOS$"),
    rule("Element Android", MOBILE, ANDROID, APP_ID, r"^im\.vector\.(?:app\.android|alpha|riotx)\b"),
    rule("Element iOS", MOBILE, IOS, APP_ID, r"^im\.vector\.app\.ios\b"),
    // Element Web names its sessions "<host[/path]>: <browser> on <os>" (older: " via ").
    rule(
        "Element Web",
        BROWSER,
        None,
        NAMES,
        r"^(?:https?://)?(?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d+)?(?:/[^\s:]*)?(?::| via) (?P<browser>[^:]+?) on (?P<os>[^:]+)$",
    ),
    rule(
        "Element Web",
        BROWSER,
        None,
        NAMES,
        r"^(?:localhost|127\.0\.0\.1)(?::\d+)?(?:/[^\s:]*)?(?::| via) (?P<browser>[^:]+?) on (?P<os>[^:]+)$",
    ),
    rule("FluffyChat", MOBILE, None, APP_ID, r"^chat\.fluffy\.fluffychat\b"),
    rule("FluffyChat", BY_OS, None, NAMES, r"^FluffyChat(?: (?P<os>android|ios|linux|macos|windows|web|fuchsia))?(?:Debug)?$"),
    rule("Nheko", DESKTOP, None, NAMES_AND_UA, r"^nheko(?:/(?P<v>[\w.+-]+))?(?: on (?P<os>.+))?$"),
    rule("Cinny Desktop", DESKTOP, None, NAMES, r"^Cinny Desktop\b"),
    rule("Cinny", BROWSER, None, NAMES, r"^Cinny(?: Web)?$"),
    rule("NeoChat", DESKTOP, None, NAMES, r"^NeoChat\b(?: (?:on|-) (?P<os>.+))?"),
    rule("NeoChat", DESKTOP, None, APP_ID, r"^org\.kde\.neochat\b"),
    rule("Fractal", DESKTOP, Some("Linux"), NAMES, r"^Fractal\b"),
    rule("Hydrogen", BROWSER, None, NAMES, r"^Hydrogen(?: Web)?$"),
    // Matrix bridges and bots.
    rule("mautrix-python bot", SCRIPT, None, UA, r"^mautrix-python/(?P<v>[\w.+-]+)"),
    rule("mautrix-{x} bridge", INTEGRATION, None, UA, r"^mautrix-(?P<x>[a-z]+)/v?(?P<v>[\w.+-]+)"),
    rule("Hookshot", INTEGRATION, None, NAMES_AND_UA, r"^matrix-hookshot\b(?:/(?P<v>[\w.+-]+))?"),
    rule("Heisenbridge", INTEGRATION, None, NAMES_AND_UA, r"^heisenbridge\b(?:/(?P<v>[\w.+-]+))?"),
    rule("matrix-appservice-{x} bridge", INTEGRATION, None, NAMES_AND_UA, r"^matrix-appservice-(?P<x>[a-z]+)\b(?:/(?P<v>[\w.+-]+))?"),
    rule("maubot", SCRIPT, None, NAMES_AND_UA, r"^maubot\b(?:/(?P<v>[\w.+-]+))?"),
    rule("Draupnir", SCRIPT, None, NAMES_AND_UA, r"^draupnir\b(?:/(?P<v>[\w.+-]+))?"),
    rule("Mjolnir", SCRIPT, None, NAMES_AND_UA, r"^mjolnir\b(?:/(?P<v>[\w.+-]+))?"),
    rule("matrix-commander", SCRIPT, None, NAMES_AND_UA, r"^matrix-commander\b(?:/(?P<v>[\w.+-]+))?"),
    rule("matrix-bot-sdk bot", SCRIPT, None, UA, r"^matrix-bot-sdk/(?P<v>[\w.+-]+)"),
    rule("matrix-nio bot", SCRIPT, None, UA, r"^matrix-nio(?:/(?P<v>[\w.+-]+))?(?:\s|$)"),
];

mod oauth;

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pusher_ids_are_stable_and_hide_the_key() {
        let a = pusher_id("im.vector.app.android", "secret-push-key");
        assert_eq!(a, pusher_id("im.vector.app.android", "secret-push-key"));
        assert_ne!(a, pusher_id("im.vector.app.ios", "secret-push-key"));
        assert!(!a.contains("secret"));
    }

    #[test]
    fn next_gen_device_page_uses_the_newest_supported_action() {
        let m = AccountManagement { uri: "https://auth.example.org/account/".into(), actions: vec!["org.matrix.session_end".into()] };
        assert_eq!(m.end_session_url("ABC"), "https://auth.example.org/account/?action=org.matrix.session_end&device_id=ABC");
        let m = AccountManagement {
            uri: "https://auth.example.org/account/".into(),
            actions: vec!["org.matrix.session_end".into(), "org.matrix.device_delete".into()],
        };
        assert!(m.end_session_url("ABC").contains("action=org.matrix.device_delete"));
    }

    #[test]
    fn a_bare_localpart_names_a_user_of_the_account_s_server() {
        assert_eq!(other_user_id("bob", "@admin:example.org"), "@bob:example.org");
        assert_eq!(other_user_id(" @Bob ", "@admin:example.org"), "@bob:example.org");
        assert_eq!(other_user_id("@bob:other.example", "@admin:example.org"), "@bob:other.example");
    }

    #[test]
    fn another_user_s_devices_are_never_current_and_go_without_a_password() {
        let d = Device {
            device_id: "DEV1".into(),
            display_name: Some("Element Desktop: macOS".into()),
            last_seen_ip: Some("203.0.113.7".into()),
            last_seen_ts: Some(1_700_000_000_000),
            last_seen_user_agent: Some("Element/1.11.85 (Macintosh) Electron/33".into()),
        };
        let c = user_device_credential(d, vec![WhoisConnection { ip: Some("198.51.100.4".into()), last_seen: Some(1), user_agent: None }]);
        assert!(!c.current && c.actions.revoke && !c.actions.revoke_needs_password && !c.actions.rename);
        assert_eq!(c.hints.user_agent.as_deref(), Some("Element/1.11.85 (Macintosh) Electron/33"));
        assert_eq!(c.usage.len(), 1);
        let none: Vec<WhoisConnection> = Vec::new();
        assert!(connections_gap(&none).is_none());
        let two = [
            WhoisConnection { ip: Some("192.0.2.1".into()), last_seen: Some(1), user_agent: None },
            WhoisConnection { ip: Some("192.0.2.2".into()), last_seen: Some(2), user_agent: None },
        ];
        assert_eq!(
            connections_gap(&two).unwrap().message,
            "The server also remembers 2 connections of this user (from 192.0.2.2, 192.0.2.1) without saying which device made each"
        );
    }

    #[test]
    fn device_fields_map_to_the_model() {
        let d = Device {
            device_id: "DEV1".into(),
            display_name: Some("Element Desktop: macOS".into()),
            last_seen_ip: Some("203.0.113.7".into()),
            last_seen_ts: Some(1_700_000_000_000),
            last_seen_user_agent: None,
        };
        let c = device_credential(d, "DEV1", None, None, None, true);
        assert_eq!(c.name.as_deref(), Some("Element Desktop: macOS"));
        assert_eq!(c.last_ip.as_deref(), Some("203.0.113.7"));
        assert_eq!(c.last_used.unwrap().timestamp_millis(), 1_700_000_000_000);
        assert!(c.current && c.actions.revoke_needs_password && c.tracks_use);
    }
}
