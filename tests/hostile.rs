//! Hostile servers against the real `keyward` CLI (issue 10, the network half): small fake servers
//! made in the test, on 127.0.0.1, that redirect secrets elsewhere, name another host as their API
//! root, send a gigabyte, trickle, never answer, rate-limit for ever, downgrade https to http or
//! show a certificate nobody should trust. Each test checks what the attacker's side received
//! (nothing), that the user got one plain line, and that the accounts file did not change.
//!
//! Runs inside `scripts/with-keyring.sh` (the tests that sign in for real keep their credential in
//! a private keyring). Never skips: every server here is the test's own.

mod common;

use std::collections::HashMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use common::{Cli, Run};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

const PASSWORD: &str = "correct-horse-PASSWORD-7731";
const TOKEN: &str = "syt_hostile_TOKEN_3141592653";

// ---- fake servers ----

/// The runtime every fake server of this test process runs on.
fn rt() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap())
}

/// One request a fake server received.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    /// The path without the query.
    path: String,
    query: String,
    headers: HashMap<String, String>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
    fn is(&self, method: &str, path: &str) -> bool {
        self.method == method && self.path == path
    }
}

/// How a fake server answers one request.
enum Reply {
    Json(u16, Value),
    Raw {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// A redirect (301, 302, 307, 308) to a URL.
    Redirect(u16, String),
    /// 200 and a body that never ends, `announced` in Content-Length or not, written until the
    /// client goes away.
    Endless {
        announced: Option<u64>,
    },
    /// 200, then one byte every 200 ms.
    Trickle,
    /// Holds the connection and says nothing.
    Silent,
    /// The reply, after a wait (a slow but honest server).
    Late(Duration, Box<Reply>),
    /// Becomes a Home Assistant websocket: authenticates, then answers (or only pings, for ever).
    HomeAssistantSocket {
        pings_only: bool,
    },
}

impl Reply {
    fn json(v: Value) -> Reply {
        Reply::Json(200, v)
    }
}

type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

/// A fake server: its address and everything it received.
struct Fake {
    port: u16,
    scheme: &'static str,
    seen: Arc<Mutex<Vec<Seen>>>,
    connections: Arc<AtomicUsize>,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

impl Fake {
    fn start(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Fake {
        Self::listen(None, Arc::new(handler))
    }

    fn tls(config: Arc<rustls::ServerConfig>, handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Fake {
        Self::listen(Some(tokio_rustls::TlsAcceptor::from(config)), Arc::new(handler))
    }

    /// A server that answers anything with an empty JSON object, to see whether anyone came.
    fn attacker() -> Fake {
        Self::start(|_| Reply::json(json!({})))
    }

    fn listen(tls: Option<tokio_rustls::TlsAcceptor>, handler: Handler) -> Fake {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let port = std_listener.local_addr().unwrap().port();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let connections: Arc<AtomicUsize> = Arc::default();
        let fake =
            Fake { port, scheme: if tls.is_some() { "https" } else { "http" }, seen: seen.clone(), connections: connections.clone() };
        rt().spawn(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            loop {
                let Ok((tcp, _)) = listener.accept().await else { continue };
                connections.fetch_add(1, Ordering::SeqCst);
                let (tls, handler, seen) = (tls.clone(), handler.clone(), seen.clone());
                tokio::spawn(async move {
                    let stream: Box<dyn Io> = match tls {
                        None => Box::new(tcp),
                        Some(acceptor) => match acceptor.accept(tcp).await {
                            Ok(s) => Box::new(s),
                            Err(_) => return,
                        },
                    };
                    serve(stream, handler, seen).await;
                });
            }
        });
        fake
    }

    fn url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme, self.port)
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// How many connections were opened to it at all (before any byte was read).
    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    #[track_caller]
    fn assert_untouched(&self) {
        assert_eq!(self.connections(), 0, "the attacker's side was contacted: {:?}", self.seen());
    }
}

async fn serve(mut s: Box<dyn Io>, handler: Handler, seen: Arc<Mutex<Vec<Seen>>>) {
    let Some(request) = read_request(&mut s).await else { return };
    seen.lock().unwrap().push(request.clone());
    let mut reply = handler(&request);
    while let Reply::Late(wait, later) = reply {
        tokio::time::sleep(wait).await;
        reply = *later;
    }
    match reply {
        Reply::Json(status, v) => {
            let body = v.to_string().into_bytes();
            write_reply(&mut s, status, &[("Content-Type".into(), "application/json".into())], &body).await;
        }
        Reply::Raw { status, headers, body } => write_reply(&mut s, status, &headers, &body).await,
        Reply::Redirect(status, to) => write_reply(&mut s, status, &[("Location".into(), to)], b"").await,
        Reply::Endless { announced } => {
            let length = announced.map(|n| format!("Content-Length: {n}\r\n")).unwrap_or_default();
            let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{length}Connection: close\r\n\r\n[");
            if s.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = vec![b' '; 64 * 1024];
            while s.write_all(&chunk).await.is_ok() {}
        }
        Reply::Trickle => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\nConnection: close\r\n\r\n";
            if s.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            loop {
                if s.write_all(b" ").await.is_err() || s.flush().await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        Reply::Silent => tokio::time::sleep(Duration::from_secs(600)).await,
        Reply::Late(..) => unreachable!("waited for above"),
        Reply::HomeAssistantSocket { pings_only } => home_assistant_socket(s, &request, pings_only).await,
    }
}

async fn read_request(s: &mut Box<dyn Io>) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 1 << 20 {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, target) = (first.next()?.to_string(), first.next()?.to_string());
    let headers: HashMap<String, String> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string())).collect();
    let length: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let (path, query) = target.split_once('?').map(|(p, q)| (p.to_string(), q.to_string())).unwrap_or((target, String::new()));
    Some(Seen { method, path, query, headers, body: String::from_utf8_lossy(&body).into_owned() })
}

async fn write_reply(s: &mut Box<dyn Io>, status: u16, headers: &[(String, String)], body: &[u8]) {
    let mut head = format!("HTTP/1.1 {status} Whatever\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = s.write_all(head.as_bytes()).await;
    let _ = s.write_all(body).await;
    let _ = s.flush().await;
}

/// Home Assistant's websocket API as far as Keyward uses it: `auth_required`, `auth_ok`, then the
/// current user and the refresh tokens; or, with `pings_only`, pings for ever instead of answers.
async fn home_assistant_socket(mut s: Box<dyn Io>, request: &Seen, pings_only: bool) {
    use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
    use tokio_tungstenite::tungstenite::protocol::Role;
    let key = request.header("sec-websocket-key").unwrap_or_default();
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    );
    if s.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let mut ws = tokio_tungstenite::WebSocketStream::from_raw_socket(s, Role::Server, None).await;
    let _ = ws.send(Message::Text(json!({ "type": "auth_required", "ha_version": "2024.6.0" }).to_string())).await;
    let Some(Ok(Message::Text(_auth))) = ws.next().await else { return };
    let _ = ws.send(Message::Text(json!({ "type": "auth_ok", "ha_version": "2024.6.0" }).to_string())).await;
    if pings_only {
        while ws.send(Message::Ping(b"still here".to_vec())).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        return;
    }
    while let Some(Ok(m)) = ws.next().await {
        let Message::Text(t) = m else { continue };
        let v: Value = serde_json::from_str(&t).unwrap_or_default();
        let result = match v["type"].as_str() {
            Some("auth/current_user") => json!({ "id": "u1", "name": "alice", "is_owner": true, "is_admin": true }),
            Some("auth/refresh_tokens") => json!([{
                "id": "t1", "client_id": null, "client_name": "Keyward test", "client_icon": null,
                "type": "long_lived_access_token", "created_at": "2026-01-01T00:00:00+00:00", "is_current": true,
                "last_used_at": null, "last_used_ip": null, "auth_provider_type": "homeassistant"
            }]),
            _ => Value::Null,
        };
        let _ = ws.send(Message::Text(json!({ "id": v["id"], "type": "result", "success": true, "result": result }).to_string())).await;
    }
}

// ---- kinds of server, as far as detection and sign-in go ----

fn not_found() -> Reply {
    Reply::Json(404, json!({ "errcode": "M_NOT_FOUND", "error": "Not found" }))
}

/// A Matrix homeserver that signs in with a token; `devices` answers the device list.
fn matrix(devices: impl Fn() -> Reply + Send + Sync + 'static) -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
    move |r| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/_matrix/client/versions") => Reply::json(json!({ "versions": ["v1.10", "v1.11"] })),
        ("GET", "/_matrix/client/v3/account/whoami") => Reply::json(json!({ "user_id": "@alice:localhost", "device_id": "KEYWARDDEV" })),
        ("GET", "/_matrix/client/v3/devices") => devices(),
        ("GET", "/_matrix/client/v3/pushers") => Reply::json(json!({ "pushers": [] })),
        _ => not_found(),
    }
}

fn matrix_devices() -> Reply {
    Reply::json(
        json!({ "devices": [{ "device_id": "KEYWARDDEV", "display_name": "Keyward", "last_seen_ip": "127.0.0.1", "last_seen_ts": 1767225600000u64 }] }),
    )
}

/// A WordPress site whose REST index says `site_url` is its URL; `introspect` answers the
/// application-password check that signing in starts with.
fn wordpress(site_url: String, introspect: impl Fn() -> Reply + Send + Sync + 'static) -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
    let own = json!({ "uuid": "0a1b2c3d-0000-4000-8000-000000000001", "app_id": "", "name": "Keyward test",
                      "created": "2026-01-01T00:00:00", "last_used": null, "last_ip": null });
    move |r| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/wp-json/") => Reply::json(json!({
            "name": "Hostile", "url": site_url, "home": site_url, "gmt_offset": 0, "timezone_string": "",
            "namespaces": ["oembed/1.0", "wp/v2"], "authentication": { "application-passwords": { "endpoints": {} } }
        })),
        ("GET", "/wp-json/wp/v2/users/me/application-passwords/introspect") => introspect(),
        ("GET", "/wp-json/wp/v2/users/me") => Reply::json(json!({ "id": 7, "username": "alice", "slug": "alice" })),
        ("GET", "/wp-json/wp/v2/users/me/application-passwords") => Reply::json(json!([own.clone()])),
        _ => Reply::Json(404, json!({ "code": "rest_no_route", "message": "No route", "data": { "status": 404 } })),
    }
}

fn wordpress_own_password() -> Reply {
    Reply::json(json!({ "uuid": "0a1b2c3d-0000-4000-8000-000000000001", "app_id": "", "name": "Keyward test",
                        "created": "2026-01-01T00:00:00", "last_used": null, "last_ip": null }))
}

/// A Home Assistant whose websocket authenticates and answers (or only pings).
fn home_assistant(pings_only: bool) -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
    move |r| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/auth/providers") => Reply::json(json!([{ "name": "Home Assistant Local", "id": null, "type": "homeassistant" }])),
        ("GET", "/api/websocket") => Reply::HomeAssistantSocket { pings_only },
        _ => Reply::Json(404, json!({ "message": "Not found" })),
    }
}

// ---- running the CLI ----

/// A CLI whose requests wait 3 seconds at most, so waiting tests stay short.
fn impatient() -> Cli {
    Cli::new().with_env("KEYWARD_HTTP_TIMEOUT_SECS", "3")
}

fn accounts_file(cli: &Cli) -> Option<String> {
    std::fs::read_to_string(cli.config_dir().join("accounts.json")).ok()
}

/// The one line of a failed run, checked to carry no secret.
#[track_caller]
fn one_line(run: Run) -> String {
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(!all.contains(PASSWORD) && !all.contains(TOKEN), "a secret was printed: {all}");
    run.expect_err()
}

/// Adds a Matrix account with a token (the way the listing tests get an account to list).
fn add_matrix(cli: &Cli, server: &Fake) {
    cli.run(&["add", &server.url(), "--kind", "matrix", "--user", "alice", "--token-stdin"], Some(&format!("{TOKEN}\n"))).expect_ok();
}

/// Runs `keyward ARGS` as `cli` would, and measures its peak memory (VmHWM, in kB) while it runs.
fn run_measured(cli: &Cli, args: &[&str]) -> (Run, u64) {
    let mut child = Command::new(Cli::binary())
        .args(args)
        .env("KEYWARD_CONFIG_DIR", cli.config_dir())
        .env("KEYWARD_KEYRING_SERVICE", cli.keyring_service())
        .env("KEYWARD_HTTP_TIMEOUT_SECS", "10")
        .env_remove("KEYWARD_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0;
    let status = loop {
        if let Some(hwm) = std::fs::read_to_string(&status_file).ok().and_then(|s| vm_hwm_kb(&s)) {
            peak_kb = peak_kb.max(hwm);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let run = Run { status: status.code().unwrap_or(-1), stdout: out.join().unwrap(), stderr: err.join().unwrap() };
    (run, peak_kb)
}

fn vm_hwm_kb(status: &str) -> Option<u64> {
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

// ---- 1. redirects ----

#[test]
fn a_login_answered_307_to_another_port_sends_that_port_nothing() {
    // Every kind that signs in by posting a password, with the password's request redirected.
    type Server = Box<dyn Fn(&Seen) -> Reply + Send + Sync>;
    /// A server of the kind whose password request is redirected to the given URL.
    type Redirecting = fn(String) -> Server;
    let kinds: Vec<(&str, Redirecting)> = vec![
        ("matrix", |to| {
            Box::new(move |r| match (r.method.as_str(), r.path.as_str()) {
                ("GET", "/_matrix/client/versions") => Reply::json(json!({ "versions": ["v1.11"] })),
                ("POST", "/_matrix/client/v3/login") => Reply::Redirect(307, format!("{to}/_matrix/client/v3/login")),
                _ => not_found(),
            })
        }),
        ("jupyterhub", |to| {
            Box::new(move |r| match (r.method.as_str(), r.path.as_str()) {
                ("GET", "/hub/api/") => Reply::json(json!({ "version": "5.2.1" })),
                ("POST", "/hub/api/users/alice/tokens") => Reply::Redirect(308, format!("{to}/hub/api/users/alice/tokens")),
                _ => Reply::Json(404, json!({ "status": 404, "message": "Not found" })),
            })
        }),
        ("homeassistant", |to| {
            Box::new(move |r| match (r.method.as_str(), r.path.as_str()) {
                ("GET", "/auth/providers") => Reply::json(json!([{ "name": "Home Assistant Local", "id": null, "type": "homeassistant" }])),
                ("POST", "/auth/login_flow") => Reply::json(json!({ "type": "form", "flow_id": "f1", "step_id": "init", "errors": {} })),
                ("POST", "/auth/login_flow/f1") => Reply::Redirect(307, format!("{to}/auth/login_flow/f1")),
                _ => Reply::Json(404, json!({ "message": "Not found" })),
            })
        }),
        ("moodle", |to| {
            Box::new(move |r| match (r.method.as_str(), r.path.as_str()) {
                ("GET", "/login/token.php") => Reply::json(json!({ "appsitecheck": "ok" })),
                ("POST", "/login/token.php") => Reply::Redirect(307, format!("{to}/login/token.php")),
                _ => Reply::Raw { status: 404, headers: vec![], body: b"Not found".to_vec() },
            })
        }),
    ];
    for (kind, server) in kinds {
        let attacker = Fake::attacker();
        let fake = Fake::start(server(attacker.url()));
        let cli = Cli::new();
        let run = cli.run(&["add", &fake.url(), "--kind", kind, "--user", "alice", "--password-stdin"], Some(&format!("{PASSWORD}\n")));
        let line = one_line(run);
        assert!(
            line.contains(&format!("redirected to another host ({})", attacker.host())) && line.contains("does not follow"),
            "{kind}: {line}"
        );
        attacker.assert_untouched();
        // The password went once, to its own server, and was not sent again.
        assert_eq!(fake.seen().iter().filter(|r| r.body.contains(PASSWORD)).count(), 1, "{kind}");
        assert_eq!(accounts_file(&cli), None, "{kind}");
    }
}

#[test]
fn a_token_redirected_to_another_port_stays_home() {
    let attacker = Fake::attacker();
    let to = attacker.url();
    let fake = Fake::start(move |r| match r.path.as_str() {
        "/_matrix/client/v3/account/whoami" => Reply::Redirect(302, format!("{to}/whoami")),
        "/_matrix/client/versions" => Reply::json(json!({ "versions": ["v1.11"] })),
        _ => not_found(),
    });
    let cli = Cli::new();
    let run = cli.run(&["add", &fake.url(), "--user", "alice", "--token-stdin"], Some(&format!("{TOKEN}\n")));
    let line = one_line(run);
    assert!(line.contains(&attacker.host()), "{line}");
    attacker.assert_untouched();
    let whoami = fake.seen().into_iter().find(|r| r.is("GET", "/_matrix/client/v3/account/whoami")).expect("whoami was asked");
    assert_eq!(whoami.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
    assert_eq!(accounts_file(&cli), None);
}

#[test]
fn a_redirect_within_the_server_is_followed_with_the_token() {
    // The same server, another path: that is the server's own business, and it is followed.
    let fake = Fake::start(matrix(|| Reply::Redirect(302, "/_matrix/client/v3/devices/moved".into())));
    let cli = Cli::new();
    add_matrix(&cli, &fake);
    let seen_before = fake.seen().len();
    // The new path answers 404 on this fake, so the listing fails; what matters is that the hop
    // reached the same server with the token.
    let _ = cli.run(&["list", &format!("alice@{}", fake.host()), "--json"], None);
    let after: Vec<Seen> = fake.seen()[seen_before..].to_vec();
    let hop = after.iter().find(|r| r.path == "/_matrix/client/v3/devices/moved").expect("the redirect within the server was followed");
    assert_eq!(hop.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
}

// ---- 2. WordPress's API root and Matrix's well-known ----

#[test]
fn a_wordpress_link_header_naming_another_host_is_refused_before_anything_is_sent() {
    let attacker = Fake::start(wordpress("http://127.0.0.1:1".into(), wordpress_own_password));
    let link = format!("<{}/wp-json/>; rel=\"https://api.w.org/\"", attacker.url());
    let fake = Fake::start(move |r| match r.path.as_str() {
        "/" if r.query.is_empty() => Reply::Raw {
            status: 200,
            headers: vec![("Link".into(), link.clone()), ("Content-Type".into(), "text/html".into())],
            body: b"<html><body>blog</body></html>".to_vec(),
        },
        _ => Reply::Raw { status: 404, headers: vec![], body: b"<html>not found</html>".to_vec() },
    });
    let url = fake.url();
    for kind in [Some("wordpress"), None] {
        let cli = Cli::new();
        let mut args = vec!["add", url.as_str(), "--user", "alice", "--token-stdin"];
        if let Some(k) = kind {
            args.extend(["--kind", k]);
        }
        let line = one_line(cli.run(&args, Some(&format!("{PASSWORD}\n"))));
        assert!(line.contains(&format!("another host ({})", attacker.host())), "{kind:?}: {line}");
        attacker.assert_untouched();
        assert!(fake.seen().iter().all(|r| r.header("authorization").is_none()), "the password went out before the API was found");
        assert_eq!(accounts_file(&cli), None);
    }
}

#[test]
fn a_wordpress_api_root_redirected_to_another_host_is_refused() {
    let attacker = Fake::start(wordpress("http://127.0.0.1:1".into(), wordpress_own_password));
    let to = format!("{}/wp-json/", attacker.url());
    let fake = Fake::start(move |r| match r.path.as_str() {
        "/wp-json/" => Reply::Redirect(302, to.clone()),
        _ => Reply::Raw { status: 404, headers: vec![], body: b"<html>not found</html>".to_vec() },
    });
    let cli = Cli::new();
    let line =
        one_line(cli.run(&["add", &fake.url(), "--kind", "wordpress", "--user", "alice", "--token-stdin"], Some(&format!("{PASSWORD}\n"))));
    assert!(line.contains(&format!("redirected to another host ({})", attacker.host())), "{line}");
    attacker.assert_untouched();
    assert_eq!(accounts_file(&cli), None);
}

#[test]
fn a_wordpress_index_naming_another_site_does_not_move_the_account() {
    let attacker = Fake::start(wordpress("http://127.0.0.1:1".into(), wordpress_own_password));
    let fake = Fake::start(wordpress(attacker.url(), wordpress_own_password));
    let cli = Cli::new();
    cli.run(&["add", &fake.url(), "--kind", "wordpress", "--user", "alice", "--token-stdin", "--json"], Some(&format!("{PASSWORD}\n")))
        .expect_ok();
    let accounts: Value = serde_json::from_str(&accounts_file(&cli).unwrap()).unwrap();
    assert_eq!(accounts["accounts"][0]["base_url"], json!(fake.url()), "{accounts}");
    assert!(!accounts.to_string().contains(&attacker.host()), "the other site is named in the account: {accounts}");
    cli.run(&["list", &format!("alice@{}", fake.host()), "--json"], None).expect_ok();
    attacker.assert_untouched();
    let basic = fake.seen().iter().filter(|r| r.header("authorization").is_some()).count();
    assert!(basic >= 3, "sign-in and listing went to the typed site ({basic} authenticated requests)");
}

#[test]
fn a_wordpress_request_with_the_password_redirected_elsewhere_is_refused() {
    let attacker = Fake::attacker();
    let to = format!("{}/wp-json/wp/v2/users/me/application-passwords/introspect", attacker.url());
    let fake = Fake::start(wordpress("".into(), move || Reply::Redirect(307, to.clone())));
    let cli = Cli::new();
    let line =
        one_line(cli.run(&["add", &fake.url(), "--kind", "wordpress", "--user", "alice", "--token-stdin"], Some(&format!("{PASSWORD}\n"))));
    assert!(line.contains(&attacker.host()), "{line}");
    attacker.assert_untouched();
    assert_eq!(accounts_file(&cli), None);
}

// ---- 3. body caps ----

#[test]
fn list_against_a_gigabyte_body_stays_small_and_says_so_in_one_line() {
    for announced in [Some(1u64 << 30), None] {
        let fake = Fake::start(matrix(move || Reply::Endless { announced }));
        let cli = Cli::new();
        add_matrix(&cli, &fake);
        let before = accounts_file(&cli);
        let (run, peak_kb) = run_measured(&cli, &["list", &format!("alice@{}", fake.host())]);
        let line = one_line(run);
        assert!(line.contains(&fake.host()) && line.contains("larger than 16 MiB"), "{line}");
        assert!(peak_kb > 0 && peak_kb < 100 * 1024, "peak memory {peak_kb} kB (announced: {announced:?})");
        assert_eq!(accounts_file(&cli), before);
    }
}

#[test]
fn detection_against_huge_bodies_shares_one_cap() {
    // Every probe of every kind gets a body that never ends.
    let fake = Fake::start(|_| Reply::Endless { announced: None });
    let cli = Cli::new();
    let (run, peak_kb) = run_measured(&cli, &["detect", &fake.url()]);
    let line = one_line(run);
    assert!(line.contains("larger than") && line.contains(&fake.host()), "{line}");
    assert!(peak_kb < 100 * 1024, "peak memory {peak_kb} kB");
}

#[test]
fn a_trickled_body_ends_in_one_line_at_the_deadline() {
    let fake = Fake::start(matrix(|| Reply::Trickle));
    let cli = impatient();
    add_matrix(&cli, &fake);
    let before = accounts_file(&cli);
    let line = one_line(cli.run(&["list", &format!("alice@{}", fake.host())], None));
    assert!(line.contains(&format!("{} did not answer within 3 seconds", fake.host())), "{line}");
    assert_eq!(accounts_file(&cli), before);
}

// ---- 4. waits ----

#[test]
fn a_server_that_accepts_and_never_answers_is_one_line_after_the_first_answer_deadline() {
    let fake = Fake::start(|_| Reply::Silent);
    let cli = impatient();
    let line = one_line(cli.run(&["detect", &fake.url()], None));
    assert_eq!(line, format!("keyward: {} did not answer within 3 seconds", fake.host()));
    let line = one_line(cli.run(&["add", &fake.url(), "--user", "alice", "--password-stdin"], Some(&format!("{PASSWORD}\n"))));
    assert!(line.contains(&format!("{} did not answer within 3 seconds", fake.host())), "{line}");
    assert!(fake.seen().iter().all(|r| !r.body.contains(PASSWORD)), "the password went to a server that never said what it is");
    assert_eq!(accounts_file(&cli), None);
}

#[test]
fn a_429_with_a_huge_retry_after_during_detection_says_rate_limited() {
    let fake = Fake::start(|_| Reply::Raw {
        status: 429,
        headers: vec![("Retry-After".into(), "99999999999".into()), ("Content-Type".into(), "application/json".into())],
        body: br#"{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests"}"#.to_vec(),
    });
    let cli = Cli::new();
    let line = one_line(cli.run(&["detect", &fake.url()], None));
    assert!(line.contains(&fake.host()) && line.contains("limiting requests") && line.contains("try again in"), "{line}");
    assert!(!line.contains("could not tell"), "{line}");
    let line = one_line(cli.run(&["add", &fake.url(), "--user", "alice", "--password-stdin"], Some(&format!("{PASSWORD}\n"))));
    assert!(line.contains("limiting requests"), "{line}");
    // Nothing was retried: a wait that long is reported, not waited for.
    let per_run = fake.seen().len() / 2;
    assert!(per_run <= 8, "{} requests for two runs", fake.seen().len());
    assert!(fake.seen().iter().all(|r| !r.body.contains(PASSWORD)));
    assert_eq!(accounts_file(&cli), None);
}

#[test]
fn a_home_assistant_websocket_that_only_pings_is_one_line_at_the_deadline() {
    let fake = Fake::start(home_assistant(true));
    let cli = impatient();
    let line = one_line(
        cli.run(&["add", &fake.url(), "--kind", "homeassistant", "--user", "alice", "--token-stdin"], Some(&format!("{TOKEN}\n"))),
    );
    assert!(line.contains(&format!("{} did not answer within 3 seconds", fake.host())), "{line}");
    assert_eq!(accounts_file(&cli), None);
}

// ---- 5. URLs ----

#[test]
fn an_address_with_a_password_in_it_is_refused_and_never_repeated() {
    let fake = Fake::start(matrix(matrix_devices));
    let cli = Cli::new();
    let typed = format!("http://alice:{PASSWORD}@{}/", fake.host());
    for args in [vec!["add", typed.as_str(), "--user", "alice", "--token-stdin"], vec!["detect", typed.as_str()]] {
        let line = one_line(cli.run(&args, Some(&format!("{TOKEN}\n"))));
        assert!(line.contains("user name or password") && line.contains(&fake.host()), "{line}");
    }
    assert_eq!(fake.connections(), 0, "a probe went out with the password in its address");
    assert_eq!(accounts_file(&cli), None);
}

#[test]
fn plain_http_to_another_computer_is_refused_without_a_yes() {
    // 0.0.0.0 is not this computer's loopback address by name (and reaches the fake if the check
    // were missing, so nothing leaves the machine either way).
    let fake = Fake::start(matrix(matrix_devices));
    let cli = Cli::new();
    let url = format!("http://0.0.0.0:{}/", fake.port);
    let line = one_line(cli.run(&["add", &url, "--kind", "matrix", "--user", "alice", "--password-stdin"], Some(&format!("{PASSWORD}\n"))));
    assert!(line.contains(&format!("0.0.0.0:{}", fake.port)) && line.contains("plain http") && line.contains("--allow-http"), "{line}");
    assert_eq!(fake.connections(), 0);
    assert_eq!(accounts_file(&cli), None);
    // Said yes to: it goes ahead.
    cli.run(&["add", &url, "--kind", "matrix", "--user", "alice", "--token-stdin", "--allow-http"], Some(&format!("{TOKEN}\n")))
        .expect_ok();
    assert!(fake.seen().iter().any(|r| r.is("GET", "/_matrix/client/v3/account/whoami")));
}

// ---- 6. TLS ----

/// A private CA made for this test, and server configurations with certificates it signed.
struct Pki {
    ca_pem: String,
    /// For 127.0.0.1 and localhost.
    good: Arc<rustls::ServerConfig>,
    /// For another host name only.
    wrong_host: Arc<rustls::ServerConfig>,
}

fn pki() -> &'static Pki {
    use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType};
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::default();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, "Keyward hostile-test CA");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let ca = ca.self_signed(&ca_key).unwrap();
        let server = |names: &[&str], ip: bool| {
            let key = KeyPair::generate().unwrap();
            let mut p = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
            if ip {
                p.subject_alt_names.push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
            }
            p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            let cert = p.signed_by(&key, &ca, &ca_key).unwrap();
            let der = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
            let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(vec![cert.der().clone()], der)
                .unwrap();
            Arc::new(config)
        };
        Pki { ca_pem: ca.pem(), good: server(&["localhost"], true), wrong_host: server(&["wrong.example"], false) }
    })
}

/// A CLI that trusts the test CA through `SSL_CERT_FILE` (which replaces the system's store for
/// `rustls-native-certs`, as `SSL_CERT_DIR` would), and the file it reads.
fn trusting_cli() -> (Cli, tempfile::NamedTempFile) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut file, pki().ca_pem.as_bytes()).unwrap();
    let cli = Cli::new().with_env("SSL_CERT_FILE", file.path().to_str().unwrap()).with_env("SSL_CERT_DIR", "");
    (cli, file)
}

#[test]
fn a_private_ca_the_system_trusts_is_trusted_and_others_are_one_line() {
    let fake = Fake::tls(pki().good.clone(), matrix(matrix_devices));
    let (cli, _ca) = trusting_cli();
    let run = cli.run(&["detect", &fake.url()], None).expect_ok();
    assert_eq!(run.stdout.trim(), format!("matrix at {}", fake.url()));
    add_matrix(&cli, &fake);
    cli.run(&["list", &format!("alice@{}", fake.host()), "--json"], None).expect_ok();

    // Without the CA in the store: one line, and nothing sent.
    let seen = fake.seen().len();
    let empty = tempfile::NamedTempFile::new().unwrap();
    let untrusting = Cli::new().with_env("SSL_CERT_FILE", empty.path().to_str().unwrap());
    let line = one_line(
        untrusting.run(&["add", &fake.url(), "--kind", "matrix", "--user", "alice", "--token-stdin"], Some(&format!("{TOKEN}\n"))),
    );
    assert!(line.contains(&fake.host()) && line.contains("certificate"), "{line}");
    assert_eq!(fake.seen().len(), seen);
    assert_eq!(accounts_file(&untrusting), None);
}

#[test]
fn a_certificate_for_another_host_is_one_line() {
    let fake = Fake::tls(pki().wrong_host.clone(), matrix(matrix_devices));
    let (cli, _ca) = trusting_cli();
    let line =
        one_line(cli.run(&["add", &fake.url(), "--kind", "matrix", "--user", "alice", "--token-stdin"], Some(&format!("{TOKEN}\n"))));
    assert!(line.contains(&fake.host()) && line.contains("its certificate is for another host name"), "{line}");
    assert!(fake.seen().is_empty(), "a request went through a certificate for another host");
    assert_eq!(accounts_file(&cli), None);
}

#[test]
fn the_home_assistant_websocket_trusts_the_same_store() {
    let fake = Fake::tls(pki().good.clone(), home_assistant(false));
    let (cli, _ca) = trusting_cli();
    cli.run(&["add", &fake.url(), "--kind", "homeassistant", "--user", "alice", "--token-stdin"], Some(&format!("{TOKEN}\n"))).expect_ok();
    assert!(fake.seen().iter().any(|r| r.is("GET", "/api/websocket")), "the websocket was not used");
}

#[test]
fn an_https_well_known_pointing_to_plain_http_is_refused() {
    let attacker = Fake::start(matrix(matrix_devices));
    let to = attacker.url();
    let fake = Fake::tls(pki().good.clone(), move |r| match r.path.as_str() {
        "/.well-known/matrix/client" => Reply::json(json!({ "m.homeserver": { "base_url": to } })),
        "/_matrix/client/versions" => Reply::json(json!({ "versions": ["v1.11"] })),
        _ => not_found(),
    });
    let (cli, _ca) = trusting_cli();
    let line =
        one_line(cli.run(&["add", &fake.url(), "--kind", "matrix", "--user", "alice", "--password-stdin"], Some(&format!("{PASSWORD}\n"))));
    assert!(line.contains("plain http") && line.contains(&attacker.host()), "{line}");
    let line = one_line(cli.run(&["detect", &fake.url()], None));
    assert!(line.contains("plain http"), "{line}");
    attacker.assert_untouched();
    assert!(fake.seen().iter().all(|r| !r.body.contains(PASSWORD)));
    assert_eq!(accounts_file(&cli), None);
}

#[test]
fn two_refreshes_of_one_account_at_once_ask_the_server_once() {
    // Not hostile, only slow: the second `keyward list` waits for the first and uses what it
    // saved, instead of asking the same thing again.
    let server = Fake::start(matrix(|| Reply::Late(Duration::from_secs(2), Box::new(matrix_devices()))));
    let cli = impatient();
    add_matrix(&cli, &server);
    let before = server.seen().iter().filter(|r| r.is("GET", "/_matrix/client/v3/devices")).count();
    let name = format!("alice@{}", server.host());
    let runs: Vec<Run> = std::thread::scope(|s| {
        let first = s.spawn(|| cli.run(&["list", &name, "--json"], None));
        // The second starts while the first waits for the device list.
        while server.seen().iter().filter(|r| r.is("GET", "/_matrix/client/v3/devices")).count() == before {
            std::thread::sleep(Duration::from_millis(20));
        }
        let second = s.spawn(|| cli.run(&["list", &name, "--json"], None));
        vec![first.join().unwrap(), second.join().unwrap()]
    });
    let lists: Vec<Value> = runs.into_iter().map(|r| r.expect_ok().json()).collect();
    assert_eq!(lists[0], lists[1], "both show the same listing");
    assert_eq!(lists[0].as_array().unwrap().len(), 1);
    let asked = server.seen().iter().filter(|r| r.is("GET", "/_matrix/client/v3/devices")).count() - before;
    assert_eq!(asked, 1, "the device list was asked for once");
}
