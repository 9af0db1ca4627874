//! Moodle sites: every key, session and device of a Moodle account.
//!
//! Moodle's web service API lets a user list and remove only their mobile push devices; browser
//! sessions, web service tokens, the RSS key and (newer Moodle) personal access tokens live on
//! web pages that need a browser session and its `sesskey`. So the provider signs in twice with
//! the same username and password: a token from `/login/token.php` for the official mobile
//! service (`moodle_mobile_app`) for the API, and a web session through the login form for the
//! pages. Site info's `functions` decides what the API part may do; each page's layout decides
//! what the page part may do.
//!
//! This file is the [`Provider`] and nothing else; each job has its own file:
//! `api.rs` (token.php, server.php and their errors), `session.rs` (the web login and the kept
//! web session), `pages.rs` (reading the pages), `mapping.rs` (Moodle's answers → credentials),
//! `listing.rs` (one listing and its gaps), `revokes.rs` (page and API actions), `site.rs` (what a
//! release and its settings let Keyward do safely), `stored.rs` (what the keyring keeps, and why),
//! `models.rs` (Apple device codes as names).
//!
//! Moodle gives the mobile service's token to every Moodle app of the user (their phone and
//! Keyward alike), so resetting it signs all of them out: the credential says so before it is
//! revoked.
//!
//! Facts: `shared/reference/moodle.md` and the real pages in `tests/data/moodle-4.3/`. Not here:
//! SSO sign-in (the site must accept a password), OAuth 2 linked logins (named in a gap), push
//! devices of branded Moodle apps (only the official app's `com.moodle.moodlemobile` is asked
//! for), pages in languages other than English (times then stay in the page's words).

mod api;
mod client_rules;
mod listing;
mod mapping;
mod models;
mod pages;
#[cfg(test)]
mod proptests;
mod revokes;
mod session;
mod site;
mod stored;

use async_trait::async_trait;
use url::Url;

use crate::error::{Error, Remedy, Result};
use crate::model::{Fact, Kind};
use crate::net::http::Http;
use crate::provider::{
    Capabilities, Found, Proof, Provider, Revoked, Session, SignInMethod, SignInRequest, SignInSecret, SignedIn, TokenShape,
};
use api::{Api, NewToken, Refused};
use session::{Web, WebError};
use site::Site;
use stored::Stored;

pub struct Moodle;

/// This kind of server, as the registry and stored accounts name it.
pub const KIND: Kind = Kind::new("moodle");

const SESSIONS_PAGE: &str = "report/usersessions/user.php";
const KEYS_PAGE: &str = "user/managetoken.php";
const PATS_PAGE: &str = "user/personalaccesstokens.php";
const PROFILE_PAGE: &str = "user/profile.php";

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
            token_shapes: &[TokenShape {
                what: "Moodle web service token",
                matches: |t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()),
            }],
            ..Default::default()
        }
    }

    async fn probe(&self, http: &Http, url: &Url) -> Result<Option<Url>> {
        api::probe(http, url).await
    }

    /// A token for the API, then the web session for the pages. Pages that refuse a password
    /// (SSO, MFA, a policy) leave an account that lists push devices, and a fact saying why.
    async fn sign_in(&self, http: &Http, req: SignInRequest) -> Result<SignedIn> {
        let SignInSecret::Password(password) = req.secret else {
            return Err(Error::SignInMethod {
                message: "Moodle accounts sign in with their username and password".into(),
                remedy: Some(Remedy::GivePassword),
            });
        };
        let base = req.url.clone();
        let host = crate::model::host_of(base.as_str());
        let token = match api::new_token(http, &base, &req.login, &password).await? {
            NewToken::Token(t) => t,
            NewToken::InvalidLogin if session::no_password_form(&base).await => {
                return Err(Error::SignInMethod {
                    message: format!(
                        "{host} signs in only through single sign-on, which Keyward cannot do: it needs a Moodle username and password"
                    ),
                    remedy: None,
                })
            }
            NewToken::InvalidLogin => return Err(Error::WrongPassword { account: format!("{}@{host}", req.login) }),
            NewToken::ServiceOff => return Err(service_off(&host)),
        };
        let info = Api { http, base: &base, token: &token }.site_info().await.map_err(|e| match e {
            Refused::Token(_) => Error::Server { host: host.clone(), message: "the site refused the token it had just given".into() },
            Refused::Other(e) => e,
        })?;
        let site = Site::of(&info);
        // Read before any web login: with a concurrent-login limit, the login itself is what ends
        // another browser session.
        let may_log_in = req.allow_ending_sessions || !site.login_ends_a_session();
        let mut web = Web::fresh(&base, &req.login, &password, may_log_in);
        let mut facts = mapping::site_facts(&info);
        let mut stored =
            Stored { token, username: req.login.clone(), password, cookies: None, may_end_a_session: req.allow_ending_sessions };
        match web.login().await {
            Ok(()) => {
                stored.set_cookies(web.session.cookies());
                facts.push(Fact::new("Web pages", "signed in (browser sessions, security keys)"));
            }
            Err(WebError::Blocked(b)) => facts.push(Fact::new("Web pages", format!("not available: {}; push devices still work", b.0))),
            Err(WebError::WouldEndASession) => facts.push(Fact::new(
                "Web pages",
                format!("not signed in: {}; push devices still work through the web service API", session::would_end_a_session()),
            )),
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
        listing::list(s).await
    }

    async fn revoke(&self, s: &Session<'_>, ids: &[String], _proof: &Proof) -> Result<Vec<Revoked>> {
        revokes::revoke(s, ids).await
    }

    async fn revoke_all_others(&self, s: &Session<'_>, _proof: &Proof) -> Result<Vec<Revoked>> {
        revokes::all_others(s).await
    }

    /// Ends Keyward's web session. The mobile token stays: it is the user's phone's token too,
    /// and revoking it is a separate, warned action.
    fn client_rules(&self) -> &'static [crate::clients::Rule] {
        client_rules::CLIENT_RULES
    }

    async fn sign_out(&self, s: &Session<'_>) -> Result<()> {
        let stored: Stored = s.load().await?;
        session::sign_out(&s.base_url()?, &stored).await
    }
}

/// token.php says the mobile web service is off.
fn service_off(host: &str) -> Error {
    Error::Unsupported {
        message: format!(
            "{host} has its mobile web service turned off, and Keyward signs in through it: a site administrator can turn on \"Enable web services for mobile devices\" (Site administration › Mobile app › Mobile settings); nothing was changed"
        ),
        remedy: Some(Remedy::AskAdmin),
    }
}
