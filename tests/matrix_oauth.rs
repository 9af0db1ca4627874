//! Matrix next-gen auth (the OAuth 2.0 API of the Matrix spec): `keyward add URL --browser`
//! against a simulated homeserver and authorisation server (`tests/sim/matrix_oauth.py`: the
//! Matrix Authentication Service cannot be installed here), the test playing the browser through
//! the authorisation server's login and consent pages. Then the listing with the device-scoped
//! token, refresh (and two processes refreshing at once), ending another session on the account
//! page, and sign-out by revocation, each checked on the simulated servers.

mod common;

use std::net::TcpStream;

use common::browser::{browser, in_process_list, Approval};
use common::sim::{block_on, Sim};
use common::Cli;
use serde_json::{json, Value};
use url::Url;

fn location(r: &reqwest::Response) -> Url {
    let to = r.headers()["location"].to_str().unwrap();
    r.url().join(to).unwrap()
}

/// Signs in on the authorisation server's login page (when it asks) on the way to `page`.
async fn open_signed_in(b: &reqwest::Client, page: &Url) -> reqwest::Response {
    let r = b.get(page.clone()).send().await.unwrap();
    if r.status() != reqwest::StatusCode::SEE_OTHER || !location(&r).path().starts_with("/login") {
        return r;
    }
    let login = location(&r);
    let next = login.query_pairs().find(|(k, _)| k == "next").unwrap().1.into_owned();
    assert_eq!(b.get(login.clone()).send().await.unwrap().status(), 200);
    let r = b
        .post(login.join("/login").unwrap())
        .form(&[("username", "alice"), ("password", "alice-password"), ("next", next.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER, "the login worked");
    b.get(location(&r)).send().await.unwrap()
}

/// Opens the approval page as alice, presses Allow or Deny on the consent page, and returns where
/// the authorisation server sends the browser (the loopback address with the answer).
async fn consent(b: &reqwest::Client, page: &Url, action: &str) -> Url {
    let r = open_signed_in(b, page).await;
    assert_eq!(r.status(), 200);
    let at = r.url().clone();
    let html = r.text().await.unwrap();
    let grant = html.split("name=\"grant\" value=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or_else(|| panic!("{html}"));
    let r = b.post(at.join("/consent").unwrap()).form(&[("grant", grant), ("action", action)]).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    location(&r)
}

/// The browser going to the loopback address: its status and page.
async fn come_back(b: &reqwest::Client, to: &Url) -> (u16, String) {
    let r = b.get(to.clone()).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// A sim and an account added through the browser (trace logs on: they must hold no secret).
struct Signed {
    sim: Sim,
    cli: Cli,
    account: String,
    id: String,
}

fn sign_in(flags: &[&str]) -> Signed {
    let sim = Sim::start("matrix_oauth", flags);
    let cli = Cli::new().with_env("BROWSER", "true").with_env("KEYWARD_LOG", "trace");
    let approval = Approval::add(&cli, &sim.url(), &["--user", "alice"]);
    let b = browser();
    block_on(async {
        let to = consent(&b, &approval.url(), "allow").await;
        assert_eq!(come_back(&b, &to).await.0, 200);
    });
    let out = approval.finish().expect_ok();
    let account = out.json();
    let id = account["id"].as_str().unwrap().to_string();
    let port = sim.port;
    Signed { sim, cli, account: format!("alice@127.0.0.1:{port}"), id }
}

impl Signed {
    fn stored(&self) -> Value {
        serde_json::from_str(&self.cli.keyring_entry(&self.id).expect("the account's secret is in the keyring")).unwrap()
    }

    fn list(&self) -> Vec<Value> {
        self.cli.run(&["list", &self.account, "--json"], None).expect_ok().json().as_array().unwrap().clone()
    }

    fn devices(&self) -> Vec<String> {
        self.sim.state()["devices"].as_array().unwrap().iter().map(|d| d["device_id"].as_str().unwrap().to_string()).collect()
    }
}

#[test]
fn signs_in_through_the_authorisation_server_with_pkce_and_a_device_scoped_token() {
    let sim = Sim::start("matrix_oauth", &[]);
    let issuer = sim.state()["issuer"].as_str().unwrap().to_string();
    let cli = Cli::new().with_env("BROWSER", "true").with_env("KEYWARD_LOG", "trace");
    let approval = Approval::add(&cli, &sim.url(), &["--user", "alice"]);

    // The page is the authorisation server's, the one the homeserver named.
    assert_eq!(approval.url().origin(), Url::parse(&issuer).unwrap().origin());
    assert_eq!(approval.url().path(), "/authorize");
    assert_eq!(approval.query("response_type"), "code");
    assert_eq!(approval.query("code_challenge_method"), "S256");
    assert_eq!(approval.query("code_challenge").len(), 43);
    let scope = approval.query("scope");
    let device = scope.split_whitespace().find_map(|s| s.strip_prefix("urn:matrix:client:device:")).unwrap().to_string();
    assert!(scope.split_whitespace().any(|s| s == "urn:matrix:client:api:*"), "{scope}");
    assert!(device.len() >= 10, "{device}");
    let back = approval.back_to("redirect_uri");
    assert_eq!(back.host_str(), Some("127.0.0.1"));
    assert!(back.query().is_none(), "the state goes as its own parameter: {back}");
    let state = approval.query("state");
    assert!(state.len() >= 32);

    // Registered as a native public client with the Matrix client metadata.
    let st = sim.state();
    let client = &st["clients"][approval.query("client_id")];
    assert_eq!(client["client_name"], "Keyward");
    assert_eq!(client["application_type"], "native");
    assert_eq!(client["token_endpoint_auth_method"], "none");
    assert_eq!(client["grant_types"], json!(["authorization_code", "refresh_token"]));
    assert_eq!(client["response_types"], json!(["code"]));
    assert!(client["client_uri"].as_str().unwrap().starts_with("https://"));
    assert_eq!(client["redirect_uris"], json!([back.as_str()]));

    let b = browser();
    block_on(async {
        // Someone else on this computer guessing: the wrong state is refused and the wait goes on.
        let mut forged = back.clone();
        forged.query_pairs_mut().append_pair("code", "forged").append_pair("state", "guessed");
        assert_eq!(come_back(&b, &forged).await.0, 400);
        let to = consent(&b, &approval.url(), "allow").await;
        assert_eq!(to.query_pairs().find(|(k, _)| k == "state").unwrap().1, state);
        let (status, page) = come_back(&b, &to).await;
        assert_eq!(status, 200);
        assert!(page.contains("return to Keyward"), "{page}");
    });
    let out = approval.finish().expect_ok();
    let account = out.json();
    assert_eq!(account["user_id"], "@alice:localhost");
    // The port closed with the answer: a second request cannot even connect.
    assert!(TcpStream::connect(("127.0.0.1", back.port().unwrap())).is_err(), "the loopback port is still open");

    let st = sim.state();
    assert_eq!(st["hits"]["pkce_checked"], 1, "the verifier was sent and checked");
    let verifier = st["hits"]["verifiers"][0].as_str().unwrap().to_string();
    assert!(verifier.len() >= 43);
    assert!(!out.stdout.contains(&verifier) && !out.stderr.contains(&verifier), "the PKCE verifier was printed or logged");
    for (path, content) in cli.config_files() {
        assert!(!content.contains(&verifier), "the PKCE verifier is in {}", path.display());
    }
    assert_eq!(st["hits"]["login"], 0, "no classic /login");
    let devices: Vec<&str> = st["devices"].as_array().unwrap().iter().map(|d| d["device_id"].as_str().unwrap()).collect();
    assert_eq!(devices, [device.as_str()], "the session is the device Keyward named");

    // The tokens and where they go live in the keyring only.
    let id = account["id"].as_str().unwrap();
    let stored: Value = serde_json::from_str(&cli.keyring_entry(id).unwrap()).unwrap();
    let (access, refresh) = (stored["access_token"].as_str().unwrap(), stored["refresh_token"].as_str().unwrap());
    assert!(access.starts_with("mat_") && refresh.starts_with("mar_"));
    assert_eq!(stored["oauth"]["token_endpoint"], format!("{issuer}oauth2/token"));
    assert_eq!(stored["oauth"]["revocation_endpoint"], format!("{issuer}oauth2/revoke"));
    for secret in [access, refresh] {
        assert!(!out.stdout.contains(secret) && !out.stderr.contains(secret), "a token was printed or logged");
        assert!(!in_process_list(secret), "a token is in a command line");
        for (path, content) in cli.config_files() {
            assert!(!content.contains(secret), "a token is in {}", path.display());
        }
    }

    // Listed like any Matrix account, with this token; Keyward's own device marked.
    let account = format!("alice@127.0.0.1:{}", sim.port);
    let run = cli.run(&["list", &account, "--json"], None).expect_ok();
    assert!(!run.stderr.contains(access));
    let rows = run.json();
    let own: Vec<&Value> = rows.as_array().unwrap().iter().filter(|r| r["current"] == true).collect();
    assert_eq!(own.len(), 1);
    assert_eq!(own[0]["id"], device.as_str());
    // The account page of the authorisation server is the account's own page.
    let accounts = cli.run(&["accounts", "--json"], None).expect_ok().json();
    assert!(accounts.to_string().contains(&issuer), "{accounts}");
}

#[test]
fn the_sign_in_options_of_a_next_gen_server_are_the_browser_and_a_token() {
    let sim = Sim::start("matrix_oauth", &[]);
    let cli = Cli::new();
    let methods = cli.run(&["detect", &sim.url(), "--json"], None).expect_ok().json()["methods"].clone();
    assert_eq!(methods, json!(["browser", "token"]));
    let err = cli.run(&["add", &sim.url(), "--user", "alice", "--password-stdin"], Some("alice-password")).expect_err();
    assert!(err.contains("only in the browser"), "{err}");
}

#[test]
fn an_older_server_gets_the_unstable_scopes() {
    let sim = Sim::start("matrix_oauth", &["--stable=false"]);
    let cli = Cli::new().with_env("BROWSER", "true");
    let approval = Approval::add(&cli, &sim.url(), &["--user", "alice"]);
    let scope = approval.query("scope");
    assert!(scope.contains("urn:matrix:org.matrix.msc2967.client:api:*"), "{scope}");
    assert!(scope.contains("urn:matrix:org.matrix.msc2967.client:device:"), "{scope}");
    let b = browser();
    block_on(async {
        let to = consent(&b, &approval.url(), "allow").await;
        come_back(&b, &to).await;
    });
    approval.finish().expect_ok();
}

#[test]
fn a_rejection_in_the_browser_is_one_line_and_stores_nothing() {
    let sim = Sim::start("matrix_oauth", &[]);
    let cli = Cli::new().with_env("BROWSER", "true");
    let approval = Approval::add(&cli, &sim.url(), &["--user", "alice"]);
    let b = browser();
    block_on(async {
        let to = consent(&b, &approval.url(), "deny").await;
        assert_eq!(to.query_pairs().find(|(k, _)| k == "error").unwrap().1, "access_denied");
        assert_eq!(come_back(&b, &to).await.0, 200);
    });
    let err = approval.finish().expect_err();
    assert!(err.contains("not approved") && err.contains("rejected") && err.contains("nothing was stored"), "{err}");
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json(), json!([]));
    assert!(sim.state()["devices"].as_array().unwrap().is_empty());
}

#[test]
fn no_answer_from_the_browser_is_one_line_after_the_wait() {
    let sim = Sim::start("matrix_oauth", &[]);
    let cli = Cli::new().with_env("BROWSER", "true").with_env("KEYWARD_BROWSER_WAIT_SECS", "2");
    let approval = Approval::add(&cli, &sim.url(), &["--user", "alice"]);
    let port = approval.back_to("redirect_uri").port().unwrap();
    let err = approval.finish().expect_err();
    assert!(err.contains("did not come back to Keyward within 2 seconds") && err.contains("nothing was stored"), "{err}");
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json(), json!([]));
}

#[test]
fn a_code_taken_from_the_redirect_is_useless_without_the_verifier() {
    let sim = Sim::start("matrix_oauth", &[]);
    let issuer = sim.state()["issuer"].as_str().unwrap().to_string();
    let cli = Cli::new().with_env("BROWSER", "true");
    let approval = Approval::add(&cli, &sim.url(), &["--user", "alice"]);
    let b = browser();
    block_on(async {
        let to = consent(&b, &approval.url(), "allow").await;
        let code = to.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
        // Whoever saw the redirect tries the code without Keyward's verifier.
        let r = b
            .post(format!("{issuer}oauth2/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", approval.back_to("redirect_uri").as_str()),
                ("client_id", approval.query("client_id").as_str()),
                ("code_verifier", "x".repeat(43).as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");
        come_back(&b, &to).await;
    });
    let err = approval.finish().expect_err();
    assert!(err.contains("no longer accepts this approval") && err.contains("nothing was stored"), "{err}");
    assert!(sim.state()["devices"].as_array().unwrap().is_empty());
}

#[test]
fn endpoints_on_another_host_are_refused_before_anything_is_sent() {
    let sim = Sim::start("matrix_oauth", &[]);
    sim.config(json!({ "token_endpoint": format!("{}/__sim/evil/token", sim.url()) }));
    let cli = Cli::new().with_env("BROWSER", "true");
    let err = cli.run(&["add", &sim.url(), "--user", "alice", "--browser"], None).expect_err();
    assert!(err.contains("another host") && err.contains("does not send your tokens there"), "{err}");
    let st = sim.state();
    assert_eq!(st["hits"]["registrations"], 0);
    assert_eq!(st["hits"]["evil"], 0);
}

#[test]
fn an_expired_access_token_is_refreshed_at_the_endpoint_named_at_sign_in() {
    let s = sign_in(&[]);
    let before = s.stored();
    // The homeserver now names another token endpoint: Keyward keeps to the one it signed in with.
    s.sim.config(json!({ "token_endpoint": format!("{}/__sim/evil/token", s.sim.url()) }));
    s.sim.request("POST", "/__sim/expire_tokens", Some(json!({})));
    let rows = s.list();
    assert!(rows.iter().any(|r| r["current"] == true));
    let st = s.sim.state();
    assert_eq!(st["hits"]["refresh"], 1);
    assert_eq!(st["hits"]["evil"], 0, "a refresh token went to the changed endpoint");
    let after = s.stored();
    assert_ne!(after["refresh_token"], before["refresh_token"], "the refresh token rotated and the new one is kept");
    assert_ne!(after["access_token"], before["access_token"]);
    // And it works again next time, without another refresh.
    s.list();
    assert_eq!(s.sim.state()["hits"]["refresh"], 1);
}

#[test]
fn two_processes_refreshing_at_once_keep_a_working_token() {
    let s = sign_in(&[]);
    for _ in 0..3 {
        s.sim.request("POST", "/__sim/expire_tokens", Some(json!({})));
        // Each read on its own thread: a full pipe (the trace log) must not stall the other.
        let runs: Vec<_> = (0..2)
            .map(|_| {
                let child = s.cli.spawn(&["list", &s.account, "--json"]);
                std::thread::spawn(move || child.wait_with_output().unwrap())
            })
            .collect();
        for run in runs {
            let out = run.join().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
    }
    // The old refresh token fails at once after a rotation here: one refresh per expiry, not two.
    assert_eq!(s.sim.state()["hits"]["refresh"], 3);
    s.list();
    assert_eq!(s.sim.state()["refresh_tokens"].as_array().unwrap().len(), 1);
}

#[test]
fn another_session_ends_on_the_account_page_once_confirmed() {
    let s = sign_in(&[]);
    s.sim.request("POST", "/__sim/add_device", Some(json!({"user": "alice", "device_id": "PHONEDEVICE1", "name": "Element X on Pixel 8"})));
    let rows = s.list();
    let phone = rows.iter().find(|r| r["id"] == "PHONEDEVICE1").unwrap();
    assert_eq!(phone["revoke_in_browser"], true);
    assert_eq!(phone["revoke_needs_password"], false);

    let out = s.cli.run(&["revoke", &s.account, "PHONEDEVICE1", "--yes"], None).expect_ok();
    let issuer = s.sim.state()["issuer"].as_str().unwrap().to_string();
    let page = format!("{issuer}account/?action=org.matrix.device_delete&device_id=PHONEDEVICE1");
    assert!(out.stderr.contains(&format!("Open this page to end the session: {page}")), "{}", out.stderr);
    assert!(out.stdout.contains("confirm in your browser"), "{}", out.stdout);
    let st = s.sim.state();
    assert_eq!((st["hits"]["delete_device"].as_u64(), st["hits"]["delete_devices"].as_u64()), (Some(0), Some(0)));
    assert!(s.devices().contains(&"PHONEDEVICE1".to_string()), "nothing ends before the user confirms");
    // The history says it was asked for, not that it is gone.
    let h: Value = serde_json::from_str(&s.cli.run(&["history", "--json"], None).expect_ok().stdout).unwrap();
    let last = h.as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["credential_id"].as_str(), last["action"].as_str()), (Some("PHONEDEVICE1"), Some("asked_to_confirm")), "{h}");

    // Until confirmed, the listing says so.
    let rows = s.list();
    let phone = rows.iter().find(|r| r["id"] == "PHONEDEVICE1").unwrap();
    assert_eq!(phone["pending"], "Waiting for you to confirm the sign-out in your browser");
    let table = s.cli.run(&["list", &s.account], None).expect_ok().stdout;
    assert!(table.contains("Waiting for you to confirm the sign-out in your browser"), "{table}");
    assert_eq!(s.stored()["oauth"]["ending"][0]["device_id"], "PHONEDEVICE1");

    // The user confirms on the account page.
    let b = browser();
    block_on(async {
        let r = open_signed_in(&b, &Url::parse(&page).unwrap()).await;
        assert_eq!(r.status(), 200);
        let r = b.post(format!("{issuer}account/end")).form(&[("device_id", "PHONEDEVICE1")]).send().await.unwrap();
        assert_eq!(r.status(), 200);
    });
    assert!(!s.devices().contains(&"PHONEDEVICE1".to_string()));
    let rows = s.list();
    assert!(!rows.iter().any(|r| r["id"] == "PHONEDEVICE1"));
    assert!(s.stored()["oauth"].get("ending").is_none(), "the asked sign-out is forgotten once done");
}

#[test]
fn a_leaked_token_of_another_session_is_named_and_its_sign_out_opened_on_the_account_page() {
    let s = sign_in(&[]);
    let minted = s.sim.request(
        "POST",
        "/__sim/add_device",
        Some(json!({"user": "alice", "device_id": "LAPTOPDEVICE", "name": "Element on a lost laptop", "token": true})),
    );
    let leaked = minted["access_token"].as_str().unwrap().to_string();
    let _ = s.list();

    let asked = s.cli.run(&["identify", "--token-stdin", "--json"], Some(&leaked)).expect_ok();
    let id: Value = serde_json::from_str(&asked.stdout).unwrap();
    assert_eq!(
        (id["account"].as_str(), id["credential_id"].as_str(), id["valid"].as_bool()),
        (Some(s.account.as_str()), Some("LAPTOPDEVICE"), Some(true)),
        "{id}"
    );

    let out = s.cli.run(&["identify", "--token-stdin", "--revoke", "--yes"], Some(&leaked)).expect_ok();
    let issuer = s.sim.state()["issuer"].as_str().unwrap().to_string();
    let page = format!("{issuer}account/?action=org.matrix.device_delete&device_id=LAPTOPDEVICE");
    assert!(out.stderr.contains(&format!("Open this page to end the session: {page}")), "{}", out.stderr);
    assert!(out.stdout.contains("it ends once you confirm the sign-out on the server's page"), "{}", out.stdout);
    assert!(!out.stdout.contains("revoked now"), "{}", out.stdout);
    assert!(s.devices().contains(&"LAPTOPDEVICE".to_string()), "nothing ends before the user confirms");
    assert!(!out.stdout.contains(&leaked) && !out.stderr.contains(&leaked), "the token is never echoed");

    // Safe to share: the page is printed masked, like everything else (the browser gets it whole).
    let safe = s.cli.run(&["--safe", "identify", "--token-stdin", "--revoke", "--yes", "--json"], Some(&leaked)).expect_ok();
    let id: Value = serde_json::from_str(&safe.stdout).unwrap();
    let shown = id["confirm_url"].as_str().unwrap();
    assert!(shown.contains("device_delete") && !shown.contains("127.0.0.1"), "{shown}");
    let printed =
        safe.stderr.lines().find(|l| l.starts_with("Open this page to end the session: ")).unwrap_or_else(|| panic!("{}", safe.stderr));
    assert!(!printed.contains("127.0.0.1"), "{printed}");
}

#[test]
fn an_older_account_page_is_asked_with_session_end() {
    let s = sign_in(&["--actions=org.matrix.sessions_list,org.matrix.session_view,org.matrix.session_end"]);
    s.sim.request(
        "POST",
        "/__sim/add_device",
        Some(json!({"user": "alice", "device_id": "LAPTOPDEVICE", "name": "Element Desktop: Linux"})),
    );
    s.sim.request("POST", "/__sim/add_device", Some(json!({"user": "alice", "device_id": "TABLETDEVICE", "name": "Element X on iPad"})));
    let out = s.cli.run(&["revoke", &s.account, "LAPTOPDEVICE", "TABLETDEVICE", "--yes"], None).expect_ok();
    assert!(out.stderr.contains("action=org.matrix.session_end&device_id=LAPTOPDEVICE"), "{}", out.stderr);
    assert!(out.stderr.contains("action=org.matrix.session_end&device_id=TABLETDEVICE"), "{}", out.stderr);
    assert!(out.stderr.contains("Each of these 2 sessions ends only once you confirm it"), "{}", out.stderr);
}

#[test]
fn removing_the_account_with_sign_out_revokes_its_token() {
    let s = sign_in(&[]);
    let own = s.devices();
    assert_eq!(own.len(), 1);
    s.cli.run(&["remove", &s.account, "--sign-out"], None).expect_ok();
    let st = s.sim.state();
    let revoked = st["hits"]["revoke"].as_array().unwrap();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0]["hint"], "refresh_token");
    assert!(s.devices().is_empty(), "Keyward's session is gone on the server");
    assert!(st["access_tokens"].as_array().unwrap().is_empty());
    assert!(s.cli.keyring_entry(&s.id).is_none());
}

#[test]
fn a_server_that_names_its_issuer_only_in_the_well_known_signs_in_too() {
    let s = sign_in(&["--metadata=false"]);
    let st = s.sim.state();
    assert_eq!(s.stored()["oauth"]["issuer"], st["issuer"]);
    assert_eq!(s.devices().len(), 1);
    assert!(s.list().iter().any(|r| r["current"] == true));
}

#[test]
fn approving_as_another_user_than_asked_ends_the_new_session_and_stores_nothing() {
    let sim = Sim::start("matrix_oauth", &[]);
    let cli = Cli::new().with_env("BROWSER", "true");
    let approval = Approval::add(&cli, &sim.url(), &["--user", "bob"]);
    let b = browser();
    block_on(async {
        // alice is the one signed in on the authorisation server in this browser.
        let to = consent(&b, &approval.url(), "allow").await;
        come_back(&b, &to).await;
    });
    let err = approval.finish().expect_err();
    assert!(err.contains("as @alice:localhost, not as bob") && err.contains("nothing was stored"), "{err}");
    let st = sim.state();
    assert!(st["devices"].as_array().unwrap().is_empty(), "the session made for Keyward was ended");
    assert_eq!(st["hits"]["revoke"].as_array().unwrap().len(), 1);
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json(), json!([]));
}

#[test]
fn adding_the_same_account_again_ends_the_second_session_and_keeps_the_first() {
    let s = sign_in(&[]);
    let first = s.devices();
    let approval = Approval::add(&s.cli, &s.sim.url(), &["--user", "alice"]);
    let b = browser();
    block_on(async {
        let to = consent(&b, &approval.url(), "allow").await;
        come_back(&b, &to).await;
    });
    // (This CLI logs at trace level: the error is among the log lines.)
    let run = approval.finish();
    assert!(!run.ok() && run.stderr.contains("is already added"), "{}", run.stderr);
    assert_eq!(s.devices(), first, "the second session was revoked, the first kept");
    assert!(s.list().iter().any(|r| r["current"] == true));
}

#[test]
fn an_access_token_past_its_expiry_time_is_renewed_before_it_is_used() {
    let s = sign_in(&["--access_ttl=2"]);
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert!(s.list().iter().any(|r| r["current"] == true));
    let st = s.sim.state();
    assert_eq!(st["hits"]["refresh"], 1);
    assert_eq!(st["hits"]["expired"], 0, "an expired token was sent to the homeserver");
}
