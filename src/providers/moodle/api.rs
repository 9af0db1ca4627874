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

use super::stored::Stored;
use crate::error::{Error, Result};
use crate::net::http::{base_string, join, one_line, Http};
use crate::provider::Session;
use crate::secret::{Secret, SecretBody};

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
    /// `$CFG->version`: "2023100900" (4.3), "2024011900.02" on a development line.
    pub version: Option<String>,
    /// `$CFG->limitconcurrentlogins`; 0 or absent when there is no limit.
    #[serde(default)]
    pub limitconcurrentlogins: Option<i64>,
    /// The user's browser sessions now; sent only when the limit is on.
    #[serde(default)]
    pub usersessionscount: Option<i64>,
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
    let r = http.send(http.post(join(base, TOKEN_PHP)).secret_form(&form)).await?;
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

/// How the site refused a call.
pub(super) enum Refused {
    /// The token is gone or expired (`invalidtoken`; `accessexception` saying "Invalid token - token
    /// expired", which Moodle sends once before it deletes the token); a new token may help. The
    /// text says why, in words for people.
    Token(String),
    /// Anything else, as the user sees it.
    Other(Error),
}

impl From<Error> for Refused {
    fn from(e: Error) -> Self {
        Refused::Other(e)
    }
}

/// The API of one site, called with one token.
pub(super) struct Api<'a> {
    pub http: &'a Http,
    pub base: &'a Url,
    pub token: &'a Secret,
}

impl Api<'_> {
    /// Calls a web service function; Moodle's HTTP-200 error bodies become [`Refused`].
    pub async fn call(&self, function: &str, params: &[(&str, &str)]) -> Result<Value, Refused> {
        let mut form: Vec<(&str, &str)> = vec![("wstoken", self.token.expose()), ("wsfunction", function), ("moodlewsrestformat", "json")];
        form.extend_from_slice(params);
        let r = self.http.send(self.http.post(join(self.base, SERVER_PHP)).secret_form(&form)).await?;
        if !r.is_success() {
            return Err(r.unexpected().into());
        }
        let v: Value = r.json("a web service answer")?;
        match v.get("errorcode").and_then(Value::as_str).filter(|_| v.get("exception").is_some()) {
            None => Ok(v),
            Some(code) => Err(refusal(&v, code, function, r.host())),
        }
    }

    pub async fn site_info(&self) -> Result<SiteInfo, Refused> {
        let v = self.call(SITE_INFO, &[]).await?;
        Ok(parse(self.base, v, "site info")?)
    }
}

const SITE_INFO: &str = "core_webservice_get_site_info";

/// What an error body means. `accessexception` is Moodle's answer both to a function outside the
/// service and to a token it will not take: the text tells them apart when the site says it
/// ("Invalid token - token expired"); site info, which every mobile-service token may call, is
/// refused only for the token's sake.
fn refusal(v: &Value, code: &str, function: &str, host: String) -> Refused {
    let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("");
    let said = format!("{} {}", text("message"), text("debuginfo")).to_ascii_lowercase();
    match code {
        "invalidtoken" => Refused::Token("the site no longer accepts its token".into()),
        "accessexception" if said.contains("token expired") => Refused::Token("its token expired".into()),
        "accessexception" if said.contains("invalid token") => Refused::Token("the site no longer accepts its token".into()),
        "accessexception" if function == SITE_INFO => {
            Refused::Token(format!("the site refuses its token (Moodle said: {})", one_line(text("message"))))
        }
        "accessexception" => Refused::Other(Error::forbidden(format!("this Moodle site does not let the mobile service call {function}"))),
        _ => Refused::Other(Error::Server {
            host,
            message: format!("{code}: {}", one_line(v.get("message").and_then(Value::as_str).unwrap_or(code))),
        }),
    }
}

fn parse<T: serde::de::DeserializeOwned>(base: &Url, v: Value, what: &str) -> Result<T> {
    serde_json::from_value(v).map_err(|e| Error::bad_response(crate::model::host_of(base.as_str()), format!("expected {what} ({e})")))
}

/// The API of a stored account. When the site no longer takes the token (expired after Moodle's
/// 12 weeks, or deleted), it asks token.php for a new one with the kept password, once, keeps it
/// in the keyring and goes on: the listing never fails for an expiry the user cannot see coming.
/// Without a working password that is "sign in again".
pub(super) struct AccountApi<'s, 'a> {
    s: &'s Session<'a>,
    stored: &'s mut Stored,
    base: Url,
    renewed: bool,
}

impl<'s, 'a> AccountApi<'s, 'a> {
    pub fn new(s: &'s Session<'a>, stored: &'s mut Stored) -> Result<Self> {
        Ok(AccountApi { base: s.base_url()?, s, stored, renewed: false })
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    pub async fn call(&mut self, function: &str, params: &[(&str, &str)]) -> Result<Value> {
        loop {
            let api = Api { http: self.s.http, base: &self.base, token: &self.stored.token };
            match api.call(function, params).await {
                Ok(v) => return Ok(v),
                Err(Refused::Other(e)) => return Err(e),
                Err(Refused::Token(why)) if self.renewed => return Err(self.s.sign_in_again(why)),
                Err(Refused::Token(why)) => self.renew(why).await?,
            }
        }
    }

    /// A new token from token.php in place of the refused one, saved before it is used.
    async fn renew(&mut self, why: String) -> Result<()> {
        self.renewed = true;
        let host = crate::model::host_of(self.base.as_str());
        match new_token(self.s.http, &self.base, &self.stored.username, &self.stored.password).await? {
            NewToken::Token(t) if t.expose() != self.stored.token.expose() => {
                self.stored.token = t;
                self.s.save(&*self.stored).await
            }
            // Moodle still considers the token valid: a new one would not help.
            NewToken::Token(_) => {
                Err(Error::forbidden(format!("{host} refuses the mobile service's token of {}: {why}", self.s.account.name())))
            }
            NewToken::InvalidLogin => Err(self.s.sign_in_again(format!("{why}, and the site no longer takes its password for a new one"))),
            NewToken::ServiceOff => Err(super::service_off(&host)),
        }
    }

    pub async fn site_info(&mut self) -> Result<SiteInfo> {
        let v = self.call(SITE_INFO, &[]).await?;
        parse(&self.base, v, "site info")
    }

    /// The official app's push devices of the token's user.
    pub async fn devices(&mut self) -> Result<DevicesAnswer> {
        let v = self.call("message_airnotifier_get_user_devices", &[("appid", APP_ID)]).await?;
        parse(&self.base, v, "a device list")
    }

    pub async fn remove_device(&mut self, d: &Device) -> Result<RemoveAnswer> {
        let v = self.call("core_user_remove_user_device", &[("uuid", &d.uuid), ("appid", &d.appid)]).await?;
        parse(&self.base, v, "a removal result")
    }
}
