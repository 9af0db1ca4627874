//! Readers for the Moodle web pages the provider must use: the login page, the browser
//! sessions page (`/report/usersessions/user.php`), the security keys page
//! (`/user/managetoken.php`, web service tokens and the RSS key), its reset confirmation, and
//! the personal access tokens page of newer Moodle (`/user/personalaccesstokens.php`).
//!
//! Each reader checks that the page is the one it expects (Moodle's `<body id>`) and that its
//! table has the columns it reads by name; anything else is [`Unrecognised`], never a guess and
//! never an empty list. Readers are synchronous and return owned values (`scraper`'s documents
//! cannot cross an `.await`). Moodle's English date formats only; other languages keep the
//! page's words in a detail.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use regex::Regex;
use scraper::{Html, Selector};
use url::Url;

use crate::net::web::{self, Form, Table};

/// The page is not laid out the way this reader knows; the text says what was missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unrecognised(pub String);

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("a valid CSS selector")
}

/// What every logged-in Moodle page carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageInfo {
    /// `<body id>`: `page-login-index`, `page-report-usersessions-user` …
    pub body_id: Option<String>,
    pub sesskey: Option<String>,
    /// The user's time zone from `M.cfg.usertimezone` (`Europe/London`).
    pub timezone: Option<String>,
}

pub fn page_info(html: &str) -> PageInfo {
    let doc = Html::parse_document(html);
    info_of(&doc, html)
}

fn info_of(doc: &Html, raw: &str) -> PageInfo {
    let body_id = doc.select(&sel("body")).next().and_then(|b| b.attr("id").map(str::to_string));
    let cfg = |key: &str| {
        let re = Regex::new(&format!(r#""{key}":"((?:[^"\\]|\\.)*)""#)).expect("valid regex");
        re.captures(raw).map(|c| c[1].replace("\\/", "/"))
    };
    let sesskey = cfg("sesskey").or_else(|| web::input_value(doc, "sesskey")).filter(|s| !s.is_empty());
    let timezone = cfg("usertimezone").filter(|s| !s.is_empty() && s != "99");
    PageInfo { body_id, sesskey, timezone }
}

// ---- login page ----

/// The login page as the provider needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginPage {
    /// The username/password form, when the page has one (an SSO-only site has none).
    pub form: Option<Form>,
    /// The error the page shows ("Invalid login, please try again").
    pub error: Option<String>,
    /// Names of the identity providers offered ("Log in using your account on: Google").
    pub identity_providers: Vec<String>,
}

pub fn login_page(html: &str) -> LoginPage {
    let doc = Html::parse_document(html);
    // A typed password field: the guest login form carries username and password as hidden inputs.
    let form = web::forms(doc.root_element()).into_iter().find(|f| f.fields.iter().any(|n| n == "password") && f.has_field("username"));
    let error = doc
        .select(&sel(".loginform .alert-danger, .loginerrors .alert, #loginerrormessage"))
        .map(|e| web::text_of(&e))
        .find(|t| !t.is_empty());
    let identity_providers =
        doc.select(&sel(".potentialidplist a, .login-identityproviders a")).map(|a| web::text_of(&a)).filter(|t| !t.is_empty()).collect();
    LoginPage { form, error, identity_providers }
}

// ---- times ----

/// A Moodle date as pages show it ("Sunday, 22 November 2026, 1:04 PM", "14 February 2027,
/// 1:03 PM"), in the user's time zone. `None` when it is not that format or the zone is unknown.
pub fn moodle_time(text: &str, zone: Option<&str>) -> Option<DateTime<Utc>> {
    let t = text.trim();
    let without_day = match t.split_once(", ") {
        Some((day, rest)) if day.ends_with("day") && !day.chars().any(|c| c.is_ascii_digit()) => rest,
        _ => t,
    };
    let local = ["%d %B %Y, %I:%M %p", "%d %B %Y, %H:%M"].iter().find_map(|f| NaiveDateTime::parse_from_str(without_day, f).ok())?;
    web::local_to_utc(local, zone?)
}

/// "now", "5 mins ago", "3 hours ago" (the sessions page's last access) as a time before `now`.
pub fn moodle_ago(text: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let t = text.trim().to_ascii_lowercase();
    if t == "now" {
        return Some(now);
    }
    let re = Regex::new(r"^(\d+)\s+(min|mins|minute|minutes|hour|hours|day|days)\s+ago$").expect("valid regex");
    let c = re.captures(&t)?;
    let n: i32 = c[1].parse().ok()?;
    let unit = match &c[2] {
        u if u.starts_with("min") => Duration::minutes(1),
        u if u.starts_with("hour") => Duration::hours(1),
        _ => Duration::days(1),
    };
    // A number of days no calendar holds is no time at all.
    now.checked_sub_signed(unit.checked_mul(n)?)
}

// ---- browser sessions ----

pub const SESSIONS_BODY: &str = "page-report-usersessions-user";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// The session's id from its "Log out" link; `None` for the current session (no link).
    pub id: Option<String>,
    /// The page says "Current session": the session this page was read with.
    pub current: bool,
    pub login_text: String,
    pub last_access_text: String,
    pub last_ip: Option<String>,
    /// The "Log out" link (it carries the sesskey).
    pub logout_href: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionsPage {
    pub info: PageInfo,
    pub rows: Vec<SessionRow>,
    /// A "log out of all other sessions" link or button (`?deleteall=1`), on Moodle versions that have it.
    pub delete_all: Option<DeleteAll>,
}

/// How the page offers to sign out every other session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteAll {
    Link(String),
    Form(Form),
}

pub fn sessions_page(html: &str, base: &Url) -> Result<SessionsPage, Unrecognised> {
    let doc = Html::parse_document(html);
    let info = info_of(&doc, html);
    if info.body_id.as_deref() != Some(SESSIONS_BODY) {
        return Err(Unrecognised(format!(
            "expected the browser sessions page, got {}",
            info.body_id.as_deref().unwrap_or("a page without an id")
        )));
    }
    let main = main_region(&doc).ok_or_else(|| Unrecognised("the browser sessions page has no main region".into()))?;
    let tables = web::tables(main);
    let table = tables
        .iter()
        .find(|t| t.column("Last access").is_some())
        .ok_or_else(|| Unrecognised("the browser sessions page has no table with a \"Last access\" column".into()))?;
    let login = table.column_any(&["Log in", "Login"]);
    let last = table.column("Last access");
    let ip = table.column_any(&["Last IP address", "Last IP"]);
    let action = table.column("Action");
    let (Some(login), Some(last), Some(ip), Some(action)) = (login, last, ip, action) else {
        return Err(Unrecognised(format!(
            "the browser sessions table has the columns {:?}, not Log in, Last access, Last IP address, Action",
            table.headers
        )));
    };
    let mut rows = Vec::new();
    for r in &table.rows {
        let cell = |i: usize| r.get(i).cloned().unwrap_or_default();
        let last_access_text = cell(last).text;
        let logout_href = cell(action).links.into_iter().find(|h| web::query_param(base, h, "delete").is_some());
        let id = logout_href.as_deref().and_then(|h| web::query_param(base, h, "delete"));
        let current = last_access_text.eq_ignore_ascii_case("Current session");
        let ip_text = cell(ip).text;
        rows.push(SessionRow {
            id,
            current,
            login_text: cell(login).text,
            last_access_text,
            last_ip: Some(ip_text).filter(|s| !s.is_empty()),
            logout_href,
        });
    }
    let delete_all = main
        .select(&sel("a[href]"))
        .filter_map(|a| a.attr("href"))
        .find(|h| web::query_param(base, h, "deleteall").is_some())
        .map(|h| DeleteAll::Link(h.to_string()))
        .or_else(|| web::forms(main).into_iter().find(|f| f.has_field("deleteall")).map(DeleteAll::Form));
    Ok(SessionsPage { info, rows, delete_all })
}

fn main_region(doc: &Html) -> Option<scraper::ElementRef<'_>> {
    doc.select(&sel("[role=main]")).next()
}

// ---- security keys: web service tokens and the RSS key ----

pub const KEYS_BODY: &str = "page-user-managetoken";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    /// `tokenid` of the Reset link; `None` when the page offers no reset (someone else made it).
    pub id: Option<String>,
    /// Token name (Moodle 4.3+; generated, "Webservice-fD3eB").
    pub name: Option<String>,
    pub service: String,
    pub valid_until_text: String,
    pub last_access_text: Option<String>,
    pub creator: Option<String>,
    pub reset_href: Option<String>,
}

/// The RSS key box: whether a key is shown, and a fingerprint of it (never the key) to tell a
/// reset key from the old one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RssKey {
    pub fingerprint: u64,
    pub reset_href: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysPage {
    pub info: PageInfo,
    /// `None`: the page shows no web service token box (only users who may create tokens see it).
    pub tokens: Option<Vec<TokenRow>>,
    /// `None`: no RSS box (RSS feeds are off on the site); `Some(None)`: a box without a key.
    pub rss: Option<Option<RssKey>>,
}

fn fingerprint(s: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

pub fn keys_page(html: &str, base: &Url) -> Result<KeysPage, Unrecognised> {
    let doc = Html::parse_document(html);
    let info = info_of(&doc, html);
    if info.body_id.as_deref() != Some(KEYS_BODY) {
        return Err(Unrecognised(format!(
            "expected the security keys page, got {}",
            info.body_id.as_deref().unwrap_or("a page without an id")
        )));
    }
    let main = main_region(&doc).ok_or_else(|| Unrecognised("the security keys page has no main region".into()))?;
    let mut tokens = None;
    let mut rss = None;
    let mut heading = String::new();
    for e in main.select(&sel("h3, h2, .webservicestokenui")) {
        if e.value().name() != "div" {
            heading = web::text_of(&e);
            continue;
        }
        let tables = web::tables(e);
        match tables.first() {
            Some(t) if t.column("Service").is_some() => tokens = Some(token_rows(t, base)?),
            Some(t) if t.column("Key").is_some() && t.column("Operation").is_some() => {
                let key = t.rows.first().map(|r| r.first().map(|c| c.text.clone()).unwrap_or_default()).filter(|k| !k.is_empty());
                let reset_href = t.rows.first().and_then(|r| {
                    r.iter()
                        .flat_map(|c| c.links.iter())
                        .find(|h| web::query_param(base, h, "action").as_deref() == Some("resetrsstoken"))
                        .cloned()
                });
                rss = Some(key.map(|k| RssKey { fingerprint: fingerprint(&k), reset_href }));
            }
            Some(t) => {
                return Err(Unrecognised(format!(
                    "the security keys page has a table with the columns {:?}, which Keyward does not know",
                    t.headers
                )))
            }
            None if heading.eq_ignore_ascii_case("RSS") => rss = Some(None),
            None => tokens = Some(Vec::new()),
        }
    }
    Ok(KeysPage { info, tokens, rss })
}

fn token_rows(t: &Table, base: &Url) -> Result<Vec<TokenRow>, Unrecognised> {
    let (Some(service), Some(op)) = (t.column("Service"), t.column("Operation")) else {
        return Err(Unrecognised(format!("the web service token table has the columns {:?}, without Service and Operation", t.headers)));
    };
    let name = t.column("Name");
    let valid = t.column("Valid until");
    let last = t.column("Last access");
    let creator = t.column("Creator");
    Ok(t.rows
        .iter()
        .map(|r| {
            let cell = |i: Option<usize>| i.and_then(|i| r.get(i)).map(|c| c.text.clone());
            let reset_href = r
                .get(op)
                .and_then(|c| c.links.iter().find(|h| web::query_param(base, h, "action").as_deref() == Some("resetwstoken")).cloned());
            TokenRow {
                id: reset_href.as_deref().and_then(|h| web::query_param(base, h, "tokenid")),
                name: cell(name).filter(|s| !s.is_empty()),
                service: cell(Some(service)).unwrap_or_default(),
                valid_until_text: cell(valid).unwrap_or_default(),
                last_access_text: cell(last),
                creator: cell(creator).filter(|s| !s.is_empty()),
                reset_href,
            }
        })
        .collect())
}

/// The confirmation form of a reset: the POST form that carries `confirm=1`.
pub fn confirm_form(html: &str) -> Option<Form> {
    let doc = Html::parse_document(html);
    web::forms(doc.root_element()).into_iter().find(|f| f.method == "post" && f.hidden_value("confirm") == Some("1"))
}

// ---- personal access tokens (newer Moodle) ----

pub const PATS_BODY: &str = "page-user-personalaccesstokens";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatRow {
    pub id: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub scopes: Option<String>,
    pub expires_text: Option<String>,
    pub last_access_text: Option<String>,
    /// The revoke form of the row (POST with sesskey).
    pub revoke: Option<Form>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatsPage {
    pub info: PageInfo,
    pub rows: Vec<PatRow>,
}

pub fn pats_page(html: &str) -> Result<PatsPage, Unrecognised> {
    let doc = Html::parse_document(html);
    let info = info_of(&doc, html);
    if info.body_id.as_deref() != Some(PATS_BODY) {
        return Err(Unrecognised(format!(
            "expected the personal access tokens page, got {}",
            info.body_id.as_deref().unwrap_or("a page without an id")
        )));
    }
    let main = main_region(&doc).ok_or_else(|| Unrecognised("the personal access tokens page has no main region".into()))?;
    let tables = web::tables(main);
    let Some(t) = tables.iter().find(|t| t.column("Name").is_some()) else {
        // No table: no tokens, as long as the page says so rather than being something else.
        return Ok(PatsPage { info, rows: Vec::new() });
    };
    let Some(actions) = t.column_any(&["Actions", "Action"]) else {
        return Err(Unrecognised(format!("the personal access tokens table has the columns {:?}, without Actions", t.headers)));
    };
    let col = |names: &[&str]| t.column_any(names);
    let (name, desc, scopes, expires, last) = (
        col(&["Name"]),
        col(&["Description"]),
        col(&["Scopes", "Scope"]),
        col(&["Expires", "Expiry", "Valid until"]),
        col(&["Last accessed", "Last access", "Last used"]),
    );
    let rows = t
        .rows
        .iter()
        .map(|r| {
            let cell = |i: Option<usize>| i.and_then(|i| r.get(i)).map(|c| c.text.clone()).filter(|s| !s.is_empty());
            let revoke = r.get(actions).and_then(|c| c.forms.iter().find(|f| f.hidden_value("sesskey").is_some()).cloned());
            PatRow {
                id: revoke.as_ref().and_then(|f| f.hidden_value("id").map(str::to_string)),
                name: cell(name).unwrap_or_default(),
                description: cell(desc),
                scopes: cell(scopes),
                expires_text: cell(expires),
                last_access_text: cell(last),
                revoke,
            }
        })
        .collect();
    Ok(PatsPage { info, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/moodle-4.3").join(name);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    fn base() -> Url {
        Url::parse("http://127.0.0.1:18070/").unwrap()
    }

    #[test]
    fn login_page_has_the_form_and_its_logintoken() {
        let p = login_page(&fixture("login_page.html"));
        let f = p.form.expect("login form");
        assert_eq!(f.hidden_value("logintoken"), Some("FAKELOGINTOKEN_6"));
        assert_eq!(f.action.as_deref(), Some("http://127.0.0.1:18070/login/index.php"));
        assert!(p.error.is_none());
        let sso = fixture("login_page.html");
        let start = sso.find("<form class=\"login-form\"").unwrap();
        let end = start + sso[start..].find("</form>").unwrap() + 7;
        let sso = format!("{}{}", &sso[..start], &sso[end..]);
        assert!(login_page(&sso).form.is_none(), "the guest form is not a password form");
        let p = login_page(&fixture("login_wrong_password.html"));
        assert_eq!(p.error.as_deref(), Some("Invalid login, please try again"));
    }

    #[test]
    fn two_sessions_read_with_times_ips_and_the_current_one() {
        let page = sessions_page(&fixture("usersessions_two_sessions.html"), &base()).unwrap();
        assert_eq!(page.info.sesskey.as_deref(), Some("FAKESESSKEY_9"));
        assert_eq!(page.info.timezone.as_deref(), Some("Europe/London"));
        assert_eq!(page.rows.len(), 2);
        let other = &page.rows[0];
        assert_eq!(other.id.as_deref(), Some("7"));
        assert!(!other.current);
        assert_eq!(other.login_text, "Sunday, 22 November 2026, 1:04 PM");
        assert_eq!(other.last_access_text, "now");
        assert_eq!(other.last_ip.as_deref(), Some("127.0.0.1"));
        assert!(other.logout_href.as_deref().unwrap().contains("sesskey=FAKESESSKEY_9"));
        let me = &page.rows[1];
        assert!(me.current && me.id.is_none() && me.logout_href.is_none());
        assert!(page.delete_all.is_none(), "Moodle 4.3 has no 'log out all others'");
        let after = sessions_page(&fixture("usersessions_after_logout_other.html"), &base()).unwrap();
        assert_eq!(after.rows.len(), 1);
        assert!(after.rows[0].current);
    }

    #[test]
    fn another_page_is_not_read_as_sessions() {
        let e = sessions_page(&fixture("managetoken_with_createtoken_cap.html"), &base()).unwrap_err();
        assert!(e.0.contains("page-user-managetoken"), "{e:?}");
        let swapped = fixture("usersessions_two_sessions.html").replace(">Last access<", ">Zuletzt<");
        assert!(sessions_page(&swapped, &base()).is_err());
        let renamed = fixture("usersessions_two_sessions.html").replace(">Last IP address<", ">Where<");
        assert!(sessions_page(&renamed, &base()).unwrap_err().0.contains("columns"));
    }

    #[test]
    fn token_table_rows_when_the_user_may_create_tokens() {
        let page = keys_page(&fixture("managetoken_with_createtoken_cap.html"), &base()).unwrap();
        let tokens = page.tokens.expect("token box");
        assert_eq!(tokens.len(), 1);
        let t = &tokens[0];
        assert_eq!(t.id.as_deref(), Some("1"));
        assert_eq!(t.name.as_deref(), Some("Webservice-fD3eB"));
        assert_eq!(t.service, "Moodle mobile web service");
        assert_eq!(t.valid_until_text, "14 February 2027, 1:03 PM");
        assert_eq!(t.last_access_text.as_deref(), Some("22 November 2026, 1:03 PM"));
        assert_eq!(t.creator.as_deref(), Some("Alice Lab"));
        assert!(page.rss.is_none());
        let after = keys_page(&fixture("managetoken_after_reset.html"), &base()).unwrap().tokens.unwrap();
        assert_eq!(after.len(), 1);
        assert_eq!(
            (after[0].id.as_deref(), after[0].valid_until_text.as_str(), after[0].last_access_text.as_deref()),
            (Some("3"), "", Some(""))
        );
    }

    #[test]
    fn no_token_box_is_not_an_empty_list() {
        let page = keys_page(&fixture("managetoken_default_no_createtoken_cap.html"), &base()).unwrap();
        assert!(page.tokens.is_none());
        assert!(page.rss.is_none());
    }

    #[test]
    fn reset_confirmation_form_carries_confirm_and_sesskey() {
        let f = confirm_form(&fixture("managetoken_reset_confirm.html")).unwrap();
        assert_eq!(f.action.as_deref(), Some("http://127.0.0.1:18070/user/managetoken.php"));
        assert_eq!(f.hidden_value("tokenid"), Some("1"));
        assert_eq!(f.hidden_value("action"), Some("resetwstoken"));
        assert_eq!(f.hidden_value("sesskey"), Some("FAKESESSKEY_9"));
    }

    #[test]
    fn moodle_times_in_the_users_zone() {
        let t = moodle_time("Sunday, 22 November 2026, 1:04 PM", Some("UTC")).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-22T13:04:00+00:00");
        let t = moodle_time("14 February 2027, 1:03 PM", Some("UTC")).unwrap();
        assert_eq!(t.to_rfc3339(), "2027-02-14T13:03:00+00:00");
        let t = moodle_time("2 March 2027, 9:05 AM", Some("UTC")).unwrap();
        assert_eq!(t.to_rfc3339(), "2027-03-02T09:05:00+00:00");
        assert!(moodle_time("Sunday, 22 November 2026, 1:04 PM", None).is_none());
        assert!(moodle_time("", Some("UTC")).is_none());
        let now = Utc::now();
        assert_eq!(moodle_ago("now", now), Some(now));
        assert_eq!(moodle_ago("5 mins ago", now), Some(now - Duration::minutes(5)));
        assert_eq!(moodle_ago("3 hours ago", now), Some(now - Duration::hours(3)));
        assert_eq!(moodle_ago("Current session", now), None);
    }
}
