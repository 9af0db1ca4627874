//! Many Keyward processes at once against one config directory lose nothing: concurrent
//! `keyward label` runs (a command that only touches the store) each keep their change; a writer
//! killed with SIGKILL in the middle of writing never leaves a damaged accounts file, and the
//! temporary files it leaves are gone after the next run; two `keyward list` at once on a Matrix
//! account whose access token has expired refresh it once between them and keep the newest
//! refresh token (against the real Synapse, skipped without it).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use common::{unique, Cli};
use keyward::model::{Account, Fact};
use keyward::store::Store;
use serde_json::Value;

/// Accounts of one made-up server, with enough facts that writing the file takes a while (the
/// window in which an unlocked writer would lose another's change, or be killed mid-write).
fn seed(dir: &Path, n: usize) -> Vec<Account> {
    let accounts: Vec<Account> = (0..n)
        .map(|i| Account {
            id: format!("acct{i:04}"),
            kind: keyward::providers::matrix::KIND,
            base_url: format!("https://matrix{i}.example.org"),
            login: format!("user{i}"),
            user_id: format!("@user{i}:matrix{i}.example.org"),
            label: None,
            own_credential: Some(format!("DEVICE{i}")),
            server_facts: (0..20).map(|j| Fact::new(format!("Fact {j}"), "x".repeat(200))).collect(),
            signed_in: true,
            added: Utc::now(),
        })
        .collect();
    let seeded = accounts.clone();
    Store::at(dir).update_accounts(move |a| *a = seeded).unwrap();
    accounts
}

fn temp_files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for d in [dir.to_path_buf(), dir.join("listings")] {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".tmp") {
                found.push(name);
            }
        }
    }
    found
}

#[test]
fn concurrent_label_changes_from_many_processes_all_stay() {
    let cli = Cli::new();
    let accounts = seed(cli.config_dir(), 200);
    let writers = 24;
    let children: Vec<_> = (0..writers)
        .map(|i| {
            Command::new(Cli::binary())
                .args(["label", &accounts[i].id, &format!("label-{i}")])
                .env("KEYWARD_CONFIG_DIR", cli.config_dir())
                .env("KEYWARD_KEYRING_SERVICE", cli.keyring_service())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start keyward")
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "writer {i}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let after = Store::at(cli.config_dir()).accounts().unwrap();
    assert_eq!(after.len(), accounts.len(), "no account vanished");
    let lost: Vec<usize> = (0..writers).filter(|&i| after[i].label.as_deref() != Some(&format!("label-{i}"))).collect();
    assert!(lost.is_empty(), "the label changes of writers {lost:?} were lost");
    assert!(after[writers..].iter().all(|a| a.label.is_none()), "nothing else changed");
    assert!(temp_files(cli.config_dir()).is_empty());
}

/// Not a test of its own: the writer that `a_writer_killed_mid_write_...` runs in a child process
/// (this test binary again) and kills. Rewrites the accounts file as fast as it can.
#[test]
#[ignore = "run by a_writer_killed_mid_write_never_damages_the_file as its child"]
fn writer_child() {
    let Some(dir) = std::env::var_os("KEYWARD_TEST_WRITER_DIR") else { return };
    let store = Store::at(dir);
    for n in 0u64.. {
        store.update_accounts(|a| a[0].label = Some(format!("write {n}"))).unwrap();
        if n == 0 {
            // Tell the parent the loop runs, so its kill lands in the middle of it.
            println!("writing");
        }
    }
}

/// Stops `pid` (SIGSTOP) and waits until it is stopped.
fn stop(pid: i32) {
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    while !std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.rsplit(')').next().is_some_and(|r| r.trim_start().starts_with('T')))
    {
        std::thread::yield_now();
    }
}

#[test]
fn a_writer_killed_mid_write_never_damages_the_file_and_the_next_run_tidies() {
    let cli = Cli::new();
    let accounts = seed(cli.config_dir(), 300);
    let me = std::env::current_exe().unwrap();
    let mut kills = 0;
    while kills < 5 {
        let mut child = Command::new(&me)
            .args(["--exact", "writer_child", "--ignored", "--nocapture", "--test-threads=1"])
            .env("KEYWARD_TEST_WRITER_DIR", cli.config_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while std::io::BufRead::read_line(&mut out, &mut line).unwrap() > 0 && !line.contains("writing") {
            line.clear();
        }
        // Freeze the writer at random moments until one finds it between creating its temporary
        // file and renaming it over the accounts file: then SIGKILL, mid-write.
        let pid = child.id() as i32;
        let started = Instant::now();
        loop {
            std::thread::sleep(Duration::from_micros(rand::random::<u64>() % 3000));
            stop(pid);
            if !temp_files(cli.config_dir()).is_empty() || started.elapsed() > Duration::from_secs(20) {
                break;
            }
            unsafe { libc::kill(pid, libc::SIGCONT) };
        }
        let mid_write = !temp_files(cli.config_dir()).is_empty();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert!(mid_write, "the writer was never caught mid-write");
        kills += 1;
        let now = Store::at(cli.config_dir()).accounts().unwrap_or_else(|e| panic!("after kill {kills}: {e}"));
        assert_eq!(now.len(), accounts.len(), "after kill {kills}, every account is there");
    }

    // The next run of the CLI, even one that only reads, removes what the killed writers left.
    cli.run(&["accounts", "--json"], None).expect_ok();
    assert_eq!(temp_files(cli.config_dir()), Vec::<String>::new(), "the next run removed what {kills} kills left");
}

// ---- the Matrix refresh token, rotated by two processes at once ----

const PASSWORD: &str = "correct horse battery";

/// Registers a user on a Synapse through the shared-secret admin API.
async fn register(url: &str, secret: &str) -> String {
    use hmac::{Hmac, Mac};
    let user = unique("race");
    let http = reqwest::Client::new();
    let nonce: Value = http.get(format!("{url}/_synapse/admin/v1/register")).send().await.unwrap().json().await.unwrap();
    let nonce = nonce["nonce"].as_str().unwrap().to_string();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{nonce}\0{user}\0{PASSWORD}\0notadmin").as_bytes());
    let body = serde_json::json!({"nonce": nonce, "username": user, "password": PASSWORD, "admin": false, "mac": hex::encode(mac.finalize().into_bytes())});
    let r = http.post(format!("{url}/_synapse/admin/v1/register")).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "register {user}: {}", r.text().await.unwrap());
    user
}

#[tokio::test]
async fn two_lists_at_once_after_the_token_expired_keep_the_newest_refresh_token() {
    if common::skip_without("KEYWARD_TEST_SYNAPSE_SHORT_URL") {
        return;
    }
    let url = common::env("KEYWARD_TEST_SYNAPSE_SHORT_URL");
    let user = register(&url, &common::env("KEYWARD_TEST_SYNAPSE_SHORT_SECRET")).await;
    let cli = Cli::new();
    cli.run(&["add", &url, "--user", &user, "--password-stdin"], Some(&format!("{PASSWORD}\n"))).expect_ok();
    let id = cli.run(&["accounts", "--json"], None).expect_ok().json()[0]["id"].as_str().unwrap().to_string();
    let account = format!("{user}@{}", url.trim_start_matches("http://"));
    let first: Value = serde_json::from_str(&cli.keyring_entry(&id).unwrap()).unwrap();

    for round in 0..3 {
        // Past the 3 s lifetime: both processes find the access token refused at once.
        tokio::time::sleep(Duration::from_secs(4)).await;
        let both: Vec<_> = (0..2)
            .map(|_| {
                Command::new(Cli::binary())
                    .args(["list", &account, "--json"])
                    .env("KEYWARD_CONFIG_DIR", cli.config_dir())
                    .env("KEYWARD_KEYRING_SERVICE", cli.keyring_service())
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in both {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "round {round}: a list failed: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
    let kept: Value = serde_json::from_str(&cli.keyring_entry(&id).unwrap()).unwrap();
    assert_ne!(first["refresh_token"], kept["refresh_token"], "the tokens were rotated");
    // The kept refresh token is the live one: the server takes it (and the account keeps working).
    tokio::time::sleep(Duration::from_secs(4)).await;
    let rows = cli.run(&["list", &account, "--json"], None).expect_ok().json();
    assert!(rows.as_array().is_some_and(|r| r.iter().any(|c| c["current"] == true)), "{rows}");
}
