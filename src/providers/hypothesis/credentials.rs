//! What a Hypothesis account's listing says: h's answers turned into [`Credential`]s, and the
//! gaps that tell plainly what Hypothesis cannot show.
//!
//! There is little to list. h keeps one developer token per user, OAuth tokens that only their
//! holder can see, and login sessions ("auth tickets") that no page or API lists. So the rows are
//! the developer token (from the developer page or the one Keyward holds), the OAuth token
//! Keyward holds, and Keyward's own web login; everything else is a gap with the page that comes
//! closest. A token's value never reaches a credential: only its prefix and four characters.

use chrono::{DateTime, Utc};
use url::Url;

use super::web::{ACCOUNT_PAGE, DEVELOPER_PAGE};
use super::wire::{self, DebugToken};
use crate::error::Remedy;
use crate::model::{Actions, ClientHints, Credential, CredentialKind, Fact, Gap};
use crate::net::http::join;
use crate::secret::Secret;

pub const DEVELOPER_TOKEN_ID: &str = "developer-token";
pub const OAUTH_TOKEN_ID: &str = "oauth-token";
pub const WEB_LOGIN_ID: &str = "web-login";

/// How Keyward reaches the account, as far as the rows care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Keyward's own web login: it sees the developer page and can replace the token there.
    WebLogin,
    /// Keyward signs in with this developer token; replacing it needs the account's password.
    DeveloperToken,
    /// Keyward signs in with an app's OAuth access token.
    OauthToken,
}

pub fn developer_page_url(base: &Url) -> String {
    join(base, DEVELOPER_PAGE).to_string()
}

fn account_page_url(base: &Url) -> String {
    join(base, ACCOUNT_PAGE).to_string()
}

/// The developer token. `debug` is h's description of it (`None` when h refused it).
pub fn developer_token(base: &Url, value: &Secret, debug: Option<&DebugToken>, access: Access) -> Credential {
    let mut c = Credential::new(DEVELOPER_TOKEN_ID, CredentialKind::ApiToken);
    c.name = Some("Developer token".into());
    c.details.push(Fact::new("Token", wire::shown(value)));
    token_dates(&mut c, debug);
    if debug.is_some() {
        c.details.push(Fact::new("Issue date", "when the token was first made: Hypothesis keeps that date when the token is regenerated"));
    }
    c.details.push(Fact::new("Used by", "every script or app you gave it to (Hypothesis does not record which, or when)"));
    if access == Access::DeveloperToken {
        // Keyward's own way in, yet not `current`: the core takes a current credential's revoke
        // as signing Keyward out, and replacing this one does not (Keyward switches to the new
        // value). The detail says whose it is instead.
        c.details.push(Fact::new("Keyward", "signs in with this token, and switches to the new one itself when it is replaced"));
    }
    c.manage_url = Some(developer_page_url(base));
    let mut warning = String::from(
        "Hypothesis replaces the developer token with a new one and the old one stops working at once: every script or app that uses it breaks until it is given the new one from the developer page",
    );
    if access == Access::DeveloperToken {
        warning.push_str("; Keyward signs in with it and switches to the new one itself");
    }
    c.actions = Actions {
        revoke: access != Access::OauthToken,
        revoke_replaces: true,
        revoke_needs_password: access == Access::DeveloperToken,
        revoke_warning: Some(warning),
        why_not: Some("Hypothesis gives the developer token no name, so it cannot be renamed".into()),
        ..Default::default()
    };
    c
}

/// The app's OAuth access token Keyward signed in with.
pub fn oauth_token(base: &Url, value: &Secret, debug: &DebugToken) -> Credential {
    let mut c = Credential::new(OAUTH_TOKEN_ID, CredentialKind::ApiToken);
    let client = debug.client.as_ref();
    let client_name = client.and_then(|cl| cl.name.clone()).filter(|n| !n.trim().is_empty());
    c.name = Some(match &client_name {
        Some(n) => format!("OAuth access token of {n}"),
        None => "OAuth access token".into(),
    });
    c.hints = ClientHints { oauth_client: client_name.clone(), app_name: client_name, ..Default::default() };
    c.details.push(Fact::new("Token", wire::shown(value)));
    if let Some(id) = client.and_then(|cl| cl.id.clone()) {
        c.details.push(Fact::new("OAuth client id", id));
    }
    c.details.push(Fact::new("Refresh token", "its refresh token stops working too when it is revoked"));
    token_dates(&mut c, Some(debug));
    c.current = true;
    c.manage_url = Some(developer_page_url(base));
    c.actions = Actions {
        revoke: true,
        revoke_warning: Some("Keyward signs in with this token: revoking it signs Keyward out of the account, and the app it was made for must be authorised again".into()),
        why_not: Some("Hypothesis gives OAuth tokens no name, so they cannot be renamed".into()),
        ..Default::default()
    };
    c
}

fn token_dates(c: &mut Credential, debug: Option<&DebugToken>) {
    let Some(d) = debug else {
        c.details.push(Fact::new("State", "Hypothesis does not accept this token"));
        return;
    };
    c.created = wire::time(d.issued_at.as_deref());
    c.expires = wire::time(d.expires_at.as_deref());
    c.never_expires = d.expires_at.is_none();
    if d.expired {
        c.details.push(Fact::new("State", "expired"));
    }
}

/// Keyward's own web login (an h "auth ticket").
pub fn web_login(since: DateTime<Utc>) -> Credential {
    let mut c = Credential::new(WEB_LOGIN_ID, CredentialKind::Session);
    c.name = Some("Keyward's web login".into());
    c.hints = ClientHints { app_name: Some("Keyward".into()), ..Default::default() };
    c.created = Some(since);
    c.details.push(Fact::new("Ends", "when Keyward signs out, or after 90 days without use"));
    c.current = true;
    // No page of h manages a login (the account page cannot end one): no manage_url.
    c.actions = Actions {
        revoke: false,
        why_not: Some("This is Keyward's own web login: it ends when the account is removed from Keyward with signing out".into()),
        ..Default::default()
    };
    c
}

/// What Hypothesis cannot show, for every account, each with the page that comes closest.
pub fn gaps(base: &Url, access: Access, has_developer_token: Option<bool>) -> Vec<Gap> {
    let developer = developer_page_url(base);
    let mut gaps = vec![
        Gap::with_url(
            "Hypothesis cannot list login sessions: other browsers signed in to this account stay unseen here, and each stays signed in until it logs out or 90 days pass without use",
            account_page_url(base),
        ),
        Gap::with_url(
            "Hypothesis does not show which apps you authorised (OAuth): only the app holding a token can see or revoke it",
            developer.clone(),
        ),
        Gap::with_url("Hypothesis records no last use of tokens or logins, so Keyward cannot say when any was last used", developer.clone()),
    ];
    match access {
        Access::WebLogin if has_developer_token == Some(false) => {
            gaps.push(Gap::with_url("This account has no developer token (one can be made on the developer page)", developer));
        }
        Access::WebLogin => {}
        Access::DeveloperToken => gaps.push(Gap {
            message: "Replacing the developer token needs the account's password: Keyward signed in with the token, and Hypothesis replaces it only on its web pages".into(),
            url: Some(developer),
            remedy: Some(Remedy::GivePassword),
        }),
        Access::OauthToken => gaps.push(Gap::with_url(
            "The developer token is shown only on the developer page, after signing in with the password: Keyward signed in with an app's OAuth token and cannot see it",
            developer,
        )),
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://h.example/").unwrap()
    }

    fn debug(json: &str) -> DebugToken {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn developer_token_row_never_holds_the_value_and_says_it_is_replaced() {
        let value = Secret::new("6879-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789xyz");
        let d = debug(r#"{"userid": "acct:a@h", "expires_at": null, "issued_at": "2026-05-01T10:00:00.000000+00:00", "expired": false}"#);
        let c = developer_token(&base(), &value, Some(&d), Access::WebLogin);
        let json = serde_json::to_string(&c).unwrap();
        assert!(!json.contains("EfGh") && json.contains("6879-AbCd…"), "{json}");
        assert!(c.actions.revoke && c.actions.revoke_replaces && !c.actions.revoke_needs_password && !c.current);
        assert!(c.never_expires && c.created.is_some());
        assert!(c.actions.revoke_warning.as_deref().unwrap().contains("every script"));
        let own = developer_token(&base(), &value, Some(&d), Access::DeveloperToken);
        assert!(!own.current && own.actions.revoke_needs_password);
        assert!(own.details.iter().any(|f| f.label == "Keyward"));
    }

    #[test]
    fn oauth_row_names_its_client_and_expiry() {
        let value = Secret::new("5768-ZyXwVuTsRq");
        let d = debug(
            r#"{"userid": "acct:a@h", "expires_at": "2026-05-01T11:00:00.000000+00:00", "issued_at": "2026-05-01T10:00:00.000000+00:00", "expired": false, "client": {"id": "c1", "name": "Exporter"}}"#,
        );
        let c = oauth_token(&base(), &value, &d);
        assert_eq!(c.hints.oauth_client.as_deref(), Some("Exporter"));
        assert!(c.expires.is_some() && !c.never_expires && c.current && c.actions.revoke);
        assert!(!serde_json::to_string(&c).unwrap().contains("VuTs"));
    }

    #[test]
    fn every_listing_says_what_hypothesis_cannot_show_with_a_page() {
        for access in [Access::WebLogin, Access::DeveloperToken, Access::OauthToken] {
            let g = gaps(&base(), access, Some(true));
            assert!(g.iter().all(|g| g.url.is_some()));
            let all: String = g.iter().map(|g| g.message.clone()).collect();
            assert!(all.contains("login sessions") && all.contains("apps you authorised") && all.contains("last use"), "{all}");
        }
        assert!(gaps(&base(), Access::DeveloperToken, None).iter().any(|g| g.remedy == Some(Remedy::GivePassword)));
        assert!(gaps(&base(), Access::WebLogin, Some(false)).iter().any(|g| g.message.contains("no developer token")));
    }
}
