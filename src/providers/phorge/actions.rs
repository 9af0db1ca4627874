//! Renaming and revoking on a Phorge, and checking on its panels that it happened.
//!
//! Every action is the form post of Phorge's own dialog (`session.rs` sends it, through the
//! high-security checkpoint where Phorge puts one), then the panel is read again: an item is
//! reported gone only when the panel no longer lists it, so a checkpoint answer or a dialog shown
//! again is never taken for success. The actions that need high security (API tokens, SSH keys)
//! go first, so a missing or wrong one-time code stops a revoke before anything is changed; the
//! actions that end Keyward's own session go last.

use serde_json::json;

use super::conduit::{self, Refusal};
use super::credentials::{self, EVERY_SESSION};
use super::pages;
use super::session::{Kept, Page, Posted};
use super::Stored;
use crate::error::{Error, Remedy, Result};
use crate::provider::{Proof, Revoked, Session};
use crate::secret::Secret;

/// The settings panels of one user (their paths).
pub struct Panels {
    tokens: String,
    sessions: String,
    ssh: String,
    oauth: String,
    temps: String,
}

impl Panels {
    pub fn of(stored: &Stored) -> Self {
        Panels {
            tokens: stored.panel("apitokens"),
            sessions: stored.panel("sessions"),
            ssh: stored.panel("ssh"),
            oauth: stored.panel("oauthorizations"),
            temps: stored.panel("tokens"),
        }
    }
}

/// What a credential id names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Token(u64),
    Key(u64),
    Oauth(u64),
    Temp(u64),
    Session(String),
    Every,
}

fn target(id: &str) -> Option<Target> {
    let n = |p: &str| id.strip_prefix(p).and_then(|n| n.parse().ok());
    if id == EVERY_SESSION {
        return Some(Target::Every);
    }
    if id.starts_with("session-") {
        return Some(Target::Session(id.to_string()));
    }
    n("token-")
        .map(Target::Token)
        .or_else(|| n("sshkey-").map(Target::Key))
        .or_else(|| n("oauth-").map(Target::Oauth))
        .or_else(|| n("temptoken-").map(Target::Temp))
}

/// Why an action's answer was not the redirect of a done action, in one sentence.
fn not_done(p: &Page) -> String {
    if p.status == 404 {
        return "Phorge says it does not exist any more".into();
    }
    match pages::dialog(&p.html) {
        Some(d) if d.error.is_some() => format!("Phorge refused: {}", d.error.unwrap_or_default()),
        Some(d) if d.title == "No Matching Sessions" => "Phorge found no such session to terminate".into(),
        Some(_) => "Phorge showed its confirmation dialog again and did nothing".into(),
        None => "Phorge answered with a page Keyward does not know, and did nothing".into(),
    }
}

const NOT_GONE: &str = "Phorge answered as if it were done, but its panel still lists it";

fn unrecognised(s: &Session<'_>, u: pages::Unrecognised) -> Error {
    Error::bad_response(s.account.host(), format!("a page layout Keyward does not know: {}", u.0))
}

async fn read<T>(s: &Session<'_>, kept: &mut Kept, path: &str, f: fn(&str) -> std::result::Result<T, pages::Unrecognised>) -> Result<T> {
    let p = kept.page(path).await?;
    if p.status != 200 {
        return Err(Error::bad_response(s.account.host(), format!("a settings panel answered HTTP {}", p.status)));
    }
    f(&p.html).map_err(|u| unrecognised(s, u))
}

pub fn needs_web(s: &Session<'_>) -> Error {
    Error::Unsupported {
        message: format!(
            "{} is signed in with a Conduit API token, and Conduit cannot do this: it is done on Phorge's settings pages, which need a password sign-in",
            s.account.name()
        ),
        remedy: Some(Remedy::SignInAgain),
    }
}

/// Renames an API token: Phorge's edit dialog, posted without ever being opened (it shows the
/// token's full secret). A name Phorge would not take is refused here, whole.
pub async fn rename(s: &Session<'_>, panel: &str, kept: &mut Kept, id: &str, name: &str, proof: &Proof) -> Result<()> {
    let Some(Target::Token(n)) = target(id) else {
        return Err(Error::unsupported("Keyward renames Phorge's API tokens only"));
    };
    credentials::check_token_name(name).map_err(Error::input)?;
    match kept.act(&format!("conduit/token/edit/{n}/"), &[("name", name)], proof).await? {
        Posted::Redirect(_) => {}
        Posted::Page(p) => return Err(Error::Server { host: s.account.host(), message: not_done(&p) }),
        Posted::Dead => return Err(s.sign_in_again("Phorge ended Keyward's web session")),
    }
    let rows = read(s, kept, panel, pages::api_tokens).await?.rows;
    match rows.iter().find(|r| r.id == n) {
        Some(r) if r.name == name => Ok(()),
        Some(_) => Err(Error::Server {
            host: s.account.host(),
            message: "Phorge answered as if the token were renamed, but its panel shows the old name".into(),
        }),
        None => Err(Error::Server { host: s.account.host(), message: "the token is no longer listed".into() }),
    }
}

/// The results so far, and what is left when one action fails: before anything was done the
/// failure is the whole answer; after, the rest are reported as not tried.
struct Run {
    results: Vec<Revoked>,
    done_any: bool,
}

impl Run {
    /// Actions Phorge confirmed but Keyward could not check on the panel.
    fn unchecked(mut self, sent: &[String], e: &Error) -> Self {
        for id in sent {
            self.results
                .push(Revoked::failed(id, format!("Phorge answered as if it were done, but Keyward could not check its panel ({e})")));
        }
        self
    }

    fn stop(mut self, e: Error, rest: &[String]) -> Result<Vec<Revoked>> {
        if !self.done_any {
            return Err(e);
        }
        let why = e.to_string();
        for id in rest {
            if !self.results.iter().any(|r| &r.id == id) {
                self.results.push(Revoked::failed(id, format!("not tried: {why}")));
            }
        }
        Ok(self.results)
    }
}

/// Revokes credentials of different kinds in one go, each through its own panel's dialog.
pub async fn revoke(s: &Session<'_>, panels: &Panels, kept: &mut Kept, ids: &[String], proof: &Proof) -> Result<Vec<Revoked>> {
    let mut run = Run { results: Vec::new(), done_any: false };
    let mut targets: Vec<(String, Target)> = Vec::new();
    for id in ids {
        match target(id) {
            Some(t) => targets.push((id.clone(), t)),
            None => run.results.push(Revoked::failed(id, "Keyward does not know this kind of Phorge credential")),
        }
    }
    // High security first (tokens, SSH keys), Keyward's own session last.
    let rank = |t: &Target| match t {
        Target::Token(_) => 0,
        Target::Key(_) => 1,
        Target::Oauth(_) => 2,
        Target::Temp(_) => 3,
        Target::Session(_) => 4,
        Target::Every => 6,
    };
    targets.sort_by_key(|(_, t)| rank(t));

    // Sessions are named by digest; their dialogs by the id in their Terminate link.
    let mut own_session = None;
    let mut session_paths = Vec::new();
    if targets.iter().any(|(_, t)| matches!(t, Target::Session(_))) {
        let panel = match read(s, kept, &panels.sessions, pages::sessions).await {
            Ok(p) => p,
            Err(e) => return run.stop(e, ids),
        };
        for (id, t) in &targets {
            let Target::Session(cid) = t else { continue };
            match panel.rows.iter().find(|r| &credentials::session_id(r, &panel.rows) == cid) {
                Some(r) if r.current => own_session = Some(id.clone()),
                Some(r) => match r.id {
                    Some(n) => session_paths.push((id.clone(), format!("auth/session/terminate/{n}/"))),
                    None => run.results.push(Revoked::failed(id, "Phorge offers no Terminate for this session")),
                },
                None => run.results.push(Revoked::failed(id, "the Sessions panel no longer lists it")),
            }
        }
    }
    let every = targets.iter().any(|(_, t)| *t == Target::Every);

    let groups: [(Vec<(String, String)>, &str); 5] = [
        (paths(&targets, |t| matches!(t, Target::Token(_)), |t| format!("conduit/token/terminate/{}/", num(t))), panels.tokens.as_str()),
        (paths(&targets, |t| matches!(t, Target::Key(_)), |t| format!("auth/sshkey/revoke/{}/", num(t))), panels.ssh.as_str()),
        (paths(&targets, |t| matches!(t, Target::Oauth(_)), |t| format!("{}?revoke={}", panels.oauth, num(t))), panels.oauth.as_str()),
        (paths(&targets, |t| matches!(t, Target::Temp(_)), |t| format!("auth/token/revoke/{}/", num(t))), panels.temps.as_str()),
        (session_paths, panels.sessions.as_str()),
    ];
    for (n, (group, panel)) in groups.into_iter().enumerate() {
        if group.is_empty() {
            continue;
        }
        let mut sent = Vec::new();
        for (id, path) in &group {
            match kept.act(path, &[], proof).await {
                Ok(Posted::Redirect(_)) => {
                    run.done_any = true;
                    sent.push(id.clone());
                }
                Ok(Posted::Page(p)) => run.results.push(Revoked::failed(id, not_done(&p))),
                Ok(Posted::Dead) => run.results.push(Revoked::failed(id, "Phorge ended Keyward's web session")),
                Err(e) => return run.unchecked(&sent, &e).stop(e, ids),
            }
        }
        if sent.is_empty() {
            continue;
        }
        let still: std::result::Result<Vec<String>, Error> = match n {
            0 => read(s, kept, panel, pages::api_tokens).await.map(|p| p.rows.iter().map(|r| format!("token-{}", r.id)).collect()),
            1 => read(s, kept, panel, pages::ssh_keys).await.map(|k| k.iter().map(|r| format!("sshkey-{}", r.id)).collect()),
            2 => read(s, kept, panel, pages::oauth_authorizations).await.map(|o| o.iter().map(|r| format!("oauth-{}", r.id)).collect()),
            3 => read(s, kept, panel, pages::temporary_tokens)
                .await
                .map(|t| t.iter().filter_map(|r| r.id).map(|i| format!("temptoken-{i}")).collect()),
            _ => read(s, kept, panel, pages::sessions).await.map(|p| p.rows.iter().map(|r| credentials::session_id(r, &p.rows)).collect()),
        };
        let still = match still {
            Ok(v) => v,
            Err(e) => return run.unchecked(&sent, &e).stop(e, ids),
        };
        for id in sent {
            run.results.push(if still.contains(&id) { Revoked::failed(&id, NOT_GONE) } else { Revoked::ok(&id) });
        }
    }

    // Last, what ends Keyward's own session: "sign out every session" covers it.
    if every {
        match conduit::with_web(&mut kept.web, "auth.logout", json!({})).await {
            Ok(_) => {
                run.results.push(Revoked::ok(EVERY_SESSION));
                if let Some(own) = own_session.take() {
                    run.results.push(Revoked::ok(own));
                }
            }
            Err(Refusal::Other(e)) => return run.stop(e, ids),
            Err(_) => return run.stop(s.sign_in_again("Phorge ended Keyward's web session"), ids),
        }
    }
    if let Some(own) = own_session {
        match kept.act("logout/", &[], proof).await {
            Ok(Posted::Redirect(to)) if to.path() == "/auth/loggedout/" => run.results.push(Revoked::ok(&own)),
            Ok(Posted::Redirect(_)) | Ok(Posted::Dead) => run.results.push(Revoked::failed(&own, "Phorge did not confirm the log out")),
            Ok(Posted::Page(p)) => run.results.push(Revoked::failed(&own, not_done(&p))),
            Err(e) => return run.stop(e, ids),
        }
    }
    Ok(run.results)
}

fn num(t: &Target) -> u64 {
    match t {
        Target::Token(n) | Target::Key(n) | Target::Oauth(n) | Target::Temp(n) => *n,
        _ => 0,
    }
}

fn paths(targets: &[(String, Target)], which: fn(&Target) -> bool, path: impl Fn(&Target) -> String) -> Vec<(String, String)> {
    targets.iter().filter(|(_, t)| which(t)).map(|(id, t)| (id.clone(), path(t))).collect()
}

/// Phorge's "Terminate All Sessions": every other session, the Conduit ones too, Keyward's own kept.
pub async fn terminate_all_others(s: &Session<'_>, panel: &str, kept: &mut Kept, proof: &Proof) -> Result<Vec<Revoked>> {
    let before = read(s, kept, panel, pages::sessions).await?;
    let others: Vec<String> = before.rows.iter().filter(|r| !r.current).map(|r| credentials::session_id(r, &before.rows)).collect();
    if others.is_empty() {
        return Ok(Vec::new());
    }
    match kept.act("auth/session/terminate/all/", &[], proof).await? {
        Posted::Redirect(_) => {}
        Posted::Page(p) => {
            let why = not_done(&p);
            return Ok(others.iter().map(|id| Revoked::failed(id, &why)).collect());
        }
        Posted::Dead => return Err(s.sign_in_again("Phorge ended Keyward's web session")),
    }
    let after = read(s, kept, panel, pages::sessions).await?;
    let still: Vec<String> = after.rows.iter().map(|r| credentials::session_id(r, &after.rows)).collect();
    Ok(others.into_iter().map(|id| if still.contains(&id) { Revoked::failed(&id, NOT_GONE) } else { Revoked::ok(&id) }).collect())
}

/// With a token sign-in the only thing to revoke is "every session" (Conduit's `auth.logout`).
pub async fn revoke_with_token(s: &Session<'_>, token: &Secret, ids: &[String]) -> Result<Vec<Revoked>> {
    if ids.iter().any(|id| id != EVERY_SESSION) {
        return Err(needs_web(s));
    }
    conduit::with_token(s.http, &s.base_url()?, token, "auth.logout", json!({})).await.map_err(|r| match r {
        Refusal::Other(e) => e,
        _ => s.sign_in_again("Phorge no longer accepts the Conduit API token Keyward was given"),
    })?;
    Ok(vec![Revoked::ok(EVERY_SESSION)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_ids_name_their_targets() {
        assert_eq!(target("token-12"), Some(Target::Token(12)));
        assert_eq!(target("sshkey-2"), Some(Target::Key(2)));
        assert_eq!(target("oauth-1"), Some(Target::Oauth(1)));
        assert_eq!(target("temptoken-1"), Some(Target::Temp(1)));
        assert_eq!(target("session-2b816f"), Some(Target::Session("session-2b816f".into())));
        assert_eq!(target(EVERY_SESSION), Some(Target::Every));
        assert_eq!(target("token-x"), None);
        assert_eq!(target("temptoken-row0"), None);
    }
}
