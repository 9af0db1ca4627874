//! h's web login and the one page Keyward needs it for, `/account/developer`.
//!
//! h draws its login form with JavaScript: the page has no inputs, only a `js-config` JSON with the
//! CSRF token. The login posts `username`, `password` and `csrf_token` and answers 302 with the
//! `auth` cookie; the developer page shows the developer token in its own js-config and is a 404,
//! not a redirect, without that cookie. Its POST (no CSRF token, as h has it) makes or replaces
//! the token. `/logout` ends this login only.
//!
//! This file drives the pages and reads them through `wire.rs`; it does not decide what a refusal
//! means for the account (that is `mod.rs`). Cookies live in the [`WebSession`] and, between
//! runs, in the keyring only.

use std::collections::BTreeMap;

use url::Url;

use super::wire::{self, DeveloperPage, LoginRefusal};
use crate::error::{Error, Result};
use crate::model::host_of;
use crate::net::http::{join, one_line, Response};
use crate::net::web::WebSession;
use crate::secret::Secret;

pub const LOGIN_PAGE: &str = "login";
pub const DEVELOPER_PAGE: &str = "account/developer";
pub const ACCOUNT_PAGE: &str = "account";
const LOGOUT: &str = "logout";
/// The cookie h's web pages know a login by.
const AUTH_COOKIE: &str = "auth";

/// A web session with h, signed in or resumed from kept cookies.
pub struct Web {
    w: WebSession,
    base: Url,
}

/// Why the login form did not sign in.
#[derive(Debug)]
pub enum LoginFailed {
    /// Wrong password or no such user (h says which; Keyward does not tell them apart to others).
    WrongPassword,
    /// Anything else, already one plain error.
    Other(Error),
}

impl From<Error> for LoginFailed {
    fn from(e: Error) -> Self {
        LoginFailed::Other(e)
    }
}

impl Web {
    /// A session from cookies kept in the keyring (`name=value; name=value`).
    pub fn resume(base: &Url, cookies: &Secret) -> Self {
        Web { w: WebSession::new(base, cookie_map(cookies)), base: base.clone() }
    }

    /// The cookies to keep, as one secret.
    pub fn cookies(&self) -> Secret {
        cookie_string(self.w.cookies())
    }

    fn host(&self) -> String {
        host_of(self.base.as_str())
    }

    /// Where a redirect goes, refusing one to another host (Keyward does not carry a login there).
    fn same_host_location(&self, r: &Response) -> Result<Option<Url>> {
        match r.location() {
            Some(to) if host_of(to.as_str()) != self.host() => Err(Error::Redirected { host: self.host(), to: host_of(to.as_str()) }),
            other => Ok(other),
        }
    }

    /// Signs in through the login form. Returns the session and the user name h redirected to
    /// (`/users/<name>`), when it did.
    pub async fn login(base: &Url, login: &str, password: &Secret) -> Result<(Web, Option<String>), LoginFailed> {
        let mut web = Web { w: WebSession::new(base, BTreeMap::new()), base: base.clone() };
        let host = web.host();
        let page = web.w.get(join(base, LOGIN_PAGE)).await?;
        web.same_host_location(&page)?;
        if !page.is_success() {
            return Err(page.unexpected().into());
        }
        let csrf = wire::login_page(&page.text())
            .and_then(|p| p.csrf_token)
            .ok_or_else(|| Error::bad_response(host.clone(), "a login page without the CSRF token of its js-config"))?;
        let form = vec![
            ("username".to_string(), login.to_string()),
            ("password".to_string(), password.expose().to_string()),
            ("csrf_token".to_string(), csrf.expose().to_string()),
        ];
        let r = web.w.post_form(join(base, LOGIN_PAGE), &form).await?;
        match r.status.as_u16() {
            301..=303 => {
                let to = web.same_host_location(&r)?;
                if !web.w.cookies().contains_key(AUTH_COOKIE) {
                    return Err(Error::bad_response(host, "the login answered without its login cookie").into());
                }
                Ok((web, to.as_ref().and_then(wire::username_from_redirect)))
            }
            200 => Err(match wire::login_refusal(&r.text()) {
                Some(LoginRefusal::WrongPassword | LoginRefusal::NoSuchUser) => LoginFailed::WrongPassword,
                Some(LoginRefusal::NotActivated) => LoginFailed::Other(Error::SignInMethod {
                    message: format!(
                        "the account on {host} is not activated yet: open the link in the e-mail Hypothesis sent, then sign in again"
                    ),
                    remedy: None,
                }),
                Some(LoginRefusal::Other(said)) => {
                    LoginFailed::Other(Error::Server { host, message: format!("the login form said: {}", one_line(&said)) })
                }
                None => LoginFailed::Other(Error::bad_response(host, "a login answer without the form's errors")),
            }),
            403 => Err(Error::Server { host, message: "the login form refused Keyward's session (its CSRF check)".into() }.into()),
            _ => Err(r.unexpected().into()),
        }
    }

    /// The developer page, or `None` when h does not take this session as signed in (404).
    pub async fn developer_page(&mut self) -> Result<Option<DeveloperPage>> {
        let r = self.w.get(join(&self.base, DEVELOPER_PAGE)).await?;
        self.developer_answer(r)
    }

    /// POSTs the developer page: h makes the developer token, or replaces it with a new value.
    /// The page it answers with shows the token now in force; `None` when not signed in (404).
    pub async fn regenerate(&mut self) -> Result<Option<DeveloperPage>> {
        let r = self.w.post_form(join(&self.base, DEVELOPER_PAGE), &[]).await?;
        self.developer_answer(r)
    }

    fn developer_answer(&self, r: Response) -> Result<Option<DeveloperPage>> {
        self.same_host_location(&r)?;
        match r.status.as_u16() {
            404 => Ok(None),
            200 => wire::developer_page(&r.text())
                .map(Some)
                .ok_or_else(|| Error::bad_response(self.host(), "a developer page without its js-config")),
            _ => Err(r.unexpected()),
        }
    }

    /// Logs this session out (`GET /logout`) and checks, with the cookies it had, that h no longer
    /// takes them as signed in (clearing them here alone would prove nothing).
    pub async fn logout(&mut self) -> Result<()> {
        let had = self.cookies();
        let r = self.w.get(join(&self.base, LOGOUT)).await?;
        if !(r.status.is_redirection() || r.is_success()) {
            return Err(r.unexpected());
        }
        if Web::resume(&self.base, &had).developer_page().await?.is_some() {
            return Err(Error::Server {
                host: self.host(),
                message: "Hypothesis still takes Keyward's web login as signed in after logging out".into(),
            });
        }
        Ok(())
    }
}

fn cookie_map(c: &Secret) -> BTreeMap<String, Secret> {
    c.expose().split(';').filter_map(|p| p.trim().split_once('=')).map(|(k, v)| (k.to_string(), Secret::new(v))).collect()
}

fn cookie_string(m: &BTreeMap<String, Secret>) -> Secret {
    Secret::new(m.iter().map(|(k, v)| format!("{k}={}", v.expose())).collect::<Vec<_>>().join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_cookies_round_trip() {
        let kept = Secret::new("auth=a1=; h_api_authcookie.v2=b2; session=c3");
        let m = cookie_map(&kept);
        assert_eq!(m.len(), 3);
        assert_eq!(m["auth"].expose(), "a1=");
        assert_eq!(cookie_string(&m).expose(), "auth=a1=; h_api_authcookie.v2=b2; session=c3");
    }
}
