//! No secret of a full session reaches a place it must not: a Matrix account on the real Synapse
//! is added, listed, a device renamed and revoked (with the password, which the server asks for),
//! and the account removed with sign-out, every run with `KEYWARD_LOG=trace` and a private HOME.
//! Then the password and every token Keyward held are searched for in the config directory, HOME,
//! everything the runs printed (trace logs included), and the argv and environment of a running
//! `keyward` that has read the password; and that process allows no core dump. Skipped without
//! the Synapse that `make test` starts.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{unique, Cli, Run};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse battery staple 7";

fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap()
}

async fn register(url: &str, secret: &str) -> String {
    let user = unique("secrets");
    let nonce: Value = http().get(format!("{url}/_synapse/admin/v1/register")).send().await.unwrap().json().await.unwrap();
    let nonce = nonce["nonce"].as_str().unwrap().to_string();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{nonce}\0{user}\0{PASSWORD}\0notadmin").as_bytes());
    let body =
        json!({"nonce": nonce, "username": user, "password": PASSWORD, "admin": false, "mac": hex::encode(mac.finalize().into_bytes())});
    let r = http().post(format!("{url}/_synapse/admin/v1/register")).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "register {user}: {}", r.text().await.unwrap());
    user
}

/// Another client's device for `user`: (access token, device id).
async fn other_device(url: &str, user: &str) -> (String, String) {
    let body = json!({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user}, "password": PASSWORD, "initial_device_display_name": "Phone"});
    let r: Value = http().post(format!("{url}/_matrix/client/v3/login")).json(&body).send().await.unwrap().json().await.unwrap();
    (r["access_token"].as_str().unwrap().to_string(), r["device_id"].as_str().unwrap().to_string())
}

async fn device_ids(url: &str, token: &str) -> Vec<String> {
    let r: Value = http().get(format!("{url}/_matrix/client/v3/devices")).bearer_auth(token).send().await.unwrap().json().await.unwrap();
    r["devices"].as_array().map(|d| d.iter().filter_map(|d| d["device_id"].as_str().map(String::from)).collect()).unwrap_or_default()
}

/// Every file under `dir`, with its bytes.
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push((p, bytes));
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Everything a run printed, for the search.
fn printed(run: &Run) -> String {
    format!("{}\n{}", run.stdout, run.stderr)
}

#[tokio::test]
async fn a_full_session_leaves_no_secret_in_files_logs_argv_or_environment() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_URL") {
        return;
    }
    let url = common::env("KEYWARD_TEST_SYNAPSE_URL");
    let user = register(&url, &common::env("KEYWARD_TEST_SYNAPSE_SECRET")).await;
    let home = tempfile::tempdir().unwrap();
    let cli = Cli::new().with_env("KEYWARD_LOG", "trace").with_env("HOME", home.path().to_str().unwrap());
    let account = format!("{user}@{}", url.trim_start_matches("http://"));
    let mut output = String::new();

    // add: while it waits for its second line (a code), the password is read and in memory.
    let mut running = Command::new(Cli::binary())
        .args(["add", &url, "--user", &user, "--password-stdin", "--code-stdin"])
        .env("KEYWARD_CONFIG_DIR", cli.config_dir())
        .env("KEYWARD_KEYRING_SERVICE", cli.keyring_service())
        .env("KEYWARD_LOG", "trace")
        .env("HOME", home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = running.stdin.take().unwrap();
    stdin.write_all(format!("{PASSWORD}\n").as_bytes()).unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let pid = running.id();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    assert!(
        limits.lines().any(|l| l.starts_with("Max core file size") && l.split_whitespace().filter(|w| *w == "0").count() == 2),
        "the running keyward allows no core dump: {limits}"
    );
    stdin.write_all(b"000000\n").unwrap();
    drop(stdin);
    let mut add_out = String::new();
    running.stdout.take().unwrap().read_to_string(&mut add_out).unwrap();
    let mut add_err = String::new();
    running.stderr.take().unwrap().read_to_string(&mut add_err).unwrap();
    assert!(running.wait().unwrap().success(), "add failed: {add_err}");
    output.push_str(&add_out);
    output.push_str(&add_err);
    assert!(add_err.contains("TRACE") || add_err.contains("DEBUG"), "the trace log was on");

    // What Keyward keeps in the keyring: its access token (and a refresh token, if the server gave one).
    let id = cli.run(&["accounts", "--json"], None).expect_ok().json()[0]["id"].as_str().unwrap().to_string();
    let stored: Value = serde_json::from_str(&cli.keyring_entry(&id).expect("the keyring holds the account")).unwrap();
    let mut secrets = vec![PASSWORD.to_string()];
    for key in ["access_token", "refresh_token"] {
        if let Some(t) = stored[key].as_str() {
            secrets.push(t.to_string());
        }
    }
    assert!(
        secrets.len() >= 2,
        "an access token was kept: {}",
        stored.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>().join(",")).unwrap_or_default()
    );

    // list, rename and revoke another device (the server asks for the password), remove.
    let (_, phone) = other_device(&url, &user).await;
    output.push_str(&printed(&cli.run(&["list", &account], None).expect_ok()));
    output.push_str(&printed(&cli.run(&["list", &account, "--json"], None).expect_ok()));
    output.push_str(&printed(&cli.run(&["rename", &account, &phone, "Old phone"], None).expect_ok()));
    let revoke = cli.run(&["revoke", &account, &phone, "--yes", "--password-stdin"], Some(&format!("{PASSWORD}\n"))).expect_ok();
    output.push_str(&printed(&revoke));
    let own = stored["device_id"].as_str().unwrap().to_string();
    let left = device_ids(&url, &own_token(&stored)).await;
    assert!(left.contains(&own) && !left.contains(&phone), "the phone is gone on the server, Keyward's device is not: {left:?}");
    output.push_str(&printed(&cli.run(&["remove", &account, "--sign-out"], None).expect_ok()));
    assert!(cli.keyring_entry(&id).is_none(), "the keyring entry went with the account");

    for secret in &secrets {
        let what = if secret == PASSWORD { "the password" } else { "a token" };
        for (path, bytes) in files_under(cli.config_dir()).into_iter().chain(files_under(home.path())) {
            assert!(!contains(&bytes, secret), "{what} is in {}", path.display());
        }
        assert!(!output.contains(secret.as_str()), "{what} was printed (or logged at trace level)");
        assert!(!contains(&cmdline, secret), "{what} is in the argv of a running keyward");
        assert!(!contains(&environ, secret), "{what} is in the environment of a running keyward");
    }
}

fn own_token(stored: &Value) -> String {
    stored["access_token"].as_str().unwrap().to_string()
}
