//! What each kind of credential is, in one paragraph a person understands without knowing the
//! server: written once here, shown by the app's details pane and by the checkup in both faces
//! (the rows and the findings carry it as `guide`).
//!
//! One paragraph per [`CredentialKind`], with a different wording where a kind of server uses a
//! word of its own for it (a Matrix session is a "device", a Home Assistant session is a refresh
//! token, a Moodle key is an RSS key, a Phorge key is an SSH key). No server text goes in here.

use crate::model::{CredentialKind, Kind};

/// The paragraph for a credential of `kind` on a server of kind `server`.
pub fn explain(kind: CredentialKind, server: Kind) -> &'static str {
    match (kind, server.as_str()) {
        (CredentialKind::Session, "matrix") => {
            "A session is a device or browser that is signed in to your account; Matrix apps call it a device. \
             Whoever holds it can read and send your messages as you, and on encrypted chats it holds keys of its own. \
             If you do not recognise it or no longer use it, sign it out: that app or browser will have to sign in again \
             with your password."
        }
        (CredentialKind::Session, "homeassistant") => {
            "A session is an app or browser that is signed in to your Home Assistant; Home Assistant keeps it as a \
             refresh token, which the app swaps for a short-lived key every half hour or so. Whoever holds it can \
             control your home as you. If you do not recognise it or no longer use it, sign it out: that app or browser \
             will have to sign in again."
        }
        (CredentialKind::Session, _) => {
            "A session is a device or browser that is signed in to your account. Whoever uses it can do what you can \
             do there, without knowing your password. If you do not recognise it or no longer use it, sign it out: that \
             device or browser will have to sign in again with your password."
        }
        (CredentialKind::ApiToken, "moodle") => {
            "A token (Moodle calls it a security key) is a long secret that a program uses instead of your password, \
             such as the Moodle app on your phone or a script. Whoever has it can use the site as you through that \
             service, until it expires or is revoked. Revoke one you do not recognise; the program using it stops \
             working and needs a new one."
        }
        (CredentialKind::ApiToken, _) => {
            "An API token is a long secret that a program uses instead of your password: a script, an integration, \
             a command-line tool. Whoever has it can act as you for what the token allows, without signing in, until \
             it expires or is revoked. Revoke one you do not recognise or no longer need; the program using it stops \
             working."
        }
        (CredentialKind::OauthGrant, _) => {
            "An app authorisation is permission you once gave another app or website to use this account for you \
             (the \"Allow access?\" page). The app got its own key; your password was never shared with it. Revoke \
             the authorisation if you no longer use that app: it loses access at once."
        }
        (CredentialKind::AppPassword, _) => {
            "An app password is a separate password made for one app (a phone app, a publishing tool, a backup \
             plugin), so that the app never knows your real password. It works until it is revoked, even after you \
             change your own password. Revoke one you do not recognise or no longer use; only that app stops working."
        }
        (CredentialKind::PushRegistration, _) => {
            "A push registration lets the server send notifications to a phone or computer: it says where to deliver \
             them. It cannot sign in or read your account by itself, but it shows which devices get your \
             notifications, and notifications can include message previews. Remove it for a device you no longer \
             have."
        }
        (CredentialKind::Key, "moodle") => {
            "A key (Moodle's RSS key) is a secret part of the addresses of your private feeds, such as forum posts \
             in a feed reader. Whoever has such an address can read those feeds without signing in. Replace the key if \
             you do not use feeds or think an address leaked: the old addresses stop working."
        }
        (CredentialKind::Key, "phorge") => {
            "A key (here an SSH key) lets a computer reach your repositories as you, with no password, for as long as \
             that computer has the private half. Revoke a key for a computer you no longer use or do not recognise."
        }
        (CredentialKind::Key, _) => {
            "A key is a secret that lets a computer or program prove it is acting for you, with no password. Whoever \
             has it keeps that access until the key is revoked or replaced. Revoke one you do not recognise or no \
             longer use."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [CredentialKind; 6] = [
        CredentialKind::Session,
        CredentialKind::ApiToken,
        CredentialKind::OauthGrant,
        CredentialKind::AppPassword,
        CredentialKind::PushRegistration,
        CredentialKind::Key,
    ];

    #[test]
    fn every_kind_on_every_server_has_one_paragraph_naming_it() {
        for p in crate::providers::all() {
            for k in ALL {
                let words = explain(k, p.capabilities().kind);
                assert!(words.len() > 120 && !words.contains('\n'), "{k:?}: {words}");
                let noun = k.noun().rsplit(' ').next().unwrap().to_lowercase();
                assert!(words.to_lowercase().contains(&noun), "{k:?} on {}: {words}", p.capabilities().kind);
            }
        }
        assert!(explain(CredentialKind::Session, crate::providers::matrix::KIND).contains("device"));
        assert!(explain(CredentialKind::Key, crate::providers::phorge::KIND).contains("SSH"));
    }
}
