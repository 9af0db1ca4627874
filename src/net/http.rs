//! The one HTTP client every provider uses: timeouts on every request, a bounded wait-and-retry
//! when a server rate-limits (429 with `Retry-After` or Matrix's `retry_after_ms`), and errors
//! that name the host and the reason in plain words.
//!
//! It deliberately never formats a request, its headers, its body or its full URL into an error
//! or a log line: those can carry tokens and passwords. Errors name only `host:port`.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{Error, Result};
use crate::model::host_of;

/// How long one request may take, unless `KEYWARD_HTTP_TIMEOUT_SECS` says otherwise.
const DEFAULT_TIMEOUT_SECS: u64 = 30;
/// How many times a rate-limited request is retried.
const RATE_LIMIT_RETRIES: u32 = 3;
/// The longest the app waits for one rate-limit retry; beyond this it gives up and says so.
const RATE_LIMIT_MAX_WAIT: Duration = Duration::from_secs(20);

/// A configured HTTP client. Cheap to clone (the connection pool is shared).
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    timeout: Duration,
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
    /// A client without cookies, following redirects (for JSON APIs).
    pub fn new() -> Self {
        Self::build(true)
    }

    /// A client that does not follow redirects, for `net::web::WebSession`, which keeps the one
    /// cookie jar of a web session itself (so that forgetting its cookies really forgets them).
    pub fn web_session() -> Self {
        Self::build(false)
    }

    fn build(follow_redirects: bool) -> Self {
        let timeout = Duration::from_secs(
            std::env::var("KEYWARD_HTTP_TIMEOUT_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_TIMEOUT_SECS),
        );
        let redirect = if follow_redirects { reqwest::redirect::Policy::limited(5) } else { reqwest::redirect::Policy::none() };
        let client = reqwest::Client::builder()
            .user_agent(concat!("Keyward/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .cookie_store(false)
            .redirect(redirect)
            .build()
            .expect("the HTTP client configuration is valid");
        Http { client, timeout }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
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

    /// Sends a request and reads the whole answer. Waits and retries when the server rate-limits,
    /// a bounded number of times. Transport failures become [`Error::Unreachable`] or
    /// [`Error::Timeout`]; any HTTP status is returned as it is for the provider to judge.
    pub async fn send(&self, mut req: RequestBuilder) -> Result<Response> {
        let mut attempt = 0;
        loop {
            let retry = req.try_clone();
            let request = req.build().map_err(|e| Error::input(format!("bad request: {}", without_url(&e))))?;
            let host = host_of(request.url().as_str());
            let resp = match self.client.execute(request).await {
                Ok(r) => r,
                Err(e) => return Err(self.transport_error(&host, &e)),
            };
            let status = resp.status();
            let headers = resp.headers().clone();
            let url = resp.url().clone();
            let body = match resp.bytes().await {
                Ok(b) => b.to_vec(),
                Err(e) => return Err(self.transport_error(&host, &e)),
            };
            let response = Response { status, headers, url, body };
            if status == StatusCode::TOO_MANY_REQUESTS {
                let wait = response.retry_after().unwrap_or(Duration::from_secs(1));
                match retry {
                    Some(next) if attempt < RATE_LIMIT_RETRIES && wait <= RATE_LIMIT_MAX_WAIT => {
                        attempt += 1;
                        tracing::info!(%host, wait_ms = wait.as_millis() as u64, attempt, "rate limited; waiting");
                        tokio::time::sleep(wait).await;
                        req = next;
                        continue;
                    }
                    _ => {
                        return Err(Error::RateLimited { host, secs: wait.as_secs().max(1) });
                    }
                }
            }
            return Ok(response);
        }
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

/// The innermost cause of a transport error in plain words, without the URL.
fn transport_reason(e: &reqwest::Error) -> String {
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

    /// How long the server asks the client to wait: `Retry-After` (seconds) or Matrix's
    /// `retry_after_ms` in a JSON body.
    pub fn retry_after(&self) -> Option<Duration> {
        if let Some(secs) = self.headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok()) {
            return Some(Duration::from_secs(secs));
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

/// Parses what a user typed as a server address: a URL, or a bare host (then https).
pub fn parse_server_url(input: &str) -> Result<Url> {
    let input = input.trim();
    if input.is_empty() {
        return Err(Error::input("give a server URL, like https://example.org"));
    }
    let with_scheme = if input.contains("://") { input.to_string() } else { format!("https://{input}") };
    let mut url = Url::parse(&with_scheme).map_err(|e| Error::input(format!("{input:?} is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::input(format!("{input:?} is not an http or https URL")));
    }
    if url.host_str().is_none() {
        return Err(Error::input(format!("{input:?} has no host")));
    }
    url.set_query(None);
    url.set_fragment(None);
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Ok(url)
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
mod tests {
    use super::*;

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
    fn join_keeps_the_base_path() {
        let b = parse_server_url("https://h/moodle").unwrap();
        assert_eq!(join(&b, "/login/token.php").as_str(), "https://h/moodle/login/token.php");
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
}
