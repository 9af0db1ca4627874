//! Moodle's web service API: a token from `/login/token.php`, then functions called on
//! `/webservice/rest/server.php` with it, and what their answers and errors mean.
//!
//! Moodle answers every error with HTTP 200 and a JSON body (`{"error","errorcode"}` from
//! token.php, `{"exception","errorcode","message"}` from server.php); this file turns those into
//! [`Error`]s. The wire types are Moodle's own words and stay private to the provider; turning
//! them into credentials is `mapping.rs`' job. No web pages here (`session.rs`), and no keyring
//! (the caller decides what to keep).

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::error::{Error, Result};
use crate::net::http::{base_string, join, one_line, Http};
use crate::provider::Session;
use crate::secret::Secret;

/// The official mobile service and app: what `/login/token.php` is asked for.
pub(super) const SERVICE: &str = "moodle_mobile_app";
pub(super) const APP_ID: &str = "com.moodle.moodlemobile";

const TOKEN_PHP: &str = "login/token.php";
const SERVER_PHP: &str = "webservice/rest/server.php";

// ---- wire types (Moodle's own words) ----

#[derive(Deserialize)]
struct TokenReply {
    token: Option<String>,
    error: Option<String>,
    errorcode: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct SiteInfo {
    pub sitename: Option<String>,
    pub username: String,
    pub fullname: Option<String>,
    pub release: Option<String>,
    #[serde(default)]
    functions: Vec<Function>,
}

#[derive(Deserialize)]
struct Function {
    name: String,
}

#[derive(Deserialize)]
pub(super) struct DevicesAnswer {
    #[serde(default)]
    pub devices: Vec<Device>,
    #[serde(default)]
    pub warnings: Vec<Warning>,
}

#[derive(Deserialize)]
pub(super) struct Device {
    pub id: i64,
    pub appid: String,
    pub name: Option<String>,
    pub model: Option<String>,
    pub platform: Option<String>,
    pub version: Option<String>,
    pub uuid: String,
    pub enable: Option<i64>,
    pub timecreated: Option<i64>,
    pub timemodified: Option<i64>,
}

#[derive(Deserialize)]
pub(super) struct Warning {
    pub warningcode: Option<String>,
    pub message: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct RemoveAnswer {
    pub removed: bool,
    #[serde(default)]
    pub warnings: Vec<Warning>,
}

/// What the web service functions of this site let the token do (site info's `functions`).
pub(super) struct Allowed(HashSet<String>);

impl Allowed {
    pub fn of(info: &SiteInfo) -> Self {
        Allowed(info.functions.iter().map(|f| f.name.clone()).collect())
    }

    pub fn has(&self, f: &str) -> bool {
        self.0.contains(f)
    }
}

// ---- token.php ----

/// Is there a Moodle at `url`? token.php's `appsitecheck` answers, or its error shape.
pub(super) async fn probe(http: &Http, url: &Url) -> Result<Option<Url>> {
    let mut u = join(url, TOKEN_PHP);
    u.set_query(Some("appsitecheck=1"));
    let r = http.send(http.get(u)).await?;
    let Some(v) = r.json_value() else { return Ok(None) };
    if v.get("appsitecheck").is_some() || (v.get("errorcode").is_some() && v.get("error").is_some()) {
        return Ok(Some(url.clone()));
    }
    Ok(None)
}

/// What token.php said to a username and password.
pub(super) enum NewToken {
    Token(Secret),
    /// `invalidlogin`: wrong username or password, or a site that takes no password here.
    InvalidLogin,
    /// The mobile web service is off on the site.
    ServiceOff,
}

/// Asks token.php for the mobile service's token. Moodle hands back the user's newest still-valid
/// token for the service when there is one (the same as their phone's), else makes one.
pub(super) async fn new_token(http: &Http, base: &Url, username: &str, password: &Secret) -> Result<NewToken> {
    let form = [("username", username), ("password", password.expose()), ("service", SERVICE)];
    let r = http.send(http.post(join(base, TOKEN_PHP)).form(&form)).await?;
    let reply: TokenReply = match serde_json::from_slice(&r.body) {
        Ok(a) if r.is_success() => a,
        _ => {
            return Err(Error::NotThisKind {
                url: base_string(base),
                kind: "Moodle",
                detail: Some("no Moodle token service at /login/token.php".into()),
            })
        }
    };
    match (reply.token, reply.errorcode.as_deref()) {
        (Some(t), _) if !t.is_empty() => Ok(NewToken::Token(Secret::new(t))),
        (_, Some("invalidlogin")) => Ok(NewToken::InvalidLogin),
        (_, Some("enablewsdescription" | "servicenotavailable")) => Ok(NewToken::ServiceOff),
        (_, code) => Err(Error::Server {
            host: r.host(),
            message: format!("{}: {}", code.unwrap_or("error"), one_line(reply.error.as_deref().unwrap_or("no token in the answer"))),
        }),
    }
}

// ---- server.php ----

/// The API of one site, called with one token.
pub(super) struct Api<'a> {
    pub http: &'a Http,
    pub base: &'a Url,
    pub token: &'a Secret,
}

impl Api<'_> {
    fn host(&self) -> String {
        crate::model::host_of(self.base.as_str())
    }

    /// Calls a web service function; Moodle's HTTP-200 error bodies become errors. A token the
    /// site no longer accepts is `SignInAgain` with no account name ([`for_account`] adds it).
    pub async fn call(&self, function: &str, params: &[(&str, &str)]) -> Result<Value> {
        let mut form: Vec<(&str, &str)> = vec![("wstoken", self.token.expose()), ("wsfunction", function), ("moodlewsrestformat", "json")];
        form.extend_from_slice(params);
        let r = self.http.send(self.http.post(join(self.base, SERVER_PHP)).form(&form)).await?;
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

    pub async fn site_info(&self) -> Result<SiteInfo> {
        let v = self.call("core_webservice_get_site_info", &[]).await?;
        serde_json::from_value(v).map_err(|e| Error::bad_response(self.host(), format!("expected site info ({e})")))
    }

    /// The official app's push devices of the token's user.
    pub async fn devices(&self) -> Result<DevicesAnswer> {
        let v = self.call("message_airnotifier_get_user_devices", &[("appid", APP_ID)]).await?;
        serde_json::from_value(v).map_err(|e| Error::bad_response(self.host(), format!("expected a device list ({e})")))
    }

    pub async fn remove_device(&self, d: &Device) -> Result<RemoveAnswer> {
        let v = self.call("core_user_remove_user_device", &[("uuid", &d.uuid), ("appid", &d.appid)]).await?;
        serde_json::from_value(v).map_err(|_| Error::bad_response(self.host(), "Moodle's answer was not a removal result"))
    }
}

/// An API error with the account's name in "sign in again".
pub(super) fn for_account(s: &Session<'_>, e: Error) -> Error {
    match e {
        Error::SignInAgain { why, .. } => s.sign_in_again(why),
        e => e,
    }
}
