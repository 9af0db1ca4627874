//! One listing of a Moodle account: push devices through the API, then browser sessions, web
//! service tokens, the RSS key and personal access tokens from the pages, and the gaps between
//! what the site shows and what exists.
//!
//! A listing changes nothing on the server. So it does not open a page whose mere opening makes
//! credentials (the security keys page before 4.3, see `site.rs`), and it does not sign in to the
//! pages when that would end another browser session the user has not agreed to lose; both are
//! gaps that say what is not shown, why, and what still works. A page the readers do not recognise
//! is an error that names the page, never an empty list; a page Moodle does not show this user is
//! a gap with its link. An expired token is renewed on the way (`api.rs`), not reported.

use chrono::Utc;

use super::api::{AccountApi, Allowed};
use super::mapping::{self, MOBILE_SERVICE_NAME};
use super::pages;
use super::session::{unrecognised, Web, WebError};
use super::site::Site;
use super::stored::Stored;
use super::{KEYS_PAGE, PATS_PAGE, PROFILE_PAGE, SESSIONS_PAGE};
use crate::error::{Remedy, Result};
use crate::model::{AccountActions, Credential, CredentialKind, Gap};
use crate::net::http::{join, one_line};
use crate::provider::{Found, Session};

pub(super) async fn list(s: &Session<'_>) -> Result<Found> {
    let mut stored: Stored = s.load().await?;
    let base = s.base_url()?;
    let mut api = AccountApi::new(s, &mut stored)?;
    let info = api.site_info().await?;
    let site = Site::of(&info);
    let allowed = Allowed::of(&info);
    let (mut credentials, mut gaps) = push_devices(&mut api, &allowed).await?;
    let may_log_in = stored.may_end_a_session || !site.login_ends_a_session();
    let mut web = Web::kept(&base, &stored, may_log_in);
    let sessions_url = join(&base, SESSIONS_PAGE).to_string();
    let mut account_actions = AccountActions { manage_url: Some(sessions_url.clone()), ..Default::default() };
    match from_pages(&mut web, &site).await {
        Ok((creds, more_gaps, others)) => {
            credentials.extend(creds);
            gaps.extend(more_gaps);
            account_actions.revoke_all_others = others;
        }
        Err(WebError::Blocked(b)) => gaps.push(Gap {
            message: format!(
                "Browser sessions, web service tokens and the RSS key are only on Moodle's web pages, and Keyward cannot sign in to them: {}. Push devices are still listed",
                b.0
            ),
            url: Some(sessions_url),
            remedy: None,
        }),
        Err(WebError::WouldEndASession) => gaps.push(would_end_a_session_gap(&site, sessions_url)),
        Err(WebError::Fatal(e)) => return Err(e),
    }
    web.keep_cookies(s, &mut stored).await?;
    gaps.push(Gap {
        message: "OAuth 2 linked logins are not read by Keyward yet: see them on the site".into(),
        url: Some(join(&base, "auth/oauth2/linkedlogins.php").to_string()),
        remedy: None,
    });
    one_current(&mut credentials);
    let own_credential = credentials.iter().find(|c| c.current && c.kind == CredentialKind::ApiToken).map(|c| c.id.clone());
    Ok(Found { credentials, gaps, account_actions, own_credential })
}

/// Keyward has one own credential per account: the mobile-service token when the keys page shows
/// which row it is, else its web session. The session keeps its name either way.
fn one_current(credentials: &mut [Credential]) {
    if credentials.iter().any(|c| c.current && c.kind == CredentialKind::ApiToken) {
        for c in credentials.iter_mut().filter(|c| c.kind == CredentialKind::Session) {
            c.current = false;
        }
    }
}

/// The pages were left alone because signing in would sign the user out of another browser.
fn would_end_a_session_gap(site: &Site, sessions_url: String) -> Gap {
    Gap {
        message: format!(
            "Browser sessions, web service tokens and the RSS key are only on Moodle's web pages, and this site lets you have {} browser session{} at a time: signing Keyward in to the pages now would sign you out of your oldest one, so Keyward has not done it. Push devices are still listed and can be removed (through the web service API)",
            site.login_limit,
            if site.login_limit == 1 { "" } else { "s" }
        ),
        url: Some(sessions_url),
        remedy: Some(Remedy::AllowEndingSession),
    }
}

/// The official app's push devices, or a gap saying why they are not shown.
async fn push_devices(api: &mut AccountApi<'_, '_>, allowed: &Allowed) -> Result<(Vec<Credential>, Vec<Gap>)> {
    let profile = join(api.base(), PROFILE_PAGE).to_string();
    if !allowed.has("message_airnotifier_get_user_devices") {
        return Ok((
            vec![],
            vec![Gap {
                message: "This site does not let the mobile service list push devices, so Keyward cannot show them".into(),
                url: Some(profile),
                remedy: None,
            }],
        ));
    }
    let answer = api.devices().await?;
    let mut gaps = Vec::new();
    if answer.warnings.iter().any(|w| w.warningcode.as_deref() == Some("systemnotconfigured")) {
        gaps.push(Gap {
            message: "This site has no push notification server set up, so Moodle does not list push devices (any that are registered stay unseen)".into(),
            url: None,
            remedy: None,
        });
    } else if let Some(w) = answer.warnings.first() {
        gaps.push(Gap {
            message: format!("Moodle warned while listing push devices: {}", one_line(w.message.as_deref().unwrap_or("no reason given"))),
            url: None,
            remedy: None,
        });
    }
    let removable = allowed.has("core_user_remove_user_device");
    let creds = answer.devices.into_iter().map(|d| mapping::device_credential(d, removable, &profile)).collect();
    Ok((creds, gaps))
}

/// Everything the web pages show, and whether "sign out all others" has anything to do.
/// `Err(WebError::Blocked)` when the pages cannot be used.
async fn from_pages(web: &mut Web, site: &Site) -> Result<(Vec<Credential>, Vec<Gap>, bool), WebError> {
    let base = web.base.clone();
    let mut fresh = false;
    let mut creds = Vec::new();
    let mut gaps = Vec::new();
    let sessions_url = join(&base, SESSIONS_PAGE).to_string();
    let keys_url = join(&base, KEYS_PAGE).to_string();

    let now = Utc::now();
    let mut others = false;
    match web.page(SESSIONS_PAGE, &mut fresh).await? {
        None => gaps.push(Gap {
            message: "This site has no browser sessions page (the user sessions report is turned off)".into(),
            url: None,
            remedy: None,
        }),
        Some(r) => {
            let page = pages::sessions_page(&r.text(), &r.url).map_err(|u| WebError::Fatal(unrecognised(&base, u)))?;
            let zone = page.info.timezone.clone();
            for (i, row) in page.rows.into_iter().enumerate() {
                let c = mapping::session_credential(row, i, zone.as_deref(), now, &sessions_url);
                others |= !c.current && c.actions.revoke;
                creds.push(c);
            }
        }
    }

    if site.keys_page_has_side_effects() {
        gaps.push(Gap {
            message: format!(
                "Web service tokens and the RSS key are not listed: on this site's Moodle ({}), merely opening the security keys page makes a new web service token for every service you have none for and shows every token in clear, so Keyward does not open it. See them on the page",
                if site.release.is_empty() { "a release Keyward cannot tell" } else { site.release.as_str() }
            ),
            url: Some(keys_url.clone()),
            remedy: None,
        });
    } else if let Some(r) = web.page(KEYS_PAGE, &mut fresh).await? {
        let page = pages::keys_page(&r.text(), &r.url).map_err(|u| WebError::Fatal(unrecognised(&base, u)))?;
        let zone = page.info.timezone.clone();
        match page.tokens {
            None => gaps.push(Gap {
                message: "This site does not show you web service tokens (only users allowed to create tokens, usually managers, see them), so Keyward's own mobile-service token and any others are not listed".into(),
                url: Some(keys_url.clone()),
                remedy: None,
            }),
            Some(rows) => {
                let mobile = rows.iter().filter(|t| t.service == MOBILE_SERVICE_NAME).count();
                for (i, row) in rows.into_iter().enumerate() {
                    creds.push(mapping::token_credential(row, i, zone.as_deref(), mobile, &keys_url));
                }
            }
        }
        if let Some(Some(rss)) = page.rss {
            creds.push(mapping::rss_credential(&rss, &keys_url));
        }
    }

    if let Some(r) = web.page(PATS_PAGE, &mut fresh).await? {
        let pats_url = join(&base, PATS_PAGE).to_string();
        let page = pages::pats_page(&r.text()).map_err(|u| WebError::Fatal(unrecognised(&base, u)))?;
        let zone = page.info.timezone.clone();
        for (i, row) in page.rows.into_iter().enumerate() {
            creds.push(mapping::pat_credential(row, i, zone.as_deref(), &pats_url));
        }
    }
    Ok((creds, gaps, others))
}
