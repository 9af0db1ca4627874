//! Home Assistant against the real server that `make test` starts
//! (scripts/servers/homeassistant.sh): every test acts through the real CLI, then checks the
//! result on the server itself over its websocket API, through a separate "checker" session of
//! the same user (Home Assistant shows a user's tokens only to that user). Each test has its own
//! user (kw1 … kw12), so they run at once without seeing each other's sessions.

mod common;

use common::{closed_port, env, Cli};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const KEYWARD_CLIENT: &str = "https://keyward.app/";
const CHECKER_CLIENT: &str = "http://checker.test/";

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

fn url() -> String {
    env("KEYWARD_TEST_HA_URL")
}

fn password() -> String {
    env("KEYWARD_TEST_HA_PASSWORD")
}

/// The test's own user: `n` is fixed per test so that tests never share one.
fn user(n: usize) -> String {
    let users = env("KEYWARD_TEST_HA_USERS");
    users.split_whitespace().nth(n - 1).unwrap_or_else(|| panic!("fewer than {n} Home Assistant test users")).to_string()
}

fn account(user: &str) -> String {
    format!("{user}@{}", url().trim_start_matches("http://"))
}

/// A session of `user` made through the login flow as `client_id`: (access token, refresh token).
fn login(user: &str, client_id: &str) -> (String, String) {
    block(async {
        let c = reqwest::Client::new();
        let base = url();
        let flow: Value = c
            .post(format!("{base}/auth/login_flow"))
            .json(&json!({ "client_id": client_id, "handler": ["homeassistant", null], "redirect_uri": format!("{client_id}cb") }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let step: Value = c
            .post(format!("{base}/auth/login_flow/{}", flow["flow_id"].as_str().unwrap()))
            .json(&json!({ "client_id": client_id, "username": user, "password": password() }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let code = step["result"].as_str().unwrap_or_else(|| panic!("login of {user}: {step}")).to_string();
        let t: Value = c
            .post(format!("{base}/auth/token"))
            .form(&[("grant_type", "authorization_code"), ("code", code.as_str()), ("client_id", client_id)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (t["access_token"].as_str().unwrap().to_string(), t["refresh_token"].as_str().unwrap().to_string())
    })
}

/// Runs websocket commands with an access token; returns each command's `result`.
fn ws(access: &str, commands: &[(&str, Value)]) -> Vec<Value> {
    block(async {
        let wsurl = format!("{}/api/websocket", url().replacen("http://", "ws://", 1));
        let (mut s, _) = tokio_tungstenite::connect_async(wsurl).await.unwrap();
        // auth_required
        while !matches!(s.next().await, Some(Ok(Message::Text(_)))) {}
        s.send(Message::Text(json!({ "type": "auth", "access_token": access }).to_string())).await.unwrap();
        let mut out = Vec::new();
        let mut auth = None;
        while auth.is_none() {
            if let Some(Ok(Message::Text(t))) = s.next().await {
                auth = Some(serde_json::from_str::<Value>(&t).unwrap());
            }
        }
        assert_eq!(auth.unwrap()["type"], "auth_ok");
        for (i, (kind, fields)) in commands.iter().enumerate() {
            let mut m = fields.clone();
            m["id"] = json!(i + 1);
            m["type"] = json!(kind);
            s.send(Message::Text(m.to_string())).await.unwrap();
            loop {
                if let Some(Ok(Message::Text(t))) = s.next().await {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["id"] == json!(i + 1) {
                        assert_eq!(v["success"], true, "{kind}: {v}");
                        out.push(v["result"].clone());
                        break;
                    }
                }
            }
        }
        let _ = s.close(None).await;
        out
    })
}

/// A session of the user that looks at the server directly.
struct Checker {
    access: String,
}

impl Checker {
    fn new(user: &str) -> Self {
        Checker { access: login(user, CHECKER_CLIENT).0 }
    }

    fn tokens(&self) -> Vec<Value> {
        ws(&self.access, &[("auth/refresh_tokens", json!({}))])[0].as_array().cloned().unwrap()
    }

    fn own_id(&self) -> String {
        self.tokens().into_iter().find(|t| t["is_current"] == true).unwrap()["id"].as_str().unwrap().to_string()
    }

    /// Ids on the server, sorted.
    fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.tokens().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect();
        ids.sort();
        ids
    }

    fn keyward_sessions(&self) -> Vec<Value> {
        self.tokens().into_iter().filter(|t| t["client_id"] == KEYWARD_CLIENT).collect()
    }

    /// A long-lived access token named `name`: (its refresh token id, the token).
    fn long_lived(&self, name: &str) -> (String, String) {
        let token = ws(&self.access, &[("auth/long_lived_access_token", json!({ "client_name": name, "lifespan": 365 }))])[0]
            .as_str()
            .unwrap()
            .to_string();
        let id = self.tokens().into_iter().find(|t| t["client_name"] == name).unwrap()["id"].as_str().unwrap().to_string();
        (id, token)
    }
}

fn add_with_password(cli: &Cli, user: &str) -> common::Run {
    cli.run(&["add", &url(), "--user", user, "--kind", "homeassistant", "--password-stdin"], Some(&format!("{}\n", password())))
}

fn list(cli: &Cli, account: &str) -> Vec<Value> {
    cli.run(&["list", account, "--json"], None).expect_ok().json().as_array().cloned().unwrap()
}

fn row<'a>(rows: &'a [Value], id: &str) -> &'a Value {
    rows.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no row {id} in {rows:#?}"))
}

fn time(v: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}"))).unwrap()
}

#[test]
fn password_sign_in_makes_a_keyward_session_marked_current() {
    if common::skip_without("KEYWARD_TEST_HA_URL") {
        return;
    }
    let u = user(1);
    let checker = Checker::new(&u);
    let cli = Cli::new();
    add_with_password(&cli, &u).expect_ok();
    let ours = checker.keyward_sessions();
    assert_eq!(ours.len(), 1, "{ours:?}");
    let own = ours[0]["id"].as_str().unwrap();

    let rows = list(&cli, &account(&u));
    let r = row(&rows, own);
    assert_eq!(r["current"], true);
    assert_eq!(r["kind"], "session");
    assert_eq!(r["name"], KEYWARD_CLIENT);
    assert_eq!(r["last_used_meaning"], "refreshed");
    assert_eq!(r["can_rename"], false);
    assert_eq!(time(&r["created"]), time(&ours[0]["created_at"]));
    // The keyring holds the refresh token; no config file does.
    let id = cli.run(&["accounts", "--json"], None).expect_ok().json()[0]["id"].as_str().unwrap().to_string();
    let entry: Value = serde_json::from_str(&cli.keyring_entry(&id).expect("a keyring entry")).unwrap();
    let refresh = entry["refresh_token"].as_str().unwrap();
    for (path, content) in cli.config_files() {
        assert!(!content.contains(refresh), "{path:?}");
    }
}

#[test]
fn list_maps_every_field_the_server_gives() {
    if common::skip_without("KEYWARD_TEST_HA_URL") {
        return;
    }
    let u = user(2);
    let checker = Checker::new(&u);
    let (llat, _) = checker.long_lived("Grafana");
    // A session of Home Assistant's own web interface: its client id is the server's origin.
    let origin = format!("{}/", url().trim_end_matches('/'));
    login(&u, &origin);
    let cli = Cli::new();
    add_with_password(&cli, &u).expect_ok();
    let rows = list(&cli, &account(&u));
    let web = rows.iter().find(|r| r["name"] == origin.as_str()).unwrap_or_else(|| panic!("no web interface session: {rows:#?}"));
    assert_eq!(web["client"], "Home Assistant web interface");
    assert_eq!(web["client_info"]["form"], "browser");
    let on_server = checker.tokens();
    assert_eq!(rows.len(), on_server.len(), "{rows:#?}");

    let t = on_server.iter().find(|t| t["id"] == llat.as_str()).unwrap();
    let r = row(&rows, &llat);
    assert_eq!(r["kind"], "api_token");
    assert_eq!(r["name"], "Grafana");
    assert_eq!(time(&r["created"]), time(&t["created_at"]));
    assert_eq!(r["current"], false);
    assert!(r["details"].as_array().unwrap().iter().any(|f| f["label"] == "Type" && f["value"] == "long_lived_access_token"));

    let checker_id = checker.own_id();
    let t = on_server.iter().find(|t| t["id"] == checker_id.as_str()).unwrap();
    let r = row(&rows, &checker_id);
    assert_eq!(r["kind"], "session");
    assert_eq!(r["name"], CHECKER_CLIENT);
    assert_eq!(r["current"], false);
    assert_eq!(r["last_used_meaning"], "refreshed");
    assert_eq!(time(&r["last_used"]), time(&t["last_used_at"]));
    assert_eq!(r["last_ip"], t["last_used_ip"]);
    assert!(r["details"].as_array().unwrap().iter().any(|f| f["label"] == "Signed in through" && f["value"] == "homeassistant"));
}

#[test]
fn pasted_long_lived_token_signs_in_and_is_marked_current() {
    if common::skip_without("KEYWARD_TEST_HA_URL") {
        return;
    }
    let u = user(3);
    let checker = Checker::new(&u);
    let (id, token) = checker.long_lived("Keyward pasted");
    let before = checker.ids();
    let cli = Cli::new();
    cli.run(&["add", &url(), "--user", &u, "--kind", "homeassistant", "--token-stdin"], Some(&format!("{token}\n"))).expect_ok();
    assert_eq!(checker.ids(), before, "nothing new on the server");
    let rows = list(&cli, &account(&u));
    assert_eq!(row(&rows, &id)["current"], true);
    // Removing with sign-out deletes the pasted token on the server.
    cli.run(&["remove", &account(&u), "--sign-out"], None).expect_ok();
    assert!(!checker.ids().contains(&id));
}

#[test]
fn revoke_one_deletes_exactly_that_token() {
    if common::skip_without("KEYWARD_TEST_HA_URL") {
        return;
    }
    let u = user(4);
    let checker = Checker::new(&u);
    let (a, _) = checker.long_lived("a");
    let (b, _) = checker.long_lived("b");
    let cli = Cli::new();
    add_with_password(&cli, &u).expect_ok();
    let before = checker.ids();
    cli.run(&["revoke", &account(&u), &a, "--yes"], None).expect_ok();
    let after = checker.ids();
    assert_eq!(after.len(), before.len() - 1);
    assert!(!after.contains(&a) && after.contains(&b));
}

#[test]
fn revoke_many_deletes_exactly_those() {
    if common::skip_without("KEYWARD_TEST_HA_URL") {
        return;
    }
    let u = user(5);
    let checker = Checker::new(&u);
    let (a, _) = checker.long_lived("a");
    let (b, _) = checker.long_lived("b");
    let (c, _) = checker.long_lived("c");
    login(&u, "http://phone.test/");
    let phone = checker.tokens().into_iter().find(|t| t["client_id"] == "http://phone.test/").unwrap()["id"].as_str().unwrap().to_string();
    let cli = Cli::new();
    add_with_password(&cli, &u).expect_ok();
    let before = checker.ids();
    let out = cli.run(&["revoke", &account(&u), &a, &c, &phone, "--yes", "--json"], None).expect_ok().json();
    assert_eq!(out["results"].as_array().unwrap().len(), 3);
    assert!(out["results"].as_array().unwrap().iter().all(|r| r["error"].is_null()));
    let after = checker.ids();
    let mut expected: Vec<String> = before.into_iter().filter(|id| ![&a, &c, &phone].contains(&id)).collect();
    expected.sort();
    assert_eq!(after, expected);
    assert!(after.contains(&b));
    assert_eq!(checker.keyward_sessions().len(), 1);
}

#[test]
fn own_session_needs_include_this_app_and_then_signs_out() {
    if common::skip_without("KEYWARD_TEST_HA_URL") {
        return;
    }
    let u = user(6);
    let checker = Checker::new(&u);
    let cli = Cli::new();
    add_with_password(&cli, &u).expect_ok();
    let own = checker.keyward_sessions()[0]["id"].as_str().unwrap().to_string();
    let acct = account(&u);

    let line = cli.run(&["revoke", &acct, &own, "--yes"], None).expect_err();
    assert!(line.contains("--include-this-app"), "{line}");
    assert_eq!(checker.keyward_sessions().len(), 1, "nothing changed");

    let out = cli.run(&["revoke", &acct, &own, "--yes", "--include-this-app"], None).expect_ok();
    assert!(out.stdout.contains("signed out"), "{}", out.stdout);
    assert!(checker.keyward_sessions().is_empty());
    let line = cli.run(&["list", &acct], None).expect_err();
    assert!(line.contains("sign in again"), "{line}");
}

#[test]
fn wrong_password_creates_nothing() {
    if common::skip_without("KEYWARD_TEST_HA_URL") {
        return;
    }
    let u = user(7);
    let checker = Checker::new(&u);
    let before = checker.ids();
    let cli = Cli::new();
    let line =
        cli.run(&["add", &url(), "--user", &u, "--kind", "homeassistant", "--password-stdin"], Some("not-the-password\n")).expect_err();
    assert!(line.contains("wrong username or password"), "{line}");
    assert_eq!(checker.ids(), before);
    assert!(cli.run(&["accounts", "--json"], None).expect_ok().json().as_array().unwrap().is_empty());
}

#[test]
fn revoke_all_others_ends_every_other_session_and_keeps_tokens() {
    if common::skip_without("KEYWARD_TEST_HA_URL") {
        return;
    }
    let u = user(8);
    // The checker looks through a long-lived token here: all-others ends sessions only.
    let (checker_llat, llat) = Checker::new(&u).long_lived("checker");
    let checker = Checker { access: llat };
    login(&u, "http://phone.test/");
    let (grafana, _) = checker.long_lived("Grafana");
    let cli = Cli::new();
    add_with_password(&cli, &u).expect_ok();
    let sessions = |c: &Checker| c.tokens().into_iter().filter(|t| t["type"] == "normal").count();
    assert!(sessions(&checker) >= 3, "checker's login, phone, Keyward");

    let out = cli.run(&["revoke", &account(&u), "--all-others", "--yes", "--json"], None).expect_ok().json();
    assert!(out["results"].as_array().unwrap().len() >= 2, "{out}");
    let left = checker.tokens();
    let normal: Vec<&Value> = left.iter().filter(|t| t["type"] == "normal").collect();
    assert_eq!(normal.len(), 1, "{left:?}");
    assert_eq!(normal[0]["client_id"], KEYWARD_CLIENT);
    assert!(left.iter().any(|t| t["id"] == grafana.as_str()) && left.iter().any(|t| t["id"] == checker_llat.as_str()));

    // Removing the account with --sign-out ends Keyward's own session too.
    cli.run(&["remove", &account(&u), "--sign-out"], None).expect_ok();
    assert!(checker.keyward_sessions().is_empty());
}

#[test]
fn expired_access_token_is_minted_again_from_the_session() {
    if common::skip_without("KEYWARD_TEST_HA_URL") {
        return;
    }
    let u = user(9);
    let cli = Cli::new();
    add_with_password(&cli, &u).expect_ok();
    // Break the kept access token as if it had expired early: the refresh token must carry on.
    // (Written with the attributes the keyring crate uses, so it replaces Keyward's entry.)
    let id = cli.run(&["accounts", "--json"], None).expect_ok().json()[0]["id"].as_str().unwrap().to_string();
    let mut entry: Value = serde_json::from_str(&cli.keyring_entry(&id).unwrap()).unwrap();
    entry["access_token"] = json!("not-a-valid-token");
    let status = std::process::Command::new("sh")
        .args([
            "-c",
            "printf %s \"$0\" | secret-tool store --label=test service \"$1\" username \"$2\" target default application rust-keyring",
            &entry.to_string(),
            cli.keyring_service(),
            &id,
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let rows = list(&cli, &account(&u));
    assert!(rows.iter().any(|r| r["current"] == true));
    let entry: Value = serde_json::from_str(&cli.keyring_entry(&id).unwrap()).unwrap();
    assert_ne!(entry["access_token"], "not-a-valid-token");
}

#[test]
fn rename_is_refused_in_one_line() {
    if common::skip_without("KEYWARD_TEST_HA_URL") {
        return;
    }
    let u = user(10);
    let checker = Checker::new(&u);
    let (id, _) = checker.long_lived("keep my name");
    let cli = Cli::new();
    add_with_password(&cli, &u).expect_ok();
    let line = cli.run(&["rename", &account(&u), &id, "new name"], None).expect_err();
    assert!(line.contains("rename"), "{line}");
    assert!(checker.tokens().iter().any(|t| t["id"] == id.as_str() && t["client_name"] == "keep my name"));
}

#[test]
fn detects_home_assistant_without_kind_and_nothing_else_as_it() {
    if common::skip_without("KEYWARD_TEST_HA_URL") {
        return;
    }
    let u = user(11);
    let out = Cli::new().run(&["detect", &url()], None).expect_ok().stdout;
    assert_eq!(out.trim(), format!("homeassistant at {}", url()));
    let checker = Checker::new(&u);
    let cli = Cli::new();
    cli.run(&["add", &url(), "--user", &u, "--password-stdin"], Some(&format!("{}\n", password()))).expect_ok();
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json()[0]["kind"], "homeassistant");
    assert_eq!(checker.keyward_sessions().len(), 1);

    // The other real servers of this run are never taken for Home Assistant, and adding one as
    // Home Assistant is one line.
    for (var, kind) in
        [("KEYWARD_TEST_JUPYTERHUB_URL", "jupyterhub"), ("KEYWARD_TEST_SYNAPSE_URL", "matrix"), ("KEYWARD_TEST_WORDPRESS_URL", "wordpress")]
    {
        let Ok(other) = std::env::var(var) else { continue };
        let out = Cli::new().run(&["detect", &other], None);
        assert!(!out.stdout.contains("homeassistant"), "{var}: {}", out.stdout);
        if out.ok() {
            assert!(out.stdout.starts_with(kind), "{var}: {}", out.stdout);
        }
        let line = Cli::new()
            .run(&["add", &other, "--user", &u, "--kind", "homeassistant", "--password-stdin"], Some(&format!("{}\n", password())))
            .expect_err();
        assert!(line.contains("is not a Home Assistant server"), "{line}");
    }
}

#[test]
fn server_down_or_not_home_assistant_is_one_line_and_changes_nothing() {
    if common::skip_without("KEYWARD_TEST_HA_URL") {
        return;
    }
    let u = user(12);
    let cli = Cli::new();
    let down = format!("http://127.0.0.1:{}", closed_port());
    let line = cli
        .run(&["add", &down, "--user", &u, "--kind", "homeassistant", "--password-stdin"], Some(&format!("{}\n", password())))
        .expect_err();
    assert!(line.contains("cannot reach") && line.contains("refused"), "{line}");

    let line =
        cli.run(&["add", &url(), "--user", &u, "--kind", "homeassistant", "--token-stdin"], Some("not.a.valid-token\n")).expect_err();
    assert!(line.contains("does not accept this token") && !line.contains("not.a.valid-token"), "{line}");

    let page = common::serve_html("<!doctype html><html><body>Hello</body></html>");
    let line = cli
        .run(&["add", &page, "--user", &u, "--kind", "homeassistant", "--password-stdin"], Some(&format!("{}\n", password())))
        .expect_err();
    assert!(line.contains("is not a Home Assistant server"), "{line}");
    assert!(cli.run(&["accounts", "--json"], None).expect_ok().json().as_array().unwrap().is_empty());
}

#[test]
fn a_leaked_access_token_of_another_device_is_identified_and_revoked_alone() {
    if common::skip_without("KEYWARD_TEST_HA_URL") {
        return;
    }
    let u = user(13);
    let checker = Checker::new(&u);
    let (kept_token_id, _) = checker.long_lived("Grafana");
    // The leak: the access token of the user's phone (a JWT whose `iss` names its session).
    let (leaked, _) = login(&u, "http://phone.test/");
    let phone = checker.tokens().into_iter().find(|t| t["client_id"] == "http://phone.test/").unwrap()["id"].as_str().unwrap().to_string();
    let cli = Cli::new();
    add_with_password(&cli, &u).expect_ok();
    let before = checker.ids();

    let found = cli.run(&["identify", "--token-stdin", "--json"], Some(&format!("{leaked}\n"))).expect_ok();
    let v = found.json();
    assert_eq!(v["kind"], "homeassistant", "{v}");
    assert_eq!(v["account"], account(&u).as_str(), "{v}");
    assert_eq!(v["credential_id"], phone.as_str(), "{v}");
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["revoked"], false, "{v}");
    assert_eq!(checker.ids(), before, "asking changed nothing on the server");

    let out = cli.run(&["identify", "--token-stdin", "--json", "--revoke", "--yes"], Some(&format!("{leaked}\n"))).expect_ok();
    assert_eq!(out.json()["revoked"], true, "{}", out.stdout);
    let mut expected: Vec<String> = before.into_iter().filter(|id| *id != phone).collect();
    expected.sort();
    assert_eq!(checker.ids(), expected, "exactly the phone's session is gone");
    assert!(checker.ids().contains(&kept_token_id));
    assert_eq!(checker.keyward_sessions().len(), 1, "Keyward's own session stays");
    // Dead on the server: the leaked token no longer opens the API.
    let status = block(async { reqwest::Client::new().get(format!("{}/api/", url())).bearer_auth(&leaked).send().await.unwrap().status() });
    assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED);
    for text in [&found.stdout, &found.stderr, &out.stdout, &out.stderr] {
        assert!(!text.contains(&leaked), "the pasted token is never printed");
    }
    for (path, content) in cli.config_files() {
        assert!(!content.contains(&leaked), "{path:?}");
    }
}

// ---- two-factor login (the TOTP module, enrolled for kwmfa1 and kwmfa2 by the server script) ----

/// The two-factor user `n` (1 or 2), fixed per test.
fn mfa_user(n: usize) -> String {
    env("KEYWARD_TEST_HA_MFA_USERS").split_whitespace().nth(n - 1).expect("the two-factor test users").to_string()
}

/// RFC 4648 base32 (no padding), as authenticator apps take TOTP secrets.
fn base32(s: &str) -> Vec<u8> {
    let (mut bits, mut n, mut out) = (0u64, 0u32, Vec::new());
    for c in s.trim_end_matches('=').chars() {
        let v = match c {
            'A'..='Z' => c as u64 - 'A' as u64,
            '2'..='7' => c as u64 - '2' as u64 + 26,
            _ => panic!("not base32: {c:?}"),
        };
        bits = (bits << 5) | v;
        n += 5;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    out
}

/// The code of the test users' secret at `unix`.
fn totp_at(unix: u64) -> String {
    totp(&base32(&env("KEYWARD_TEST_HA_TOTP_SECRET")), unix)
}

/// The RFC 6238 code of `key` at `unix` (HMAC-SHA-1, 30-second steps, 6 digits).
fn totp(key: &[u8], unix: u64) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).unwrap();
    mac.update(&(unix / 30).to_be_bytes());
    let h = mac.finalize().into_bytes();
    let at = (h[19] & 0x0f) as usize;
    let n = u32::from_be_bytes([h[at] & 0x7f, h[at + 1], h[at + 2], h[at + 3]]) % 1_000_000;
    format!("{n:06}")
}

fn totp_now() -> String {
    totp_at(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs())
}

#[test]
fn totp_codes_follow_rfc_6238() {
    // RFC 6238 appendix B, SHA-1, its 20-byte secret "12345678901234567890" (base32 below), 8
    // digits there: the last 6 of them here.
    let key = base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    assert_eq!(key, b"12345678901234567890");
    assert_eq!(totp(&key, 59), "287082");
    assert_eq!(totp(&key, 1111111109), "081804");
    assert_eq!(totp(&key, 2000000000), "279037");
}

/// A session of a two-factor user made through the login flow with a code: its access token.
fn login_with_code(user: &str, client_id: &str) -> String {
    block(async {
        let c = reqwest::Client::new();
        let base = url();
        let post = |path: String, body: Value| {
            let c = c.clone();
            async move { c.post(path).json(&body).send().await.unwrap().json::<Value>().await.unwrap() }
        };
        let flow = post(
            format!("{base}/auth/login_flow"),
            json!({ "client_id": client_id, "handler": ["homeassistant", null], "redirect_uri": format!("{client_id}cb") }),
        )
        .await;
        let id = flow["flow_id"].as_str().unwrap().to_string();
        let step =
            post(format!("{base}/auth/login_flow/{id}"), json!({ "client_id": client_id, "username": user, "password": password() })).await;
        assert_eq!(step["step_id"], "mfa", "the user has two-factor login: {step}");
        let step = post(format!("{base}/auth/login_flow/{id}"), json!({ "client_id": client_id, "code": totp_now() })).await;
        let code = step["result"].as_str().unwrap_or_else(|| panic!("{step}")).to_string();
        let t: Value = c
            .post(format!("{base}/auth/token"))
            .form(&[("grant_type", "authorization_code"), ("code", code.as_str()), ("client_id", client_id)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        t["access_token"].as_str().unwrap().to_string()
    })
}

fn keyward_sessions_of(access: &str) -> Vec<Value> {
    ws(access, &[("auth/refresh_tokens", json!({}))])[0]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["client_id"] == KEYWARD_CLIENT)
        .cloned()
        .collect()
}

#[test]
fn a_totp_code_from_stdin_completes_a_two_factor_login() {
    if common::skip_without("KEYWARD_TEST_HA_URL") {
        return;
    }
    let u = mfa_user(1);
    let checker = login_with_code(&u, CHECKER_CLIENT);
    let before = keyward_sessions_of(&checker).len();
    let cli = Cli::new();
    let code = totp_now();
    let out = cli
        .run(
            &["add", &url(), "--user", &u, "--kind", "homeassistant", "--password-stdin", "--code-stdin"],
            Some(&format!("{}\n{code}\n", password())),
        )
        .expect_ok();
    assert!(out.stdout.contains(&format!("Added {}", account(&u))), "{}", out.stdout);
    let ours = keyward_sessions_of(&checker);
    assert_eq!(ours.len(), before + 1, "{ours:?}");
    let rows = list(&cli, &account(&u));
    assert!(rows.iter().any(|r| r["current"] == true && ours.iter().any(|t| t["id"] == r["id"])), "{rows:#?}");
}

#[test]
fn a_wrong_or_missing_totp_code_is_one_line_and_stores_nothing() {
    if common::skip_without("KEYWARD_TEST_HA_URL") {
        return;
    }
    let u = mfa_user(2);
    let checker = login_with_code(&u, CHECKER_CLIENT);
    let before = keyward_sessions_of(&checker).len();
    let cli = Cli::new();
    let args = ["add", &url(), "--user", &u, "--kind", "homeassistant", "--password-stdin", "--code-stdin"];
    // A code from an hour ago is outside any window the server accepts.
    let old = totp_at(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 3600);
    let wrong = if old == totp_now() { "000000".to_string() } else { old };
    let err = cli.run(&args, Some(&format!("{}\n{wrong}\n", password()))).expect_err();
    assert!(err.contains("one-time code") && err.contains("not accepted") && err.contains("nothing was changed"), "{err}");
    assert!(err.contains("--code-stdin"), "{err}");
    assert!(!err.contains(&wrong) && !err.contains(&password()), "{err}");
    // No code at all, and no terminal to ask at: it says what to give.
    let err = add_with_password(&cli, &u).expect_err();
    assert!(err.contains("asks for a one-time code") && err.contains("--code-stdin"), "{err}");
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json(), json!([]));
    assert_eq!(keyward_sessions_of(&checker).len(), before, "nothing was made on the server");
    for (path, content) in cli.config_files() {
        assert!(!content.contains(&password()), "{path:?}");
    }
}

#[test]
fn browser_approval_is_not_offered_and_is_refused_in_one_line() {
    if common::skip_without("KEYWARD_TEST_HA_URL") {
        return;
    }
    let cli = Cli::new().with_env("BROWSER", "true");
    let options = cli.run(&["detect", &url(), "--json"], None).expect_ok().json();
    assert_eq!(options["kind"], "homeassistant");
    assert_eq!(options["methods"], json!(["password", "token"]));
    let err = cli.run(&["add", &url(), "--browser"], None).expect_err();
    assert!(err.contains("cannot be approved in the browser") && err.contains("--password-stdin"), "{err}");
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json(), json!([]));
}
