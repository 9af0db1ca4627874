//! Keyward's own web session on a Moodle site: the login form, the kept cookies, and opening a
//! page as the signed-in user (signing in again with the kept password when the session expired).
//!
//! Browser sessions, web service tokens and the RSS key exist only on pages, so the provider keeps
//! one browser-like session per account (its cookies in the keyring, see `stored.rs`) and reuses
//! it; Moodle then lists it as "Current session". When the site will not let a password in through
//! the form (single sign-on only, a second factor, a policy to accept, a password to change), that
//! is [`Blocked`], a reason in words, never a guess. A login the user has not allowed because it
//! would end another of their browser sessions (a concurrent-login limit, see `site.rs`) is not
//! made at all: [`WebError::WouldEndASession`]. What the pages say is read in `pages.rs`; what is
//! done on them, in `revokes.rs`.

use url::Url;

use super::pages::{self, Unrecognised};
use super::stored::Stored;
use crate::error::{Error, Remedy, Result};
use crate::net::http::{join, Response};
use crate::net::web::{Followed, WebSession};
use crate::provider::Session;
use crate::secret::Secret;

pub(super) const LOGIN_PAGE: &str = "login/index.php";

/// Why the web pages cannot be used, in words for people ("the site asks for a second factor").
pub(super) struct Blocked(pub String);

/// A problem reaching a page: the pages cannot be used at all, a login the user has not allowed,
/// or an ordinary error.
pub(super) enum WebError {
    Blocked(Blocked),
    /// Signing in would end another browser session of the user's, and they have not said yes.
    WouldEndASession,
    Fatal(Error),
}

impl From<Error> for WebError {
    fn from(e: Error) -> Self {
        WebError::Fatal(e)
    }
}

/// A page layout the readers do not know, as the error the user sees.
pub(super) fn unrecognised(base: &Url, u: Unrecognised) -> Error {
    Error::bad_response(crate::model::host_of(base.as_str()), format!("a page layout Keyward does not know: {}", u.0))
}

/// The signed-in web session of one account, and what it takes to sign in again.
pub(super) struct Web {
    pub session: WebSession,
    pub base: Url,
    username: String,
    password: Secret,
    /// A new web login is allowed now (no concurrent-login limit bites, or the user said yes).
    may_log_in: bool,
}

impl Web {
    /// The kept session of a stored account. It signs in again when the cookies no longer work,
    /// if `may_log_in`.
    pub fn kept(base: &Url, stored: &Stored, may_log_in: bool) -> Self {
        Web {
            session: WebSession::new(base, stored.cookie_map()),
            base: base.clone(),
            username: stored.username.clone(),
            password: stored.password.clone(),
            may_log_in,
        }
    }

    /// A session with no cookies yet, for a first sign-in.
    pub fn fresh(base: &Url, username: &str, password: &Secret, may_log_in: bool) -> Self {
        Web {
            session: WebSession::new(base, Default::default()),
            base: base.clone(),
            username: username.to_string(),
            password: password.clone(),
            may_log_in,
        }
    }

    /// Signs in through the login form. `Blocked` when the site will not let a password in
    /// through the form (SSO only, MFA, a policy to accept, a password to change, refused).
    pub async fn login(&mut self) -> Result<(), WebError> {
        if !self.may_log_in {
            return Err(WebError::WouldEndASession);
        }
        let base = self.base.clone();
        let w = &mut self.session;
        w.clear();
        let opened = w.open(join(&base, LOGIN_PAGE)).await?;
        if let Some(b) = blocked_by_redirect(&base, &opened) {
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
        let action = form.action.as_deref().and_then(|a| opened.response.url.join(a).ok()).unwrap_or_else(|| join(&base, LOGIN_PAGE));
        let mut body = form.hidden.clone();
        body.retain(|(k, _)| k != "username" && k != "password");
        body.push(("username".into(), self.username.clone()));
        body.push(("password".into(), self.password.expose().to_string()));
        let r = w.post_form(action, &body).await;
        body.iter_mut().for_each(|(_, v)| zeroize::Zeroize::zeroize(v));
        let r = r?;
        let done = w.follow(r).await?;
        if let Some(b) = blocked_by_redirect(&base, &done) {
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
    /// `logged_in_now` is shared by the pages of one operation: a page that sends Keyward back to
    /// the login form right after it signed in is `Blocked`, not a loop.
    pub async fn page(&mut self, path: &str, logged_in_now: &mut bool) -> Result<Option<Response>, WebError> {
        loop {
            if !self.session.has_cookies() {
                self.login().await?;
                *logged_in_now = true;
            }
            let opened = self.session.open(join(&self.base, path)).await?;
            if let Some(b) = blocked_by_redirect(&self.base, &opened) {
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
                self.session.clear();
                continue;
            }
            if !r.is_success() {
                return Err(WebError::Fatal(r.unexpected()));
            }
            return Ok(Some(r));
        }
    }

    /// Opens a page that must be there, read with `read`; unrecognised layouts are errors.
    /// Returns what was read and the URL it was read at (for relative links).
    pub async fn read<T>(&mut self, path: &str, read: impl Fn(&str, &Url) -> Result<T, Unrecognised>) -> Result<(T, Url)> {
        let mut fresh = false;
        match self.page(path, &mut fresh).await {
            Ok(Some(r)) => Ok((read(&r.text(), &r.url).map_err(|u| unrecognised(&self.base, u))?, r.url.clone())),
            Ok(None) => Err(Error::unsupported(format!("this Moodle site has no page {path}"))),
            Err(WebError::Blocked(b)) => Err(Error::unsupported(format!("Keyward cannot use this site's web pages: {}", b.0))),
            Err(WebError::WouldEndASession) => {
                Err(Error::Refused { message: would_end_a_session(), remedy: Some(Remedy::AllowEndingSession) })
            }
            Err(WebError::Fatal(e)) => Err(e),
        }
    }

    /// Saves the web session's cookies in the keyring when they changed.
    pub async fn keep_cookies(&self, s: &Session<'_>, stored: &mut Stored) -> Result<()> {
        let before = stored.cookies.take();
        stored.set_cookies(self.session.cookies());
        if before.as_ref().map(Secret::expose) != stored.cookies.as_ref().map(Secret::expose) {
            s.save(&*stored).await?;
        }
        Ok(())
    }
}

/// Why Keyward did not sign in to the pages, in one sentence.
pub(super) fn would_end_a_session() -> String {
    "this Moodle site limits how many browser sessions you may have at once, and signing Keyward in to its web pages now would sign you out of your oldest one; Keyward has not done it".into()
}

/// Does the site's login page offer no password form (single sign-on only)? Used to tell
/// "wrong password" from "this site takes no password" after token.php said `invalidlogin`.
pub(super) async fn no_password_form(base: &Url) -> bool {
    let mut w = WebSession::new(base, Default::default());
    match w.open(join(base, LOGIN_PAGE)).await {
        Ok(f) => f.response.is_success() && pages::login_page(&f.response.text()).form.is_none(),
        Err(_) => false,
    }
}

/// Ends Keyward's web session (Moodle's logout needs the sesskey). Nothing to do when the kept
/// session has already ended.
pub(super) async fn sign_out(base: &Url, stored: &Stored) -> Result<()> {
    let cookies = stored.cookie_map();
    if cookies.is_empty() {
        return Ok(());
    }
    let mut w = WebSession::new(base, cookies);
    let opened = w.open(join(base, super::SESSIONS_PAGE)).await?;
    let info = pages::page_info(&opened.response.text());
    let Some(key) = info.sesskey.filter(|_| opened.response.is_success() && info.body_id.as_deref() == Some(pages::SESSIONS_BODY)) else {
        return Ok(());
    };
    let mut u = join(base, "login/logout.php");
    u.query_pairs_mut().append_pair("sesskey", &key);
    let r = w.get(u).await?;
    w.follow(r).await?;
    Ok(())
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
