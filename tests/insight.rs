//! The features only Keyward has — whose token is this, what changed, the checkup, the history
//! and the report — through the real `keyward` CLI against the real Synapse that `make test`
//! starts (checked on the server), and against small recording servers that prove a token is
//! never sent to a server of another kind.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::synapse::{Synapse, PASSWORD};
use common::Cli;
use serde_json::{json, Value};

/// Adds `user` to the CLI with a password; returns the account name.
fn add(cli: &Cli, hs: &Synapse, user: &str) -> String {
    cli.run(&["add", &hs.url, "--user", user, "--password-stdin"], Some(&format!("{PASSWORD}\n"))).expect_ok();
    format!("{user}@{}", hs.host())
}

fn identify(cli: &Cli, token: &str, extra: &[&str], stdin_tail: &str) -> Value {
    let mut args = vec!["identify", "--token-stdin", "--json"];
    args.extend_from_slice(extra);
    cli.run(&args, Some(&format!("{token}\n{stdin_tail}"))).expect_ok().json()
}

/// Every place a secret could end up: the config dir and what the CLI printed.
fn assert_nowhere(cli: &Cli, printed: &[&str], secrets: &[&str]) {
    for secret in secrets {
        for (path, content) in cli.config_files() {
            assert!(!content.contains(secret), "a secret is in {}", path.display());
        }
        for p in printed {
            assert!(!p.contains(secret), "a secret was printed: {p}");
        }
    }
}

#[tokio::test]
async fn a_leaked_token_names_its_session_and_revoke_ends_exactly_that_one() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let user = hs.register("leak").await;
    let (leaked, phone) = hs.device(&user, "Element on Pixel 8", "203.0.113.7").await;
    let (observer, observer_id) = hs.device(&user, "Observer", "192.0.2.1").await;
    let cli = Cli::new();
    let account = add(&cli, &hs, &user);

    let found = identify(&cli, &leaked, &[], "");
    assert_eq!(found["kind"], "matrix");
    assert_eq!(found["account"], account.as_str());
    assert_eq!(found["credential_id"], phone.as_str());
    assert_eq!(found["name"], "Element on Pixel 8");
    assert_eq!(found["valid"], true);
    assert_eq!(found["revoked"], false);
    assert!(found["summary"].as_str().unwrap().contains("203.0.113.7"), "{found}");
    assert!(hs.device_ids(&observer).await.contains(&phone), "identify alone changes nothing");

    // Without --yes nothing happens.
    let err = cli.run(&["identify", "--token-stdin", "--revoke"], Some(&format!("{leaked}\n"))).expect_err();
    assert!(err.contains("--yes"), "{err}");
    assert!(hs.device_ids(&observer).await.contains(&phone));

    let mut expected = hs.device_ids(&observer).await;
    expected.retain(|d| d != &phone);
    let out = cli
        .run(&["identify", "--token-stdin", "--json", "--revoke", "--yes", "--password-stdin"], Some(&format!("{leaked}\n{PASSWORD}\n")));
    let gone = out.expect_ok();
    let v = gone.json();
    assert_eq!(v["revoked"], true, "{v}");
    assert_eq!(v["valid"], false, "checked dead after the revoke: {v}");
    let left = hs.device_ids(&observer).await;
    assert!(!left.contains(&phone), "the leaked session is gone on the server");
    assert!(left.contains(&observer_id), "the others are untouched: {left:?}");
    assert_eq!(left, expected, "every other session remains");
    assert_nowhere(&cli, &[&gone.stdout, &gone.stderr], &[&leaked, PASSWORD]);

    let history = cli.run(&["history", "--json"], None).expect_ok().json();
    let entry = history.as_array().unwrap().iter().find(|e| e["credential_id"] == phone.as_str()).expect("the revoke is in the history");
    assert_eq!((entry["action"].as_str(), entry["ok"].as_bool()), (Some("revoke"), Some(true)));
}

#[tokio::test]
async fn a_token_of_someone_who_is_not_an_account_here_is_not_theirs_and_is_not_sent() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let alice = hs.register("alice").await;
    let bob = hs.register("bob").await;
    let (bobs, _) = hs.device(&bob, "Bob's phone", "198.51.100.9").await;
    let cli = Cli::new();
    add(&cli, &hs, &alice);
    let found = identify(&cli, &bobs, &[], "");
    assert_eq!(found["kind"], "matrix");
    assert!(found["account"].is_null() && found["credential_id"].is_null(), "{found}");
    // The token names Bob's localpart, so it was never shown to the server: validity unknown.
    assert!(found["valid"].is_null(), "{found}");
    let log = std::fs::read_to_string(common::env("KEYWARD_TEST_SYNAPSE_LOG")).unwrap_or_default();
    assert!(!log.contains(&bobs), "a token never reaches a log");
}

#[test]
fn a_token_shaped_like_no_kind_is_said_so() {
    let cli = Cli::new();
    let found = identify(&cli, "correct horse battery staple", &[], "");
    assert!(found["kind"].is_null() && found["account"].is_null(), "{found}");
    assert!(found["what"].as_str().unwrap().contains("does not look like a token"), "{found}");
    let table = cli.run(&["identify", "--token-stdin"], Some("correct horse battery staple\n")).expect_ok().stdout;
    assert!(table.starts_with("Not recognised"), "{table}");
}

/// A server that answers 404 to everything and counts the connections it got.
fn recorder() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", l.local_addr().unwrap().port());
    let h = hits.clone();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            h.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 8192];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    (url, hits)
}

#[test]
fn identify_sends_a_token_only_to_servers_of_its_kind() {
    let (matrix_url, matrix_hits) = recorder();
    let (hub_url, hub_hits) = recorder();
    let cli = Cli::new();
    let account = |id: &str, kind: &str, url: &str, user: &str| json!({"id": id, "kind": kind, "base_url": url, "login": "alice", "user_id": user, "signed_in": true, "added": "2026-11-01T00:00:00Z"});
    let file = json!({"version": 1, "accounts": [
        account("m1", "matrix", &matrix_url, "@alice:localhost"),
        account("j1", "jupyterhub", &hub_url, "alice"),
    ]});
    std::fs::write(cli.config_dir().join("accounts.json"), serde_json::to_vec(&file).unwrap()).unwrap();

    let matrix_token = "syt_YWxpY2U_SzGbqXkOuyUvSBmvTqwN_1pV3bD";
    identify(&cli, matrix_token, &[], "");
    assert_eq!(hub_hits.load(Ordering::SeqCst), 0, "a Matrix token went to a JupyterHub");
    assert!(matrix_hits.load(Ordering::SeqCst) > 0, "the Matrix account's server was asked");

    let before = matrix_hits.load(Ordering::SeqCst);
    identify(&cli, "0123456789abcdef0123456789abcdef", &[], "");
    assert_eq!(matrix_hits.load(Ordering::SeqCst), before, "a JupyterHub token went to a Matrix server");
    assert!(hub_hits.load(Ordering::SeqCst) > 0, "the JupyterHub account's server was asked");
}

#[tokio::test]
async fn changes_show_a_new_sign_in_and_a_sign_out_once() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let user = hs.register("changes").await;
    let (observer, _) = hs.device(&user, "Observer", "192.0.2.1").await;
    let cli = Cli::new();
    let account = add(&cli, &hs, &user);
    let first = cli.run(&["changes", &account, "--json"], None).expect_ok().json();
    assert_eq!(first, json!([]), "the first look is the baseline");

    let (_, laptop) = hs.device(&user, "Firefox on Windows", "198.51.100.7").await;
    let seen = cli.run(&["changes", &account, "--json"], None).expect_ok().json();
    let appeared: Vec<&Value> = seen.as_array().unwrap().iter().filter(|c| c["change"] == "appeared").collect();
    assert_eq!(appeared.len(), 1, "{seen}");
    assert_eq!(appeared[0]["credential_id"], laptop.as_str());
    assert_eq!(appeared[0]["account"], account.as_str());
    assert!(appeared[0]["summary"].as_str().unwrap().contains("198.51.100.7"), "{seen}");
    assert!(appeared[0]["at"].is_string());
    assert_eq!(cli.run(&["changes", &account, "--json"], None).expect_ok().json(), json!([]), "seen once, then marked seen");

    // The laptop signs out on its own: the next look says it is gone.
    let (laptop_token, _) = hs.device(&user, "Firefox on Windows again", "198.51.100.8").await;
    cli.run(&["changes", &account], None).expect_ok();
    let r = reqwest::Client::new().post(format!("{}/_matrix/client/v3/logout", hs.url)).bearer_auth(&laptop_token).send().await.unwrap();
    assert!(r.status().is_success());
    let after = cli.run(&["changes", &account, "--json"], None).expect_ok().json();
    let gone: Vec<&Value> = after.as_array().unwrap().iter().filter(|c| c["change"] == "disappeared").collect();
    assert_eq!(gone.len(), 1, "{after}");
    assert!(hs.device_ids(&observer).await.contains(&laptop));
    let quiet = cli.run(&["changes", &account, "--json"], None).expect_ok().json();
    assert!(quiet.as_array().unwrap().iter().all(|c| c["change"] == "new_address"), "only addresses can still change: {quiet}");
}

/// Makes a device look unused for `days` in Synapse's own database. Synapse writes last-seen
/// times in batches a few seconds apart, so a batch still pending can overwrite the change: age
/// it, let a batch pass, and check through the client API (as `observer`, another device) until
/// the old time holds.
async fn age_device(hs: &Synapse, observer: &str, device_id: &str, days: i64) {
    let log = common::env("KEYWARD_TEST_SYNAPSE_LOG");
    let db = std::path::Path::new(&log).parent().unwrap().join("homeserver.db");
    let ms = chrono::Utc::now().timestamp_millis() - days * 86_400_000;
    let script = format!(
        "import sqlite3; c=sqlite3.connect({db:?}, timeout=30); c.execute('UPDATE devices SET last_seen=? WHERE device_id=?', ({ms}, {device_id:?})); c.commit()",
        db = db.display().to_string()
    );
    for _ in 0..10 {
        let st = std::process::Command::new("python3").args(["-c", &script]).status().unwrap();
        assert!(st.success());
        tokio::time::sleep(std::time::Duration::from_secs(6)).await;
        let seen = hs.devices(observer).await.iter().find(|d| d["device_id"] == device_id).and_then(|d| d["last_seen_ts"].as_i64());
        if seen == Some(ms) {
            return;
        }
    }
    panic!("Synapse kept overwriting the last-seen time of {device_id}");
}

#[tokio::test]
async fn checkup_ranks_findings_remembers_fine_and_the_report_holds_no_secret() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let user = hs.register("checkup").await;
    let (stale_token, stale) = hs.device(&user, "Element Desktop: macOS", "203.0.113.7").await;
    let (observer, _) = hs.device(&user, "Observer", "192.0.2.1").await;
    age_device(&hs, &observer, &stale, 200).await;
    let cli = Cli::new();
    let account = add(&cli, &hs, &user);

    let findings = cli.run(&["checkup", &account, "--json"], None).expect_ok().json();
    let mine: Vec<&Value> = findings.as_array().unwrap().iter().filter(|f| f["credential_id"] == stale.as_str()).collect();
    assert!(mine.iter().any(|f| f["code"] == "inactive"), "an unused device is found: {findings:#}");
    let inactive = mine.iter().find(|f| f["code"] == "inactive").unwrap();
    assert!(inactive["reason"].as_str().unwrap().contains("has not been used since"), "{inactive}");
    assert_eq!(inactive["fix"]["action"], "revoke");
    assert!(findings.as_array().unwrap().iter().all(|f| f["code"] != "new"), "the first look is the baseline");
    let ranks: Vec<u64> = findings.as_array().unwrap().iter().map(|f| f["rank"].as_u64().unwrap()).collect();
    assert!(ranks.windows(2).all(|w| w[0] >= w[1]), "ranked: {ranks:?}");

    cli.run(&["dismiss", &account, &stale, "inactive"], None).expect_ok();
    let again = cli.run(&["checkup", &account, "--json"], None).expect_ok().json();
    assert!(
        !again.as_array().unwrap().iter().any(|f| f["credential_id"] == stale.as_str() && f["code"] == "inactive"),
        "fine is remembered"
    );

    // Revoke the observer, then report: every secret of the session stays out of it.
    let rows = cli.run(&["list", &account, "--json"], None).expect_ok().json();
    let obs_id = rows.as_array().unwrap().iter().find(|r| r["name"] == "Observer").unwrap()["id"].as_str().unwrap().to_string();
    cli.run(&["revoke", &account, &obs_id, "--yes", "--password-stdin"], Some(&format!("{PASSWORD}\n"))).expect_ok();
    assert!(hs.devices(&stale_token).await.iter().all(|d| d["device_id"] != obs_id.as_str()));
    let own = cli.run(&["accounts", "--json"], None).expect_ok().json()[0]["id"].as_str().unwrap().to_string();
    let stored = cli.keyring_entry(&own).expect("Keyward's own token is in the keyring");
    let keyring: Value = serde_json::from_str(&stored).unwrap();
    let own_token = keyring["access_token"].as_str().unwrap().to_string();
    let mut printed = Vec::new();
    for format in ["markdown", "html", "json"] {
        let out = cli.run(&["report", "--format", format], None).expect_ok();
        assert!(out.stdout.contains(&obs_id) || out.stdout.contains("Observer"), "{format}: the revoke is in the report");
        printed.push(out.stdout);
    }
    let file = cli.config_dir().join("report.html");
    cli.run(&["report", "--format", "html", "-o", file.to_str().unwrap()], None).expect_ok();
    printed.push(std::fs::read_to_string(&file).unwrap());
    let refs: Vec<&str> = printed.iter().map(String::as_str).collect();
    assert_nowhere(&cli, &refs, &[PASSWORD, &stale_token, &observer, &own_token]);
}

/// The lines a running `keyward watch` prints, as they come.
fn lines_of(out: impl Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The next line from `rx` that `wanted` accepts; panics after `limit` (a bound so a broken
/// watch fails the test instead of hanging it; no time is asserted).
fn wait_for(rx: &std::sync::mpsc::Receiver<String>, limit: std::time::Duration, mut wanted: impl FnMut(&str) -> bool) -> String {
    let end = std::time::Instant::now() + limit;
    loop {
        let left = end.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) if wanted(&l) => return l,
            Ok(_) => {}
            Err(e) => panic!("the watch never printed the line looked for ({e})"),
        }
    }
}

#[tokio::test]
async fn watch_tells_a_new_sign_in_once_and_leaves_it_for_the_user_to_see() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let hs = Synapse::main();
    let user = hs.register("watch").await;
    let (observer, _) = hs.device(&user, "Observer", "192.0.2.1").await;
    let cli = Cli::new();
    let account = add(&cli, &hs, &user);
    cli.run(&["changes", &account], None).expect_ok();

    let bad = cli.run(&["watch", "--interval", "0"], None).expect_err();
    assert!(bad.contains("--interval"), "{bad}");

    // Every 3 seconds (the shortest a watch accepts is 2).
    let mut child = cli.spawn(&["watch", "--json", "--interval", "0.05"]);
    let out = lines_of(child.stdout.take().unwrap());
    let err = lines_of(child.stderr.take().unwrap());
    let limit = std::time::Duration::from_secs(120);
    wait_for(&err, limit, |l| l.starts_with("Watching 1 account every 3 seconds"));
    let (_, laptop) = hs.device(&user, "Firefox on Windows", "198.51.100.7").await;
    let line = wait_for(&out, limit, |l| l.contains(&laptop));
    let change: Value = serde_json::from_str(&line).expect("one JSON object per line");
    assert_eq!(change["change"], "appeared", "{change}");
    assert_eq!(change["account"], account.as_str());
    assert!(change["summary"].as_str().unwrap().contains("198.51.100.7"), "{change}");

    // Another sign-in: told too, and the first one is not told again.
    let (_, phone) = hs.device(&user, "Element X on Pixel 8", "198.51.100.9").await;
    let mut told = Vec::new();
    let line = wait_for(&out, limit, |l| {
        told.push(l.to_string());
        l.contains(&phone)
    });
    assert!(line.contains("\"appeared\""), "{line}");
    assert!(told.iter().all(|l| !l.contains(&laptop)), "each change is told once: {told:?}");
    let _ = child.kill();
    let _ = child.wait();

    // The watch only told: the user still sees both when they look.
    let seen = cli.run(&["changes", &account, "--json"], None).expect_ok().json();
    let ids: Vec<&str> =
        seen.as_array().unwrap().iter().filter(|c| c["change"] == "appeared").map(|c| c["credential_id"].as_str().unwrap()).collect();
    assert!(ids.contains(&laptop.as_str()) && ids.contains(&phone.as_str()), "{seen}");
    assert!(hs.device_ids(&observer).await.contains(&phone));
}
