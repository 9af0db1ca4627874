//! The Hypothesis provider through the real CLI, against the simulated h in
//! `tests/sim/hypothesis.py` (h does not install here). Each test starts its own simulator, acts
//! through `keyward`, and checks the result on the "server": through the simulator's
//! `/__sim/state`, and by asking the simulated API itself whether a token still works. The first
//! test proves the simulator answers as the real-h facts say.

mod common;

use common::Cli;
use serde_json::{json, Value};

const PASSWORD: &str = "alice-pass-1\n";
const CLIENT_ID: &str = "2f0a5d6e-3c1b-4e7a-9d2f-6b8c1e0a4f53";

/// One simulated Hypothesis, stopped (by its PID) when dropped.
struct SimH(common::sim::Sim);

impl std::ops::Deref for SimH {
    type Target = common::sim::Sim;
    fn deref(&self) -> &common::sim::Sim {
        &self.0
    }
}

use common::sim::block_on;

impl SimH {
    fn start(flags: &[&str]) -> Self {
        SimH(common::sim::Sim::start("hypothesis", flags))
    }

    fn post(&self, path: &str, body: Value) {
        block_on(async {
            let r = reqwest::Client::new().post(format!("{}{path}", self.url())).json(&body).send().await.unwrap();
            assert!(r.status().is_success(), "{path}: {}", r.status());
        })
    }

    /// The developer token of a user, as the server holds it.
    fn developer_token(&self, user: &str) -> Option<String> {
        let userid = format!("acct:{user}@localhost");
        self.state()["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["userid"] == userid.as_str() && t["client"].is_null())
            .map(|t| t["value"].as_str().unwrap().to_string())
            .next_back()
    }

    /// Asks the simulated API itself: `(status of /api/debug-token, userid of /api/profile)`.
    fn ask(&self, token: &str) -> (u16, Value) {
        block_on(async {
            let c = reqwest::Client::new();
            let auth = format!("Bearer {token}");
            let debug = c.get(format!("{}/api/debug-token", self.url())).header("Authorization", &auth).send().await.unwrap();
            let profile: Value =
                c.get(format!("{}/api/profile", self.url())).header("Authorization", &auth).send().await.unwrap().json().await.unwrap();
            (debug.status().as_u16(), profile["userid"].clone())
        })
    }

    fn works(&self, token: &str) -> bool {
        self.ask(token) == (200, json!("acct:alice@localhost"))
    }

    fn dead(&self, token: &str) -> bool {
        self.ask(token) == (401, Value::Null)
    }

    fn live_tickets(&self) -> usize {
        self.state()["tickets"].as_object().unwrap().len()
    }

    /// What every `/oauth/revoke` call sent (its token's prefix) and got.
    fn revoke_calls(&self) -> Vec<Value> {
        self.state()["revoke_calls"].as_array().unwrap().clone()
    }

    /// An OAuth token pair for alice, made as an app makes one: web login, consent, code, token.
    fn oauth_tokens(&self) -> (String, String) {
        block_on(async {
            let c = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
            let page = c.get(format!("{}/login", self.url())).send().await.unwrap().text().await.unwrap();
            let csrf = regex::Regex::new(r#""csrfToken": "([^"]+)""#).unwrap().captures(&page).unwrap()[1].to_string();
            let login = c
                .post(format!("{}/login", self.url()))
                .form(&[("username", "alice"), ("password", "alice-pass-1"), ("csrf_token", &csrf)])
                .send()
                .await
                .unwrap();
            assert_eq!(login.status(), 302);
            let authorize = format!("{}/oauth/authorize?client_id={CLIENT_ID}&response_type=code&state=s1", self.url());
            let consent = c.get(&authorize).send().await.unwrap();
            assert_eq!(consent.status(), 200);
            assert!(consent.text().await.unwrap().contains("Annotation Exporter</b> is requesting access"));
            let allowed = c.post(&authorize).send().await.unwrap();
            assert_eq!(allowed.status(), 302);
            let to = url::Url::parse(allowed.headers()["location"].to_str().unwrap()).unwrap();
            let code = to.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
            let tokens: Value = c
                .post(format!("{}/api/token", self.url()))
                .form(&[("grant_type", "authorization_code"), ("code", &code), ("client_id", CLIENT_ID)])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(tokens["expires_in"], json!(3600.0));
            c.get(format!("{}/logout", self.url())).send().await.unwrap();
            (tokens["access_token"].as_str().unwrap().to_string(), tokens["refresh_token"].as_str().unwrap().to_string())
        })
    }
}

fn add_with_password(cli: &Cli, sim: &SimH) -> Value {
    cli.run(&["add", &sim.url(), "--user", "alice", "--password-stdin", "--json"], Some(PASSWORD)).expect_ok().json()
}

fn add_with_token(cli: &Cli, sim: &SimH, token: &str) -> Value {
    cli.run(&["add", &sim.url(), "--user", "alice", "--token-stdin", "--json"], Some(&format!("{token}\n"))).expect_ok().json()
}

fn name_of(account: &Value) -> String {
    account["name"].as_str().unwrap().to_string()
}

fn list(cli: &Cli, account: &str) -> Vec<Value> {
    cli.run(&["list", account, "--json"], None).expect_ok().json().as_array().unwrap().clone()
}

fn row<'a>(rows: &'a [Value], id: &str) -> &'a Value {
    rows.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no {id} in {}", serde_json::to_string_pretty(rows).unwrap()))
}

fn detail(r: &Value, label: &str) -> String {
    r["details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["label"] == label)
        .map(|d| d["value"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

fn account_json(cli: &Cli) -> Value {
    cli.run(&["accounts", "--json"], None).expect_ok().json()[0].clone()
}

/// Every value in the keyring entry's web login cookies (`auth=…; session=…`).
fn kept_cookie_values(cli: &Cli, account_id: &str) -> Vec<String> {
    let entry: Value = serde_json::from_str(&cli.keyring_entry(account_id).expect("a keyring entry")).unwrap();
    entry["cookies"].as_str().unwrap().split("; ").map(|kv| kv.split_once('=').unwrap().1.to_string()).collect()
}

/// None of `secrets` is in the config directory or in any of `outputs`.
#[track_caller]
fn nowhere(cli: &Cli, secrets: &[&str], outputs: &[&str]) {
    for s in secrets.iter().filter(|s| s.len() >= 8) {
        for (path, content) in cli.config_files() {
            assert!(!content.contains(s), "{} holds a secret", path.display());
        }
        for o in outputs {
            assert!(!o.contains(s), "a secret was printed: {o}");
        }
    }
}

#[test]
fn simulator_answers_like_the_real_h_facts() {
    let sim = SimH::start(&[]);
    let dev = sim.developer_token("alice").unwrap();
    block_on(async {
        let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let u = sim.url();
        let links: Value = c.get(format!("{u}/api/")).send().await.unwrap().json().await.unwrap();
        assert_eq!(links["links"]["profile"]["read"]["url"], format!("{u}/api/profile"));
        let v2 = c.get(format!("{u}/api/")).header("Accept", "application/vnd.hypothesis.v2+json").send().await.unwrap();
        assert_eq!(v2.headers()["hypothesis-media-type"], "application/vnd.hypothesis.v2+json");
        let anon = c.get(format!("{u}/api/profile")).header("Authorization", "Bearer 6879-nope").send().await.unwrap();
        assert_eq!(anon.status(), 200);
        let anon: Value = anon.json().await.unwrap();
        assert_eq!((anon["userid"].clone(), anon["user_info"].clone()), (Value::Null, Value::Null));
        let debug = c.get(format!("{u}/api/debug-token")).send().await.unwrap();
        assert_eq!(debug.status(), 401);
        assert_eq!(debug.json::<Value>().await.unwrap()["error"], "missing_token");
        assert_eq!(c.get(format!("{u}/account/developer")).send().await.unwrap().status(), 404, "404, not a redirect, without the cookie");
        let no_csrf = c.post(format!("{u}/login")).form(&[("username", "alice"), ("password", "alice-pass-1")]).send().await.unwrap();
        assert_eq!(no_csrf.status(), 403);
        let unknown = c.post(format!("{u}/oauth/revoke")).form(&[("token", "5768-unknown")]).send().await.unwrap();
        assert_eq!(unknown.status(), 401);
        assert_eq!(unknown.json::<Value>().await.unwrap(), json!({"status": "failure", "reason": "{\"error\": \"invalid_client\"}"}));
        assert_eq!(c.post(format!("{u}/oauth/revoke")).form(&[("token", &dev)]).send().await.unwrap().status(), 500);
    });
    assert!(sim.works(&dev), "a 500 revokes nothing");
}

#[test]
fn password_sign_in_lists_the_developer_token_and_keywards_web_login_and_keeps_no_secret_outside_the_keyring() {
    let sim = SimH::start(&[]);
    let cli = Cli::new();
    let out = cli.run(&["add", &sim.url(), "--user", "alice", "--password-stdin", "--json"], Some(PASSWORD)).expect_ok();
    let account = out.json();
    assert_eq!(account["kind"], "hypothesis", "detected by its links document, without --kind");
    assert_eq!(account["user_id"], "acct:alice@localhost");
    let name = name_of(&account);

    let listed = cli.run(&["list", &name, "--json"], None).expect_ok();
    let rows = listed.json().as_array().unwrap().clone();
    let token = sim.developer_token("alice").unwrap();
    let dev = row(&rows, "developer-token");
    assert_eq!(detail(dev, "Token"), format!("{}…", &token[..9]), "the prefix and four characters, no more");
    assert_eq!((dev["current"].as_bool(), dev["can_revoke"].as_bool()), (Some(false), Some(true)));
    assert!(dev["revoke_warning"].as_str().unwrap().contains("every script or app that uses it breaks"), "{dev}");
    let issued =
        sim.state()["tokens"].as_array().unwrap().iter().find(|t| t["value"] == token.as_str()).unwrap()["created"].as_f64().unwrap();
    let created = chrono::DateTime::parse_from_rfc3339(dev["created"].as_str().unwrap()).unwrap().timestamp();
    assert_eq!(created, issued as i64, "the issue date of /api/debug-token");
    assert_eq!(dev["expires"], Value::Null);
    let own = row(&rows, "web-login");
    assert_eq!((own["current"].as_bool(), own["can_revoke"].as_bool(), own["kind"].as_str()), (Some(true), Some(false), Some("session")));
    assert_eq!(rows.len(), 2, "{rows:?}");

    let gaps = account_json(&cli)["gaps"].as_array().unwrap().clone();
    for words in ["cannot list login sessions", "which apps you authorised", "no last use"] {
        let g = gaps
            .iter()
            .find(|g| g["message"].as_str().unwrap().contains(words))
            .unwrap_or_else(|| panic!("no gap says {words:?}: {gaps:?}"));
        assert!(g["url"].as_str().unwrap().starts_with(&sim.url()), "{g}");
    }
    let human = cli.run(&["list", &name], None).expect_ok().stdout;
    assert!(human.contains("note:") && human.contains("/account/developer"), "{human}");

    let mut secrets = vec![token.clone(), "alice-pass-1".to_string()];
    secrets.extend(kept_cookie_values(&cli, account["id"].as_str().unwrap()));
    let s: Vec<&str> = secrets.iter().map(String::as_str).collect();
    nowhere(&cli, &s, &[&out.stdout, &out.stderr, &listed.stdout, &listed.stderr, &human]);
}

#[test]
fn sign_in_with_the_e_mail_address_names_the_user() {
    let sim = SimH::start(&[]);
    let cli = Cli::new();
    let account = cli
        .run(&["add", &sim.url(), "--kind", "hypothesis", "--user", "alice@example.org", "--password-stdin", "--json"], Some(PASSWORD))
        .expect_ok()
        .json();
    assert_eq!(account["user_id"], "acct:alice@localhost");
    assert!(list(&cli, &name_of(&account)).iter().any(|r| r["id"] == "developer-token"));
}

#[test]
fn wrong_password_is_refused_and_nothing_is_kept() {
    let sim = SimH::start(&[]);
    let cli = Cli::new();
    let err = cli.run(&["add", &sim.url(), "--user", "alice", "--password-stdin"], Some("not-her-password\n")).expect_err();
    assert!(err.contains("wrong username or password"), "{err}");
    assert!(!err.contains("not-her-password"), "{err}");
    assert!(cli.run(&["accounts", "--json"], None).expect_ok().json().as_array().unwrap().is_empty());
    assert_eq!((sim.state()["logins"].as_i64(), sim.live_tickets()), (Some(0), 0), "no login was made");
}

#[test]
fn developer_token_sign_in_lists_it_as_keywards_own_and_says_replacing_needs_the_password() {
    let sim = SimH::start(&[]);
    let cli = Cli::new();
    let token = sim.developer_token("alice").unwrap();
    let out = cli.run(&["add", &sim.url(), "--user", "alice", "--token-stdin", "--json"], Some(&format!("{token}\n"))).expect_ok();
    let account = out.json();
    assert_eq!(account["user_id"], "acct:alice@localhost");
    let listed = cli.run(&["list", &name_of(&account), "--json"], None).expect_ok();
    let rows = listed.json().as_array().unwrap().clone();
    let dev = row(&rows, "developer-token");
    assert_eq!(dev["revoke_needs_password"], true, "{dev}");
    assert!(detail(dev, "Keyward").contains("signs in with this token"), "{dev}");
    let gaps = account_json(&cli)["gaps"].to_string();
    assert!(gaps.contains("Replacing the developer token needs the account's password"), "{gaps}");
    assert_eq!(sim.live_tickets(), 0, "a token sign-in makes no web login");
    nowhere(&cli, &[&token], &[&out.stdout, &out.stderr, &listed.stdout]);
}

#[test]
fn a_token_the_profile_answers_with_userid_null_is_refused_though_the_answer_is_http_200() {
    let sim = SimH::start(&[]);
    let cli = Cli::new();
    let token = sim.developer_token("alice").unwrap();
    // h marks a user deleted before it purges them: the token still passes /api/debug-token,
    // but /api/profile answers 200 with userid null. Only the userid makes it an account.
    sim.post("/__sim/delete_user", json!({"username": "alice"}));
    assert_eq!(sim.ask(&token), (200, Value::Null), "debug-token accepts it, the profile says nobody");
    let err = cli.run(&["add", &sim.url(), "--user", "alice", "--token-stdin"], Some(&format!("{token}\n"))).expect_err();
    assert!(err.contains("does not accept this token"), "{err}");
    assert!(cli.run(&["accounts", "--json"], None).expect_ok().json().as_array().unwrap().is_empty(), "no account was kept");
    nowhere(&cli, &[&token], &[&err]);
}

#[test]
fn an_unknown_token_is_refused_in_one_line() {
    let sim = SimH::start(&[]);
    let cli = Cli::new();
    let err = cli
        .run(&["add", &sim.url(), "--user", "alice", "--token-stdin"], Some("6879-NotARealTokenAtAllxxxxxxxxxxxxxxxxxxxxxxx\n"))
        .expect_err();
    assert!(err.contains("does not accept this token") && !err.contains("NotAReal"), "{err}");
    assert!(cli.run(&["accounts", "--json"], None).expect_ok().json().as_array().unwrap().is_empty());
}

#[test]
fn replacing_the_developer_token_through_the_web_login_kills_the_old_one_and_the_new_one_works() {
    let sim = SimH::start(&[]);
    let cli = Cli::new();
    let name = name_of(&add_with_password(&cli, &sim));
    let old = sim.developer_token("alice").unwrap();
    list(&cli, &name);
    let asked = cli.run(&["revoke", &name, "developer-token"], None).expect_err();
    assert!(asked.contains("--yes") && asked.contains("every script"), "{asked}");
    assert!(sim.works(&old), "nothing happens without --yes");

    let done = cli.run(&["revoke", &name, "developer-token", "--yes"], None).expect_ok();
    assert!(done.stdout.contains("replaced developer-token"), "{}", done.stdout);
    let new = sim.developer_token("alice").unwrap();
    assert_ne!(new, old);
    assert!(sim.dead(&old), "the old value no longer works on the server");
    assert!(sim.works(&new), "the new value works on the server");
    let rows = list(&cli, &name);
    assert_eq!(detail(row(&rows, "developer-token"), "Token"), format!("{}…", &new[..9]), "the listing shows the new one");
    assert!(sim.revoke_calls().is_empty(), "a developer token never goes to /oauth/revoke");
    nowhere(&cli, &[&old, &new], &[&done.stdout, &done.stderr]);
}

#[test]
fn replacing_the_developer_token_keyward_signs_in_with_keeps_keyward_working() {
    let sim = SimH::start(&[]);
    let cli = Cli::new();
    let old = sim.developer_token("alice").unwrap();
    let account = add_with_token(&cli, &sim, &old);
    let (name, id) = (name_of(&account), account["id"].as_str().unwrap().to_string());

    let done = cli.run(&["revoke", &name, "developer-token", "--password-stdin", "--yes"], Some(PASSWORD)).expect_ok();
    assert!(done.stdout.contains("replaced developer-token"), "{}", done.stdout);
    let new = sim.developer_token("alice").unwrap();
    assert!(sim.dead(&old) && sim.works(&new), "old dead, new working, on the server");
    let entry = cli.keyring_entry(&id).expect("still signed in: a keyring entry");
    assert!(entry.contains(&new) && !entry.contains(&old), "Keyward now holds the new value");
    assert_eq!(account_json(&cli)["signed_in"], true);
    let rows = list(&cli, &name);
    assert!(detail(row(&rows, "developer-token"), "Token").starts_with(&new[..9]), "Keyward keeps working, with the new token");
    assert_eq!(sim.live_tickets(), 0, "the web login made for the replacement was logged out");
    assert!(sim.revoke_calls().is_empty());
    nowhere(&cli, &[&old, &new, "alice-pass-1"], &[&done.stdout, &done.stderr]);
}

#[test]
fn replacing_keywards_own_developer_token_without_the_password_changes_nothing() {
    let sim = SimH::start(&[]);
    let cli = Cli::new();
    let old = sim.developer_token("alice").unwrap();
    let name = name_of(&add_with_token(&cli, &sim, &old));
    let err = cli.run(&["revoke", &name, "developer-token", "--yes"], None).expect_err();
    assert!(err.contains("password"), "{err}");
    assert_eq!(sim.developer_token("alice").unwrap(), old);
    let err = cli.run(&["revoke", &name, "developer-token", "--password-stdin", "--yes"], Some("wrong\n")).expect_err();
    assert!(err.contains("wrong username or password"), "{err}");
    assert!(sim.works(&old) && sim.developer_token("alice").unwrap() == old, "still the same token");
}

#[test]
fn a_replacement_that_leaves_the_old_token_working_is_reported_as_failed() {
    let sim = SimH::start(&["--regenerate-keeps-old"]);
    let cli = Cli::new();
    let name = name_of(&add_with_password(&cli, &sim));
    let old = sim.developer_token("alice").unwrap();
    let out = cli.run(&["revoke", &name, "developer-token", "--yes", "--json"], None);
    assert!(!out.ok(), "reported done while the old token still works: {}", out.stdout);
    let r = &out.json()["results"][0];
    assert_ne!(r["replaced"], true, "not reported as replaced");
    assert!(r["error"].as_str().unwrap().contains("old one still works"), "{r}");
    assert!(sim.works(&old), "the simulator really left it working");
}

#[test]
fn an_oauth_token_sign_in_lists_its_app_and_revoking_it_kills_the_token_pair() {
    let sim = SimH::start(&[]);
    let cli = Cli::new();
    let (access, refresh) = sim.oauth_tokens();
    let out = cli.run(&["add", &sim.url(), "--user", "alice", "--token-stdin", "--json"], Some(&format!("{access}\n"))).expect_ok();
    let name = name_of(&out.json());
    let listed = cli.run(&["list", &name, "--json"], None).expect_ok();
    let rows = listed.json().as_array().unwrap().clone();
    let t = row(&rows, "oauth-token");
    assert!(t["name"].as_str().unwrap().contains("Annotation Exporter"), "{t}");
    assert_eq!(t["current"], true);
    assert!(t["expires"].is_string(), "an OAuth access token expires: {t}");
    assert!(!rows.iter().any(|r| r["id"] == "developer-token"), "Keyward cannot see the developer token with an app's token");
    assert!(account_json(&cli)["gaps"].to_string().contains("shown only on the developer page"));

    let done = cli.run(&["revoke", &name, "oauth-token", "--include-this-app", "--yes"], None).expect_ok();
    assert!(done.stdout.contains("revoked oauth-token"), "{}", done.stdout);
    assert!(sim.dead(&access), "the access token no longer works on the server");
    let tokens = sim.state()["tokens"].to_string();
    assert!(!tokens.contains(&access) && !tokens.contains(&refresh), "h deletes the token pair");
    let calls = sim.revoke_calls();
    assert_eq!(calls, vec![json!({"prefix": "5768-", "status": 200})]);
    assert_eq!(account_json(&cli)["signed_in"], false, "Keyward signed itself out with it");
    nowhere(&cli, &[&access, &refresh], &[&out.stdout, &listed.stdout, &done.stdout, &done.stderr]);
}

#[test]
fn an_oauth_refresh_token_cannot_sign_in() {
    let sim = SimH::start(&[]);
    let cli = Cli::new();
    let (_, refresh) = sim.oauth_tokens();
    let err = cli.run(&["add", &sim.url(), "--user", "alice", "--token-stdin"], Some(&format!("{refresh}\n"))).expect_err();
    assert!(err.contains("refresh token") && !err.contains(&refresh[5..]), "{err}");
}

#[test]
fn removing_the_account_with_sign_out_ends_the_web_login_on_the_server() {
    let sim = SimH::start(&[]);
    let cli = Cli::new();
    let account = add_with_password(&cli, &sim);
    assert_eq!(sim.live_tickets(), 1);
    cli.run(&["remove", &name_of(&account), "--sign-out"], None).expect_ok();
    assert_eq!(sim.live_tickets(), 0, "the login ticket is gone on the server");
    assert!(sim.developer_token("alice").is_some(), "the developer token stays");
}

#[test]
fn an_ended_web_login_asks_to_sign_in_again() {
    let sim = SimH::start(&[]);
    let cli = Cli::new();
    let name = name_of(&add_with_password(&cli, &sim));
    sim.post("/__sim/expire_logins", json!({}));
    let err = cli.run(&["list", &name], None).expect_err();
    assert!(err.contains("must sign in again"), "{err}");
    assert_eq!(account_json(&cli)["signed_in"], false);
}

#[test]
fn an_account_without_a_developer_token_gets_a_note_not_an_empty_row() {
    let sim = SimH::start(&["--no-developer-token"]);
    let cli = Cli::new();
    let name = name_of(&add_with_password(&cli, &sim));
    let rows = list(&cli, &name);
    assert!(!rows.iter().any(|r| r["id"] == "developer-token"), "{rows:?}");
    assert!(account_json(&cli)["gaps"].to_string().contains("has no developer token"));
}

#[test]
fn a_server_that_is_not_hypothesis_is_said_in_one_line() {
    let page = common::serve_html("<!DOCTYPE html><html><body>Hello</body></html>");
    let other_json = common::serve("200 OK", "application/json", r#"{"links": {"self": "https://example.org/"}}"#);
    let cli = Cli::new();
    for url in [page, other_json] {
        let err = cli.run(&["add", &url, "--kind", "hypothesis", "--user", "alice", "--password-stdin"], Some(PASSWORD)).expect_err();
        assert!(err.contains("is not a Hypothesis server"), "{err}");
    }
}
