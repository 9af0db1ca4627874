//! The Phorge provider through the real CLI, against the simulated Phorge in `tests/sim/phorge.py`
//! (no Phorge installs here). Each test starts its own simulator on a free port, acts through
//! `keyward`, and checks the result on the "server" through the simulator's `/__sim/state`. The
//! simulator serves the pages captured from a real Phorge 2026.27 (`tests/data/phorge/`); the
//! first test replays every capture's request against it and demands the same bytes.

mod common;

use std::collections::BTreeMap;

use common::Cli;
use serde_json::{json, Value};

const ALICE: &str = "alice-pass-1\n";
const BOB_PASSWORD: &str = "bob-pass-1";

/// One simulated Phorge, stopped (by its PID) when dropped.
struct SimPhorge(common::sim::Sim);

impl std::ops::Deref for SimPhorge {
    type Target = common::sim::Sim;
    fn deref(&self) -> &common::sim::Sim {
        &self.0
    }
}

impl SimPhorge {
    fn start(flags: &[&str]) -> Self {
        SimPhorge(common::sim::Sim::start("phorge", flags))
    }

    fn advance(&self, secs: u64) {
        self.request("POST", "/__sim/clock", Some(json!({ "advance": secs })));
    }

    /// The TOTP code bob's authenticator shows now.
    fn code(&self) -> String {
        self.request("GET", "/__sim/code?user=bob", None)["code"].as_str().unwrap().to_string()
    }

    /// Another client of `user` signs in: its session's id and digest.
    fn login_elsewhere(&self, user: &str, kind: &str) -> (i64, String) {
        let s = self.request("POST", "/__sim/login", Some(json!({ "user": user, "kind": kind, "ip": "198.51.100.7" })));
        (s["id"].as_i64().unwrap(), s["digest"].as_str().unwrap().to_string())
    }

    fn add_token(&self, user: &str) -> i64 {
        self.request("POST", "/__sim/add_token", Some(json!({ "user": user })))["id"].as_i64().unwrap()
    }

    fn end_session(&self, id: i64) {
        self.request("POST", "/__sim/end_session", Some(json!({ "id": id })));
    }

    fn sessions_of(&self, user: &str) -> Vec<Value> {
        let state = self.state();
        let now = state["now"].as_i64().unwrap();
        state["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["user"] == user && s["expires"].as_i64().unwrap() > now)
            .cloned()
            .collect()
    }

    fn session_ids(&self, user: &str) -> Vec<i64> {
        self.sessions_of(user).iter().map(|s| s["id"].as_i64().unwrap()).collect()
    }

    /// Keyward's own session of `user`: the newest one (the world's sessions predate the test).
    fn newest_session(&self, user: &str) -> Value {
        self.sessions_of(user).into_iter().max_by_key(|s| s["id"].as_i64().unwrap()).unwrap()
    }

    fn token(&self, id: i64) -> Value {
        self.state()["tokens"].as_array().unwrap().iter().find(|t| t["id"] == id).cloned().unwrap()
    }

    fn token_alive(&self, id: i64) -> bool {
        let state = self.state();
        let t = state["tokens"].as_array().unwrap().iter().find(|t| t["id"] == id).unwrap().clone();
        t["expires"].is_null() || t["expires"].as_i64().unwrap() > state["now"].as_i64().unwrap()
    }

    fn token_count(&self) -> usize {
        self.state()["tokens"].as_array().unwrap().len()
    }
}

fn add(cli: &Cli, sim: &SimPhorge) -> String {
    let out = cli.run(&["add", &sim.url(), "--user", "alice", "--password-stdin", "--json"], Some(ALICE)).expect_ok();
    out.json()["name"].as_str().unwrap().to_string()
}

fn add_bob(cli: &Cli, sim: &SimPhorge) -> String {
    let stdin = format!("{BOB_PASSWORD}\n{}\n", sim.code());
    let out = cli.run(&["add", &sim.url(), "--user", "bob", "--password-stdin", "--code-stdin", "--json"], Some(&stdin)).expect_ok();
    out.json()["name"].as_str().unwrap().to_string()
}

fn list(cli: &Cli, account: &str) -> Vec<Value> {
    cli.run(&["list", account, "--json"], None).expect_ok().json().as_array().unwrap().clone()
}

fn row<'a>(rows: &'a [Value], id: &str) -> &'a Value {
    rows.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no {id} in {}", serde_json::to_string_pretty(rows).unwrap()))
}

fn detail(r: &Value, label: &str) -> Option<String> {
    r["details"].as_array()?.iter().find(|d| d["label"] == label).map(|d| d["value"].as_str().unwrap().to_string())
}

fn gaps(cli: &Cli) -> String {
    cli.run(&["accounts", "--json"], None).expect_ok().json()[0]["gaps"].to_string()
}

fn minute(t: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(t.as_str().unwrap_or_else(|| panic!("not a time: {t}"))).unwrap().timestamp() / 60
}

// ---- the simulator answers like the captures ----

/// The port and the CSRF value are the only bytes that differ from a capture.
fn normalise(text: &str, port: u16) -> String {
    let t = text.replace(&format!("127.0.0.1:{port}"), "127.0.0.1:18090");
    regex::Regex::new(r"B@[a-z0-9]{8}[0-9a-f]{16}").unwrap().replace_all(&t, "B@fakesalt0123456789abcdef").into_owned()
}

/// Set-Cookie values that are secrets, as the captures' placeholders.
fn normalise_cookie(v: &str) -> String {
    let (name, rest) = v.split_once('=').unwrap();
    let (value, attrs) = rest.split_once(';').unwrap_or((rest, ""));
    let value = match name {
        "phsid" if value != "deleted" && value.starts_with("A%2F") => "A%2Ffakeanonymoussessionaaaaaaaaaaaaaaaaaaaa",
        "phsid" if value != "deleted" => "fakesessionkeyaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "phcid" if value != "deleted" => "fakeclientidaaaa",
        _ => value,
    };
    format!("{name}={value};{attrs}")
}

#[tokio::test]
async fn simulator_answers_every_capture_byte_for_byte() {
    let sim = SimPhorge::start(&[]);
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/phorge/");
    let replay: Value =
        serde_json::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sim/phorge-replay.json")).unwrap())
            .unwrap();
    let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let sim_post = |path: &str, body: Value| c.post(format!("{}{path}", sim.url())).json(&body).send();
    let mut served = std::collections::BTreeSet::new();
    let csrf_input = regex::Regex::new(r#"name="__csrf__" value="([^"]+)""#).unwrap();
    for e in replay["entries"].as_array().unwrap() {
        let fixture = e["fixture"].as_str().unwrap();
        let mut jar: BTreeMap<String, String> = BTreeMap::new();
        let mut viewer = None;
        if let Some(scene) = e["scene"].as_str() {
            let mut body = json!({ "name": scene });
            if let Some(v) = e.get("viewer") {
                body["viewer"] = v.clone();
            }
            let answer: Value = sim_post("/__sim/scene", body).await.unwrap().json().await.unwrap();
            if let Some(k) = answer["phsid"].as_str() {
                jar.insert("phsid".into(), k.into());
                viewer = Some(k.to_string());
            }
        }
        if let Some(at) = e.get("at") {
            sim_post("/__sim/clock", json!({ "at": at })).await.unwrap();
        }
        let mut csrf = None;
        let mut last = None;
        for step in e["steps"].as_array().unwrap() {
            if let Some(p) = step["sim"].as_str() {
                sim_post(p, step["json"].clone()).await.unwrap();
                continue;
            }
            let ua = step.get("ua").or(e.get("ua")).and_then(Value::as_str).unwrap_or("");
            let (method, path) = match (step["get"].as_str(), step["post"].as_str()) {
                (Some(p), _) => ("GET", p),
                (_, Some(p)) => ("POST", p),
                _ => panic!("a step without a request: {step}"),
            };
            let mut req = c.request(method.parse().unwrap(), format!("{}{path}", sim.url())).header("User-Agent", ua);
            let cookie = match step.get("cookie").and_then(Value::as_str) {
                None => jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "),
                Some("$session") => format!("phsid={}", viewer.clone().unwrap()),
                Some(other) => other.to_string(),
            };
            if !cookie.is_empty() {
                req = req.header("Cookie", cookie);
            }
            if let Some(j) = step["json_body"].as_str() {
                req = req.header("Content-Type", "application/json").body(j.to_string());
            } else if let Some(form) = step["form"].as_array() {
                let mut fields = Vec::new();
                for f in form {
                    let (k, v) = (f[0].as_str().unwrap().to_string(), f[1].as_str().unwrap().to_string());
                    let v = match v.as_str() {
                        "$csrf" => csrf.clone().unwrap_or_else(|| panic!("{fixture}: no CSRF value before {path}")),
                        "$code" => {
                            let v: Value = c.get(format!("{}/__sim/code?user=bob", sim.url())).send().await.unwrap().json().await.unwrap();
                            v["code"].as_str().unwrap().to_string()
                        }
                        _ => v,
                    };
                    fields.push((k, v));
                }
                req = req.form(&fields);
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let headers: Vec<(String, String)> =
                r.headers().iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap().to_string())).collect();
            let body = r.text().await.unwrap();
            if let Some(m) = csrf_input.captures(&body) {
                csrf = Some(m[1].to_string());
            }
            for (k, v) in &headers {
                if k == "set-cookie" {
                    let (name, rest) = v.split_once('=').unwrap();
                    let value = rest.split(';').next().unwrap();
                    if value == "deleted" {
                        jar.remove(name);
                    } else {
                        jar.insert(name.to_string(), value.to_string());
                    }
                }
            }
            last = Some((status, headers, body));
        }
        let (status, headers, body) = last.unwrap_or_else(|| panic!("{fixture}: no request"));
        assert_eq!(status, e["status"].as_u64().unwrap() as u16, "{fixture}: status");
        let want = std::fs::read_to_string(format!("{dir}{fixture}")).unwrap();
        if fixture.ends_with(".headers.txt") {
            // Every header but the status line (the capture tool wrote that one its own way), in order.
            let want: Vec<String> = want.trim_end_matches('\n').lines().skip(1).map(str::to_string).collect();
            let got: Vec<String> = headers
                .iter()
                .map(|(k, v)| {
                    let v = if k == "set-cookie" { normalise_cookie(v) } else { normalise(v, sim.port) };
                    format!("{}: {v}", canonical_header(k, &want))
                })
                .collect();
            assert_eq!(got, want, "{fixture}: headers");
        } else {
            let got = normalise(&body, sim.port);
            if got != want {
                let at = got.bytes().zip(want.bytes()).position(|(a, b)| a != b).unwrap_or(got.len().min(want.len()));
                let show = |s: &str| s.get(at.saturating_sub(120)..(at + 120).min(s.len())).unwrap_or("").to_string();
                panic!("{fixture} differs at byte {at}:\n want …{}…\n got  …{}…", show(&want), show(&got));
            }
        }
        served.insert(fixture.to_string());
    }
    // Every capture is replayed.
    for f in std::fs::read_dir(dir).unwrap().flatten() {
        let name = f.file_name().into_string().unwrap();
        if !name.ends_with(".md") {
            assert!(served.contains(&name), "{name} is not replayed");
        }
    }
}

/// A header name as the capture spells it (HTTP names are case-insensitive; the capture kept
/// PHP's own spelling, `Content-type` on redirects among them).
fn canonical_header(name: &str, want: &[String]) -> String {
    let spelled: Vec<&str> = want.iter().filter_map(|w| w.split_once(": ").map(|(n, _)| n)).collect();
    spelled.iter().find(|n| n.eq_ignore_ascii_case(name)).map(|n| n.to_string()).unwrap_or_else(|| name.to_string())
}

// ---- signing in ----

#[test]
fn password_sign_in_keeps_one_web_session_in_the_keyring_and_makes_no_token() {
    let sim = SimPhorge::start(&[]);
    let cli = Cli::new();
    let tokens_before = sim.token_count();
    let sessions_before = sim.session_ids("alice").len();
    let out = cli.run(&["add", &sim.url(), "--user", "alice", "--password-stdin", "--json"], Some(ALICE)).expect_ok();
    let account = out.json();
    assert_eq!(account["kind"], "phorge", "detected with conduit.getcapabilities");
    let facts = account["server_facts"].to_string();
    assert!(facts.contains("alice (Alice Example)") && facts.contains("PHID-USER-knnczwuiiscfxcdrvuzl"), "{facts}");
    let name = account["name"].as_str().unwrap().to_string();
    assert_eq!(sim.token_count(), tokens_before, "no API token is made at sign-in");
    assert_eq!(sim.session_ids("alice").len(), sessions_before + 1, "one new web session");
    let whoami = sim.state()["conduit_log"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(whoami["method"], "user.whoami", "Conduit with the web session (cookie + __csrf__)");

    // The same session serves every later command.
    list(&cli, &name);
    list(&cli, &name);
    assert_eq!(sim.state()["logins"], 1);
    assert_eq!(sim.session_ids("alice").len(), sessions_before + 1);

    let own = sim.newest_session("alice");
    let cookie = own["key"].as_str().unwrap().to_string();
    let entry = cli.keyring_entry(account["id"].as_str().unwrap()).expect("keyring entry");
    assert!(entry.contains(&cookie) && entry.contains("alice-pass-1"), "the cookie and (no second factor) the password are kept");
    for (path, content) in cli.config_files() {
        for secret in [cookie.as_str(), "alice-pass-1", "api-fka1xxxxxxxxxxxxxxxxxxxxxxxx", "api-fkb2xxxxxxxxxxxxxxxxxxxxxxxx"] {
            assert!(!content.contains(secret), "{} holds a secret", path.display());
        }
    }
}

#[test]
fn wrong_password_is_said_plainly_and_leaves_nothing() {
    let sim = SimPhorge::start(&[]);
    let cli = Cli::new();
    let before = sim.session_ids("alice");
    let err = cli.run(&["add", &sim.url(), "--user", "alice", "--password-stdin"], Some("nope\n")).expect_err();
    assert!(err.contains("wrong username or password"), "{err}");
    assert!(cli.run(&["accounts", "--json"], None).expect_ok().json().as_array().unwrap().is_empty());
    assert_eq!(sim.session_ids("alice"), before);
}

#[test]
fn mfa_sign_in_takes_the_code_from_the_second_line_and_keeps_no_password() {
    let sim = SimPhorge::start(&[]);
    let cli = Cli::new();
    let name = add_bob(&cli, &sim);
    let accounts = cli.run(&["accounts", "--json"], None).expect_ok().json();
    let entry = cli.keyring_entry(accounts[0]["id"].as_str().unwrap()).unwrap();
    assert!(!entry.contains(BOB_PASSWORD), "with a second factor a new login needs a code anyway: the password is not kept");
    assert!(accounts[0]["server_facts"].to_string().contains("Second factor"));
    let rows = list(&cli, &name);
    let own = rows.iter().find(|r| r["current"] == true && r["kind"] == "session" && r["id"] != "every-session").unwrap();
    assert_eq!(own["id"], format!("session-{}", &sim.newest_session("bob")["digest"].as_str().unwrap()[..6]));
}

#[test]
fn mfa_without_a_code_asks_for_one_and_leaves_no_half_login() {
    let sim = SimPhorge::start(&[]);
    let cli = Cli::new();
    let err = cli.run(&["add", &sim.url(), "--user", "bob", "--password-stdin"], Some("bob-pass-1\n")).expect_err();
    assert!(err.contains("asks for a one-time code") && err.contains("--code-stdin"), "{err}");
    assert!(sim.session_ids("bob").is_empty(), "the partial session was logged out");
}

#[test]
fn mfa_wrong_code_changes_nothing() {
    let sim = SimPhorge::start(&[]);
    let cli = Cli::new();
    let err = cli.run(&["add", &sim.url(), "--user", "bob", "--password-stdin", "--code-stdin"], Some("bob-pass-1\n000000\n")).expect_err();
    assert!(err.contains("one-time code") && err.contains("not accepted"), "{err}");
    assert!(sim.session_ids("bob").is_empty());
    assert!(cli.run(&["accounts", "--json"], None).expect_ok().json().as_array().unwrap().is_empty());
}

#[test]
fn token_sign_in_reaches_conduit_only_and_says_what_it_cannot_show() {
    let sim = SimPhorge::start(&[]);
    let cli = Cli::new();
    let out =
        cli.run(&["add", &sim.url(), "--user", "alice", "--token-stdin", "--json"], Some("api-fka1xxxxxxxxxxxxxxxxxxxxxxxx\n")).expect_ok();
    let name = out.json()["name"].as_str().unwrap().to_string();
    let rows = list(&cli, &name);
    let key = row(&rows, "sshkey-2");
    assert_eq!((key["name"].as_str(), key["created"].is_null()), (Some("alice-desktop"), true), "Conduit gives keys no dates");
    assert_eq!(detail(key, "Trusted").as_deref(), Some("no"));
    assert!(!rows.iter().any(|r| r["id"].as_str().unwrap().starts_with("token-") || r["id"].as_str().unwrap().starts_with("session-")));
    let g = gaps(&cli);
    assert!(g.contains("Conduit API token") && g.contains("need a password sign-in"), "{g}");

    // "Every session" signs out every web and Conduit session; the token (Keyward's) stays.
    let every = row(&rows, "every-session");
    assert_eq!(every["current"], false);
    cli.run(&["revoke", &name, "every-session", "--yes"], None).expect_ok();
    assert!(sim.session_ids("alice").is_empty());
    assert!(sim.token_alive(1));
    list(&cli, &name);
    // Holding no session of its own, "sign out all other sessions" is the same auth.logout.
    sim.login_elsewhere("alice", "web");
    cli.run(&["revoke", &name, "--all-others", "--yes"], None).expect_ok();
    assert!(sim.session_ids("alice").is_empty());
}

#[test]
fn a_token_phorge_does_not_know_is_refused_plainly() {
    let sim = SimPhorge::start(&[]);
    let cli = Cli::new();
    let err = cli.run(&["add", &sim.url(), "--user", "alice", "--token-stdin"], Some("api-aaaaaaaaaaaaaaaaaaaaaaaaaaaa\n")).expect_err();
    assert!(err.contains("does not accept this Conduit API token") && !err.contains("api-aaaa"), "{err}");
    let err = cli.run(&["add", &sim.url(), "--kind", "phorge", "--user", "alice", "--token-stdin"], Some("notatoken\n")).expect_err();
    assert!(err.contains("32 characters"), "{err}");
}

#[test]
fn detect_finds_phorge_without_signing_in() {
    let sim = SimPhorge::start(&[]);
    let out = Cli::new().run(&["detect", &sim.url()], None).expect_ok();
    assert!(out.stdout.to_lowercase().contains("phorge"), "{}", out.stdout);
}

// ---- listing ----

#[test]
fn listing_shows_tokens_sessions_keys_grants_and_temporary_tokens_with_their_times() {
    let sim = SimPhorge::start(&[]);
    let cli = Cli::new();
    // Someone's script calls Conduit; then Keyward signs in (its own user.whoami is newer).
    sim.request("POST", "/__sim/conduit_call", Some(json!({ "method": "differential.query" })));
    let name = add(&cli, &sim);
    let rows = list(&cli, &name);
    let state = sim.state();
    let server = |coll: &str, id: i64| state[coll].as_array().unwrap().iter().find(|x| x["id"] == id).unwrap().clone();

    let laptop = row(&rows, "token-1");
    assert_eq!(laptop["kind"], "api_token");
    assert_eq!(laptop["name"], "laptop-cli");
    assert_eq!(minute(&laptop["created"]), server("tokens", 1)["created"].as_i64().unwrap() / 60, "Created, to the minute");
    assert!(laptop["expires"].is_null() && laptop["badges"].to_string().contains("no_expiry"), "Expires: Never");
    assert_eq!(detail(laptop, "Token (first 8 characters)").as_deref(), Some("api-fka1"));
    assert!(laptop["last_used"].is_null(), "Phorge records no use of a token");
    assert_eq!(detail(laptop, "Last used").as_deref(), Some("Phorge does not record when each API token is used"));
    assert!(!serde_json::to_string(&rows).unwrap().contains("api-fka1x"), "never more than the prefix");
    assert_eq!((laptop["can_rename"].as_bool(), laptop["can_revoke"].as_bool()), (Some(true), Some(true)));

    let other = row(&rows, "session-90c30b");
    assert_eq!((other["current"].as_bool(), other["can_revoke"].as_bool()), (Some(false), Some(true)));
    assert_eq!(minute(&other["created"]), server("sessions", 4)["created"].as_i64().unwrap() / 60);
    let expires = chrono::DateTime::parse_from_rfc3339(other["expires"].as_str().unwrap()).unwrap().timestamp();
    let real = server("sessions", 4)["expires"].as_i64().unwrap();
    assert!(expires >= real && expires - real < 86400, "the end of the day Phorge shows: {expires} vs {real}");
    assert_eq!(detail(other, "Signed in from").as_deref(), Some("127.0.0.1"));
    assert_eq!(detail(other, "Type").as_deref(), Some("web"));
    let own_digest = sim.newest_session("alice")["digest"].as_str().unwrap()[..6].to_string();
    let own = row(&rows, &format!("session-{own_digest}"));
    assert_eq!(own["current"], true);
    assert_eq!(detail(own, "High security").as_deref(), Some("off"));
    assert!(row(&rows, "every-session")["revoke_warning"].as_str().unwrap().contains("Keyward's own web session included"));

    let key = row(&rows, "sshkey-1");
    assert_eq!(
        (key["name"].as_str(), detail(key, "Comment").as_deref(), detail(key, "Type").as_deref()),
        (Some("alice-laptop"), Some("alice@laptop"), Some("ssh-ed25519"))
    );
    assert_eq!(minute(&key["created"]), server("sshkeys", 1)["created"].as_i64().unwrap() / 60);

    let grant = row(&rows, "oauth-1");
    assert_eq!((grant["kind"].as_str(), grant["name"].as_str()), (Some("oauth_grant"), Some("Demo Client App")));
    assert_eq!(minute(&grant["created"]), server("oauth", 1)["created"].as_i64().unwrap() / 60);

    let temp = row(&rows, "temptoken-1");
    assert_eq!(temp["name"], "One-Time Login Token");
    assert_eq!(minute(&temp["expires"]), server("temptokens", 1)["expires"].as_i64().unwrap() / 60, "Expires, not another column");

    let g = gaps(&cli);
    assert!(g.contains("does not record when each API token was last used"), "{g}");
    assert!(g.contains("last Conduit call, by any token or session, was differential.query"), "not Keyward's own call: {g}");
}

#[test]
fn listing_reads_columns_by_heading_in_any_order() {
    let sim = SimPhorge::start(&["--columns-reordered"]);
    let cli = Cli::new();
    let name = add(&cli, &sim);
    let rows = list(&cli, &name);
    let state = sim.state();
    let t = state["tokens"].as_array().unwrap().iter().find(|t| t["id"] == 1).unwrap();
    assert_eq!(minute(&row(&rows, "token-1")["created"]), t["created"].as_i64().unwrap() / 60);
    assert_eq!(row(&rows, "token-1")["name"], "laptop-cli");
    assert_eq!(detail(row(&rows, "sshkey-1"), "Comment").as_deref(), Some("alice@laptop"));
    let temp = state["temptokens"].as_array().unwrap()[0]["expires"].as_i64().unwrap();
    assert_eq!(minute(&row(&rows, "temptoken-1")["expires"]), temp / 60);
}

#[test]
fn times_are_read_in_the_users_zone_and_format() {
    let sim = SimPhorge::start(&["--zone=Australia/Sydney", "--time-format=H:i"]);
    let cli = Cli::new();
    let name = add(&cli, &sim);
    let rows = list(&cli, &name);
    let state = sim.state();
    let t = state["tokens"].as_array().unwrap().iter().find(|t| t["id"] == 1).unwrap();
    assert_eq!(minute(&row(&rows, "token-1")["created"]), t["created"].as_i64().unwrap() / 60, "Sydney wall time back to UTC");
}

#[test]
fn without_prototypes_there_is_no_oauth_panel_and_the_listing_says_so() {
    let sim = SimPhorge::start(&["--prototypes=false"]);
    let cli = Cli::new();
    let name = add(&cli, &sim);
    let rows = list(&cli, &name);
    assert!(!rows.iter().any(|r| r["kind"] == "oauth_grant"));
    assert!(rows.iter().any(|r| r["id"] == "token-1"));
    assert!(gaps(&cli).contains("no OAuth Authorizations panel"), "{}", gaps(&cli));
}

// ---- acting ----

#[test]
fn rename_a_token_and_refuse_a_name_phorge_would_not_keep() {
    let sim = SimPhorge::start(&[]);
    let cli = Cli::new();
    let name = add(&cli, &sim);
    cli.run(&["rename", &name, "token-2", "CI bot"], None).expect_ok();
    assert_eq!(sim.token(2)["name"], "CI bot");
    assert_eq!(row(&list(&cli, &name), "token-2")["name"], "CI bot");

    let long = "é".repeat(33); // 33 characters, 66 bytes
    let err = cli.run(&["rename", &name, "token-2", &long], None).expect_err();
    assert!(err.contains("64 bytes") && err.contains("66 bytes"), "{err}");
    assert_eq!(sim.token(2)["name"], "CI bot", "refused whole, never cut");
    let err = cli.run(&["rename", &name, "sshkey-1", "x"], None).expect_err();
    assert!(err.contains("API tokens only") || err.contains("renamed on its page"), "{err}");
}

#[test]
fn revoke_tokens_one_and_many() {
    let sim = SimPhorge::start(&[]);
    let cli = Cli::new();
    let name = add(&cli, &sim);
    let third = sim.add_token("alice");
    cli.run(&["revoke", &name, "token-1", "--yes"], None).expect_ok();
    assert!(!sim.token_alive(1) && sim.token_alive(2));
    let out = cli.run(&["revoke", &name, "token-2", &format!("token-{third}"), "--yes", "--json"], None).expect_ok().json();
    assert!(out["results"].as_array().unwrap().iter().all(|r| r["error"].is_null()), "{out}");
    assert!(!sim.token_alive(2) && !sim.token_alive(third));
    assert!(!list(&cli, &name).iter().any(|r| r["id"].as_str().unwrap().starts_with("token-")));
}

#[test]
fn revoke_a_session_other_than_keywards() {
    let sim = SimPhorge::start(&[]);
    let cli = Cli::new();
    let name = add(&cli, &sim);
    let own = sim.newest_session("alice")["id"].as_i64().unwrap();
    cli.run(&["revoke", &name, "session-90c30b", "--yes"], None).expect_ok();
    let ids = sim.session_ids("alice");
    assert!(!ids.contains(&4), "terminated on the server (the dialog's __dialog__=1 was sent)");
    assert!(ids.contains(&own));
    let err = cli.run(&["revoke", &name, "every-session", "--yes"], None).expect_err();
    assert!(err.contains("Keyward's own") && err.contains("--include-this-app"), "{err}");
    assert!(sim.session_ids("alice").contains(&own));
}

#[test]
fn one_revoke_names_credentials_of_different_kinds() {
    let sim = SimPhorge::start(&[]);
    let cli = Cli::new();
    let name = add(&cli, &sim);
    let out = cli
        .run(&["revoke", &name, "sshkey-1", "oauth-1", "temptoken-1", "session-90c30b", "token-2", "--yes", "--json"], None)
        .expect_ok()
        .json();
    assert_eq!(out["results"].as_array().unwrap().len(), 5, "{out}");
    assert!(out["results"].as_array().unwrap().iter().all(|r| r["error"].is_null()), "{out}");
    let state = sim.state();
    let now = state["now"].as_i64().unwrap();
    assert_eq!(state["sshkeys"].as_array().unwrap().iter().find(|k| k["id"] == 1).unwrap()["revoked"], true);
    assert!(state["oauth"].as_array().unwrap().is_empty());
    assert!(state["temptokens"].as_array().unwrap()[0]["expires"].as_i64().unwrap() <= now);
    assert!(!sim.session_ids("alice").contains(&4));
    assert!(!sim.token_alive(2) && sim.token_alive(1));
}

#[test]
fn terminate_all_other_sessions_ends_the_conduit_ones_too_and_keeps_keywards() {
    let sim = SimPhorge::start(&[]);
    let cli = Cli::new();
    let name = add(&cli, &sim);
    let (conduit, digest) = sim.login_elsewhere("alice", "conduit");
    let rows = list(&cli, &name);
    assert_eq!(row(&rows, &format!("session-{digest}"))["name"], format!("Conduit session {digest}"));
    assert!(sim.session_ids("alice").contains(&conduit));
    let keyward = rows.iter().find(|r| r["current"] == true && r["id"] != "every-session").unwrap()["id"].as_str().unwrap().to_string();
    let out = cli.run(&["revoke", &name, "--all-others", "--yes", "--json"], None).expect_ok().json();
    assert!(out["results"].as_array().unwrap().iter().all(|r| r["error"].is_null()), "{out}");
    let left = sim.sessions_of("alice");
    assert_eq!(left.len(), 1, "only Keyward's own session is left: {left:?}");
    assert_eq!(format!("session-{}", &left[0]["digest"].as_str().unwrap()[..6]), keyward);
    assert!(sim.token_alive(1) && sim.token_alive(2), "tokens stay");
}

#[test]
fn sign_out_every_session_is_asked_for_explicitly_and_signs_keyward_out() {
    let sim = SimPhorge::start(&[]);
    let cli = Cli::new();
    let name = add(&cli, &sim);
    let out = cli.run(&["revoke", &name, "every-session", "--yes", "--include-this-app", "--json"], None).expect_ok().json();
    assert_eq!(out["signed_out"], true, "{out}");
    assert!(sim.session_ids("alice").is_empty(), "auth.logout ended every web and Conduit session");
    assert!(sim.token_alive(1) && sim.token_alive(2), "tokens stay");
    assert!(cli.run(&["accounts"], None).expect_ok().stdout.contains("needs sign-in"));
}

#[test]
fn revoking_keywards_own_session_logs_it_out_and_signs_the_account_out() {
    let sim = SimPhorge::start(&[]);
    let cli = Cli::new();
    let name = add(&cli, &sim);
    let own = sim.newest_session("alice");
    let id = format!("session-{}", &own["digest"].as_str().unwrap()[..6]);
    let err = cli.run(&["revoke", &name, &id, "--yes"], None).expect_err();
    assert!(err.contains("--include-this-app"), "{err}");
    let out = cli.run(&["revoke", &name, &id, "--yes", "--include-this-app", "--json"], None).expect_ok().json();
    assert_eq!(out["signed_out"], true, "{out}");
    let ids = sim.session_ids("alice");
    assert!(!ids.contains(&own["id"].as_i64().unwrap()) && ids.contains(&4), "Phorge's Log Out ends this session only");
}

#[test]
fn a_session_phorge_ended_is_replaced_with_the_kept_password() {
    let sim = SimPhorge::start(&[]);
    let cli = Cli::new();
    let name = add(&cli, &sim);
    let own = sim.newest_session("alice")["id"].as_i64().unwrap();
    sim.end_session(own);
    let rows = list(&cli, &name);
    assert!(rows.iter().any(|r| r["current"] == true && r["kind"] == "session" && r["id"] != "every-session"));
    assert_eq!(sim.state()["logins"], 2);
    list(&cli, &name);
    assert_eq!(sim.state()["logins"], 2, "the new session was kept");
}

#[test]
fn a_session_phorge_ended_for_an_mfa_account_means_sign_in_again() {
    let sim = SimPhorge::start(&[]);
    let cli = Cli::new();
    let name = add_bob(&cli, &sim);
    sim.end_session(sim.newest_session("bob")["id"].as_i64().unwrap());
    let out = cli.run(&["list", &name], None);
    assert!(!out.ok());
    assert!(out.stderr.contains("must sign in again") && out.stderr.lines().count() == 1, "{}", out.stderr);
}

#[test]
fn high_security_takes_the_code_then_sends_the_action_again() {
    let sim = SimPhorge::start(&[]);
    let cli = Cli::new();
    let name = add_bob(&cli, &sim);
    let token = sim.add_token("bob");
    let id = format!("token-{token}");
    // Without a code: asked for, nothing changed.
    let err = cli.run(&["revoke", &name, &id, "--yes"], None).expect_err();
    assert!(err.contains("one-time code") && err.contains("--code-stdin"), "{err}");
    assert!(sim.token_alive(token));
    // The factor took the login's code moments ago: it cools down, and says so in one line.
    let err = cli.run(&["revoke", &name, &id, "--yes", "--code-stdin"], Some(&format!("{}\n", sim.code()))).expect_err();
    assert!(err.contains("try again in"), "{err}");
    assert!(sim.token_alive(token));
    sim.advance(91);
    let err = cli.run(&["revoke", &name, &id, "--yes", "--code-stdin"], Some("000000\n")).expect_err();
    assert!(err.contains("not accepted"), "{err}");
    assert!(sim.token_alive(token));
    sim.advance(91);
    let prompts = sim.state()["hisec_prompts"].as_i64().unwrap();
    cli.run(&["revoke", &name, &id, "--yes", "--code-stdin"], Some(&format!("{}\n", sim.code()))).expect_ok();
    assert!(!sim.token_alive(token), "the action was sent again after the checkpoint, and done");
    assert_eq!(sim.state()["hisec_prompts"].as_i64().unwrap(), prompts + 1, "one checkpoint");
    // High security now lasts 15 minutes: a rename goes through without a code.
    let other = sim.add_token("bob");
    cli.run(&["rename", &name, &format!("token-{other}"), "deploy"], None).expect_ok();
    assert_eq!(sim.token(other)["name"], "deploy");
}

#[test]
fn rename_through_the_checkpoint() {
    let sim = SimPhorge::start(&[]);
    let cli = Cli::new();
    let name = add_bob(&cli, &sim);
    let token = sim.add_token("bob");
    sim.advance(91);
    cli.run(&["rename", &name, &format!("token-{token}"), "laptop", "--code-stdin"], Some(&format!("{}\n", sim.code()))).expect_ok();
    assert_eq!(sim.token(token)["name"], "laptop");
}

#[test]
fn an_unknown_page_layout_is_one_line_and_nothing_is_revoked() {
    let sim = SimPhorge::start(&[]);
    let cli = Cli::new();
    let name = add(&cli, &sim);
    list(&cli, &name);
    sim.config(json!({ "unknown_layout": true }));
    let out = cli.run(&["list", &name], None);
    assert!(!out.ok());
    assert!(out.stderr.contains("page layout Keyward does not know") && out.stderr.lines().count() == 1, "{}", out.stderr);
    let err = cli.run(&["revoke", &name, "token-1", "--yes"], None).expect_err();
    assert!(err.contains("page layout Keyward does not know"), "{err}");
    assert!(sim.token_alive(1));
}

#[test]
fn a_refused_csrf_value_is_one_line_and_nothing_is_revoked() {
    let sim = SimPhorge::start(&[]);
    let cli = Cli::new();
    let name = add(&cli, &sim);
    sim.config(json!({ "csrf_broken": true }));
    let err = cli.run(&["revoke", &name, "token-1", "session-90c30b", "--yes"], None).expect_err();
    assert!(err.contains("CSRF"), "{err}");
    assert!(sim.token_alive(1) && sim.session_ids("alice").contains(&4));
}

#[test]
fn an_action_phorge_did_not_do_is_not_reported_done() {
    let sim = SimPhorge::start(&[]);
    let cli = Cli::new();
    let name = add(&cli, &sim);
    sim.config(json!({ "ignore_actions": true }));
    let out = cli.run(&["revoke", &name, "token-1", "--yes", "--json"], None);
    assert!(!out.ok());
    assert!(out.json()["results"][0]["error"].as_str().unwrap().contains("still lists it"), "{}", out.stdout);
    assert!(sim.token_alive(1));
}

#[test]
fn remove_with_sign_out_logs_keywards_session_out() {
    let sim = SimPhorge::start(&[]);
    let cli = Cli::new();
    let name = add(&cli, &sim);
    let own = sim.newest_session("alice")["id"].as_i64().unwrap();
    cli.run(&["remove", &name, "--sign-out"], None).expect_ok();
    let ids = sim.session_ids("alice");
    assert!(!ids.contains(&own) && ids.contains(&4), "only Keyward's session ended");
}

#[test]
fn a_leaked_token_is_found_by_its_owner_and_prefix_and_revoked() {
    let sim = SimPhorge::start(&[]);
    let cli = Cli::new();
    let name = add(&cli, &sim);
    let id = sim.add_token("alice");
    let value = sim.token(id)["token"].as_str().unwrap().to_string();
    let found = cli.run(&["identify", "--token-stdin", "--json"], Some(&format!("{value}\n"))).expect_ok().json();
    assert_eq!(found["kind"], "phorge");
    assert_eq!(found["account"], name.as_str());
    assert_eq!(found["credential_id"], format!("token-{id}"));
    assert_eq!(found["valid"], true);
    assert!(sim.token_alive(id), "identify alone revokes nothing");
    let out = cli.run(&["identify", "--token-stdin", "--json", "--revoke", "--yes"], Some(&format!("{value}\n"))).expect_ok();
    assert_eq!(out.json()["revoked"], true, "{}", out.stdout);
    assert!(!sim.state()["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["id"] == id && t["token"] == value.as_str() && sim.token_alive(id)));
    assert!(!out.stdout.contains(&value) && !out.stderr.contains(&value), "the token is never printed");
}

/// A face that answers the code question, counting how often it was asked.
struct Asker {
    code: String,
    asked: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl keyward::provider::AskCode for Asker {
    async fn code(&self, _account: &str) -> Option<keyward::secret::Secret> {
        self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Some(keyward::secret::Secret::new(self.code.clone()))
    }
}

#[test]
fn a_code_asked_for_while_the_login_waits_signs_in_with_one_login() {
    use keyward::provider::SignInSecret;
    use keyward::service::{AddAccount, Keyward};
    let sim = SimPhorge::start(&[]);
    let asker = std::sync::Arc::new(Asker { code: sim.code(), asked: Default::default() });
    let dir = tempfile::tempdir().unwrap();
    let kw = Keyward::with(keyward::store::Store::at(dir.path()), keyward::vault::Vault::new());
    let request =
        AddAccount { ask_code: Some(asker.clone()), ..AddAccount::new(sim.url(), "bob", SignInSecret::Password(BOB_PASSWORD.into())) };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let account = rt.block_on(kw.add(request)).expect("signed in with the code asked for on the way");
    assert_eq!(asker.asked.load(std::sync::atomic::Ordering::SeqCst), 1, "asked once");
    assert_eq!(sim.session_ids("bob").len(), 1, "one login, no second attempt");
    rt.block_on(kw.remove(&account.id, true)).unwrap();
    assert!(sim.session_ids("bob").is_empty());
}
