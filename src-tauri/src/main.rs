//! Keyward's desktop app: a thin layer of Tauri commands over the core's [`Keyward`]. Each command
//! turns its arguments into one core call and its result into the shapes of `keyward::view`; the
//! rules (what may be revoked, when a password is needed, what a summary says) live in the core.
//!
//! Secrets: a password or token typed in the web view arrives here once, is wrapped in a
//! [`Secret`] while it is deserialised, goes to the core, and is wiped when the command ends.
//! Nothing a command returns ever holds a secret. Nothing here logs arguments.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use keyward::error::Remedy;
use keyward::model::Kind;
use keyward::provider::{Proof, SignInSecret};
use keyward::secret::Secret;
use keyward::service::{AddAccount, RevokeReport};
use keyward::view::{AccountListing, KindView};
use keyward::{Error, Keyward};
use serde::{Deserialize, Serialize};
use tauri::{Manager, State};

/// An error as the web view gets it: the core's code, its one plain sentence (which names no CLI
/// flag), what the user can do (worded by the UI with its own buttons), and the page to open
/// when there is one.
#[derive(Debug, Serialize)]
struct UiError {
    code: &'static str,
    message: String,
    remedy: Option<Remedy>,
    url: Option<String>,
}

impl From<Error> for UiError {
    fn from(e: Error) -> Self {
        UiError { code: e.code(), message: e.to_string(), remedy: e.remedy(), url: e.url().map(str::to_string) }
    }
}

type Answer<T> = Result<T, UiError>;

/// Every account with its last saved listing: drawn at once on start-up, before any refresh.
#[tauri::command(rename_all = "snake_case")]
async fn accounts(kw: State<'_, Keyward>) -> Answer<Vec<AccountListing>> {
    Ok(kw.show_all_cached()?)
}

/// Lists one account on its server. The UI calls this once per account, concurrently, so each
/// account shows its own progress and a slow server holds up nothing else.
#[tauri::command(rename_all = "snake_case")]
async fn refresh_account(kw: State<'_, Keyward>, account_id: String) -> Answer<AccountListing> {
    Ok(kw.refresh_shown(&account_id).await?)
}

/// The kinds of server that can be added, with how each signs in.
#[tauri::command(rename_all = "snake_case")]
async fn kinds(kw: State<'_, Keyward>) -> Answer<Vec<KindView>> {
    Ok(kw.kinds())
}

#[derive(Serialize)]
struct Detected {
    base_url: String,
    #[serde(flatten)]
    kind: KindView,
}

/// What kind of server is at `url`, and how it signs in.
#[tauri::command(rename_all = "snake_case")]
async fn detect(kw: State<'_, Keyward>, url: String) -> Answer<Detected> {
    let (kind, base) = kw.detect(&url).await?;
    let caps = keyward::providers::get(kind)?.capabilities();
    Ok(Detected { base_url: base.as_str().trim_end_matches('/').to_string(), kind: KindView::from(&caps) })
}

/// What the add-account form sends. The secret becomes a [`Secret`] as it is read.
#[derive(Deserialize)]
struct AddRequest {
    url: String,
    kind: Option<Kind>,
    login: String,
    #[serde(deserialize_with = "keyward::secret::stored::deserialize")]
    secret: Secret,
    secret_is_token: bool,
    label: Option<String>,
    #[serde(default)]
    allow_insecure: bool,
}

#[tauri::command(rename_all = "snake_case")]
async fn add_account(kw: State<'_, Keyward>, request: AddRequest) -> Answer<AccountListing> {
    let AddRequest { url, kind, login, secret, secret_is_token, label, allow_insecure } = request;
    let secret = if secret_is_token { SignInSecret::Token(secret) } else { SignInSecret::Password(secret) };
    let account = kw.add(AddAccount { kind, label, allow_insecure, ..AddAccount::new(url, login, secret) }).await?;
    Ok(kw.show_cached(&account)?)
}

/// Forgets an account; with `sign_out`, first ends the app's own session on the server.
#[tauri::command(rename_all = "snake_case")]
async fn remove_account(kw: State<'_, Keyward>, account_id: String, sign_out: bool) -> Answer<()> {
    kw.remove(&account_id, sign_out).await?;
    Ok(())
}

/// Renames a credential and returns the account as listed right after.
#[tauri::command(rename_all = "snake_case")]
async fn rename(kw: State<'_, Keyward>, account_id: String, credential_id: String, name: String) -> Answer<AccountListing> {
    kw.rename(&account_id, &credential_id, &name, &Proof::default()).await?;
    Ok(kw.show_cached(&kw.find(&account_id)?)?)
}

#[derive(Deserialize)]
struct RevokeRequest {
    account_id: String,
    #[serde(default)]
    ids: Vec<String>,
    #[serde(default, deserialize_with = "keyward::secret::stored::option::deserialize")]
    password: Option<Secret>,
    #[serde(default)]
    include_own: bool,
}

/// One result per credential, and the account as listed right after.
#[derive(Serialize)]
struct RevokeAnswer {
    report: RevokeReport,
    listing: AccountListing,
}

#[tauri::command(rename_all = "snake_case")]
async fn revoke(kw: State<'_, Keyward>, request: RevokeRequest) -> Answer<RevokeAnswer> {
    let proof = Proof { password: request.password, code: None };
    let report = kw.revoke(&request.account_id, &request.ids, &proof, request.include_own).await?;
    let listing = kw.show_cached(&kw.find(&request.account_id)?)?;
    Ok(RevokeAnswer { report, listing })
}

#[tauri::command(rename_all = "snake_case")]
async fn revoke_all_others(kw: State<'_, Keyward>, request: RevokeRequest) -> Answer<RevokeAnswer> {
    let proof = Proof { password: request.password, code: None };
    let report = kw.revoke_all_others(&request.account_id, &proof).await?;
    let listing = kw.show_cached(&kw.find(&request.account_id)?)?;
    Ok(RevokeAnswer { report, listing })
}

/// Sets (or with an empty one, clears) an account's label.
#[tauri::command(rename_all = "snake_case")]
async fn set_label(kw: State<'_, Keyward>, account_id: String, label: String) -> Answer<AccountListing> {
    let account = kw.set_label(&account_id, Some(&label))?;
    Ok(kw.show_cached(&account)?)
}

/// Settings of the app itself that the web view cannot read from the system.
#[derive(Serialize)]
struct UiSettings {
    /// `KEYWARD_THEME=light|dark` forces a theme; unset, the UI follows the system.
    theme: Option<&'static str>,
}

fn theme_override() -> Option<&'static str> {
    match std::env::var("KEYWARD_THEME").ok().as_deref().map(str::trim) {
        Some("dark") => Some("dark"),
        Some("light") => Some("light"),
        _ => None,
    }
}

#[tauri::command(rename_all = "snake_case")]
async fn ui_settings() -> Answer<UiSettings> {
    Ok(UiSettings { theme: theme_override() })
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("KEYWARD_LOG").unwrap_or_else(|_| "off".into()))
        .with_writer(std::io::stderr)
        .init();
    let kw = match Keyward::open() {
        Ok(kw) => kw,
        Err(e) => {
            eprintln!("keyward-app: {e}");
            std::process::exit(1);
        }
    };
    tauri::Builder::default()
        .plugin(tauri_plugin_opener::init())
        .manage(kw)
        .setup(|app| {
            if let (Some(window), Some(theme)) = (app.get_webview_window("main"), theme_override()) {
                let theme = if theme == "dark" { tauri::Theme::Dark } else { tauri::Theme::Light };
                let _ = window.set_theme(Some(theme));
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            accounts,
            refresh_account,
            kinds,
            detect,
            add_account,
            remove_account,
            rename,
            revoke,
            revoke_all_others,
            set_label,
            ui_settings,
        ])
        .run(tauri::generate_context!())
        .expect("error while running Keyward");
}
