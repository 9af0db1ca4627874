//! Another user's credentials, from an administrator's account (`keyward list ACCOUNT --user NAME`,
//! `keyward revoke ACCOUNT ID... --user NAME --yes`), against the real servers `make test` starts:
//! Synapse (its admin API), JupyterHub (an admin's view of a user's tokens) and WordPress (an
//! administrator's view of a user's application passwords). Every test makes its own users,
//! acts through the real CLI, and checks the result on the server itself.

mod common;

use std::time::Duration;

use common::synapse::{Synapse, PASSWORD};
use common::{env, unique, Cli};
use serde_json::{json, Value};

fn rows(run: common::Run) -> Vec<Value> {
    run.expect_ok().json().as_array().unwrap_or_else(|| panic!("not a list of rows")).clone()
}

fn ids(rows: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = rows.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
    v.sort();
    v
}

fn own_id(rows: &[Value]) -> String {
    let own: Vec<&Value> = rows.iter().filter(|r| r["current"] == true).collect();
    assert_eq!(own.len(), 1, "exactly one row is the app's own: {rows:#?}");
    own[0]["id"].as_str().unwrap().to_string()
}

// ---- Matrix (Synapse's admin API) ----

fn add_matrix(cli: &Cli, hs: &Synapse, user: &str) -> String {
    cli.run(&["add", &hs.url, "--user", user, "--password-stdin"], Some(&format!("{PASSWORD}\n"))).expect_ok();
    format!("{user}@{}", hs.host())
}

/// Signs `user` in as a client with this user agent from this address, and uses the token once
/// so that the device has a last-seen time, address and user agent. Returns (token, device id).
async fn matrix_device(hs: &Synapse, user: &str, name: &str, ip: &str, ua: &str) -> (String, String) {
    hs.device_as(user, name, ip, Some(ua)).await
}

const ELEMENT_UA: &str = "Element/1.11.85 (X11; Linux x86_64) Electron/33.2.1 Chrome/130.0 Safari/537.36";
const FIREFOX_UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const ANDROID_UA: &str = "Element/1.6.24 (Linux; U; Android 14; Pixel 8 Build/AP2A; Flavour GooglePlay; MatrixAndroidSdk2 1.6.24)";

#[tokio::test]
async fn a_synapse_admin_lists_another_user_s_devices_and_signs_two_out_in_one_go() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let admin = hs.register_as("adm", true).await;
    let bob = hs.register("bob").await;
    let (_, desktop) = matrix_device(&hs, &bob, "Element Desktop: Linux", "203.0.113.7", ELEMENT_UA).await;
    let (_, browser) = matrix_device(&hs, &bob, "app.element.io: Firefox on Linux", "198.51.100.4", FIREFOX_UA).await;
    let (token, phone) = matrix_device(&hs, &bob, "Element Android", "192.0.2.44", ANDROID_UA).await;
    let cli = Cli::new();
    let account = add_matrix(&cli, &hs, &admin);
    let own = own_id(&rows(cli.run(&["list", &account, "--json"], None)));

    // Synapse writes last-seen user agents in batches: wait until the admin API has them.
    let mut listed = Vec::new();
    for _ in 0..30 {
        listed = rows(cli.run(&["list", &account, "--user", &bob, "--json"], None));
        if listed.iter().filter(|r| r["details"].to_string().contains("User agent")).count() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Exactly bob's devices, in the rows `list` shows, none of them the admin's or marked current.
    assert_eq!(ids(&listed), hs.device_ids(&token).await);
    assert!(!ids(&listed).contains(&own), "the admin's own device is never among another user's");
    for r in &listed {
        assert_eq!(r["current"], false, "{r:#}");
        assert_eq!(r["kind"], "session");
        assert_eq!(r["account"], account);
        assert_eq!(r["can_revoke"], true);
        assert_eq!(r["revoke_needs_password"], false, "the admin API needs no password");
        assert!(r["summary"].as_str().unwrap().len() > 10, "{r:#}");
    }
    let row = |id: &str| listed.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no row {id}")).clone();
    let d = row(&desktop);
    assert_eq!(d["last_ip"], "203.0.113.7");
    assert!(d["summary"].as_str().unwrap().contains("203.0.113.7"), "{d:#}");
    assert!(d["details"].to_string().contains("Electron/33.2.1"), "{d:#}");
    assert_eq!(row(&browser)["last_ip"], "198.51.100.4");
    assert!(row(&browser)["details"].to_string().contains("Firefox/133.0"));
    assert_eq!(row(&phone)["last_ip"], "192.0.2.44");
    // Synapse's whois names the user's connections but not their devices: said once, as a note.
    let table = cli.run(&["list", &account, "--user", &bob], None).expect_ok().stdout;
    assert!(table.contains("note:") && table.contains("without saying which device"), "{table}");

    // The table: the same rows with their summary lines, under the user's name.
    assert!(table.contains(&format!("@{bob}:localhost")), "{table}");
    assert!(table.contains(&desktop) && table.contains("Element Desktop: Linux") && table.contains("203.0.113.7"), "{table}");

    // Two in one go, checked on the server (bob's registration made a device too, which stays).
    let before = hs.device_ids(&token).await;
    // The admin's own device is not bob's: naming it (beside one of bob's) revokes nothing.
    let e = cli.run(&["revoke", &account, &desktop, &own, "--user", &bob, "--yes"], None).expect_err();
    assert!(e.contains("has no credential") && e.contains(&own) && e.contains("nothing was changed"), "{e}");
    assert_eq!(hs.device_ids(&token).await, before);
    let run = cli.run(&["revoke", &account, &desktop, &browser, "--user", &bob, "--yes", "--json"], None).expect_ok();
    let report = run.json();
    assert_eq!(report["user"], format!("@{bob}:localhost"));
    assert_eq!(report["results"].as_array().unwrap().len(), 2);
    assert!(report["results"].as_array().unwrap().iter().all(|r| r["error"].is_null()), "{report:#}");
    let after = hs.device_ids(&token).await;
    assert_eq!(after, before.into_iter().filter(|d| *d != desktop && *d != browser).collect::<Vec<_>>());
    assert!(after.contains(&phone));
    // The admin is still signed in, its own device untouched.
    assert!(ids(&rows(cli.run(&["list", &account, "--json"], None))).contains(&own));
    // The history names the user.
    let history = cli.run(&["history", "--json"], None).expect_ok().json();
    let entries: Vec<&Value> = history.as_array().unwrap().iter().filter(|e| e["user"] == format!("@{bob}:localhost")).collect();
    assert_eq!(entries.len(), 2, "{history:#}");
    assert!(entries.iter().all(|e| e["ok"] == true && e["action"] == "revoke"));
}

#[tokio::test]
async fn another_user_s_push_registrations_are_shown_and_left_to_their_devices() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let admin = hs.register_as("adm", true).await;
    let frank = hs.register("frank").await;
    let (token, _) = matrix_device(&hs, &frank, "Element Android", "192.0.2.90", ANDROID_UA).await;
    let pusher = json!({
        "app_id": "im.vector.app.android", "pushkey": "push-key-secret-9", "kind": "http",
        "app_display_name": "Element", "device_display_name": "Pixel 8", "lang": "en",
        "data": {"url": "https://push.example.org/_matrix/push/v1/notify", "format": "event_id_only"}
    });
    let r =
        Synapse::http().post(format!("{}/_matrix/client/v3/pushers/set", hs.url)).bearer_auth(&token).json(&pusher).send().await.unwrap();
    assert!(r.status().is_success());
    let cli = Cli::new();
    let account = add_matrix(&cli, &hs, &admin);
    let listed = rows(cli.run(&["list", &account, "--user", &frank, "--json"], None));
    let push: Vec<&Value> = listed.iter().filter(|r| r["kind"] == "push_registration").collect();
    assert_eq!(push.len(), 1, "{listed:#?}");
    assert_eq!(push[0]["name"], "Pixel 8");
    assert_eq!(push[0]["can_revoke"], false);
    assert!(push[0]["why_not"].as_str().unwrap().contains("signing out its device"), "{:#}", push[0]);
    assert!(!push[0].to_string().contains("push-key-secret-9"), "the push key is not shown");
    let id = push[0]["id"].as_str().unwrap();
    let e = cli.run(&["revoke", &account, id, "--user", &frank, "--yes"], None).expect_err();
    assert!(e.contains("cannot remove another user's push registration"), "{e}");
    assert_eq!(hs.pushers(&token).await.len(), 1);
}

#[tokio::test]
async fn a_matrix_account_that_is_not_an_admin_gets_one_sentence_and_nothing_changes() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let carol = hs.register("carol").await;
    let dave = hs.register("dave").await;
    let (token, device) = matrix_device(&hs, &dave, "Nheko", "192.0.2.9", "nheko/0.12.0").await;
    let before = hs.device_ids(&token).await;
    let cli = Cli::new();
    let account = add_matrix(&cli, &hs, &carol);
    let e = cli.run(&["list", &account, "--user", &dave], None).expect_err();
    assert!(e.contains("is not an administrator of its server"), "{e}");
    let e = cli.run(&["revoke", &account, &device, "--user", &dave, "--yes"], None).expect_err();
    assert!(e.contains("is not an administrator of its server"), "{e}");
    assert_eq!(hs.device_ids(&token).await, before);
    let history = cli.run(&["history", "--json"], None).expect_ok().json();
    assert!(history.as_array().unwrap().is_empty(), "{history:#}");
}

#[tokio::test]
async fn a_synapse_admin_naming_nobody_or_itself_is_told_so() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let admin = hs.register_as("adm", true).await;
    let cli = Cli::new();
    let account = add_matrix(&cli, &hs, &admin);
    let nobody = unique("nobody");
    let e = cli.run(&["list", &account, "--user", &nobody], None).expect_err();
    assert!(e.contains("has no user") && e.contains(&nobody), "{e}");
    // Its own devices go through `list ACCOUNT` and the rule for Keyward's own session.
    let own = own_id(&rows(cli.run(&["list", &account, "--json"], None)));
    for me in [admin.clone(), format!("@{admin}:localhost")] {
        let e = cli.run(&["revoke", &account, &own, "--user", &me, "--yes"], None).expect_err();
        assert!(e.contains("itself"), "{e}");
    }
    assert!(ids(&rows(cli.run(&["list", &account, "--json"], None))).contains(&own));
}

#[tokio::test]
async fn revoke_for_another_user_without_yes_changes_nothing() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let admin = hs.register_as("adm", true).await;
    let erin = hs.register("erin").await;
    let (token, device) = matrix_device(&hs, &erin, "Fractal", "192.0.2.10", "Fractal/9").await;
    let before = hs.device_ids(&token).await;
    assert!(before.contains(&device));
    let cli = Cli::new();
    let account = add_matrix(&cli, &hs, &admin);
    let e = cli.run(&["revoke", &account, &device, "--user", &erin], None).expect_err();
    assert!(e.contains("cannot be undone") && e.contains("--yes"), "{e}");
    assert_eq!(hs.device_ids(&token).await, before);
    let history = cli.run(&["history", "--json"], None).expect_ok().json();
    assert!(history.as_array().unwrap().is_empty());
}

// ---- JupyterHub (an admin's view of a user's tokens) ----

struct Hub {
    url: String,
    service_token: String,
    password: String,
}

impl Hub {
    fn new() -> Self {
        Hub {
            url: env("KEYWARD_TEST_JUPYTERHUB_URL"),
            service_token: env("KEYWARD_TEST_JUPYTERHUB_SERVICE_TOKEN"),
            password: env("KEYWARD_TEST_JUPYTERHUB_PASSWORD"),
        }
    }

    async fn api(&self, method: reqwest::Method, path: &str) -> (u16, Value) {
        let r = reqwest::Client::new()
            .request(method, format!("{}/hub/api/{path}", self.url))
            .header("Authorization", format!("token {}", self.service_token))
            .send()
            .await
            .expect("the hub answers");
        let status = r.status().as_u16();
        (status, serde_json::from_str(&r.text().await.unwrap_or_default()).unwrap_or(Value::Null))
    }

    async fn new_user(&self) -> String {
        let name = unique("jh");
        let (status, _) = self.api(reqwest::Method::POST, &format!("users/{name}")).await;
        assert_eq!(status, 201, "creating user {name}");
        name
    }

    async fn token_ids(&self, user: &str) -> Vec<String> {
        let (status, v) = self.api(reqwest::Method::GET, &format!("users/{user}/tokens")).await;
        assert_eq!(status, 200, "{v}");
        let mut ids: Vec<String> =
            v["api_tokens"].as_array().cloned().unwrap_or_default().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect();
        ids.sort();
        ids
    }

    /// A token the user makes for another program; returns its id.
    async fn make_token(&self, user: &str, note: &str) -> String {
        let body = json!({ "auth": { "username": user, "password": self.password }, "note": note });
        let r = reqwest::Client::new().post(format!("{}/hub/api/users/{user}/tokens", self.url)).json(&body).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 201);
        r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
    }
}

#[tokio::test]
async fn a_jupyterhub_admin_lists_and_revokes_another_user_s_tokens() {
    if common::skip_without("KEYWARD_TEST_JUPYTERHUB_URL") {
        return;
    }
    let hub = Hub::new();
    let user = hub.new_user().await;
    let laptop = hub.make_token(&user, "laptop sync").await;
    let ci = hub.make_token(&user, "CI pipeline").await;
    let cli = Cli::new();
    let admin = env("KEYWARD_TEST_JUPYTERHUB_ADMIN");
    let admin_pw = env("KEYWARD_TEST_JUPYTERHUB_ADMIN_PASSWORD");
    cli.run(&["add", &hub.url, "--user", &admin, "--password-stdin"], Some(&format!("{admin_pw}\n"))).expect_ok();
    let account = format!("{admin}@{}", hub.url.trim_start_matches("http://"));
    let own = own_id(&rows(cli.run(&["list", &account, "--json"], None)));

    let listed = rows(cli.run(&["list", &account, "--user", &user, "--json"], None));
    assert_eq!(ids(&listed), hub.token_ids(&user).await);
    assert!(!ids(&listed).contains(&own));
    for r in &listed {
        assert_eq!(r["current"], false);
        assert_eq!(r["can_revoke"], true);
        assert!(r["summary"].as_str().unwrap().len() > 10, "{r:#}");
    }
    let table = cli.run(&["list", &account, "--user", &user], None).expect_ok().stdout;
    assert!(table.contains("laptop sync") && table.contains("CI pipeline"), "{table}");

    cli.run(&["revoke", &account, &laptop, "--user", &user, "--yes"], None).expect_ok();
    assert_eq!(hub.token_ids(&user).await, vec![ci]);
    // The admin's own token still works.
    assert!(ids(&rows(cli.run(&["list", &account, "--json"], None))).contains(&own));

    let nobody = unique("nobody");
    let e = cli.run(&["list", &account, "--user", &nobody], None).expect_err();
    assert!(e.contains("has no user"), "{e}");
}

#[tokio::test]
async fn a_jupyterhub_user_who_is_not_an_admin_gets_one_sentence_and_nothing_changes() {
    if common::skip_without("KEYWARD_TEST_JUPYTERHUB_URL") {
        return;
    }
    let hub = Hub::new();
    let owner = hub.new_user().await;
    let token = hub.make_token(&owner, "notebook").await;
    let other = hub.new_user().await;
    let cli = Cli::new();
    cli.run(&["add", &hub.url, "--user", &other, "--password-stdin"], Some(&format!("{}\n", hub.password))).expect_ok();
    let account = format!("{other}@{}", hub.url.trim_start_matches("http://"));
    // The hub answers 404 here, as for a user that does not exist: the caller's admin flag tells.
    let e = cli.run(&["list", &account, "--user", &owner], None).expect_err();
    assert!(e.contains("is not an administrator of its server"), "{e}");
    let e = cli.run(&["revoke", &account, &token, "--user", &owner, "--yes"], None).expect_err();
    assert!(e.contains("is not an administrator of its server"), "{e}");
    assert_eq!(hub.token_ids(&owner).await, vec![token]);
}

// ---- WordPress (an administrator's view of a user's application passwords) ----

struct Site {
    url: String,
    admin: String,
    password: String,
}

struct WpUser {
    id: u64,
    name: String,
    app_password: String,
}

impl Site {
    fn new() -> Self {
        Site {
            url: env("KEYWARD_TEST_WORDPRESS_URL"),
            admin: env("KEYWARD_TEST_WORDPRESS_ADMIN"),
            password: env("KEYWARD_TEST_WORDPRESS_ADMIN_PASSWORD"),
        }
    }

    async fn call(&self, method: reqwest::Method, route: &str, body: Option<Value>) -> Value {
        let mut req = reqwest::Client::new()
            .request(method.clone(), format!("{}/wp-json/{route}", self.url))
            .basic_auth(&self.admin, Some(&self.password));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("the WordPress test site answers");
        let status = r.status();
        let v = r.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {route}: {status} {v}");
        v
    }

    /// A fresh user with this role and one application password to sign in with.
    async fn user(&self, role: &str) -> WpUser {
        let name = unique("wp");
        let u = self
            .call(
                reqwest::Method::POST,
                "wp/v2/users",
                Some(json!({ "username": name, "email": format!("{name}@example.org"), "password": unique("pw-"), "roles": [role] })),
            )
            .await;
        let id = u["id"].as_u64().unwrap();
        let (_, app_password) = self.app_password(id, "Keyward test").await;
        WpUser { id, name, app_password }
    }

    async fn app_password(&self, user: u64, name: &str) -> (String, String) {
        let v = self.call(reqwest::Method::POST, &format!("wp/v2/users/{user}/application-passwords"), Some(json!({ "name": name }))).await;
        (v["uuid"].as_str().unwrap().to_string(), v["password"].as_str().unwrap().to_string())
    }

    async fn uuids(&self, user: u64) -> Vec<String> {
        let v = self.call(reqwest::Method::GET, &format!("wp/v2/users/{user}/application-passwords"), None).await;
        let mut ids: Vec<String> = v.as_array().unwrap().iter().map(|p| p["uuid"].as_str().unwrap().to_string()).collect();
        ids.sort();
        ids
    }

    fn add(&self, cli: &Cli, user: &WpUser) -> String {
        cli.run(&["add", &self.url, "--user", &user.name, "--token-stdin"], Some(&format!("{}\n", user.app_password))).expect_ok();
        format!("{}@{}", user.name, self.url.trim_start_matches("http://"))
    }
}

#[tokio::test]
async fn a_wordpress_administrator_lists_and_revokes_another_user_s_application_passwords() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    let site = Site::new();
    let admin = site.user("administrator").await;
    let author = site.user("author").await;
    let (phone, _) = site.app_password(author.id, "WordPress for Android").await;
    let cli = Cli::new();
    let account = site.add(&cli, &admin);
    let own = own_id(&rows(cli.run(&["list", &account, "--json"], None)));

    let listed = rows(cli.run(&["list", &account, "--user", &author.name, "--json"], None));
    assert_eq!(ids(&listed), site.uuids(author.id).await);
    assert_eq!(listed.len(), 2);
    assert!(!ids(&listed).contains(&own));
    for r in &listed {
        assert_eq!(r["current"], false, "the author's own sign-in is not the admin's: {r:#}");
        assert_eq!(r["kind"], "app_password");
        assert_eq!(r["can_revoke"], true);
        assert!(r["summary"].as_str().unwrap().len() > 10, "{r:#}");
    }
    let table = cli.run(&["list", &account, "--user", &author.name], None).expect_ok().stdout;
    assert!(table.contains("WordPress for Android"), "{table}");

    cli.run(&["revoke", &account, &phone, "--user", &author.name, "--yes"], None).expect_ok();
    let left = site.uuids(author.id).await;
    assert_eq!(left.len(), 1);
    assert!(!left.contains(&phone));
    // The admin's own application password still works.
    assert!(ids(&rows(cli.run(&["list", &account, "--json"], None))).contains(&own));

    let e = cli.run(&["list", &account, "--user", &unique("nobody")], None).expect_err();
    assert!(e.contains("has no user"), "{e}");
}

#[tokio::test]
async fn a_wordpress_user_who_is_not_an_administrator_gets_one_sentence_and_nothing_changes() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    let site = Site::new();
    let owner = site.user("subscriber").await;
    let (uuid, _) = site.app_password(owner.id, "Jetpack").await;
    let cli = Cli::new();
    for role in ["author", "subscriber"] {
        let user = site.user(role).await;
        let account = site.add(&cli, &user);
        let e = cli.run(&["list", &account, "--user", &owner.name], None).expect_err();
        assert!(e.contains("is not an administrator of its server"), "{role}: {e}");
        let e = cli.run(&["revoke", &account, &uuid, "--user", &owner.name, "--yes"], None).expect_err();
        assert!(e.contains("is not an administrator of its server"), "{role}: {e}");
    }
    assert_eq!(site.uuids(owner.id).await.len(), 2);
}

// ---- kinds without an admin API ----

#[test]
fn a_kind_without_an_admin_api_says_so_before_asking_anything() {
    // Home Assistant offers administrators no view of another user's tokens: the core refuses
    // from the capabilities alone, so no server is needed (the account points nowhere).
    let cli = Cli::new();
    let dir = cli.config_dir();
    std::fs::write(
        dir.join("accounts.json"),
        serde_json::to_string(&json!({"version": 1, "accounts": [{
            "id": "a1", "kind": "homeassistant", "base_url": format!("http://127.0.0.1:{}", common::closed_port()),
            "login": "alice", "user_id": "alice", "signed_in": true, "added": "2026-01-01T00:00:00Z"
        }]}))
        .unwrap(),
    )
    .unwrap();
    let accounts = cli.run(&["accounts", "--json"], None);
    if !accounts.ok() || accounts.json().as_array().map(|a| a.len()) != Some(1) {
        panic!("the hand-made accounts file was not read: {} {}", accounts.stdout, accounts.stderr);
    }
    let e = cli.run(&["list", "a1", "--user", "bob"], None).expect_err();
    assert!(e.contains("Home Assistant offers administrators no way"), "{e}");
    let e = cli.run(&["revoke", "a1", "x", "--user", "bob", "--yes"], None).expect_err();
    assert!(e.contains("Home Assistant offers administrators no way"), "{e}");
}
