//! Matrix single sign-on (`m.login.sso`): which ways to sign in a homeserver offers (its `/login`
//! flows, with the identity providers of its single sign-on), the page that starts a sign-on in
//! the browser (`/login/sso/redirect[/{idpId}]?redirectUrl=<loopback>`), and the exchange of the
//! `loginToken` the browser brings back for Keyward's own device (`m.login.token`).
//!
//! It also waits for the single sign-on step of user-interactive auth done in the browser (the
//! `m.login.sso` fallback page), so that devices of an account without a password can be signed
//! out. It does not open browsers or listen for them (the core and the faces do), and it knows
//! nothing of next-gen auth (OAuth 2.0).
//!
//! Facts: `shared/reference/matrix.md`, and Synapse 1.163: the sign-on appends `loginToken` to the
//! `redirectUrl` keeping its query (so the loopback `state` survives), after a "Continue to your
//! account" page for client URLs it does not trust.

use std::time::Duration;

use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use url::Url;

use super::{enc, server_error, LoginResponse, Stored, UiaResponse};
use crate::error::{Error, Remedy, Result};
use crate::model::host_of;
use crate::net::http::{join, Http};
use crate::provider::{Approved, BrowserAsk, BrowserPage, SignInChoice, SignInMethod};
use crate::secret::{Secret, SecretBody};

/// The most identity providers offered as choices (a server listing more is cut there).
const CHOICES_MAX: usize = 32;

/// `GET /_matrix/client/v3/login`.
#[derive(Deserialize, Default)]
pub(super) struct LoginFlows {
    #[serde(default)]
    flows: Vec<LoginFlow>,
}

#[derive(Deserialize)]
struct LoginFlow {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    identity_providers: Vec<IdentityProvider>,
}

#[derive(Deserialize)]
struct IdentityProvider {
    id: String,
    name: Option<String>,
}

/// `POST /login` with the login token the browser brought back.
#[derive(Serialize)]
struct TokenLogin<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    token: &'a str,
    initial_device_display_name: &'a str,
    refresh_token: bool,
}

impl LoginFlows {
    /// The flows the homeserver at `base` offers: none when it does not say (a server that signs
    /// in only through next-gen auth serves no `/login`).
    pub(super) async fn of(http: &Http, base: &Url) -> Result<Self> {
        let r = http.send(http.get(join(base, "_matrix/client/v3/login"))).await?;
        if !r.is_success() {
            return Ok(LoginFlows::default());
        }
        r.json("the server's ways to sign in")
    }

    fn has(&self, kind: &str) -> bool {
        self.flows.iter().any(|f| f.kind == kind)
    }

    /// The ways to sign in these flows allow: a password only where `m.login.password` is, the
    /// browser only where `m.login.sso` is, and a pasted access token always.
    pub(super) fn methods(&self) -> Vec<SignInMethod> {
        let mut methods = Vec::new();
        if self.has("m.login.password") {
            methods.push(SignInMethod::Password);
        }
        methods.push(SignInMethod::Token);
        if self.has("m.login.sso") {
            methods.push(SignInMethod::Browser);
        }
        methods
    }

    /// The identity providers of the single sign-on, in the server's order: ids as the spec
    /// allows them (others are left out: they go into a URL path), names made safe to show.
    pub(super) fn identity_providers(&self) -> Vec<SignInChoice> {
        let mut out: Vec<SignInChoice> = Vec::new();
        for idp in self.flows.iter().filter(|f| f.kind == "m.login.sso").flat_map(|f| &f.identity_providers) {
            if !valid_idp_id(&idp.id) || out.iter().any(|c| c.id == idp.id) {
                continue;
            }
            let name = idp.name.as_deref().map(crate::text::field).filter(|n| !n.is_empty()).unwrap_or_else(|| idp.id.clone());
            out.push(SignInChoice { id: idp.id.clone(), name });
            if out.len() == CHOICES_MAX {
                break;
            }
        }
        out
    }
}

/// An identity provider id as the spec allows it: 1 to 255 of `[A-Za-z0-9._~-]`.
fn valid_idp_id(id: &str) -> bool {
    (1..=255).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._~-".contains(&b))
}

/// Why a password sign-in failed, when the server offers no password sign-in but single sign-on
/// (`None` when it does offer a password, or cannot say).
pub(super) async fn without_password(http: &Http, base: &Url) -> Option<Error> {
    let flows = LoginFlows::of(http, base).await.ok()?;
    (!flows.has("m.login.password") && flows.has("m.login.sso")).then(|| Error::SignInMethod {
        message: format!("{} signs in with single sign-on only, not a password: approve Keyward in the browser", host_of(base.as_str())),
        remedy: None,
    })
}

/// The page that starts the sign-on: with the identity provider the user picked (one the server
/// offers), else the server's own (which lets the user pick when it has several).
pub(super) async fn page(http: &Http, base: &Url, ask: BrowserAsk<'_>) -> Result<BrowserPage> {
    let host = host_of(base.as_str());
    let flows = LoginFlows::of(http, base).await?;
    if !flows.has("m.login.sso") {
        return Err(Error::SignInMethod {
            message: format!("{host} offers no single sign-on"),
            remedy: Some(if flows.has("m.login.password") {
                Remedy::GivePassword
            } else {
                Remedy::UseToken { label: "access token".into(), page: None }
            }),
        });
    }
    let path = match ask.choice.map(str::trim).filter(|c| !c.is_empty()) {
        None => "_matrix/client/v3/login/sso/redirect".to_string(),
        Some(id) => {
            let offered = flows.identity_providers();
            if !offered.iter().any(|c| c.id == id) {
                let ids: Vec<&str> = offered.iter().map(|c| c.id.as_str()).collect();
                return Err(Error::input(format!(
                    "{host} offers no identity provider {:?} ({}); nothing was opened",
                    crate::text::field(id),
                    if ids.is_empty() { "it names none".to_string() } else { format!("it offers {}", ids.join(", ")) }
                )));
            }
            format!("_matrix/client/v3/login/sso/redirect/{}", enc(id))
        }
    };
    let mut page = join(base, &path);
    // The server appends `loginToken` to this URL, keeping its query: the loopback `state` with it.
    page.query_pairs_mut().append_pair("redirectUrl", ask.back.approved.as_str());
    Ok(BrowserPage::at(page))
}

/// Keyward's own device, from the login token the browser brought back: a browser that came back
/// without one (or to the rejection address) is [`Error::NotApproved`].
pub(super) async fn sign_in(http: &Http, base: &Url, a: &Approved) -> Result<Stored> {
    let host = host_of(base.as_str());
    let token = match a.callback.get("loginToken") {
        Some(t) if !t.is_empty() && !a.callback.path.ends_with("/rejected") => t,
        _ => {
            return Err(Error::NotApproved {
                message: format!(
                    "{host} sent the browser back without a login token (the sign-on was refused or cancelled); nothing was stored"
                ),
            })
        }
    };
    let body =
        TokenLogin { kind: "m.login.token", token: token.expose(), initial_device_display_name: &a.client_name, refresh_token: true };
    let r = http.send(http.post(join(base, "_matrix/client/v3/login")).secret_json(&body)).await?;
    if r.status == StatusCode::FORBIDDEN {
        return Err(Error::NotApproved {
            message: format!(
                "{host} did not accept the login token the browser brought back (used already, or expired); nothing was stored"
            ),
        });
    }
    if !r.is_success() {
        return Err(server_error(&r));
    }
    let login: LoginResponse = r.json("a login answer")?;
    let stored = Stored {
        access_token: Secret::new(login.access_token),
        refresh_token: login.refresh_token.map(Secret::new),
        device_id: login.device_id,
        user_id: login.user_id,
        server_admin: None,
        sso: true,
        oauth: None,
    };
    let asked = a.login.as_deref().map(|l| l.trim().trim_start_matches('@')).filter(|l| !l.is_empty());
    if let Some(asked) = asked {
        let local = |id: &str| id.trim_start_matches('@').split(':').next().unwrap_or("").to_lowercase();
        let matches = stored.user_id.trim_start_matches('@').eq_ignore_ascii_case(asked) || local(&stored.user_id) == local(asked);
        if !matches {
            // Signed on as someone else (another user signed in to that browser): the device made
            // for Keyward goes again.
            let out =
                http.post(join(base, "_matrix/client/v3/logout")).bearer_auth(stored.access_token.expose()).json(&serde_json::json!({}));
            let ended = http.send(out).await.map(|r| r.is_success()).unwrap_or(false);
            return Err(Error::NotApproved {
                message: format!(
                    "the browser signed on as {}, not {}; {}nothing was stored",
                    crate::text::field(&stored.user_id),
                    crate::text::field(asked),
                    if ended { "the device made for Keyward was signed out and " } else { "" }
                ),
            });
        }
    }
    Ok(stored)
}

/// How often the request is repeated while the user finishes the step in the browser.
const POLL_EVERY: Duration = Duration::from_secs(2);

/// The single sign-on fallback page of user-interactive auth for `session`.
pub(super) fn fallback_page(base: &Url, stage: &str, session: &str) -> Url {
    let mut page = join(base, &format!("_matrix/client/v3/auth/{}/fallback/web", enc(stage)));
    page.query_pairs_mut().append_pair("session", session);
    page
}

/// What one repeat of the guarded request said.
pub(super) enum Retry {
    /// Done: the stage was completed and the request went through.
    Done,
    /// Still waiting for the stage (the server answered with the same challenge).
    Waiting,
    /// Anything else: the error to report.
    Failed(Error),
}

impl Retry {
    /// What an answer to the repeated request says: done, the same challenge again (the stage is
    /// not done yet), or an error.
    pub(super) fn of(s: &crate::provider::Session<'_>, r: &crate::net::http::Response) -> Retry {
        if r.is_success() {
            return Retry::Done;
        }
        match serde_json::from_slice::<UiaResponse>(&r.body) {
            Ok(u) if r.status == StatusCode::UNAUTHORIZED && u.session.is_some() && u.errcode.is_none() => Retry::Waiting,
            Ok(u) if r.status == StatusCode::UNAUTHORIZED && u.session.is_none() => {
                Retry::Failed(s.sign_in_again("the server no longer accepts its access token"))
            }
            _ => Retry::Failed(server_error(r)),
        }
    }
}

/// Repeats the guarded request (`retry`, with only the UIA `session`) every two seconds until the
/// user has finished the step in the browser, for at most `wait`, or until the face cancels.
pub(super) async fn until_confirmed<F, Fut>(wait: Duration, cancelled: impl Fn() -> bool, mut retry: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Retry>,
{
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        tokio::time::sleep(POLL_EVERY.min(deadline.saturating_duration_since(tokio::time::Instant::now()))).await;
        if cancelled() {
            return Err(Error::NotApproved { message: "the step in the browser was cancelled; nothing was signed out".into() });
        }
        match retry().await {
            Retry::Done => return Ok(()),
            Retry::Failed(e) => return Err(e),
            Retry::Waiting => {}
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::NotApproved {
                message: format!(
                    "the step in the browser was not finished within {}; nothing was signed out",
                    crate::net::loopback::duration_words(wait)
                ),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flows(json: &str) -> LoginFlows {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn methods_are_the_flows_the_server_offers() {
        let sso_only =
            flows(r#"{"flows":[{"type":"m.login.sso","identity_providers":[{"id":"oidc-one","name":"One"}]},{"type":"m.login.token"}]}"#);
        assert_eq!(sso_only.methods(), [SignInMethod::Token, SignInMethod::Browser]);
        let password_only = flows(r#"{"flows":[{"type":"m.login.password"},{"type":"m.login.application_service"}]}"#);
        assert_eq!(password_only.methods(), [SignInMethod::Password, SignInMethod::Token]);
        let both = flows(r#"{"flows":[{"type":"m.login.password"},{"type":"m.login.sso"}]}"#);
        assert_eq!(both.methods(), [SignInMethod::Password, SignInMethod::Token, SignInMethod::Browser]);
    }

    #[test]
    fn identity_providers_are_checked_and_their_names_made_safe() {
        let f = flows(
            r#"{"flows":[{"type":"m.login.sso","identity_providers":[
                {"id":"oidc-one","name":"One \u001b[31mred\u001b[0m"},
                {"id":"../admin","name":"Path"},
                {"id":"oidc-two"},
                {"id":"oidc-one","name":"Again"}]}]}"#,
        );
        let c = f.identity_providers();
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!(c[0].id, "oidc-one");
        assert!(!c[0].name.contains('\u{1b}') && c[0].name.starts_with("One"), "{:?}", c[0].name);
        assert_eq!(c[1], SignInChoice { id: "oidc-two".into(), name: "oidc-two".into() });
    }

    #[test]
    fn the_fallback_page_names_the_stage_and_session() {
        let base = Url::parse("https://matrix.example.org/").unwrap();
        assert_eq!(
            fallback_page(&base, "m.login.sso", "abc DEF").as_str(),
            "https://matrix.example.org/_matrix/client/v3/auth/m.login.sso/fallback/web?session=abc+DEF"
        );
    }

    #[tokio::test]
    async fn the_wait_for_the_browser_ends_when_done_cancelled_or_too_late() {
        let tries = std::sync::atomic::AtomicUsize::new(0);
        let retry = || async {
            // Done on the second try.
            if tries.fetch_add(1, std::sync::atomic::Ordering::Relaxed) == 0 {
                Retry::Waiting
            } else {
                Retry::Done
            }
        };
        assert!(until_confirmed(Duration::from_secs(10), || false, retry).await.is_ok());
        assert_eq!(tries.load(std::sync::atomic::Ordering::Relaxed), 2);

        let e = until_confirmed(Duration::from_secs(10), || true, || async { Retry::Done }).await.unwrap_err();
        assert!(e.to_string().contains("cancelled; nothing was signed out"), "{e}");

        let e = until_confirmed(Duration::from_millis(200), || false, || async { Retry::Waiting }).await.unwrap_err();
        assert!(e.to_string().contains("not finished within 1 second; nothing was signed out"), "{e}");
    }
}
