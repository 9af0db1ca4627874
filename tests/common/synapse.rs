//! A real Synapse started by `make test` (scripts/servers/synapse.sh), as the tests reach it:
//! users registered through the shared-secret admin API, devices signed in from given addresses,
//! and the server's own view of devices and pushers for checks "on the server".

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};

use super::{env, unique};

/// Every test user's password.
pub const PASSWORD: &str = "correct horse battery";

/// One of the test homeservers.
pub struct Synapse {
    pub url: String,
    pub secret: String,
}

impl Synapse {
    pub fn main() -> Self {
        Synapse { url: env("KEYWARD_TEST_SYNAPSE_URL"), secret: env("KEYWARD_TEST_SYNAPSE_SECRET") }
    }

    /// The homeserver whose access tokens expire after 3 s and whose login limit per account is
    /// two at once, then one every 10 s.
    pub fn short() -> Self {
        Synapse { url: env("KEYWARD_TEST_SYNAPSE_SHORT_URL"), secret: env("KEYWARD_TEST_SYNAPSE_SHORT_SECRET") }
    }

    pub fn http() -> reqwest::Client {
        reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap()
    }

    /// Registers a new user through the shared-secret admin API; returns the login name.
    pub async fn register(&self, prefix: &str) -> String {
        self.register_as(prefix, false).await
    }

    /// Registers a new user, a server admin when `admin`.
    pub async fn register_as(&self, prefix: &str, admin: bool) -> String {
        let user = unique(prefix);
        let http = Self::http();
        let nonce: Value = http.get(format!("{}/_synapse/admin/v1/register", self.url)).send().await.unwrap().json().await.unwrap();
        let nonce = nonce["nonce"].as_str().unwrap().to_string();
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(self.secret.as_bytes()).unwrap();
        let role = if admin { "admin" } else { "notadmin" };
        mac.update(format!("{nonce}\0{user}\0{PASSWORD}\0{role}").as_bytes());
        let body = json!({"nonce": nonce, "username": user, "password": PASSWORD, "admin": admin, "mac": hex::encode(mac.finalize().into_bytes())});
        let r = http.post(format!("{}/_synapse/admin/v1/register", self.url)).json(&body).send().await.unwrap();
        assert!(r.status().is_success(), "register {user}: {}", r.text().await.unwrap());
        user
    }

    /// Signs `user` in as another client would, from `ip`, and uses the token once so the device
    /// has a last-seen time and IP. Returns (access token, device id).
    pub async fn device(&self, user: &str, name: &str, ip: &str) -> (String, String) {
        self.device_as(user, name, ip, None).await
    }

    /// [`Synapse::device`], with the client's own `User-Agent` when given (what the server then
    /// remembers of the device).
    pub async fn device_as(&self, user: &str, name: &str, ip: &str, ua: Option<&str>) -> (String, String) {
        let http = Self::http();
        let with_client = |req: reqwest::RequestBuilder| {
            let req = req.header("X-Forwarded-For", ip);
            match ua {
                Some(ua) => req.header("User-Agent", ua),
                None => req,
            }
        };
        let body = json!({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user}, "password": PASSWORD, "initial_device_display_name": name});
        let r: Value =
            with_client(http.post(format!("{}/_matrix/client/v3/login", self.url))).json(&body).send().await.unwrap().json().await.unwrap();
        let token = r["access_token"].as_str().unwrap_or_else(|| panic!("login failed: {r}")).to_string();
        let device = r["device_id"].as_str().unwrap().to_string();
        let who = with_client(http.get(format!("{}/_matrix/client/v3/account/whoami", self.url))).bearer_auth(&token).send().await.unwrap();
        assert!(who.status().is_success());
        (token, device)
    }

    /// The user's devices as the server has them, by id.
    pub async fn devices(&self, token: &str) -> Vec<Value> {
        let r: Value = Self::http()
            .get(format!("{}/_matrix/client/v3/devices", self.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["devices"].as_array().unwrap_or_else(|| panic!("no devices: {r}")).clone()
    }

    pub async fn device_ids(&self, token: &str) -> Vec<String> {
        let mut ids: Vec<String> = self.devices(token).await.iter().map(|d| d["device_id"].as_str().unwrap().to_string()).collect();
        ids.sort();
        ids
    }

    pub async fn pushers(&self, token: &str) -> Vec<Value> {
        let r: Value = Self::http()
            .get(format!("{}/_matrix/client/v3/pushers", self.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["pushers"].as_array().unwrap().clone()
    }

    pub fn host(&self) -> String {
        self.url.trim_start_matches("http://").to_string()
    }
}
