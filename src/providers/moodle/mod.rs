//! Moodle sites: every key, session and device of a Moodle account.
//!
//! Moodle's web service API lets a user list and remove only their mobile push devices; browser
//! sessions, web service tokens, the RSS key and (newer Moodle) personal access tokens live on
//! web pages that need a browser session and its `sesskey`. So the provider signs in twice with
//! the same username and password: a token from `/login/token.php` for the official mobile
//! service (`moodle_mobile_app`) for the API, and a web session through the login form for the
//! pages. Site info's `functions` decides what the API part may do; each page's layout decides
//! what the page part may do. A page the readers (`pages.rs`) do not recognise is an error that
//! names the page, never an empty list; a page Moodle does not show this user is a gap.
//!
//! What is kept in the keyring, and why: the mobile token, the account's password, and the web
//! session's cookies. Moodle web sessions expire after hours (`sessiontimeout`), and without the
//! password every expiry would mean "sign in again" for the pages. The password is the account's
//! own credential and lives only in the keyring entry, like the token; it is sent only to this
//! site's login form. The cookies are kept so that each refresh reuses one web session (which the
//! sessions page then shows as Keyward's own) instead of opening a new one every time.
//!
//! Moodle never deletes a web service token from its pages: "Reset" replaces it with a new one
//! for the same service. Moodle gives the mobile service's token to every Moodle app of the user
//! (their phone and Keyward alike), so resetting it signs all of them out: the credential says so
//! before it is revoked. A wrong `sesskey` is ignored silently by Moodle, so after every page
//! action the page is read again and the item must be gone.
//!
//! Facts: `shared/reference/moodle.md` and the real pages in `tests/data/moodle-4.3/`. Not here:
//! SSO sign-in (the site must accept a password), OAuth 2 linked logins (named in a gap), push
//! devices of branded Moodle apps (only the official app's `com.moodle.moodlemobile` is asked
//! for), pages in languages other than English (times then stay in the page's words).

mod pages;

use std::collections::{BTreeMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::error::{Error, Remedy, Result};
use crate::model::{AccountActions, Actions, ClientHints, Credential, CredentialKind, Fact, Gap, Kind, LastUsedMeaning};
use crate::net::http::{base_string, join, one_line, Http, Response};
use crate::net::web::{Followed, WebSession};
use crate::provider::{Capabilities, Found, Proof, Provider, Revoked, Session, SignInMethod, SignInRequest, SignInSecret, SignedIn};
use crate::secret::{self, Secret};
use pages::Unrecognised;

pub struct Moodle;

/// This kind of server, as the registry and stored accounts name it.
pub const KIND: Kind = Kind::new("moodle");

/// The official mobile service and app: what `/login/token.php` is asked for.
const SERVICE: &str = "moodle_mobile_app";
const APP_ID: &str = "com.moodle.moodlemobile";
/// The mobile service's name as the security keys page shows it.
const MOBILE_SERVICE_NAME: &str = "Moodle mobile web service";

const SESSIONS_PAGE: &str = "report/usersessions/user.php";
const KEYS_PAGE: &str = "user/managetoken.php";
const PATS_PAGE: &str = "user/personalaccesstokens.php";
const LOGIN_PAGE: &str = "login/index.php";
const PROFILE_PAGE: &str = "user/profile.php";

/// What the app keeps in the keyring for a Moodle account (see the module doc for why).
#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(with = "secret::stored")]
    token: Secret,
    username: String,
    #[serde(with = "secret::stored")]
    password: Secret,
    /// `name=value; name=value` of the web session's cookies.
    #[serde(default, with = "secret::stored::option", skip_serializing_if = "Option::is_none")]
    cookies: Option<Secret>,
}

impl Stored {
    fn cookie_map(&self) -> BTreeMap<String, Secret> {
        let Some(c) = &self.cookies else { return BTreeMap::new() };
        c.expose().split(';').filter_map(|p| p.trim().split_once('=')).map(|(k, v)| (k.to_string(), Secret::new(v))).collect()
    }

    fn set_cookies(&mut self, m: &BTreeMap<String, Secret>) {
        self.cookies = if m.is_empty() {
            None
        } else {
            Some(Secret::new(m.iter().map(|(k, v)| format!("{k}={}", v.expose())).collect::<Vec<_>>().join("; ")))
        };
    }
}

// ---- wire types (Moodle's own words) ----

#[derive(Deserialize)]
struct TokenAnswer {
    token: Option<String>,
    error: Option<String>,
    errorcode: Option<String>,
}

#[derive(Deserialize)]
struct SiteInfo {
    sitename: Option<String>,
    username: String,
    fullname: Option<String>,
    release: Option<String>,
    #[serde(default)]
    functions: Vec<Function>,
}

#[derive(Deserialize)]
struct Function {
    name: String,
}

#[derive(Deserialize)]
struct DevicesAnswer {
    #[serde(default)]
    devices: Vec<Device>,
    #[serde(default)]
    warnings: Vec<Warning>,
}

#[derive(Deserialize)]
struct Device {
    id: i64,
    appid: String,
    name: Option<String>,
    model: Option<String>,
    platform: Option<String>,
    version: Option<String>,
    uuid: String,
    enable: Option<i64>,
    timecreated: Option<i64>,
    timemodified: Option<i64>,
}

#[derive(Deserialize)]
struct Warning {
    warningcode: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct RemoveAnswer {
    removed: bool,
    #[serde(default)]
    warnings: Vec<Warning>,
}

/// What the web service functions of this site let the token do.
struct Allowed(HashSet<String>);

impl Allowed {
    fn has(&self, f: &str) -> bool {
        self.0.contains(f)
    }
}

/// Why the web pages cannot be used, in words for people ("the site asks for a second factor").
struct Blocked(String);

/// A problem reaching a page: the pages cannot be used at all, or an ordinary error.
enum WebError {
    Blocked(Blocked),
    Fatal(Error),
}

impl From<Error> for WebError {
    fn from(e: Error) -> Self {
        WebError::Fatal(e)
    }
}

fn unrecognised(base: &Url, u: Unrecognised) -> Error {
    Error::bad_response(crate::model::host_of(base.as_str()), format!("a page layout Keyward does not know: {}", u.0))
}

fn time(secs: Option<i64>) -> Option<DateTime<Utc>> {
    secs.filter(|s| *s > 0).and_then(|s| Utc.timestamp_opt(s, 0).single())
}

/// The `(name, value)` pairs of a form, as owned strings for `post_form`.
fn fields(pairs: &[(String, String)]) -> Vec<(String, String)> {
    pairs.to_vec()
}

impl Moodle {
    // ---- the API ----

    /// Calls a web service function; Moodle's HTTP-200 error bodies become errors.
    async fn call(&self, http: &Http, base: &Url, token: &Secret, function: &str, params: &[(&str, &str)]) -> Result<Value> {
        let mut form: Vec<(&str, &str)> = vec![("wstoken", token.expose()), ("wsfunction", function), ("moodlewsrestformat", "json")];
        form.extend_from_slice(params);
        let r = http.send(http.post(join(base, "webservice/rest/server.php")).form(&form)).await?;
        if !r.is_success() {
            return Err(r.unexpected());
        }
        let v: Value = r.json("a web service answer")?;
        if let Some(code) = v.get("errorcode").and_then(Value::as_str).filter(|_| v.get("exception").is_some()) {
            let message = v.get("message").and_then(Value::as_str).unwrap_or(code);
            return Err(match code {
                "invalidtoken" => Error::SignInAgain { account: String::new(), why: "the site no longer accepts its token".into() },
                "accessexception" => Error::forbidden(format!("this Moodle site does not let the mobile service call {function}")),
                _ => Error::Server { host: r.host(), message: format!("{code}: {}", one_line(message)) },
            });
        }
        Ok(v)
    }

    /// `call` with the account's name in "sign in again".
    async fn api(&self, s: &Session<'_>, token: &Secret, function: &str, params: &[(&str, &str)]) -> Result<Value> {
        self.call(s.http, &s.base_url()?, token, function, params).await.map_err(|e| match e {
            Error::SignInAgain { why, .. } => s.sign_in_again(why),
            e => e,
        })
    }

    async fn site_info(&self, http: &Http, base: &Url, token: &Secret) -> Result<SiteInfo> {
        let v = self.call(http, base, token, "core_webservice_get_site_info", &[]).await?;
        serde_json::from_value(v)
            .map_err(|e| Error::bad_response(crate::model::host_of(base.as_str()), format!("expected site info ({e})")))
    }

    // ---- the web session ----

    /// Signs in through the login form. `Blocked` when the site will not let a password in
    /// through the form (SSO only, MFA, a policy to accept, a password to change, refused).
    async fn web_login(&self, w: &mut WebSession, base: &Url, username: &str, password: &Secret) -> Result<(), WebError> {
        w.clear();
        let opened = w.open(join(base, LOGIN_PAGE)).await?;
        if let Some(b) = blocked_by_redirect(base, &opened) {
            return Err(WebError::Blocked(b));
        }
        let page = pages::login_page(&opened.response.text());
        let Some(form) = page.form else {
            let idps =
                if page.identity_providers.is_empty() { String::new() } else { format!(" ({})", page.identity_providers.join(", ")) };
            return Err(WebError::Blocked(Blocked(format!(
                "the site's login page has no password form: it signs in only through single sign-on{idps}"
            ))));
        };
        let action = form.action.as_deref().and_then(|a| opened.response.url.join(a).ok()).unwrap_or_else(|| join(base, LOGIN_PAGE));
        let mut body = fields(&form.hidden);
        body.retain(|(k, _)| k != "username" && k != "password");
        body.push(("username".into(), username.to_string()));
        body.push(("password".into(), password.expose().to_string()));
        let r = w.post_form(action, &body).await?;
        let done = w.follow(r).await?;
        if let Some(b) = blocked_by_redirect(base, &done) {
            return Err(WebError::Blocked(b));
        }
        let info = pages::page_info(&done.response.text());
        if info.body_id.as_deref() == Some("page-login-index") {
            let said = pages::login_page(&done.response.text()).error.unwrap_or_else(|| "no reason given".into());
            return Err(WebError::Blocked(Blocked(format!("the site's login form refused the password (it said: {said})"))));
        }
        if !done.response.is_success() {
            return Err(WebError::Fatal(done.response.unexpected()));
        }
        Ok(())
    }

    /// A page of the site as the signed-in user: with the kept session, else after a fresh
    /// login with the kept password. `None` for a 404 (the page does not exist on this version).
    async fn page(
        &self,
        w: &mut WebSession,
        stored: &Stored,
        base: &Url,
        path: &str,
        logged_in_now: &mut bool,
    ) -> Result<Option<Response>, WebError> {
        loop {
            if !w.has_cookies() {
                self.web_login(w, base, &stored.username, &stored.password).await?;
                *logged_in_now = true;
            }
            let opened = w.open(join(base, path)).await?;
            if let Some(b) = blocked_by_redirect(base, &opened) {
                return Err(WebError::Blocked(b));
            }
            let r = opened.response;
            if r.status.as_u16() == 404 {
                return Ok(None);
            }
            let at_login = r.url.path().ends_with(LOGIN_PAGE) || pages::page_info(&r.text()).body_id.as_deref() == Some("page-login-index");
            if at_login {
                if *logged_in_now {
                    return Err(WebError::Blocked(Blocked("the site sends Keyward back to its login page right after signing in".into())));
                }
                w.clear();
                continue;
            }
            if !r.is_success() {
                return Err(WebError::Fatal(r.unexpected()));
            }
            return Ok(Some(r));
        }
    }

    /// Saves the web session's cookies when they changed.
    async fn keep_cookies(&self, s: &Session<'_>, stored: &mut Stored, w: &WebSession) -> Result<()> {
        let before = stored.cookies.as_ref().map(|c| c.expose().to_string());
        stored.set_cookies(w.cookies());
        let after = stored.cookies.as_ref().map(|c| c.expose().to_string());
        if before != after {
            s.save(&*stored).await?;
        }
        Ok(())
    }

    // ---- listing ----

    async fn push_devices(&self, s: &Session<'_>, token: &Secret, allowed: &Allowed) -> Result<(Vec<Credential>, Vec<Gap>)> {
        let profile = join(&s.base_url()?, PROFILE_PAGE).to_string();
        if !allowed.has("message_airnotifier_get_user_devices") {
            return Ok((
                vec![],
                vec![Gap {
                    message: "This site does not let the mobile service list push devices, so Keyward cannot show them".into(),
                    url: Some(profile),
                    remedy: None,
                }],
            ));
        }
        let v = self.api(s, token, "message_airnotifier_get_user_devices", &[("appid", APP_ID)]).await?;
        let answer: DevicesAnswer =
            serde_json::from_value(v).map_err(|e| Error::bad_response(s.account.host(), format!("expected a device list ({e})")))?;
        let mut gaps = Vec::new();
        if answer.warnings.iter().any(|w| w.warningcode.as_deref() == Some("systemnotconfigured")) {
            gaps.push(Gap {
                message: "This site has no push notification server set up, so Moodle does not list push devices (any that are registered stay unseen)".into(),
                url: None,
                remedy: None,
            });
        } else if let Some(w) = answer.warnings.first() {
            gaps.push(Gap {
                message: format!(
                    "Moodle warned while listing push devices: {}",
                    one_line(w.message.as_deref().unwrap_or("no reason given"))
                ),
                url: None,
                remedy: None,
            });
        }
        let removable = allowed.has("core_user_remove_user_device");
        let creds = answer.devices.into_iter().map(|d| device_credential(d, removable, &profile)).collect();
        Ok((creds, gaps))
    }

    /// Everything the web pages show. `Err(WebError::Blocked)` when they cannot be used.
    async fn pages_credentials(
        &self,
        s: &Session<'_>,
        stored: &mut Stored,
        w: &mut WebSession,
    ) -> Result<(Vec<Credential>, Vec<Gap>, bool), WebError> {
        let base = s.base_url()?;
        let mut fresh = false;
        let mut creds = Vec::new();
        let mut gaps = Vec::new();
        let sessions_url = join(&base, SESSIONS_PAGE).to_string();
        let keys_url = join(&base, KEYS_PAGE).to_string();

        let r = self.page(w, stored, &base, SESSIONS_PAGE, &mut fresh).await?;
        let now = Utc::now();
        let mut others = false;
        match r {
            None => gaps.push(Gap {
                message: "This site has no browser sessions page (the user sessions report is turned off)".into(),
                url: None,
                remedy: None,
            }),
            Some(r) => {
                let page = pages::sessions_page(&r.text(), &r.url).map_err(|u| WebError::Fatal(unrecognised(&base, u)))?;
                let zone = page.info.timezone.clone();
                for (i, row) in page.rows.into_iter().enumerate() {
                    let c = session_credential(row, i, zone.as_deref(), now, &sessions_url);
                    others |= !c.current && c.actions.revoke;
                    creds.push(c);
                }
            }
        }

        let r = self.page(w, stored, &base, KEYS_PAGE, &mut fresh).await?;
        if let Some(r) = r {
            let page = pages::keys_page(&r.text(), &r.url).map_err(|u| WebError::Fatal(unrecognised(&base, u)))?;
            let zone = page.info.timezone.clone();
            match page.tokens {
                None => gaps.push(Gap {
                    message: "This site does not show you web service tokens (only users allowed to create tokens, usually managers, see them), so Keyward's own mobile-service token and any others are not listed".into(),
                    url: Some(keys_url.clone()),
                    remedy: None,
                }),
                Some(rows) => {
                    let mobile = rows.iter().filter(|t| t.service == MOBILE_SERVICE_NAME).count();
                    for (i, row) in rows.into_iter().enumerate() {
                        creds.push(token_credential(row, i, zone.as_deref(), mobile, &keys_url));
                    }
                }
            }
            if let Some(Some(rss)) = page.rss {
                creds.push(rss_credential(&rss, &keys_url));
            }
        }

        if let Some(r) = self.page(w, stored, &base, PATS_PAGE, &mut fresh).await? {
            let pats_url = join(&base, PATS_PAGE).to_string();
            let page = pages::pats_page(&r.text()).map_err(|u| WebError::Fatal(unrecognised(&base, u)))?;
            let zone = page.info.timezone.clone();
            for (i, row) in page.rows.into_iter().enumerate() {
                creds.push(pat_credential(row, i, zone.as_deref(), &pats_url));
            }
        }
        Ok((creds, gaps, others))
    }

    // ---- revoking on pages ----

    /// Opens a page that must be there, read with `read`; unrecognised layouts are errors.
    async fn read<T>(
        &self,
        w: &mut WebSession,
        stored: &Stored,
        base: &Url,
        path: &str,
        read: impl Fn(&str, &Url) -> Result<T, Unrecognised>,
    ) -> Result<(T, Url)> {
        let mut fresh = false;
        match self.page(w, stored, base, path, &mut fresh).await {
            Ok(Some(r)) => Ok((read(&r.text(), &r.url).map_err(|u| unrecognised(base, u))?, r.url.clone())),
            Ok(None) => Err(Error::unsupported(format!("this Moodle site has no page {path}"))),
            Err(WebError::Blocked(b)) => Err(Error::unsupported(format!("Keyward cannot use this site's web pages: {}", b.0))),
            Err(WebError::Fatal(e)) => Err(e),
        }
    }

    async fn revoke_sessions(&self, w: &mut WebSession, stored: &Stored, base: &Url, ids: &[String]) -> Result<Vec<Revoked>> {
        let (page, at) = self.read(w, stored, base, SESSIONS_PAGE, pages::sessions_page).await?;
        let mut results = Vec::new();
        let mut tried = Vec::new();
        for id in ids {
            let sid = id.trim_start_matches("session-");
            match page.rows.iter().find(|r| r.id.as_deref() == Some(sid)).and_then(|r| r.logout_href.clone()) {
                None => results.push(Revoked::failed(id, "it is no longer listed on the sessions page")),
                Some(href) => {
                    let url =
                        at.join(&href).map_err(|_| Error::bad_response(crate::model::host_of(base.as_str()), "a bad log out link"))?;
                    let r = w.get(url).await?;
                    w.follow(r).await?;
                    tried.push(id.clone());
                }
            }
        }
        if !tried.is_empty() {
            let (after, _) = self.read(w, stored, base, SESSIONS_PAGE, pages::sessions_page).await?;
            for id in tried {
                let sid = id.trim_start_matches("session-");
                if after.rows.iter().any(|r| r.id.as_deref() == Some(sid)) {
                    results.push(Revoked::failed(&id, "Moodle did not sign it out: the sessions page still lists it"));
                } else {
                    results.push(Revoked::ok(&id));
                }
            }
        }
        Ok(results)
    }

    /// Resets one web service token through its confirmation form, then checks it is gone.
    async fn reset_token(&self, w: &mut WebSession, stored: &Stored, base: &Url, id: &str) -> Result<Revoked> {
        let (page, at) = self.read(w, stored, base, KEYS_PAGE, pages::keys_page).await?;
        let rows = page.tokens.unwrap_or_default();
        let Some(row) = rows.iter().find(|t| token_id(t, 0) == id) else {
            return Ok(Revoked::failed(id, "it is no longer listed on the security keys page"));
        };
        let Some(href) = row.reset_href.clone() else {
            return Ok(Revoked::failed(id, "the security keys page offers no reset for it"));
        };
        let url = at.join(&href).map_err(|_| Error::bad_response(crate::model::host_of(base.as_str()), "a bad reset link"))?;
        self.confirm(w, url, base).await?;
        let (after, _) = self.read(w, stored, base, KEYS_PAGE, pages::keys_page).await?;
        if after.tokens.unwrap_or_default().iter().any(|t| token_id(t, 0) == id) {
            return Ok(Revoked::failed(id, "Moodle did not reset it: the security keys page still lists it"));
        }
        Ok(Revoked::ok(id))
    }

    async fn reset_rss(&self, w: &mut WebSession, stored: &Stored, base: &Url, id: &str) -> Result<Revoked> {
        let (page, at) = self.read(w, stored, base, KEYS_PAGE, pages::keys_page).await?;
        let Some(Some(before)) = page.rss else {
            return Ok(Revoked::failed(id, "the security keys page no longer shows an RSS key"));
        };
        let Some(href) = before.reset_href.clone() else {
            return Ok(Revoked::failed(id, "the security keys page offers no reset for the RSS key"));
        };
        let url = at.join(&href).map_err(|_| Error::bad_response(crate::model::host_of(base.as_str()), "a bad reset link"))?;
        self.confirm(w, url, base).await?;
        let (after, _) = self.read(w, stored, base, KEYS_PAGE, pages::keys_page).await?;
        match after.rss {
            Some(Some(k)) if k.fingerprint == before.fingerprint => {
                Ok(Revoked::failed(id, "Moodle did not reset it: the page shows the same key"))
            }
            _ => Ok(Revoked::ok(id)),
        }
    }

    /// Opens a reset link, and submits the confirmation form it answers with.
    async fn confirm(&self, w: &mut WebSession, url: Url, base: &Url) -> Result<()> {
        let opened = w.open(url).await?;
        let Some(form) = pages::confirm_form(&opened.response.text()) else {
            return Err(unrecognised(
                base,
                Unrecognised("the reset link did not show Moodle's confirmation form; nothing was reset".into()),
            ));
        };
        let action = form.action.as_deref().and_then(|a| opened.response.url.join(a).ok()).unwrap_or_else(|| opened.response.url.clone());
        let r = w.post_form(action, &fields(&form.hidden)).await?;
        let done = w.follow(r).await?;
        // The answer shows the new token once; it is dropped here, never read or kept.
        drop(done);
        Ok(())
    }

    async fn revoke_pat(&self, w: &mut WebSession, stored: &Stored, base: &Url, id: &str) -> Result<Revoked> {
        let (page, at) = self.read(w, stored, base, PATS_PAGE, |h, _| pages::pats_page(h)).await?;
        let Some(row) = page.rows.iter().enumerate().find(|(i, r)| pat_id(r, *i) == id).map(|(_, r)| r.clone()) else {
            return Ok(Revoked::failed(id, "it is no longer listed on the personal access tokens page"));
        };
        let Some(form) = row.revoke else {
            return Ok(Revoked::failed(id, "the page offers no revoke for it"));
        };
        let action = form.action.as_deref().and_then(|a| at.join(a).ok()).unwrap_or(at.clone());
        let r = w.post_form(action, &fields(&form.hidden)).await?;
        w.follow(r).await?;
        let (after, _) = self.read(w, stored, base, PATS_PAGE, |h, _| pages::pats_page(h)).await?;
        if after.rows.iter().enumerate().any(|(i, r)| pat_id(r, i) == id) {
            return Ok(Revoked::failed(id, "Moodle did not revoke it: the page still lists it"));
        }
        Ok(Revoked::ok(id))
    }

    async fn remove_devices(&self, s: &Session<'_>, token: &Secret, ids: &[String]) -> Result<Vec<Revoked>> {
        let v = self.api(s, token, "message_airnotifier_get_user_devices", &[("appid", APP_ID)]).await?;
        let answer: DevicesAnswer =
            serde_json::from_value(v).map_err(|e| Error::bad_response(s.account.host(), format!("expected a device list ({e})")))?;
        let mut results = Vec::new();
        for id in ids {
            let Some(d) = answer.devices.iter().find(|d| format!("push-{}", d.id) == *id) else {
                results.push(Revoked::failed(id, "it is already gone"));
                continue;
            };
            let out = self.api(s, token, "core_user_remove_user_device", &[("uuid", &d.uuid), ("appid", &d.appid)]).await;
            results.push(match out.map(serde_json::from_value::<RemoveAnswer>) {
                Ok(Ok(a)) if a.removed => Revoked::ok(id),
                Ok(Ok(a)) => Revoked::failed(
                    id,
                    match a.warnings.first().and_then(|w| w.warningcode.as_deref()) {
                        Some("devicedoesnotexist") => "Moodle says the device is already gone".to_string(),
                        _ => format!(
                            "Moodle did not remove it ({})",
                            a.warnings.first().and_then(|w| w.message.clone()).unwrap_or_else(|| "no reason given".into())
                        ),
                    },
                ),
                Ok(Err(_)) => Revoked::failed(id, "Moodle's answer was not a removal result"),
                Err(e) => Revoked::failed(id, e),
            });
        }
        Ok(results)
    }
}

/// Where a chain of redirects shows that the pages cannot be used with a password.
fn blocked_by_redirect(base: &Url, f: &Followed) -> Option<Blocked> {
    let host = crate::model::host_of(base.as_str());
    for u in &f.chain {
        let p = u.path();
        if crate::model::host_of(u.as_str()) != host {
            return Some(Blocked(format!(
                "the site sends its login to another site ({}): single sign-on, which Keyward cannot do",
                crate::model::host_of(u.as_str())
            )));
        }
        if p.contains("/admin/tool/mfa/") {
            return Some(Blocked("the site asks for a second factor (multi-factor authentication) after the password".into()));
        }
        if p.ends_with("/login/change_password.php") || p.contains("forceresetpassword") {
            return Some(Blocked("the site requires a password change: sign in once in a browser and change it".into()));
        }
        if p.ends_with("/user/policy.php") || p.contains("/admin/tool/policy/") {
            return Some(Blocked("the site has a policy to accept: sign in once in a browser and accept it".into()));
        }
    }
    None
}

fn rename_why_not(what: &str, url: &str) -> String {
    format!("Moodle offers no way to rename {what}; the closest page is {url}")
}

fn device_credential(d: Device, removable: bool, profile: &str) -> Credential {
    let mut c = Credential::new(format!("push-{}", d.id), CredentialKind::PushRegistration);
    c.name = d.name.clone().filter(|n| !n.is_empty());
    c.hints = ClientHints {
        device_name: d.name.clone().filter(|n| !n.is_empty()),
        app_id: Some(d.appid.clone()),
        model: d.model.clone().filter(|m| !m.is_empty()),
        platform: d.platform.clone().filter(|p| !p.is_empty()),
        version: d.version.clone().filter(|v| !v.is_empty()),
        ..Default::default()
    };
    c.created = time(d.timecreated);
    c.last_used = time(d.timemodified);
    c.last_used_meaning = LastUsedMeaning::Modified;
    c.details.push(Fact::new("App ID", d.appid.clone()));
    if let Some(m) = &c.hints.model {
        c.details.push(Fact::new("Model", m.clone()));
    }
    if let Some(p) = &c.hints.platform {
        c.details.push(Fact::new("Platform", p.clone()));
    }
    if let Some(v) = &c.hints.version {
        c.details.push(Fact::new("OS version", v.clone()));
    }
    if let Some(e) = d.enable {
        c.details.push(Fact::new("Notifications", if e == 1 { "on" } else { "off" }));
    }
    c.manage_url = Some(profile.to_string());
    c.actions = Actions {
        rename: false,
        revoke: removable,
        why_not: Some(if removable {
            rename_why_not("a push device (it takes the name the phone gives itself)", profile)
        } else {
            "This site does not let the mobile service remove push devices (core_user_remove_user_device is not allowed)".into()
        }),
        ..Default::default()
    };
    c
}

fn session_credential(row: pages::SessionRow, i: usize, zone: Option<&str>, now: DateTime<Utc>, url: &str) -> Credential {
    let id = match (&row.id, row.current) {
        (_, true) => "session-current".to_string(),
        (Some(id), false) => format!("session-{id}"),
        (None, false) => format!("session-row{i}"),
    };
    let mut c = Credential::new(id, CredentialKind::Session);
    c.current = row.current;
    c.created = pages::moodle_time(&row.login_text, zone);
    c.last_used = if row.current { Some(now) } else { pages::moodle_ago(&row.last_access_text, now) };
    c.tracks_use = true;
    c.last_ip = row.last_ip.clone();
    if row.current {
        c.name = Some("Keyward's own web session".into());
    }
    c.details.push(Fact::new("Logged in (as Moodle shows it)", row.login_text.clone()));
    if !row.current {
        c.details.push(Fact::new("Last access (as Moodle shows it)", row.last_access_text.clone()));
    }
    match zone {
        Some(z) if c.created.is_some() => c.details.push(Fact::new("Time zone of the page", z)),
        _ => c.details.push(Fact::new("Login time", "shown in a time zone or format Keyward cannot read, so kept as Moodle wrote it")),
    }
    c.details.push(Fact::new("User agent", "not recorded by Moodle"));
    c.manage_url = Some(url.to_string());
    let rename = rename_why_not("a browser session", url);
    c.actions = match (row.current, &row.logout_href) {
        (true, _) => Actions {
            revoke: false,
            why_not: Some("Moodle's sessions page cannot sign out the session it is viewed with: this is Keyward's own, which ends when you remove the account with --sign-out".into()),
            ..Default::default()
        },
        (false, Some(_)) => Actions { revoke: true, why_not: Some(rename), ..Default::default() },
        (false, None) => Actions { revoke: false, why_not: Some(format!("The sessions page offers no log out for this session: {url}")), ..Default::default() },
    };
    c
}

fn token_id(t: &pages::TokenRow, i: usize) -> String {
    match (&t.id, &t.name) {
        (Some(id), _) => format!("wstoken-{id}"),
        (None, Some(name)) => format!("wstoken-{}", name.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")),
        (None, None) => format!("wstoken-row{i}"),
    }
}

fn token_credential(t: pages::TokenRow, i: usize, zone: Option<&str>, mobile_rows: usize, url: &str) -> Credential {
    let mut c = Credential::new(token_id(&t, i), CredentialKind::ApiToken);
    let is_mobile = t.service == MOBILE_SERVICE_NAME;
    c.name = t.name.clone().or_else(|| Some(t.service.clone()));
    c.hints = ClientHints { app_name: Some(t.service.clone()), note: t.name.clone(), ..Default::default() };
    // Moodle hands its mobile-service token to every app of the user: with one such token, it is
    // the one Keyward signed in with.
    c.current = is_mobile && mobile_rows == 1;
    c.details.push(Fact::new("Service", t.service.clone()));
    if let Some(cr) = &t.creator {
        c.details.push(Fact::new("Created by", cr.clone()));
    }
    if t.valid_until_text.is_empty() {
        c.never_expires = true;
    } else {
        c.expires = pages::moodle_time(&t.valid_until_text, zone);
        c.details.push(Fact::new("Valid until (as Moodle shows it)", t.valid_until_text.clone()));
    }
    if let Some(last) = &t.last_access_text {
        c.tracks_use = true;
        if !last.is_empty() {
            c.last_used = pages::moodle_time(last, zone);
            c.details.push(Fact::new("Last access (as Moodle shows it)", last.clone()));
        }
    }
    if is_mobile && mobile_rows > 1 {
        c.details.push(Fact::new("Keyward", "one of the mobile-service tokens is Keyward's own; the page does not say which"));
    }
    c.manage_url = Some(url.to_string());
    let mut warning = "Moodle has no delete for tokens here, only Reset: this token stops working and Moodle makes a new one for the same service (shown once on its page; Keyward does not keep it)".to_string();
    if is_mobile {
        warning = format!("Moodle gives this same token to every Moodle app signed in as you, your phone included, and to Keyward: they will all be signed out. {warning}");
    }
    c.actions = Actions {
        rename: false,
        revoke: t.reset_href.is_some(),
        revoke_warning: Some(warning),
        why_not: Some(match (&t.reset_href, &t.creator) {
            (Some(_), _) => rename_why_not("a web service token (its name is generated)", url),
            (None, Some(cr)) => format!("Only the person who made this token ({cr}) can reset it: ask them or a site administrator"),
            (None, None) => "Only the person who made this token can reset it: ask a site administrator".into(),
        }),
        ..Default::default()
    };
    c
}

fn rss_credential(k: &pages::RssKey, url: &str) -> Credential {
    let mut c = Credential::new("rsskey", CredentialKind::Key);
    c.name = Some("RSS feed key".into());
    c.details.push(Fact::new("Used by", "every RSS feed address of this site that you subscribed to"));
    c.manage_url = Some(url.to_string());
    c.actions = Actions {
        revoke: k.reset_href.is_some(),
        revoke_warning: Some("Every RSS feed address made with this key stops working; Moodle makes a new key for new addresses".into()),
        why_not: Some(rename_why_not("the RSS key", url)),
        ..Default::default()
    };
    c
}

fn pat_id(r: &pages::PatRow, i: usize) -> String {
    match &r.id {
        Some(id) => format!("pat-{id}"),
        None => format!("pat-row{i}"),
    }
}

fn pat_credential(r: pages::PatRow, i: usize, zone: Option<&str>, url: &str) -> Credential {
    let mut c = Credential::new(pat_id(&r, i), CredentialKind::ApiToken);
    c.name = Some(r.name.clone()).filter(|n| !n.is_empty());
    c.hints = ClientHints { note: c.name.clone(), ..Default::default() };
    if let Some(d) = &r.description {
        c.details.push(Fact::new("Description", d.clone()));
    }
    if let Some(sc) = &r.scopes {
        c.restrictions = sc.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    }
    match r.expires_text.as_deref() {
        None | Some("Never") | Some("never") => c.never_expires = r.expires_text.is_some(),
        Some(t) => {
            c.expires = pages::moodle_time(t, zone);
            c.details.push(Fact::new("Expires (as Moodle shows it)", t));
        }
    }
    c.tracks_use = true;
    if let Some(t) = r.last_access_text.as_deref().filter(|t| !t.eq_ignore_ascii_case("never")) {
        c.last_used = pages::moodle_time(t, zone);
        c.details.push(Fact::new("Last accessed (as Moodle shows it)", t));
    }
    c.manage_url = Some(url.to_string());
    c.actions = Actions { revoke: r.revoke.is_some(), why_not: Some(rename_why_not("a personal access token", url)), ..Default::default() };
    c
}

#[async_trait]
impl Provider for Moodle {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            kind: KIND,
            display_name: "Moodle",
            sign_in: &[SignInMethod::Password],
            token_label: "password",
            revoke: true,
            revoke_all_others: true,
            sign_out: true,
            ..Default::default()
        }
    }

    async fn probe(&self, http: &Http, url: &Url) -> Result<Option<Url>> {
        let mut u = join(url, "login/token.php");
        u.set_query(Some("appsitecheck=1"));
        let r = http.send(http.get(u)).await?;
        let Some(v) = r.json_value() else { return Ok(None) };
        if v.get("appsitecheck").is_some() || (v.get("errorcode").is_some() && v.get("error").is_some()) {
            return Ok(Some(url.clone()));
        }
        Ok(None)
    }

    async fn sign_in(&self, http: &Http, req: SignInRequest) -> Result<SignedIn> {
        let SignInSecret::Password(password) = req.secret else {
            return Err(Error::input("Moodle accounts sign in with a password (--password-stdin)"));
        };
        let base = req.url.clone();
        let host = crate::model::host_of(base.as_str());
        let account_name = format!("{}@{host}", req.login);
        let form = [("username", req.login.as_str()), ("password", password.expose()), ("service", SERVICE)];
        let r = http.send(http.post(join(&base, "login/token.php")).form(&form)).await?;
        let answer: TokenAnswer = match serde_json::from_slice(&r.body) {
            Ok(a) if r.is_success() => a,
            _ => {
                return Err(Error::NotThisKind {
                    url: base_string(&base),
                    kind: "Moodle",
                    detail: Some("no Moodle token service at /login/token.php".into()),
                })
            }
        };
        let token = match (answer.token, answer.errorcode.as_deref()) {
            (Some(t), _) if !t.is_empty() => Secret::new(t),
            (_, Some("invalidlogin")) => {
                let mut w = WebSession::new(&base, BTreeMap::new());
                if let Ok(f) = w.open(join(&base, LOGIN_PAGE)).await {
                    let page = pages::login_page(&f.response.text());
                    if page.form.is_none() && f.response.is_success() {
                        return Err(Error::SignInMethod {
                            message: format!("{host} signs in only through single sign-on, which Keyward cannot do: it needs a Moodle username and password"),
                            remedy: None,
                        });
                    }
                }
                return Err(Error::WrongPassword { account: account_name });
            }
            (_, Some("enablewsdescription" | "servicenotavailable")) => {
                return Err(Error::Unsupported {
                    message: format!(
                        "{host} has its mobile web service turned off, and Keyward signs in through it: a site administrator can turn on \"Enable web services for mobile devices\" (Site administration › Mobile app › Mobile settings); nothing was changed"
                    ),
                    remedy: Some(Remedy::AskAdmin),
                })
            }
            (_, code) => {
                return Err(Error::Server {
                    host,
                    message: format!("{}: {}", code.unwrap_or("error"), one_line(answer.error.as_deref().unwrap_or("no token in the answer"))),
                })
            }
        };
        let info = self.site_info(http, &base, &token).await.map_err(|e| match e {
            Error::SignInAgain { .. } => {
                Error::Server { host: host.clone(), message: "the site refused the token it had just given".into() }
            }
            e => e,
        })?;
        let mut w = WebSession::new(&base, BTreeMap::new());
        let web = self.web_login(&mut w, &base, &req.login, &password).await;
        let mut facts = Vec::new();
        if let Some(n) = &info.sitename {
            facts.push(Fact::new("Site", n.clone()));
        }
        if let Some(r) = &info.release {
            facts.push(Fact::new("Moodle release", r.clone()));
        }
        if let Some(n) = &info.fullname {
            facts.push(Fact::new("User", n.clone()));
        }
        let mut stored = Stored { token, username: req.login.clone(), password, cookies: None };
        match web {
            Ok(()) => {
                stored.set_cookies(w.cookies());
                facts.push(Fact::new("Web pages", "signed in (browser sessions, security keys)"));
            }
            Err(WebError::Blocked(b)) => facts.push(Fact::new("Web pages", format!("not available: {}; push devices still work", b.0))),
            Err(WebError::Fatal(e)) => return Err(e),
        }
        Ok(SignedIn {
            base_url: base,
            user_id: info.username,
            own_credential: None,
            server_facts: facts,
            stored: crate::provider::to_stored(&stored)?,
        })
    }

    async fn list(&self, s: &Session<'_>) -> Result<Found> {
        let mut stored: Stored = s.load().await?;
        let base = s.base_url()?;
        let info = self.site_info(s.http, &base, &stored.token).await.map_err(|e| match e {
            Error::SignInAgain { why, .. } => s.sign_in_again(why),
            e => e,
        })?;
        let allowed = Allowed(info.functions.into_iter().map(|f| f.name).collect());
        let (mut credentials, mut gaps) = self.push_devices(s, &stored.token, &allowed).await?;
        let mut w = WebSession::new(&base, stored.cookie_map());
        let sessions_url = join(&base, SESSIONS_PAGE).to_string();
        let mut account_actions = AccountActions { manage_url: Some(sessions_url.clone()), ..Default::default() };
        match self.pages_credentials(s, &mut stored, &mut w).await {
            Ok((creds, more_gaps, others)) => {
                credentials.extend(creds);
                gaps.extend(more_gaps);
                account_actions.revoke_all_others = others;
            }
            Err(WebError::Blocked(b)) => gaps.push(Gap {
                message: format!(
                    "Browser sessions, web service tokens and the RSS key are only on Moodle's web pages, and Keyward cannot sign in to them: {}. Push devices are still listed",
                    b.0
                ),
                url: Some(sessions_url),
                remedy: None,
            }),
            Err(WebError::Fatal(e)) => return Err(e),
        }
        self.keep_cookies(s, &mut stored, &w).await?;
        gaps.push(Gap {
            message: "OAuth 2 linked logins are not read by Keyward yet: see them on the site".into(),
            url: Some(join(&base, "auth/oauth2/linkedlogins.php").to_string()),
            remedy: None,
        });
        let own_credential = credentials.iter().find(|c| c.current && c.kind == CredentialKind::ApiToken).map(|c| c.id.clone());
        Ok(Found { credentials, gaps, account_actions, own_credential })
    }

    async fn revoke(&self, s: &Session<'_>, ids: &[String], _proof: &Proof) -> Result<Vec<Revoked>> {
        let mut stored: Stored = s.load().await?;
        let base = s.base_url()?;
        let mut w = WebSession::new(&base, stored.cookie_map());
        let mut results = Vec::new();
        let push: Vec<String> = ids.iter().filter(|i| i.starts_with("push-")).cloned().collect();
        let sessions: Vec<String> = ids.iter().filter(|i| i.starts_with("session-")).cloned().collect();
        if !push.is_empty() {
            results.extend(self.remove_devices(s, &stored.token, &push).await?);
        }
        if !sessions.is_empty() {
            results.extend(self.revoke_sessions(&mut w, &stored, &base, &sessions).await?);
        }
        // Tokens last: resetting Keyward's own token ends its API access.
        for id in ids.iter().filter(|i| i.starts_with("pat-")) {
            results.push(self.revoke_pat(&mut w, &stored, &base, id).await?);
        }
        if ids.iter().any(|i| i == "rsskey") {
            results.push(self.reset_rss(&mut w, &stored, &base, "rsskey").await?);
        }
        for id in ids.iter().filter(|i| i.starts_with("wstoken-")) {
            results.push(self.reset_token(&mut w, &stored, &base, id).await?);
        }
        for id in ids {
            if !results.iter().any(|r| &r.id == id) {
                results.push(Revoked::failed(id, "Keyward does not know this kind of Moodle credential"));
            }
        }
        self.keep_cookies(s, &mut stored, &w).await?;
        Ok(results)
    }

    async fn revoke_all_others(&self, s: &Session<'_>, _proof: &Proof) -> Result<Vec<Revoked>> {
        let mut stored: Stored = s.load().await?;
        let base = s.base_url()?;
        let mut w = WebSession::new(&base, stored.cookie_map());
        let (page, at) = self.read(&mut w, &stored, &base, SESSIONS_PAGE, pages::sessions_page).await?;
        let others: Vec<String> =
            page.rows.iter().filter(|r| !r.current).filter_map(|r| r.id.clone()).map(|id| format!("session-{id}")).collect();
        if others.is_empty() {
            self.keep_cookies(s, &mut stored, &w).await?;
            return Ok(Vec::new());
        }
        let results = match page.delete_all {
            // Moodle 4.3 has no "log out all others": one by one.
            None => self.revoke_sessions(&mut w, &stored, &base, &others).await?,
            Some(all) => {
                let r = match all {
                    pages::DeleteAll::Link(href) => {
                        let url = at.join(&href).map_err(|_| Error::bad_response(s.account.host(), "a bad log out link"))?;
                        w.get(url).await?
                    }
                    pages::DeleteAll::Form(f) => {
                        let action = f.action.as_deref().and_then(|a| at.join(a).ok()).unwrap_or(at.clone());
                        if f.method == "post" {
                            w.post_form(action, &fields(&f.hidden)).await?
                        } else {
                            let mut u = action;
                            u.query_pairs_mut().extend_pairs(f.hidden.iter());
                            w.get(u).await?
                        }
                    }
                };
                w.follow(r).await?;
                let (after, _) = self.read(&mut w, &stored, &base, SESSIONS_PAGE, pages::sessions_page).await?;
                others
                    .iter()
                    .map(|id| {
                        let sid = id.trim_start_matches("session-");
                        if after.rows.iter().any(|r| r.id.as_deref() == Some(sid)) {
                            Revoked::failed(id, "Moodle did not sign it out: the sessions page still lists it")
                        } else {
                            Revoked::ok(id)
                        }
                    })
                    .collect()
            }
        };
        self.keep_cookies(s, &mut stored, &w).await?;
        Ok(results)
    }

    /// Ends Keyward's web session (Moodle's logout needs the sesskey). The mobile token stays:
    /// it is the user's phone's token too, and revoking it is a separate, warned action.
    async fn sign_out(&self, s: &Session<'_>) -> Result<()> {
        let stored: Stored = s.load().await?;
        let base = s.base_url()?;
        let cookies = stored.cookie_map();
        if cookies.is_empty() {
            return Ok(());
        }
        let mut w = WebSession::new(&base, cookies);
        let opened = w.open(join(&base, SESSIONS_PAGE)).await?;
        let info = pages::page_info(&opened.response.text());
        let Some(key) = info.sesskey.filter(|_| opened.response.is_success() && info.body_id.as_deref() == Some(pages::SESSIONS_BODY))
        else {
            // Not signed in any more: nothing to end.
            return Ok(());
        };
        let mut u = join(&base, "login/logout.php");
        u.query_pairs_mut().append_pair("sesskey", &key);
        let r = w.get(u).await?;
        w.follow(r).await?;
        Ok(())
    }
}
