//! The app's commands: each turns its arguments into one core call and its result into the
//! shapes of `keyward::view`. The rules (what may be revoked, when a password is needed, what a
//! summary says, which pages may be opened) live in the core.
//!
//! Secrets: a password, token or one-time code typed in the web view arrives here once, is
//! wrapped in a [`Secret`] while it is deserialised, goes to the core, and is wiped when the
//! command ends. Nothing a command returns ever holds a secret. Nothing here logs arguments.
//!
//! Screen-share-safe mode: every answer that shows accounts, credentials, findings, changes,
//! history, a token's owner or an error goes through [`shown`], which masks it (the core's
//! [`keyward::mask`]) while the mode is on. The web view never gets the clear values then.

use keyward::insight::checkup::{Code, Finding};
use keyward::insight::history::Entry;
use keyward::insight::identify::Identity;
use keyward::insight::ops::ChangeView;
use keyward::insight::report::Format;
use keyward::mask::{Mask, Masker};
use keyward::model::Kind;
use keyward::provider::{Proof, SignInMethod, SignInSecret};
use keyward::secret::Secret;
use keyward::service::{AddAccount, AddInBrowser, BrowserAdd, RevokeReport, SignInOptions};
use keyward::view::{AccountListing, KindView, UserListing};
use keyward::Keyward;
use serde::{Deserialize, Serialize};
use tauri::State;
use tauri_plugin_opener::OpenerExt;

use crate::ui_error::{Answer, UiError};

/// An answer as the web view may show it: masked, error included, while screen-share-safe mode
/// is on. A settings file that cannot be read fails the answer rather than show it in clear.
fn shown<T: Mask>(kw: &Keyward, answer: keyward::Result<T>) -> Answer<T> {
    shown_by(kw, answer, |v, m| v.mask(m))
}

/// [`shown`] for an answer that masks in its own way (`mask`: a revoke's results, whose ids are
/// masked under the account they belong to).
fn shown_by<T>(kw: &Keyward, answer: keyward::Result<T>, mask: impl FnOnce(T, &mut Masker) -> T) -> Answer<T> {
    match (answer, kw.face_masker(false)?) {
        (Ok(v), Some(mut m)) => Ok(mask(v, &mut m)),
        (Ok(v), None) => Ok(v),
        (Err(e), Some(mut m)) => Err(UiError::masked(e, &mut m)),
        (Err(e), None) => Err(e.into()),
    }
}

/// An error as the web view may show it (masked while screen-share-safe mode is on).
fn failed(kw: &Keyward, e: keyward::Error) -> UiError {
    match kw.face_masker(false) {
        Ok(Some(mut m)) => UiError::masked(e, &mut m),
        Ok(None) => e.into(),
        Err(settings) => settings.into(),
    }
}

/// Every account with its last saved listing: drawn at once on start-up, before any refresh.
#[tauri::command]
#[specta::specta]
pub async fn accounts(kw: State<'_, Keyward>) -> Answer<Vec<AccountListing>> {
    shown(&kw, kw.show_all_cached())
}

/// Lists one account on its server. The UI calls this once per account, concurrently, so each
/// account shows its own progress and a slow server holds up nothing else.
#[tauri::command]
#[specta::specta]
pub async fn refresh_account(kw: State<'_, Keyward>, account_id: String) -> Answer<AccountListing> {
    shown(&kw, kw.refresh_shown(&account_id).await)
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

/// The server found: the base URL to use, its kind, whether it is reached over plain http to
/// another computer (then signing in needs the user's explicit yes), and the ways this server
/// offers to sign in, as it said when asked (the dialog offers exactly these).
#[derive(Serialize, specta::Type)]
pub struct Detected {
    base_url: String,
    kind: KindView,
    insecure: bool,
    methods: Vec<SignInMethod>,
    /// The ways to approve in the browser to pick among (identity providers), each a
    /// [`BrowserAddRequest::choice`]; empty when the server has one.
    choices: Vec<keyward::provider::SignInChoice>,
}

/// What kind of server is at `url` (or: is it a server of the kind chosen), and how it signs in.
#[tauri::command]
#[specta::specta]
pub async fn detect(kw: State<'_, Keyward>, request: DetectRequest) -> Answer<Detected> {
    let SignInOptions { kind, base_url, methods, choices } = kw.sign_in_options(&request.url, request.kind).await?;
    let caps = keyward::providers::get(kind)?.capabilities();
    Ok(Detected { insecure: keyward::view::insecure(&base_url), base_url, kind: KindView::from(&caps), methods, choices })
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
    let added =
        kw.add(AddAccount { kind, label, code, allow_insecure, allow_ending_sessions, ..AddAccount::new(url, login, secret) }).await;
    shown(&kw, added.and_then(|account| kw.show_cached(&account)))
}

/// The adds waiting for the user in their browser, by flow id: managed state of the app. An
/// entry lives from `start_browser_add` until its `finish_browser_add` ends or it is cancelled.
#[derive(Default)]
pub struct BrowserFlows {
    next: std::sync::atomic::AtomicU64,
    flows: std::sync::Mutex<std::collections::HashMap<String, BrowserFlow>>,
}

struct BrowserFlow {
    cancel: keyward::net::loopback::Cancel,
    /// Taken by `finish_browser_add` while it waits.
    pending: Option<BrowserAdd>,
}

impl BrowserFlows {
    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, BrowserFlow>> {
        self.flows.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What the dialog sends to approve Keyward in the browser: no secret, the server brings it.
#[derive(Deserialize, specta::Type)]
pub struct BrowserAddRequest {
    url: String,
    kind: Option<Kind>,
    /// The user they mean to approve as, when they said.
    #[serde(default)]
    login: Option<String>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    allow_insecure: bool,
    /// The way picked among the server's `choices` (an identity provider), if it offers several.
    #[serde(default)]
    choice: Option<String>,
}

/// A browser approval under way: the page to approve on (the server's own, the core checked;
/// masked while screen-share-safe mode is on), and whether the system browser was asked to open
/// it (if not, the user copies the page).
#[derive(Serialize, specta::Type)]
pub struct BrowserFlowView {
    flow_id: String,
    page: String,
    opened: bool,
}

/// Starts adding an account approved in the browser: the core listens on the loopback address
/// and gives the server's page, which opens in the system browser. `finish_browser_add` waits.
#[tauri::command]
#[specta::specta]
pub async fn start_browser_add(
    app: tauri::AppHandle,
    kw: State<'_, Keyward>,
    flows: State<'_, BrowserFlows>,
    request: BrowserAddRequest,
) -> Answer<BrowserFlowView> {
    let BrowserAddRequest { url, kind, login, label, allow_insecure, choice } = request;
    let pending = kw
        .start_browser_add(AddInBrowser { url, kind, login, label, allow_insecure, wait: None, choice })
        .await
        .map_err(|e| failed(&kw, e))?;
    let page = pending.page.to_string();
    // While screen-share-safe mode is on, the window shows the page masked like everything else
    // (the browser still gets it whole); read before anything waits, so a failure leaves nothing.
    let masker = kw.face_masker(false)?;
    let flow_id = format!("flow-{}", flows.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    flows.lock().insert(flow_id.clone(), BrowserFlow { cancel: pending.cancel_handle(), pending: Some(pending) });
    // A browser that does not open is no failure: the dialog shows the page to copy.
    let opened = app.opener().open_url(&page, None::<&str>).is_ok();
    let page = match masker {
        Some(mut m) => m.text(&page),
        None => page,
    };
    Ok(BrowserFlowView { flow_id, page, opened })
}

/// Waits for the browser to come back to the flow `start_browser_add` began, and answers with
/// the added account; a rejection, a timeout or a cancel is the core's one sentence.
#[tauri::command]
#[specta::specta]
pub async fn finish_browser_add(kw: State<'_, Keyward>, flows: State<'_, BrowserFlows>, flow_id: String) -> Answer<AccountListing> {
    let pending = flows.lock().get_mut(&flow_id).and_then(|f| f.pending.take());
    let Some(pending) = pending else {
        return Err(keyward::Error::input("this browser approval has ended: start it again").into());
    };
    let added = kw.finish_browser_add(pending).await;
    flows.lock().remove(&flow_id);
    shown(&kw, added.and_then(|account| kw.show_cached(&account)))
}

/// Ends a browser approval's wait at once (the dialog's Cancel): nothing is stored.
#[tauri::command]
#[specta::specta]
pub async fn cancel_browser_add(flows: State<'_, BrowserFlows>, flow_id: String) -> Answer<()> {
    let mut flows = flows.lock();
    if let Some(flow) = flows.get(&flow_id) {
        flow.cancel.cancel();
        // Not waited on yet: dropping it closes the listener.
        if flow.pending.is_some() {
            flows.remove(&flow_id);
        }
    }
    Ok(())
}

/// Forgets an account; with `sign_out`, first ends the app's own session on the server.
#[tauri::command]
#[specta::specta]
pub async fn remove_account(kw: State<'_, Keyward>, account_id: String, sign_out: bool) -> Answer<()> {
    shown(&kw, kw.remove(&account_id, sign_out).await.map(|_| ()))
}

/// Renames a credential and returns the account as listed right after.
#[tauri::command]
#[specta::specta]
pub async fn rename(kw: State<'_, Keyward>, account_id: String, credential_id: String, name: String) -> Answer<AccountListing> {
    let renamed = kw.rename(&account_id, &credential_id, &name, &Proof::default()).await;
    shown(&kw, renamed.and_then(|()| kw.show_cached(&kw.find(&account_id)?)))
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
pub async fn revoke(
    app: tauri::AppHandle,
    kw: State<'_, Keyward>,
    confirmations: State<'_, Confirmations>,
    request: RevokeRequest,
) -> Answer<RevokeAnswer> {
    let confirm = ConfirmInSystemBrowser::new(app.clone(), &kw, &confirmations, &request.account_id)?;
    let proof = Proof { password: request.password, code: request.code, confirm: Some(confirm) };
    let report = kw.revoke(&request.account_id, &request.ids, &proof, request.include_own).await;
    confirmations.end(&request.account_id);
    if let Ok(r) = &report {
        open_confirm_pages(&app, &kw, r);
    }
    revoke_answer(&kw, &request.account_id, report)
}

/// The server's pages on which a sign-out ends once the user confirms there (Matrix next-gen
/// auth), opened in the system browser one after another, each only when the core says it is
/// one of the account's own pages. The dialog says that each waits for its confirmation.
fn open_confirm_pages(app: &tauri::AppHandle, kw: &Keyward, report: &RevokeReport) {
    for url in report.results.iter().filter_map(|r| r.confirm_url.as_deref()) {
        if let Ok(page) = kw.own_page(url) {
            let _ = app.opener().open_url(page.as_str(), None::<&str>);
        }
    }
}

#[tauri::command]
#[specta::specta]
pub async fn revoke_all_others(
    app: tauri::AppHandle,
    kw: State<'_, Keyward>,
    confirmations: State<'_, Confirmations>,
    request: RevokeRequest,
) -> Answer<RevokeAnswer> {
    let confirm = ConfirmInSystemBrowser::new(app, &kw, &confirmations, &request.account_id)?;
    let proof = Proof { password: request.password, code: request.code, confirm: Some(confirm) };
    let report = kw.revoke_all_others(&request.account_id, &proof).await;
    confirmations.end(&request.account_id);
    revoke_answer(&kw, &request.account_id, report)
}

/// The page a revoke of `account_id` under way waits to be confirmed on, once it opened (the
/// revoke dialog asks while it works, to say what it waits for); `None` otherwise.
#[tauri::command]
#[specta::specta]
pub async fn pending_confirmation(confirmations: State<'_, Confirmations>, account_id: String) -> Answer<Option<ConfirmPage>> {
    Ok(confirmations.lock().get(&account_id).and_then(|c| c.page.clone()))
}

/// Stops waiting for the confirmation of a revoke of `account_id` under way (the dialog's
/// "Stop waiting"): the revoke then fails with the core's sentence, and nothing is revoked.
#[tauri::command]
#[specta::specta]
pub async fn cancel_confirmation(confirmations: State<'_, Confirmations>, account_id: String) -> Answer<()> {
    if let Some(c) = confirmations.lock().get_mut(&account_id) {
        c.cancelled.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    Ok(())
}

/// The results and the account as listed right after, masked like every answer.
fn revoke_answer(kw: &Keyward, account_id: &str, report: keyward::Result<RevokeReport>) -> Answer<RevokeAnswer> {
    let answer = report.and_then(|report| Ok(RevokeAnswer { report, listing: kw.show_cached(&kw.find(account_id)?)? }));
    shown_by(kw, answer, |a, m| {
        let listing = a.listing.mask(m);
        RevokeAnswer { report: m.revoke_report(account_id, &a.report), listing }
    })
}

/// Another user's credentials, as this account (an administrator of its server) sees them. Not
/// saved: the account's own listing stays as it is.
#[tauri::command]
#[specta::specta]
pub async fn list_user(kw: State<'_, Keyward>, account_id: String, user: String) -> Answer<UserListing> {
    shown(&kw, kw.list_user(&account_id, &user).await)
}

/// What to revoke of another user, as an administrator.
#[derive(Deserialize, specta::Type)]
pub struct RevokeUserRequest {
    account_id: String,
    /// The user as the listing named them (`UserListing::user`).
    user: String,
    ids: Vec<String>,
}

/// One result per credential, and that user's credentials as listed right after.
#[derive(Serialize, specta::Type)]
pub struct RevokeUserAnswer {
    report: RevokeReport,
    listing: UserListing,
}

#[tauri::command]
#[specta::specta]
pub async fn revoke_user(kw: State<'_, Keyward>, request: RevokeUserRequest) -> Answer<RevokeUserAnswer> {
    let revoked = kw.revoke_user(&request.account_id, &request.user, &request.ids, &Proof::default()).await;
    let answer = match revoked {
        Ok(report) => kw.list_user(&request.account_id, &request.user).await.map(|listing| RevokeUserAnswer { report, listing }),
        Err(e) => Err(e),
    };
    shown_by(&kw, answer, |a, m| {
        let listing = a.listing.mask(m);
        RevokeUserAnswer { report: m.revoke_report(&request.account_id, &a.report), listing }
    })
}

/// Sets (or with an empty one, clears) an account's label.
#[tauri::command]
#[specta::specta]
pub async fn set_label(kw: State<'_, Keyward>, account_id: String, label: String) -> Answer<AccountListing> {
    shown(&kw, kw.set_label(&account_id, Some(&label)).and_then(|account| kw.show_cached(&account)))
}

/// The revokes waiting for a step confirmed in the browser, by account id: managed state of the
/// app, an entry from the start of a revoke until it ends.
#[derive(Default)]
pub struct Confirmations(std::sync::Mutex<std::collections::HashMap<String, Confirmation>>);

struct Confirmation {
    page: Option<ConfirmPage>,
    cancelled: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Confirmations {
    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Confirmation>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn end(&self, account_id: &str) {
        self.lock().remove(account_id);
    }
}

/// A page opened for a step to confirm: the page (masked in screen-share-safe mode) and whether
/// the system browser was asked to open it (if not, the user copies it).
#[derive(Clone, Serialize, specta::Type)]
pub struct ConfirmPage {
    page: String,
    opened: bool,
}

/// A step the server wants confirmed in the browser before it revokes (single sign-on on an
/// account without a password): the page (the core checked it is the account's server's) opens in
/// the system browser and is kept for `pending_confirmation`, so that the revoke dialog says what
/// it waits for until the server sees the step done.
struct ConfirmInSystemBrowser {
    app: tauri::AppHandle,
    account_id: String,
    cancelled: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Screen-share-safe mode's masker, read before anything waits.
    masker: std::sync::Mutex<Option<Masker>>,
}

impl ConfirmInSystemBrowser {
    fn new(app: tauri::AppHandle, kw: &Keyward, confirmations: &Confirmations, account_id: &str) -> Answer<std::sync::Arc<Self>> {
        let masker = kw.face_masker(false).map_err(|e| failed(kw, e))?;
        let cancelled = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        confirmations.lock().insert(account_id.to_string(), Confirmation { page: None, cancelled: cancelled.clone() });
        Ok(std::sync::Arc::new(ConfirmInSystemBrowser {
            app,
            account_id: account_id.to_string(),
            cancelled,
            masker: std::sync::Mutex::new(masker),
        }))
    }
}

#[async_trait::async_trait]
impl keyward::provider::ConfirmInBrowser for ConfirmInSystemBrowser {
    async fn open(&self, page: &tauri::Url) {
        // A browser that does not open is no failure: the dialog shows the page to copy.
        let opened = self.app.opener().open_url(page.as_str(), None::<&str>).is_ok();
        let shown = match self.masker.lock().unwrap_or_else(std::sync::PoisonError::into_inner).as_mut() {
            Some(m) => m.text(page.as_str()),
            None => page.to_string(),
        };
        use tauri::Manager;
        if let Some(c) = self.app.state::<Confirmations>().lock().get_mut(&self.account_id) {
            c.page = Some(ConfirmPage { page: shown, opened });
        }
    }

    fn cancelled(&self) -> bool {
        self.cancelled.load(std::sync::atomic::Ordering::Relaxed)
    }
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
    shown(&kw, kw.checkup(None))
}

/// "This is fine": the finding is not raised again until the credential changes. Returns the
/// checkup as it is after.
#[tauri::command]
#[specta::specta]
pub async fn dismiss_finding(kw: State<'_, Keyward>, account_id: String, credential_id: String, code: Code) -> Answer<Vec<Finding>> {
    shown(&kw, kw.dismiss(&account_id, &credential_id, code).and_then(|_| kw.checkup(None)))
}

/// The changes not seen yet, across every account, oldest first.
#[tauri::command]
#[specta::specta]
pub async fn changes(kw: State<'_, Keyward>) -> Answer<Vec<ChangeView>> {
    shown(&kw, kw.changes(None))
}

/// Marks every pending change as seen (the banner was dismissed).
#[tauri::command]
#[specta::specta]
pub async fn dismiss_changes(kw: State<'_, Keyward>) -> Answer<()> {
    shown(&kw, kw.mark_changes_seen(None))
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
    shown(&kw, kw.identify(&token, revoke, &Proof { password, code, confirm: None }).await)
}

/// Everything done through Keyward, oldest first.
#[tauri::command]
#[specta::specta]
pub async fn history(kw: State<'_, Keyward>) -> Answer<Vec<Entry>> {
    shown(&kw, kw.history())
}

/// Writes the HTML report to the download folder (else Keyward's config folder) as
/// `keyward-report-<UTC date>.html` and returns where. In screen-share-safe mode the report is
/// masked and says so.
#[tauri::command]
#[specta::specta]
pub async fn export_report(kw: State<'_, Keyward>) -> Answer<String> {
    let html = shown(&kw, kw.report())?.render(Format::Html);
    let dir = dirs::download_dir().unwrap_or_else(|| kw.store().dir().to_path_buf());
    let path = dir.join(format!("keyward-report-{}.html", chrono::Utc::now().format("%Y-%m-%d")));
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&path, html))
        .map_err(|e| keyward::Error::input(format!("cannot write the report to {}: {e}", path.display())))?;
    Ok(path.display().to_string())
}

/// Is screen-share-safe mode on (it stays on across restarts until switched off)?
#[tauri::command]
#[specta::specta]
pub async fn safe_mode(kw: State<'_, Keyward>) -> Answer<bool> {
    Ok(kw.safe_mode()?)
}

/// Switches screen-share-safe mode on or off, for the app and the CLI alike; the UI then loads
/// everything again, masked or not.
#[tauri::command]
#[specta::specta]
pub async fn set_safe_mode(kw: State<'_, Keyward>, on: bool) -> Answer<bool> {
    Ok(kw.set_safe_mode(on)?)
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
