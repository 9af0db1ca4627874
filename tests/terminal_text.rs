//! What a server says cannot take over the terminal: a fake JupyterHub (a few lines of HTTP on
//! 127.0.0.1, answering like the real API) names its tokens with escape sequences, bidi
//! overrides, zero-width characters and a 10 KB note, and its errors carry escape sequences. The
//! CLI's plain output shows none of them and no overlong line; `--json` keeps the full values. A
//! damaged accounts file is one line naming it, exit 1, no panic.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;

use common::Cli;
use serde_json::json;

const TOKEN: &str = "fake-hub-token-0123456789";
const HOSTILE_ID: &str = "t2\u{1b}[2J\u{1b}[H";

fn hostile_note() -> String {
    format!("\u{1b}]0;pwned\u{7}\u{1b}[31mred\u{1b}[0m invoice\u{202E}txt.exe\u{200B} {}", "A".repeat(10_000))
}

/// A hub that answers the API root, the signed-in user, and a token list with hostile names;
/// with `broken`, the token list is a 500 whose message carries escape sequences.
fn fake_hub(broken: bool) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", l.local_addr().unwrap().port());
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut buf = vec![0u8; 16 * 1024];
            let n = s.read(&mut buf).unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]).into_owned();
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
            let (status, body) = match path.as_str() {
                "/hub/api/" => ("200 OK", json!({"version": "5.2.1"})),
                "/hub/api/user" => ("200 OK", json!({"name": "alice", "kind": "user", "token_id": "t1"})),
                "/hub/api/users/alice/tokens" if broken => {
                    ("500 Internal Server Error", json!({"status": 500, "message": "\u{1b}[2J\u{1b}]0;owned\u{7}boom\u{202E}"}))
                }
                "/hub/api/users/alice/tokens" => (
                    "200 OK",
                    json!({"api_tokens": [
                        {"id": "t1", "kind": "api_token", "note": "Keyward", "created": "2026-11-20T10:00:00Z", "last_activity": null, "expires_at": null, "scopes": [], "roles": [], "oauth_client": "JupyterHub", "session_id": null},
                        {"id": HOSTILE_ID, "kind": "api_token", "note": hostile_note(), "created": "2026-11-20T10:00:00Z", "last_activity": null, "expires_at": null, "scopes": [], "roles": [], "oauth_client": "JupyterHub", "session_id": null}
                    ], "oauth_tokens": []}),
                ),
                _ => ("404 Not Found", json!({"status": 404, "message": "Not Found"})),
            };
            let body = body.to_string();
            let answer = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(answer.as_bytes());
        }
    });
    url
}

fn add(cli: &Cli, url: &str) -> String {
    cli.run(&["add", url, "--user", "alice", "--kind", "jupyterhub", "--token-stdin"], Some(&format!("{TOKEN}\n"))).expect_ok();
    format!("alice@{}", url.trim_start_matches("http://"))
}

fn assert_tame(shown: &str) {
    for bad in ['\u{1b}', '\u{7}', '\u{9b}', '\u{202E}', '\u{200B}'] {
        assert!(!shown.contains(bad), "U+{:04X} reached the terminal: {shown:?}", bad as u32);
    }
    let longest = shown.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(longest < 600, "a line of {longest} characters reached the terminal");
}

#[test]
fn hostile_names_reach_the_terminal_tamed_and_json_whole() {
    let url = fake_hub(false);
    let cli = Cli::new();
    let account = add(&cli, &url);
    let plain = cli.run(&["list", &account], None).expect_ok();
    assert_tame(&plain.stdout);
    assert!(plain.stdout.contains("red invoicetxt.exe"), "the words themselves are still shown: {}", plain.stdout);
    assert!(plain.stdout.contains('…'), "the long note is cut, visibly");

    let rows = cli.run(&["list", &account, "--json"], None).expect_ok().json();
    let row = rows.as_array().unwrap().iter().find(|r| r["id"] == HOSTILE_ID).expect("the hostile token is listed under its own id");
    assert_eq!(row["name"].as_str(), Some(hostile_note().as_str()), "--json keeps the server's value whole");
}

#[test]
fn server_error_text_reaches_the_terminal_tamed() {
    let url = fake_hub(true);
    let cli = Cli::new();
    let account = add(&cli, &url);
    let line = cli.run(&["list", &account], None).expect_err();
    assert_tame(&line);
    assert!(line.contains("boom"), "{line}");
}

#[test]
fn a_damaged_server_address_is_one_line_naming_the_file() {
    let url = fake_hub(false);
    let cli = Cli::new();
    let account = add(&cli, &url);
    let path = cli.config_dir().join("accounts.json");
    let text = std::fs::read_to_string(&path).unwrap().replace(&url, "not a url");
    std::fs::write(&path, text).unwrap();
    for args in [vec!["list", account.as_str()], vec!["accounts"], vec!["label", account.as_str(), "x"]] {
        let run = cli.run(&args, None);
        assert_eq!(run.status, 1, "{args:?}: exit 1, not a panic's 101: {}", run.stderr);
        let line = run.expect_err();
        assert!(line.contains(&path.display().to_string()) && !line.contains("panicked"), "{line}");
    }
}
