//! Helpers shared by the integration tests: run the real `keyward` binary with its own config
//! directory and its own keyring service name (so tests running at once never see each other's
//! accounts), and read the addresses of the test servers that `make test` started.
#![allow(dead_code)]

pub mod browser;
pub mod sim;
pub mod synapse;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// True (after saying so) when the real test server named by `var` was not started, so the
/// calling test should return at once: `cargo test` alone runs without the real servers and lists
/// what it skipped. Under `make test` (`KEYWARD_REQUIRE_SERVERS=1`) a missing server is a failure.
pub fn skip_without(var: &str) -> bool {
    if std::env::var(var).is_ok_and(|v| !v.is_empty()) {
        return false;
    }
    if std::env::var("KEYWARD_REQUIRE_SERVERS").is_ok_and(|v| v == "1") {
        panic!("{var} is not set, and `make test` requires every real test server: see scripts/test.sh");
    }
    let test = std::thread::current().name().unwrap_or("a test").to_string();
    // Straight to stderr, past the test harness's capture, so a plain `cargo test` shows it.
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("skipped: {test} needs {var} (a real server: `make test` starts it)\n").as_bytes(),
    );
    true
}

/// The value of an environment variable that `make test` sets; a clear panic otherwise.
pub fn env(name: &str) -> String {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!("{name} is not set: these tests need the servers that `make test` starts (scripts/test.sh)"),
    }
}

/// A random lowercase name, for users and labels that must not clash between tests.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}{:08x}", rand::random::<u32>())
}

/// The `keyward` CLI with a private config directory and keyring service.
pub struct Cli {
    config: tempfile::TempDir,
    service: String,
    extra_env: Vec<(String, String)>,
}

/// What one run printed and how it ended.
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.status == 0
    }

    /// Panics with everything printed unless the run succeeded.
    #[track_caller]
    pub fn expect_ok(self) -> Self {
        assert!(self.ok(), "keyward failed ({}):\nstdout: {}\nstderr: {}", self.status, self.stdout, self.stderr);
        self
    }

    /// Panics unless the run failed with exactly one line on stderr; returns that line.
    #[track_caller]
    pub fn expect_err(self) -> String {
        assert!(!self.ok(), "keyward should have failed:\nstdout: {}\nstderr: {}", self.stdout, self.stderr);
        let lines: Vec<&str> = self.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "expected one line on stderr, got: {:?}", self.stderr);
        lines[0].to_string()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

impl Default for Cli {
    fn default() -> Self {
        Self::new()
    }
}

impl Cli {
    pub fn new() -> Self {
        Cli { config: tempfile::tempdir().unwrap(), service: unique("keyward-test-"), extra_env: Vec::new() }
    }

    pub fn config_dir(&self) -> &Path {
        self.config.path()
    }

    pub fn keyring_service(&self) -> &str {
        &self.service
    }

    /// An extra environment variable for every run (e.g. to break the keyring on purpose).
    pub fn with_env(mut self, k: &str, v: &str) -> Self {
        self.extra_env.push((k.into(), v.into()));
        self
    }

    pub fn binary() -> PathBuf {
        PathBuf::from(env!("CARGO_BIN_EXE_keyward"))
    }

    /// Starts `keyward ARGS` and leaves it running (for `watch`), with stdin closed and stdout
    /// and stderr piped. The caller kills it.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::null());
        cmd.spawn().expect("start keyward")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(Self::binary());
        cmd.args(args)
            .env("KEYWARD_CONFIG_DIR", self.config.path())
            .env("KEYWARD_KEYRING_SERVICE", &self.service)
            .env("KEYWARD_HTTP_TIMEOUT_SECS", "10")
            .env_remove("KEYWARD_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `keyward ARGS`, feeding `stdin` when given (else an empty, closed stdin).
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut cmd = self.command(args);
        let mut child = cmd.spawn().expect("start keyward");
        {
            let mut input = child.stdin.take().unwrap();
            if let Some(s) = stdin {
                let _ = input.write_all(s.as_bytes());
            }
        }
        let Output { status, stdout, stderr } = child.wait_with_output().expect("wait for keyward");
        Run {
            status: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }

    /// Every file under the config directory, with its contents, for "no secret on disk" checks.
    pub fn config_files(&self) -> Vec<(PathBuf, String)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    let content = String::from_utf8_lossy(&std::fs::read(&p).unwrap_or_default()).into_owned();
                    out.push((p, content));
                }
            }
        }
        let mut out = Vec::new();
        walk(self.config.path(), &mut out);
        out
    }

    /// The secret stored in the (test) keyring for an account id, read with `secret-tool`.
    pub fn keyring_entry(&self, account_id: &str) -> Option<String> {
        let out = Command::new("secret-tool").args(["lookup", "service", &self.service, "username", account_id]).output().ok()?;
        if out.status.success() && !out.stdout.is_empty() {
            Some(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            None
        }
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let p = l.local_addr().unwrap().port();
    drop(l);
    p
}

/// A local HTTP server that gives every request the same answer (`status` like "404 Not Found",
/// a content type, a body), for "this is not that kind of server" tests. It lives for the rest of
/// the test process. Returns its base URL.
pub fn serve(status: &str, content_type: &str, body: impl Into<String>) -> String {
    use std::io::{Read, Write};
    let body = body.into();
    let answer =
        format!("HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", l.local_addr().unwrap().port());
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(answer.as_bytes());
        }
    });
    url
}

/// An ordinary web page that is no kind of server Keyward knows.
pub fn serve_html(body: &str) -> String {
    serve("200 OK", "text/html", body)
}
