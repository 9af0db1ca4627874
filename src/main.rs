//! The `keyward` command line: the same core as the desktop app, for people who live in a
//! terminal and for scripts (`--json`).
//!
//! Secrets are read from standard input (`--password-stdin`, `--token-stdin`, `--code-stdin`, one
//! per line in that order) or from a prompt that does not echo, never from arguments. Every
//! failure prints one line on stderr — the core's sentence, then what to do in this CLI's own
//! words (its flags; the core's errors never name them) — and exits non-zero; nothing is changed
//! by a command that fails. Everything a server said (ids, names, user ids, notes, error text)
//! goes through `keyward::text` before the terminal sees it; the full values are in `--json`.
//!
//! Screen-share-safe mode (`--safe`, or `keyward safe-mode on` until switched off): everything
//! printed, `--json`, reports and error lines included, goes through the core's masker
//! ([`keyward::mask`]) first, so the output can be pasted or shown to a helper.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use chrono::Utc;
use clap::{Parser, Subcommand};
use keyward::error::Remedy;
use keyward::insight::watcher::Watcher;
use keyward::mask::{Mask, Masker};
use keyward::model::{Account, Gap, Kind};
use keyward::provider::{Proof, SignInSecret};
use keyward::secret::Secret;
use keyward::service::{AddAccount, AddInBrowser, Keyward, RevokeReport};
use keyward::view::{self, CredentialRow};
use keyward::{providers, text, Error};

#[derive(Parser)]
#[command(name = "keyward", version, about = "See everyone who can get into your accounts, and throw them out.")]
struct Cli {
    /// Screen-share-safe output: IP and e-mail addresses, other people's user ids and host
    /// names, and credential ids are masked (•••); names, clients and times stay.
    #[arg(long, global = true)]
    safe: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sign in to an account and remember it (the app's own credential goes to the OS keyring).
    Add {
        /// The server's URL or name (https://matrix.example.org, example.org).
        url: String,
        /// The user name to sign in with (with --browser: the one you will approve as, if you
        /// want that checked).
        #[arg(long, required_unless_present = "browser")]
        user: Option<String>,
        /// The kind of server (`keyward kinds` lists them); detected from the server when omitted.
        #[arg(long)]
        kind: Option<Kind>,
        /// Read the password from standard input (first line).
        #[arg(long, conflicts_with = "token_stdin")]
        password_stdin: bool,
        /// Read an access token (or app password) from standard input instead of a password.
        #[arg(long)]
        token_stdin: bool,
        /// Read a one-time code from the second factor from standard input (the line after the
        /// password).
        #[arg(long)]
        code_stdin: bool,
        /// Approve Keyward in your browser on the server's own page instead of giving a password
        /// or token here (opens $BROWSER, else the desktop's opener).
        #[arg(long, conflicts_with_all = ["password_stdin", "token_stdin", "code_stdin"])]
        browser: bool,
        /// With --browser: sign on through this identity provider of the server's single sign-on
        /// (`keyward detect URL --json` lists them as `choices`); else the server asks.
        #[arg(long, requires = "browser")]
        idp: Option<String>,
        /// How long --browser waits for the browser to come back, in seconds.
        #[arg(long, env = "KEYWARD_BROWSER_WAIT_SECS", default_value_t = 300, hide = true)]
        browser_wait_secs: u64,
        /// Allow a sign-in that ends another of your sessions (a site that limits how many
        /// sessions an account may have at once).
        #[arg(long)]
        allow_ending_a_session: bool,
        /// Allow plain http to a host that is not this computer (anyone on the network can read it).
        #[arg(long)]
        allow_http: bool,
        /// A name for the account, used instead of <user>@<host:port>.
        #[arg(long)]
        label: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The kinds of server Keyward can manage.
    Kinds {
        #[arg(long)]
        json: bool,
    },
    /// The accounts Keyward is signed in to.
    Accounts {
        #[arg(long)]
        json: bool,
    },
    /// Forget an account (its keyring entry too).
    Remove {
        account: String,
        /// Also end Keyward's own session on the server.
        #[arg(long)]
        sign_out: bool,
    },
    /// Everything that can get into one account, or into all of them.
    List {
        account: Option<String>,
        #[arg(long)]
        json: bool,
        /// Show the last listing saved, without asking the servers.
        #[arg(long)]
        cached: bool,
        /// Another user of the account's server (an administrator's account): their sessions
        /// and tokens instead of the account's own (a Matrix localpart, a JupyterHub or WordPress
        /// user name).
        #[arg(long, value_name = "NAME", conflicts_with = "cached")]
        user: Option<String>,
    },
    /// Rename a credential (where the server allows it).
    Rename {
        account: String,
        credential_id: String,
        new_name: String,
        /// Read a one-time code from the second factor from standard input, for servers that ask.
        #[arg(long)]
        code_stdin: bool,
    },
    /// Revoke (sign out, delete) credentials of one account. Irreversible: needs --yes.
    Revoke {
        account: String,
        /// The ids `keyward list` shows.
        #[arg(required_unless_present = "all_others")]
        credential_ids: Vec<String>,
        /// Sign out every other session of the account (never Keyward's own).
        #[arg(long, conflicts_with = "credential_ids")]
        all_others: bool,
        /// Read the account's password from standard input, for servers that ask for it.
        #[arg(long)]
        password_stdin: bool,
        /// Read a one-time code from the second factor from standard input (the line after the
        /// password), for servers that ask.
        #[arg(long)]
        code_stdin: bool,
        /// Allow revoking Keyward's own session (the account is then signed out of Keyward).
        #[arg(long)]
        include_this_app: bool,
        /// Revoke credentials of another user of the account's server (an administrator's
        /// account), as `keyward list ACCOUNT --user NAME` shows them.
        #[arg(long, value_name = "NAME", conflicts_with_all = ["all_others", "include_this_app"])]
        user: Option<String>,
        /// Confirm: revoking cannot be undone.
        #[arg(long)]
        yes: bool,
        #[arg(long)]
        json: bool,
    },
    /// What deserves attention across every account, ranked, with what to do about each.
    Checkup {
        account: Option<String>,
        #[arg(long)]
        json: bool,
        /// Use the last listings saved, without asking the servers.
        #[arg(long)]
        cached: bool,
    },
    /// Call a checkup finding fine: it is not raised again until the credential changes.
    Dismiss {
        account: String,
        credential_id: String,
        /// The finding's code (new, unrecognised, inactive, never_used, duplicate_client, no_expiry, expiring).
        code: String,
    },
    /// What appeared, disappeared or was used from a new address since you last looked
    /// (refreshes first; then marks them seen).
    Changes {
        account: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Keep watch: refresh every account every few minutes and print each change once, as it is
    /// found, until stopped (changes stay unseen for `keyward changes` and the app).
    Watch {
        /// Minutes between refreshes of each account (fractions allowed).
        #[arg(long, default_value_t = 15.0)]
        interval: f64,
        /// One JSON object per line for each change.
        #[arg(long)]
        json: bool,
    },
    /// Whose token is this? Reads a token from standard input and finds its account and session.
    Identify {
        /// Read the token from standard input (first line). Required: a token never goes in argv.
        #[arg(long, required = true)]
        token_stdin: bool,
        /// Revoke exactly that credential (needs --yes).
        #[arg(long)]
        revoke: bool,
        /// Read the account's password from standard input (the line after the token), for
        /// servers that ask before they revoke.
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        yes: bool,
        #[arg(long)]
        json: bool,
    },
    /// Every rename and revoke done through Keyward.
    History {
        #[arg(long)]
        json: bool,
    },
    /// A report for a person helping you: what the checkup found and what was done (no secrets).
    Report {
        /// markdown (default), html or json.
        #[arg(long, default_value = "markdown")]
        format: String,
        /// Write to this file instead of standard output.
        #[arg(short = 'o', long = "output")]
        output: Option<std::path::PathBuf>,
    },
    /// Tell what kind of server is at a URL, and the ways it offers to sign in.
    Detect {
        url: String,
        /// The kind, the base URL and the sign-in methods the server offers, as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Give an account a label, or clear it with an empty one.
    Label { account: String, label: String },
    /// Screen-share-safe mode for every command and the app, until switched off: `on`, `off`,
    /// or nothing to see whether it is on.
    SafeMode { state: Option<OnOff> },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum OnOff {
    On,
    Off,
}

fn main() -> ExitCode {
    keyward::process::harden();
    keyward::process::one_line_panics("keyward");
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("KEYWARD_LOG").unwrap_or_else(|_| "off".into()))
        .with_writer(io::stderr)
        // Colours only for a person at a terminal: a log file or a test reads plain text.
        .with_ansi(io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(line) => {
            eprintln!("keyward: {line}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one command; a failure comes back as its one line, already as it may be shown.
async fn run(cli: Cli) -> Result<ExitCode, String> {
    let kw = Keyward::open().map_err(|e| say(&e))?;
    let mut out = Shown::new(&kw, cli.safe).map_err(|e| say(&e))?;
    match command(&kw, &mut out, cli.command).await {
        Ok(code) => Ok(code),
        Err(e) => Err(out.text(&say(&e))),
    }
}

/// What this run shows goes through here: masked when screen-share-safe mode is on (`--safe`,
/// or the setting), as it is otherwise.
struct Shown {
    masker: Option<Masker>,
}

impl Shown {
    fn new(kw: &Keyward, safe: bool) -> Result<Shown, Error> {
        Ok(Shown { masker: kw.face_masker(safe)? })
    }

    fn safe(&self) -> bool {
        self.masker.is_some()
    }

    fn value<T: Mask>(&mut self, v: T) -> T {
        match &mut self.masker {
            Some(m) => v.mask(m),
            None => v,
        }
    }

    fn text(&mut self, s: &str) -> String {
        match &mut self.masker {
            Some(m) => m.text(s),
            None => s.to_string(),
        }
    }

    fn revoke_report(&mut self, account_id: &str, r: RevokeReport) -> RevokeReport {
        match &mut self.masker {
            Some(m) => m.revoke_report(account_id, &r),
            None => r,
        }
    }

    /// An account's error line, as `keyward: <account>: <why>` shows it.
    fn account_error(&mut self, account: &Account, e: &Error) -> String {
        self.text(&format!("{}: {}", text::field(&account.name()), say(e)))
    }
}

async fn command(kw: &Keyward, out: &mut Shown, command: Command) -> Result<ExitCode, Error> {
    match command {
        Command::Add {
            url,
            user,
            kind,
            password_stdin,
            token_stdin,
            code_stdin,
            browser,
            idp,
            browser_wait_secs,
            allow_ending_a_session,
            allow_http,
            label,
            json,
        } => {
            let account = if browser {
                let wait = std::time::Duration::from_secs(browser_wait_secs.max(1));
                let request = AddInBrowser { url, kind, login: user, label, allow_insecure: allow_http, wait: Some(wait), choice: idp };
                add_in_browser(kw, request).await?
            } else {
                let user = user.unwrap_or_default();
                let secret = if token_stdin {
                    SignInSecret::Token(read_secret(true, "Access token")?)
                } else {
                    SignInSecret::Password(read_secret(password_stdin, &format!("Password for {user}"))?)
                };
                let code = if code_stdin { Some(read_secret(true, "One-time code")?) } else { None };
                // On a terminal, the server's question for a code is asked when it comes, while
                // the sign-in waits (asking afterwards would mean a second login).
                let ask_code: Option<std::sync::Arc<dyn keyward::provider::AskCode>> =
                    if code.is_none() && io::stdin().is_terminal() { Some(std::sync::Arc::new(TerminalCode)) } else { None };
                let request = AddAccount {
                    kind,
                    label,
                    code,
                    allow_ending_sessions: allow_ending_a_session,
                    allow_insecure: allow_http,
                    ask_code,
                    ..AddAccount::new(url, user, secret)
                };
                kw.add(request).await?
            };
            if json {
                print_json(&account_json(kw, out, &account));
            } else {
                let line = format!(
                    "Added {} ({} at {})",
                    text::field(&account.name()),
                    account.kind.display_name(),
                    text::field(&account.base_url)
                );
                println!("{}", out.text(&line));
            }
        }
        Command::Kinds { json } => {
            let kinds = kw.kinds();
            if json {
                print_json(&kinds);
            } else {
                let rows: Vec<Vec<String>> =
                    kinds.iter().map(|k| vec![k.kind.to_string(), k.display_name.clone(), k.capabilities.sign_in.join(", ")]).collect();
                print_table(&["KIND", "NAME", "SIGNS IN WITH"], &rows);
            }
        }
        Command::Accounts { json } => {
            let accounts = kw.accounts()?;
            if json {
                print_json(&accounts.iter().map(|a| account_json(kw, out, a)).collect::<Vec<_>>());
            } else if accounts.is_empty() {
                println!("No accounts yet: add one with `keyward add <URL> --user <NAME>`.");
            } else {
                let rows: Vec<Vec<String>> = accounts
                    .iter()
                    .map(|a| {
                        vec![
                            out.text(&text::field(&a.name())),
                            a.kind.display_name().to_string(),
                            out.text(&text::field(&a.base_url)),
                            out.text(&text::field(&a.user_id)),
                            if a.signed_in { "signed in".into() } else { "needs sign-in".into() },
                        ]
                    })
                    .collect();
                print_table(&["ACCOUNT", "KIND", "SERVER", "USER", "STATE"], &rows);
            }
        }
        Command::Remove { account, sign_out } => {
            let a = kw.remove(&account, sign_out).await?;
            let name = out.text(&text::field(&a.name()));
            if sign_out {
                println!("Signed Keyward out of {name} and forgot the account");
            } else {
                println!("Forgot {name} (Keyward's session on the server stays until it expires or you sign it out)");
            }
        }
        Command::List { account, json, cached: _, user: Some(user) } => {
            let Some(account) = account else {
                return Err(Error::input("name the administrator's account to look from: keyward list ACCOUNT --user NAME"));
            };
            let shown = out.value(kw.list_user(&account, &user).await?);
            let notes: Vec<String> = shown.gaps.iter().map(|g| format!("{}: {}", text::field(&shown.user), gap_words(g))).collect();
            if json {
                print_json(&shown.rows);
            } else {
                println!("{} on the server of {}:", text::field(&shown.user), text::field(&shown.account.name));
                print_rows(&shown.rows, &notes, 0);
            }
        }
        Command::List { account, json, cached, user: None } => {
            let accounts = match &account {
                Some(name) => vec![kw.find(name)?],
                None => kw.accounts()?,
            };
            let results = if cached {
                accounts
                    .iter()
                    .map(|a| kw.cached(a).and_then(|l| l.ok_or_else(|| Error::input(format!("{} has not been listed yet", a.name())))))
                    .collect()
            } else {
                kw.refresh_many(&accounts).await
            };
            let now = Utc::now();
            let mut rows: Vec<CredentialRow> = Vec::new();
            let mut failed = 0;
            let mut notes = Vec::new();
            for (a, r) in accounts.iter().zip(results) {
                match r {
                    Ok(listing) => {
                        rows.extend(out.value(view::rows(a, &listing, now)));
                        notes.extend(listing.gaps.iter().map(|g| out.text(&format!("{}: {}", text::field(&a.name()), gap_words(g)))));
                    }
                    Err(e) => {
                        failed += 1;
                        eprintln!("keyward: {}", out.account_error(a, &e));
                    }
                }
            }
            if json {
                print_json(&rows);
            } else {
                print_rows(&rows, &notes, failed);
            }
            if failed > 0 {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Rename { account, credential_id, new_name, code_stdin } => {
            let proof = Proof { code: if code_stdin { Some(read_secret(true, "One-time code")?) } else { None }, ..Proof::default() };
            kw.rename(&account, &credential_id, &new_name, &proof).await?;
            println!("{}", out.text(&format!("Renamed {} to {:?}", text::field(&credential_id), text::field(&new_name))));
        }
        Command::Revoke { account, credential_ids, user: Some(user), code_stdin, password_stdin, yes, json, .. } => {
            if !yes {
                return Err(Error::input(format!(
                    "revoking cannot be undone: to revoke {} of {} (from {account}), add --yes",
                    credential_ids.iter().map(|i| text::field(i)).collect::<Vec<_>>().join(", "),
                    text::field(&user)
                )));
            }
            let password = if password_stdin { Some(read_secret(true, "Password")?) } else { None };
            let code = if code_stdin { Some(read_secret(true, "One-time code")?) } else { None };
            let report = kw.revoke_user(&account, &user, &credential_ids, &Proof { password, code, confirm: None }).await?;
            let report = out.revoke_report(&kw.find(&account)?.id, report);
            print_report(&report, json);
            if !report.all_ok() {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Revoke { account, credential_ids, all_others, password_stdin, code_stdin, include_this_app, yes, json, user: None } => {
            if !yes {
                let a = kw.find(&account)?;
                let what = if all_others { "every other session".to_string() } else { credential_ids.join(", ") };
                let warnings = revoke_warnings(kw, &a, &credential_ids);
                let note = if warnings.is_empty() { String::new() } else { format!(" (note: {})", warnings.join("; ")) };
                return Err(Error::input(format!("revoking cannot be undone: to revoke {what} of {}, add --yes{note}", a.name())));
            }
            let needs_password = {
                let a = kw.find(&account)?;
                let kind_says = providers::get(a.kind)?.capabilities().revoke_needs_password;
                // The last listing knows better (an account signed in by single sign-on has none).
                let listing = match kw.cached(&a).ok().flatten() {
                    Some(l) => Some(l),
                    // Asked only where the answer decides whether to ask for the password.
                    None if !password_stdin && kind_says && io::stdin().is_terminal() => kw.refresh(&a).await.ok(),
                    None => None,
                };
                match listing {
                    Some(l) if all_others => l.account_actions.revoke_all_others_needs_password,
                    Some(l) if credential_ids.iter().all(|id| l.credentials.iter().any(|c| &c.id == id)) => {
                        l.credentials.iter().filter(|c| credential_ids.contains(&c.id)).any(|c| c.actions.revoke_needs_password)
                    }
                    _ => kind_says,
                }
            };
            let password = if password_stdin {
                Some(read_secret(true, "Password")?)
            } else if needs_password && io::stdin().is_terminal() {
                Some(read_secret(false, &format!("Password for {account}"))?)
            } else {
                None
            };
            let code = if code_stdin { Some(read_secret(true, "One-time code")?) } else { None };
            let proof = Proof { password, code, confirm: Some(std::sync::Arc::new(ConfirmHere)) };
            let report = if all_others {
                kw.revoke_all_others(&account, &proof).await?
            } else {
                kw.revoke(&account, &credential_ids, &proof, include_this_app).await?
            };
            open_confirm_pages(out, &report);
            let report = out.revoke_report(&kw.find(&account)?.id, report);
            print_report(&report, json);
            if !report.all_ok() {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Checkup { account, json, cached } => {
            if !cached {
                let accounts = match &account {
                    Some(name) => vec![kw.find(name)?],
                    None => kw.accounts()?,
                };
                for (a, r) in accounts.iter().zip(kw.refresh_many(&accounts).await) {
                    if let Err(e) = r {
                        eprintln!("keyward: {} (the checkup uses its last listing)", out.account_error(a, &e));
                    }
                }
            }
            let findings = out.value(kw.checkup(account.as_deref())?);
            if json {
                print_json(&findings);
            } else if findings.is_empty() {
                println!("Nothing needs attention.");
            } else {
                let rows: Vec<Vec<String>> = findings
                    .iter()
                    .map(|f| {
                        vec![
                            f.account.clone(),
                            text::field(&f.credential_id),
                            f.code.as_str().to_string(),
                            text::line(&f.reason, text::LINE_MAX),
                        ]
                    })
                    .collect();
                print_table(&["ACCOUNT", "ID", "FINDING", "WHY"], &rows);
                // What each kind of credential is, once per kind found, for a person new to it.
                let mut guides: Vec<&str> = Vec::new();
                for f in &findings {
                    if !f.guide.is_empty() && !guides.contains(&f.guide.as_str()) {
                        guides.push(&f.guide);
                    }
                }
                for guide in guides {
                    println!();
                    println!("{}", text::line(guide, 2000));
                }
            }
        }
        Command::Dismiss { account, credential_id, code } => {
            let code = keyward::insight::checkup::Code::ALL
                .into_iter()
                .find(|c| c.as_str() == code.trim())
                .ok_or_else(|| Error::input(format!("unknown finding code {code:?}")))?;
            let f = out.value(kw.dismiss(&account, &credential_id, code)?);
            println!("{}: {} is fine; the checkup will not raise it again unless it changes", f.account, text::field(&f.credential_id));
        }
        Command::Changes { account, json } => {
            let accounts = match &account {
                Some(name) => vec![kw.find(name)?],
                None => kw.accounts()?,
            };
            let mut failed = false;
            for (a, r) in accounts.iter().zip(kw.refresh_many(&accounts).await) {
                if let Err(e) = r {
                    failed = true;
                    eprintln!("keyward: {}", out.account_error(a, &e));
                }
            }
            let changes = out.value(kw.changes(account.as_deref())?);
            if json {
                print_json(&changes);
            } else if changes.is_empty() {
                println!("Nothing changed since you last looked.");
            } else {
                for c in &changes {
                    println!("{}: {}", text::field(&c.account), text::line(&c.words, text::LINE_MAX));
                }
            }
            kw.mark_changes_seen(account.as_deref())?;
            if failed {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Watch { interval, json } => return watch(kw, out.safe(), interval, json).await,
        Command::Identify { token_stdin: _, revoke, password_stdin, yes, json } => {
            if revoke && !yes {
                return Err(Error::input("revoking cannot be undone: to revoke the credential this token belongs to, add --yes"));
            }
            let token = read_secret(true, "Token")?;
            let password = if password_stdin { Some(read_secret(true, "Password")?) } else { None };
            let proof = Proof { password, code: None, confirm: Some(std::sync::Arc::new(ConfirmHere)) };
            let id = kw.identify(&token, revoke, &proof).await?;
            drop(token);
            // The page opens as it is; what is printed is masked like the rest.
            if let Some(page) = &id.confirm_url {
                eprintln!("Open this page to end the session: {}", out.text(page));
                open_in_browser(page);
            }
            let id = out.value(id);
            if json {
                print_json(&serde_json::json!({
                    "kind": id.kind.map(|k| k.as_str()),
                    "account": id.account,
                    "credential_id": id.credential_id,
                    "name": id.name,
                    "summary": id.summary,
                    "valid": id.valid,
                    "revoked": id.revoked,
                    "confirm_url": id.confirm_url,
                    "what": id.what,
                    "candidates": id.candidates,
                }));
            } else {
                let validity = match id.valid {
                    Some(true) => "still valid",
                    Some(false) => "no longer valid",
                    None => "validity unknown",
                };
                match (&id.account, &id.credential_id) {
                    (Some(a), Some(c)) => {
                        let what = id.name.clone().map(|n| format!("{} ({c})", text::field(&n))).unwrap_or_else(|| c.clone());
                        println!("A {} of {a}: {what}", id.what);
                        if let Some(s) = &id.summary {
                            println!("  {}", text::field(s));
                        }
                        let done = match (id.revoked, &id.confirm_url) {
                            (true, _) => "; revoked now",
                            (false, Some(_)) => "; it ends once you confirm the sign-out on the server's page",
                            (false, None) => "",
                        };
                        println!("  {validity}{done}");
                    }
                    _ if id.kind.is_some() => println!("It looks like a {}, but it is not one of your accounts' ({validity}).", id.what),
                    _ => println!("Not recognised: {}.", id.what),
                }
            }
        }
        Command::History { json } => {
            let h = out.value(kw.history()?);
            if json {
                print_json(&h);
            } else if h.is_empty() {
                println!("Nothing was renamed or revoked through Keyward yet.");
            } else {
                let rows: Vec<Vec<String>> = h
                    .iter()
                    .map(|e| {
                        vec![
                            e.at.format("%Y-%m-%d %H:%M").to_string(),
                            match &e.user {
                                Some(u) => format!("{} (user {})", e.account, text::field(u)),
                                None => e.account.clone(),
                            },
                            text::field(e.name.as_deref().unwrap_or(&e.credential_id)),
                            e.action.past_tense().to_string(),
                            text::field(e.result()),
                        ]
                    })
                    .collect();
                print_table(&["WHEN (UTC)", "ACCOUNT", "CREDENTIAL", "DONE", "RESULT"], &rows);
            }
        }
        Command::Report { format, output } => {
            let format: keyward::insight::report::Format = format.parse().map_err(Error::input)?;
            let text = out.value(kw.report()?).render(format);
            match output {
                Some(path) => {
                    std::fs::write(&path, text).map_err(|e| Error::input(format!("cannot write {}: {e}", path.display())))?;
                    println!("Wrote the report to {}", path.display());
                }
                None => print!("{text}"),
            }
        }
        Command::Detect { url, json: true } => {
            print_json(&kw.sign_in_options(&url, None).await?);
        }
        Command::Detect { url, json: false } => {
            let (kind, base) = kw.detect(&url).await?;
            println!("{}", out.text(&format!("{} at {}", kind, text::field(base.as_str().trim_end_matches('/')))));
        }
        Command::Label { account, label } => {
            let a = kw.set_label(&account, Some(&label))?;
            println!("{}", out.text(&format!("{} is now named {}", text::field(&a.default_name()), text::field(&a.name()))));
        }
        Command::SafeMode { state } => {
            let on = match state {
                Some(s) => kw.set_safe_mode(matches!(s, OnOff::On))?,
                None => kw.safe_mode()?,
            };
            if on {
                println!("Screen-share-safe mode is on: every command (and the app) masks IP and e-mail addresses, other people's user ids and host names, and credential ids, until `keyward safe-mode off`.");
            } else {
                println!(
                    "Screen-share-safe mode is off{}.",
                    if out.safe() { " (this command's --safe masks its own output only)" } else { "" }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `keyward add --browser`: the server's approval page, opened in the browser, then the wait
/// for the browser to come back (Ctrl-C ends it; nothing is stored then).
async fn add_in_browser(kw: &Keyward, request: AddInBrowser) -> Result<Account, Error> {
    let pending = kw.start_browser_add(request).await?;
    // The page is the account's own server's (the core checked): printed whole, for copying.
    eprintln!("Open this page to approve Keyward: {}", pending.page);
    open_in_browser(pending.page.as_str());
    kw.finish_browser_add(pending).await
}

/// The server's pages on which sessions end once the user confirms there (Matrix next-gen
/// auth): each printed on stderr and opened in the browser, one after another.
fn open_confirm_pages(out: &mut Shown, report: &RevokeReport) {
    let pages: Vec<&str> = report.results.iter().filter_map(|r| r.confirm_url.as_deref()).collect();
    for url in &pages {
        eprintln!("Open this page to end the session: {}", out.text(url));
        open_in_browser(url);
    }
    if pages.len() > 1 {
        eprintln!("Each of these {} sessions ends only once you confirm it on its own page.", pages.len());
    }
}

/// A step the server wants confirmed in the browser (single sign-on before a sign-out): the page
/// on stderr and in `$BROWSER`, as `add --browser` does; waits as long as that does.
struct ConfirmHere;

#[async_trait::async_trait]
impl keyward::provider::ConfirmInBrowser for ConfirmHere {
    async fn open(&self, page: &url::Url) {
        // The page is the account's own server's (the core checked): printed whole, for copying.
        eprintln!("Open this page to confirm: {page}");
        open_in_browser(page.as_str());
    }

    fn wait(&self) -> std::time::Duration {
        let secs = std::env::var("KEYWARD_BROWSER_WAIT_SECS").ok().and_then(|s| s.trim().parse::<u64>().ok()).unwrap_or(300);
        std::time::Duration::from_secs(secs.max(1))
    }
}

/// Opens `url` with `$BROWSER` when set, else the desktop's opener; a failure is ignored (the
/// page was printed). The child is not waited for: a browser may run for as long as it likes.
fn open_in_browser(url: &str) {
    let opener = std::env::var("BROWSER").ok().filter(|b| !b.trim().is_empty());
    let mut cmd = match &opener {
        Some(b) => {
            let mut words = b.split_whitespace();
            let mut c = std::process::Command::new(words.next().unwrap_or("xdg-open"));
            c.args(words);
            c
        }
        None if cfg!(target_os = "macos") => std::process::Command::new("open"),
        None if cfg!(windows) => std::process::Command::new("explorer"),
        None => std::process::Command::new("xdg-open"),
    };
    let _ = cmd.arg(url).stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn();
}

/// What the server says revoking these will also do, from the last listing.
fn revoke_warnings(kw: &Keyward, account: &Account, ids: &[String]) -> Vec<String> {
    let Ok(Some(listing)) = kw.cached(account) else { return Vec::new() };
    listing
        .credentials
        .iter()
        .filter(|c| ids.contains(&c.id))
        .filter_map(|c| c.actions.revoke_warning.as_ref().map(|w| format!("{}: {}", text::field(&c.id), text::field(w))))
        .collect()
}

/// Rows as `keyward list` prints them: the table, "Nothing found." when there are none (and
/// nothing failed), then the notes.
fn print_rows(rows: &[CredentialRow], notes: &[String], failed: usize) {
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                text::field(&r.account),
                text::field(&r.id),
                r.kind.noun().to_string(),
                r.name.as_deref().map(text::field).unwrap_or_default(),
                match &r.pending {
                    Some(p) => format!("{} · {}", text::field(p), text::field(&r.summary)),
                    None => text::field(&r.summary),
                },
            ]
        })
        .collect();
    if table.is_empty() && failed == 0 {
        println!("Nothing found.");
    } else if !table.is_empty() {
        print_table(&["ACCOUNT", "ID", "KIND", "NAME", "SUMMARY"], &table);
    }
    for n in notes {
        println!("note: {n}");
    }
}

fn print_report(report: &RevokeReport, json: bool) {
    if json {
        print_json(report);
        return;
    }
    let account = text::field(&report.account);
    if report.results.is_empty() {
        println!("Nothing to revoke on {account}");
    }
    let of = report.user.as_deref().map(|u| format!(" of {}", text::field(u))).unwrap_or_default();
    for r in &report.results {
        match &r.error {
            None if r.replaced => println!("replaced {}{of} (the old value no longer works)", text::field(&r.id)),
            None if r.confirm_url.is_some() => {
                println!("asked   {}{of}: it is signed out once you confirm in your browser", text::field(&r.id))
            }
            None => println!("revoked {}{of}", text::field(&r.id)),
            Some(e) => println!("failed  {}: {}", text::field(&r.id), text::line(e, text::LINE_MAX)),
        }
    }
    if report.signed_out {
        println!("Keyward is now signed out of {account}; `keyward add` signs in again");
    }
}

/// `keyward watch`: rounds of [`Keyward::keep_watch`] until the process is stopped. Changes go
/// to stdout, one line each; errors go to stderr once when they start, and once when they end.
async fn watch(kw: &Keyward, safe: bool, minutes: f64, json: bool) -> Result<ExitCode, Error> {
    if !(minutes.is_finite() && minutes > 0.0 && minutes <= 7.0 * 24.0 * 60.0) {
        return Err(Error::input("--interval is a number of minutes between 0 and a week (for example 15, or 0.5)"));
    }
    let mut w = Watcher::new(std::time::Duration::from_secs_f64(minutes * 60.0));
    let n = kw.accounts()?.len();
    eprintln!(
        "Watching {n} account{} every {} (Ctrl-C stops); changes stay unseen for `keyward changes`.",
        if n == 1 { "" } else { "s" },
        every_words(w.schedule.interval())
    );
    kw.keep_watch(&mut w, &mut Terminal { kw, safe, json, was_offline: false }).await?;
    Ok(ExitCode::SUCCESS)
}

/// `keyward watch`'s face: changes on stdout, one line each; errors on stderr once when they
/// start, and once when they end. Stops when nobody reads stdout any more. Each round is shown
/// through a masker of its own when screen-share-safe mode is on (`--safe`, or the setting as it
/// is at that round), knowing the ids listed since.
struct Terminal<'a> {
    kw: &'a Keyward,
    safe: bool,
    json: bool,
    was_offline: bool,
}

impl keyward::insight::watcher::Face for Terminal<'_> {
    fn tell(&mut self, round: keyward::insight::watcher::Round, schedule: &keyward::insight::watcher::Schedule) -> bool {
        let mut out = match Shown::new(self.kw, self.safe) {
            Ok(out) => out,
            Err(e) => {
                // Nothing is shown that cannot be shown as the user asked.
                eprintln!("keyward: {}", say(&e));
                return false;
            }
        };
        if schedule.offline && !self.was_offline {
            eprintln!("keyward: no server can be reached (offline?): trying again every minute");
        }
        self.was_offline = schedule.offline;
        for (name, e) in &round.new_errors {
            if !self.was_offline {
                eprintln!("keyward: {}", out.text(&format!("{}: {}", text::field(name), say(e))));
            }
        }
        for name in &round.recovered {
            eprintln!("keyward: {}", out.text(&format!("{}: works again", text::field(name))));
        }
        let changes = out.value(round.changes);
        let mut out = io::stdout().lock();
        for c in &changes {
            let line = if self.json {
                serde_json::to_string(c).unwrap_or_default()
            } else {
                format!("{}: {}", text::field(&c.account), text::line(&c.words, text::LINE_MAX))
            };
            if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
                // Nobody reads any more (a closed pipe): the watch has no one to tell.
                return false;
            }
        }
        true
    }
}

/// "15 minutes", "30 seconds", "1 minute".
fn every_words(d: std::time::Duration) -> String {
    let secs = d.as_secs().max(1);
    let (n, unit) = if secs % 60 == 0 { (secs / 60, "minute") } else { (secs, "second") };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// An error in one line: the core's sentence, then what to do, in this CLI's words.
///
/// The sentence carries server words, so it is made safe for a terminal and cut; the remedy is
/// this CLI's own and is kept whole.
fn say(e: &Error) -> String {
    let sentence = text::line(&e.to_string(), text::LINE_MAX);
    match (e, e.remedy().and_then(|r| remedy_words(&r))) {
        // These already say it: the page, the wait.
        (Error::OpenInBrowser { .. } | Error::RateLimited { .. }, _) | (_, None) => sentence,
        (_, Some(what)) => format!("{sentence}; {what}"),
    }
}

/// A gap in a listing, with its page and what to do about it.
/// What comes from the server (the message, the page) is made safe and cut; what to do is this
/// CLI's own words, kept whole so a long message never hides it.
fn gap_words(g: &Gap) -> String {
    let mut s = text::line(&g.message, text::LINE_MAX);
    if let Some(u) = &g.url {
        s.push_str(&format!(" ({})", text::field(u)));
    }
    if let Some(what) = g.remedy.as_ref().and_then(remedy_words) {
        s.push_str(&format!("; {what}"));
    }
    s
}

/// What the user can do, named by this CLI's commands and flags.
fn remedy_words(r: &Remedy) -> Option<String> {
    Some(match r {
        Remedy::UseToken { label, page } => {
            let made = page.as_ref().map(|p| format!(" (make one at {})", text::field(p))).unwrap_or_default();
            format!(
                "add the account with --token-stdin and {} {label}{made}",
                if label.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }
            )
        }
        Remedy::GivePassword => "give the account's password with --password-stdin".into(),
        Remedy::GiveCode => "give the one-time code with --code-stdin".into(),
        Remedy::SignInAgain => {
            "sign in again with `keyward add <URL> --user <NAME>` (with --browser to approve in the browser, where the server offers it)"
                .into()
        }
        Remedy::ChooseKind { kinds } => format!("pass --kind (one of {})", kinds.join(", ")),
        Remedy::IncludeOwnSession => "say so explicitly with --include-this-app, or use `keyward remove <ACCOUNT> --sign-out`".into(),
        Remedy::AllowInsecure => "add --allow-http if you accept that".into(),
        Remedy::AllowEndingSession => "add the account again with --allow-ending-a-session to allow it".into(),
        Remedy::OpenPage { url } => format!("do it at {}", text::field(url)),
        Remedy::AskAdmin => "ask the site's administrator".into(),
        Remedy::Wait { .. } => return None,
        Remedy::ListAccounts => "`keyward accounts` lists them".into(),
        Remedy::ListCredentials { account } => format!("`keyward list {}` shows their ids", text::field(account)),
    })
}

/// The CLI's way of asking for a one-time code: a no-echo prompt on the terminal.
struct TerminalCode;

#[async_trait::async_trait]
impl keyward::provider::AskCode for TerminalCode {
    async fn code(&self, account: &str) -> Option<Secret> {
        let prompt = format!("One-time code for {} (from your authenticator): ", text::field(account));
        tokio::task::spawn_blocking(move || Secret::prompt(&prompt).ok()).await.ok().flatten().filter(|c| !c.is_empty())
    }
}

/// One secret: from stdin when asked, else a prompt without echo when there is a terminal.
fn read_secret(from_stdin: bool, prompt: &str) -> Result<Secret, Error> {
    let secret = if from_stdin {
        Secret::read_stdin_line().map_err(|e| Error::input(format!("cannot read standard input: {e}")))?
    } else if io::stdin().is_terminal() {
        Secret::prompt(&format!("{prompt}: ")).map_err(|e| Error::input(format!("cannot read the password: {e}")))?
    } else {
        return Err(Error::input("no terminal to ask for the secret: pipe it in with --password-stdin or --token-stdin"));
    };
    if secret.is_empty() {
        return Err(Error::input("the secret read is empty"));
    }
    Ok(secret)
}

fn account_json(kw: &Keyward, out: &mut Shown, a: &Account) -> serde_json::Value {
    let caps = providers::get(a.kind).map(|p| p.capabilities());
    let listing = kw.cached(a).ok().flatten();
    match caps {
        Ok(c) => serde_json::to_value(out.value(view::account_view(a, listing.as_ref(), &c))).unwrap_or_default(),
        // An account of a kind this build does not know: only what cannot name anyone else.
        Err(_) => serde_json::json!({ "id": a.id, "name": out.text(&a.name()), "kind": a.kind.as_str() }),
    }
}

/// Pretty JSON on stdout, written in large blocks: stdout is line-buffered, and pretty JSON of
/// 5,000 credentials is ~280,000 lines, one `write` each without the buffer (half the time of a
/// `keyward list --json` into a pipe went there).
fn print_json<T: serde::Serialize + ?Sized>(v: &T) {
    let mut out = io::BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    let _ = serde_json::to_writer_pretty(&mut out, v);
    let _ = writeln!(out);
    let _ = out.flush();
}

fn print_table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, cell) in r.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count().min(60));
        }
    }
    let line = |cells: Vec<String>| {
        let last = cells.len() - 1;
        cells
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let c: String = if c.chars().count() > 60 && i != last { c.chars().take(59).chain(['…']).collect() } else { c };
                if i == last {
                    c
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{}", line(headers.iter().map(|s| s.to_string()).collect()));
    for r in rows {
        let _ = writeln!(out, "{}", line(r.clone()));
    }
}
