//! Conduit, Phorge's API: `POST /api/<method>`, form-encoded, always HTTP 200 with
//! `{"result", "error_code", "error_info"}`.
//!
//! Two ways in: a pasted `api-`/`cli-` token (sent inside `params.__conduit__`, over a client
//! without cookies: a logged-in cookie would win over the token and then demand a CSRF value), or
//! Keyward's kept web session (its cookie plus `__csrf__`). Conduit has no method that lists or
//! revokes API tokens, sessions or OAuth authorizations; what it does have is here: who the
//! account is, its SSH keys, the "sign out every session" of `auth.logout`, and the capability
//! probe that needs no login.

use serde::Deserialize;
use serde_json::{json, Value};
use url::Url;

use super::session::Web;
use crate::error::{Error, Result};
use crate::net::http::{join, one_line, Http, Response};
use crate::secret::Secret;

/// `user.whoami`.
#[derive(Debug, Clone, Deserialize)]
pub struct Whoami {
    pub phid: String,
    #[serde(rename = "userName")]
    pub user_name: String,
    #[serde(rename = "realName")]
    pub real_name: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(rename = "primaryEmail")]
    pub primary_email: Option<String>,
}

/// One key of `auth.querypublickeys` (no dates, no separate comment: it is inside `key`).
#[derive(Debug, Clone, Deserialize)]
pub struct PublicKey {
    pub id: String,
    pub name: String,
    #[serde(rename = "isTrusted")]
    pub is_trusted: bool,
    pub key: String,
}

#[derive(Deserialize)]
struct Page<T> {
    data: Vec<T>,
}

#[derive(Deserialize)]
struct Answer {
    result: Option<Value>,
    error_code: Option<String>,
    error_info: Option<String>,
}

/// What a refused call means.
#[derive(Debug)]
pub enum Refusal {
    /// `ERR-INVALID-AUTH`: the token is unknown, malformed or expired. (Phorge's words quote the
    /// token, so they are not kept.)
    BadToken,
    /// `ERR-INVALID-SESSION`: no credentials, or a session Phorge ended.
    NoSession,
    Other(Error),
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Self {
        Refusal::Other(e)
    }
}

fn read(r: &Response, method: &str) -> std::result::Result<Value, Refusal> {
    if !r.is_success() {
        return Err(Refusal::Other(r.unexpected()));
    }
    let a: Answer = r.json(&format!("a Conduit answer to {method}"))?;
    match a.error_code.as_deref() {
        None => Ok(a.result.unwrap_or(Value::Null)),
        Some("ERR-INVALID-AUTH") => Err(Refusal::BadToken),
        Some("ERR-INVALID-SESSION") => Err(Refusal::NoSession),
        Some(code) => Err(Refusal::Other(Error::Server {
            host: r.host(),
            message: format!("{code} ({})", without_tokens(&one_line(a.error_info.as_deref().unwrap_or("no reason given")))),
        })),
    }
}

/// Server text with anything shaped like a Conduit token blanked out.
fn without_tokens(s: &str) -> String {
    regex::Regex::new(r"\b(api|cli|clr)-[A-Za-z0-9]{28}\b").expect("a valid regex").replace_all(s, "$1-…").into_owned()
}

/// A call with a pasted token, over `http` (which keeps no cookies).
pub async fn with_token(http: &Http, base: &Url, token: &Secret, method: &str, params: Value) -> std::result::Result<Value, Refusal> {
    let mut params = params;
    params["__conduit__"] = json!({ "token": token.expose() });
    let form = [("params", params.to_string()), ("output", "json".to_string())];
    let r = http.send(http.post(join(base, &format!("api/{method}"))).form(&form)).await?;
    read(&r, method)
}

/// A call with the kept web session: its cookie and the session's `__csrf__`.
pub async fn with_web(web: &mut Web, method: &str, params: Value) -> std::result::Result<Value, Refusal> {
    let csrf = web.csrf_value().await?;
    let fields = vec![
        ("params".to_string(), params.to_string()),
        ("output".to_string(), "json".to_string()),
        ("__conduit__".to_string(), "1".to_string()),
        ("__csrf__".to_string(), csrf.expose().to_string()),
    ];
    let url = join(web.base(), &format!("api/{method}"));
    let r = web.post_raw(url, &fields).await?;
    read(&r, method)
}

/// Is this a Phorge (or Phabricator)? `conduit.getcapabilities` answers without a login.
pub async fn is_phorge(http: &Http, base: &Url) -> Result<bool> {
    let r = http.send(http.post(join(base, "api/conduit.getcapabilities")).form(&[("output", "json")])).await?;
    let Some(v) = r.json_value() else { return Ok(false) };
    Ok(v.get("error_code").is_some_and(Value::is_null) && v.pointer("/result/authentication").is_some_and(Value::is_array))
}

pub fn whoami(v: Value, host: &str) -> Result<Whoami> {
    serde_json::from_value(v).map_err(|e| Error::bad_response(host, format!("expected user.whoami's answer ({e})")))
}

pub fn public_keys(v: Value, host: &str) -> Result<Vec<PublicKey>> {
    serde_json::from_value::<Page<PublicKey>>(v).map(|p| p.data).map_err(|e| Error::bad_response(host, format!("expected SSH keys ({e})")))
}

/// The params of `auth.querypublickeys` for one user's keys.
pub fn keys_of(user_phid: &str) -> Value {
    json!({ "objectPHIDs": [user_phid] })
}

/// Does a pasted token look like a Conduit API token (32 characters, `api-` or `cli-`)?
pub fn token_shape(token: &str) -> std::result::Result<(), &'static str> {
    if token.len() != 32 || !token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err("a Conduit API token is 32 characters long and starts with api- or cli-");
    }
    match &token[..4] {
        "api-" | "cli-" => Ok(()),
        "clr-" => Err("this is a cluster token, which Phorge lets live only 30 minutes: make a standard API token instead"),
        _ => Err("a Conduit API token starts with api- or cli-"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_answers_read_as_the_wire_types() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/phorge/");
        let who: Value = serde_json::from_str(&std::fs::read_to_string(format!("{dir}conduit-user.whoami.json")).unwrap()).unwrap();
        let w = whoami(who["result"].clone(), "h").unwrap();
        assert_eq!((w.user_name.as_str(), w.real_name.as_deref(), w.primary_email), ("alice", Some("Alice Example"), None));
        assert_eq!(w.phid, "PHID-USER-knnczwuiiscfxcdrvuzl");
        let keys: Value =
            serde_json::from_str(&std::fs::read_to_string(format!("{dir}conduit-auth.querypublickeys.json")).unwrap()).unwrap();
        let k = public_keys(keys["result"].clone(), "h").unwrap();
        assert_eq!(
            k.iter().map(|k| (k.id.as_str(), k.name.as_str(), k.is_trusted)).collect::<Vec<_>>(),
            vec![("2", "alice-desktop", false), ("1", "alice-laptop", false)]
        );
    }

    #[test]
    fn token_shapes() {
        assert!(token_shape("api-fka1xxxxxxxxxxxxxxxxxxxxxxxx").is_ok());
        assert!(token_shape("cli-fkc3xxxxxxxxxxxxxxxxxxxxxxxx").is_ok());
        assert!(token_shape("clr-aaaaaaaaaaaaaaaaaaaaaaaaaaaa").unwrap_err().contains("30 minutes"));
        assert!(token_shape("notatoken").is_err());
        assert!(token_shape("api-short").is_err());
    }
}
