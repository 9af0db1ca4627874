//! A one-shot HTTP listener on this computer's loopback address, for sign-ins that happen in the
//! user's browser: the server sends the browser back to [`Loopback::url`] with the result in the
//! query (an application password, a login token, an authorisation code), and Keyward reads it
//! there.
//!
//! It binds 127.0.0.1 on a port the system picks, never another address, and waits for one GET
//! whose `state` query value is the random one made here (32 characters from the operating
//! system's CSPRNG): any other request gets a 400 and the wait goes on; the right one gets a
//! small page that says to go back to Keyward, and the port closes. Every part is bounded: the
//! request head (16 KiB), each connection (10 seconds), the whole wait (5 minutes unless told),
//! and a [`Cancel`] handle ends it at once (a face's Cancel button). The values received are
//! [`Secret`]s. It does not speak to the server, open the browser, or know any kind of server.

use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The longest request head read.
pub const HEAD_MAX: usize = 16 * 1024;
/// How long one connection may take to send its request.
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the user has to finish in the browser, unless told otherwise.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(5 * 60);
/// Connections handled at once (a browser opens a few speculatively).
const CONNECTIONS_MAX: usize = 16;

const DONE_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Keyward</title></head>\
<body style=\"font-family: sans-serif; margin: 3em\"><p>You can close this tab and return to Keyward.</p></body></html>";
const WRONG_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Keyward</title></head>\
<body style=\"font-family: sans-serif; margin: 3em\"><p>This is not the page Keyward is waiting for.</p></body></html>";

/// Ends a [`Loopback::wait`] from anywhere (clones share it); cancelling before the wait starts
/// ends it as soon as it starts.
#[derive(Clone, Debug)]
pub struct Cancel(std::sync::Arc<tokio::sync::watch::Sender<bool>>);

impl Cancel {
    pub fn cancel(&self) {
        self.0.send_replace(true);
    }

    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }
}

/// What the browser brought back: the path it asked for and every query value (as secrets: some
/// are).
#[derive(Clone)]
pub struct Callback {
    pub path: String,
    params: Vec<(String, Secret)>,
}

impl Callback {
    /// The callback a request for `url` would bring (for tests of what providers make of one).
    #[cfg(test)]
    pub(crate) fn from_url(url: &Url) -> Self {
        Callback {
            path: url.path().to_string(),
            params: url.query_pairs().map(|(k, v)| (k.into_owned(), Secret::new(v.into_owned()))).collect(),
        }
    }

    /// The first value of a query parameter.
    pub fn get(&self, name: &str) -> Option<&Secret> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// A query value that is no secret (a user name, a site address), as text.
    pub fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(|s| s.expose().to_string())
    }
}

impl std::fmt::Debug for Callback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.params.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Callback").field("path", &self.path).field("params", &names).finish()
    }
}

pub struct Loopback {
    listener: TcpListener,
    port: u16,
    state: String,
    wait: Duration,
    cancel: Cancel,
    cancelled: tokio::sync::watch::Receiver<bool>,
}

impl Loopback {
    /// Listens on 127.0.0.1 on a port the system picks.
    pub async fn bind() -> Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| Error::input(format!("cannot listen on this computer for the browser's answer: {e}")))?;
        let port = listener.local_addr().map_err(|e| Error::input(format!("cannot listen for the browser's answer: {e}")))?.port();
        let (tx, rx) = tokio::sync::watch::channel(false);
        Ok(Loopback { listener, port, state: random_state()?, wait: DEFAULT_WAIT, cancel: Cancel(std::sync::Arc::new(tx)), cancelled: rx })
    }

    /// How long [`Loopback::wait`] waits in all.
    pub fn waiting(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The random value the answer must carry as its `state` query value.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// `http://127.0.0.1:<port>/<path>`, for servers that send `state` back themselves (OAuth).
    pub fn redirect_url(&self, path: &str) -> Url {
        Url::parse(&format!("http://127.0.0.1:{}/{}", self.port, path.trim_start_matches('/'))).expect("a loopback URL")
    }

    /// [`Loopback::redirect_url`] with `state` in its query, for servers that keep the URL's
    /// query and add theirs (WordPress, Matrix single sign-on).
    pub fn url(&self, path: &str) -> Url {
        let mut u = self.redirect_url(path);
        u.query_pairs_mut().append_pair("state", &self.state);
        u
    }

    pub fn cancel_handle(&self) -> Cancel {
        self.cancel.clone()
    }

    /// How long the wait lasts in all.
    pub fn wait_limit(&self) -> Duration {
        self.wait
    }

    /// Waits for the browser's answer: the first GET with the right `state`. The port is closed
    /// when this returns, however it ends.
    pub async fn wait(mut self) -> Result<Callback> {
        let deadline = tokio::time::sleep(self.wait);
        tokio::pin!(deadline);
        let mut open = FuturesUnordered::new();
        loop {
            if *self.cancelled.borrow() {
                return Err(Error::NotApproved { message: "the sign-in in the browser was cancelled; nothing was stored".into() });
            }
            tokio::select! {
                _ = &mut deadline => {
                    return Err(Error::NotApproved {
                        message: format!(
                            "the browser did not come back to Keyward within {}; nothing was stored",
                            duration_words(self.wait)
                        ),
                    });
                }
                _ = self.cancelled.changed() => {}
                accepted = self.listener.accept(), if open.len() < CONNECTIONS_MAX => {
                    if let Ok((stream, _)) = accepted {
                        let state = self.state.clone();
                        open.push(async move {
                            tokio::time::timeout(CONNECTION_TIMEOUT, answer(stream, &state)).await.ok().flatten()
                        });
                    }
                }
                Some(done) = open.next(), if !open.is_empty() => {
                    if let Some(callback) = done {
                        return Ok(callback);
                    }
                }
            }
        }
    }
}

/// Reads one request and answers it; the callback when it is the awaited one.
async fn answer(mut stream: TcpStream, state: &str) -> Option<Callback> {
    let head = match read_head(&mut stream).await {
        Head::Complete(h) => h,
        Head::TooLarge => {
            respond(&mut stream, "431 Request Header Fields Too Large", WRONG_PAGE).await;
            return None;
        }
        Head::Broken => return None,
    };
    let line_end = head.iter().position(|&b| b == b'\r' || b == b'\n').unwrap_or(head.len());
    let line = std::str::from_utf8(&head[..line_end]).ok()?;
    let mut parts = line.split(' ');
    let (method, target) = (parts.next()?, parts.next()?);
    if method != "GET" {
        respond(&mut stream, "405 Method Not Allowed", WRONG_PAGE).await;
        return None;
    }
    let Ok(url) = Url::parse("http://127.0.0.1/").and_then(|b| b.join(target)) else {
        respond(&mut stream, "400 Bad Request", WRONG_PAGE).await;
        return None;
    };
    let params: Vec<(String, Secret)> = url.query_pairs().map(|(k, v)| (k.into_owned(), Secret::new(v.into_owned()))).collect();
    let right = params.iter().filter(|(k, _)| k == "state").any(|(_, v)| same(v.expose().as_bytes(), state.as_bytes()));
    if !right {
        respond(&mut stream, "400 Bad Request", WRONG_PAGE).await;
        return None;
    }
    respond(&mut stream, "200 OK", DONE_PAGE).await;
    Some(Callback { path: url.path().to_string(), params })
}

enum Head {
    Complete(Zeroizing<Vec<u8>>),
    TooLarge,
    Broken,
}

/// The request head (up to the blank line), in a buffer that is wiped: it may carry secrets.
async fn read_head(stream: &mut TcpStream) -> Head {
    let mut buf = Zeroizing::new(vec![0u8; HEAD_MAX]);
    let mut len = 0;
    loop {
        if len == HEAD_MAX {
            return Head::TooLarge;
        }
        match stream.read(&mut buf[len..]).await {
            Ok(0) | Err(_) => return Head::Broken,
            Ok(n) => len += n,
        }
        if let Some(end) = buf[..len].windows(4).position(|w| w == b"\r\n\r\n") {
            buf.truncate(end);
            return Head::Complete(buf);
        }
    }
}

async fn respond(stream: &mut TcpStream, status: &str, page: &str) {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\n\
         Referrer-Policy: no-referrer\r\nConnection: close\r\n\r\n",
        page.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(page.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Equal, in a time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// 32 random letters and digits (over 190 bits) from the operating system's CSPRNG.
fn random_state() -> Result<String> {
    use ring::rand::SecureRandom;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let rng = ring::rand::SystemRandom::new();
    let mut out = String::with_capacity(32);
    while out.len() < 32 {
        let mut b = [0u8; 32];
        rng.fill(&mut b).map_err(|_| Error::input("the system's random number generator failed"))?;
        // 248 = 4 × 62: values above it are dropped so that every character is equally likely.
        out.extend(b.iter().filter(|&&x| x < 248).map(|&x| ALPHABET[(x % 62) as usize] as char));
    }
    out.truncate(32);
    Ok(out)
}

/// "5 minutes", "2 seconds".
pub fn duration_words(d: Duration) -> String {
    let secs = d.as_secs().max(1);
    let (n, unit) = if secs % 60 == 0 { (secs / 60, "minute") } else { (secs, "second") };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A raw request to the listener; the status line of its answer ("" when it could not connect).
    async fn send(port: u16, request: &[u8]) -> std::io::Result<String> {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await?;
        s.write_all(request).await?;
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    fn get(path: &str) -> Vec<u8> {
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").into_bytes()
    }

    #[tokio::test]
    async fn binds_loopback_only_with_a_long_random_state() {
        let a = Loopback::bind().await.unwrap();
        let b = Loopback::bind().await.unwrap();
        assert_eq!(a.listener.local_addr().unwrap().ip().to_string(), "127.0.0.1");
        assert!(a.state().len() >= 32 && a.state().chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a.state(), b.state());
        assert_eq!(a.url("done").as_str(), format!("http://127.0.0.1:{}/done?state={}", a.port(), a.state()));
    }

    #[tokio::test]
    async fn a_wrong_state_is_refused_and_the_right_one_ends_the_wait() {
        let l = Loopback::bind().await.unwrap();
        let (port, state) = (l.port(), l.state().to_string());
        let waiting = tokio::spawn(l.wait());
        let wrong = send(port, &get("/done?state=guess&password=x")).await.unwrap();
        assert!(wrong.starts_with("HTTP/1.1 400"), "{wrong}");
        let none = send(port, &get("/favicon.ico")).await.unwrap();
        assert!(none.starts_with("HTTP/1.1 400"), "{none}");
        let right = send(port, &get(&format!("/done?user_login=alice&password=abcd%20efgh&state={state}"))).await.unwrap();
        assert!(right.starts_with("HTTP/1.1 200"), "{right}");
        assert!(right.contains("You can close this tab and return to Keyward"));
        let cb = waiting.await.unwrap().unwrap();
        assert_eq!(cb.path, "/done");
        assert_eq!(cb.text("user_login").as_deref(), Some("alice"));
        assert_eq!(cb.get("password").unwrap().expose(), "abcd efgh");
        assert!(!format!("{cb:?}").contains("abcd"), "{cb:?}");
        // Closed: a second request cannot even connect.
        assert!(send(port, &get(&format!("/done?state={state}"))).await.is_err());
    }

    #[tokio::test]
    async fn an_oversized_request_is_refused_and_the_wait_goes_on() {
        let l = Loopback::bind().await.unwrap();
        let (port, state) = (l.port(), l.state().to_string());
        let waiting = tokio::spawn(l.wait());
        let huge = get(&format!("/done?state={state}&pad={}", "x".repeat(HEAD_MAX)));
        let answer = send(port, &huge).await.unwrap_or_default();
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 431"), "{answer}");
        let post = send(port, format!("POST /done?state={state} HTTP/1.1\r\n\r\n").as_bytes()).await.unwrap();
        assert!(post.starts_with("HTTP/1.1 405"), "{post}");
        assert!(!waiting.is_finished());
        send(port, &get(&format!("/done?state={state}"))).await.unwrap();
        assert!(waiting.await.unwrap().is_ok());
    }

    #[tokio::test]
    async fn a_silent_connection_does_not_hold_up_the_answer() {
        let l = Loopback::bind().await.unwrap();
        let (port, state) = (l.port(), l.state().to_string());
        let waiting = tokio::spawn(l.wait());
        // A browser's speculative connection that never sends anything.
        let _idle = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let ok = tokio::time::timeout(Duration::from_secs(3), send(port, &get(&format!("/?state={state}")))).await.unwrap().unwrap();
        assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
        assert!(waiting.await.unwrap().is_ok());
    }

    #[tokio::test]
    async fn the_wait_times_out_and_closes_the_port() {
        let l = Loopback::bind().await.unwrap().waiting(Duration::from_millis(300));
        let port = l.port();
        let e = l.wait().await.unwrap_err();
        assert!(e.to_string().contains("did not come back") && e.to_string().contains("nothing was stored"), "{e}");
        assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
    }

    #[tokio::test]
    async fn cancel_ends_the_wait_at_once() {
        let l = Loopback::bind().await.unwrap();
        let port = l.port();
        let cancel = l.cancel_handle();
        let waiting = tokio::spawn(l.wait());
        tokio::time::sleep(Duration::from_millis(50)).await;
        cancel.cancel();
        let e = tokio::time::timeout(Duration::from_secs(2), waiting).await.unwrap().unwrap().unwrap_err();
        assert!(e.to_string().contains("cancelled"), "{e}");
        assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
        // Cancelled before it starts: it ends as soon as it starts.
        let l = Loopback::bind().await.unwrap();
        l.cancel_handle().cancel();
        assert!(l.wait().await.is_err());
    }
}
