//! Moodle's answers turned into the model: push devices (API), browser sessions, web service
//! tokens, the RSS key and personal access tokens (pages) become [`Credential`]s, site info
//! becomes the account's facts.
//!
//! One function per kind of thing, each taking the wire or page type and returning the model;
//! no network and no keyring here. The wording of what Moodle cannot do (rename, reset someone
//! else's token) is here too, next to the credential it belongs to.

use chrono::{DateTime, TimeZone, Utc};

use super::api::{Device, SiteInfo};
use super::{models, pages};
use crate::model::{Actions, ClientHints, Credential, CredentialKind, Fact, LastUsedMeaning};

/// The mobile service's name as the security keys page shows it.
pub(super) const MOBILE_SERVICE_NAME: &str = "Moodle mobile web service";

/// What the account shows about its site, from site info.
pub(super) fn site_facts(info: &SiteInfo) -> Vec<Fact> {
    let mut facts = Vec::new();
    if let Some(n) = &info.sitename {
        facts.push(Fact::new("Site", n.clone()));
    }
    if let Some(r) = &info.release {
        facts.push(Fact::new("Moodle release", r.clone()));
    }
    if let Some(n) = &info.fullname {
        facts.push(Fact::new("User", n.clone()));
    }
    facts
}

fn time(secs: Option<i64>) -> Option<DateTime<Utc>> {
    secs.filter(|s| *s > 0).and_then(|s| Utc.timestamp_opt(s, 0).single())
}

/// An address as Keyward shows them everywhere: Moodle writes IPv6 in full
/// ("2001:db8:85a3:0:0:8a2e:370:7334"), the usual form is "2001:db8:85a3::8a2e:370:7334". Text
/// that is not an address stays as the page wrote it.
fn ip_text(s: &str) -> String {
    s.trim().parse::<std::net::IpAddr>().map(|ip| ip.to_string()).unwrap_or_else(|_| s.to_string())
}

fn rename_why_not(what: &str, url: &str) -> String {
    format!("Moodle offers no way to rename {what}; the closest page is {url}")
}

pub(super) fn device_credential(d: Device, removable: bool, profile: &str) -> Credential {
    let mut c = Credential::new(format!("push-{}", d.id), CredentialKind::PushRegistration);
    c.name = d.name.clone().filter(|n| !n.is_empty());
    let code = d.model.clone().filter(|m| !m.is_empty());
    let product = code.as_deref().and_then(models::apple_name);
    c.hints = ClientHints {
        device_name: d.name.clone().filter(|n| !n.is_empty()),
        app_id: Some(d.appid.clone()),
        model: product.map(str::to_string).or(code.clone()),
        platform: d.platform.clone().filter(|p| !p.is_empty()),
        version: d.version.clone().filter(|v| !v.is_empty()),
        ..Default::default()
    };
    c.created = time(d.timecreated);
    c.last_used = time(d.timemodified);
    c.last_used_meaning = LastUsedMeaning::Modified;
    c.details.push(Fact::new("App ID", d.appid.clone()));
    match (product, &code) {
        (Some(name), Some(code)) => c.details.push(Fact::new("Model", format!("{name} ({code})"))),
        (_, Some(code)) => c.details.push(Fact::new("Model", code.clone())),
        _ => {}
    }
    if let Some(p) = &c.hints.platform {
        c.details.push(Fact::new("Platform", p.clone()));
    }
    if let Some(v) = &c.hints.version {
        c.details.push(Fact::new("OS version", v.clone()));
    }
    if let Some(e) = d.enable {
        c.details.push(Fact::new("Notifications", if e == 1 { "on" } else { "off" }));
    }
    c.manage_url = Some(profile.to_string());
    c.actions = Actions {
        rename: false,
        revoke: removable,
        why_not: Some(if removable {
            rename_why_not("a push device (it takes the name the phone gives itself)", profile)
        } else {
            "This site does not let the mobile service remove push devices (core_user_remove_user_device is not allowed)".into()
        }),
        ..Default::default()
    };
    c
}

pub(super) fn session_credential(row: pages::SessionRow, i: usize, zone: Option<&str>, now: DateTime<Utc>, url: &str) -> Credential {
    let id = match (&row.id, row.current) {
        (_, true) => "session-current".to_string(),
        (Some(id), false) => format!("session-{id}"),
        (None, false) => format!("session-row{i}"),
    };
    let mut c = Credential::new(id, CredentialKind::Session);
    c.current = row.current;
    c.created = pages::moodle_time(&row.login_text, zone);
    c.last_used = if row.current { Some(now) } else { pages::moodle_ago(&row.last_access_text, now) };
    c.tracks_use = true;
    c.last_ip = row.last_ip.as_deref().map(ip_text);
    if row.current {
        c.name = Some("Keyward's own web session".into());
    }
    c.details.push(Fact::new("Logged in (as Moodle shows it)", row.login_text.clone()));
    if !row.current {
        c.details.push(Fact::new("Last access (as Moodle shows it)", row.last_access_text.clone()));
    }
    match zone {
        Some(z) if c.created.is_some() => c.details.push(Fact::new("Time zone of the page", z)),
        _ => c.details.push(Fact::new("Login time", "shown in a time zone or format Keyward cannot read, so kept as Moodle wrote it")),
    }
    c.details.push(Fact::new("User agent", "not recorded by Moodle"));
    c.manage_url = Some(url.to_string());
    let rename = rename_why_not("a browser session", url);
    c.actions = match (row.current, &row.logout_href) {
        (true, _) => Actions {
            revoke: false,
            why_not: Some("Moodle's sessions page cannot sign out the session it is viewed with: this is Keyward's own, which ends when you remove the account and sign Keyward out of it".into()),
            ..Default::default()
        },
        (false, Some(_)) => Actions { revoke: true, why_not: Some(rename), ..Default::default() },
        (false, None) => Actions { revoke: false, why_not: Some(format!("The sessions page offers no log out for this session: {url}")), ..Default::default() },
    };
    c
}

pub(super) fn token_id(t: &pages::TokenRow, i: usize) -> String {
    match (&t.id, &t.name) {
        (Some(id), _) => format!("wstoken-{id}"),
        (None, Some(name)) => format!("wstoken-{}", name.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")),
        (None, None) => format!("wstoken-row{i}"),
    }
}

pub(super) fn token_credential(t: pages::TokenRow, i: usize, zone: Option<&str>, mobile_rows: usize, url: &str) -> Credential {
    let mut c = Credential::new(token_id(&t, i), CredentialKind::ApiToken);
    let is_mobile = t.service == MOBILE_SERVICE_NAME;
    c.name = t.name.clone().or_else(|| Some(t.service.clone()));
    c.hints = ClientHints { app_name: Some(t.service.clone()), note: t.name.clone(), ..Default::default() };
    // Moodle hands its mobile-service token to every app of the user: with one such token, it is
    // the one Keyward signed in with.
    c.current = is_mobile && mobile_rows == 1;
    c.details.push(Fact::new("Service", t.service.clone()));
    if let Some(cr) = &t.creator {
        c.details.push(Fact::new("Created by", cr.clone()));
    }
    if t.valid_until_text.is_empty() {
        c.never_expires = true;
    } else {
        c.expires = pages::moodle_time(&t.valid_until_text, zone);
        c.details.push(Fact::new("Valid until (as Moodle shows it)", t.valid_until_text.clone()));
    }
    if let Some(last) = &t.last_access_text {
        c.tracks_use = true;
        if !last.is_empty() {
            c.last_used = pages::moodle_time(last, zone);
            c.details.push(Fact::new("Last access (as Moodle shows it)", last.clone()));
        }
    }
    if is_mobile && mobile_rows > 1 {
        c.details.push(Fact::new("Keyward", "one of the mobile-service tokens is Keyward's own; the page does not say which"));
    }
    c.manage_url = Some(url.to_string());
    let mut warning = "Moodle has no delete for tokens here, only Reset: this token stops working and Moodle makes a new one for the same service (shown once on its page; Keyward does not keep it)".to_string();
    if is_mobile {
        warning = format!("Moodle gives this same token to every Moodle app signed in as you, your phone included, and to Keyward: they will all be signed out. {warning}");
    }
    c.actions = Actions {
        rename: false,
        revoke: t.reset_href.is_some(),
        revoke_warning: Some(warning),
        why_not: Some(match (&t.reset_href, &t.creator) {
            (Some(_), _) => rename_why_not("a web service token (its name is generated)", url),
            (None, Some(cr)) => format!("Only the person who made this token ({cr}) can reset it: ask them or a site administrator"),
            (None, None) => "Only the person who made this token can reset it: ask a site administrator".into(),
        }),
        ..Default::default()
    };
    c
}

pub(super) fn rss_credential(k: &pages::RssKey, url: &str) -> Credential {
    let mut c = Credential::new("rsskey", CredentialKind::Key);
    c.name = Some("RSS feed key".into());
    c.details.push(Fact::new("Used by", "every RSS feed address of this site that you subscribed to"));
    c.manage_url = Some(url.to_string());
    c.actions = Actions {
        revoke: k.reset_href.is_some(),
        revoke_warning: Some("Every RSS feed address made with this key stops working; Moodle makes a new key for new addresses".into()),
        why_not: Some(rename_why_not("the RSS key", url)),
        ..Default::default()
    };
    c
}

pub(super) fn pat_id(r: &pages::PatRow, i: usize) -> String {
    match &r.id {
        Some(id) => format!("pat-{id}"),
        None => format!("pat-row{i}"),
    }
}

pub(super) fn pat_credential(r: pages::PatRow, i: usize, zone: Option<&str>, url: &str) -> Credential {
    let mut c = Credential::new(pat_id(&r, i), CredentialKind::ApiToken);
    c.name = Some(r.name.clone()).filter(|n| !n.is_empty());
    c.hints = ClientHints { note: c.name.clone(), ..Default::default() };
    if let Some(d) = &r.description {
        c.details.push(Fact::new("Description", d.clone()));
    }
    if let Some(sc) = &r.scopes {
        c.restrictions = sc.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    }
    match r.expires_text.as_deref() {
        None | Some("Never") | Some("never") => c.never_expires = r.expires_text.is_some(),
        Some(t) => {
            c.expires = pages::moodle_time(t, zone);
            c.details.push(Fact::new("Expires (as Moodle shows it)", t));
        }
    }
    c.tracks_use = true;
    if let Some(t) = r.last_access_text.as_deref().filter(|t| !t.eq_ignore_ascii_case("never")) {
        c.last_used = pages::moodle_time(t, zone);
        c.details.push(Fact::new("Last accessed (as Moodle shows it)", t));
    }
    c.manage_url = Some(url.to_string());
    c.actions = Actions { revoke: r.revoke.is_some(), why_not: Some(rename_why_not("a personal access token", url)), ..Default::default() };
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(model: &str, platform: &str) -> Device {
        serde_json::from_value(serde_json::json!({"id": 2, "appid": "com.moodle.moodlemobile", "name": "Phone", "model": model,
            "platform": platform, "version": "17.4", "uuid": "u", "enable": 1, "timecreated": 1, "timemodified": 2}))
        .unwrap()
    }

    #[test]
    fn an_apple_model_code_reads_as_its_name_with_the_code_kept() {
        let c = device_credential(device("iPhone14,8", "ios"), true, "http://m/user/profile.php");
        assert_eq!(c.hints.model.as_deref(), Some("iPhone 14 Plus"));
        assert!(c.details.iter().any(|f| f.value == "iPhone 14 Plus (iPhone14,8)"), "{:?}", c.details);
        let c = device_credential(device("Pixel", "android"), true, "http://m/user/profile.php");
        assert_eq!(c.hints.model.as_deref(), Some("Pixel"));
    }

    #[test]
    fn ipv6_as_moodle_writes_it_is_shown_in_the_usual_form() {
        assert_eq!(ip_text("2001:db8:85a3:0:0:8a2e:370:7334"), "2001:db8:85a3::8a2e:370:7334");
        assert_eq!(ip_text("127.0.0.1"), "127.0.0.1");
        assert_eq!(ip_text("not an address"), "not an address");
    }
}
