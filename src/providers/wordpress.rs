//! WordPress sites (5.6 and later): application passwords, over the REST API.
//!
//! Signs in with a username and an application password the user made on their profile page or
//! through the site's authorisation page ([`authorize_url`]); that password is the app's own
//! credential, found with `introspect`. Lists the account's application passwords (name, app id,
//! created, last used, last IP), renames them, and deletes them one request each. The REST API
//! is found at `/wp-json/`, or through the `Link: rel="https://api.w.org/"` header of the home
//! page, or at `?rest_route=/` on sites without URL rewriting; the root found is kept with the
//! credential so every later call goes to the same place.
//!
//! Times: the REST API gives `created` and `last_used` as UTC without an offset (it formats them
//! with `gmdate`; its schema says "GMT"), whatever the site's time zone. They are read as UTC.
//!
//! Browser approval: [`Provider::browser_page`] is the site's own authorisation page, as its REST
//! index names it (`authentication.application-passwords.endpoints.authorization`), with Keyward's
//! name, its app id and a loopback `success_url`; after the user approves, WordPress sends the
//! browser there with `site_url`, `user_login` and the new `password`, which is checked with the
//! REST API like a pasted one. WordPress takes a plain-http `success_url` (the loopback) only when
//! the site's environment type is `local` (`WP_ENVIRONMENT_TYPE`; WordPress 6.2+ and the 6.1.x
//! security releases that carry the 6.3.2 redirect check; older releases refuse http always);
//! elsewhere its page refuses the request ("The URL must be served over a secure connection") and
//! the wait ends in a timeout: such sites need a pasted application password.
//!
//! An administrator's account also lists and deletes another user's application passwords
//! (`list_user`, `revoke_user`), finding the user by login, slug or e-mail.
//!
//! Facts: `shared/reference/more-servers.md`. Not here: browser sign-ins (WordPress shows them to
//! no app; the listing says so and links to the profile page), making application passwords.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use url::Url;

use crate::clients::{rule, Rule, ANDROID, APP_ID, IOS, MOBILE, NAMES, UA};
use crate::error::{Error, Remedy, Result};
use crate::model::{host_of, Actions, ClientHints, Credential, CredentialKind, Fact, Gap, Kind, LastUsedMeaning};
use crate::net::http::{base_string, join, one_line, stays_on, Http, Response};
use crate::provider::{
    Approved, BrowserAsk, BrowserPage, Capabilities, Found, Identified, Proof, Provider, Revoked, Session, SignInMethod, SignInRequest,
    SignInSecret, SignedIn, TokenShape,
};
use crate::secret::{self, Secret};

pub struct WordPress;

/// This kind of server, as the registry and stored accounts name it.
pub const KIND: Kind = Kind::new("wordpress");

/// The relation of the REST API root in a WordPress site's `Link` header.
const API_REL: &str = "https://api.w.org/";
/// The profile page section that lists application passwords, relative to the site URL.
const PROFILE_PAGE: &str = "wp-admin/profile.php#application-passwords-section";
/// The page where a signed-in user approves an app's request for an application password.
const AUTHORIZE_PAGE: &str = "wp-admin/authorize-application.php";
/// The app id Keyward gives the application passwords it asks for (the same on every site, so
/// that a site's list shows which ones are Keyward's).
pub const KEYWARD_APP_ID: &str = "6d1f3c2e-9b0a-4e57-8a43-2f6c1b7d9e05";

/// What the app keeps in the keyring for a WordPress account.
#[derive(Serialize, Deserialize)]
struct Stored {
    /// The name the password goes with (WordPress also accepts the account's email address).
    login: String,
    #[serde(with = "secret::stored")]
    password: Secret,
    /// The UUID of the app's own application password.
    uuid: String,
    /// The REST API root: `https://site/wp-json/` or `https://site/?rest_route=/`.
    api: String,
}

// ---- wire types (the server's own words) ----

/// `GET /wp-json/`: the REST API index.
#[derive(Deserialize, Default)]
struct Index {
    name: Option<String>,
    /// The site URL (where `wp-admin/` is).
    url: Option<String>,
    /// The home URL (where the front page is).
    home: Option<String>,
    gmt_offset: Option<Value>,
    timezone_string: Option<String>,
    #[serde(default)]
    namespaces: Vec<String>,
    /// An object, or `[]` when no authentication method is offered (PHP's empty array).
    #[serde(default)]
    authentication: Value,
    /// The index itself is closed to visitors (a plugin lets only signed-in users use the REST
    /// API): what it would say is unknown.
    #[serde(skip)]
    closed: bool,
}

impl Index {
    fn is_wordpress(&self) -> bool {
        self.namespaces.iter().any(|n| n == "wp/v2")
    }

    /// Does the site offer application passwords to apps? `None` when the index is closed.
    fn offers_application_passwords(&self) -> Option<bool> {
        (!self.closed).then(|| self.authentication.get("application-passwords").is_some())
    }

    /// The site's page where users approve an app's request for an application password, as the
    /// index names it; `None` when it names none (or the index is closed).
    fn authorization_page(&self) -> Option<&str> {
        self.authentication.get("application-passwords")?.get("endpoints")?.get("authorization")?.as_str().filter(|u| !u.is_empty())
    }

    /// The site's time zone as it shows it ("Asia/Kolkata", "UTC+5.5").
    fn time_zone(&self) -> Option<String> {
        if let Some(tz) = self.timezone_string.as_deref().filter(|t| !t.is_empty()) {
            return Some(tz.to_string());
        }
        let offset = match self.gmt_offset.as_ref()? {
            Value::Number(n) => n.as_f64()?,
            Value::String(s) => s.trim().parse().ok()?,
            _ => return None,
        };
        Some(if offset == 0.0 { "UTC".into() } else { format!("UTC{offset:+}") })
    }
}

/// One application password (`/wp/v2/users/me/application-passwords`).
#[derive(Deserialize)]
struct AppPassword {
    uuid: String,
    #[serde(default)]
    app_id: Option<String>,
    name: String,
    created: Option<String>,
    last_used: Option<String>,
    last_ip: Option<String>,
}

/// `GET /wp/v2/users/me?context=edit` (only what is used).
#[derive(Deserialize)]
struct User {
    id: u64,
    username: Option<String>,
    slug: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

impl User {
    /// Is this the user a person named (their login, slug or e-mail address, in any case)?
    fn is_named(&self, name: &str) -> bool {
        [&self.username, &self.slug, &self.email].into_iter().flatten().any(|n| n.eq_ignore_ascii_case(name.trim()))
    }
}

/// A WordPress REST error: `{"code": "...", "message": "...", "data": {"status": N}}`.
#[derive(Deserialize, Default)]
struct WpError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

fn wp_error(r: &Response) -> WpError {
    serde_json::from_slice(&r.body).unwrap_or_default()
}

/// The server's error in one line ("rest_invalid_param: Invalid parameter(s): name"), without
/// the HTML some WordPress messages carry.
fn server_error(r: &Response) -> Error {
    let e = wp_error(r);
    if e.code.is_empty() {
        return r.unexpected();
    }
    let message = strip_tags(&e.message);
    Error::Server { host: r.host(), message: format!("HTTP {}: {}: {}", r.status.as_u16(), e.code, one_line(&message)) }
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// The error for an answer that says application passwords cannot be used here, if it says so.
fn unavailable(r: &Response, site: &str) -> Option<Error> {
    let e = wp_error(r);
    match e.code.as_str() {
        "application_passwords_disabled" => Some(Error::Unsupported {
            message: format!(
                "{site} has application passwords turned off (WordPress allows them only over https, or on a site marked as a local development site, and plugins can turn them off); nothing was changed"
            ),
            remedy: Some(Remedy::AskAdmin),
        }),
        "application_passwords_disabled_for_user" => Some(Error::Forbidden {
            message: format!("{site} does not allow application passwords for this account; nothing was changed"),
            remedy: Some(Remedy::AskAdmin),
        }),
        _ if r.status == StatusCode::NOT_FOUND && e.code == "rest_no_route" => {
            Some(Error::unsupported(format!("{site} has no application passwords (they came with WordPress 5.6; is the site older?)")))
        }
        _ => None,
    }
}

/// A time as the REST API gives it ("2026-11-22T14:09:21", UTC without an offset).
fn utc_time(s: Option<&str>) -> Option<DateTime<Utc>> {
    let s = s?.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    s.parse::<NaiveDateTime>().ok().map(|t| t.and_utc())
}

/// The URL of a REST route (`wp/v2/users/me`, with an optional `?query`) under an API root, in
/// the root's own style: a path under `/wp-json/`, or the `rest_route` query parameter.
fn route_url(api: &Url, route: &str) -> Url {
    let route = route.trim_start_matches('/');
    if !api.query_pairs().any(|(k, _)| k == "rest_route") {
        return join(api, route);
    }
    let (path, query) = route.split_once('?').unwrap_or((route, ""));
    let others: Vec<(String, String)> =
        api.query_pairs().filter(|(k, _)| k != "rest_route").map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let mut u = api.clone();
    {
        let mut q = u.query_pairs_mut();
        q.clear();
        for (k, v) in &others {
            q.append_pair(k, v);
        }
        q.append_pair("rest_route", &format!("/{path}"));
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            q.append_pair(&k, &v);
        }
    }
    u
}

/// The API root a `Link` header names with `rel="https://api.w.org/"`, if any.
fn api_link(r: &Response) -> Option<Url> {
    for value in r.headers.get_all("link") {
        let Ok(value) = value.to_str() else { continue };
        for part in value.split(',') {
            let (Some(start), Some(end)) = (part.find('<'), part.find('>')) else { continue };
            if start >= end {
                continue;
            }
            let params = &part[end + 1..];
            let is_api = params.split(';').any(|p| {
                let p = p.trim();
                p.strip_prefix("rel=").map(|v| v.trim_matches('"') == API_REL).unwrap_or(false)
            });
            if is_api {
                if let Ok(u) = r.url.join(part[start + 1..end].trim()) {
                    return Some(u);
                }
            }
        }
    }
    None
}

/// The application password's id as it may go into a URL path (UUIDs only).
fn checked_uuid<'a>(s: &Session<'_>, id: &'a str) -> Result<&'a str> {
    if !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        Ok(id)
    } else {
        Err(Error::UnknownCredential { account: s.account.name(), id: id.to_string() })
    }
}

/// The site's authorisation page, where a signed-in user approves an app's request for an
/// application password. Faces open it in the browser: `app_name` is what the password will be
/// called, `app_id` a UUID that names the app across sites (optional; WordPress refuses anything
/// but a UUID), and `success_url` where WordPress sends the browser afterwards with `site_url`,
/// `user_login` and `password` in the query. WordPress refuses a plain-http `success_url` unless
/// the site is a local one; https and an app's own scheme with a host (`keyward://wordpress/`)
/// pass. Without it WordPress shows the password for the user to copy and paste. A visitor who
/// is not signed in is sent to the login page first and comes back.
pub fn authorize_url(base: &Url, app_name: &str, app_id: Option<&str>, success_url: Option<&str>) -> Url {
    authorize_url_at(join(base, AUTHORIZE_PAGE), app_name, app_id, success_url, None)
}

/// [`authorize_url`] on the page the site names, with an optional `reject_url` (where WordPress
/// sends the browser when the user says no).
fn authorize_url_at(page: Url, app_name: &str, app_id: Option<&str>, success_url: Option<&str>, reject_url: Option<&str>) -> Url {
    let mut u = page;
    {
        let mut q = u.query_pairs_mut();
        q.append_pair("app_name", app_name);
        if let Some(id) = app_id {
            q.append_pair("app_id", id);
        }
        if let Some(s) = success_url {
            q.append_pair("success_url", s);
        }
        if let Some(r) = reject_url {
            q.append_pair("reject_url", r);
        }
    }
    u
}

/// The login and application password WordPress handed to the browser after an approval, once
/// checked: a rejection, an error or an approval from another site is refused here, before the
/// password is sent anywhere.
fn approved_password(a: &Approved, site: &Url, host: &str) -> Result<(String, Secret)> {
    let cb = &a.callback;
    if cb.path.ends_with("/rejected") || cb.text("success").as_deref() == Some("false") {
        return Err(Error::NotApproved {
            message: format!("Keyward was not approved on {host} (rejected in the browser); nothing was stored"),
        });
    }
    if let Some(e) = cb.text("error") {
        return Err(Error::NotApproved {
            message: format!("{host} cannot give Keyward an application password ({}); nothing was stored", one_line(&e)),
        });
    }
    let (Some(site_url), Some(login), Some(password)) = (cb.text("site_url"), cb.text("user_login"), cb.get("password")) else {
        return Err(Error::bad_response(host, "the browser came back without a user name and application password"));
    };
    let same_site = Url::parse(&site_url).map(|u| u.origin() == site.origin()).unwrap_or(false);
    if !same_site {
        return Err(Error::Refused {
            message: format!("the approval came from {} instead of {host}; Keyward did not use it and stored nothing", host_of(&site_url)),
            remedy: None,
        });
    }
    if login.trim().is_empty() || password.is_empty() {
        return Err(Error::bad_response(host, "the browser came back without a user name and application password"));
    }
    Ok((login, password.clone()))
}

fn credential(p: AppPassword, own: &str, profile: &str) -> Credential {
    let mut c = Credential::new(p.uuid.clone(), CredentialKind::AppPassword);
    let app_id = p.app_id.filter(|a| !a.is_empty());
    c.name = Some(p.name.clone());
    c.hints = ClientHints { app_name: Some(p.name), app_id: app_id.clone(), ..Default::default() };
    c.created = utc_time(p.created.as_deref());
    c.last_used = utc_time(p.last_used.as_deref());
    c.last_used_meaning = LastUsedMeaning::UsedDay;
    c.tracks_use = true;
    c.last_ip = p.last_ip.filter(|ip| !ip.is_empty());
    // WordPress application passwords have no expiry: they work until deleted.
    c.never_expires = true;
    c.current = p.uuid == own;
    c.details.push(Fact::new("UUID", p.uuid));
    if let Some(id) = app_id {
        c.details.push(Fact::new("App ID", id));
    }
    c.actions = Actions { rename: true, revoke: true, ..Default::default() };
    c.manage_url = Some(profile.to_string());
    c
}

/// A reachable REST API: its root and its index.
struct Api {
    root: Url,
    index: Index,
}

impl Api {
    /// The site URL to keep on the account: the index's own, when it is on the origin the user
    /// typed (or its https upgrade), else what the user typed. An index cannot move the account.
    fn site(&self, typed: &Url) -> Url {
        let from_index = self.index.url.as_deref().and_then(|u| crate::net::http::parse_server_url(u).ok());
        match from_index {
            Some(u) if stays_on(typed, &u) && stays_on(&self.root, &u) => u,
            _ => typed.clone(),
        }
    }
}

/// Calls to a site's REST API with an application password (Basic auth).
struct Caller<'a> {
    http: &'a Http,
    api: &'a Url,
    login: &'a str,
    password: &'a Secret,
}

impl Caller<'_> {
    async fn send(&self, method: Method, route: &str, body: Option<&Value>) -> Result<Response> {
        let mut req = self.http.request(method, route_url(self.api, route)).basic_auth(self.login, Some(self.password.expose()));
        if let Some(b) = body {
            req = req.json(b);
        }
        self.http.send(req).await
    }
}

impl WordPress {
    /// The site's REST API, if `url` is a WordPress site: `/wp-json/`, else the root the home
    /// page's `Link` header names, else `?rest_route=/`.
    async fn discover(&self, http: &Http, url: &Url) -> Result<Option<Api>> {
        let pretty = join(url, "wp-json/");
        if let Some(api) = self.index_at(http, &pretty).await? {
            return Ok(Some(api));
        }
        if let Ok(home) = http.send(http.get(url.clone())).await {
            if let Some(root) = api_link(&home).filter(|r| *r != pretty) {
                // The application password goes to the API root: it stays where the user said.
                if !stays_on(url, &root) {
                    return Err(Error::Redirected { host: host_of(url.as_str()), to: host_of(root.as_str()) });
                }
                if let Ok(Some(api)) = self.index_at(http, &root).await {
                    return Ok(Some(api));
                }
            }
        }
        let mut plain = url.clone();
        plain.query_pairs_mut().append_pair("rest_route", "/");
        Ok(self.index_at(http, &plain).await.ok().flatten())
    }

    /// The REST API index at `root`, when it is WordPress's.
    async fn index_at(&self, http: &Http, root: &Url) -> Result<Option<Api>> {
        let r = http.send(http.get(root.clone())).await?;
        // After redirects (http → https, a missing slash) the final URL is the root.
        let found = if r.url.as_str() == root.as_str() { root.clone() } else { r.url.clone() };
        if matches!(r.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) && wp_error(&r).code.starts_with("rest_") {
            // A plugin closed the REST API to visitors ("rest_cannot_access",
            // "rest_login_required"): it is WordPress's, and signed-in calls may still work.
            return Ok(Some(Api { root: found, index: Index { closed: true, ..Default::default() } }));
        }
        if !r.is_success() {
            return Ok(None);
        }
        match serde_json::from_slice::<Index>(&r.body) {
            Ok(index) if index.is_wordpress() => Ok(Some(Api { root: found, index })),
            _ => Ok(None),
        }
    }

    /// An authenticated call for a signed-in account.
    async fn call(&self, s: &Session<'_>, stored: &Stored, method: Method, route: &str, body: Option<&Value>) -> Result<Response> {
        let api = Url::parse(&stored.api).map_err(|_| s.sign_in_again("the keyring entry is unreadable"))?;
        let r = Caller { http: s.http, api: &api, login: &stored.login, password: &stored.password }.send(method, route, body).await?;
        if r.status == StatusCode::UNAUTHORIZED {
            return Err(s.sign_in_again("the site no longer accepts its application password"));
        }
        if let Some(e) = unavailable(&r, &s.account.host()) {
            return Err(e);
        }
        Ok(r)
    }

    /// Checks a login and application password with the REST API and makes the sign-in of them:
    /// the password's own UUID (introspect) marks it as Keyward's.
    async fn signed_in(&self, http: &Http, api: &Api, typed: &Url, login: String, password: Secret) -> Result<SignedIn> {
        let site = api.site(typed);
        let host = host_of(site.as_str());
        let account_name = format!("{login}@{host}");
        let caller = Caller { http, api: &api.root, login: &login, password: &password };
        let r = caller.send(Method::GET, "wp/v2/users/me/application-passwords/introspect", None).await?;
        if let Some(e) = unavailable(&r, &host) {
            return Err(e);
        }
        if r.status == StatusCode::UNAUTHORIZED {
            if api.index.offers_application_passwords() == Some(false) {
                return Err(Error::unsupported(format!("{host} does not offer application passwords to apps; nothing was changed")));
            }
            // WordPress 6.1 answers a wrong password or an unknown user with `rest_not_logged_in`
            // (the reason is lost on the way); later versions say `incorrect_password` or
            // `invalid_username`. All of them: the name or the password is wrong.
            return Err(Error::WrongPassword { account: account_name });
        }
        if !r.is_success() {
            return Err(server_error(&r));
        }
        let own: AppPassword = r.json("the application password in use")?;
        let r = caller.send(Method::GET, "wp/v2/users/me?context=edit", None).await?;
        if !r.is_success() {
            return Err(server_error(&r));
        }
        let user: User = r.json("the account's profile")?;
        let user_id = user.username.or(user.slug).unwrap_or_else(|| user.id.to_string());

        let mut facts = Vec::new();
        if let Some(name) = api.index.name.clone().filter(|n| !n.is_empty()) {
            facts.push(Fact::new("Site", name));
        }
        // The index's home is shown only when it is the typed site's: it may name any site.
        let home = api.index.home.as_deref().filter(|h| Url::parse(h).map(|h| stays_on(&site, &h)).unwrap_or(false));
        facts.push(Fact::new("Site URL", home.map(str::to_string).unwrap_or_else(|| base_string(&site))));
        facts.push(Fact::new("REST API", api.root.to_string()));
        if let Some(tz) = api.index.time_zone() {
            facts.push(Fact::new("Time zone", tz));
        }
        facts.push(Fact::new("Sign-in", format!("application password “{}”", own.name)));
        let stored = Stored { login, password, uuid: own.uuid.clone(), api: api.root.to_string() };
        Ok(SignedIn {
            base_url: site,
            user_id,
            own_credential: Some(own.uuid),
            server_facts: facts,
            stored: crate::provider::to_stored(&stored)?,
        })
    }

    /// The UUID of the application password in use.
    async fn introspect(&self, s: &Session<'_>, stored: &Stored) -> Result<String> {
        let r = self.call(s, stored, Method::GET, "wp/v2/users/me/application-passwords/introspect", None).await?;
        if !r.is_success() {
            return Err(server_error(&r));
        }
        Ok(r.json::<AppPassword>("the application password in use")?.uuid)
    }

    /// Another user's id, found by name as an administrator; never the account's own.
    async fn other_user(&self, s: &Session<'_>, stored: &Stored, name: &str) -> Result<u64> {
        let mut route = String::from("wp/v2/users?context=edit&per_page=100&search=");
        route.push_str(&url::form_urlencoded::byte_serialize(name.trim().as_bytes()).collect::<String>());
        let (found, me) = tokio::join!(
            self.call(s, stored, Method::GET, &route, None),
            self.call(s, stored, Method::GET, "wp/v2/users/me?context=edit", None)
        );
        let r = found?;
        if matches!(r.status, StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED) {
            // "rest_forbidden_context": only those who may list users see them with their logins.
            return Err(Error::NotAdmin { account: s.account.name() });
        }
        if !r.is_success() {
            return Err(server_error(&r));
        }
        let users: Vec<User> = r.json("a list of users")?;
        let me = me?;
        if !me.is_success() {
            return Err(server_error(&me));
        }
        let me: User = me.json("the account's profile")?;
        let Some(user) = users.into_iter().find(|u| u.is_named(name)) else {
            return Err(Error::UnknownUser { account: s.account.name(), user: name.trim().to_string() });
        };
        if user.id == me.id {
            return Err(Error::input(format!("{} is {} itself", name.trim(), s.account.name())));
        }
        Ok(user.id)
    }

    fn profile_page(s: &Session<'_>) -> Result<String> {
        Ok(join(&s.base_url()?, PROFILE_PAGE).to_string())
    }
}

/// WordPress application passwords: 24 letters and digits, shown in groups of four.
fn is_application_password(t: &str) -> bool {
    let joined: String = t.split(' ').collect();
    joined.len() == 24 && joined.chars().all(|c| c.is_ascii_alphanumeric()) && (t.len() == 24 || t.split(' ').all(|g| g.len() == 4))
}

#[async_trait]
impl Provider for WordPress {
    fn client_rules(&self) -> &'static [Rule] {
        CLIENT_RULES
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            kind: KIND,
            display_name: "WordPress",
            sign_in: &[SignInMethod::Token, SignInMethod::Browser],
            token_label: "application password",
            token_page: Some(AUTHORIZE_PAGE),
            rename: true,
            // WordPress deletes one application password per request (its "delete all" takes
            // the app's own too): no revoke_many, no revoke_all_others.
            revoke: true,
            sign_out: true,
            other_users: true,
            token_shapes: &[TokenShape { what: "WordPress application password", matches: is_application_password }],
            ..Default::default()
        }
    }

    async fn probe(&self, http: &Http, url: &Url) -> Result<Option<Url>> {
        Ok(self.discover(http, url).await?.map(|api| api.site(url)))
    }

    async fn sign_in_options(&self, http: &Http, url: &Url) -> Result<Vec<SignInMethod>> {
        let Some(api) = self.discover(http, url).await? else {
            return Err(Error::NotThisKind { url: base_string(url), kind: "WordPress", detail: None });
        };
        let mut methods = vec![SignInMethod::Token];
        if api.index.authorization_page().is_some() {
            methods.push(SignInMethod::Browser);
        }
        Ok(methods)
    }

    async fn browser_page(&self, http: &Http, ask: BrowserAsk<'_>) -> Result<BrowserPage> {
        let BrowserAsk { url, back, client_name, .. } = ask;
        let Some(api) = self.discover(http, url).await? else {
            return Err(Error::NotThisKind { url: base_string(url), kind: "WordPress", detail: None });
        };
        let site = api.site(url);
        let host = host_of(site.as_str());
        let Some(page) = api.index.authorization_page() else {
            return Err(Error::SignInMethod {
                message: format!("{host} does not say where apps are approved (its REST index names no authorisation page)"),
                remedy: Some(Remedy::UseToken { label: "application password".into(), page: Some(join(&site, PROFILE_PAGE).to_string()) }),
            });
        };
        // The page is the site's own: the index cannot send the user somewhere else.
        let page = Url::parse(page)
            .ok()
            .filter(|p| p.origin() == site.origin())
            .ok_or_else(|| Error::Redirected { host: host.clone(), to: host_of(page) })?;
        Ok(BrowserPage::at(authorize_url_at(
            page,
            client_name,
            Some(KEYWARD_APP_ID),
            Some(back.approved.as_str()),
            Some(back.rejected.as_str()),
        )))
    }

    async fn sign_in_approved(&self, http: &Http, a: Approved) -> Result<SignedIn> {
        let Some(api) = self.discover(http, &a.url).await? else {
            return Err(Error::NotThisKind { url: base_string(&a.url), kind: "WordPress", detail: None });
        };
        let site = api.site(&a.url);
        let host = host_of(site.as_str());
        let (login, password) = approved_password(&a, &site, &host)?;
        let signed = self.signed_in(http, &api, &a.url, login.clone(), password.clone()).await?;
        let asked = a.login.as_deref().map(str::trim).filter(|l| !l.is_empty());
        if let Some(asked) = asked.filter(|asked| !asked.eq_ignore_ascii_case(&login) && !asked.eq_ignore_ascii_case(&signed.user_id)) {
            // Approved as someone else (another user signed in in that browser): the password
            // made for Keyward goes again.
            let caller = Caller { http, api: &api.root, login: &login, password: &password };
            let deleted = match &signed.own_credential {
                Some(uuid) => caller
                    .send(Method::DELETE, &format!("wp/v2/users/me/application-passwords/{uuid}"), None)
                    .await
                    .map(|r| r.is_success())
                    .unwrap_or(false),
                None => false,
            };
            return Err(Error::NotApproved {
                message: format!(
                    "the browser approved Keyward as {} on {host}, not as {}; {}nothing was stored",
                    crate::text::field(&login),
                    crate::text::field(asked),
                    if deleted { "the application password made for it was deleted and " } else { "" }
                ),
            });
        }
        Ok(signed)
    }

    async fn sign_in(&self, http: &Http, req: SignInRequest) -> Result<SignedIn> {
        let Some(api) = self.discover(http, &req.url).await? else {
            return Err(Error::NotThisKind { url: base_string(&req.url), kind: "WordPress", detail: None });
        };
        let password = match req.secret {
            SignInSecret::Token(p) | SignInSecret::Password(p) => p,
        };
        self.signed_in(http, &api, &req.url, req.login, password).await
    }

    async fn list(&self, s: &Session<'_>) -> Result<Found> {
        let stored: Stored = s.load().await?;
        let r = self.call(s, &stored, Method::GET, "wp/v2/users/me/application-passwords", None).await?;
        if r.status == StatusCode::FORBIDDEN {
            return Err(Error::forbidden(format!(
                "{} does not let this account see its application passwords ({})",
                s.account.host(),
                one_line(&strip_tags(&wp_error(&r).message))
            )));
        }
        if !r.is_success() {
            return Err(server_error(&r));
        }
        let passwords: Vec<AppPassword> = r.json("a list of application passwords")?;
        let own = self.introspect(s, &stored).await?;
        let profile = Self::profile_page(s)?;
        let mut credentials: Vec<Credential> = passwords.into_iter().map(|p| credential(p, &own, &profile)).collect();
        // The app's own first, then in the site's order (oldest first).
        credentials.sort_by_key(|c| !c.current);
        let gaps = vec![Gap {
            message:
                "WordPress does not show apps where the account is signed in with a browser; the profile page can sign out everywhere else"
                    .into(),
            url: Some(join(&s.base_url()?, "wp-admin/profile.php").to_string()),
            remedy: None,
        }];
        Ok(Found { credentials, gaps, own_credential: Some(own), ..Default::default() })
    }

    async fn rename(&self, s: &Session<'_>, id: &str, name: &str, _proof: &Proof) -> Result<()> {
        if strip_tags(name).trim().is_empty() {
            // WordPress would strip it to nothing and keep the old name without a word.
            return Err(Error::input("WordPress removes HTML tags from names, and nothing would be left of this one"));
        }
        let stored: Stored = s.load().await?;
        let uuid = checked_uuid(s, id)?;
        let route = format!("wp/v2/users/me/application-passwords/{uuid}");
        let r = self.call(s, &stored, Method::POST, &route, Some(&json!({ "name": name }))).await?;
        if r.is_success() {
            return Ok(());
        }
        match wp_error(&r).code.as_str() {
            "application_password_not_found" => Err(Error::UnknownCredential { account: s.account.name(), id: id.to_string() }),
            _ => Err(server_error(&r)),
        }
    }

    async fn revoke(&self, s: &Session<'_>, ids: &[String], _proof: &Proof) -> Result<Vec<Revoked>> {
        let stored: Stored = s.load().await?;
        // The app's own last: once it is gone, nothing else can be deleted with it.
        let mut order: Vec<&String> = ids.iter().collect();
        order.sort_by_key(|id| **id == stored.uuid);
        let mut results = Vec::new();
        for id in order {
            let uuid = match checked_uuid(s, id) {
                Ok(u) => u,
                Err(e) => {
                    results.push(Revoked::failed(id, e));
                    continue;
                }
            };
            let route = format!("wp/v2/users/me/application-passwords/{uuid}");
            match self.call(s, &stored, Method::DELETE, &route, None).await {
                Ok(r) if r.is_success() => results.push(Revoked::ok(id)),
                Ok(r) if wp_error(&r).code == "application_password_not_found" => results.push(Revoked::failed(id, "it is already gone")),
                Ok(r) => results.push(Revoked::failed(id, server_error(&r))),
                Err(e) => results.push(Revoked::failed(id, e)),
            }
        }
        // In the order asked for.
        results.sort_by_key(|r| ids.iter().position(|i| *i == r.id));
        Ok(results)
    }

    async fn list_user(&self, s: &Session<'_>, user: &str) -> Result<Found> {
        let stored: Stored = s.load().await?;
        let id = self.other_user(s, &stored, user).await?;
        let r = self.call(s, &stored, Method::GET, &format!("wp/v2/users/{id}/application-passwords"), None).await?;
        if r.status == StatusCode::FORBIDDEN {
            return Err(Error::NotAdmin { account: s.account.name() });
        }
        if !r.is_success() {
            return Err(server_error(&r));
        }
        let passwords: Vec<AppPassword> = r.json("a list of application passwords")?;
        let page = join(&s.base_url()?, &format!("wp-admin/user-edit.php?user_id={id}")).to_string();
        let credentials = passwords
            .into_iter()
            .map(|p| {
                let mut c = credential(p, "", &format!("{page}#application-passwords-section"));
                // Renaming is the user's own business; Keyward renames only the account's.
                c.actions.rename = false;
                c
            })
            .collect();
        let gaps = vec![Gap {
            message:
                "WordPress does not show apps where this user is signed in with a browser; their profile page can sign them out everywhere"
                    .into(),
            url: Some(page),
            remedy: None,
        }];
        Ok(Found { credentials, gaps, ..Default::default() })
    }

    async fn revoke_user(&self, s: &Session<'_>, user: &str, ids: &[String], _proof: &Proof) -> Result<Vec<Revoked>> {
        let stored: Stored = s.load().await?;
        let user_id = self.other_user(s, &stored, user).await?;
        let mut results = Vec::new();
        for id in ids {
            let uuid = match checked_uuid(s, id) {
                Ok(u) => u,
                Err(e) => {
                    results.push(Revoked::failed(id, e));
                    continue;
                }
            };
            let route = format!("wp/v2/users/{user_id}/application-passwords/{uuid}");
            match self.call(s, &stored, Method::DELETE, &route, None).await {
                Ok(r) if r.is_success() => results.push(Revoked::ok(id)),
                Ok(r) if r.status == StatusCode::FORBIDDEN && results.is_empty() => {
                    return Err(Error::NotAdmin { account: s.account.name() })
                }
                Ok(r) if wp_error(&r).code == "application_password_not_found" => results.push(Revoked::failed(id, "it is already gone")),
                Ok(r) => results.push(Revoked::failed(id, server_error(&r))),
                Err(e) => results.push(Revoked::failed(id, e)),
            }
        }
        Ok(results)
    }

    async fn identify(&self, s: &Session<'_>, token: &Secret) -> Result<Identified> {
        let stored: Stored = s.load().await?;
        let api = Url::parse(&stored.api).map_err(|_| s.sign_in_again("the keyring entry is unreadable"))?;
        let pasted = Secret::new(token.expose().split_whitespace().collect::<String>());
        let r = Caller { http: s.http, api: &api, login: &stored.login, password: &pasted }
            .send(Method::GET, "wp/v2/users/me/application-passwords/introspect", None)
            .await?;
        if r.status == StatusCode::UNAUTHORIZED {
            // Not this user's application password (it may be someone else's: WordPress needs
            // the user name with it, so that cannot be told).
            return Ok(Identified::default());
        }
        if !r.is_success() {
            return Err(server_error(&r));
        }
        let found: AppPassword = r.json("the application password")?;
        Ok(Identified { valid: Some(true), user_id: Some(s.account.user_id.clone()), credential_id: Some(found.uuid) })
    }

    async fn sign_out(&self, s: &Session<'_>) -> Result<()> {
        let stored: Stored = s.load().await?;
        let uuid = match self.introspect(s, &stored).await {
            Ok(u) => u,
            // Already gone on the server: the goal is reached.
            Err(Error::SignInAgain { .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        let route = format!("wp/v2/users/me/application-passwords/{}", checked_uuid(s, &uuid)?);
        match self.call(s, &stored, Method::DELETE, &route, None).await {
            Ok(r) if r.is_success() => Ok(()),
            Ok(r) if wp_error(&r).code == "application_password_not_found" => Ok(()),
            Ok(r) => Err(server_error(&r)),
            Err(Error::SignInAgain { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

// ---- recognising this kind's clients ----

/// The WordPress and Jetpack mobile apps, by the user agents and application-password names
/// WordPress keeps. Tried in order, after Keyward's own rule and
/// before the shared ones (see `crate::clients`); each has cases in `tests/data/clients/`.
pub(crate) const CLIENT_RULES: &[Rule] = &[
    rule("WordPress for iOS", MOBILE, IOS, UA, r"\bwp-iphone/(?P<v>[\d.]+)"),
    rule("WordPress for Android", MOBILE, ANDROID, UA, r"\bwp-android(?:-native)?/(?P<v>[\d.]+)"),
    rule("WordPress for iOS", MOBILE, IOS, NAMES, r"^WordPress (?:app )?(?:for |on )?(?:iOS|iPhone|iPad)\b"),
    rule("WordPress for Android", MOBILE, ANDROID, NAMES, r"^WordPress (?:app )?(?:for |on )?Android\b"),
    rule("Jetpack for iOS", MOBILE, IOS, NAMES, r"^Jetpack (?:app )?(?:for |on )?(?:iOS|iPhone|iPad)\b"),
    rule("Jetpack for Android", MOBILE, ANDROID, NAMES, r"^Jetpack (?:app )?(?:for |on )?Android\b"),
    rule("WordPress for iOS", MOBILE, IOS, APP_ID, r"^org\.wordpress(?:\.ios)?$"),
    rule("WordPress for Android", MOBILE, ANDROID, APP_ID, r"^org\.wordpress\.android\b"),
];

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;

    fn response(link: &str) -> Response {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.append("link", link.parse().unwrap());
        Response { status: StatusCode::OK, headers, url: Url::parse("https://example.org/").unwrap(), body: Vec::new() }
    }

    #[test]
    fn api_root_comes_from_the_link_header() {
        let r = response(r#"<https://example.org/wp-json/>; rel="https://api.w.org/""#);
        assert_eq!(api_link(&r).unwrap().as_str(), "https://example.org/wp-json/");
        let r = response(
            r#"<https://example.org/?p=2>; rel=shortlink, <https://example.org/index.php?rest_route=/>; rel="https://api.w.org/""#,
        );
        assert_eq!(api_link(&r).unwrap().as_str(), "https://example.org/index.php?rest_route=/");
        assert!(api_link(&response("<https://example.org/feed/>; rel=alternate")).is_none());
    }

    #[test]
    fn routes_follow_the_style_of_the_root() {
        let pretty = Url::parse("https://example.org/blog/wp-json/").unwrap();
        assert_eq!(route_url(&pretty, "wp/v2/users/me").as_str(), "https://example.org/blog/wp-json/wp/v2/users/me");
        assert_eq!(
            route_url(&pretty, "wp/v2/users/me?context=edit").as_str(),
            "https://example.org/blog/wp-json/wp/v2/users/me?context=edit"
        );
        let plain = Url::parse("https://example.org/index.php?rest_route=/").unwrap();
        assert_eq!(
            route_url(&plain, "wp/v2/users/me?context=edit").as_str(),
            "https://example.org/index.php?rest_route=%2Fwp%2Fv2%2Fusers%2Fme&context=edit"
        );
    }

    #[test]
    fn times_are_utc_without_offset() {
        let t = utc_time(Some("2026-11-22T14:09:21")).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-22T14:09:21+00:00");
        assert!(utc_time(None).is_none());
        assert!(utc_time(Some("")).is_none());
    }

    #[test]
    fn fields_map_to_the_model() {
        let p = AppPassword {
            uuid: "d6c837c3-fd31-403a-ab1c-cf61efba23df".into(),
            app_id: Some("".into()),
            name: "Jetpack".into(),
            created: Some("2026-11-22T14:09:14".into()),
            last_used: None,
            last_ip: None,
        };
        let c = credential(p, "other", "https://example.org/wp-admin/profile.php#application-passwords-section");
        assert_eq!(c.kind, CredentialKind::AppPassword);
        assert_eq!(c.hints.app_name.as_deref(), Some("Jetpack"));
        assert!(c.hints.app_id.is_none() && c.last_used.is_none() && c.tracks_use && !c.current);
        assert_eq!(c.last_used_meaning, LastUsedMeaning::UsedDay);
    }

    fn approved(path: &str, query: &[(&str, &str)]) -> Approved {
        let mut u = Url::parse(&format!("http://127.0.0.1:9/{path}")).unwrap();
        for (k, v) in query {
            u.query_pairs_mut().append_pair(k, v);
        }
        Approved {
            url: Url::parse("https://example.org/").unwrap(),
            login: None,
            client_name: "Keyward on test".into(),
            callback: crate::net::loopback::Callback::from_url(&u),
            carry: None,
        }
    }

    #[test]
    fn only_an_approval_from_the_site_asked_gives_a_password() {
        let site = Url::parse("https://example.org/").unwrap();
        let ok = approved(
            "approved",
            &[("state", "s"), ("site_url", "https://example.org"), ("user_login", "alice"), ("password", "abcd efgh ijkl mnop qrst uvwx")],
        );
        let (login, pw) = approved_password(&ok, &site, "example.org").unwrap();
        assert_eq!((login.as_str(), pw.expose()), ("alice", "abcd efgh ijkl mnop qrst uvwx"));
        let refused = |a: Approved| approved_password(&a, &site, "example.org").unwrap_err().to_string();
        assert!(refused(approved("rejected", &[("state", "s")])).contains("rejected in the browser"));
        assert!(refused(approved("approved", &[("state", "s"), ("success", "false")])).contains("not approved"));
        assert!(refused(approved("rejected", &[("state", "s"), ("error", "disabled")])).contains("rejected"));
        assert!(refused(approved("approved", &[("state", "s"), ("error", "disabled")])).contains("cannot give Keyward"));
        // Another site's approval, or the same host over http, or another port: never used.
        for other in ["https://evil.example", "http://example.org", "https://example.org:8443", "not a url"] {
            let e = refused(approved("approved", &[("site_url", other), ("user_login", "alice"), ("password", "abcd")]));
            assert!(e.contains("Keyward did not use it") && !e.contains("abcd"), "{other}: {e}");
        }
        let e = refused(approved("approved", &[("site_url", "https://example.org"), ("user_login", "alice")]));
        assert!(e.contains("without a user name and application password"), "{e}");
    }

    #[test]
    fn authorize_url_carries_the_app() {
        let base = Url::parse("https://example.org/blog/").unwrap();
        let u = authorize_url(&base, "Keyward on laptop", Some("0a1b"), Some("https://example.org/done"));
        assert_eq!(
            u.as_str(),
            "https://example.org/blog/wp-admin/authorize-application.php?app_name=Keyward+on+laptop&app_id=0a1b&success_url=https%3A%2F%2Fexample.org%2Fdone"
        );
    }
}
