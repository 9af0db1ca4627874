//! The one HTTP client every provider uses, and the rules that keep a hostile server from getting
//! anything or breaking anything:
//!
//! - **Redirects** are followed here, by hand, only within the same scheme, host and port (an
//!   http → https upgrade on the same host is the one exception), and never for a request that
//!   carries a body (a password, a token, a form). A redirect elsewhere is
//!   [`Error::Redirected`]: nothing, no header, no cookie, no body, goes to the other host.
//! - **Bodies** are read streaming with a cap ([`BODY_LIMIT`], or a larger one a listing asks for
//!   with [`Http::send_limited`]) and refused past it ([`Error::TooLarge`]). Several requests can
//!   share one cap ([`Http::with_shared_cap`]: detection, where every provider probes at once).
//! - **Waits** are bounded: the first answer within [`FIRST_ANSWER_SECS`], a whole request
//!   within `KEYWARD_HTTP_TIMEOUT_SECS` (30 s by default), rate-limit waits short and few; a huge
//!   `Retry-After` is reported ([`Error::RateLimited`]), not waited for.
//! - **Transport**: an address typed with https is never followed to plain http, and plain http
//!   to a host that is not this computer needs the user's yes ([`Http::bound_to`]). TLS trusts the
//!   operating system's certificate store (`net::tls`).
//!
//! reqwest's own redirect policy is not used: it drops `Authorization` and cookies on a change of
//! host or port, but keeps them on an https → http change, keeps any other header that carries a
//! secret, and sends a 307/308 body (a password) again to wherever the server says.
//!
//! It never formats a request, its headers, its body or its full URL into an error or a log
//! line: those can carry tokens and passwords. Errors name only `host:port`.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, Request, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use url::{Host, Url};

use crate::error::{Error, Result};
use crate::model::host_of;

/// How long one request may take, unless `KEYWARD_HTTP_TIMEOUT_SECS` says otherwise.
const DEFAULT_TIMEOUT_SECS: u64 = 30;
/// How long a server may take to begin its answer (the status line), at most.
pub const FIRST_ANSWER_SECS: u64 = 15;
/// How many times a rate-limited request is retried.
const RATE_LIMIT_RETRIES: u32 = 2;
/// The longest one rate-limit wait; a server asking for more is reported, not waited for.
const RATE_LIMIT_MAX_WAIT: Duration = Duration::from_secs(10);
/// The most a rate limit is reported as (a hostile `Retry-After` can say anything).
const RATE_LIMIT_MAX_REPORTED_SECS: u64 = 24 * 60 * 60;
/// How many redirects one request follows.
const MAX_REDIRECTS: usize = 5;

const MIB: usize = 1024 * 1024;
/// The most Keyward reads of one answer unless the request asks for more.
pub const BODY_LIMIT: usize = 4 * MIB;
/// For listings that can really be large (thousands of Matrix devices with their user agents).
pub const LISTING_LIMIT: usize = 16 * MIB;

/// A configured HTTP client. Cheap to clone (the connection pool is shared).
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    /// The whole of one request: connecting, the answer, its body.
    timeout: Duration,
    /// Until the status line of the answer.
    first_answer: Duration,
    /// Follow redirects (within the origin) here; else return them as they are.
    follow: bool,
    /// What every answer read through this client may take together, when they share a cap.
    shared: Option<Arc<SharedCap>>,
    /// Which transports the requests of this client may use.
    guard: Option<Guard>,
}

/// A byte budget several requests draw on.
struct SharedCap {
    left: AtomicUsize,
    total: usize,
}

impl SharedCap {
    /// Takes `n` bytes from the budget; false when there are not that many left.
    fn take(&self, n: usize) -> bool {
        self.left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(n)).is_ok()
    }
}

/// The transport rules of a sign-in: what the user typed decides them.
#[derive(Clone, Copy)]
struct Guard {
    /// The address was typed with https: plain http is a downgrade, whatever the host.
    https_only: bool,
    /// The user said yes to plain http to a host that is not this computer.
    insecure_ok: bool,
}

/// A fully read response: status, headers, the final URL after redirects, and the body.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub url: Url,
    pub body: Vec<u8>,
}

impl Http {
    /// A client without cookies that follows redirects within the origin (for JSON APIs).
    pub fn new() -> Self {
        Self::build(true)
    }

    /// A client that returns every redirect as it is, for `net::web::WebSession`, which follows
    /// them itself and keeps the one cookie jar of a web session (so that forgetting its cookies
    /// really forgets them).
    pub fn web_session() -> Self {
        Self::build(false)
    }

    fn build(follow: bool) -> Self {
        let timeout = Duration::from_secs(
            std::env::var("KEYWARD_HTTP_TIMEOUT_SECS").ok().and_then(|v| v.parse().ok()).filter(|s| *s > 0).unwrap_or(DEFAULT_TIMEOUT_SECS),
        );
        Self::with_timeouts(follow, timeout, timeout.min(Duration::from_secs(FIRST_ANSWER_SECS)))
    }

    fn with_timeouts(follow: bool, timeout: Duration, first_answer: Duration) -> Self {
        let client = reqwest::Client::builder()
            .user_agent(concat!("Keyward/", env!("CARGO_PKG_VERSION")))
            .use_preconfigured_tls((*super::tls::client_config()).clone())
            .connect_timeout(first_answer.min(Duration::from_secs(10)))
            .timeout(timeout)
            .cookie_store(false)
            // Redirects are followed by `send`, under its rules, never by reqwest.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("the HTTP client configuration is valid");
        Http { client, timeout, first_answer, follow, shared: None, guard: None }
    }

    /// How long one request may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// How long a server may take to begin its answer.
    pub fn first_answer(&self) -> Duration {
        self.first_answer
    }

    /// This client with every answer read through it (and its clones) drawing on one budget of
    /// `total` bytes, beside each answer's own cap.
    pub fn with_shared_cap(&self, total: usize) -> Http {
        Http { shared: Some(Arc::new(SharedCap { left: AtomicUsize::new(total), total })), ..self.clone() }
    }

    /// This client for signing in at `typed`, the address as the user gave it: plain http to a
    /// host other than this computer only with `allow_insecure` ([`Error::Insecure`]), and no
    /// request of the sign-in may go to plain http when the address was typed with https (a
    /// discovery step that points there is refused).
    pub fn bound_to(&self, typed: &Url, allow_insecure: bool) -> Result<Http> {
        check_transport(typed, allow_insecure)?;
        Ok(Http { guard: Some(Guard { https_only: typed.scheme() == "https", insecure_ok: allow_insecure }), ..self.clone() })
    }

    pub fn request(&self, method: Method, url: Url) -> RequestBuilder {
        self.client.request(method, url)
    }

    pub fn get(&self, url: Url) -> RequestBuilder {
        self.client.get(url)
    }

    pub fn post(&self, url: Url) -> RequestBuilder {
        self.client.post(url)
    }

    /// Sends a request and reads the whole answer, up to [`BODY_LIMIT`]. Follows redirects within
    /// the origin; waits and retries when the server rate-limits, briefly and a bounded number of
    /// times. Transport failures become [`Error::Unreachable`] or [`Error::Timeout`]; any HTTP
    /// status is returned as it is for the provider to judge.
    pub async fn send(&self, req: RequestBuilder) -> Result<Response> {
        self.send_limited(req, BODY_LIMIT).await
    }

    /// [`Http::send`] with a body cap of `limit` bytes (for listings that can really be large).
    pub async fn send_limited(&self, req: RequestBuilder, limit: usize) -> Result<Response> {
        let mut request = req.build().map_err(|e| Error::input(format!("bad request: {}", without_url(&e))))?;
        let mut attempt = 0;
        loop {
            let retry = request.try_clone();
            let response = self.send_following(request, limit).await?;
            if response.status != StatusCode::TOO_MANY_REQUESTS {
                return Ok(response);
            }
            let wait = response.retry_after().unwrap_or(Duration::from_secs(1));
            match retry {
                Some(next) if attempt < RATE_LIMIT_RETRIES && wait <= RATE_LIMIT_MAX_WAIT => {
                    attempt += 1;
                    tracing::info!(host = %response.host(), wait_ms = wait.as_millis() as u64, attempt, "rate limited; waiting");
                    tokio::time::sleep(wait).await;
                    request = next;
                }
                _ => {
                    let secs = wait.as_secs().clamp(1, RATE_LIMIT_MAX_REPORTED_SECS);
                    return Err(Error::RateLimited { host: response.host(), secs });
                }
            }
        }
    }

    /// One request and the redirects it may follow.
    async fn send_following(&self, mut request: Request, limit: usize) -> Result<Response> {
        for _ in 0..=MAX_REDIRECTS {
            self.check(request.url())?;
            let carries_body = request.body().is_some();
            let next = request.try_clone();
            let from = request.url().clone();
            let deadline = Instant::now() + self.timeout;
            let answer = self.answer(request).await?;
            let location = answer.headers().get(reqwest::header::LOCATION).and_then(|l| l.to_str().ok()).and_then(|l| from.join(l).ok());
            let redirect = match location {
                Some(to) if self.follow && answer.status().is_redirection() => to,
                _ => return self.read(answer, deadline, limit).await,
            };
            if !stays_on(&from, &redirect) {
                return Err(Error::Redirected { host: host_of(from.as_str()), to: host_of(redirect.as_str()) });
            }
            let next = match next {
                // A body (a password, a token, a form) is never sent again, not even to the same
                // origin: the provider sees the redirect and judges it.
                Some(n) if !carries_body => n,
                _ => return self.read(answer, deadline, limit).await,
            };
            request = redirected(next, answer.status(), redirect);
        }
        Err(Error::bad_response(host_of(request.url().as_str()), "too many redirects"))
    }

    /// Sends one request and waits for the start of its answer, at most `first_answer`.
    async fn answer(&self, request: Request) -> Result<reqwest::Response> {
        let host = host_of(request.url().as_str());
        match tokio::time::timeout(self.first_answer, self.client.execute(request)).await {
            Err(_) => Err(Error::Timeout { host, secs: self.first_answer.as_secs() }),
            Ok(Err(e)) => Err(self.transport_error(&host, &e)),
            Ok(Ok(r)) => Ok(r),
        }
    }

    /// Reads an answer's body, streaming, within the caps and the request's deadline.
    async fn read(&self, answer: reqwest::Response, deadline: Instant, limit: usize) -> Result<Response> {
        let host = host_of(answer.url().as_str());
        let (status, headers, url) = (answer.status(), answer.headers().clone(), answer.url().clone());
        let body = match tokio::time::timeout_at(deadline, self.read_body(answer, &host, limit)).await {
            Err(_) => return Err(Error::Timeout { host, secs: self.timeout.as_secs() }),
            Ok(body) => body?,
        };
        Ok(Response { status, headers, url, body })
    }

    async fn read_body(&self, mut answer: reqwest::Response, host: &str, limit: usize) -> Result<Vec<u8>> {
        let too_large = |limit: usize| Error::TooLarge { host: host.to_string(), limit_mib: limit.div_ceil(MIB) as u64 };
        let announced = answer.content_length().unwrap_or(0);
        if announced > limit as u64 {
            return Err(too_large(limit));
        }
        if let Some(shared) = &self.shared {
            if announced > shared.left.load(Ordering::SeqCst) as u64 {
                return Err(too_large(shared.total));
            }
        }
        let mut body = Vec::with_capacity((announced as usize).min(64 * 1024));
        loop {
            let chunk = match answer.chunk().await {
                Ok(Some(c)) => c,
                Ok(None) => return Ok(body),
                Err(e) => return Err(self.transport_error(host, &e)),
            };
            if body.len() + chunk.len() > limit {
                return Err(too_large(limit));
            }
            if let Some(shared) = &self.shared {
                if !shared.take(chunk.len()) {
                    return Err(too_large(shared.total));
                }
            }
            body.extend_from_slice(&chunk);
        }
    }

    /// The transport rules of [`Http::bound_to`], for every request and every redirect.
    fn check(&self, url: &Url) -> Result<()> {
        let Some(guard) = self.guard else { return Ok(()) };
        if url.scheme() == "http" && guard.https_only {
            return Err(downgrade(&host_of(url.as_str())));
        }
        if url.scheme() == "http" && !guard.insecure_ok && !is_loopback(url) {
            return Err(Error::Insecure { host: host_of(url.as_str()) });
        }
        Ok(())
    }

    fn transport_error(&self, host: &str, e: &reqwest::Error) -> Error {
        if e.is_timeout() {
            return Error::Timeout { host: host.to_string(), secs: self.timeout.as_secs() };
        }
        Error::Unreachable { host: host.to_string(), reason: transport_reason(e) }
    }
}

impl Default for Http {
    fn default() -> Self {
        Self::new()
    }
}

/// The request to send after a redirect: GET for 301/302/303 (as browsers do), the same method
/// for 307/308. Only body-less requests get here, so nothing is re-sent but the headers, and
/// those only within the origin.
fn redirected(mut next: Request, status: StatusCode, to: Url) -> Request {
    let keeps_method = matches!(status, StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT);
    if !keeps_method && *next.method() != Method::HEAD {
        *next.method_mut() = Method::GET;
        next.headers_mut().remove(CONTENT_TYPE);
        next.headers_mut().remove(CONTENT_LENGTH);
    }
    *next.url_mut() = to;
    next
}

/// The error for a discovery step that points an address typed with https to plain http.
pub fn downgrade(to_host: &str) -> Error {
    Error::Refused {
        message: format!(
            "the server points Keyward to plain http ({to_host}), but the address was given with https; Keyward does not move to a connection anyone on the network can read"
        ),
        remedy: None,
    }
}

/// Is `to` on the origin of `from`: the same scheme, host and port, or the https upgrade of an
/// http address on the same host (its own port, or https's default)?
pub fn stays_on(from: &Url, to: &Url) -> bool {
    if from.host() != to.host() {
        return false;
    }
    if from.scheme() == to.scheme() {
        return from.port_or_known_default() == to.port_or_known_default();
    }
    from.scheme() == "http" && to.scheme() == "https" && (to.port_or_known_default() == Some(443) || from.port() == to.port())
}

/// Is this address this computer: 127.0.0.0/8, ::1 (or an IPv4-mapped loopback), `localhost`?
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback() || ip.to_ipv4_mapped().map(|v| v.is_loopback()).unwrap_or(false),
        Some(Host::Domain(d)) => d.trim_end_matches('.').eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Plain http is fine to this computer; to any other host only when the user said so.
pub fn check_transport(url: &Url, allow_insecure: bool) -> Result<()> {
    if url.scheme() == "http" && !allow_insecure && !is_loopback(url) {
        return Err(Error::Insecure { host: host_of(url.as_str()) });
    }
    Ok(())
}

/// The innermost cause of a transport error in plain words, without the URL.
fn transport_reason(e: &reqwest::Error) -> String {
    if let Some(tls) = super::tls::rustls_error(e) {
        return super::tls::reason(tls);
    }
    let mut chain = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        chain.push_str(&s.to_string().to_ascii_lowercase());
        chain.push(' ');
        source = s.source();
    }
    if chain.contains("connection refused") {
        "connection refused (is the server running?)".into()
    } else if chain.contains("dns error") || chain.contains("failed to lookup") || chain.contains("name or service not known") {
        "no such host".into()
    } else if chain.contains("certificate") || chain.contains("tls") || chain.contains("handshake") {
        "the secure connection failed (certificate or TLS problem)".into()
    } else if chain.contains("connection reset") || chain.contains("connection closed") || chain.contains("incomplete message") {
        "the connection was closed before the server answered".into()
    } else if e.is_body() || e.is_decode() {
        "the answer was cut off".into()
    } else {
        "the connection failed".into()
    }
}

fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(u) = e.url() {
        s = s.replace(u.as_str(), "<url>");
    }
    s
}

impl Response {
    pub fn host(&self) -> String {
        host_of(self.url.as_str())
    }

    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON of type `T`, or [`Error::BadResponse`] saying what was expected.
    pub fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            let kind = if self.looks_like_html() { "an HTML page".to_string() } else { format!("{e}") };
            Error::bad_response(self.host(), format!("expected {what}, got {kind}"))
        })
    }

    /// The body as any JSON value, if it is JSON.
    pub fn json_value(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    pub fn looks_like_html(&self) -> bool {
        let start: String = String::from_utf8_lossy(&self.body[..self.body.len().min(512)]).to_ascii_lowercase();
        start.trim_start().starts_with("<!doctype html") || start.contains("<html")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Where a redirect points, resolved against the request URL.
    pub fn location(&self) -> Option<Url> {
        self.header("location").and_then(|l| self.url.join(l).ok())
    }

    /// How long the server asks the client to wait: `Retry-After` (seconds or an HTTP date) or
    /// Matrix's `retry_after_ms` in a JSON body.
    pub fn retry_after(&self) -> Option<Duration> {
        if let Some(v) = self.headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok()) {
            if let Some(d) = parse_retry_after(v, chrono::Utc::now()) {
                return Some(d);
            }
        }
        self.json_value().and_then(|v| v.get("retry_after_ms").and_then(|ms| ms.as_u64())).map(Duration::from_millis)
    }

    /// A one-line reason for an unexpected status, from the server's JSON error if it has one.
    pub fn error_message(&self) -> String {
        if let Some(v) = self.json_value() {
            for key in ["error", "message", "reason", "detail", "error_info"] {
                if let Some(s) = v.get(key).and_then(|s| s.as_str()) {
                    return format!("HTTP {}: {}", self.status.as_u16(), one_line(s));
                }
            }
        }
        format!("HTTP {}", self.status.as_u16())
    }

    /// [`Error::Server`] for an unexpected status.
    pub fn unexpected(&self) -> Error {
        Error::Server { host: self.host(), message: self.error_message() }
    }
}

/// A `Retry-After` value: whole seconds (any number of digits: too many means "very long"), or
/// an HTTP date (a date in the past means now).
fn parse_retry_after(v: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let v = v.trim();
    if !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(v.parse::<u64>().unwrap_or(u64::MAX)));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    Some((when.with_timezone(&chrono::Utc) - now).to_std().unwrap_or(Duration::ZERO))
}

/// Collapses server text to one short line for an error message.
pub fn one_line(s: &str) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 200 {
        let cut: String = s.chars().take(200).collect();
        format!("{cut}…")
    } else {
        s
    }
}

/// Parses what a user typed as a server address: a URL, or a bare host (then https). An address
/// with a user name or password in it is refused, and never repeated back.
pub fn parse_server_url(input: &str) -> Result<Url> {
    let input = input.trim();
    if input.is_empty() {
        return Err(Error::input("give a server URL, like https://example.org"));
    }
    let shown = without_userinfo(input);
    let with_scheme = if input.contains("://") { input.to_string() } else { format!("https://{input}") };
    let mut url = Url::parse(&with_scheme).map_err(|e| Error::input(format!("{shown:?} is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::input(format!("{shown:?} is not an http or https URL")));
    }
    if url.host_str().is_none() {
        return Err(Error::input(format!("{shown:?} has no host")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::input(format!(
            "the address for {} has a user name or password in it, which Keyward refuses (it would be kept and shown in plain text); give the address without it",
            host_of(url.as_str())
        )));
    }
    url.set_query(None);
    url.set_fragment(None);
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Ok(url)
}

/// What the user typed, with anything before an `@` in the address part cut out.
fn without_userinfo(input: &str) -> String {
    let (scheme, rest) = match input.find("://") {
        Some(i) => (&input[..i + 3], &input[i + 3..]),
        None => ("", input),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}…@{}", &rest[at + 1..]),
        None => input.to_string(),
    }
}

/// `base` joined with a path relative to it (`api/x` under `https://h/sub/` is `https://h/sub/api/x`).
pub fn join(base: &Url, path: &str) -> Url {
    let mut b = base.clone();
    if !b.path().ends_with('/') {
        let p = format!("{}/", b.path());
        b.set_path(&p);
    }
    b.join(path.trim_start_matches('/')).expect("joining a relative path to a base URL")
}

/// The base URL as stored on the account: no trailing slash.
pub fn base_string(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_string()
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::Mutex;

    /// What one fake server saw: every request, raw (head and body).
    type Seen = Arc<Mutex<Vec<String>>>;

    /// A local server that answers every request with `answer(request) ` (raw HTTP), recording
    /// each request. Returns its base URL and the record.
    fn server(answer: impl Fn(&str) -> Vec<u8> + Send + 'static) -> (Url, Seen) {
        let seen: Seen = Arc::default();
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!("http://127.0.0.1:{}/", l.local_addr().unwrap().port())).unwrap();
        let log = seen.clone();
        std::thread::spawn(move || {
            for mut s in l.incoming().flatten() {
                let request = read_request(&mut s);
                log.lock().unwrap().push(request.clone());
                let _ = s.write_all(&answer(&request));
            }
        });
        (url, seen)
    }

    fn read_request(s: &mut TcpStream) -> String {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        while let Ok(n) = s.read(&mut chunk) {
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some(head_end) = text.find("\r\n\r\n") {
                let length = text[..head_end]
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)))
                    .unwrap_or(0);
                if buf.len() >= head_end + 4 + length {
                    break;
                }
            }
        }
        String::from_utf8_lossy(&buf).into_owned()
    }

    fn reply(status: &str, headers: &str, body: &str) -> Vec<u8> {
        format!("HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).into_bytes()
    }

    fn quick() -> Http {
        Http::with_timeouts(true, Duration::from_secs(5), Duration::from_secs(2))
    }

    #[test]
    fn server_url_accepts_bare_hosts_and_keeps_paths() {
        assert_eq!(parse_server_url("matrix.org").unwrap().as_str(), "https://matrix.org/");
        assert_eq!(parse_server_url("http://127.0.0.1:8008").unwrap().as_str(), "http://127.0.0.1:8008/");
        assert_eq!(parse_server_url("https://h/moodle?x=1").unwrap().as_str(), "https://h/moodle/");
        assert!(parse_server_url("ftp://h").is_err());
        assert!(parse_server_url("").is_err());
        assert!(parse_server_url("http://").is_err());
    }

    #[test]
    fn server_url_with_user_info_is_refused_without_repeating_it() {
        for typed in ["http://u:PASSWORD@127.0.0.1:8008/", "u:PASSWORD@example.org", "https://PASSWORD@example.org/x", "ftp://u:PASSWORD@h"]
        {
            let e = parse_server_url(typed).unwrap_err().to_string();
            assert!(!e.contains("PASSWORD"), "{typed}: {e}");
            assert!(!e.contains('\n'));
        }
        let e = parse_server_url("http://u:PASSWORD@127.0.0.1:8008/").unwrap_err().to_string();
        assert!(e.contains("127.0.0.1:8008") && e.contains("user name or password"), "{e}");
    }

    #[test]
    fn join_keeps_the_base_path() {
        let b = parse_server_url("https://h/moodle").unwrap();
        assert_eq!(join(&b, "/login/token.php").as_str(), "https://h/moodle/login/token.php");
    }

    #[test]
    fn an_origin_is_scheme_host_and_port_with_one_upgrade() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(stays_on(&u("https://h/a"), &u("https://h:443/b")));
        assert!(stays_on(&u("http://h/a"), &u("https://h/b")), "the https upgrade on the same host");
        assert!(stays_on(&u("http://h:8080/"), &u("https://h:8080/")));
        assert!(!stays_on(&u("https://h/"), &u("http://h/")), "a downgrade");
        assert!(!stays_on(&u("http://h:8080/"), &u("https://h:9999/")));
        assert!(!stays_on(&u("http://127.0.0.1:1/"), &u("http://127.0.0.1:2/")), "another port");
        assert!(!stays_on(&u("https://h/"), &u("https://h.evil/")));
        assert!(!stays_on(&u("https://h/"), &u("https://evil/")));
    }

    #[test]
    fn loopback_is_only_this_computer() {
        let l = |s: &str| is_loopback(&Url::parse(s).unwrap());
        assert!(
            l("http://127.0.0.1:8008/")
                && l("http://127.9.9.9/")
                && l("http://[::1]:80/")
                && l("http://localhost/")
                && l("http://LOCALHOST./")
        );
        assert!(!l("http://0.0.0.0/") && !l("http://10.0.0.1/") && !l("http://localhost.example/") && !l("http://a.localhost/"));
        assert!(!l("http://[::ffff:10.0.0.1]/") && l("http://[::ffff:127.0.0.1]/"));
    }

    #[test]
    fn plain_http_elsewhere_needs_a_yes_and_https_is_never_downgraded() {
        let u = |s: &str| Url::parse(s).unwrap();
        let http = quick();
        assert!(matches!(http.bound_to(&u("http://example.org/"), false), Err(Error::Insecure { .. })));
        let allowed = http.bound_to(&u("http://example.org/"), true).unwrap();
        assert!(allowed.check(&u("http://example.org/x")).is_ok());
        let local = http.bound_to(&u("http://127.0.0.1:8008/"), false).unwrap();
        assert!(local.check(&u("http://127.0.0.1:8008/x")).is_ok());
        assert!(matches!(local.check(&u("http://0.0.0.0:8008/x")), Err(Error::Insecure { .. })));
        let secure = http.bound_to(&u("https://example.org/"), false).unwrap();
        assert!(matches!(secure.check(&u("http://127.0.0.1:8008/")), Err(Error::Refused { .. })), "no loopback trick");
        assert!(secure.check(&u("https://matrix.example.org/")).is_ok());
    }

    #[test]
    fn retry_after_reads_seconds_dates_and_absurd_numbers() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().with_timezone(&chrono::Utc);
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Thu, 01 Jan 2026 00:01:00 GMT", now), Some(Duration::from_secs(60)));
        assert_eq!(parse_retry_after("Wed, 31 Dec 2025 00:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("99999999999999999999999999", now), Some(Duration::from_secs(u64::MAX)));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[tokio::test]
    async fn refused_connection_is_a_plain_error_without_the_url() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let http = Http::new();
        let url = Url::parse(&format!("http://127.0.0.1:{port}/x?access_token=SECRET")).unwrap();
        let err = http.send(http.get(url)).await.unwrap_err();
        let s = err.to_string();
        assert!(s.contains("cannot reach 127.0.0.1") && s.contains("refused"), "{s}");
        assert!(!s.contains("SECRET"));
    }

    #[tokio::test]
    async fn a_redirect_within_the_origin_is_followed_with_its_authorization() {
        let (url, seen) =
            server(
                |req| {
                    if req.starts_with("GET /old ") {
                        reply("302 Found", "Location: /new\r\n", "")
                    } else {
                        reply("200 OK", "", "here")
                    }
                },
            );
        let http = quick();
        let r = http.send(http.get(join(&url, "old")).bearer_auth("TOKEN")).await.unwrap();
        assert_eq!((r.status.as_u16(), r.text().as_str(), r.url.path()), (200, "here", "/new"));
        let seen = seen.lock().unwrap();
        assert!(seen[1].starts_with("GET /new ") && seen[1].to_ascii_lowercase().contains("authorization: bearer token"), "{seen:?}");
    }

    #[tokio::test]
    async fn a_redirect_to_another_port_is_refused_and_the_other_port_gets_nothing() {
        let (other, other_seen) = server(|_| reply("200 OK", "", "gotcha"));
        let to = join(&other, "steal");
        let (url, _) = server(move |_| reply("302 Found", &format!("Location: {to}\r\n"), ""));
        let http = quick();
        let e = http.send(http.get(join(&url, "x")).bearer_auth("TOKEN")).await.unwrap_err();
        assert!(matches!(&e, Error::Redirected { to, .. } if *to == host_of(other.as_str())), "{e}");
        assert!(other_seen.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_request_with_a_body_is_never_redirected() {
        let (other, other_seen) = server(|_| reply("200 OK", "", "gotcha"));
        let elsewhere = join(&other, "login");
        let (url, seen) = server(move |req| {
            if req.starts_with("POST /here ") {
                reply("307 Temporary Redirect", "Location: /again\r\n", "")
            } else {
                reply("307 Temporary Redirect", &format!("Location: {elsewhere}\r\n"), "")
            }
        });
        let http = quick();
        let e = http.send(http.post(join(&url, "login")).body("password=PW")).await.unwrap_err();
        assert!(matches!(e, Error::Redirected { .. }), "{e}");
        assert!(other_seen.lock().unwrap().is_empty(), "the password went to the other port");
        // Within the origin it is not sent again either: the caller sees the redirect.
        let r = http.send(http.post(join(&url, "here")).body("password=PW")).await.unwrap();
        assert_eq!(r.status.as_u16(), 307);
        assert_eq!(seen.lock().unwrap().iter().filter(|r| r.contains("password=PW")).count(), 2);
    }

    #[tokio::test]
    async fn a_body_past_the_cap_is_refused_whether_announced_or_streamed() {
        let (url, _) = server(|req| {
            if req.starts_with("GET /announced ") {
                b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\nConnection: close\r\n\r\nxxxx".to_vec()
            } else {
                let mut r = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
                r.extend(std::iter::repeat_n(b'x', 2 * MIB));
                r
            }
        });
        let http = quick();
        let e = http.send_limited(http.get(join(&url, "announced")), MIB).await.unwrap_err();
        assert!(matches!(e, Error::TooLarge { limit_mib: 1, .. }), "{e}");
        let e = http.send_limited(http.get(join(&url, "streamed")), MIB).await.unwrap_err();
        assert!(matches!(e, Error::TooLarge { limit_mib: 1, .. }), "{e}");
        assert_eq!(http.send_limited(http.get(join(&url, "streamed")), 3 * MIB).await.unwrap().body.len(), 2 * MIB);
    }

    #[tokio::test]
    async fn requests_sharing_a_cap_stop_when_it_is_spent() {
        let (url, _) = server(|_| {
            let mut r = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", MIB).into_bytes();
            r.extend(std::iter::repeat_n(b'x', MIB));
            r
        });
        let http = quick().with_shared_cap(2 * MIB + MIB / 2);
        let clone = http.clone();
        assert!(http.send(http.get(join(&url, "1"))).await.is_ok());
        assert!(clone.send(clone.get(join(&url, "2"))).await.is_ok());
        let e = http.send(http.get(join(&url, "3"))).await.unwrap_err();
        assert!(matches!(e, Error::TooLarge { limit_mib: 3, .. }), "{e}");
    }

    #[tokio::test]
    async fn a_server_that_never_answers_is_a_timeout_after_the_first_answer_deadline() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!("http://127.0.0.1:{}/", l.local_addr().unwrap().port())).unwrap();
        std::thread::spawn(move || {
            let held: Vec<TcpStream> = l.incoming().flatten().collect();
            drop(held);
        });
        let http = Http::with_timeouts(true, Duration::from_secs(30), Duration::from_secs(1));
        let e = http.send(http.get(url.clone())).await.unwrap_err();
        assert!(matches!(&e, Error::Timeout { secs: 1, host } if *host == host_of(url.as_str())), "{e}");
    }

    #[tokio::test]
    async fn a_huge_retry_after_is_reported_not_waited_for() {
        let (url, seen) = server(|_| reply("429 Too Many Requests", "Retry-After: 99999999999999999999\r\n", ""));
        let http = quick();
        let e = http.send(http.get(url.clone())).await.unwrap_err();
        assert!(matches!(e, Error::RateLimited { secs: RATE_LIMIT_MAX_REPORTED_SECS, .. }), "{e}");
        assert_eq!(seen.lock().unwrap().len(), 1, "it retried");
    }
}
