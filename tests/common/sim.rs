//! A simulated server from `tests/sim/<name>.py`, for the kinds that cannot be installed here
//! (Moodle, Phorge, Hypothesis): started on a free port for one test, reached through its
//! `/__sim/*` test helpers for checks "on the server", and stopped (by its PID) when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub struct Sim {
    child: Child,
    pub port: u16,
}

impl Sim {
    /// Starts `tests/sim/<name>.py` with `flags` and waits for the port it prints.
    pub fn start(name: &str, flags: &[&str]) -> Self {
        let script = format!("{}/tests/sim/{name}.py", env!("CARGO_MANIFEST_DIR"));
        let mut child = Command::new("python3")
            .arg(&script)
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start python3 {script}: {e}"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("the simulator prints its port");
        let port = line.trim().strip_prefix("PORT ").and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("simulator said {line:?}"));
        Sim { child, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// One request to the simulator, its answer as JSON.
    pub fn request(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        block_on(async {
            let c = reqwest::Client::new();
            let mut req = c.request(method.parse().unwrap(), format!("{}{path}", self.url()));
            if let Some(b) = body {
                req = req.json(&b);
            }
            req.send().await.unwrap().json::<Value>().await.unwrap()
        })
    }

    /// The simulated server's state (`GET /__sim/state`).
    pub fn state(&self) -> Value {
        self.request("GET", "/__sim/state", None)
    }

    /// Changes the simulator's variants (`POST /__sim/config`).
    pub fn config(&self, v: Value) {
        self.request("POST", "/__sim/config", Some(v));
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `f` to the end on a runtime of its own (tests are synchronous).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}
