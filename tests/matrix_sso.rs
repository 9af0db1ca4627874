//! Matrix single sign-on end to end: the real `keyward` CLI against a real Synapse whose only way
//! in is single sign-on through a real OpenID provider (the npm `oidc-provider`, offered as two
//! identity providers), both started by `scripts/servers/synapse.sh`. The test plays the browser
//! with a cookie-keeping HTTP client: Keyward's page, Synapse, the identity provider's login and
//! consent forms, Synapse's "Continue to your account" page, and back to Keyward's loopback
//! listener. Every result is checked on the server (devices, whoami) and in the keyring.
//!
//! Every test signs on as its own user (the identity provider takes any new name), so tests run
//! at once without seeing each other.

mod common;

use std::net::TcpStream;

use common::browser::{browser, in_process_list, Approval};
use common::{env, unique, Cli};
use serde_json::{json, Value};

/// The single sign-on homeserver and its identity provider.
struct Sso {
    url: String,
    idp_password: String,
}

impl Sso {
    fn get() -> Self {
        Sso { url: env("KEYWARD_TEST_SYNAPSE_SSO_URL"), idp_password: env("KEYWARD_TEST_OIDC_PASSWORD") }
    }

    fn host(&self) -> String {
        self.url.trim_start_matches("http://").to_string()
    }
}

fn skip() -> bool {
    common::skip_without("KEYWARD_TEST_SYNAPSE_SSO_URL")
}

/// Follows redirects from `url` to the page they end on: (its URL, status, HTML).
async fn open(b: &reqwest::Client, url: &str) -> (String, reqwest::StatusCode, String) {
    let mut url = url.to_string();
    for _ in 0..20 {
        let r = b.get(&url).send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
        if r.status().is_redirection() {
            let to = r.headers()["location"].to_str().unwrap();
            url = reqwest::Url::parse(&url).unwrap().join(to).unwrap().to_string();
            continue;
        }
        let status = r.status();
        return (url, status, r.text().await.unwrap());
    }
    panic!("too many redirects from {url}");
}

/// POSTs a form and follows where it sends the browser.
async fn submit(b: &reqwest::Client, url: &str, fields: &[(&str, &str)]) -> (String, reqwest::StatusCode, String) {
    let r = b.post(url).form(fields).send().await.unwrap();
    assert!(r.status().is_redirection(), "POST {url}: {} {}", r.status(), r.text().await.unwrap_or_default());
    let to = reqwest::Url::parse(url).unwrap().join(r.headers()["location"].to_str().unwrap()).unwrap();
    open(b, to.as_str()).await
}

/// The `action` of the page's first form whose action ends with `end`, made absolute.
fn form_action(page_url: &str, html: &str, end: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("form").unwrap();
    let action = doc.select(&sel).filter_map(|f| f.value().attr("action")).find(|a| a.ends_with(end))?.to_string();
    Some(reqwest::Url::parse(page_url).unwrap().join(&action).unwrap().to_string())
}

/// The `href` of Synapse's "Continue" button.
fn continue_link(html: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("a.primary-button").unwrap();
    doc.select(&sel).find_map(|a| a.value().attr("href")).map(str::to_string)
}

/// A person signing on as `user` from `page` (Keyward's, or Synapse's fallback page): the
/// identity provider's login and consent as they come, up to the page Synapse ends on. Returns
/// that page (URL, HTML).
async fn sign_on(b: &reqwest::Client, sso: &Sso, page: &str, user: &str) -> (String, String) {
    let (mut url, mut status, mut html) = open(b, page).await;
    for _ in 0..6 {
        assert!(status.is_success(), "{url}: {status} {html}");
        if let Some(login) = form_action(&url, &html, "/login") {
            (url, status, html) = submit(b, &login, &[("login", user), ("password", &sso.idp_password)]).await;
        } else if let Some(confirm) = form_action(&url, &html, "/confirm") {
            (url, status, html) = submit(b, &confirm, &[]).await;
        } else {
            return (url, html);
        }
    }
    panic!("the sign-on did not end: {url} {html}");
}

/// [`sign_on`] through to Synapse's "Continue to your account" page: the link it continues to
/// (the `redirectUrl` with `loginToken` added).
async fn sign_on_to_continue(b: &reqwest::Client, sso: &Sso, page: &str, user: &str) -> String {
    let (url, html) = sign_on(b, sso, page, user).await;
    assert!(html.contains("Continue to your account"), "{url}: {html}");
    continue_link(&html).unwrap_or_else(|| panic!("no Continue link: {html}"))
}

/// Another client's device for `user`, signed on through the identity provider as that client
/// would (its own browser and redirect): (access token, device id).
async fn other_device(sso: &Sso, user: &str, name: &str) -> (String, String) {
    let b = browser();
    let mut page = reqwest::Url::parse(&format!("{}/_matrix/client/v3/login/sso/redirect/oidc-one", sso.url)).unwrap();
    page.query_pairs_mut().append_pair("redirectUrl", "http://127.0.0.1:9/elsewhere?client=other");
    let link = sign_on_to_continue(&b, sso, page.as_str(), user).await;
    let token = reqwest::Url::parse(&link).unwrap().query_pairs().find(|(k, _)| k == "loginToken").unwrap().1.into_owned();
    let body = json!({"type": "m.login.token", "token": token, "initial_device_display_name": name});
    let r: Value = b.post(format!("{}/_matrix/client/v3/login", sso.url)).json(&body).send().await.unwrap().json().await.unwrap();
    (r["access_token"].as_str().unwrap_or_else(|| panic!("{r}")).to_string(), r["device_id"].as_str().unwrap().to_string())
}

async fn devices(sso: &Sso, token: &str) -> Vec<Value> {
    let r: Value =
        browser().get(format!("{}/_matrix/client/v3/devices", sso.url)).bearer_auth(token).send().await.unwrap().json().await.unwrap();
    r["devices"].as_array().unwrap_or_else(|| panic!("{r}")).clone()
}

async fn device_ids(sso: &Sso, token: &str) -> Vec<String> {
    let mut ids: Vec<String> = devices(sso, token).await.iter().map(|d| d["device_id"].as_str().unwrap().to_string()).collect();
    ids.sort();
    ids
}

fn no_accounts(cli: &Cli) {
    assert_eq!(cli.run(&["accounts", "--json"], None).expect_ok().json(), json!([]));
}

#[tokio::test]
async fn detect_offers_single_sign_on_with_each_identity_provider_and_no_password() {
    if skip() {
        return;
    }
    let sso = Sso::get();
    let cli = Cli::new();
    let options = cli.run(&["detect", &sso.url, "--json"], None).expect_ok().json();
    assert_eq!(options["kind"], "matrix");
    assert_eq!(options["methods"], json!(["token", "browser"]), "password login is off on this server: {options}");
    assert_eq!(
        options["choices"],
        json!([{"id": "oidc-one", "name": "Test identity provider one"}, {"id": "oidc-two", "name": "Test identity provider two"}])
    );
    // A homeserver without single sign-on offers the password and no choices.
    let main = cli.run(&["detect", &env("KEYWARD_TEST_SYNAPSE_URL"), "--json"], None).expect_ok().json();
    assert_eq!(main["methods"], json!(["password", "token"]), "{main}");
    assert_eq!(main["choices"], json!([]));
}

#[tokio::test]
async fn signs_on_in_the_browser_names_the_device_and_keeps_tokens_only_in_the_keyring() {
    if skip() {
        return;
    }
    let sso = Sso::get();
    let user = unique("sso");
    // Traced, so that what the logs say is searched for secrets too.
    let cli = Cli::new().with_env("BROWSER", "true").with_env("KEYWARD_LOG", "trace");
    let approval = Approval::add(&cli, &sso.url, &["--idp", "oidc-two", "--user", &user]);
    let page = url::Url::parse(&approval.page).unwrap();
    assert_eq!(page.origin(), url::Url::parse(&sso.url).unwrap().origin(), "the page is the homeserver's own");
    assert_eq!(page.path(), "/_matrix/client/v3/login/sso/redirect/oidc-two");
    let back = approval.back_to("redirectUrl");
    assert_eq!(back.host_str(), Some("127.0.0.1"));
    assert!(back.query_pairs().any(|(k, _)| k == "state"), "{back}");

    let b = browser();
    let link = sign_on_to_continue(&b, &sso, &approval.page, &user).await;
    // Synapse keeps the loopback's query (its state) and adds the login token.
    let link_url = url::Url::parse(&link).unwrap();
    assert!(link.starts_with(back.as_str()), "{link} continues {back}");
    let login_token = link_url.query_pairs().find(|(k, _)| k == "loginToken").unwrap().1.into_owned();
    let answer = b.get(&link).send().await.unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::OK);
    assert!(answer.text().await.unwrap().contains("return to Keyward"));
    let out = tokio::task::spawn_blocking(move || approval.finish()).await.unwrap().expect_ok();
    let account = out.json();
    assert_eq!(account["kind"], "matrix");
    assert_eq!(account["user_id"], format!("@{user}:localhost"));
    assert!(!out.stdout.contains(&login_token) && !out.stderr.contains(&login_token));
    // The port closed with the answer: a second request cannot even connect.
    assert!(TcpStream::connect(("127.0.0.1", back.port().unwrap())).is_err(), "the loopback port is still open");

    // The keyring holds the tokens; the config dir and the process list hold none of them.
    let id = account["id"].as_str().unwrap();
    let stored: Value = serde_json::from_str(&cli.keyring_entry(id).expect("a keyring entry")).unwrap();
    let access = stored["access_token"].as_str().unwrap().to_string();
    let refresh = stored["refresh_token"].as_str().expect("a refresh token was asked for").to_string();
    let name = format!("{user}@{}", sso.host());
    let rows = cli.run(&["list", &name, "--json"], None).expect_ok().json();
    for (path, content) in cli.config_files() {
        for secret in [&access, &refresh, &login_token] {
            assert!(!content.contains(secret.as_str()), "{} contains a secret", path.display());
        }
    }
    for secret in [&access, &refresh, &login_token] {
        assert!(!in_process_list(secret), "a secret is in a command line");
        assert!(!out.stdout.contains(secret.as_str()) && !out.stderr.contains(secret.as_str()), "a secret was printed");
    }
    assert!(out.stderr.contains("TRACE"), "the run was traced: {}", out.stderr);

    // On the server: the token is this user's, its device is named after the app and the machine.
    let who: Value = browser()
        .get(format!("{}/_matrix/client/v3/account/whoami", sso.url))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(who["user_id"], format!("@{user}:localhost"));
    let host = hostname::get().unwrap().into_string().unwrap();
    let on_server = devices(&sso, &access).await;
    assert_eq!(on_server.len(), 1, "{on_server:#?}");
    assert_eq!(on_server[0]["display_name"], format!("Keyward on {host}"));
    assert_eq!(on_server[0]["device_id"], who["device_id"]);
    let own: Vec<&Value> = rows.as_array().unwrap().iter().filter(|r| r["current"] == true).collect();
    assert_eq!(own.len(), 1, "{rows:#}");
    assert_eq!(own[0]["id"], who["device_id"]);
    // The login token was used up.
    let again = browser()
        .post(format!("{}/_matrix/client/v3/login", sso.url))
        .json(&json!({"type": "m.login.token", "token": login_token}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), reqwest::StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn without_a_choice_the_server_lets_the_user_pick_the_identity_provider() {
    if skip() {
        return;
    }
    let sso = Sso::get();
    let user = unique("ssopick");
    let cli = Cli::new().with_env("BROWSER", "true");
    let approval = Approval::add(&cli, &sso.url, &[]);
    assert_eq!(url::Url::parse(&approval.page).unwrap().path(), "/_matrix/client/v3/login/sso/redirect");
    let b = browser();
    let (picker, status, html) = open(&b, &approval.page).await;
    assert!(status.is_success() && picker.contains("/_synapse/client/pick_idp"), "{picker}: {html}");
    assert!(html.contains("Test identity provider one") && html.contains("Test identity provider two"), "{html}");
    // The person picks the first one, as the picker's form sends it.
    let mut picked = url::Url::parse(&picker).unwrap();
    picked.query_pairs_mut().append_pair("idp", "oidc-one");
    let link = sign_on_to_continue(&b, &sso, picked.as_str(), &user).await;
    b.get(&link).send().await.unwrap();
    let account = tokio::task::spawn_blocking(move || approval.finish()).await.unwrap().expect_ok().json();
    assert_eq!(account["user_id"], format!("@{user}:localhost"));
    // No user name was typed: the account is known by the localpart, as a password sign-in's is.
    assert_eq!(account["name"], format!("{user}@{}", sso.host()), "{account}");
}

#[tokio::test]
async fn a_wrong_state_is_refused_and_the_right_answer_still_comes_through() {
    if skip() {
        return;
    }
    let sso = Sso::get();
    let user = unique("ssostate");
    let cli = Cli::new().with_env("BROWSER", "true");
    let approval = Approval::add(&cli, &sso.url, &["--idp", "oidc-one"]);
    let b = browser();
    let link = sign_on_to_continue(&b, &sso, &approval.page, &user).await;
    // Another page (or program) guessing: same port, wrong state, the real login token even.
    let mut forged = url::Url::parse(&link).unwrap();
    let token = forged.query_pairs().find(|(k, _)| k == "loginToken").unwrap().1.into_owned();
    forged.query_pairs_mut().clear().append_pair("state", "guessed").append_pair("loginToken", &token);
    assert_eq!(b.get(forged).send().await.unwrap().status(), reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(b.get(&link).send().await.unwrap().status(), reqwest::StatusCode::OK);
    let account = tokio::task::spawn_blocking(move || approval.finish()).await.unwrap().expect_ok().json();
    assert_eq!(account["user_id"], format!("@{user}:localhost"));
}

#[tokio::test]
async fn coming_back_without_a_login_token_is_one_line_and_stores_nothing() {
    if skip() {
        return;
    }
    let sso = Sso::get();
    let cli = Cli::new().with_env("BROWSER", "true");
    let approval = Approval::add(&cli, &sso.url, &[]);
    let back = approval.back_to("redirectUrl");
    // The browser comes back with the right state but no token (a refused sign-on).
    assert_eq!(browser().get(back.as_str()).send().await.unwrap().status(), reqwest::StatusCode::OK);
    let err = tokio::task::spawn_blocking(move || approval.finish()).await.unwrap().expect_err();
    assert!(err.contains("without a login token") && err.contains("nothing was stored"), "{err}");
    no_accounts(&cli);
    assert!(TcpStream::connect(("127.0.0.1", back.port().unwrap())).is_err(), "the loopback port is still open");
}

#[tokio::test]
async fn a_refusal_at_the_identity_provider_ends_in_a_timeout_line_and_stores_nothing() {
    if skip() {
        return;
    }
    let sso = Sso::get();
    let user = unique("ssono");
    let cli = Cli::new().with_env("BROWSER", "true").with_env("KEYWARD_BROWSER_WAIT_SECS", "4");
    let approval = Approval::add(&cli, &sso.url, &["--idp", "oidc-one"]);
    let b = browser();
    let (url, status, html) = open(&b, &approval.page).await;
    assert!(status.is_success(), "{url}");
    let login = form_action(&url, &html, "/login").unwrap();
    let (url, _, html) = submit(&b, &login, &[("login", &user), ("password", &sso.idp_password)]).await;
    // The person says no on the consent page: Synapse shows its error and never calls Keyward.
    let abort = form_action(&url, &html, "/abort").unwrap();
    let (url, _, html) = submit(&b, &abort, &[]).await;
    assert!(url.starts_with(&sso.url) && !html.contains("loginToken"), "{url}: {html}");
    let err = tokio::task::spawn_blocking(move || approval.finish()).await.unwrap().expect_err();
    assert!(err.contains("did not come back to Keyward within 4 seconds") && err.contains("nothing was stored"), "{err}");
    no_accounts(&cli);
}

#[tokio::test]
async fn no_answer_from_the_browser_is_one_line_after_the_wait_and_the_port_closes() {
    if skip() {
        return;
    }
    let sso = Sso::get();
    let cli = Cli::new().with_env("BROWSER", "true").with_env("KEYWARD_BROWSER_WAIT_SECS", "2");
    let approval = Approval::add(&cli, &sso.url, &[]);
    let port = approval.back_to("redirectUrl").port().unwrap();
    let err = tokio::task::spawn_blocking(move || approval.finish()).await.unwrap().expect_err();
    assert!(err.contains("did not come back to Keyward within 2 seconds") && err.contains("nothing was stored"), "{err}");
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "the loopback port is still open");
    no_accounts(&cli);
}

#[tokio::test]
async fn an_identity_provider_the_server_does_not_offer_is_refused_before_anything_opens() {
    if skip() {
        return;
    }
    let sso = Sso::get();
    let cli = Cli::new().with_env("BROWSER", "false");
    let err = cli.run(&["add", &sso.url, "--browser", "--idp", "oidc-three"], None).expect_err();
    assert!(err.contains("offers no identity provider \"oidc-three\"") && err.contains("oidc-one, oidc-two"), "{err}");
    no_accounts(&cli);
    // A password sign-in on a server that offers none is refused too, and stores nothing.
    let err = cli.run(&["add", &sso.url, "--user", "someone", "--password-stdin"], Some("pw\n")).expect_err();
    assert!(err.contains("signs in with single sign-on only, not a password"), "{err}");
    no_accounts(&cli);
}

#[tokio::test]
async fn signing_on_as_another_user_than_asked_stores_nothing_and_signs_the_device_out() {
    if skip() {
        return;
    }
    let sso = Sso::get();
    let asked = unique("ssoasked");
    let other = unique("ssoother");
    let cli = Cli::new().with_env("BROWSER", "true");
    let approval = Approval::add(&cli, &sso.url, &["--idp", "oidc-one", "--user", &asked]);
    let b = browser();
    let link = sign_on_to_continue(&b, &sso, &approval.page, &other).await;
    b.get(&link).send().await.unwrap();
    let err = tokio::task::spawn_blocking(move || approval.finish()).await.unwrap().expect_err();
    assert!(err.contains(&format!("@{other}:localhost")) && err.contains("nothing was stored"), "{err}");
    no_accounts(&cli);
    // The other user's only devices are the test's own.
    let (token, mine) = other_device(&sso, &other, "Checker").await;
    assert_eq!(device_ids(&sso, &token).await, vec![mine]);
}

// ---- signing devices out of an account without a password: the single sign-on step of
// user-interactive auth, confirmed in the browser ----

/// Adds `user` through single sign-on in `b` (which keeps the identity provider's session, as a
/// person's browser does); returns the account name.
async fn add_signed_on(cli: &Cli, b: &reqwest::Client, sso: &Sso, user: &str) -> String {
    let approval = Approval::add(cli, &sso.url, &["--idp", "oidc-one", "--user", user]);
    let link = sign_on_to_continue(b, sso, &approval.page, user).await;
    b.get(&link).send().await.unwrap();
    tokio::task::spawn_blocking(move || approval.finish()).await.unwrap().expect_ok();
    format!("{user}@{}", sso.host())
}

/// What the CLI says before a step in the browser.
const CONFIRM: &str = "Open this page to confirm: ";

#[tokio::test]
async fn devices_of_an_account_without_a_password_are_signed_out_after_single_sign_on_in_the_browser() {
    if skip() {
        return;
    }
    let sso = Sso::get();
    let user = unique("ssouia");
    let cli = Cli::new().with_env("BROWSER", "true");
    let b = browser();
    let account = add_signed_on(&cli, &b, &sso, &user).await;
    let (token, observer) = other_device(&sso, &user, "Observer").await;
    let (_, phone) = other_device(&sso, &user, "Phone").await;
    let (_, laptop) = other_device(&sso, &user, "Laptop").await;
    // No password is asked for: the account has none.
    let rows = cli.run(&["list", &account, "--json"], None).expect_ok().json();
    let row = |id: &str| rows.as_array().unwrap().iter().find(|r| r["id"] == id).cloned().unwrap_or_else(|| panic!("{id}: {rows:#}"));
    assert_eq!(row(&phone)["revoke_needs_password"], false, "{rows:#}");
    let own = rows.as_array().unwrap().iter().find(|r| r["current"] == true).unwrap()["id"].as_str().unwrap().to_string();

    let revoking = Approval::spawn(&cli, &["revoke", &account, &phone, &laptop, "--yes", "--json"], CONFIRM);
    let page = revoking.page.clone();
    let page_url = url::Url::parse(&page).unwrap();
    assert_eq!(page_url.origin(), url::Url::parse(&sso.url).unwrap().origin());
    assert_eq!(page_url.path(), "/_matrix/client/v3/auth/m.login.sso/fallback/web");
    assert!(page_url.query_pairs().any(|(k, v)| k == "session" && !v.is_empty()), "{page}");
    // Nothing is gone before the person confirms.
    assert_eq!(device_ids(&sso, &token).await.len(), 4);

    // The person confirms: Synapse's page, the identity provider (still signed in there), back.
    let (url, status, html) = open(&b, &page).await;
    assert!(status.is_success() && html.contains("Confirm it"), "{url}: {html}");
    let go = continue_link(&html).unwrap_or_else(|| panic!("no Continue link: {html}"));
    let (url, html) = sign_on(&b, &sso, &go.replace("&amp;", "&"), &user).await;
    assert!(url.starts_with(&sso.url) && html.to_lowercase().contains("close this window"), "{url}: {html}");

    let report = tokio::task::spawn_blocking(move || revoking.finish()).await.unwrap().expect_ok().json();
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{report:#}");
    assert!(results.iter().all(|r| r["error"].is_null()), "{report:#}");
    // On the server: both gone in the one request; the observer and Keyward's own stay.
    let mut left = device_ids(&sso, &token).await;
    let mut want = vec![observer, own];
    left.sort();
    want.sort();
    assert_eq!(left, want);
}

#[tokio::test]
async fn a_sign_out_not_confirmed_in_the_browser_in_time_is_one_line_and_signs_nothing_out() {
    if skip() {
        return;
    }
    let sso = Sso::get();
    let user = unique("ssouianot");
    let cli = Cli::new().with_env("BROWSER", "true").with_env("KEYWARD_BROWSER_WAIT_SECS", "3");
    let b = browser();
    let account = add_signed_on(&cli, &b, &sso, &user).await;
    let (token, _) = other_device(&sso, &user, "Observer").await;
    let (_, phone) = other_device(&sso, &user, "Phone").await;
    let revoking = Approval::spawn(&cli, &["revoke", &account, &phone, "--yes"], CONFIRM);
    let err = tokio::task::spawn_blocking(move || revoking.finish()).await.unwrap().expect_err();
    assert!(err.contains("not finished within 3 seconds") && err.contains("nothing was signed out"), "{err}");
    assert!(device_ids(&sso, &token).await.contains(&phone));
}

#[tokio::test]
async fn sign_out_all_others_of_an_account_without_a_password_is_one_confirmation_in_the_browser() {
    if skip() {
        return;
    }
    let sso = Sso::get();
    let user = unique("ssoall");
    let cli = Cli::new().with_env("BROWSER", "true");
    let b = browser();
    let account = add_signed_on(&cli, &b, &sso, &user).await;
    let (token, _) = other_device(&sso, &user, "Phone").await;
    other_device(&sso, &user, "Tablet").await;
    let own =
        cli.run(&["list", &account, "--json"], None).expect_ok().json().as_array().unwrap().iter().find(|r| r["current"] == true).unwrap()
            ["id"]
            .as_str()
            .unwrap()
            .to_string();
    let revoking = Approval::spawn(&cli, &["revoke", &account, "--all-others", "--yes"], CONFIRM);
    let (_, status, html) = open(&b, &revoking.page).await;
    assert!(status.is_success(), "{html}");
    let go = continue_link(&html).unwrap_or_else(|| panic!("no Continue link: {html}"));
    sign_on(&b, &sso, &go.replace("&amp;", "&"), &user).await;
    let out = tokio::task::spawn_blocking(move || revoking.finish()).await.unwrap().expect_ok();
    assert_eq!(out.stdout.lines().filter(|l| l.starts_with("revoked ")).count(), 2, "{}", out.stdout);
    // Keyward's own device is all that is left (the token used to look is gone with its device).
    let r = browser().get(format!("{}/_matrix/client/v3/devices", sso.url)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED);
    let rows = cli.run(&["list", &account, "--json"], None).expect_ok().json();
    let ids: Vec<&str> = rows.as_array().unwrap().iter().filter(|r| r["kind"] == "session").map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [own.as_str()]);
}
