//! The test plays the browser for sign-ins and confirmations that go through one: `keyward`
//! running with the page it printed to open, a cookie-jar client that follows redirects by hand,
//! and a look at every process's command line for a secret.

use super::{Cli, Run};
use url::Url;

/// What `keyward add … --browser` prints before the page.
pub const APPROVE: &str = "Open this page to approve Keyward: ";

/// `keyward` running (`add --browser`, a revoke confirmed in the browser), with the page it
/// asked to open.
pub struct Approval {
    child: std::process::Child,
    pub page: String,
    stderr: std::io::BufReader<std::process::ChildStderr>,
}

impl Approval {
    /// `keyward add URL --browser --json ARGS`, waiting for the approval.
    pub fn add(cli: &Cli, url: &str, args: &[&str]) -> Self {
        let mut all = vec!["add", url, "--browser", "--json"];
        all.extend(args);
        Self::spawn(cli, &all, APPROVE)
    }

    /// `keyward ARGS`, running, once it printed the page to open (the line starting `prefix`).
    pub fn spawn(cli: &Cli, args: &[&str], prefix: &str) -> Self {
        let mut child = cli.spawn(args);
        let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        let page = loop {
            line.clear();
            let n = std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
            assert!(n > 0, "keyward ended before it printed the page: {:?}", child.wait_with_output().unwrap());
            if let Some(p) = line.trim().strip_prefix(prefix) {
                break p.to_string();
            }
        };
        Approval { child, page, stderr }
    }

    /// The page, parsed.
    pub fn url(&self) -> Url {
        Url::parse(&self.page).unwrap()
    }

    /// A parameter of the page's query ("" when it has none of that name).
    pub fn query(&self, name: &str) -> String {
        self.url().query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap_or_default()
    }

    /// The loopback address the server sends the browser back to, named by the page's parameter
    /// `name` (WordPress `success_url`, Matrix SSO `redirectUrl`, OAuth `redirect_uri`).
    pub fn back_to(&self, name: &str) -> Url {
        Url::parse(&self.query(name)).unwrap_or_else(|e| panic!("no {name} on {}: {e}", self.page))
    }

    /// Waits for keyward to end: its status, stdout and the rest of stderr.
    pub fn finish(mut self) -> Run {
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut self.stderr, &mut rest).unwrap();
        let out = self.child.wait_with_output().unwrap();
        Run { status: out.status.code().unwrap_or(-1), stdout: String::from_utf8_lossy(&out.stdout).into_owned(), stderr: rest }
    }
}

/// The test's browser: a cookie jar, no automatic redirects (each is followed by hand, as seen),
/// and no page waited for longer than a person would.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap()
}

/// Does any process's command line hold `secret`?
pub fn in_process_list(secret: &str) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        String::from_utf8_lossy(&cmdline).replace('\0', " ").contains(secret)
    })
}
