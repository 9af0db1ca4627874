//! What Keyward keeps in the keyring for a Moodle account, and why.
//!
//! The mobile token (for the API), the account's username and password, and the web session's
//! cookies. Moodle web sessions expire after hours (`sessiontimeout`), and without the password
//! every expiry would mean "sign in again" for the pages. The password is the account's own
//! credential and lives only in this keyring entry, like the token; it is sent only to this
//! site's login form and `/login/token.php`. The cookies are kept so that each refresh reuses one
//! web session (which the sessions page then shows as Keyward's own) instead of opening a new one
//! every time. Nothing here is ever written to a file or shown.
//!
//! It also keeps the user's answer to one question: on a site that limits concurrent logins,
//! may Keyward's web login end one of their other browser sessions? The yes is given when the
//! account is added (`SignInRequest::allow_ending_sessions`) and holds for every later re-login of
//! this account (the kept web session expires after hours, and signing in again is the same act
//! the user agreed to), until the account is added again without it. Without the yes, Keyward
//! signs in to the pages only while the site says that doing so ends nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::secret::{self, Secret};

#[derive(Serialize, Deserialize)]
pub(super) struct Stored {
    #[serde(with = "secret::stored")]
    pub token: Secret,
    pub username: String,
    #[serde(with = "secret::stored")]
    pub password: Secret,
    /// `name=value; name=value` of the web session's cookies.
    #[serde(default, with = "secret::stored::option", skip_serializing_if = "Option::is_none")]
    pub cookies: Option<Secret>,
    /// The user allowed web logins that end another browser session (see the module doc).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub may_end_a_session: bool,
}

impl Stored {
    pub fn cookie_map(&self) -> BTreeMap<String, Secret> {
        let Some(c) = &self.cookies else { return BTreeMap::new() };
        c.expose().split(';').filter_map(|p| p.trim().split_once('=')).map(|(k, v)| (k.to_string(), Secret::new(v))).collect()
    }

    pub fn set_cookies(&mut self, m: &BTreeMap<String, Secret>) {
        self.cookies = if m.is_empty() {
            None
        } else {
            Some(Secret::new(m.iter().map(|(k, v)| format!("{k}={}", v.expose())).collect::<Vec<_>>().join("; ")))
        };
    }
}
