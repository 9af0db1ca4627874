//! Matrix accounts end to end: the real `keyward` CLI against a real Synapse (started by
//! `make test`), with its secrets in a real gnome-keyring. Every test registers its own user, acts
//! through the CLI, and checks the result on the server through the client API.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use common::synapse::{Synapse, PASSWORD};
use common::{closed_port, env, Cli};
use serde_json::{json, Value};

/// Adds `user` to the CLI with a password; returns the account name.
fn add(cli: &Cli, hs: &Synapse, user: &str) -> String {
    cli.run(&["add", &hs.url, "--user", user, "--password-stdin"], Some(&format!("{PASSWORD}\n"))).expect_ok();
    format!("{user}@{}", hs.host())
}

fn list(cli: &Cli, account: &str) -> Vec<Value> {
    cli.run(&["list", account, "--json"], None).expect_ok().json().as_array().unwrap().clone()
}

fn row<'a>(rows: &'a [Value], id: &str) -> &'a Value {
    rows.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no row {id} in {rows:#?}"))
}

fn own_id(rows: &[Value]) -> String {
    let own: Vec<&Value> = rows.iter().filter(|r| r["current"] == true).collect();
    assert_eq!(own.len(), 1, "exactly one row is the app's own: {rows:#?}");
    own[0]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn password_sign_in_names_the_device_and_keeps_tokens_only_in_the_keyring() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let user = hs.register("signin").await;
    let (token, _) = hs.device(&user, "Element Desktop: macOS", "203.0.113.7").await;
    let cli = Cli::new();
    let account = add(&cli, &hs, &user);

    let accounts = cli.run(&["accounts", "--json"], None).expect_ok().json();
    assert_eq!(accounts[0]["name"], account);
    assert_eq!(accounts[0]["user_id"], format!("@{user}:localhost"));
    let account_id = accounts[0]["id"].as_str().unwrap();

    // The server has a device named after the app and the machine.
    let host = hostname::get().unwrap().into_string().unwrap();
    let devices = hs.devices(&token).await;
    assert!(devices.iter().any(|d| d["display_name"] == format!("Keyward on {host}")), "{devices:#?}");

    // The keyring holds the access and refresh tokens; the config dir holds neither, nor the password.
    let stored: Value = serde_json::from_str(&cli.keyring_entry(account_id).expect("a keyring entry")).unwrap();
    let access = stored["access_token"].as_str().unwrap();
    let refresh = stored["refresh_token"].as_str().expect("a refresh token was asked for");
    list(&cli, &account);
    let files = cli.config_files();
    assert!(!files.is_empty());
    for (path, content) in files {
        for secret in [access, refresh, PASSWORD] {
            assert!(!content.contains(secret), "{} contains a secret", path.display());
        }
    }
}

#[tokio::test]
async fn list_maps_every_device_field_and_marks_the_app_s_own() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let user = hs.register("list").await;
    let (_, element) = hs.device(&user, "Element Desktop: macOS", "203.0.113.7").await;
    let (_, firefox) = hs.device(&user, "app.element.io: Firefox on Linux", "198.51.100.4").await;
    // Checks on the server go through a device of their own (using a token updates its device).
    let (token, observer) = hs.device(&user, "Observer", "192.0.2.1").await;
    let cli = Cli::new();
    let account = add(&cli, &hs, &user);
    let rows = list(&cli, &account);
    let own = own_id(&rows);

    let server = hs.devices(&token).await;
    // Every device on the server is listed, nothing more (no pushers yet).
    let mut listed: Vec<String> = rows.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
    listed.sort();
    assert_eq!(listed, hs.device_ids(&token).await);

    for d in server.iter().filter(|d| d["device_id"] != observer && d["device_id"] != own) {
        let r = row(&rows, d["device_id"].as_str().unwrap());
        assert_eq!(r["account"], account);
        assert_eq!(r["kind"], "session");
        assert_eq!(r["name"], d["display_name"]);
        assert_eq!(r["last_ip"], d["last_seen_ip"]);
        match d["last_seen_ts"].as_i64() {
            Some(ms) => {
                let t = chrono::DateTime::parse_from_rfc3339(r["last_used"].as_str().unwrap()).unwrap();
                assert_eq!(t.timestamp_millis(), ms);
                assert!(r["last_used"].as_str().unwrap().ends_with('Z'), "UTC");
            }
            None => assert!(r["last_used"].is_null()),
        }
        assert!(r["created"].is_null(), "Matrix does not say when a device was created");
        assert!(r["expires"].is_null());
        assert_eq!(r["can_rename"], true);
        assert_eq!(r["can_revoke"], true);
        assert!(r["summary"].as_str().unwrap().len() > 3);
    }
    let element_row = row(&rows, &element);
    assert_eq!(element_row["last_ip"], "203.0.113.7");
    assert!(element_row["summary"].as_str().unwrap().contains("203.0.113.7"));
    assert_eq!(row(&rows, &firefox)["last_ip"], "198.51.100.4");
    assert!(own != element && own != firefox);
    let accounts = cli.run(&["accounts", "--json"], None).expect_ok().json();
    assert_eq!(accounts[0]["signed_in"], true);

    // The table has the same rows.
    let table = cli.run(&["list", &account], None).expect_ok().stdout;
    assert!(table.contains(&element) && table.contains("Element Desktop: macOS"), "{table}");
}

#[tokio::test]
async fn token_sign_in_uses_the_given_device() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let user = hs.register("token").await;
    let (token, device) = hs.device(&user, "Nheko on laptop", "192.0.2.10").await;
    let cli = Cli::new();
    cli.run(&["add", &hs.url, "--user", &user, "--kind", "matrix", "--token-stdin"], Some(&token)).expect_ok();
    let account = format!("{user}@{}", hs.host());
    let rows = list(&cli, &account);
    assert_eq!(own_id(&rows), device);
    // No new device was made.
    assert_eq!(hs.device_ids(&token).await.len(), 2);

    // A token of another user is refused, and nothing is added.
    let other = hs.register("other").await;
    let (other_token, _) = hs.device(&other, "x", "192.0.2.11").await;
    let cli2 = Cli::new();
    let err = cli2.run(&["add", &hs.url, "--user", &user, "--token-stdin"], Some(&other_token)).expect_err();
    assert!(err.contains("belongs to"), "{err}");
    assert_eq!(cli2.run(&["accounts", "--json"], None).expect_ok().json(), json!([]));
}

#[tokio::test]
async fn rename_changes_the_name_on_the_server() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let user = hs.register("rename").await;
    let (token, device) = hs.device(&user, "Old phone", "192.0.2.20").await;
    let cli = Cli::new();
    let account = add(&cli, &hs, &user);
    cli.run(&["rename", &account, &device, "Phone I sold"], None).expect_ok();
    let server = hs.devices(&token).await;
    let d = server.iter().find(|d| d["device_id"] == device).unwrap();
    assert_eq!(d["display_name"], "Phone I sold");

    // Too long for Matrix: one clear line, nothing changed.
    let long = "x".repeat(150);
    let err = cli.run(&["rename", &account, &device, &long], None).expect_err();
    assert!(err.contains("too long") || err.contains("that long"), "{err}");
    let server = hs.devices(&token).await;
    assert_eq!(server.iter().find(|d| d["device_id"] == device).unwrap()["display_name"], "Phone I sold");

    let err = cli.run(&["rename", &account, "NOSUCHDEVICE", "x"], None).expect_err();
    assert!(err.contains("no credential \"NOSUCHDEVICE\""), "{err}");
}

#[tokio::test]
async fn revoke_one_signs_out_exactly_that_device() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let user = hs.register("revoke1").await;
    let (token, keep) = hs.device(&user, "Keep me", "192.0.2.30").await;
    let (_, gone) = hs.device(&user, "Sign me out", "192.0.2.31").await;
    let cli = Cli::new();
    let account = add(&cli, &hs, &user);
    let before = hs.device_ids(&token).await;

    // Without --yes nothing happens.
    let err = cli.run(&["revoke", &account, &gone, "--password-stdin"], Some(PASSWORD)).expect_err();
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(hs.device_ids(&token).await, before);

    let out = cli.run(&["revoke", &account, &gone, "--password-stdin", "--yes"], Some(PASSWORD)).expect_ok();
    assert!(out.stdout.contains(&format!("revoked {gone}")), "{}", out.stdout);
    let after = hs.device_ids(&token).await;
    assert!(!after.contains(&gone));
    assert!(after.contains(&keep));
    assert_eq!(after.len(), before.len() - 1);
    assert!(list(&cli, &account).iter().all(|r| r["id"] != gone));
}

/// Lines of the homeserver's access log for requests by `user_id`.
fn access_log_lines(user_id: &str, path: &str) -> Vec<String> {
    let log = std::fs::read_to_string(env("KEYWARD_TEST_SYNAPSE_LOG")).unwrap();
    log.lines().filter(|l| l.contains(&format!("{{{user_id}}}")) && l.contains(path)).map(str::to_string).collect()
}

#[tokio::test]
async fn revoke_many_asks_password_once_in_one_request() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let user = hs.register("many").await;
    let (token, keep) = hs.device(&user, "Keep", "192.0.2.40").await;
    let mut gone = Vec::new();
    for i in 0..3 {
        gone.push(hs.device(&user, &format!("Old {i}"), &format!("192.0.2.4{}", i + 1)).await.1);
    }
    let cli = Cli::new();
    let account = add(&cli, &hs, &user);
    let mut args = vec!["revoke", account.as_str()];
    args.extend(gone.iter().map(String::as_str));
    args.extend(["--password-stdin", "--yes", "--json"]);
    let report = cli.run(&args, Some(PASSWORD)).expect_ok().json();
    assert_eq!(report["results"].as_array().unwrap().len(), 3);
    assert!(report["results"].as_array().unwrap().iter().all(|r| r["error"].is_null()));
    let after = hs.device_ids(&token).await;
    for g in &gone {
        assert!(!after.contains(g));
    }
    assert!(after.contains(&keep));

    // On the server: one challenge and one authenticated delete_devices request, no single deletes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let user_id = format!("@{user}:localhost");
    let batch = access_log_lines(&user_id, "/_matrix/client/v3/delete_devices");
    assert_eq!(batch.len(), 2, "one UIA challenge + one authenticated request: {batch:#?}");
    assert!(access_log_lines(&user_id, "DELETE /_matrix/client/v3/devices/").is_empty());
}

#[tokio::test]
async fn wrong_password_deletes_nothing() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let user = hs.register("wrongpw").await;
    let (token, a) = hs.device(&user, "A", "192.0.2.50").await;
    let (_, b) = hs.device(&user, "B", "192.0.2.51").await;
    let cli = Cli::new();
    let account = add(&cli, &hs, &user);
    let before = hs.device_ids(&token).await;
    let err = cli.run(&["revoke", &account, &a, &b, "--password-stdin", "--yes"], Some("not the password")).expect_err();
    assert!(err.contains("wrong username or password") && err.contains("nothing was changed"), "{err}");
    assert_eq!(hs.device_ids(&token).await, before);

    // No password at all: says how to give it, deletes nothing.
    let err = cli.run(&["revoke", &account, &a, "--yes"], None).expect_err();
    assert!(err.contains("--password-stdin"), "{err}");
    assert_eq!(hs.device_ids(&token).await, before);

    // Wrong password at sign-in: nothing added, nothing on the server.
    let cli2 = Cli::new();
    let err = cli2.run(&["add", &hs.url, "--user", &user, "--password-stdin"], Some("nope")).expect_err();
    assert!(err.contains("wrong username or password"), "{err}");
    assert_eq!(hs.device_ids(&token).await, before);
    assert_eq!(cli2.run(&["accounts", "--json"], None).expect_ok().json(), json!([]));
}

#[tokio::test]
async fn revoke_all_others_keeps_only_the_app_s_own() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let user = hs.register("allothers").await;
    for i in 0..3 {
        hs.device(&user, &format!("Device {i}"), &format!("192.0.2.6{i}")).await;
    }
    let cli = Cli::new();
    let account = add(&cli, &hs, &user);
    let own = own_id(&list(&cli, &account));
    cli.run(&["revoke", &account, "--all-others", "--password-stdin", "--yes"], Some(PASSWORD)).expect_ok();
    let stored_rows = list(&cli, &account);
    assert_eq!(stored_rows.len(), 1);
    assert_eq!(stored_rows[0]["id"], own);
    // Checked on the server with the app's own token (the only one left).
    let accounts = cli.run(&["accounts", "--json"], None).expect_ok().json();
    let entry: Value = serde_json::from_str(&cli.keyring_entry(accounts[0]["id"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(hs.device_ids(entry["access_token"].as_str().unwrap()).await, vec![own]);
}

#[tokio::test]
async fn the_app_s_own_device_is_revoked_only_when_asked_and_then_it_signs_out() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let user = hs.register("own").await;
    let (token, _) = hs.device(&user, "Other", "192.0.2.70").await;
    let cli = Cli::new();
    let account = add(&cli, &hs, &user);
    let own = own_id(&list(&cli, &account));
    let err = cli.run(&["revoke", &account, &own, "--password-stdin", "--yes"], Some(PASSWORD)).expect_err();
    assert!(err.contains("Keyward's own session"), "{err}");
    assert!(hs.device_ids(&token).await.contains(&own));

    let out = cli.run(&["revoke", &account, &own, "--include-this-app", "--password-stdin", "--yes"], Some(PASSWORD)).expect_ok();
    assert!(out.stdout.contains("signed out"), "{}", out.stdout);
    assert!(!hs.device_ids(&token).await.contains(&own));
    let accounts = cli.run(&["accounts", "--json"], None).expect_ok().json();
    assert_eq!(accounts[0]["signed_in"], false);
    assert!(cli.keyring_entry(accounts[0]["id"].as_str().unwrap()).is_none(), "the dead token left the keyring");
    let err = cli.run(&["list", &account], None).expect_err();
    assert!(err.contains("must sign in again"), "{err}");

    // Signing in again brings the same account back.
    add(&cli, &hs, &user);
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json()[0]["signed_in"], true);
}

#[tokio::test]
async fn remove_with_sign_out_ends_the_session_on_the_server() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let user = hs.register("remove").await;
    let (token, _) = hs.device(&user, "Other", "192.0.2.80").await;
    let cli = Cli::new();
    let account = add(&cli, &hs, &user);
    let own = own_id(&list(&cli, &account));
    let id = cli.run(&["accounts", "--json"], None).expect_ok().json()[0]["id"].as_str().unwrap().to_string();
    cli.run(&["remove", &account, "--sign-out"], None).expect_ok();
    assert!(!hs.device_ids(&token).await.contains(&own));
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json(), json!([]));
    assert!(cli.keyring_entry(&id).is_none());
}

#[tokio::test]
async fn push_registrations_are_listed_and_removed() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let user = hs.register("push").await;
    let (token, _) = hs.device(&user, "Element Android", "192.0.2.90").await;
    let pusher = json!({
        "app_id": "im.vector.app.android", "pushkey": "push-key-secret-1", "kind": "http",
        "app_display_name": "Element", "device_display_name": "Pixel 8", "lang": "en",
        "data": {"url": "https://push.example.org/_matrix/push/v1/notify", "format": "event_id_only"}
    });
    let r =
        Synapse::http().post(format!("{}/_matrix/client/v3/pushers/set", hs.url)).bearer_auth(&token).json(&pusher).send().await.unwrap();
    assert!(r.status().is_success());
    let cli = Cli::new();
    let account = add(&cli, &hs, &user);
    let rows = list(&cli, &account);
    let push: Vec<&Value> = rows.iter().filter(|r| r["kind"] == "push_registration").collect();
    assert_eq!(push.len(), 1, "{rows:#?}");
    let p = push[0];
    assert_eq!(p["name"], "Pixel 8");
    assert_eq!(p["can_rename"], false);
    assert_eq!(p["can_revoke"], true);
    assert!(!p.to_string().contains("push-key-secret-1"), "the push key is not shown");
    let details = p["details"].to_string();
    assert!(details.contains("im.vector.app.android") && details.contains("push.example.org"), "{details}");

    let id = p["id"].as_str().unwrap();
    cli.run(&["revoke", &account, id, "--yes"], None).expect_ok();
    assert!(hs.pushers(&token).await.is_empty());
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_and_the_new_refresh_token_kept() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::short();
    let user = hs.register("refresh").await;
    let cli = Cli::new();
    let account = add(&cli, &hs, &user);
    let id = cli.run(&["accounts", "--json"], None).expect_ok().json()[0]["id"].as_str().unwrap().to_string();
    let first: Value = serde_json::from_str(&cli.keyring_entry(&id).unwrap()).unwrap();
    for _ in 0..2 {
        // Past the 3 s lifetime: the server refuses the access token, the app refreshes.
        tokio::time::sleep(Duration::from_secs(4)).await;
        list(&cli, &account);
    }
    let later: Value = serde_json::from_str(&cli.keyring_entry(&id).unwrap()).unwrap();
    assert_ne!(first["access_token"], later["access_token"]);
    assert_ne!(first["refresh_token"], later["refresh_token"], "the newest refresh token is the one kept");
    // The first refresh token died once its successor's access token was used: had the app kept
    // it, the second round above would have said "sign in again". The server agrees it is dead.
    let old = Synapse::http()
        .post(format!("{}/_matrix/client/v3/refresh", hs.url))
        .json(&json!({"refresh_token": first["refresh_token"]}))
        .send()
        .await
        .unwrap()
        .status();
    assert!(old == 401 || old == 403, "the first refresh token no longer works: {old}");
}

#[tokio::test]
async fn rate_limited_sign_in_waits_and_succeeds() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::short();
    let user = hs.register("ratelimit").await;
    // Use up the account's login allowance (two at once) and see the server refuse a third.
    hs.device(&user, "one", "192.0.2.100").await;
    hs.device(&user, "two", "192.0.2.101").await;
    let body = json!({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user}, "password": PASSWORD});
    let r = Synapse::http().post(format!("{}/_matrix/client/v3/login", hs.url)).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 429, "the server rate-limits this account now");
    // The app waits as long as the server asks and signs in.
    let cli = Cli::new();
    add(&cli, &hs, &user);
}

#[tokio::test]
async fn a_token_the_server_dropped_says_sign_in_again() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let user = hs.register("dropped").await;
    let (token, _) = hs.device(&user, "Other", "192.0.2.110").await;
    let cli = Cli::new();
    let account = add(&cli, &hs, &user);
    let own = own_id(&list(&cli, &account));
    // Another client signs the app's device out.
    let http = Synapse::http();
    let r: Value = http
        .post(format!("{}/_matrix/client/v3/delete_devices", hs.url))
        .bearer_auth(&token)
        .json(&json!({"devices": [own]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let auth = json!({"devices": [own], "auth": {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user}, "password": PASSWORD, "session": r["session"]}});
    assert!(http
        .post(format!("{}/_matrix/client/v3/delete_devices", hs.url))
        .bearer_auth(&token)
        .json(&auth)
        .send()
        .await
        .unwrap()
        .status()
        .is_success());

    let err = cli.run(&["list", &account], None).expect_err();
    assert!(err.contains("must sign in again"), "{err}");
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json()[0]["signed_in"], false);
}

#[tokio::test]
async fn a_url_that_is_not_a_matrix_server_is_a_clear_error() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let url = common::serve("404 Not Found", "text/html", "<html>Not found</html>");
    let cli = Cli::new();
    let err = cli.run(&["add", &url, "--user", "alice", "--kind", "matrix", "--password-stdin"], Some(PASSWORD)).expect_err();
    assert!(err.contains("is not a Matrix server"), "{err}");
    let err = cli.run(&["add", &url, "--user", "alice", "--password-stdin"], Some(PASSWORD)).expect_err();
    assert!(err.contains("could not tell what kind of server"), "{err}");
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json(), json!([]));
}

#[tokio::test]
async fn a_server_answering_garbage_is_a_clear_error() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let url = common::serve("200 OK", "application/json", "{garbage!");
    let cli = Cli::new();
    let err = cli.run(&["add", &url, "--user", "alice", "--kind", "matrix", "--password-stdin"], Some(PASSWORD)).expect_err();
    assert!(err.contains("is not a Matrix server"), "{err}");
}

#[tokio::test]
async fn an_unreachable_server_is_a_clear_error() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let cli = Cli::new();
    let port = closed_port();
    let err = cli
        .run(&["add", &format!("http://127.0.0.1:{port}"), "--user", "alice", "--kind", "matrix", "--password-stdin"], Some(PASSWORD))
        .expect_err();
    assert_eq!(err, format!("keyward: cannot reach 127.0.0.1:{port}: connection refused (is the server running?)"));
    let err = cli.run(&["add", &format!("http://127.0.0.1:{port}"), "--user", "alice", "--password-stdin"], Some(PASSWORD)).expect_err();
    assert!(err.contains("connection refused"), "{err}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    // Accepts connections and never answers.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().take(20) {
            held.push(s);
        }
    });
    let cli = Cli::new().with_env("KEYWARD_HTTP_TIMEOUT_SECS", "2");
    let err = cli
        .run(&["add", &format!("http://127.0.0.1:{port}"), "--user", "alice", "--kind", "matrix", "--password-stdin"], Some(PASSWORD))
        .expect_err();
    assert!(err.contains("did not answer within 2 seconds"), "{err}");
}

#[tokio::test]
async fn no_keyring_is_a_clear_error_and_changes_nothing_on_the_server() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let user = hs.register("nokeyring").await;
    let (token, _) = hs.device(&user, "Other", "192.0.2.120").await;
    let before = hs.device_ids(&token).await;
    let cli = Cli::new().with_env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/keyward-no-bus");
    let err = cli.run(&["add", &hs.url, "--user", &user, "--password-stdin"], Some(PASSWORD)).expect_err();
    assert!(err.contains("no keyring available"), "{err}");
    assert_eq!(hs.device_ids(&token).await, before, "no device was made on the server");
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json(), json!([]));
}

#[tokio::test]
async fn one_broken_account_does_not_stop_the_others() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let user = hs.register("broken").await;
    let cli = Cli::new();
    let good = add(&cli, &hs, &user);
    // A second account whose server is gone: make it by adding then pointing the store at a dead port.
    let user2 = hs.register("broken2").await;
    add(&cli, &hs, &user2);
    let path = cli.config_dir().join("accounts.json");
    let mut file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let dead = format!("http://127.0.0.1:{}", closed_port());
    file["accounts"][1]["base_url"] = json!(dead);
    std::fs::write(&path, serde_json::to_string(&file).unwrap()).unwrap();

    let run = cli.run(&["list", "--json"], None);
    assert!(!run.ok(), "a failed account makes the exit status non-zero");
    assert!(run.stderr.contains("connection refused"), "{}", run.stderr);
    let rows = run.json();
    assert!(rows.as_array().unwrap().iter().any(|r| r["account"] == good), "the working account is listed");
}

#[tokio::test]
async fn detect_names_the_kind() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let cli = Cli::new();
    let out = cli.run(&["detect", &hs.url], None).expect_ok().stdout;
    assert_eq!(out.trim(), format!("matrix at {}", hs.url));
}

#[tokio::test]
async fn the_well_known_leads_to_the_homeserver() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let user = hs.register("wellknown").await;
    let body = format!("{{\"m.homeserver\":{{\"base_url\":\"{}\"}}}}", hs.url);
    let url = common::serve("200 OK", "application/json", body);
    let cli = Cli::new();
    cli.run(&["add", &url, "--user", &user, "--password-stdin"], Some(PASSWORD)).expect_ok();
    let accounts = cli.run(&["accounts", "--json"], None).expect_ok().json();
    assert_eq!(accounts[0]["base_url"], hs.url);
}

#[tokio::test]
async fn adding_an_account_twice_leaves_no_extra_device() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let user = hs.register("twice").await;
    let (token, _) = hs.device(&user, "Observer", "192.0.2.130").await;
    let cli = Cli::new();
    add(&cli, &hs, &user);
    let before = hs.device_ids(&token).await;
    let err = cli.run(&["add", &hs.url, "--user", &user, "--password-stdin"], Some(PASSWORD)).expect_err();
    assert!(err.contains("already added"), "{err}");
    assert_eq!(hs.device_ids(&token).await, before);
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json().as_array().unwrap().len(), 1);
}

/// A homeserver with next-gen auth (as behind Matrix Authentication Service), answering the
/// paths the app uses the way such a server does. Returns its port and the requests it saw.
fn next_gen_server() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in l.incoming().take(200) {
            let Ok(mut s) = stream else { continue };
            let mut buf = vec![0u8; 16384];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            let line = req.lines().next().unwrap_or("").to_string();
            log.lock().unwrap().push(line.clone());
            let path = line.split_whitespace().nth(1).unwrap_or("");
            let (status, body) = match path {
                "/_matrix/client/versions" => ("200 OK", r#"{"versions":["v1.11","v1.15"]}"#.to_string()),
                "/_matrix/client/v1/auth_metadata" => ("200 OK", r#"{"issuer":"https://auth.example.org/","account_management_uri":"https://auth.example.org/account/","account_management_actions_supported":["org.matrix.sessions_list","org.matrix.session_end","org.matrix.device_delete"]}"#.to_string()),
                "/_matrix/client/v3/account/whoami" => ("200 OK", r#"{"user_id":"@alice:example.org","is_guest":false,"device_id":"KWDEVICE"}"#.to_string()),
                "/_matrix/client/v3/devices" => ("200 OK", r#"{"devices":[{"device_id":"KWDEVICE","display_name":"Keyward","last_seen_ip":"127.0.0.1","last_seen_ts":1763800000000},{"device_id":"PHONE","display_name":"Element X on Pixel 8","last_seen_ip":"203.0.113.9","last_seen_ts":1763700000000}]}"#.to_string()),
                "/_matrix/client/v3/pushers" => ("200 OK", r#"{"pushers":[]}"#.to_string()),
                _ => ("404 Not Found", r#"{"errcode":"M_UNRECOGNIZED","error":"Unrecognized request"}"#.to_string()),
            };
            let resp = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(resp.as_bytes());
        }
    });
    (port, seen)
}

#[tokio::test]
async fn next_gen_auth_lists_and_hands_sign_outs_to_the_account_page() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let (port, seen) = next_gen_server();
    let url = format!("http://127.0.0.1:{port}");
    let cli = Cli::new();
    // A password cannot be used there: the server signs in on its own page.
    let err = cli.run(&["add", &url, "--user", "alice", "--password-stdin"], Some(PASSWORD)).expect_err();
    assert!(err.contains("https://auth.example.org/account/"), "{err}");

    cli.run(&["add", &url, "--user", "alice", "--token-stdin"], Some("mat_sometoken")).expect_ok();
    let account = format!("alice@127.0.0.1:{port}");
    let rows = list(&cli, &account);
    assert_eq!(own_id(&rows), "KWDEVICE");
    let phone = row(&rows, "PHONE");
    assert_eq!(phone["manage_url"], "https://auth.example.org/account/?action=org.matrix.device_delete&device_id=PHONE");
    assert_eq!(phone["revoke_needs_password"], false);

    let err = cli.run(&["revoke", &account, "PHONE", "--yes"], None).expect_err();
    assert!(err.contains("https://auth.example.org/account/?action=org.matrix.device_delete&device_id=PHONE"), "{err}");
    let requests = seen.lock().unwrap().clone();
    assert!(
        !requests.iter().any(|r| r.contains("delete_devices") || r.starts_with("DELETE")),
        "the device-delete endpoints are never used: {requests:#?}"
    );
}

#[tokio::test]
async fn element_client_information_reaches_the_row() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let user = hs.register("clientinfo").await;
    let (token, device) = hs.device(&user, "app.element.io: Firefox on Linux", "192.0.2.140").await;
    let user_id = format!("@{user}:localhost");
    let info = json!({"name": "Element", "version": "1.11.85", "url": "https://app.element.io/"});
    let r = Synapse::http()
        .put(format!("{}/_matrix/client/v3/user/{}/account_data/io.element.matrix_client_information.{device}", hs.url, user_id))
        .bearer_auth(&token)
        .json(&info)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let cli = Cli::new();
    let account = add(&cli, &hs, &user);
    let rows = list(&cli, &account);
    let details = row(&rows, &device)["details"].to_string();
    assert!(details.contains("Element 1.11.85") && details.contains("https://app.element.io/"), "{details}");
    // Devices without it get no invented client details.
    let own = own_id(&rows);
    assert!(!row(&rows, &own)["details"].to_string().contains("\"Client\""));
}

#[tokio::test]
async fn server_admins_see_each_device_s_user_agent() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let user = hs.register_as("admin", true).await;
    let ua = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
    let body = json!({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user}, "password": PASSWORD, "initial_device_display_name": "Browser"});
    let http = Synapse::http();
    let r: Value = http
        .post(format!("{}/_matrix/client/v3/login", hs.url))
        .header("User-Agent", ua)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (token, device) = (r["access_token"].as_str().unwrap(), r["device_id"].as_str().unwrap());
    http.get(format!("{}/_matrix/client/v3/account/whoami", hs.url)).bearer_auth(token).header("User-Agent", ua).send().await.unwrap();
    let cli = Cli::new();
    let account = add(&cli, &hs, &user);
    // Synapse writes last-seen data in batches; wait until the admin API has it.
    let mut details = String::new();
    for _ in 0..20 {
        details = row(&list(&cli, &account), device)["details"].to_string();
        if details.contains("Firefox/133.0") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(details.contains(ua), "{details}");
}

#[tokio::test]
async fn one_listing_reads_the_keyring_once() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let user = hs.register("reads").await;
    hs.device(&user, "Element Desktop: macOS", "203.0.113.7").await;
    let cli = Cli::new().with_env("KEYWARD_LOG", "keyward::vault=debug");
    let account = add(&cli, &hs, &user);
    // The first listing learns whether the account is a server admin and keeps that with the
    // account's secret (one write); every later one reads the keyring once and writes nothing.
    let first = cli.run(&["list", &account, "--json"], None).expect_ok();
    let writes = first.stderr.lines().filter(|l| l.contains("keyring call") && l.contains("op=\"write\"")).count();
    assert_eq!(writes, 1, "the first listing keeps the admin role it learned:\n{}", first.stderr);
    let run = cli.run(&["list", &account, "--json"], None).expect_ok();
    let reads = run.stderr.lines().filter(|l| l.contains("keyring call") && l.contains("op=\"read\"")).count();
    let calls = run.stderr.lines().filter(|l| l.contains("keyring call")).count();
    assert_eq!(reads, 1, "one Matrix listing read the keyring {reads} times:\n{}", run.stderr);
    assert_eq!(calls, 1, "a listing with a fresh token writes nothing either:\n{}", run.stderr);
    assert!(!run.json().as_array().unwrap().is_empty());
}

/// How often Synapse's access log shows a request whose line contains `path`.
fn synapse_requests(path: &str) -> usize {
    let log = std::env::var("KEYWARD_TEST_SYNAPSE_LOG").expect("KEYWARD_TEST_SYNAPSE_LOG");
    std::fs::read_to_string(log).unwrap_or_default().lines().filter(|l| l.contains("Processed request") && l.contains(path)).count()
}

#[tokio::test]
async fn the_admin_api_is_asked_once_of_an_account_that_is_not_an_admin() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let user = hs.register("notadmin").await;
    let cli = Cli::new();
    let account = add(&cli, &hs, &user);
    let path = format!("/_synapse/admin/v2/users/%40{}%3A", user);
    list(&cli, &account);
    // Synapse writes its access log line as the request ends; give it a moment to reach the file.
    for _ in 0..20 {
        if synapse_requests(&path) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(synapse_requests(&path), 1, "the first listing asks the admin API once");
    list(&cli, &account);
    list(&cli, &account);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(synapse_requests(&path), 1, "known not to be an admin: later listings do not ask again");
}
