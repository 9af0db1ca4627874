//! Revoking on a Moodle site: push devices through the API; browser sessions, web service
//! tokens, the RSS key and personal access tokens through the actions of their pages.
//!
//! Moodle ignores a wrong `sesskey` silently, so after every page action the page is read again
//! and the item must be gone (or, for the RSS key, changed): anything else is a failure with its
//! reason, never "done". Moodle has no delete for web service tokens on its pages, only "Reset",
//! which replaces the token with a new one for the same service; the new value it shows once is
//! dropped unread. Tokens are reset last, since resetting Keyward's own ends its API access.
//! Site info is read first: it renews an expired token on the way, and tells whether signing in
//! to the pages again (when the kept web session has expired) would end another browser session.

use url::Url;

use super::api::AccountApi;
use super::mapping::{pat_id, token_id};
use super::pages::{self, Unrecognised};
use super::session::{unrecognised, Web};
use super::site::Site;
use super::stored::Stored;
use super::{KEYS_PAGE, PATS_PAGE, SESSIONS_PAGE};
use crate::error::{Error, Result};
use crate::provider::{Revoked, Session};

pub(super) async fn revoke(s: &Session<'_>, ids: &[String]) -> Result<Vec<Revoked>> {
    let mut stored: Stored = s.load().await?;
    let base = s.base_url()?;
    let mut api = AccountApi::new(s, &mut stored)?;
    let site = Site::of(&api.site_info().await?);
    let mut results = Vec::new();
    let push: Vec<String> = ids.iter().filter(|i| i.starts_with("push-")).cloned().collect();
    let sessions: Vec<String> = ids.iter().filter(|i| i.starts_with("session-")).cloned().collect();
    if !push.is_empty() {
        results.extend(remove_devices(&mut api, &push).await?);
    }
    let mut web = Web::kept(&base, &stored, stored.may_end_a_session || !site.login_ends_a_session());
    if !sessions.is_empty() {
        results.extend(sign_out_sessions(&mut web, &sessions).await?);
    }
    // Tokens last: resetting Keyward's own token ends its API access.
    for id in ids.iter().filter(|i| i.starts_with("pat-")) {
        results.push(revoke_pat(&mut web, id).await?);
    }
    if ids.iter().any(|i| i == "rsskey") {
        results.push(reset_rss(&mut web, "rsskey").await?);
    }
    for id in ids.iter().filter(|i| i.starts_with("wstoken-")) {
        results.push(reset_token(&mut web, id).await?);
    }
    for id in ids {
        if !results.iter().any(|r| &r.id == id) {
            results.push(Revoked::failed(id, "Keyward does not know this kind of Moodle credential"));
        }
    }
    web.keep_cookies(s, &mut stored).await?;
    Ok(results)
}

/// Every browser session but Keyward's own: with the page's "log out all other sessions" where
/// it has one, else one by one (Moodle 4.1 to 4.4).
pub(super) async fn all_others(s: &Session<'_>) -> Result<Vec<Revoked>> {
    let mut stored: Stored = s.load().await?;
    let base = s.base_url()?;
    let site = Site::of(&AccountApi::new(s, &mut stored)?.site_info().await?);
    let mut web = Web::kept(&base, &stored, stored.may_end_a_session || !site.login_ends_a_session());
    let (page, at) = web.read(SESSIONS_PAGE, pages::sessions_page).await?;
    let others: Vec<String> =
        page.rows.iter().filter(|r| !r.current).filter_map(|r| r.id.clone()).map(|id| format!("session-{id}")).collect();
    let results = match (&page.delete_all, others.is_empty()) {
        (_, true) => Vec::new(),
        (None, false) => sign_out_sessions(&mut web, &others).await?,
        (Some(all), false) => sign_out_all(&mut web, all, &at, &others).await?,
    };
    web.keep_cookies(s, &mut stored).await?;
    Ok(results)
}

/// Follows the page's "log out all other sessions" action, then checks each one is gone.
async fn sign_out_all(web: &mut Web, all: &pages::DeleteAll, at: &Url, others: &[String]) -> Result<Vec<Revoked>> {
    let w = &mut web.session;
    let r = match all {
        pages::DeleteAll::Link(href) => {
            let url = at.join(href).map_err(|_| Error::bad_response(crate::model::host_of(at.as_str()), "a bad log out link"))?;
            w.get(url).await?
        }
        pages::DeleteAll::Form(f) => {
            let action = f.action.as_deref().and_then(|a| at.join(a).ok()).unwrap_or(at.clone());
            if f.method == "post" {
                w.post_form(action, &f.hidden).await?
            } else {
                let mut u = action;
                u.query_pairs_mut().extend_pairs(f.hidden.iter());
                w.get(u).await?
            }
        }
    };
    w.follow(r).await?;
    let (after, _) = web.read(SESSIONS_PAGE, pages::sessions_page).await?;
    Ok(others.iter().map(|id| sign_out_result(&after, id)).collect())
}

/// `ok` when the sessions page no longer lists the session, else why not.
fn sign_out_result(after: &pages::SessionsPage, id: &str) -> Revoked {
    let sid = id.trim_start_matches("session-");
    if after.rows.iter().any(|r| r.id.as_deref() == Some(sid)) {
        Revoked::failed(id, "Moodle did not sign it out: the sessions page still lists it")
    } else {
        Revoked::ok(id)
    }
}

/// Signs sessions out one by one with their "Log out" links, then reads the page again.
async fn sign_out_sessions(web: &mut Web, ids: &[String]) -> Result<Vec<Revoked>> {
    let (page, at) = web.read(SESSIONS_PAGE, pages::sessions_page).await?;
    let mut results = Vec::new();
    let mut tried = Vec::new();
    for id in ids {
        let sid = id.trim_start_matches("session-");
        match page.rows.iter().find(|r| r.id.as_deref() == Some(sid)).and_then(|r| r.logout_href.clone()) {
            None => results.push(Revoked::failed(id, "it is no longer listed on the sessions page")),
            Some(href) => {
                let url = at.join(&href).map_err(|_| Error::bad_response(crate::model::host_of(at.as_str()), "a bad log out link"))?;
                let r = web.session.get(url).await?;
                web.session.follow(r).await?;
                tried.push(id.clone());
            }
        }
    }
    if !tried.is_empty() {
        let (after, _) = web.read(SESSIONS_PAGE, pages::sessions_page).await?;
        results.extend(tried.iter().map(|id| sign_out_result(&after, id)));
    }
    Ok(results)
}

/// Resets one web service token through its confirmation form, then checks it is gone.
async fn reset_token(web: &mut Web, id: &str) -> Result<Revoked> {
    let (page, at) = web.read(KEYS_PAGE, pages::keys_page).await?;
    let rows = page.tokens.unwrap_or_default();
    let Some(row) = rows.iter().find(|t| token_id(t, 0) == id) else {
        return Ok(Revoked::failed(id, "it is no longer listed on the security keys page"));
    };
    let Some(href) = row.reset_href.clone() else {
        return Ok(Revoked::failed(id, "the security keys page offers no reset for it"));
    };
    let url = at.join(&href).map_err(|_| Error::bad_response(crate::model::host_of(at.as_str()), "a bad reset link"))?;
    confirm(web, url).await?;
    let (after, _) = web.read(KEYS_PAGE, pages::keys_page).await?;
    if after.tokens.unwrap_or_default().iter().any(|t| token_id(t, 0) == id) {
        return Ok(Revoked::failed(id, "Moodle did not reset it: the security keys page still lists it"));
    }
    Ok(Revoked::ok(id))
}

/// Resets the RSS key; done when the page then shows another key.
async fn reset_rss(web: &mut Web, id: &str) -> Result<Revoked> {
    let (page, at) = web.read(KEYS_PAGE, pages::keys_page).await?;
    let Some(Some(before)) = page.rss else {
        return Ok(Revoked::failed(id, "the security keys page no longer shows an RSS key"));
    };
    let Some(href) = before.reset_href.clone() else {
        return Ok(Revoked::failed(id, "the security keys page offers no reset for the RSS key"));
    };
    let url = at.join(&href).map_err(|_| Error::bad_response(crate::model::host_of(at.as_str()), "a bad reset link"))?;
    confirm(web, url).await?;
    let (after, _) = web.read(KEYS_PAGE, pages::keys_page).await?;
    match after.rss {
        Some(Some(k)) if k.fingerprint == before.fingerprint => {
            Ok(Revoked::failed(id, "Moodle did not reset it: the page shows the same key"))
        }
        _ => Ok(Revoked::ok(id)),
    }
}

/// Opens a reset link, and submits the confirmation form it answers with.
async fn confirm(web: &mut Web, url: Url) -> Result<()> {
    let opened = web.session.open(url).await?;
    let Some(form) = pages::confirm_form(&opened.response.text()) else {
        return Err(unrecognised(
            &web.base,
            Unrecognised("the reset link did not show Moodle's confirmation form; nothing was reset".into()),
        ));
    };
    let action = form.action.as_deref().and_then(|a| opened.response.url.join(a).ok()).unwrap_or_else(|| opened.response.url.clone());
    let r = web.session.post_form(action, &form.hidden).await?;
    // The answer shows the new token once; it is dropped here, never read or kept.
    drop(web.session.follow(r).await?);
    Ok(())
}

async fn revoke_pat(web: &mut Web, id: &str) -> Result<Revoked> {
    let (page, at) = web.read(PATS_PAGE, |h, _| pages::pats_page(h)).await?;
    let Some(row) = page.rows.iter().enumerate().find(|(i, r)| pat_id(r, *i) == id).map(|(_, r)| r.clone()) else {
        return Ok(Revoked::failed(id, "it is no longer listed on the personal access tokens page"));
    };
    let Some(form) = row.revoke else {
        return Ok(Revoked::failed(id, "the page offers no revoke for it"));
    };
    let action = form.action.as_deref().and_then(|a| at.join(a).ok()).unwrap_or(at.clone());
    let r = web.session.post_form(action, &form.hidden).await?;
    web.session.follow(r).await?;
    let (after, _) = web.read(PATS_PAGE, |h, _| pages::pats_page(h)).await?;
    if after.rows.iter().enumerate().any(|(i, r)| pat_id(r, i) == id) {
        return Ok(Revoked::failed(id, "Moodle did not revoke it: the page still lists it"));
    }
    Ok(Revoked::ok(id))
}

/// Removes push devices through the API, each checked against the current device list.
async fn remove_devices(api: &mut AccountApi<'_, '_>, ids: &[String]) -> Result<Vec<Revoked>> {
    let answer = api.devices().await?;
    let mut results = Vec::new();
    for id in ids {
        let Some(d) = answer.devices.iter().find(|d| format!("push-{}", d.id) == *id) else {
            results.push(Revoked::failed(id, "it is already gone"));
            continue;
        };
        results.push(match api.remove_device(d).await {
            Ok(a) if a.removed => Revoked::ok(id),
            Ok(a) => Revoked::failed(
                id,
                match a.warnings.first().and_then(|w| w.warningcode.as_deref()) {
                    Some("devicedoesnotexist") => "Moodle says the device is already gone".to_string(),
                    _ => format!(
                        "Moodle did not remove it ({})",
                        a.warnings.first().and_then(|w| w.message.clone()).unwrap_or_else(|| "no reason given".into())
                    ),
                },
            ),
            Err(e) => Revoked::failed(id, e),
        });
    }
    Ok(results)
}
