//! The WordPress provider against real WordPress sites (Debian's WordPress 6.1 on MariaDB, started
//! by `scripts/servers/wordpress.sh`), through the real `keyward` CLI and the real keyring. Every
//! result is checked on the site itself, as its administrator, over the REST API.
//!
//! Each test makes its own WordPress user, so tests run at once without seeing each other. The
//! site's time zone is UTC+5:30: a time read in the wrong zone is hours off.

mod common;

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use common::browser::{browser, in_process_list, Approval};
use common::{closed_port, env, unique, Cli};
use serde_json::{json, Value};

/// The site as its administrator sees it (an application password made for this run).
struct Site {
    url: String,
    admin: String,
    password: String,
    http: reqwest::Client,
    rt: tokio::runtime::Runtime,
}

/// A WordPress user made for one test, with the application password Keyward signs in with.
struct User {
    id: u64,
    name: String,
    app_password: String,
    app_uuid: String,
}

impl Site {
    fn main() -> Self {
        Self::at(env("KEYWARD_TEST_WORDPRESS_URL"))
    }

    fn at(url: String) -> Self {
        Site {
            url,
            admin: env("KEYWARD_TEST_WORDPRESS_ADMIN"),
            password: env("KEYWARD_TEST_WORDPRESS_ADMIN_PASSWORD"),
            http: reqwest::Client::new(),
            rt: tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap(),
        }
    }

    /// A REST call as the administrator; panics unless it succeeds.
    fn admin(&self, method: reqwest::Method, route: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(method.clone(), route, (&self.admin, &self.password), body);
        assert!(status.is_success(), "{method} {route} as admin: {status} {v}");
        v
    }

    fn call(&self, method: reqwest::Method, route: &str, auth: (&str, &str), body: Option<Value>) -> (reqwest::StatusCode, Value) {
        self.rt.block_on(async {
            let mut req = self.http.request(method, format!("{}/wp-json/{route}", self.url)).basic_auth(auth.0, Some(auth.1));
            if let Some(b) = body {
                req = req.json(&b);
            }
            let r = req.send().await.expect("the WordPress test site answers");
            let status = r.status();
            (status, r.json().await.unwrap_or(Value::Null))
        })
    }

    /// A fresh user with one application password ("Keyward test") to sign in with.
    fn user(&self) -> User {
        let name = unique("wp");
        let u = self.admin(
            reqwest::Method::POST,
            "wp/v2/users",
            Some(json!({ "username": name, "email": format!("{name}@example.org"), "password": unique("pw-") })),
        );
        let id = u["id"].as_u64().unwrap();
        let (app_uuid, app_password) = self.app_password(id, "Keyward test", None);
        User { id, name, app_password, app_uuid }
    }

    /// Makes an application password for a user; returns its UUID and the password.
    fn app_password(&self, user: u64, name: &str, app_id: Option<&str>) -> (String, String) {
        let mut body = json!({ "name": name });
        if let Some(a) = app_id {
            body["app_id"] = json!(a);
        }
        let v = self.admin(reqwest::Method::POST, &format!("wp/v2/users/{user}/application-passwords"), Some(body));
        (v["uuid"].as_str().unwrap().to_string(), v["password"].as_str().unwrap().to_string())
    }

    /// The user's application passwords, as the site keeps them.
    fn app_passwords(&self, user: u64) -> Vec<Value> {
        self.admin(reqwest::Method::GET, &format!("wp/v2/users/{user}/application-passwords"), None).as_array().unwrap().clone()
    }

    fn uuids(&self, user: u64) -> Vec<String> {
        let mut v: Vec<String> = self.app_passwords(user).iter().map(|p| p["uuid"].as_str().unwrap().to_string()).collect();
        v.sort();
        v
    }

    fn index(&self) -> Value {
        self.rt.block_on(async { self.http.get(format!("{}/wp-json/", self.url)).send().await.unwrap().json().await.unwrap() })
    }
}

/// Signs the CLI in as `user` with its application password.
fn add(cli: &Cli, url: &str, user: &User, kind: Option<&str>) -> common::Run {
    let mut args = vec!["add", url, "--user", &user.name, "--token-stdin", "--json"];
    if let Some(k) = kind {
        args.extend(["--kind", k]);
    }
    cli.run(&args, Some(&format!("{}\n", user.app_password)))
}

fn account_name(url: &str, user: &User) -> String {
    format!("{}@{}", user.name, url.trim_start_matches("http://"))
}

fn list(cli: &Cli, account: &str) -> Vec<Value> {
    cli.run(&["list", account, "--json"], None).expect_ok().json().as_array().unwrap().clone()
}

fn row<'a>(rows: &'a [Value], uuid: &str) -> &'a Value {
    rows.iter().find(|r| r["id"] == uuid).unwrap_or_else(|| panic!("{uuid} is not listed: {rows:?}"))
}

/// A site time as WordPress's REST API writes it ("2026-11-22T14:09:21", UTC).
fn site_time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse::<NaiveDateTime>().unwrap().and_utc()
}

fn cli_time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse::<DateTime<Utc>>().unwrap()
}

/// An ordinary web site that is not WordPress.
fn not_wordpress() -> String {
    common::serve_html("<!doctype html><html><head><title>Bakery</title></head><body><h1>Fresh bread</h1></body></html>")
}

/// A TCP forwarder to a site, to take "the site" down in the middle of a test.
struct Forwarder {
    url: String,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Forwarder {
    fn to(url: &str) -> Self {
        let target = url.trim_start_matches("http://").to_string();
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let port = l.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                match l.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).unwrap();
                        let server = TcpStream::connect(&target).unwrap();
                        let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                        std::thread::spawn(move || {
                            let _ = std::io::copy(&mut c2, &mut s2);
                            let _ = s2.shutdown(std::net::Shutdown::Write);
                        });
                        std::thread::spawn(move || {
                            let (mut s, mut c) = (server, client);
                            let _ = std::io::copy(&mut s, &mut c);
                            let _ = c.shutdown(std::net::Shutdown::Both);
                        });
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
                }
            }
        });
        Forwarder { url: format!("http://127.0.0.1:{port}"), stop, thread }
    }

    /// Closes the port: from now on connections are refused.
    fn take_down(self) {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap();
    }
}

#[test]
fn adds_with_an_application_password_kept_only_in_the_keyring() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    let site = Site::main();
    let user = site.user();
    let cli = Cli::new();
    let before = Utc::now() - Duration::seconds(5);
    let account = add(&cli, &site.url, &user, Some("wordpress")).expect_ok().json();
    assert_eq!(account["kind"], "wordpress");
    assert_eq!(account["user_id"], user.name.as_str());
    assert_eq!(account["base_url"], site.url.as_str());
    let caps = &account["capabilities"];
    assert_eq!(caps["token_label"], "application password");
    assert_eq!(caps["token_page"], "wp-admin/authorize-application.php");
    assert_eq!((caps["rename"].as_bool(), caps["revoke"].as_bool(), caps["revoke_many"].as_bool()), (Some(true), Some(true), Some(false)));
    assert!(account["server_facts"].to_string().contains("Asia/Kolkata"), "{}", account["server_facts"]);

    let id = account["id"].as_str().unwrap();
    let stored = cli.keyring_entry(id).expect("the application password is in the keyring");
    assert!(stored.contains(&user.app_password));
    for (path, content) in cli.config_files() {
        assert!(!content.contains(&user.app_password), "the application password is in {}", path.display());
    }
    // On the site: signing in used the password (WordPress records the first use of a day).
    let on_site = site.app_passwords(user.id);
    assert_eq!(on_site.len(), 1);
    assert!(site_time(&on_site[0]["last_used"]) >= before, "{on_site:?}");
}

#[test]
fn adding_the_same_account_again_deletes_nothing() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    // The application password was the user's, not made by Keyward: refusing the second add
    // must not delete it (that would also break the account already added).
    let site = Site::main();
    let user = site.user();
    let first = user.app_uuid.clone();
    let (other, other_pw) = site.app_password(user.id, "Second paste", None);
    let cli = Cli::new();
    add(&cli, &site.url, &user, None).expect_ok();
    let err = add(&cli, &site.url, &user, None).expect_err();
    assert!(err.contains("already added"), "{err}");
    let again = User { app_password: other_pw, app_uuid: other.clone(), ..user };
    let err = add(&cli, &site.url, &again, None).expect_err();
    assert!(err.contains("already added"), "{err}");
    let mut expected = vec![first, other];
    expected.sort();
    assert_eq!(site.uuids(again.id), expected);
    list(&cli, &account_name(&site.url, &again));
}

#[test]
fn detects_wordpress_from_the_url() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    let site = Site::main();
    let cli = Cli::new();
    let out = cli.run(&["detect", &site.url], None).expect_ok();
    assert_eq!(out.stdout.trim(), format!("wordpress at {}", site.url));
    let user = site.user();
    add(&cli, &site.url, &user, None).expect_ok();
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json()[0]["kind"], "wordpress");
}

#[test]
fn works_on_a_site_without_url_rewriting_that_hides_its_api_from_visitors() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    // /wp-json/ is a 404 there: the home page's Link header leads to ?rest_route=/, which
    // answers visitors 401 (a plugin lets only signed-in users use the REST API).
    let plain = env("KEYWARD_TEST_WORDPRESS_PLAIN_URL");
    let site = Site::main();
    let anonymous = site.rt.block_on(async { site.http.get(format!("{plain}/?rest_route=/")).send().await.unwrap().status() });
    assert_eq!(anonymous, reqwest::StatusCode::UNAUTHORIZED);
    let user = site.user();
    let cli = Cli::new();
    let out = cli.run(&["detect", &plain], None).expect_ok();
    assert_eq!(out.stdout.trim(), format!("wordpress at {plain}"));
    let account = add(&cli, &plain, &user, None).expect_ok().json();
    assert!(account["server_facts"].to_string().contains("rest_route"), "{}", account["server_facts"]);
    let name = account_name(&plain, &user);
    let rows = list(&cli, &name);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], user.app_uuid.as_str());
    cli.run(&["rename", &name, &user.app_uuid, "Renamed without rewriting"], None).expect_ok();
    assert_eq!(site.app_passwords(user.id)[0]["name"], "Renamed without rewriting");
}

#[test]
fn lists_every_field_with_times_in_utc_on_a_site_in_another_zone() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    let site = Site::main();
    let index = site.index();
    assert_ne!(index["gmt_offset"].as_f64(), Some(0.0), "the test site must not be on UTC: {}", index["gmt_offset"]);
    let before = Utc::now() - Duration::seconds(5);
    let user = site.user();
    let app_id = "5d1a4e9c-7a61-4bd4-9a3b-8f7c0e2b9f11";
    let (used_uuid, used_pw) = site.app_password(user.id, "Calendar sync", Some(app_id));
    let (never_uuid, _) = site.app_password(user.id, "Never used", None);
    // Use one of them once, from 127.0.0.1: WordPress records when and from where.
    let (status, _) = site.call(reqwest::Method::GET, "wp/v2/users/me", (&user.name, &used_pw), None);
    assert!(status.is_success());
    let after = Utc::now() + Duration::seconds(5);

    let cli = Cli::new();
    add(&cli, &site.url, &user, Some("wordpress")).expect_ok();
    let rows = list(&cli, &account_name(&site.url, &user));
    let on_site = site.app_passwords(user.id);
    assert_eq!(rows.len(), on_site.len());
    assert_eq!(rows.len(), 3);
    for p in &on_site {
        let r = row(&rows, p["uuid"].as_str().unwrap());
        assert_eq!(r["kind"], "app_password");
        assert_eq!(r["name"], p["name"]);
        assert_eq!(cli_time(&r["created"]), site_time(&p["created"]));
        assert!((before..after).contains(&cli_time(&r["created"])), "created {} is not now in UTC", r["created"]);
        assert_eq!(r["last_used_meaning"], "used_day");
        assert_eq!(r["can_rename"], true);
        assert_eq!(r["can_revoke"], true);
        assert_eq!(r["manage_url"], format!("{}/wp-admin/profile.php#application-passwords-section", site.url).as_str());
        match p["last_used"].as_str() {
            Some(_) => assert_eq!(cli_time(&r["last_used"]), site_time(&p["last_used"])),
            None => assert!(r["last_used"].is_null()),
        }
        assert_eq!(r["last_ip"], p["last_ip"]);
    }
    let used = row(&rows, &used_uuid);
    assert!((before..after).contains(&cli_time(&used["last_used"])), "last used {} is not now in UTC", used["last_used"]);
    assert_eq!(used["last_ip"], "127.0.0.1");
    assert!(used["details"].to_string().contains(app_id), "the app id is shown: {}", used["details"]);
    assert_eq!(used["current"], false);
    let never = row(&rows, &never_uuid);
    assert!(never["last_used"].is_null() && never["last_ip"].is_null());
    assert!(never["badges"].to_string().contains("never_used"), "{never}");
    // The one Keyward signed in with is marked, and listed first.
    let own = row(&rows, &user.app_uuid);
    assert_eq!(own["current"], true);
    assert_eq!(rows[0]["id"], user.app_uuid.as_str());
    assert_eq!(rows.iter().filter(|r| r["current"] == true).count(), 1);
}

#[test]
fn renames_on_the_server() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    let site = Site::main();
    let user = site.user();
    let (uuid, _) = site.app_password(user.id, "Old name", None);
    let cli = Cli::new();
    add(&cli, &site.url, &user, None).expect_ok();
    let name = account_name(&site.url, &user);
    cli.run(&["rename", &name, &uuid, "Phone backup"], None).expect_ok();
    let on_site = site.app_passwords(user.id);
    assert_eq!(on_site.iter().find(|p| p["uuid"] == uuid.as_str()).unwrap()["name"], "Phone backup");
    assert_eq!(on_site.iter().find(|p| p["uuid"] == user.app_uuid.as_str()).unwrap()["name"], "Keyward test");
    assert_eq!(row(&list(&cli, &name), &uuid)["name"], "Phone backup");
    // WordPress strips HTML from names and would keep the old one without a word.
    let err = cli.run(&["rename", &name, &uuid, "<b></b>"], None).expect_err();
    assert!(err.contains("HTML"), "{err}");
    assert_eq!(site.app_passwords(user.id).iter().find(|p| p["uuid"] == uuid.as_str()).unwrap()["name"], "Phone backup");
}

#[test]
fn revokes_one_on_the_server() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    let site = Site::main();
    let user = site.user();
    let (gone, _) = site.app_password(user.id, "Old laptop", None);
    let (kept, _) = site.app_password(user.id, "Mail app", None);
    let cli = Cli::new();
    add(&cli, &site.url, &user, None).expect_ok();
    let name = account_name(&site.url, &user);
    let report = cli.run(&["revoke", &name, &gone, "--yes", "--json"], None).expect_ok().json();
    assert_eq!(report["results"], json!([{ "id": gone, "error": null }]));
    let mut expected = vec![kept, user.app_uuid.clone()];
    expected.sort();
    assert_eq!(site.uuids(user.id), expected);
}

#[test]
fn revokes_many_on_the_server() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    let site = Site::main();
    let user = site.user();
    let gone: Vec<String> = (1..=3).map(|i| site.app_password(user.id, &format!("Old app {i}"), None).0).collect();
    let (kept, _) = site.app_password(user.id, "Kept app", None);
    let cli = Cli::new();
    add(&cli, &site.url, &user, None).expect_ok();
    let name = account_name(&site.url, &user);
    let mut args = vec!["revoke", &name];
    args.extend(gone.iter().map(String::as_str));
    args.push("--yes");
    let out = cli.run(&args, None).expect_ok();
    for g in &gone {
        assert!(out.stdout.contains(&format!("revoked {g}")), "{}", out.stdout);
    }
    let mut expected = vec![kept, user.app_uuid.clone()];
    expected.sort();
    assert_eq!(site.uuids(user.id), expected);
}

#[test]
fn refuses_its_own_password_unless_told_and_then_signs_out() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    let site = Site::main();
    let user = site.user();
    let (other, _) = site.app_password(user.id, "Other", None);
    let cli = Cli::new();
    add(&cli, &site.url, &user, None).expect_ok();
    let name = account_name(&site.url, &user);
    let err = cli.run(&["revoke", &name, &other, &user.app_uuid, "--yes"], None).expect_err();
    assert!(err.contains("--include-this-app"), "{err}");
    assert_eq!(site.app_passwords(user.id).len(), 2, "nothing may be revoked when one id is refused");

    let out = cli.run(&["revoke", &name, &user.app_uuid, &other, "--yes", "--include-this-app"], None).expect_ok();
    assert!(out.stdout.contains("signed out"), "{}", out.stdout);
    assert!(site.app_passwords(user.id).is_empty());
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json()[0]["signed_in"], false);
}

#[test]
fn remove_with_sign_out_deletes_its_own_password() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    let site = Site::main();
    let user = site.user();
    let (other, _) = site.app_password(user.id, "Other", None);
    let cli = Cli::new();
    add(&cli, &site.url, &user, None).expect_ok();
    cli.run(&["remove", &account_name(&site.url, &user), "--sign-out"], None).expect_ok();
    assert_eq!(site.uuids(user.id), vec![other]);
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json(), json!([]));
}

#[test]
fn a_password_deleted_on_the_site_asks_to_sign_in_again() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    let site = Site::main();
    let user = site.user();
    let cli = Cli::new();
    add(&cli, &site.url, &user, None).expect_ok();
    site.admin(reqwest::Method::DELETE, &format!("wp/v2/users/{}/application-passwords/{}", user.id, user.app_uuid), None);
    let name = account_name(&site.url, &user);
    let out = cli.run(&["list", &name], None);
    let err = out.expect_err();
    assert!(err.contains("must sign in again"), "{err}");
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json()[0]["signed_in"], false);
}

#[test]
fn wrong_application_password_stores_nothing() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    let site = Site::main();
    let user = site.user();
    let cli = Cli::new();
    let before = site.app_passwords(user.id);
    let wrong = User { app_password: "abcd efgh ijkl mnop qrst uvwx".into(), ..user };
    let err = add(&cli, &site.url, &wrong, Some("wordpress")).expect_err();
    assert!(err.contains("wrong username or password") && err.contains("nothing was changed"), "{err}");
    assert!(!err.contains("abcd"), "{err}");
    // Also where the REST API is closed to visitors (the site cannot be asked whether it offers
    // application passwords before signing in).
    let err = add(&cli, &env("KEYWARD_TEST_WORDPRESS_PLAIN_URL"), &wrong, None).expect_err();
    assert!(err.contains("wrong username or password"), "{err}");
    let unknown = User { name: unique("nobody"), app_password: wrong.app_password.clone(), ..wrong };
    let err = add(&cli, &site.url, &unknown, None).expect_err();
    assert!(err.contains("wrong username or password"), "{err}");
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json(), json!([]));
    assert_eq!(site.app_passwords(wrong.id), before);
}

#[test]
fn a_password_instead_of_an_application_password_points_to_the_page_that_makes_one() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    let site = Site::main();
    let user = site.user();
    let cli = Cli::new();
    let out = cli.run(&["add", &site.url, "--user", &user.name, "--password-stdin"], Some("the-account-password\n"));
    let err = out.expect_err();
    assert!(err.contains("sign in with an application password, not a password"), "{err}");
    assert!(err.contains("--token-stdin"), "the CLI words the remedy with its flag: {err}");
    assert!(err.contains(&format!("{}/wp-admin/authorize-application.php", site.url)), "{err}");
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json(), json!([]));
}

#[test]
fn application_passwords_turned_off_is_said_plainly() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    // The same site in "production" over http: WordPress turns application passwords off.
    let production = env("KEYWARD_TEST_WORDPRESS_PRODUCTION_URL");
    let site = Site::main();
    let user = site.user();
    let cli = Cli::new();
    let err = add(&cli, &production, &user, Some("wordpress")).expect_err();
    assert!(err.contains("application passwords turned off") && err.contains("https"), "{err}");
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json(), json!([]));
}

#[test]
fn a_page_that_is_not_wordpress_is_refused() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    let other = not_wordpress();
    let site = Site::main();
    let user = site.user();
    let cli = Cli::new();
    let err = add(&cli, &other, &user, Some("wordpress")).expect_err();
    assert!(err.contains("is not a WordPress server"), "{err}");
    let err = add(&cli, &other, &user, None).expect_err();
    assert!(err.contains("could not tell what kind of server"), "{err}");
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json(), json!([]));
}

#[test]
fn a_site_gone_down_after_adding_is_one_line_and_changes_nothing() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    let site = Site::main();
    let user = site.user();
    let (other, _) = site.app_password(user.id, "Other", None);
    let forwarder = Forwarder::to(&site.url);
    let url = forwarder.url.clone();
    let cli = Cli::new();
    add(&cli, &url, &user, None).expect_ok();
    let name = account_name(&url, &user);
    assert_eq!(list(&cli, &name).len(), 2);
    forwarder.take_down();
    for args in [vec!["list", &name], vec!["rename", &name, &other, "New"], vec!["revoke", &name, &other, "--yes"]] {
        let err = cli.run(&args, None).expect_err();
        assert!(err.contains("cannot reach") && err.contains("refused"), "{args:?}: {err}");
    }
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json()[0]["signed_in"], true);
    let on_site = site.app_passwords(user.id);
    assert_eq!(on_site.len(), 2);
    assert!(on_site.iter().all(|p| p["name"] != "New"));
}

#[test]
fn server_down_is_one_line() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    let site = Site::main();
    let user = site.user();
    let cli = Cli::new();
    let url = format!("http://127.0.0.1:{}", closed_port());
    let err = add(&cli, &url, &user, Some("wordpress")).expect_err();
    assert!(err.contains("cannot reach") && err.contains("refused"), "{err}");
    let err = add(&cli, &url, &user, None).expect_err();
    assert!(err.contains("cannot reach"), "{err}");
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json(), json!([]));
}

#[test]
fn a_leaked_application_password_is_identified_and_revoked() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    let site = Site::main();
    let user = site.user();
    let (leaked_uuid, leaked) = site.app_password(user.id, "Old laptop", None);
    let (kept, _) = site.app_password(user.id, "Mail app", None);
    let cli = Cli::new();
    add(&cli, &site.url, &user, None).expect_ok();
    let name = account_name(&site.url, &user);
    // WordPress hands application passwords out in groups of four ("abcd efgh …"); pasted with
    // or without the spaces, it is recognised.
    assert!(leaked.contains(' '), "{leaked}");
    let found = cli.run(&["identify", "--token-stdin", "--json"], Some(&format!("{leaked}\n"))).expect_ok().json();
    assert_eq!(found["kind"], "wordpress");
    assert_eq!(found["account"], name.as_str());
    assert_eq!(found["credential_id"], leaked_uuid.as_str(), "{found}");
    assert_eq!(found["name"], "Old laptop");
    let plain: String = leaked.split_whitespace().collect();
    let out = cli.run(&["identify", "--token-stdin", "--json", "--revoke", "--yes"], Some(&format!("{plain}\n"))).expect_ok();
    assert_eq!(out.json()["revoked"], true, "{}", out.stdout);
    let mut expected = vec![kept, user.app_uuid.clone()];
    expected.sort();
    assert_eq!(site.uuids(user.id), expected, "exactly the leaked one is gone");
    assert!(!out.stdout.contains(&plain) && !out.stdout.contains(&leaked));
}

/// Moves every application password of `user` to `days` ago in the site's database, as if made
/// then (WordPress's API cannot set the time a password was made).
fn age_app_passwords(user: u64, days: i64) {
    let socket = env("KEYWARD_TEST_WORDPRESS_DB_SOCKET");
    let then = (Utc::now() - Duration::days(days)).timestamp();
    let sql = format!(
        "UPDATE wp_usermeta SET meta_value = REGEXP_REPLACE(meta_value, 's:7:\"created\";i:[0-9]+;', 's:7:\"created\";i:{then};') \
         WHERE user_id = {user} AND meta_key = '_application_passwords'"
    );
    let out = std::process::Command::new("mariadb")
        .args(["--no-defaults", "-S", &socket, "-uroot", "wordpress", "-e", &sql])
        .output()
        .expect("the mariadb client runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn an_application_password_made_long_ago_and_never_used_is_a_checkup_finding() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    let site = Site::main();
    let user = site.user();
    let (forgotten, _) = site.app_password(user.id, "Forgotten backup script", None);
    let cli = Cli::new();
    add(&cli, &site.url, &user, None).expect_ok();
    let name = account_name(&site.url, &user);
    age_app_passwords(user.id, 45);
    let (fresh, _) = site.app_password(user.id, "Made today", None);
    let made = site.app_passwords(user.id);
    let created = |uuid: &str| site_time(&made.iter().find(|p| p["uuid"] == uuid).unwrap()["created"]);
    assert!(Utc::now() - created(&forgotten) > Duration::days(44), "aged on the site");

    let findings = cli.run(&["checkup", &name, "--json"], None).expect_ok().json();
    let codes = |id: &str| -> Vec<String> {
        findings.as_array().unwrap().iter().filter(|f| f["credential_id"] == id).map(|f| f["code"].as_str().unwrap().to_string()).collect()
    };
    assert!(codes(&forgotten).contains(&"never_used".to_string()), "{findings:#}");
    let f = findings.as_array().unwrap().iter().find(|f| f["credential_id"] == forgotten.as_str() && f["code"] == "never_used").unwrap();
    assert!(f["reason"].as_str().unwrap().contains("never been used"), "{f}");
    assert_eq!(f["fix"]["action"], "revoke");
    assert!(!codes(&fresh).contains(&"never_used".to_string()), "made today: {findings:#}");
    assert!(!codes(&user.app_uuid).contains(&"never_used".to_string()), "Keyward's own is in use: {findings:#}");
}

// ---- browser approval (`keyward add --browser`): the test plays the browser ----

/// A WordPress user who signs in to the site with a password, as a person in a browser does.
struct Person {
    id: u64,
    name: String,
    password: String,
}

impl Site {
    fn person(&self) -> Person {
        let name = unique("wpb");
        let password = unique("pw-");
        let u = self.admin(
            reqwest::Method::POST,
            "wp/v2/users",
            Some(json!({ "username": name, "email": format!("{name}@example.org"), "password": password })),
        );
        Person { id: u["id"].as_u64().unwrap(), name, password }
    }
}

/// Logs in on wp-login.php as a person does, on the way to `then`.
async fn log_in(b: &reqwest::Client, site: &str, who: &Person, then: &str) {
    // The login form needs the test cookie it sets first.
    b.get(format!("{site}/wp-login.php")).send().await.unwrap();
    let r = b
        .post(format!("{site}/wp-login.php"))
        .form(&[("log", who.name.as_str()), ("pwd", &who.password), ("wp-submit", "Log In"), ("redirect_to", then), ("testcookie", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::FOUND, "the login worked");
    assert_eq!(r.headers()["location"].to_str().unwrap(), then);
}

/// Opens the approval page as the signed-in person and presses `button` ("approve" or
/// "reject") on its form, with every field the page has (its nonce included). Returns where
/// WordPress sends the browser next.
async fn press(b: &reqwest::Client, page: &str, button: &str) -> String {
    let r = b.get(page).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let html = r.text().await.unwrap();
    let (action, fields) = {
        let doc = scraper::Html::parse_document(&html);
        let form_sel = scraper::Selector::parse("form[method=post]").unwrap();
        let input_sel = scraper::Selector::parse("input").unwrap();
        let form = doc
            .select(&form_sel)
            .find(|f| f.value().attr("action").is_some_and(|a| a.contains("authorize-application.php")))
            .unwrap_or_else(|| panic!("no approval form on the page: {html}"));
        let mut fields = Vec::new();
        for input in form.select(&input_sel) {
            let (Some(name), value) = (input.value().attr("name"), input.value().attr("value").unwrap_or("")) else { continue };
            let is_button = input.value().attr("type") == Some("submit");
            if !is_button || name == button {
                fields.push((name.to_string(), value.to_string()));
            }
        }
        assert!(fields.iter().any(|(k, _)| k == "_wpnonce"), "{fields:?}");
        assert!(fields.iter().any(|(k, _)| k == button), "no {button} button: {fields:?}");
        (form.value().attr("action").unwrap().to_string(), fields)
    };
    let r = b.post(action).form(&fields).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::FOUND, "{}", r.text().await.unwrap_or_default());
    r.headers()["location"].to_str().unwrap().to_string()
}

#[test]
fn approves_in_the_browser_and_keeps_the_password_only_in_the_keyring() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    let site = Site::main();
    let who = site.person();
    let cli = Cli::new().with_env("BROWSER", "true");
    let approval = Approval::add(&cli, &site.url, &["--user", &who.name]);
    let page = url::Url::parse(&approval.page).unwrap();
    assert_eq!(page.origin(), url::Url::parse(&site.url).unwrap().origin(), "the page is the site's own");
    assert_eq!(page.path(), "/wp-admin/authorize-application.php", "as the REST index names it");
    let query: std::collections::HashMap<String, String> = page.query_pairs().into_owned().collect();
    assert!(query["app_name"].starts_with("Keyward on "), "{query:?}");
    assert_eq!(query["app_id"], "6d1f3c2e-9b0a-4e57-8a43-2f6c1b7d9e05");
    let back = approval.back_to("success_url");
    assert_eq!(back.host_str(), Some("127.0.0.1"));
    assert!(query["reject_url"].starts_with(&format!("http://127.0.0.1:{}/rejected?state=", back.port().unwrap())), "{query:?}");

    let b = browser();
    let (password, answer) = site.rt.block_on(async {
        log_in(&b, &site.url, &who, &approval.page).await;
        let to = press(&b, &approval.page, "approve").await;
        assert!(to.starts_with(back.as_str()), "WordPress sends the browser back to Keyward: {to}");
        let to = url::Url::parse(&to).unwrap();
        let password = to.query_pairs().find(|(k, _)| k == "password").unwrap().1.into_owned();
        let answer = b.get(to).send().await.unwrap();
        (password, (answer.status(), answer.text().await.unwrap()))
    });
    assert_eq!(answer.0, reqwest::StatusCode::OK);
    assert!(answer.1.contains("You can close this tab and return to Keyward"), "{}", answer.1);
    assert!(!in_process_list(&password), "the application password is in a command line");
    let out = approval.finish().expect_ok();
    assert!(!in_process_list(&password));
    let account = out.json();
    assert_eq!(account["kind"], "wordpress");
    assert_eq!(account["user_id"], who.name.as_str());
    assert!(!out.stdout.contains(&password) && !out.stderr.contains(&password));

    // The port closed with the answer: a second request cannot even connect.
    assert!(TcpStream::connect(("127.0.0.1", back.port().unwrap())).is_err(), "the loopback port is still open");

    let id = account["id"].as_str().unwrap();
    let stored = cli.keyring_entry(id).expect("the application password is in the keyring");
    assert!(stored.contains(&password));
    for (path, content) in cli.config_files() {
        assert!(!content.contains(&password), "the application password is in {}", path.display());
    }
    // On the site: one application password, Keyward's, with its app id; Keyward marks it its own.
    let on_site = site.app_passwords(who.id);
    assert_eq!(on_site.len(), 1, "{on_site:?}");
    assert!(on_site[0]["name"].as_str().unwrap().starts_with("Keyward on "));
    assert_eq!(on_site[0]["app_id"], "6d1f3c2e-9b0a-4e57-8a43-2f6c1b7d9e05");
    let rows = list(&cli, &format!("{}@{}", who.name, site.url.trim_start_matches("http://")));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], on_site[0]["uuid"]);
    assert_eq!(rows[0]["current"], true);
}

#[test]
fn a_rejection_in_the_browser_is_one_line_and_stores_nothing() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    let site = Site::main();
    let who = site.person();
    let cli = Cli::new().with_env("BROWSER", "true");
    let approval = Approval::add(&cli, &site.url, &["--user", &who.name]);
    let b = browser();
    let answer = site.rt.block_on(async {
        log_in(&b, &site.url, &who, &approval.page).await;
        let to = press(&b, &approval.page, "reject").await;
        assert!(to.starts_with("http://127.0.0.1:") && to.contains("/rejected?"), "{to}");
        b.get(to).send().await.unwrap().status()
    });
    assert_eq!(answer, reqwest::StatusCode::OK);
    let err = approval.finish().expect_err();
    assert!(err.contains("not approved") && err.contains("rejected") && err.contains("nothing was stored"), "{err}");
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json(), json!([]));
    assert!(site.app_passwords(who.id).is_empty());
}

#[test]
fn a_wrong_state_is_refused_and_the_right_answer_still_comes_through() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    let site = Site::main();
    let who = site.person();
    let cli = Cli::new().with_env("BROWSER", "true");
    let approval = Approval::add(&cli, &site.url, &["--user", &who.name]);
    let back = approval.back_to("success_url");
    let b = browser();
    site.rt.block_on(async {
        // Another page (or another program) guessing: same port, wrong state, a password of its own.
        let mut forged = back.clone();
        forged
            .query_pairs_mut()
            .clear()
            .append_pair("state", "guessed")
            .append_pair("user_login", "mallory")
            .append_pair("password", "abcd efgh ijkl mnop qrst uvwx");
        let r = b.get(forged).send().await.unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::BAD_REQUEST);
        log_in(&b, &site.url, &who, &approval.page).await;
        let to = press(&b, &approval.page, "approve").await;
        assert_eq!(b.get(to).send().await.unwrap().status(), reqwest::StatusCode::OK);
    });
    let account = approval.finish().expect_ok().json();
    assert_eq!(account["user_id"], who.name.as_str());
    assert_eq!(site.app_passwords(who.id).len(), 1);
}

#[test]
fn no_answer_from_the_browser_is_one_line_after_the_wait_and_stores_nothing() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    let site = Site::main();
    let who = site.person();
    let cli = Cli::new().with_env("BROWSER", "true").with_env("KEYWARD_BROWSER_WAIT_SECS", "2");
    let approval = Approval::add(&cli, &site.url, &["--user", &who.name]);
    let port = approval.back_to("success_url").port().unwrap();
    let err = approval.finish().expect_err();
    assert!(err.contains("did not come back to Keyward within 2 seconds") && err.contains("nothing was stored"), "{err}");
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "the loopback port is still open");
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json(), json!([]));
    assert!(site.app_passwords(who.id).is_empty());
}

#[test]
fn approving_as_another_user_than_asked_stores_nothing_and_deletes_the_new_password() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    let site = Site::main();
    let who = site.person();
    let other = site.person();
    let cli = Cli::new().with_env("BROWSER", "true");
    let approval = Approval::add(&cli, &site.url, &["--user", &who.name]);
    let b = browser();
    site.rt.block_on(async {
        log_in(&b, &site.url, &other, &approval.page).await;
        let to = press(&b, &approval.page, "approve").await;
        b.get(to).send().await.unwrap();
    });
    let err = approval.finish().expect_err();
    assert!(err.contains(&format!("as {}", other.name)) && err.contains("nothing was stored"), "{err}");
    assert!(site.app_passwords(other.id).is_empty(), "the password made for Keyward is gone again");
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json(), json!([]));
}

#[test]
fn the_sign_in_options_are_what_the_site_offers() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    let site = Site::main();
    let cli = Cli::new();
    let methods = |url: &str| cli.run(&["detect", url, "--json"], None).expect_ok().json()["methods"].clone();
    // The REST index names the authorisation page: browser approval is offered.
    assert!(site.index()["authentication"]["application-passwords"]["endpoints"]["authorization"].is_string());
    assert_eq!(methods(&site.url), json!(["token", "browser"]));
    // The index closed to visitors names nothing: only a pasted application password.
    assert_eq!(methods(&env("KEYWARD_TEST_WORDPRESS_PLAIN_URL")), json!(["token"]));
}

#[test]
fn an_account_whose_password_was_deleted_signs_in_again_through_the_browser() {
    if common::skip_without("KEYWARD_TEST_WORDPRESS_URL") {
        return;
    }
    let site = Site::main();
    let who = site.person();
    let cli = Cli::new().with_env("BROWSER", "true");
    let approve = |approval: &Approval| {
        let b = browser();
        site.rt.block_on(async {
            log_in(&b, &site.url, &who, &approval.page).await;
            let to = press(&b, &approval.page, "approve").await;
            assert_eq!(b.get(to).send().await.unwrap().status(), reqwest::StatusCode::OK);
        });
    };
    let approval = Approval::add(&cli, &site.url, &["--user", &who.name]);
    approve(&approval);
    let first = approval.finish().expect_ok().json();
    let name = format!("{}@{}", who.name, site.url.trim_start_matches("http://"));

    // Deleted on the site (by the user, or an admin cleaning up): the account must sign in again.
    let old = site.uuids(who.id);
    assert_eq!(old.len(), 1);
    site.admin(reqwest::Method::DELETE, &format!("wp/v2/users/{}/application-passwords/{}", who.id, old[0]), None);
    let err = cli.run(&["list", &name, "--json"], None).expect_err();
    assert!(err.contains("must sign in again"), "{err}");
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json()[0]["signed_in"], false);

    // Approved again in the browser: the same account, signed in, with the new password only.
    let approval = Approval::add(&cli, &site.url, &["--user", &who.name]);
    approve(&approval);
    let again = approval.finish().expect_ok().json();
    assert_eq!(again["id"], first["id"], "the same account, not a second one");
    let accounts = cli.run(&["accounts", "--json"], None).expect_ok().json();
    assert_eq!(accounts.as_array().unwrap().len(), 1, "{accounts}");
    assert_eq!(accounts[0]["signed_in"], true);
    let now = site.uuids(who.id);
    assert_eq!(now.len(), 1);
    assert_ne!(now, old);
    let rows = list(&cli, &name);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], now[0].as_str());
    assert_eq!(rows[0]["current"], true);
}
