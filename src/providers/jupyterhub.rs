//! JupyterHub: the user's API tokens and OAuth tokens, listed and revoked over the hub's REST API.
//!
//! Signs in with a password by asking the hub for an API token of its own (note "Keyward on
//! <host>"), or with a token the user pasted. The app's own token is the caller's `token_id`.
//! Deleting an OAuth token deletes every token of that OAuth client for the user, so those rows
//! carry a warning. JupyterHub has no way to rename a token.
//!
//! An admin's account also lists and revokes another user's tokens (`list_user`, `revoke_user`).
//!
//! Facts: `shared/reference/more-servers.md`. Not here: spawning or stopping servers, making
//! tokens for other programs.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::clients::{rule, Rule, BROWSER, INTEGRATION, NAMES_AND_UA, OAUTH};
use crate::error::{Error, Remedy, Result};
use crate::model::{Actions, ClientHints, Credential, CredentialKind, Fact, Kind};
use crate::net::http::{base_string, join, one_line, Http, Response};
use crate::provider::{
    Capabilities, Found, Identified, Proof, Provider, Revoked, Session, SignInMethod, SignInRequest, SignInSecret, SignedIn, TokenShape,
};
use crate::secret::{self, Secret, SecretBody};

pub struct JupyterHub;

/// This kind of server, as the registry and stored accounts name it.
pub const KIND: Kind = Kind::new("jupyterhub");

/// What the app keeps in the keyring for a JupyterHub account.
#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(with = "secret::stored")]
    token: Secret,
    /// The hub's name for the user (path segment of its API).
    user: String,
    /// The id of the token above, when the hub said it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token_id: Option<String>,
}

// ---- wire types (the hub's own words) ----

#[derive(Deserialize)]
struct ApiRoot {
    version: String,
}

/// `GET /hub/api/user`: the caller.
#[derive(Deserialize)]
struct UserModel {
    name: String,
    token_id: Option<String>,
    /// The hub's admin flag (present whenever the token may read the user's own model).
    #[serde(default)]
    admin: bool,
}

/// `POST /users/{name}/tokens` with the user's password. Borrowed fields: built straight into
/// a wiped buffer (see `secret::SecretBody`).
#[derive(Serialize)]
struct NewTokenRequest<'a> {
    auth: PasswordAuth<'a>,
    note: &'a str,
}

#[derive(Serialize)]
struct PasswordAuth<'a> {
    username: &'a str,
    password: &'a str,
}

#[derive(Deserialize)]
struct NewToken {
    token: String,
    id: Option<String>,
}

#[derive(Deserialize)]
struct TokenList {
    #[serde(default)]
    api_tokens: Vec<TokenModel>,
    /// Older hubs (before 2.0) listed OAuth tokens apart.
    #[serde(default)]
    oauth_tokens: Vec<TokenModel>,
}

#[derive(Deserialize)]
struct TokenModel {
    id: String,
    kind: Option<String>,
    note: Option<String>,
    created: Option<DateTime<Utc>>,
    last_activity: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    roles: Vec<String>,
    oauth_client: Option<String>,
    session_id: Option<String>,
}

#[derive(Deserialize)]
struct HubError {
    message: Option<String>,
}

/// The name JupyterHub gives its own OAuth client: tokens made through the API carry it.
const HUB_CLIENT: &str = "JupyterHub";

fn hub_message(r: &Response) -> Option<String> {
    serde_json::from_slice::<HubError>(&r.body).ok().and_then(|e| e.message).map(|m| one_line(&m))
}

fn server_error(r: &Response) -> Error {
    match hub_message(r) {
        Some(m) => Error::Server { host: r.host(), message: format!("HTTP {}: {m}", r.status.as_u16()) },
        None => r.unexpected(),
    }
}

/// The scope a 403 names ("requires any of [read:tokens]"), if it names one.
fn missing_scope(r: &Response) -> Option<String> {
    let m = hub_message(r)?;
    let start = m.find("requires any of [")? + "requires any of [".len();
    let end = m[start..].find(']')? + start;
    Some(m[start..end].split(',').map(str::trim).collect::<Vec<_>>().join(" or "))
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
}

/// The hub's base URL (where `/hub/` lives) for what the user typed: the URL itself, or its
/// parent when it already ends in `/hub/`.
fn candidates(url: &Url) -> Vec<Url> {
    let mut out = Vec::new();
    let path = url.path();
    if let Some(parent) = path.strip_suffix("hub/") {
        let mut u = url.clone();
        u.set_path(parent);
        out.push(u);
    }
    out.push(url.clone());
    out
}

fn token_credential(t: TokenModel, own: Option<&str>) -> Credential {
    let oauth = t.oauth_client.clone().filter(|c| !c.is_empty() && c != HUB_CLIENT);
    let kind = if oauth.is_some() { CredentialKind::OauthGrant } else { CredentialKind::ApiToken };
    let mut c = Credential::new(t.id.clone(), kind);
    c.name = t.note.clone().filter(|n| !n.is_empty());
    c.hints = ClientHints { note: c.name.clone(), oauth_client: oauth.clone(), ..Default::default() };
    c.created = t.created;
    c.last_used = t.last_activity;
    c.tracks_use = true;
    c.expires = t.expires_at;
    c.never_expires = t.expires_at.is_none();
    c.restrictions = t.scopes.clone();
    c.current = own == Some(t.id.as_str());
    c.details.push(Fact::new("Token ID", t.id.clone()));
    if let Some(k) = t.kind.filter(|k| !k.is_empty()) {
        c.details.push(Fact::new("Kind", k));
    }
    if let Some(client) = t.oauth_client.filter(|c| !c.is_empty()) {
        c.details.push(Fact::new("OAuth client", client));
    }
    if !t.roles.is_empty() {
        c.details.push(Fact::new("Roles", t.roles.join(", ")));
    }
    if t.session_id.is_some() {
        // The id itself binds a browser cookie: say that there is one, not what it is.
        c.details.push(Fact::new("Browser session", "tied to a browser login"));
    }
    c.actions = Actions {
        rename: false,
        revoke: true,
        revoke_warning: oauth.map(|client| format!("Revoking this ends every token of {client} for this user")),
        why_not: Some("JupyterHub has no way to rename a token".into()),
        ..Default::default()
    };
    c
}

impl JupyterHub {
    async fn discover(&self, http: &Http, url: &Url) -> Result<Option<Url>> {
        for base in candidates(url) {
            let r = match http.send(http.get(join(&base, "hub/api/"))).await {
                Ok(r) => r,
                Err(e) if base == *url => return Err(e),
                Err(_) => continue,
            };
            if r.is_success() && serde_json::from_slice::<ApiRoot>(&r.body).map(|v| !v.version.is_empty()).unwrap_or(false) {
                return Ok(Some(base));
            }
        }
        Ok(None)
    }

    async fn call(&self, s: &Session<'_>, method: Method, path: &str) -> Result<Response> {
        let stored: Stored = s.load().await?;
        send(s.http, &s.base_url()?, &stored.token, method, path, None).await
    }

    /// The caller, or `sign_in_again` when the hub no longer knows the token.
    async fn whoami(&self, s: &Session<'_>, stored: &Stored) -> Result<UserModel> {
        let r = send(s.http, &s.base_url()?, &stored.token, Method::GET, "hub/api/user", None).await?;
        match r.status {
            st if st.is_success() => r.json("the signed-in user"),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(s.sign_in_again("the hub no longer accepts its token")),
            _ => Err(server_error(&r)),
        }
    }

    /// A 403 in answer to a token that still works: the token lacks a scope.
    async fn forbidden(&self, s: &Session<'_>, stored: &Stored, r: &Response, doing: &str, scope: &str) -> Error {
        if let Err(e) = self.whoami(s, stored).await {
            return e;
        }
        let scope = missing_scope(r).unwrap_or_else(|| scope.to_string());
        Error::Forbidden {
            message: format!("JupyterHub does not let Keyward's token {doing}: it lacks the scope {scope}"),
            remedy: Some(Remedy::SignInAgain),
        }
    }
}

impl JupyterHub {
    /// The caller, after checking that `user` is someone else.
    async fn other_user_check(&self, s: &Session<'_>, stored: &Stored, user: &str) -> Result<UserModel> {
        let me = self.whoami(s, stored).await?;
        if me.name == user {
            return Err(Error::input(format!("{user} is {} itself", s.account.name())));
        }
        Ok(me)
    }

    /// What a refusal about another user's tokens means. JupyterHub answers a caller that may not
    /// see a user with 404, as if there were no such user (not 403): the caller's own admin flag
    /// tells the two apart. A 403 is a token without the scope.
    async fn other_user_error(&self, s: &Session<'_>, stored: &Stored, me: &UserModel, r: &Response, user: &str, doing: &str) -> Error {
        match r.status {
            StatusCode::NOT_FOUND if me.admin => Error::UnknownUser { account: s.account.name(), user: user.to_string() },
            StatusCode::NOT_FOUND | StatusCode::FORBIDDEN if !me.admin => Error::NotAdmin { account: s.account.name() },
            StatusCode::FORBIDDEN => self.forbidden(s, stored, r, doing, "admin:users").await,
            StatusCode::UNAUTHORIZED => s.sign_in_again("the hub no longer accepts its token"),
            _ => server_error(r),
        }
    }
}

async fn send(http: &Http, base: &Url, token: &Secret, method: Method, path: &str, body: Option<&serde_json::Value>) -> Result<Response> {
    let mut req = http.request(method, join(base, path)).header("Authorization", format!("token {}", token.expose()));
    if let Some(b) = body {
        req = req.json(b);
    }
    http.send(req).await
}

#[async_trait]
impl Provider for JupyterHub {
    fn client_rules(&self) -> &'static [Rule] {
        CLIENT_RULES
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            kind: KIND,
            display_name: "JupyterHub",
            sign_in: &[SignInMethod::Password, SignInMethod::Token],
            token_label: "API token",
            token_page: Some("hub/token"),
            revoke: true,
            sign_out: true,
            other_users: true,
            token_shapes: &[TokenShape {
                what: "JupyterHub API token",
                matches: |t| (32..=64).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_hexdigit()),
            }],
            ..Default::default()
        }
    }

    async fn probe(&self, http: &Http, url: &Url) -> Result<Option<Url>> {
        self.discover(http, url).await
    }

    async fn sign_in(&self, http: &Http, req: SignInRequest) -> Result<SignedIn> {
        let base = self.require(http, &req.url).await?;
        let account_name = format!("{}@{}", req.login, crate::model::host_of(base.as_str()));
        let version = http
            .send(http.get(join(&base, "hub/api/")))
            .await
            .ok()
            .and_then(|r| serde_json::from_slice::<ApiRoot>(&r.body).ok())
            .map(|v| v.version);
        let stored = match req.secret {
            SignInSecret::Password(password) => {
                let body =
                    NewTokenRequest { auth: PasswordAuth { username: &req.login, password: password.expose() }, note: &req.client_name };
                let path = format!("hub/api/users/{}/tokens", enc(&req.login));
                let r = http.send(http.post(join(&base, &path)).secret_json(&body)).await?;
                // 403 (with no message): the password is wrong, or the hub has no such user.
                if matches!(r.status, StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED | StatusCode::NOT_FOUND) {
                    return Err(Error::WrongPassword { account: account_name });
                }
                if !r.is_success() {
                    return Err(server_error(&r));
                }
                let made: NewToken = r.json("a new token")?;
                let token = Secret::new(made.token);
                // The hub's own name for the user, and the token id, from the token itself.
                let me = send(http, &base, &token, Method::GET, "hub/api/user", None).await;
                let (user, token_id) = match me {
                    Ok(r) if r.is_success() => match r.json::<UserModel>("the signed-in user") {
                        Ok(u) => (u.name, u.token_id.or(made.id)),
                        Err(_) => (req.login.clone(), made.id),
                    },
                    _ => (req.login.clone(), made.id),
                };
                Stored { token, user, token_id }
            }
            SignInSecret::Token(token) => {
                let r = send(http, &base, &token, Method::GET, "hub/api/user", None).await?;
                if r.status == StatusCode::FORBIDDEN || r.status == StatusCode::UNAUTHORIZED {
                    return Err(Error::input(format!("the hub does not accept this token for {account_name}")));
                }
                if !r.is_success() {
                    return Err(server_error(&r));
                }
                let me: UserModel = r.json("the signed-in user")?;
                if !me.name.eq_ignore_ascii_case(req.login.trim()) {
                    return Err(Error::input(format!("this token belongs to {}, not {}", me.name, req.login)));
                }
                Stored { token, user: me.name, token_id: me.token_id }
            }
        };
        let mut facts = vec![Fact::new("Hub", base_string(&base))];
        if let Some(v) = version {
            facts.push(Fact::new("JupyterHub version", v));
        }
        Ok(SignedIn {
            base_url: base,
            user_id: stored.user.clone(),
            own_credential: stored.token_id.clone(),
            server_facts: facts,
            stored: crate::provider::to_stored(&stored)?,
        })
    }

    async fn list(&self, s: &Session<'_>) -> Result<Found> {
        let stored: Stored = s.load().await?;
        let me = self.whoami(s, &stored).await?;
        let own = me.token_id.clone().or_else(|| stored.token_id.clone());
        let r = self.call(s, Method::GET, &format!("hub/api/users/{}/tokens", enc(&stored.user))).await?;
        if r.status == StatusCode::FORBIDDEN {
            return Err(self.forbidden(s, &stored, &r, "read its tokens", "read:tokens").await);
        }
        if !r.is_success() {
            return Err(server_error(&r));
        }
        let list: TokenList = r.json("a token list")?;
        let manage = join(&s.base_url()?, "hub/token").to_string();
        let mut credentials: Vec<Credential> = list
            .api_tokens
            .into_iter()
            .chain(list.oauth_tokens)
            .map(|t| {
                let mut c = token_credential(t, own.as_deref());
                c.manage_url = Some(manage.clone());
                c
            })
            .collect();
        // The app's own token first, then the most recently active.
        credentials.sort_by(|a, b| b.current.cmp(&a.current).then(b.last_used.cmp(&a.last_used)).then(b.created.cmp(&a.created)));
        Ok(Found { credentials, gaps: Vec::new(), account_actions: Default::default(), own_credential: own })
    }

    async fn revoke(&self, s: &Session<'_>, ids: &[String], _proof: &Proof) -> Result<Vec<Revoked>> {
        let stored: Stored = s.load().await?;
        let own = stored.token_id.clone();
        // The app's own token last: once it is gone nothing else can be revoked with it.
        let mut ordered: Vec<&String> = ids.iter().filter(|id| Some(id.as_str()) != own.as_deref()).collect();
        ordered.extend(ids.iter().filter(|id| Some(id.as_str()) == own.as_deref()));
        let mut results = Vec::new();
        for id in ordered {
            let path = format!("hub/api/users/{}/tokens/{}", enc(&stored.user), enc(id));
            let r = match self.call(s, Method::DELETE, &path).await {
                Ok(r) => r,
                Err(e) if results.is_empty() => return Err(e),
                Err(e) => {
                    results.push(Revoked::failed(id, e));
                    continue;
                }
            };
            match r.status {
                st if st.is_success() => results.push(Revoked::ok(id)),
                // Gone already (deleting an OAuth token ends its client's other tokens too).
                StatusCode::NOT_FOUND => results.push(Revoked::ok(id)),
                StatusCode::FORBIDDEN if results.is_empty() => {
                    return Err(self.forbidden(s, &stored, &r, "revoke tokens", "tokens").await);
                }
                _ => results.push(Revoked::failed(id, server_error(&r))),
            }
        }
        Ok(results)
    }

    async fn list_user(&self, s: &Session<'_>, user: &str) -> Result<Found> {
        let stored: Stored = s.load().await?;
        let me = self.other_user_check(s, &stored, user).await?;
        let r = self.call(s, Method::GET, &format!("hub/api/users/{}/tokens", enc(user))).await?;
        if !r.is_success() {
            return Err(self.other_user_error(s, &stored, &me, &r, user, "read another user's tokens").await);
        }
        let list: TokenList = r.json("a token list")?;
        let mut credentials: Vec<Credential> =
            list.api_tokens.into_iter().chain(list.oauth_tokens).map(|t| token_credential(t, None)).collect();
        credentials.sort_by(|a, b| b.last_used.cmp(&a.last_used).then(b.created.cmp(&a.created)));
        Ok(Found { credentials, ..Default::default() })
    }

    async fn revoke_user(&self, s: &Session<'_>, user: &str, ids: &[String], _proof: &Proof) -> Result<Vec<Revoked>> {
        let stored: Stored = s.load().await?;
        let me = self.other_user_check(s, &stored, user).await?;
        let mut results = Vec::new();
        for id in ids {
            let path = format!("hub/api/users/{}/tokens/{}", enc(user), enc(id));
            let r = match self.call(s, Method::DELETE, &path).await {
                Ok(r) => r,
                Err(e) if results.is_empty() => return Err(e),
                Err(e) => {
                    results.push(Revoked::failed(id, e));
                    continue;
                }
            };
            match r.status {
                st if st.is_success() => results.push(Revoked::ok(id)),
                // Gone already (deleting an OAuth token ends its client's other tokens too).
                StatusCode::NOT_FOUND if me.admin => results.push(Revoked::ok(id)),
                _ if results.is_empty() => {
                    return Err(self.other_user_error(s, &stored, &me, &r, user, "revoke another user's tokens").await)
                }
                _ => results.push(Revoked::failed(id, server_error(&r))),
            }
        }
        Ok(results)
    }

    async fn identify(&self, s: &Session<'_>, token: &Secret) -> Result<Identified> {
        let r = send(s.http, &s.base_url()?, &Secret::new(token.expose().trim()), Method::GET, "hub/api/user", None).await?;
        if matches!(r.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            return Ok(Identified { valid: Some(false), ..Default::default() });
        }
        if !r.is_success() {
            return Err(server_error(&r));
        }
        let me: UserModel = r.json("the owner of the token")?;
        let user_id = if me.name == s.account.login { s.account.user_id.clone() } else { me.name.clone() };
        Ok(Identified { valid: Some(true), user_id: Some(user_id), credential_id: me.token_id })
    }

    async fn sign_out(&self, s: &Session<'_>) -> Result<()> {
        let stored: Stored = s.load().await?;
        let me = match self.whoami(s, &stored).await {
            Ok(me) => me,
            // The hub no longer knows the token: it is signed out already.
            Err(Error::SignInAgain { .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        let Some(id) = me.token_id.or(stored.token_id.clone()) else {
            return Err(Error::Unsupported {
                message: "the hub did not say which token Keyward uses".into(),
                remedy: Some(Remedy::OpenPage { url: join(&s.base_url()?, "hub/token").to_string() }),
            });
        };
        let path = format!("hub/api/users/{}/tokens/{}", enc(&stored.user), enc(&id));
        let r = self.call(s, Method::DELETE, &path).await?;
        match r.status {
            st if st.is_success() => Ok(()),
            StatusCode::NOT_FOUND => Ok(()),
            StatusCode::FORBIDDEN => Err(self.forbidden(s, &stored, &r, "revoke its own token", "tokens").await),
            _ => Err(server_error(&r)),
        }
    }
}

// ---- recognising this kind's clients ----

/// JupyterHub's own clients: notebook servers, hub services and the browser, by OAuth client id,
/// token note or user agent. Tried in order, after Keyward's own rule and
/// before the shared ones (see `crate::clients`); each has cases in `tests/data/clients/`.
pub(crate) const CLIENT_RULES: &[Rule] = &[
    rule("JupyterHub notebook server", INTEGRATION, None, OAUTH, r"^jupyterhub-user-(?P<x>.+)$"),
    rule("JupyterHub service {x}", INTEGRATION, None, OAUTH, r"^service-(?P<x>.+)$"),
    rule("JupyterHub in the browser", BROWSER, None, OAUTH, r"^jupyterhub$"),
    rule(
        "JupyterHub notebook server",
        INTEGRATION,
        None,
        NAMES_AND_UA,
        r"^(?:Server at /user/\S+|jupyterhub-singleuser\b(?:/(?P<v>[\w.+-]+))?)",
    ),
];

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_url_ending_in_hub_also_tries_its_parent() {
        let u = Url::parse("https://h/jupyter/hub/").unwrap();
        let c = candidates(&u);
        assert_eq!(c[0].as_str(), "https://h/jupyter/");
        assert_eq!(c[1].as_str(), "https://h/jupyter/hub/");
    }

    #[test]
    fn oauth_tokens_warn_and_api_tokens_do_not() {
        let t: TokenModel = serde_json::from_value(json!({
            "id": "o7", "kind": "api_token", "note": null, "created": "2024-03-20T10:00:00.000000Z",
            "last_activity": null, "expires_at": null, "scopes": ["identify"], "roles": [],
            "oauth_client": "notebook-viewer", "session_id": "abc"
        }))
        .unwrap();
        let c = token_credential(t, Some("a1"));
        assert_eq!(c.kind, CredentialKind::OauthGrant);
        assert_eq!(c.actions.revoke_warning.as_deref(), Some("Revoking this ends every token of notebook-viewer for this user"));
        assert!(c.never_expires && c.tracks_use && c.last_used.is_none() && !c.current);
        assert!(!c.details.iter().any(|f| f.value.contains("abc")));

        let t: TokenModel = serde_json::from_value(json!({
            "id": "a1", "kind": "api_token", "note": "Keyward on pc", "created": "2024-03-20T10:00:00Z",
            "last_activity": "2024-03-21T10:00:00Z", "expires_at": "2024-04-20T10:00:00Z", "scopes": ["read:users"],
            "oauth_client": "JupyterHub"
        }))
        .unwrap();
        let c = token_credential(t, Some("a1"));
        assert_eq!(c.kind, CredentialKind::ApiToken);
        assert!(c.current && c.actions.revoke_warning.is_none() && !c.never_expires);
        assert_eq!(c.name.as_deref(), Some("Keyward on pc"));
        assert_eq!(c.restrictions, vec!["read:users".to_string()]);
    }

    #[test]
    fn missing_scope_is_read_from_the_hub_message() {
        let r = Response {
            status: StatusCode::FORBIDDEN,
            headers: Default::default(),
            url: Url::parse("http://h/hub/api/users/a/tokens").unwrap(),
            body: br#"{"status":403,"message":"Action is not authorized with current scopes; requires any of [read:tokens]"}"#.to_vec(),
        };
        assert_eq!(missing_scope(&r).as_deref(), Some("read:tokens"));
    }
}
