//! Hypothesis's own words: the JSON its API answers, the `js-config` JSON its pages carry (h draws
//! its login and account pages with JavaScript, so there are no forms to read, only that script
//! element), and what a token's prefix says it is.
//!
//! Nothing here sends a request or decides anything; `mod.rs` does. Values read from a page or an
//! answer are untrusted server text. A token value is wrapped in a `Secret` the moment it is read,
//! and only [`shown`] turns one into words: its prefix and at most four more characters.

use chrono::{DateTime, Utc};
use scraper::{Html, Selector};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::secret::Secret;

/// Prefixes h gives its tokens (h/services/developer_token.py, h/services/oauth/__init__.py).
pub const DEVELOPER_PREFIX: &str = "6879-";
pub const ACCESS_PREFIX: &str = "5768-";
pub const REFRESH_PREFIX: &str = "4657-";

/// What a token is, told by its prefix alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenShape {
    /// The user's one developer token (no expiry; regenerated on the developer page).
    Developer,
    /// An OAuth access token of an app (one hour).
    OauthAccess,
    /// An OAuth refresh token of an app (seven days); not a bearer token.
    OauthRefresh,
    /// No prefix h gives (another authority's token, or not a token).
    Other,
}

impl TokenShape {
    pub fn of(value: &str) -> TokenShape {
        let v = value.trim();
        if v.starts_with(DEVELOPER_PREFIX) {
            TokenShape::Developer
        } else if v.starts_with(ACCESS_PREFIX) {
            TokenShape::OauthAccess
        } else if v.starts_with(REFRESH_PREFIX) {
            TokenShape::OauthRefresh
        } else {
            TokenShape::Other
        }
    }
}

/// How a token is shown: its prefix and at most four more characters (`6879-Ab3x…`), never more.
pub fn shown(value: &Secret) -> String {
    let v = value.expose().trim();
    let prefix = [DEVELOPER_PREFIX, ACCESS_PREFIX, REFRESH_PREFIX].into_iter().find(|p| v.starts_with(p)).unwrap_or("");
    let rest: String = v[prefix.len()..].chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').take(4).collect();
    format!("{prefix}{rest}…")
}

/// The name part of an h userid (`acct:alice@hypothes.is` → `alice`).
pub fn username_of(userid: &str) -> Option<&str> {
    let rest = userid.strip_prefix("acct:")?;
    let (name, authority) = rest.rsplit_once('@')?;
    (!name.is_empty() && !authority.is_empty()).then_some(name)
}

/// The user a successful login redirects to (`/users/alice`), as h's login does by default.
pub fn username_from_redirect(to: &Url) -> Option<String> {
    let mut segments = to.path_segments()?;
    if segments.next()? != "users" {
        return None;
    }
    let name = segments.next()?;
    if segments.next().is_some_and(|s| !s.is_empty()) || name.is_empty() {
        return None;
    }
    let decoded = url::form_urlencoded::parse(format!("n={name}").as_bytes()).next().map(|(_, v)| v.into_owned())?;
    Some(decoded)
}

/// A time as h writes it (`2026-07-01T12:00:00.123456+00:00`).
pub fn time(s: Option<&str>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.with_timezone(&Utc))
}

// ---- the API ----

/// Is this `GET /api/` answer h's links document? It names the profile and annotation services
/// with their method and URL (h/views/api/index.py); an ordinary JSON answer does not.
pub fn is_links_document(v: &Value) -> bool {
    let links = v.get("links");
    let service = |path: &[&str]| {
        let mut at = links;
        for p in path {
            at = at.and_then(|a| a.get(p));
        }
        at.is_some_and(|s| s.get("url").is_some_and(Value::is_string) && s.get("method").is_some_and(Value::is_string))
    };
    service(&["profile", "read"]) && service(&["annotation", "create"])
}

/// `GET /api/profile`. `userid` is null for a missing, invalid or expired token and for a deleted
/// user, and the answer is still HTTP 200: only a userid makes it an account.
#[derive(Debug, Deserialize)]
pub struct Profile {
    pub userid: Option<String>,
    pub authority: Option<String>,
    pub user_info: Option<UserInfo>,
}

#[derive(Debug, Deserialize)]
pub struct UserInfo {
    pub display_name: Option<String>,
}

/// `GET /api/debug-token` for a valid token (401 `missing_token` otherwise).
#[derive(Debug, Deserialize)]
pub struct DebugToken {
    pub userid: Option<String>,
    pub expires_at: Option<String>,
    pub issued_at: Option<String>,
    #[serde(default)]
    pub expired: bool,
    pub client: Option<Client>,
}

/// The OAuth client of a token.
#[derive(Debug, Deserialize)]
pub struct Client {
    pub id: Option<String>,
    pub name: Option<String>,
}

/// `{"status": "failure", "reason": ...}`, h's error shape outside the OAuth token views. The
/// reason of an OAuth failure is itself JSON text (`{"error": "invalid_client"}`).
#[derive(Debug, Deserialize)]
pub struct Failure {
    pub status: Option<String>,
    pub reason: Option<String>,
}

impl Failure {
    /// The OAuth error code inside the reason, when there is one (`invalid_client`).
    pub fn oauth_error(&self) -> Option<String> {
        let inner: Value = serde_json::from_str(self.reason.as_deref()?).ok()?;
        inner.get("error").and_then(Value::as_str).map(str::to_string)
    }
}

// ---- the pages ----

/// The JSON of a page's `<script type="application/json" class="js-config">`, if it has one.
pub fn js_config(page: &str) -> Option<Value> {
    let doc = Html::parse_document(page);
    let sel = Selector::parse(r#"script.js-config[type="application/json"]"#).expect("a valid selector");
    let script = doc.select(&sel).next()?;
    let text: String = script.text().collect();
    serde_json::from_str(text.trim()).ok().filter(Value::is_object)
}

/// The login page (`GET /login`): its CSRF token.
#[derive(Debug)]
pub struct LoginPage {
    pub csrf_token: Option<Secret>,
}

pub fn login_page(page: &str) -> Option<LoginPage> {
    let config = js_config(page)?;
    let csrf_token = config.get("csrfToken").and_then(Value::as_str).filter(|t| !t.is_empty()).map(Secret::new);
    Some(LoginPage { csrf_token })
}

/// Why the login form refused, from the js-config of the page it answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginRefusal {
    WrongPassword,
    NoSuchUser,
    NotActivated,
    /// Any other field error, in the server's words (untrusted).
    Other(String),
}

pub fn login_refusal(page: &str) -> Option<LoginRefusal> {
    let config = js_config(page)?;
    let errors = config.get("form")?.get("errors")?.as_object()?;
    let said = |k: &str| errors.get(k).and_then(Value::as_str).map(str::to_string);
    if let Some(u) = said("username") {
        return Some(if u.to_ascii_lowercase().contains("activate") { LoginRefusal::NotActivated } else { LoginRefusal::NoSuchUser });
    }
    if said("password").is_some() {
        return Some(LoginRefusal::WrongPassword);
    }
    let (_, first) = errors.iter().next()?;
    Some(LoginRefusal::Other(first.as_str().unwrap_or("the form was refused").to_string()))
}

/// The developer page (`/account/developer`): the user's developer token, if they have one.
#[derive(Debug)]
pub struct DeveloperPage {
    pub token: Option<Secret>,
}

pub fn developer_page(page: &str) -> Option<DeveloperPage> {
    let config = js_config(page)?;
    let token = config.get("token").and_then(Value::as_str).map(str::trim).filter(|t| !t.is_empty()).map(Secret::new);
    Some(DeveloperPage { token })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page shaped like h's (layouts/base + includes/js_app), its JSON escaped as Jinja's
    /// `tojson` does, with h's other JSON script (the frontend settings) before it.
    fn h_page(config: &str) -> String {
        format!(
            r#"<!DOCTYPE html>
<html lang="en"><head><title>Log in | Hypothesis</title>
<script class="js-hypothesis-settings" type="application/json">{{"services": []}}</script>
<script type="importmap">{{"imports": {{}}}}</script></head>
<body class="body"><main><div class="form-container">
<script type="application/json" class="js-config">{config}</script>
<div id="js-app-container"></div></div></main></body></html>"#
        )
    }

    #[test]
    fn js_config_is_read_from_its_own_script_with_jinja_escapes() {
        let page = h_page(r#"{"csrfToken": "abc123", "note": "\u003cb\u003e \u0026 \u0027"}"#);
        let c = js_config(&page).unwrap();
        assert_eq!(c["csrfToken"], "abc123");
        assert_eq!(c["note"], "<b> & '");
        assert_eq!(login_page(&page).unwrap().csrf_token.unwrap().expose(), "abc123");
    }

    #[test]
    fn a_page_without_js_config_or_with_garbage_gives_nothing() {
        assert!(js_config("<html><body><p>hello</p></body></html>").is_none());
        assert!(js_config(&h_page("not json")).is_none());
        assert!(js_config(&h_page("[1, 2]")).is_none());
        assert!(login_page(&h_page(r#"{"features": {}}"#)).unwrap().csrf_token.is_none());
    }

    #[test]
    fn login_refusals_are_told_apart() {
        let wrong = h_page(
            r#"{"csrfToken": "x", "form": {"errors": {"password": "Wrong password."}, "data": {"username": "alice", "password": "nope"}}}"#,
        );
        assert_eq!(login_refusal(&wrong), Some(LoginRefusal::WrongPassword));
        let nobody = h_page(r#"{"form": {"errors": {"username": "User does not exist."}}}"#);
        assert_eq!(login_refusal(&nobody), Some(LoginRefusal::NoSuchUser));
        let inactive =
            h_page(r#"{"form": {"errors": {"username": "Please check your email and open the link to activate your account."}}}"#);
        assert_eq!(login_refusal(&inactive), Some(LoginRefusal::NotActivated));
        assert_eq!(login_refusal(&h_page(r#"{"form": {"data": {"username": null}}}"#)), None);
    }

    #[test]
    fn developer_page_token_is_present_or_absent() {
        let with = h_page(r#"{"features": {}, "token": "6879-AbCdEfGhIjKlMnOp"}"#);
        assert_eq!(developer_page(&with).unwrap().token.unwrap().expose(), "6879-AbCdEfGhIjKlMnOp");
        assert!(developer_page(&h_page(r#"{"features": {}}"#)).unwrap().token.is_none());
    }

    #[test]
    fn tokens_are_shown_by_prefix_and_four_characters_at_most() {
        assert_eq!(shown(&Secret::new("6879-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abc")), "6879-AbCd…");
        assert_eq!(shown(&Secret::new("5768-xy")), "5768-xy…");
        assert_eq!(shown(&Secret::new("plainsecretvalue")), "plai…");
        assert_eq!(TokenShape::of("6879-x"), TokenShape::Developer);
        assert_eq!(TokenShape::of("5768-x"), TokenShape::OauthAccess);
        assert_eq!(TokenShape::of(" 4657-x"), TokenShape::OauthRefresh);
        assert_eq!(TokenShape::of("api-x"), TokenShape::Other);
    }

    #[test]
    fn profile_with_userid_null_is_read_as_nobody() {
        let anonymous: Profile = serde_json::from_str(
            r#"{"userid": null, "authority": "hypothes.is", "groups": [{"name": "Public", "id": "__world__", "public": true}], "features": {}, "preferences": {}, "user_info": null}"#,
        )
        .unwrap();
        assert!(anonymous.userid.is_none());
        let source_shape: Profile = serde_json::from_str(r#"{"userid": null, "authority": "hypothes.is"}"#).unwrap();
        assert!(source_shape.userid.is_none() && source_shape.user_info.is_none());
        let alice: Profile = serde_json::from_str(
            r#"{"userid": "acct:alice@hypothes.is", "authority": "hypothes.is", "user_info": {"display_name": "Alice"}}"#,
        )
        .unwrap();
        assert_eq!(alice.userid.as_deref().and_then(username_of), Some("alice"));
    }

    #[test]
    fn userids_and_login_redirects_name_the_user() {
        assert_eq!(username_of("acct:bob.smith@example.org"), Some("bob.smith"));
        assert_eq!(username_of("bob"), None);
        assert_eq!(username_of("acct:@x"), None);
        let to = Url::parse("https://h.example/users/alice").unwrap();
        assert_eq!(username_from_redirect(&to).as_deref(), Some("alice"));
        assert_eq!(username_from_redirect(&Url::parse("https://h.example/users/al%20ice").unwrap()).as_deref(), Some("al ice"));
        assert_eq!(username_from_redirect(&Url::parse("https://h.example/groups/x").unwrap()), None);
        assert_eq!(username_from_redirect(&Url::parse("https://h.example/users/a/b").unwrap()), None);
    }

    #[test]
    fn links_document_is_told_from_other_json() {
        let h: Value = serde_json::from_str(
            r#"{"links": {"profile": {"read": {"method": "GET", "url": "https://h/api/profile", "desc": "Fetch the user's profile"}},
                "annotation": {"create": {"method": "POST", "url": "https://h/api/annotations", "desc": "Create an annotation"}}}}"#,
        )
        .unwrap();
        assert!(is_links_document(&h));
        assert!(!is_links_document(&serde_json::json!({"links": {"self": "https://x"}})));
        assert!(!is_links_document(&serde_json::json!({"versions": ["r0.6.1"]})));
    }

    #[test]
    fn debug_token_dates_and_oauth_failures_parse() {
        let t: DebugToken = serde_json::from_str(
            r#"{"userid": "acct:a@h", "expires_at": null, "issued_at": "2026-07-01T12:00:00.123456+00:00", "expired": false}"#,
        )
        .unwrap();
        assert_eq!(time(t.issued_at.as_deref()).unwrap().to_rfc3339(), "2026-07-01T12:00:00.123456+00:00");
        assert!(t.expires_at.is_none() && t.client.is_none());
        let f: Failure = serde_json::from_str(r#"{"status": "failure", "reason": "{\"error\": \"invalid_client\"}"}"#).unwrap();
        assert_eq!(f.oauth_error().as_deref(), Some("invalid_client"));
    }
}
