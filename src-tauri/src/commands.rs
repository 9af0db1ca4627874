//! The app's commands: each turns its arguments into one core call and its result into the
//! shapes of `keyward::view`. The rules (what may be revoked, when a password is needed, what a
//! summary says, which pages may be opened) live in the core.
//!
//! Secrets: a password, token or one-time code typed in the web view arrives here once, is
//! wrapped in a [`Secret`] while it is deserialised, goes to the core, and is wiped when the
//! command ends. Nothing a command returns ever holds a secret. Nothing here logs arguments.

use keyward::insight::checkup::{Code, Finding};
use keyward::insight::history::Entry;
use keyward::insight::identify::Identity;
use keyward::insight::ops::ChangeView;
use keyward::insight::report::Format;
use keyward::model::Kind;
use keyward::provider::{Proof, SignInSecret};
use keyward::secret::Secret;
use keyward::service::{AddAccount, RevokeReport};
use keyward::view::{AccountListing, KindView};
use keyward::Keyward;
use serde::{Deserialize, Serialize};
use tauri::State;
use tauri_plugin_opener::OpenerExt;

use crate::ui_error::Answer;

/// Every account with its last saved listing: drawn at once on start-up, before any refresh.
#[tauri::command]
#[specta::specta]
pub async fn accounts(kw: State<'_, Keyward>) -> Answer<Vec<AccountListing>> {
    Ok(kw.show_all_cached()?)
}

/// Lists one account on its server. The UI calls this once per account, concurrently, so each
/// account shows its own progress and a slow server holds up nothing else.
#[tauri::command]
#[specta::specta]
pub async fn refresh_account(kw: State<'_, Keyward>, account_id: String) -> Answer<AccountListing> {
    Ok(kw.refresh_shown(&account_id).await?)
}

/// The kinds of server that can be added, with how each signs in.
#[tauri::command]
#[specta::specta]
pub async fn kinds(kw: State<'_, Keyward>) -> Answer<Vec<KindView>> {
    Ok(kw.kinds())
}

/// Where to look for a server, and of which kind when the user chose one.
#[derive(Deserialize, specta::Type)]
pub struct DetectRequest {
    url: String,
    kind: Option<Kind>,
}

/// The server found: the base URL to use, its kind, and whether it is reached over plain http to
/// another computer (then signing in needs the user's explicit yes).
#[derive(Serialize, specta::Type)]
pub struct Detected {
    base_url: String,
    kind: KindView,
    insecure: bool,
}

/// What kind of server is at `url` (or: is it a server of the kind chosen), and how it signs in.
#[tauri::command]
#[specta::specta]
pub async fn detect(kw: State<'_, Keyward>, request: DetectRequest) -> Answer<Detected> {
    let (kind, base) = match request.kind {
        Some(kind) => (kind, keyward::net::http::parse_server_url(&request.url)?),
        None => kw.detect(&request.url).await?,
    };
    let caps = keyward::providers::get(kind)?.capabilities();
    let base_url = base.as_str().trim_end_matches('/').to_string();
    Ok(Detected { insecure: keyward::view::insecure(&base_url), base_url, kind: KindView::from(&caps) })
}

/// What the add-account form sends. The secrets become [`Secret`]s as they are read.
#[derive(Deserialize, specta::Type)]
pub struct AddRequest {
    url: String,
    kind: Option<Kind>,
    login: String,
    #[serde(deserialize_with = "keyward::secret::stored::deserialize")]
    #[specta(type = String)]
    secret: Secret,
    secret_is_token: bool,
    label: Option<String>,
    /// A one-time code from the account's second factor, when the server asked for one.
    #[serde(default, deserialize_with = "keyward::secret::stored::option::deserialize")]
    #[specta(type = Option<String>)]
    code: Option<Secret>,
    /// The user ticked "Use plain http anyway".
    #[serde(default)]
    allow_insecure: bool,
    /// The user ticked "Sign in even if it ends another session".
    #[serde(default)]
    allow_ending_sessions: bool,
}

#[tauri::command]
#[specta::specta]
pub async fn add_account(kw: State<'_, Keyward>, request: AddRequest) -> Answer<AccountListing> {
    let AddRequest { url, kind, login, secret, secret_is_token, label, code, allow_insecure, allow_ending_sessions } = request;
    let secret = if secret_is_token { SignInSecret::Token(secret) } else { SignInSecret::Password(secret) };
    let account =
        kw.add(AddAccount { kind, label, code, allow_insecure, allow_ending_sessions, ..AddAccount::new(url, login, secret) }).await?;
    Ok(kw.show_cached(&account)?)
}

/// Forgets an account; with `sign_out`, first ends the app's own session on the server.
#[tauri::command]
#[specta::specta]
pub async fn remove_account(kw: State<'_, Keyward>, account_id: String, sign_out: bool) -> Answer<()> {
    kw.remove(&account_id, sign_out).await?;
    Ok(())
}

/// Renames a credential and returns the account as listed right after.
#[tauri::command]
#[specta::specta]
pub async fn rename(kw: State<'_, Keyward>, account_id: String, credential_id: String, name: String) -> Answer<AccountListing> {
    kw.rename(&account_id, &credential_id, &name, &Proof::default()).await?;
    Ok(kw.show_cached(&kw.find(&account_id)?)?)
}

/// What to revoke, and what the user gave for it.
#[derive(Deserialize, specta::Type)]
pub struct RevokeRequest {
    account_id: String,
    #[serde(default)]
    ids: Vec<String>,
    #[serde(default, deserialize_with = "keyward::secret::stored::option::deserialize")]
    #[specta(type = Option<String>)]
    password: Option<Secret>,
    #[serde(default, deserialize_with = "keyward::secret::stored::option::deserialize")]
    #[specta(type = Option<String>)]
    code: Option<Secret>,
    /// The user chose Keyward's own session among them.
    #[serde(default)]
    include_own: bool,
}

/// One result per credential, and the account as listed right after.
#[derive(Serialize, specta::Type)]
pub struct RevokeAnswer {
    report: RevokeReport,
    listing: AccountListing,
}

#[tauri::command]
#[specta::specta]
pub async fn revoke(kw: State<'_, Keyward>, request: RevokeRequest) -> Answer<RevokeAnswer> {
    let proof = Proof { password: request.password, code: request.code };
    let report = kw.revoke(&request.account_id, &request.ids, &proof, request.include_own).await?;
    let listing = kw.show_cached(&kw.find(&request.account_id)?)?;
    Ok(RevokeAnswer { report, listing })
}

#[tauri::command]
#[specta::specta]
pub async fn revoke_all_others(kw: State<'_, Keyward>, request: RevokeRequest) -> Answer<RevokeAnswer> {
    let proof = Proof { password: request.password, code: request.code };
    let report = kw.revoke_all_others(&request.account_id, &proof).await?;
    let listing = kw.show_cached(&kw.find(&request.account_id)?)?;
    Ok(RevokeAnswer { report, listing })
}

/// Sets (or with an empty one, clears) an account's label.
#[tauri::command]
#[specta::specta]
pub async fn set_label(kw: State<'_, Keyward>, account_id: String, label: String) -> Answer<AccountListing> {
    let account = kw.set_label(&account_id, Some(&label))?;
    Ok(kw.show_cached(&account)?)
}

/// Opens a page in the system browser, when the core says it is on one of the accounts' own
/// servers. The web view has no other way to open anything: a link a server sent to somewhere
/// else is refused here.
#[tauri::command]
#[specta::specta]
pub async fn open_page(app: tauri::AppHandle, kw: State<'_, Keyward>, url: String) -> Answer<()> {
    let page = kw.own_page(&url)?;
    app.opener().open_url(page.as_str(), None::<&str>).map_err(|e| keyward::Error::input(format!("cannot open the browser: {e}")))?;
    Ok(())
}

/// Settings of the app itself that the web view cannot read from the system.
#[derive(Serialize, specta::Type)]
pub struct UiSettings {
    /// `KEYWARD_THEME=light|dark` forces a theme; unset, the UI follows the system.
    theme: Option<Theme>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    Light,
    Dark,
}

pub fn theme_override() -> Option<Theme> {
    match std::env::var("KEYWARD_THEME").ok().as_deref().map(str::trim) {
        Some("dark") => Some(Theme::Dark),
        Some("light") => Some(Theme::Light),
        _ => None,
    }
}

#[tauri::command]
#[specta::specta]
pub async fn ui_settings() -> Answer<UiSettings> {
    Ok(UiSettings { theme: theme_override() })
}

// ---- the checkup, changes, "whose token is this?", history and the report (all worded by the core) ----

/// What deserves attention across every account, ranked, from the saved listings (no request).
#[tauri::command]
#[specta::specta]
pub async fn checkup(kw: State<'_, Keyward>) -> Answer<Vec<Finding>> {
    Ok(kw.checkup(None)?)
}

/// "This is fine": the finding is not raised again until the credential changes. Returns the
/// checkup as it is after.
#[tauri::command]
#[specta::specta]
pub async fn dismiss_finding(kw: State<'_, Keyward>, account_id: String, credential_id: String, code: Code) -> Answer<Vec<Finding>> {
    kw.dismiss(&account_id, &credential_id, code)?;
    Ok(kw.checkup(None)?)
}

/// The changes not seen yet, across every account, oldest first.
#[tauri::command]
#[specta::specta]
pub async fn changes(kw: State<'_, Keyward>) -> Answer<Vec<ChangeView>> {
    Ok(kw.changes(None)?)
}

/// Marks every pending change as seen (the banner was dismissed).
#[tauri::command]
#[specta::specta]
pub async fn dismiss_changes(kw: State<'_, Keyward>) -> Answer<()> {
    kw.mark_changes_seen(None)?;
    Ok(())
}

/// A pasted token, and whether to revoke the credential it belongs to. The token becomes a
/// [`Secret`] as it is read; it is never returned, logged or kept.
#[derive(Deserialize, specta::Type)]
pub struct IdentifyRequest {
    #[serde(deserialize_with = "keyward::secret::stored::deserialize")]
    #[specta(type = String)]
    token: Secret,
    /// The user confirmed revoking it.
    #[serde(default)]
    revoke: bool,
    #[serde(default, deserialize_with = "keyward::secret::stored::option::deserialize")]
    #[specta(type = Option<String>)]
    password: Option<Secret>,
    #[serde(default, deserialize_with = "keyward::secret::stored::option::deserialize")]
    #[specta(type = Option<String>)]
    code: Option<Secret>,
}

/// Whose is this token: the account and credential it belongs to (never the token itself).
#[tauri::command]
#[specta::specta]
pub async fn identify_token(kw: State<'_, Keyward>, request: IdentifyRequest) -> Answer<Identity> {
    let IdentifyRequest { token, revoke, password, code } = request;
    Ok(kw.identify(&token, revoke, &Proof { password, code }).await?)
}

/// Everything done through Keyward, oldest first.
#[tauri::command]
#[specta::specta]
pub async fn history(kw: State<'_, Keyward>) -> Answer<Vec<Entry>> {
    Ok(kw.history()?)
}

/// Writes the HTML report to the download folder (else Keyward's config folder) as
/// `keyward-report-<UTC date>.html` and returns where.
#[tauri::command]
#[specta::specta]
pub async fn export_report(kw: State<'_, Keyward>) -> Answer<String> {
    let html = kw.report()?.render(Format::Html);
    let dir = dirs::download_dir().unwrap_or_else(|| kw.store().dir().to_path_buf());
    let path = dir.join(format!("keyward-report-{}.html", chrono::Utc::now().format("%Y-%m-%d")));
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&path, html))
        .map_err(|e| keyward::Error::input(format!("cannot write the report to {}: {e}", path.display())))?;
    Ok(path.display().to_string())
}

// ---- keeping watch after the window closes ----

/// The background watch setting, and whether this desktop has the tray icon it needs (without
/// one, closing the window quits whatever the setting says).
#[derive(Serialize, specta::Type)]
pub struct BackgroundWatch {
    /// "Keep watching after the window closes" is on.
    on: bool,
    /// This desktop shows tray icons.
    tray: bool,
}

#[tauri::command]
#[specta::specta]
pub async fn background_watch(kw: State<'_, Keyward>) -> Answer<BackgroundWatch> {
    Ok(BackgroundWatch { on: kw.keep_watching()?, tray: crate::background::tray_available() })
}

/// Switches the background watch on or off; the tray icon comes and goes with it.
#[tauri::command]
#[specta::specta]
pub async fn set_background_watch(app: tauri::AppHandle, kw: State<'_, Keyward>, on: bool) -> Answer<BackgroundWatch> {
    let on = kw.set_keep_watching(on)?;
    crate::background::sync_tray(&app);
    Ok(BackgroundWatch { on, tray: crate::background::tray_available() })
}
