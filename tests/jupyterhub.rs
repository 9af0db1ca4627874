//! JupyterHub against the real hub that `make test` starts (scripts/servers/jupyterhub.sh): every
//! test acts through the real CLI, then checks the result on the hub itself with the seeded
//! service token (which may create users and read and delete their tokens). Each test has its
//! own user, so they run at once without seeing each other's tokens.

mod common;

use common::{closed_port, env, unique, Cli};
use serde_json::{json, Value};

struct Hub {
    url: String,
    service_token: String,
    password: String,
}

fn hub() -> Hub {
    Hub {
        url: env("KEYWARD_TEST_JUPYTERHUB_URL"),
        service_token: env("KEYWARD_TEST_JUPYTERHUB_SERVICE_TOKEN"),
        password: env("KEYWARD_TEST_JUPYTERHUB_PASSWORD"),
    }
}

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

impl Hub {
    fn api(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        block(async {
            let mut req = reqwest::Client::new()
                .request(method, format!("{}/hub/api/{}", self.url, path))
                .header("Authorization", format!("token {}", self.service_token));
            if let Some(b) = body {
                req = req.json(&b);
            }
            let r = req.send().await.expect("the hub answers");
            let status = r.status().as_u16();
            let text = r.text().await.unwrap_or_default();
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        })
    }

    /// A new user on the hub (the hub only issues tokens to users it knows).
    fn new_user(&self) -> String {
        let name = unique("jh");
        let (status, _) = self.api(reqwest::Method::POST, &format!("users/{name}"), None);
        assert_eq!(status, 201, "creating user {name}");
        name
    }

    /// The user's tokens as the hub has them.
    fn tokens(&self, user: &str) -> Vec<Value> {
        let (status, v) = self.api(reqwest::Method::GET, &format!("users/{user}/tokens"), None);
        assert_eq!(status, 200, "{v}");
        v["api_tokens"].as_array().cloned().unwrap_or_default()
    }

    fn token_ids(&self, user: &str) -> Vec<String> {
        let mut ids: Vec<String> = self.tokens(user).iter().map(|t| t["id"].as_str().unwrap().to_string()).collect();
        ids.sort();
        ids
    }

    /// An API token the user makes for some other program: (id, token).
    fn make_token(&self, user: &str, note: &str, extra: Value) -> (String, String) {
        let mut body = json!({ "auth": { "username": user, "password": self.password }, "note": note });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        let (status, v) = block(async {
            let r = reqwest::Client::new().post(format!("{}/hub/api/users/{user}/tokens", self.url)).json(&body).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        });
        assert_eq!(status, 201, "{v}");
        (v["id"].as_str().unwrap().to_string(), v["token"].as_str().unwrap().to_string())
    }

    /// Logs the user in to the hub in a browser-like session and lets the seeded OAuth service
    /// (notebook-viewer) get a token for them: the hub's real OAuth flow.
    fn oauth_token(&self, user: &str) {
        let client_id = env("KEYWARD_TEST_JUPYTERHUB_OAUTH_CLIENT");
        let secret = env("KEYWARD_TEST_JUPYTERHUB_OAUTH_SECRET");
        let redirect = env("KEYWARD_TEST_JUPYTERHUB_OAUTH_REDIRECT");
        block(async {
            let c = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
            let page = c.get(format!("{}/hub/login", self.url)).send().await.unwrap().text().await.unwrap();
            let re = regex::Regex::new(r#"name="_xsrf" value="([^"]+)""#).unwrap();
            let xsrf = re.captures(&page).expect("the login page has an _xsrf field")[1].to_string();
            let r = c
                .post(format!("{}/hub/login", self.url))
                .form(&[("_xsrf", xsrf.as_str()), ("username", user), ("password", self.password.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 302, "hub login");
            let r = c
                .get(format!("{}/hub/api/oauth2/authorize", self.url))
                .query(&[("client_id", client_id.as_str()), ("redirect_uri", redirect.as_str()), ("response_type", "code"), ("state", "t")])
                .send()
                .await
                .unwrap();
            let location = r.headers().get("location").expect("authorize redirects").to_str().unwrap().to_string();
            let code = url::Url::parse(&location).unwrap().query_pairs().find(|(k, _)| k == "code").expect("a code").1.to_string();
            let r = c
                .post(format!("{}/hub/api/oauth2/token", self.url))
                .form(&[
                    ("client_id", client_id.as_str()),
                    ("client_secret", secret.as_str()),
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", redirect.as_str()),
                ])
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "token exchange: {}", r.status());
        });
    }
}

fn host_port(url: &str) -> String {
    url.trim_start_matches("http://").trim_end_matches('/').to_string()
}

fn account(user: &str, hub: &Hub) -> String {
    format!("{user}@{}", host_port(&hub.url))
}

fn note() -> String {
    format!("Keyward on {}", hostname::get().unwrap().into_string().unwrap())
}

fn add_with_password(cli: &Cli, hub: &Hub, user: &str) -> common::Run {
    cli.run(&["add", &hub.url, "--user", user, "--kind", "jupyterhub", "--password-stdin"], Some(&format!("{}\n", hub.password)))
}

fn list(cli: &Cli, account: &str) -> Vec<Value> {
    cli.run(&["list", account, "--json"], None).expect_ok().json().as_array().cloned().unwrap()
}

fn row<'a>(rows: &'a [Value], id: &str) -> &'a Value {
    rows.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no row {id} in {rows:?}"))
}

/// The ids of tokens the hub has for a user, made by Keyward (note "Keyward on <host>").
fn keyward_tokens(hub: &Hub, user: &str) -> Vec<Value> {
    hub.tokens(user).into_iter().filter(|t| t["note"] == note()).collect()
}

#[test]
fn password_sign_in_makes_one_named_token_marked_current() {
    if common::skip_without("KEYWARD_TEST_JUPYTERHUB_URL") {
        return;
    }
    let hub = hub();
    let user = hub.new_user();
    let cli = Cli::new();
    add_with_password(&cli, &hub, &user).expect_ok();

    let on_hub = hub.tokens(&user);
    assert_eq!(on_hub.len(), 1, "{on_hub:?}");
    assert_eq!(on_hub[0]["note"], note());
    let own = on_hub[0]["id"].as_str().unwrap();

    let rows = list(&cli, &account(&user, &hub));
    assert_eq!(rows.len(), 1);
    let r = row(&rows, own);
    assert_eq!(r["current"], true);
    assert_eq!(r["kind"], "api_token");
    assert_eq!(r["name"], note());
    assert_eq!(r["can_rename"], false);
    assert_eq!(r["can_revoke"], true);
    // The token itself is in the keyring only.
    let id = cli.run(&["accounts", "--json"], None).expect_ok().json()[0]["id"].as_str().unwrap().to_string();
    let entry: Value = serde_json::from_str(&cli.keyring_entry(&id).expect("a keyring entry")).unwrap();
    let token = entry["token"].as_str().unwrap();
    for (path, content) in cli.config_files() {
        assert!(!content.contains(token), "{path:?}");
    }
}

#[test]
fn list_maps_every_field_the_hub_gives() {
    if common::skip_without("KEYWARD_TEST_JUPYTERHUB_URL") {
        return;
    }
    let hub = hub();
    let user = hub.new_user();
    let (scoped, _) = hub.make_token(&user, "notebook sync", json!({ "expires_in": 86400, "scopes": ["read:users!user"] }));
    let (used, used_token) = hub.make_token(&user, "cron job", json!({}));
    // Use the second token once, so the hub records activity for it.
    block(async {
        reqwest::Client::new()
            .get(format!("{}/hub/api/user", hub.url))
            .header("Authorization", format!("token {used_token}"))
            .send()
            .await
            .unwrap();
    });
    let cli = Cli::new();
    add_with_password(&cli, &hub, &user).expect_ok();
    let rows = list(&cli, &account(&user, &hub));
    assert_eq!(rows.len(), 3, "{rows:#?}");

    let on_hub = hub.tokens(&user);
    let hub_scoped = on_hub.iter().find(|t| t["id"] == scoped.as_str()).unwrap();
    let r = row(&rows, &scoped);
    assert_eq!(r["name"], "notebook sync");
    assert_eq!(r["kind"], "api_token");
    assert_eq!(r["current"], false);
    let expires = chrono::DateTime::parse_from_rfc3339(r["expires"].as_str().unwrap()).unwrap();
    let hub_expires = chrono::DateTime::parse_from_rfc3339(hub_scoped["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires, hub_expires);
    let created = chrono::DateTime::parse_from_rfc3339(r["created"].as_str().unwrap()).unwrap();
    assert_eq!(created, chrono::DateTime::parse_from_rfc3339(hub_scoped["created"].as_str().unwrap()).unwrap());
    assert_eq!(r["restrictions"], hub_scoped["scopes"]);
    assert!(r["last_used"].is_null(), "never used: {r}");
    assert!(r["details"].as_array().unwrap().iter().any(|f| f["label"] == "OAuth client" && f["value"] == "JupyterHub"));

    let r = row(&rows, &used);
    assert_eq!(r["name"], "cron job");
    assert!(r["last_used"].is_string(), "used once: {r}");
    assert!(r["expires"].is_null());
}

#[test]
fn pasted_token_signs_in_and_is_marked_current() {
    if common::skip_without("KEYWARD_TEST_JUPYTERHUB_URL") {
        return;
    }
    let hub = hub();
    let user = hub.new_user();
    let (id, token) = hub.make_token(&user, "pasted into keyward", json!({}));
    let cli = Cli::new();
    cli.run(&["add", &hub.url, "--user", &user, "--kind", "jupyterhub", "--token-stdin"], Some(&format!("{token}\n"))).expect_ok();
    // Nothing new on the hub: the pasted token is Keyward's credential.
    assert_eq!(hub.token_ids(&user), vec![id.clone()]);
    let rows = list(&cli, &account(&user, &hub));
    assert_eq!(row(&rows, &id)["current"], true);
}

#[test]
fn pasted_token_of_another_user_or_no_token_is_refused_in_one_line() {
    if common::skip_without("KEYWARD_TEST_JUPYTERHUB_URL") {
        return;
    }
    let hub = hub();
    let alice = hub.new_user();
    let bob = hub.new_user();
    let (_, bobs) = hub.make_token(&bob, "bob's", json!({}));
    let cli = Cli::new();
    let line =
        cli.run(&["add", &hub.url, "--user", &alice, "--kind", "jupyterhub", "--token-stdin"], Some(&format!("{bobs}\n"))).expect_err();
    assert!(line.contains(&format!("belongs to {bob}")), "{line}");
    let line =
        cli.run(&["add", &hub.url, "--user", &alice, "--kind", "jupyterhub", "--token-stdin"], Some("0123456789abcdef\n")).expect_err();
    assert!(line.contains("does not accept this token") && !line.contains("0123456789abcdef"), "{line}");
    assert!(hub.tokens(&alice).is_empty() && hub.tokens(&bob).len() == 1);
    assert!(cli.run(&["accounts", "--json"], None).expect_ok().json().as_array().unwrap().is_empty());
}

#[test]
fn revoke_one_deletes_exactly_that_token() {
    if common::skip_without("KEYWARD_TEST_JUPYTERHUB_URL") {
        return;
    }
    let hub = hub();
    let user = hub.new_user();
    let (a, _) = hub.make_token(&user, "a", json!({}));
    let (b, _) = hub.make_token(&user, "b", json!({}));
    let cli = Cli::new();
    add_with_password(&cli, &hub, &user).expect_ok();
    let acct = account(&user, &hub);
    cli.run(&["revoke", &acct, &a, "--yes"], None).expect_ok();
    let left = hub.token_ids(&user);
    assert!(!left.contains(&a) && left.contains(&b) && left.len() == 2, "{left:?}");
    // Keyward still works and no longer lists it.
    let rows = list(&cli, &acct);
    assert!(rows.iter().all(|r| r["id"] != a.as_str()));
}

#[test]
fn revoke_many_deletes_exactly_those() {
    if common::skip_without("KEYWARD_TEST_JUPYTERHUB_URL") {
        return;
    }
    let hub = hub();
    let user = hub.new_user();
    let ids: Vec<String> = (0..4).map(|i| hub.make_token(&user, &format!("t{i}"), json!({})).0).collect();
    let cli = Cli::new();
    add_with_password(&cli, &hub, &user).expect_ok();
    let acct = account(&user, &hub);
    let out = cli.run(&["revoke", &acct, &ids[0], &ids[2], &ids[3], "--yes", "--json"], None).expect_ok().json();
    assert_eq!(out["results"].as_array().unwrap().len(), 3);
    assert_eq!(out["signed_out"], false);
    let left = hub.token_ids(&user);
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.contains(&ids[1]));
    assert_eq!(keyward_tokens(&hub, &user).len(), 1);
}

#[test]
fn own_token_needs_include_this_app_and_then_signs_out() {
    if common::skip_without("KEYWARD_TEST_JUPYTERHUB_URL") {
        return;
    }
    let hub = hub();
    let user = hub.new_user();
    let cli = Cli::new();
    add_with_password(&cli, &hub, &user).expect_ok();
    let acct = account(&user, &hub);
    let own = keyward_tokens(&hub, &user)[0]["id"].as_str().unwrap().to_string();

    let line = cli.run(&["revoke", &acct, &own, "--yes"], None).expect_err();
    assert!(line.contains("--include-this-app"), "{line}");
    assert_eq!(hub.token_ids(&user), vec![own.clone()], "nothing changed");

    let out = cli.run(&["revoke", &acct, &own, "--yes", "--include-this-app"], None).expect_ok();
    assert!(out.stdout.contains("signed out"), "{}", out.stdout);
    assert!(hub.token_ids(&user).is_empty());
    let line = cli.run(&["list", &acct], None).expect_err();
    assert!(line.contains("sign in again"), "{line}");
}

#[test]
fn oauth_token_warns_that_its_client_loses_every_token() {
    if common::skip_without("KEYWARD_TEST_JUPYTERHUB_URL") {
        return;
    }
    let hub = hub();
    let user = hub.new_user();
    hub.oauth_token(&user);
    hub.oauth_token(&user);
    let cli = Cli::new();
    add_with_password(&cli, &hub, &user).expect_ok();
    let acct = account(&user, &hub);
    let rows = list(&cli, &acct);
    let oauth: Vec<&Value> = rows.iter().filter(|r| r["kind"] == "oauth_grant").collect();
    assert_eq!(oauth.len(), 2, "{rows:#?}");
    let client = "JupyterHub service notebook-viewer";
    for r in &oauth {
        assert_eq!(r["revoke_warning"], format!("Revoking this ends every token of {client} for this user"));
        assert!(r["restrictions"].as_array().unwrap().iter().any(|s| s == "access:services!service=notebook-viewer"));
        assert!(r["expires"].is_string());
    }
    // Revoking one ends both (the hub deletes every token of that client); Keyward's own stays.
    let id = oauth[0]["id"].as_str().unwrap().to_string();
    cli.run(&["revoke", &acct, &id, "--yes"], None).expect_ok();
    let left = hub.tokens(&user);
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["note"], note());
}

#[test]
fn wrong_password_creates_nothing() {
    if common::skip_without("KEYWARD_TEST_JUPYTERHUB_URL") {
        return;
    }
    let hub = hub();
    let user = hub.new_user();
    let cli = Cli::new();
    let line =
        cli.run(&["add", &hub.url, "--user", &user, "--kind", "jupyterhub", "--password-stdin"], Some("not-the-password\n")).expect_err();
    assert!(line.contains("wrong username or password"), "{line}");
    assert!(hub.tokens(&user).is_empty());
    assert!(cli.run(&["accounts", "--json"], None).expect_ok().json().as_array().unwrap().is_empty());
}

#[test]
fn missing_scope_is_one_line_naming_it() {
    if common::skip_without("KEYWARD_TEST_JUPYTERHUB_URL") {
        return;
    }
    let hub = hub();
    let user = hub.new_user();
    let (_, limited) = hub.make_token(&user, "read only", json!({ "scopes": ["read:users!user"] }));
    let cli = Cli::new();
    cli.run(&["add", &hub.url, "--user", &user, "--kind", "jupyterhub", "--token-stdin"], Some(&format!("{limited}\n"))).expect_ok();
    let line = cli.run(&["list", &account(&user, &hub)], None).expect_err();
    assert!(line.contains("read:tokens") && line.contains("scope"), "{line}");
    assert!(!line.contains(&limited));
    assert_eq!(hub.tokens(&user).len(), 1);
}

#[test]
fn rename_is_refused_in_one_line() {
    if common::skip_without("KEYWARD_TEST_JUPYTERHUB_URL") {
        return;
    }
    let hub = hub();
    let user = hub.new_user();
    let (id, _) = hub.make_token(&user, "keep my name", json!({}));
    let cli = Cli::new();
    add_with_password(&cli, &hub, &user).expect_ok();
    let line = cli.run(&["rename", &account(&user, &hub), &id, "new name"], None).expect_err();
    assert!(line.contains("rename"), "{line}");
    assert!(hub.tokens(&user).iter().any(|t| t["id"] == id.as_str() && t["note"] == "keep my name"));
}

#[test]
fn remove_with_sign_out_deletes_the_own_token() {
    if common::skip_without("KEYWARD_TEST_JUPYTERHUB_URL") {
        return;
    }
    let hub = hub();
    let user = hub.new_user();
    let (other, _) = hub.make_token(&user, "other", json!({}));
    let cli = Cli::new();
    add_with_password(&cli, &hub, &user).expect_ok();
    cli.run(&["remove", &account(&user, &hub), "--sign-out"], None).expect_ok();
    assert_eq!(hub.token_ids(&user), vec![other]);
}

#[test]
fn detects_jupyterhub_without_kind() {
    if common::skip_without("KEYWARD_TEST_JUPYTERHUB_URL") {
        return;
    }
    let hub = hub();
    let out = cli_detect(&hub.url);
    assert!(out.starts_with("jupyterhub at "), "{out}");
    // A URL that already ends in /hub/ names the same hub.
    let out = cli_detect(&format!("{}/hub/", hub.url));
    assert_eq!(out.trim(), format!("jupyterhub at {}", hub.url));

    let user = hub.new_user();
    let cli = Cli::new();
    cli.run(&["add", &hub.url, "--user", &user, "--password-stdin"], Some(&format!("{}\n", hub.password))).expect_ok();
    let accounts = cli.run(&["accounts", "--json"], None).expect_ok().json();
    assert_eq!(accounts[0]["kind"], "jupyterhub");
    assert_eq!(keyward_tokens(&hub, &user).len(), 1);
}

fn cli_detect(url: &str) -> String {
    Cli::new().run(&["detect", url], None).expect_ok().stdout
}

#[test]
fn other_servers_are_not_taken_for_a_hub() {
    if common::skip_without("KEYWARD_TEST_JUPYTERHUB_URL") {
        return;
    }
    let hub = hub();
    let user = hub.new_user();
    // Whatever other real servers this run started must not look like JupyterHub.
    for (var, kind) in
        [("KEYWARD_TEST_HA_URL", "homeassistant"), ("KEYWARD_TEST_SYNAPSE_URL", "matrix"), ("KEYWARD_TEST_WORDPRESS_URL", "wordpress")]
    {
        let Ok(url) = std::env::var(var) else { continue };
        let out = Cli::new().run(&["detect", &url], None);
        assert!(!out.stdout.contains("jupyterhub"), "{var}: {}", out.stdout);
        if out.ok() {
            assert!(out.stdout.starts_with(kind), "{var}: {}", out.stdout);
        }
        let cli = Cli::new();
        let line = cli
            .run(&["add", &url, "--user", &user, "--kind", "jupyterhub", "--password-stdin"], Some(&format!("{}\n", hub.password)))
            .expect_err();
        assert!(line.contains("is not a JupyterHub server"), "{line}");
    }
    // A web page that is no server Keyward knows.
    let page = common::serve_html("<!doctype html><html><body>Hello</body></html>");
    let cli = Cli::new();
    let line = cli
        .run(&["add", &page, "--user", &user, "--kind", "jupyterhub", "--password-stdin"], Some(&format!("{}\n", hub.password)))
        .expect_err();
    assert!(line.contains("is not a JupyterHub server"), "{line}");
    let line = cli.run(&["detect", &page], None).expect_err();
    assert!(line.contains("could not tell what kind"), "{line}");
    assert!(hub.tokens(&user).is_empty());
}

#[test]
fn server_down_is_one_line_and_changes_nothing() {
    if common::skip_without("KEYWARD_TEST_JUPYTERHUB_URL") {
        return;
    }
    let hub = hub();
    let user = hub.new_user();
    let cli = Cli::new();
    let url = format!("http://127.0.0.1:{}", closed_port());
    let line = cli
        .run(&["add", &url, "--user", &user, "--kind", "jupyterhub", "--password-stdin"], Some(&format!("{}\n", hub.password)))
        .expect_err();
    assert!(line.contains("cannot reach") && line.contains("refused"), "{line}");
    assert!(cli.run(&["accounts", "--json"], None).expect_ok().json().as_array().unwrap().is_empty());
}

#[test]
fn a_leaked_token_is_identified_and_revoked_and_the_others_stay() {
    if common::skip_without("KEYWARD_TEST_JUPYTERHUB_URL") {
        return;
    }
    let hub = hub();
    let user = hub.new_user();
    let (leaked_id, leaked) = hub.make_token(&user, "CI runner", json!({}));
    let (kept, _) = hub.make_token(&user, "notebook sync", json!({}));
    let cli = Cli::new();
    add_with_password(&cli, &hub, &user).expect_ok();
    let acct = account(&user, &hub);
    let found = cli.run(&["identify", "--token-stdin", "--json"], Some(&format!("{leaked}\n"))).expect_ok().json();
    assert_eq!(found["kind"], "jupyterhub");
    assert_eq!(found["account"], acct.as_str());
    assert_eq!(found["credential_id"], leaked_id.as_str(), "the hub names the exact token: {found}");
    assert_eq!(found["name"], "CI runner");
    assert_eq!(found["valid"], true);
    assert!(hub.token_ids(&user).contains(&leaked_id), "identify alone revokes nothing");
    let out = cli.run(&["identify", "--token-stdin", "--json", "--revoke", "--yes"], Some(&format!("{leaked}\n"))).expect_ok();
    let v = out.json();
    assert_eq!((v["revoked"].as_bool(), v["valid"].as_bool()), (Some(true), Some(false)), "{v}");
    let left = hub.token_ids(&user);
    assert!(!left.contains(&leaked_id) && left.contains(&kept), "{left:?}");
    assert!(!out.stdout.contains(&leaked) && !out.stderr.contains(&leaked));
}
