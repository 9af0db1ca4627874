//! Keyward's one web session on a Phorge: the password login (its `__csrf__`, `__form__` and the
//! partial → full redirects, then the multi-factor step), the pages read with it, a dead session
//! noticed and (where the password is kept) replaced, and the form posts of actions with the
//! high-security checkpoint passed and the action sent again.
//!
//! What Phorge does, from the captures (tests/data/phorge/CAPTURE.md): a login answers 302 to
//! `/auth/validate/`, then `/auth/finish/`, which upgrades the partial session or asks for the
//! second factor. A session Phorge ended answers a page with 302 to `?cleared=1` and deletes the
//! cookies; with no cookie, a panel is the login form. A POST with a bad `__csrf__` is HTTP 500.
//! An action that needs high security answers 200 with the checkpoint instead of acting; the
//! checkpoint with a good code answers with the action's own dialog and does NOTHING else, so the
//! action is sent again. A TOTP factor that just issued a challenge, or just took a code, shows
//! "Wait N seconds" instead of the code input.
//!
//! Deliberately not here: what any page means (`pages.rs`), Conduit (`conduit.rs`). This never
//! GETs `/conduit/login/` (each GET makes a token) or a token's edit dialog (it shows the secret).

use std::collections::BTreeMap;

use url::Url;

use super::pages;
use crate::error::{Error, Remedy, Result};
use crate::model::host_of;
use crate::net::http::{join, one_line, Response};
use crate::net::web::WebSession;
use crate::provider::{Proof, SignInRequest};
use crate::secret::Secret;

/// Where Keyward starts a login.
const LOGIN_START: &str = "auth/start/";
/// A page every signed-in user has; its redirect names the user.
const PROBE_PAGE: &str = "settings/panel/apitokens/";
/// How many redirects of one page Keyward follows.
const MAX_HOPS: usize = 6;

/// A page as Phorge answered it (a panel, a dialog, a 403 or 404 page).
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub url: Url,
    pub html: String,
}

/// What a page request found.
pub enum Got {
    Page(Page),
    /// Phorge no longer knows the session (it cleared the cookie, or shows its login form).
    Dead,
}

/// What an action's POST answered, after any high-security checkpoint.
#[derive(Debug)]
pub enum Posted {
    /// The action was done (Phorge's 302), to here.
    Redirect(Url),
    /// A page instead (the dialog again, an error, a 404): the action was not done.
    Page(Page),
    Dead,
}

/// One answer to a form POST, before the checkpoint is dealt with.
enum Answer {
    Redirect(Url),
    Checkpoint(pages::FactorForm),
    Page(Page),
    Dead,
}

/// The web session: its cookie jar and the `__csrf__` of its latest page.
pub struct Web {
    w: WebSession,
    base: Url,
    csrf: Option<Secret>,
}

impl Web {
    /// The session kept from an earlier run.
    pub fn resume(base: &Url, cookies: BTreeMap<String, Secret>) -> Self {
        Web { w: WebSession::new(base, cookies), base: base.clone(), csrf: None }
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    fn host(&self) -> String {
        host_of(self.base.as_str())
    }

    /// The cookies to keep: the session's own (`phsid`, `phusr`).
    pub fn cookies(&self) -> &BTreeMap<String, Secret> {
        self.w.cookies()
    }

    /// Signs in with a username (or e-mail) and password, and the one-time code when the
    /// account has a second factor. Nothing is left behind when it fails: a half-done login is
    /// logged out again.
    pub async fn sign_in(base: &Url, login: &str, password: &Secret, req: Option<&SignInRequest>, account: &str) -> Result<(Web, bool)> {
        let mut web = Web::resume(base, BTreeMap::new());
        let start = web.w.get(join(base, LOGIN_START)).await?;
        let form = match pages::login_form(&start.text()) {
            Some(f) if start.status.is_success() => f.form,
            _ => {
                return Err(Error::SignInMethod {
                    message: format!("{} offers no username and password sign-in on its login page", web.host()),
                    remedy: Some(token_remedy(base)),
                })
            }
        };
        let action = web.same_host(&start.url, form.action.as_deref().unwrap_or("/auth/login/password:self/"))?;
        let mut fields: Vec<(String, String)> = form.hidden.into_iter().filter(|(k, _)| k != "username" && k != "password").collect();
        fields.push(("username".into(), login.to_string()));
        fields.push(("password".into(), password.expose().to_string()));
        let r = web.w.post_form(action, &fields).await?;
        if r.status.as_u16() == 500 {
            return Err(web.refused(&r));
        }
        if r.status.is_success() {
            return Err(match pages::login_form(&r.text()) {
                Some(_) => Error::WrongPassword { account: account.to_string() },
                None => Error::bad_response(web.host(), "the login form answered with a page Keyward does not know"),
            });
        }
        let mut mfa = false;
        let finished = web.finish_login(r, req, account, &mut mfa).await;
        if let Err(e) = finished {
            web.log_out().await.ok();
            return Err(e);
        }
        Ok((web, mfa))
    }

    /// Follows the login's redirects through `/auth/finish/`, answering the second factor there.
    async fn finish_login(&mut self, first: Response, req: Option<&SignInRequest>, account: &str, mfa: &mut bool) -> Result<()> {
        let mut r = first;
        for _ in 0..MAX_HOPS {
            if r.status.is_redirection() {
                let next = self.location(&r)?;
                if next.path() == "/" || r.url.path() == "/auth/finish/" {
                    // /auth/finish/ sent the full session on: signed in (its target is not needed).
                    return self.check_signed_in().await;
                }
                r = self.w.get(next).await?;
                continue;
            }
            if r.status.is_success() {
                let Some(factor) = pages::factor_form(&r.text()) else {
                    return Err(Error::bad_response(self.host(), "the login ended on a page Keyward does not know"));
                };
                *mfa = true;
                self.csrf = factor.form.hidden_value("__csrf__").map(Secret::new);
                // Asked only now, while this login waits: a second login would find the factor
                // cooling down from the code it just issued.
                let code = match req {
                    Some(req) => req.code_now(account).await,
                    None => None,
                };
                let Some(code) = code else { return Err(Error::CodeNeeded { account: account.to_string() }) };
                let at = r.url.clone();
                r = self.answer_factor(&at, &factor, &code, account).await?;
                continue;
            }
            return Err(if r.status.as_u16() == 500 { self.refused(&r) } else { r.unexpected() });
        }
        Err(Error::bad_response(self.host(), "too many redirects while signing in"))
    }

    /// Sends the one-time code to a factor form. A wrong code, or a factor that is cooling down,
    /// is an error; anything else is the server's next answer.
    async fn answer_factor(&mut self, at: &Url, factor: &pages::FactorForm, code: &Secret, account: &str) -> Result<Response> {
        if let Some(secs) = factor.wait_secs {
            return Err(Error::RateLimited { host: self.host(), secs });
        }
        let Some(field) = &factor.field else {
            return Err(Error::bad_response(self.host(), "Phorge asked for a second factor Keyward does not know (not a one-time code)"));
        };
        let action = self.same_host(at, factor.form.action.as_deref().unwrap_or(at.path()))?;
        // The checkpoint carries the request's own fields along, an old code among them: drop it.
        let mut fields: Vec<(String, String)> = factor.form.hidden.iter().filter(|(k, _)| !k.starts_with("authfactor.")).cloned().collect();
        fields.push((field.clone(), code.expose().trim().to_string()));
        let r = self.w.post_form(action, &fields).await?;
        if r.status.as_u16() == 500 {
            return Err(self.refused(&r));
        }
        if r.status.is_success() {
            if let Some(again) = pages::factor_form(&r.text()) {
                if let Some(secs) = again.wait_secs {
                    return Err(Error::RateLimited { host: self.host(), secs });
                }
                return Err(Error::WrongCode { account: account.to_string() });
            }
        }
        Ok(r)
    }

    /// After the login's redirects: a panel must open, as the user it names.
    async fn check_signed_in(&mut self) -> Result<()> {
        match self.get(PROBE_PAGE).await? {
            Got::Page(p) if p.status == 200 && user_of(&p.url).is_some() => Ok(()),
            _ => Err(Error::bad_response(self.host(), "Phorge did not keep the session it had just opened")),
        }
    }

    /// The user a settings page's address names (`/settings/user/alice/page/…`).
    pub async fn username(&mut self) -> Result<String> {
        match self.get(PROBE_PAGE).await? {
            Got::Page(p) => user_of(&p.url).ok_or_else(|| Error::bad_response(self.host(), "the settings page does not name its user")),
            Got::Dead => Err(Error::bad_response(self.host(), "Phorge ended the session it had just opened")),
        }
    }

    /// A page of the site, redirects followed on this host. `Dead` when the session is gone.
    pub async fn get(&mut self, path: &str) -> Result<Got> {
        let url = join(&self.base, path);
        let mut r = self.w.get(url.clone()).await?;
        let mut finished_partial = false;
        for _ in 0..MAX_HOPS {
            if r.status.is_redirection() {
                let next = self.location(&r)?;
                if next.query_pairs().any(|(k, v)| k == "cleared" && v == "1") {
                    return Ok(Got::Dead);
                }
                if next.path() == "/" && !finished_partial {
                    // A partial session's first page finishes its login and lands on the home page.
                    finished_partial = true;
                    r = self.w.get(url.clone()).await?;
                    continue;
                }
                if next.path().starts_with("/auth/") {
                    // Sent to log in, or to the second factor: this session cannot read pages.
                    return Ok(Got::Dead);
                }
                r = self.w.get(next).await?;
                continue;
            }
            let status = r.status.as_u16();
            if status == 500 {
                return Err(self.refused(&r));
            }
            if !matches!(status, 200 | 403 | 404) {
                return Err(r.unexpected());
            }
            let html = r.text();
            if pages::is_auth_failure(&html) || (status == 200 && pages::login_form(&html).is_some()) {
                return Ok(Got::Dead);
            }
            if let Some(c) = pages::csrf(&html) {
                self.csrf = Some(Secret::new(c));
            }
            return Ok(Got::Page(Page { status, url: r.url.clone(), html }));
        }
        Err(Error::bad_response(self.host(), "too many redirects"))
    }

    /// The `__csrf__` of this session (from its latest page; a panel is read for one if need be).
    pub async fn csrf_value(&mut self) -> Result<Secret> {
        if self.csrf.is_none() {
            self.get(PROBE_PAGE).await?;
        }
        self.csrf.clone().ok_or_else(|| Error::bad_response(self.host(), "no page of the session carries a CSRF value"))
    }

    /// A form POST exactly as given (for Conduit), with the session's cookie.
    pub async fn post_raw(&mut self, url: Url, fields: &[(String, String)]) -> Result<Response> {
        self.w.post_form(url, fields).await
    }

    /// Sends an action's form: `__csrf__`, `__form__=1`, `__dialog__=1` (which three of Phorge's
    /// dialogs require and the rest ignore) and `fields`. When Phorge answers with the
    /// high-security checkpoint, passes it with `proof.code` and sends the action again.
    pub async fn act(&mut self, path: &str, fields: &[(&str, &str)], proof: &Proof, account: &str) -> Result<Posted> {
        let url = join(&self.base, path);
        let first = self.post_action(&url, fields).await?;
        let checkpoint = match first {
            Answer::Checkpoint(c) => c,
            Answer::Redirect(u) => return Ok(Posted::Redirect(u)),
            Answer::Page(p) => return Ok(Posted::Page(p)),
            Answer::Dead => return Ok(Posted::Dead),
        };
        let Some(code) = proof.code() else { return Err(Error::CodeNeeded { account: account.to_string() }) };
        self.csrf = checkpoint.form.hidden_value("__csrf__").map(Secret::new).or(self.csrf.take());
        let answer = self.answer_factor(&url, &checkpoint, code, account).await?;
        if answer.status.is_redirection() && self.location(&answer)?.query_pairs().any(|(k, _)| k == "cleared") {
            return Ok(Posted::Dead);
        }
        if let Some(c) = pages::csrf(&answer.text()) {
            self.csrf = Some(Secret::new(c));
        }
        // The checkpoint only raised the session to high security; the action is not done yet.
        match self.post_action(&url, fields).await? {
            Answer::Redirect(u) => Ok(Posted::Redirect(u)),
            Answer::Page(p) => Ok(Posted::Page(p)),
            Answer::Dead => Ok(Posted::Dead),
            Answer::Checkpoint(_) => {
                Err(Error::bad_response(self.host(), "Phorge asked for the one-time code again right after taking it"))
            }
        }
    }

    async fn post_action(&mut self, url: &Url, fields: &[(&str, &str)]) -> Result<Answer> {
        let csrf = self.csrf_value().await?;
        let mut form: Vec<(String, String)> =
            vec![("__csrf__".into(), csrf.expose().to_string()), ("__form__".into(), "1".into()), ("__dialog__".into(), "1".into())];
        form.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let r = self.w.post_form(url.clone(), &form).await?;
        let status = r.status.as_u16();
        if r.status.is_redirection() {
            let to = self.location(&r)?;
            if to.query_pairs().any(|(k, v)| k == "cleared" && v == "1") {
                return Ok(Answer::Dead);
            }
            return Ok(Answer::Redirect(to));
        }
        if status == 500 {
            return Err(self.refused(&r));
        }
        let html = r.text();
        if status == 200 {
            if let Some(f) = pages::factor_form(&html) {
                return Ok(Answer::Checkpoint(f));
            }
            if pages::login_form(&html).is_some() {
                return Ok(Answer::Dead);
            }
        }
        if let Some(c) = pages::csrf(&html) {
            self.csrf = Some(Secret::new(c));
        }
        Ok(Answer::Page(Page { status, url: r.url.clone(), html }))
    }

    /// Ends this web session (Phorge's Log Out: this session only).
    pub async fn log_out(&mut self) -> Result<()> {
        let Some(csrf) = self.csrf.clone() else { return Ok(()) };
        let fields = [("__csrf__".to_string(), csrf.expose().to_string()), ("__form__".to_string(), "1".to_string())];
        let r = self.w.post_form(join(&self.base, "logout/"), &fields).await?;
        if r.status.is_redirection() {
            Ok(())
        } else {
            Err(self.refused(&r))
        }
    }

    /// Where a redirect points, on this host only.
    fn location(&self, r: &Response) -> Result<Url> {
        let to = r.location().ok_or_else(|| Error::bad_response(self.host(), "a redirect without a Location"))?;
        if host_of(to.as_str()) != self.host() {
            return Err(Error::Redirected { host: self.host(), to: host_of(to.as_str()) });
        }
        Ok(to)
    }

    fn same_host(&self, page: &Url, action: &str) -> Result<Url> {
        let u = page.join(action).map_err(|_| Error::bad_response(self.host(), "a form without a usable address"))?;
        if host_of(u.as_str()) != self.host() {
            return Err(Error::Redirected { host: self.host(), to: host_of(u.as_str()) });
        }
        Ok(u)
    }

    /// A 500 or another refusal, in one line: Phorge's exception message when it has one.
    fn refused(&self, r: &Response) -> Error {
        match pages::exception_message(&r.text()) {
            Some(m) if m.contains("incorrect token") => Error::bad_response(
                self.host(),
                "Phorge refused the form's CSRF value (HTTP 500, \"the request your browser made included an incorrect token\"); nothing was changed",
            ),
            Some(m) => Error::Server { host: self.host(), message: format!("HTTP {}: {}", r.status.as_u16(), one_line(&m)) },
            None => r.unexpected(),
        }
    }
}

/// The user named by a settings page's address.
pub fn user_of(url: &Url) -> Option<String> {
    let mut parts = url.path_segments()?;
    match (parts.next(), parts.next(), parts.next()) {
        (Some("settings"), Some("user"), Some(name)) if !name.is_empty() => Some(name.to_string()),
        _ => None,
    }
}

/// "Sign in with an API token instead", made on the API tokens panel.
pub fn token_remedy(base: &Url) -> Remedy {
    Remedy::UseToken { label: "Conduit API token".into(), page: Some(join(base, PROBE_PAGE).to_string()) }
}

/// The kept session with what it takes to replace it when Phorge ends it: a new login with the
/// kept password, once, and only where the account has no second factor (a new login there
/// needs a code, so Phorge's ending the session means "sign in again").
pub struct Kept {
    pub web: Web,
    relogin: Option<(String, Secret)>,
    account: String,
    /// A new session replaced the kept one: its cookies must be saved.
    pub renewed: bool,
}

impl Kept {
    pub fn new(web: Web, relogin: Option<(String, Secret)>, account: String) -> Self {
        Kept { web, relogin, account, renewed: false }
    }

    /// A page as the signed-in user, signing in again once if Phorge ended the session.
    pub async fn page(&mut self, path: &str) -> Result<Page> {
        loop {
            match self.web.get(path).await? {
                Got::Page(p) => return Ok(p),
                Got::Dead => self.renew().await?,
            }
        }
    }

    /// An action; when the session turns out dead, sign in again once and send it again.
    pub async fn act(&mut self, path: &str, fields: &[(&str, &str)], proof: &Proof) -> Result<Posted> {
        loop {
            match self.web.act(path, fields, proof, &self.account).await? {
                Posted::Dead => self.renew().await?,
                other => return Ok(other),
            }
        }
    }

    async fn renew(&mut self) -> Result<()> {
        let why = |w: &str| Error::SignInAgain { account: self.account.clone(), why: w.to_string() };
        if self.renewed {
            return Err(why("Phorge ended the new web session at once"));
        }
        let Some((login, password)) = &self.relogin else {
            return Err(why("Phorge ended Keyward's web session, and a new one needs the account's one-time code"));
        };
        let base = self.web.base.clone();
        let (web, _) = Web::sign_in(&base, login, password, None, &self.account).await.map_err(|e| match e {
            Error::WrongPassword { .. } => why("Phorge ended Keyward's web session and no longer accepts the password Keyward kept"),
            Error::CodeNeeded { .. } => why("Phorge ended Keyward's web session, and the account now asks for a one-time code"),
            e => e,
        })?;
        self.web = web;
        self.renewed = true;
        Ok(())
    }
}
