//! Readers for the Phorge pages the provider uses: the login form and its errors, the
//! multi-factor and high-security forms, dialogs, and the settings panels (API tokens, sessions,
//! SSH keys, OAuth authorizations, temporary tokens, activity log), the Conduit call log and the
//! user's time zone setting.
//!
//! Phorge's tables (`AphrontTableView`) have no `<thead>`: the first row holds the headings. Every
//! panel reader finds its table by the headings it reads and reads each cell by heading, never by
//! position; a page without such a table is [`Unrecognised`], never an empty list. Readers are
//! synchronous and return owned values (`scraper`'s documents cannot cross an `.await`).
//!
//! The edit dialog of an API token shows the token's full secret: no reader here looks at it, and
//! the token panel's prefix is cut to its first eight characters whatever the page says.

use scraper::{ElementRef, Html, Selector};

use crate::net::web::{self, Cell, Form, Table};

/// The page is not laid out the way this reader knows; the text says what was missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unrecognised(pub String);

/// The most of a token any listing keeps: its first eight characters (`api-fka1`).
pub const TOKEN_PREFIX_CHARS: usize = 8;

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("a valid CSS selector")
}

// ---- tables ----

/// Every table of a page, read by its heading row.
fn tables(doc: &Html) -> Vec<Table> {
    let (tr, th, td, a) = (sel("tr"), sel("th"), sel("td"), sel("a[href]"));
    let mut out = Vec::new();
    for t in doc.select(&sel("table")) {
        let rows: Vec<ElementRef> = t.select(&tr).collect();
        let Some(head) = rows.iter().position(|r| r.select(&th).next().is_some()) else { continue };
        let headers = rows[head].select(&th).map(|h| web::text_of(&h)).collect();
        let data = rows[head + 1..]
            .iter()
            .filter(|r| !r.value().classes().any(|c| c == "no-data"))
            .map(|r| {
                r.select(&td)
                    .map(|c| Cell {
                        text: web::text_of(&c),
                        links: c.select(&a).filter_map(|l| l.attr("href").map(str::to_string)).collect(),
                        forms: web::forms(c),
                    })
                    .collect::<Vec<_>>()
            })
            .filter(|r| !r.is_empty())
            .collect();
        out.push(Table { headers, rows: data });
    }
    out
}

/// The table that has every one of these headings.
fn table_with(doc: &Html, what: &str, headings: &[&str]) -> Result<Table, Unrecognised> {
    tables(doc)
        .into_iter()
        .find(|t| headings.iter().all(|h| t.column(h).is_some()))
        .ok_or_else(|| Unrecognised(format!("the {what} page has no table with the columns {}", headings.join(", "))))
}

/// One row's cells by heading.
struct Row<'a> {
    table: &'a Table,
    cells: &'a [Cell],
}

impl Row<'_> {
    fn cell(&self, heading: &str) -> Option<&Cell> {
        self.table.column(heading).and_then(|i| self.cells.get(i))
    }
    fn text(&self, heading: &str) -> String {
        self.cell(heading).map(|c| c.text.clone()).unwrap_or_default()
    }
    /// The number that follows `prefix` in a link of the row (`/conduit/token/edit/12/` → 12).
    fn id_after(&self, prefix: &str) -> Option<u64> {
        self.cells.iter().flat_map(|c| c.links.iter()).find_map(|href| id_after(href, prefix))
    }
}

fn rows(t: &Table) -> impl Iterator<Item = Row<'_>> {
    t.rows.iter().map(move |cells| Row { table: t, cells })
}

/// The digits right after `prefix` in a link, up to `/`, `&`, `#` or the end (`?revoke=3`).
pub fn id_after(href: &str, prefix: &str) -> Option<u64> {
    let rest = &href[href.find(prefix)? + prefix.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    match rest[digits.len()..].chars().next() {
        None | Some('/' | '&' | '#') if !digits.is_empty() => digits.parse().ok(),
        _ => None,
    }
}

/// The form an element is (its own action and method, every input below it).
fn form_of(f: ElementRef) -> Form {
    let mut hidden = Vec::new();
    let mut fields = Vec::new();
    for i in f.select(&sel("input[name]")) {
        let name = i.attr("name").unwrap_or_default().to_string();
        if i.attr("type").is_some_and(|t| t.eq_ignore_ascii_case("hidden")) {
            hidden.push((name, i.attr("value").unwrap_or_default().to_string()));
        } else {
            fields.push(name);
        }
    }
    Form {
        action: f.attr("action").map(str::to_string),
        method: f.attr("method").unwrap_or("get").to_ascii_lowercase(),
        id: f.attr("id").map(str::to_string),
        hidden,
        fields,
    }
}

// ---- forms and dialogs ----

/// The `__csrf__` value of the page (any form of a session's page carries one).
pub fn csrf(html: &str) -> Option<String> {
    web::input_value(&Html::parse_document(html), "__csrf__").filter(|v| !v.is_empty())
}

/// The page's `<title>`.
pub fn title(html: &str) -> String {
    Html::parse_document(html).select(&sel("title")).next().map(|t| web::text_of(&t)).unwrap_or_default()
}

/// The username/password form (`/auth/login/password:self/`) and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginForm {
    pub form: Form,
    /// "Username or password are incorrect."
    pub error: Option<String>,
}

pub fn login_form(html: &str) -> Option<LoginForm> {
    let doc = Html::parse_document(html);
    let form = web::forms(doc.root_element())
        .into_iter()
        .find(|f| f.action.as_deref().is_some_and(|a| a.contains("/auth/login/")) && f.has_field("password"))?;
    Some(LoginForm { form, error: error_box(&doc) })
}

fn error_box(doc: &Html) -> Option<String> {
    doc.select(&sel(".phui-info-severity-error .phui-info-view-body")).map(|e| web::text_of(&e)).find(|t| !t.is_empty())
}

/// A form that asks for a second factor: the last step of a login (`/auth/finish/`) or the
/// high-security checkpoint that stands in for an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactorForm {
    pub form: Form,
    /// The code input's name (`authfactor.1.mfa.response`); `None` while the factor cools down.
    pub field: Option<String>,
    /// The page marked the code just sent as invalid.
    pub invalid: bool,
    /// "Wait N seconds for the code to cycle": the factor accepts no code for N seconds.
    pub wait_secs: Option<u64>,
}

pub fn factor_form(html: &str) -> Option<FactorForm> {
    let doc = Html::parse_document(html);
    let f = doc.select(&sel("form")).find(|f| f.select(&sel(r#"input[type="hidden"][name="__hisec__"]"#)).next().is_some())?;
    let form = form_of(f);
    let field = f
        .select(&sel("input[name]"))
        .filter(|i| !i.attr("type").is_some_and(|t| t.eq_ignore_ascii_case("hidden")))
        .filter_map(|i| i.attr("name"))
        .find(|n| n.starts_with("authfactor."))
        .map(str::to_string);
    let invalid = f.select(&sel(".aphront-form-error")).any(|e| web::text_of(&e).eq_ignore_ascii_case("Invalid"));
    let text = web::text_of(&f);
    let wait_secs = regex::Regex::new(r"Wait (\d+) seconds?")
        .expect("a valid regex")
        .captures(&text)
        .and_then(|c| c[1].parse().ok())
        .filter(|_| field.is_none());
    Some(FactorForm { form, field, invalid, wait_secs })
}

/// A dialog page: its heading, what it says, and its form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    pub title: String,
    pub paragraphs: Vec<String>,
    pub error: Option<String>,
    pub form: Option<Form>,
}

pub fn dialog(html: &str) -> Option<Dialog> {
    let doc = Html::parse_document(html);
    let d = doc.select(&sel("form.aphront-dialog-view")).next()?;
    let title = d.select(&sel(".aphront-dialog-head .phui-header-header")).next().map(|h| web::text_of(&h)).unwrap_or_default();
    let paragraphs = d.select(&sel(".aphront-dialog-view-paragraph")).map(|p| web::text_of(&p)).collect();
    let form = Some(form_of(d));
    Some(Dialog { title, paragraphs, error: error_box(&doc), form })
}

/// The message of Phorge's "Unhandled Exception" page (a refused CSRF value answers with it).
pub fn exception_message(html: &str) -> Option<String> {
    let doc = Html::parse_document(html);
    let m = doc.select(&sel(".exception-message")).next().map(|e| web::text_of(&e));
    m
}

/// "Authentication Failure": a dead session whose cookie the client failed to clear.
pub fn is_auth_failure(html: &str) -> bool {
    title(html) == "Authentication Failure"
}

// ---- the settings panels ----

/// One row of the Conduit API Tokens panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub id: u64,
    pub name: String,
    /// At most the first eight characters of the token (`api-fka1`).
    pub prefix: String,
    /// "Standard API Token", "Command Line API Token", "Cluster API Token".
    pub type_name: String,
    pub created: String,
    /// "Never" or a date.
    pub expires: String,
    pub can_terminate: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokensPanel {
    pub rows: Vec<TokenRow>,
    /// The user's PHID, from the panel's "Generate Token" link.
    pub user_phid: Option<String>,
}

pub fn api_tokens(html: &str) -> Result<TokensPanel, Unrecognised> {
    let doc = Html::parse_document(html);
    let t = table_with(&doc, "Conduit API Tokens", &["Token Name", "Token", "Type", "Created", "Expires"])?;
    let mut out = Vec::new();
    for r in rows(&t) {
        let id = r.id_after("/conduit/token/edit/").ok_or_else(|| Unrecognised("an API token row without its edit link".into()))?;
        let prefix: String = r.text("Token").trim_end_matches('.').chars().take(TOKEN_PREFIX_CHARS).collect();
        out.push(TokenRow {
            id,
            name: r.text("Token Name"),
            prefix,
            type_name: r.text("Type"),
            created: r.text("Created"),
            expires: r.text("Expires"),
            can_terminate: r.id_after("/conduit/token/terminate/") == Some(id),
        });
    }
    let user_phid = doc
        .select(&sel("a[href]"))
        .filter_map(|a| a.attr("href"))
        .find(|h| h.starts_with("/conduit/token/edit/?objectPHID="))
        .map(|h| h["/conduit/token/edit/?objectPHID=".len()..].to_string())
        .filter(|p| p.starts_with("PHID-USER-") && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    Ok(TokensPanel { rows: out, user_phid })
}

/// One row of the Sessions panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// The session's id, from its Terminate link; the current session has none.
    pub id: Option<u64>,
    /// The first six characters of the session's digest (`2b816f`), as Phorge shows them.
    pub digest: String,
    /// "web" or "conduit".
    pub kind: String,
    /// How much longer the session stays in high security ("15 m"); empty when it is not.
    pub hisec: String,
    pub created: String,
    /// A date without a time.
    pub expires: String,
    /// The row says "Current": the session this page was read with.
    pub current: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionsPanel {
    pub rows: Vec<SessionRow>,
    /// The "Terminate All Sessions" button is there.
    pub terminate_all: bool,
}

pub fn sessions(html: &str) -> Result<SessionsPanel, Unrecognised> {
    let doc = Html::parse_document(html);
    let t = table_with(&doc, "Sessions", &["Session", "Type", "HiSec", "Created", "Expires"])?;
    let mut out = Vec::new();
    for r in rows(&t) {
        let digest = r.text("Session");
        if digest.is_empty() || !digest.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Unrecognised(format!(
                "a session row whose Session column is not a digest ({})",
                crate::net::http::one_line(&digest)
            )));
        }
        let id = r.id_after("/auth/session/terminate/");
        let last = r.cells.last().map(|c| c.text.as_str()).unwrap_or_default();
        out.push(SessionRow {
            id,
            digest,
            kind: r.text("Type"),
            hisec: r.text("HiSec"),
            created: r.text("Created"),
            expires: r.text("Expires"),
            current: id.is_none() && last == "Current",
        });
    }
    let terminate_all = doc.select(&sel("a[href]")).any(|a| a.attr("href") == Some("/auth/session/terminate/all/"));
    Ok(SessionsPanel { rows: out, terminate_all })
}

/// One row of the SSH Public Keys panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshKeyRow {
    pub id: u64,
    pub name: String,
    pub comment: String,
    pub key_type: String,
    pub added: String,
    /// Whether the key is trusted, where the panel shows it (this panel hides the column).
    pub trusted: Option<bool>,
}

pub fn ssh_keys(html: &str) -> Result<Vec<SshKeyRow>, Unrecognised> {
    let doc = Html::parse_document(html);
    let t = table_with(&doc, "SSH Public Keys", &["Name", "Comment", "Type", "Added"])?;
    rows(&t)
        .map(|r| {
            Ok(SshKeyRow {
                id: r.id_after("/auth/sshkey/view/").ok_or_else(|| Unrecognised("an SSH key row without its link".into()))?,
                name: r.text("Name"),
                comment: r.text("Comment"),
                key_type: r.text("Type"),
                added: r.text("Added"),
                trusted: r.cell("Trusted").map(|c| !c.text.is_empty() && !c.text.eq_ignore_ascii_case("no")),
            })
        })
        .collect()
}

/// One row of the OAuth Application Authorizations panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OauthRow {
    pub id: u64,
    pub application: String,
    pub client_id: Option<u64>,
    pub scope: String,
    pub created: String,
    pub updated: String,
}

pub fn oauth_authorizations(html: &str) -> Result<Vec<OauthRow>, Unrecognised> {
    let doc = Html::parse_document(html);
    let t = table_with(&doc, "OAuth Authorizations", &["Application", "Scope", "Created", "Updated"])?;
    rows(&t)
        .map(|r| {
            Ok(OauthRow {
                id: r.id_after("?revoke=").ok_or_else(|| Unrecognised("an OAuth authorization row without its Revoke link".into()))?,
                application: r.text("Application"),
                client_id: r.cell("Application").and_then(|c| c.links.iter().find_map(|h| id_after(h, "/oauthserver/client/view/"))),
                scope: r.text("Scope"),
                created: r.text("Created"),
                updated: r.text("Updated"),
            })
        })
        .collect()
}

/// One row of the Temporary Tokens panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TempTokenRow {
    /// From the Revoke link; `None` when Revoke is greyed out (expired, or not revocable).
    pub id: Option<u64>,
    /// "One-Time Login Token", "MFA Sync Token" …
    pub kind: String,
    /// A date and time, or "Expired".
    pub expires: String,
}

pub fn temporary_tokens(html: &str) -> Result<Vec<TempTokenRow>, Unrecognised> {
    let doc = Html::parse_document(html);
    let t = table_with(&doc, "Temporary Tokens", &["Type", "Expires"])?;
    Ok(rows(&t).map(|r| TempTokenRow { id: r.id_after("/auth/token/revoke/"), kind: r.text("Type"), expires: r.text("Expires") }).collect())
}

/// One row of the Activity Logs panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityRow {
    pub id: u64,
    /// "Login: Partial Login", "Login: Upgrade to Full", "Login", "Logout" …
    pub action: String,
    pub ip: String,
    /// The session's digest prefix, as on the Sessions panel.
    pub session: String,
    pub date: String,
    pub time: String,
}

pub fn activity(html: &str) -> Result<Vec<ActivityRow>, Unrecognised> {
    let doc = Html::parse_document(html);
    let t = table_with(&doc, "Activity Logs", &["ID", "Action", "IP", "Session", "Date", "Time"])?;
    rows(&t)
        .map(|r| {
            Ok(ActivityRow {
                id: r.text("ID").parse().map_err(|_| Unrecognised("an activity log row without a numeric ID".into()))?,
                action: r.text("Action"),
                ip: r.text("IP"),
                session: r.text("Session"),
                date: r.text("Date"),
                time: r.text("Time"),
            })
        })
        .collect()
}

/// One row of the Conduit call log (`/conduit/log/`, "My Calls"), newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRow {
    pub method: String,
    pub error: String,
    pub date: String,
}

pub fn conduit_log(html: &str) -> Result<Vec<CallRow>, Unrecognised> {
    let doc = Html::parse_document(html);
    let t = table_with(&doc, "Conduit call log", &["Method", "Caller", "Error", "Date"])?;
    Ok(rows(&t).map(|r| CallRow { method: r.text("Method"), error: r.text("Error"), date: r.text("Date") }).collect())
}

/// The Date and Time settings panel: the user's time zone (an IANA name).
pub fn time_zone(html: &str) -> Option<String> {
    let doc = Html::parse_document(html);
    let select = doc.select(&sel(r#"select[name="timezone"]"#)).next()?;
    let chosen = select.select(&sel("option[selected]")).next()?;
    chosen.attr("value").map(str::to_string).filter(|z| !z.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/data/phorge/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn token_panel_reads_every_column_by_heading_and_keeps_eight_characters() {
        let p = api_tokens(&fixture("apitokens-panel.html")).unwrap();
        assert_eq!(p.user_phid.as_deref(), Some("PHID-USER-knnczwuiiscfxcdrvuzl"));
        let ids: Vec<u64> = p.rows.iter().map(|r| r.id).collect();
        assert_eq!(ids, vec![2, 1]);
        let laptop = &p.rows[1];
        assert_eq!((laptop.name.as_str(), laptop.prefix.as_str()), ("laptop-cli", "api-fka1"));
        assert_eq!(
            (laptop.type_name.as_str(), laptop.created.as_str(), laptop.expires.as_str()),
            ("Standard API Token", "Sun, Nov 22, 1:01 PM", "Never")
        );
        assert!(laptop.can_terminate);
        assert_eq!(p.rows[0].name, "Standard API Token", "a token never renamed shows its type as its name");
    }

    #[test]
    fn token_panel_variants() {
        assert!(api_tokens(&fixture("apitokens-panel-empty.html")).unwrap().rows.is_empty());
        let after = api_tokens(&fixture("apitokens-panel-after-terminate.html")).unwrap();
        assert_eq!(after.rows.iter().map(|r| r.id).collect::<Vec<_>>(), vec![1], "terminated tokens are not listed");
        let unused = api_tokens(&fixture("apitokens-panel-cli-token-unused.html")).unwrap();
        let cli = &unused.rows[0];
        assert_eq!(
            (cli.prefix.as_str(), cli.type_name.as_str(), cli.expires.as_str()),
            ("cli-fkc3", "Command Line API Token", "Sun, Nov 22, 2:04 PM")
        );
        let used = api_tokens(&fixture("apitokens-panel-cli-token-used.html")).unwrap();
        assert_eq!(used.rows[0].expires, "Never", "the first use made it permanent");
    }

    #[test]
    fn a_token_cell_longer_than_the_prefix_is_cut_to_eight_characters() {
        let html = fixture("apitokens-panel.html").replace("api-fka1...", "api-fka1xxxxxxxxxxxxxxxxxxxxxxxx");
        let p = api_tokens(&html).unwrap();
        assert_eq!(p.rows[1].prefix, "api-fka1");
    }

    #[test]
    fn sessions_panel_marks_the_current_session_and_reads_both_date_forms() {
        let p = sessions(&fixture("sessions-panel.html")).unwrap();
        assert!(p.terminate_all);
        let d: Vec<(&str, Option<u64>, bool)> = p.rows.iter().map(|r| (r.digest.as_str(), r.id, r.current)).collect();
        assert_eq!(d, vec![("90c30b", Some(4), false), ("2b816f", None, true), ("4ab5e1", Some(2), false)]);
        assert_eq!(
            (p.rows[0].kind.as_str(), p.rows[0].created.as_str(), p.rows[0].expires.as_str()),
            ("web", "Sun, Nov 22, 1:01 PM", "Tue, Dec 22")
        );
        assert_eq!(p.rows[2].expires, "Sun, Nov 22", "the partial session ends the same day");

        let two = sessions(&fixture("sessions-panel-two-date-forms.html")).unwrap();
        let e: Vec<(&str, &str)> = two.rows.iter().map(|r| (r.digest.as_str(), r.expires.as_str())).collect();
        assert_eq!(e, vec![("d2bcca", "Dec 22 2026"), ("2b816f", "Tue, Dec 22")]);
        assert!(two.rows[0].current && two.rows[1].id == Some(3));
    }

    #[test]
    fn sessions_panel_variants() {
        let c = sessions(&fixture("sessions-panel-with-conduit-session.html")).unwrap();
        assert_eq!((c.rows[0].digest.as_str(), c.rows[0].kind.as_str(), c.rows[0].expires.as_str()), ("aa3c24", "conduit", "Mon, Nov 23"));
        let h = sessions(&fixture("sessions-panel-hisec.html")).unwrap();
        assert_eq!((h.rows[0].hisec.as_str(), h.rows[0].current), ("15 m", true));
        assert_eq!(sessions(&fixture("sessions-panel-after-terminate.html")).unwrap().rows.len(), 2);
        assert_eq!(sessions(&fixture("sessions-panel-after-terminate-all.html")).unwrap().rows.len(), 1);
    }

    #[test]
    fn ssh_panel_reads_name_comment_type_added_and_the_key_id() {
        let keys = ssh_keys(&fixture("ssh-panel.html")).unwrap();
        let k: Vec<(u64, &str, &str, &str)> =
            keys.iter().map(|k| (k.id, k.name.as_str(), k.comment.as_str(), k.key_type.as_str())).collect();
        assert_eq!(k, vec![(2, "alice-desktop", "alice@desktop", "ssh-rsa"), (1, "alice-laptop", "alice@laptop", "ssh-ed25519")]);
        assert_eq!(keys[0].added, "Sun, Nov 22, 1:02 PM");
        assert_eq!(keys[0].trusted, None, "the panel hides Trusted");
        assert!(ssh_keys(&fixture("ssh-panel-empty.html")).unwrap().is_empty());
        assert_eq!(ssh_keys(&fixture("ssh-panel-after-revoke.html")).unwrap().len(), 1);
    }

    #[test]
    fn oauth_temporary_token_activity_and_call_log_panels() {
        let o = oauth_authorizations(&fixture("oauthorizations-panel.html")).unwrap();
        assert_eq!(
            o,
            vec![OauthRow {
                id: 1,
                application: "Demo Client App".into(),
                client_id: Some(1),
                scope: String::new(),
                created: "Sun, Nov 22, 1:03 PM".into(),
                updated: "Sun, Nov 22, 1:03 PM".into()
            }]
        );
        assert!(oauth_authorizations(&fixture("oauthorizations-panel-empty.html")).unwrap().is_empty());
        assert!(oauth_authorizations(&fixture("oauthorizations-panel-prototypes-off.html")).is_err());

        let t = temporary_tokens(&fixture("tokens-panel.html")).unwrap();
        assert_eq!(t, vec![TempTokenRow { id: Some(1), kind: "One-Time Login Token".into(), expires: "Mon, Nov 23, 1:02 PM".into() }]);
        assert!(temporary_tokens(&fixture("tokens-panel-empty.html")).unwrap().is_empty());

        let a = activity(&fixture("activity-panel.html")).unwrap();
        assert_eq!(a.len(), 14);
        let login = a.iter().find(|r| r.id == 5).unwrap();
        assert_eq!(
            (login.action.as_str(), login.ip.as_str(), login.session.as_str(), login.date.as_str(), login.time.as_str()),
            ("Login: Partial Login", "127.0.0.1", "2b816f", "Sun, Nov 22", "1:01 PM")
        );

        let calls = conduit_log(&fixture("conduit-log.html")).unwrap();
        assert_eq!(calls.len(), 12);
        assert_eq!((calls[0].method.as_str(), calls[0].date.as_str()), ("user.whoami", "Sun, Nov 22, 1:06 PM"));
        assert_eq!(calls[1].method, "auth.logout");
    }

    #[test]
    fn panels_with_other_headings_are_unrecognised_not_empty() {
        let html = fixture("sessions-panel.html").replace(">Session</th>", ">Key</th>");
        let e = sessions(&html).unwrap_err();
        assert!(e.0.contains("Session"), "{e:?}");
        assert!(api_tokens(&fixture("sessions-panel.html")).is_err());
        assert!(ssh_keys(&fixture("login-page.html")).is_err());
        assert!(activity(&fixture("conduit-log.html")).is_err());
    }

    #[test]
    fn columns_are_read_by_heading_in_any_order() {
        // The same panel with its Created and Expires columns swapped, headings and cells alike.
        let html = fixture("apitokens-panel.html")
            .replace(
                r#"<th class="right">Created</th><th class="right">Expires</th>"#,
                r#"<th class="right">Expires</th><th class="right">Created</th>"#,
            )
            .replace(
                r#"<td class="right">Sun, Nov 22, 1:01 PM</td><td class="right">Never</td>"#,
                r#"<td class="right">Never</td><td class="right">Sun, Nov 22, 1:01 PM</td>"#,
            );
        let p = api_tokens(&html).unwrap();
        assert_eq!((p.rows[1].created.as_str(), p.rows[1].expires.as_str()), ("Sun, Nov 22, 1:01 PM", "Never"));
    }

    #[test]
    fn login_forms_and_their_errors() {
        let f = login_form(&fixture("login-page.html")).unwrap();
        assert_eq!(f.form.action.as_deref(), Some("/auth/login/password:self/"));
        assert_eq!(f.form.hidden_value("__csrf__"), Some("B@fakesalt0123456789abcdef"));
        assert!(f.form.has_field("username") && f.error.is_none());
        assert_eq!(login_form(&fixture("login-bad-password.html")).unwrap().error.as_deref(), Some("Username or password are incorrect."));
        assert!(login_form(&fixture("loggedout-page.html")).is_some());
        assert!(login_form(&fixture("sessions-panel.html")).is_none());
    }

    #[test]
    fn factor_forms_the_prompt_the_wrong_code_and_the_checkpoint() {
        let mfa = factor_form(&fixture("login-mfa-prompt.html")).unwrap();
        assert_eq!(mfa.form.action.as_deref(), Some("/auth/finish/"));
        assert_eq!(mfa.field.as_deref(), Some("authfactor.1.mfa.response"));
        assert!(!mfa.invalid && mfa.wait_secs.is_none());

        let hs = factor_form(&fixture("hisec-prompt.html")).unwrap();
        assert_eq!(hs.form.action.as_deref(), Some("/conduit/token/edit/"));
        assert_eq!(hs.form.hidden_value("objectPHID"), Some("PHID-USER-ahhbdrj7a2ksreny5lsd"));
        let wrong = factor_form(&fixture("hisec-prompt-wrong-code.html")).unwrap();
        assert!(wrong.invalid);
        assert_eq!(wrong.form.hidden_value("authfactor.1.mfa.response"), Some("000000"), "the old code rides along as a hidden input");

        assert!(factor_form(&fixture("hisec-after-good-code.html")).is_none(), "after a good code: the original dialog, no checkpoint");
        assert!(factor_form(&fixture("token-generate-dialog.html")).is_none());

        let cooling = fixture("hisec-prompt.html").replace(
            r#"<input type="text" pattern="\d*" name="authfactor.1.mfa.response" autocomplete="off" id="UQ0_0" autofocus="autofocus" />"#,
            "This factor recently issued a challenge to a different login session. Wait 87 seconds for the code to cycle, then try again.",
        );
        let c = factor_form(&cooling).unwrap();
        assert_eq!((c.field.as_deref(), c.wait_secs), (None, Some(87)));
    }

    #[test]
    fn dialogs_errors_and_dead_sessions() {
        let d = dialog(&fixture("session-terminate-dialog.html")).unwrap();
        assert_eq!(d.title, "Terminate Session?");
        assert!(d.paragraphs[0].starts_with("Really terminate session 90c30b"), "{:?}", d.paragraphs);
        assert_eq!(d.form.unwrap().action.as_deref(), Some("/auth/session/terminate/4/"));
        let e = dialog(&fixture("token-rename-empty-name.html")).unwrap();
        assert_eq!(e.error.as_deref(), Some("Tokens must have a name."));
        assert_eq!(dialog(&fixture("session-terminate-dialog-current.html")).unwrap().title, "No Matching Sessions");
        assert!(exception_message(&fixture("token-terminate-post-no-csrf.html")).unwrap().contains("incorrect token"));
        assert!(is_auth_failure(&fixture("dead-session-cleared-followup.html")));
        assert_eq!(csrf(&fixture("sessions-panel.html")).as_deref(), Some("B@fakesalt0123456789abcdef"));
        assert_eq!(title(&fixture("oauthorizations-panel-prototypes-off.html")), "404 Not Found");
    }

    /// What the readers make of a page, in a word (test only: the provider asks the reader it needs).
    fn classify(html: &str) -> String {
        if let Ok(p) = api_tokens(html) {
            return format!("tokens:{}", p.rows.len());
        }
        if let Ok(p) = sessions(html) {
            return format!("sessions:{}", p.rows.len());
        }
        if let Ok(k) = ssh_keys(html) {
            return format!("ssh:{}", k.len());
        }
        if let Ok(o) = oauth_authorizations(html) {
            return format!("oauth:{}", o.len());
        }
        if let Ok(t) = temporary_tokens(html) {
            return format!("temptokens:{}", t.len());
        }
        if let Ok(a) = activity(html) {
            return format!("activity:{}", a.len());
        }
        if let Ok(c) = conduit_log(html) {
            return format!("calls:{}", c.len());
        }
        if let Some(f) = factor_form(html) {
            return format!("factor:{}{}", f.form.action.unwrap_or_default(), if f.invalid { ":invalid" } else { "" });
        }
        if let Some(l) = login_form(html) {
            return format!("login{}", if l.error.is_some() { ":error" } else { "" });
        }
        if is_auth_failure(html) {
            return "auth-failure".into();
        }
        if exception_message(html).is_some() {
            return "exception".into();
        }
        match dialog(html) {
            Some(d) => format!("dialog:{}", d.title),
            None => format!("page:{}", title(html)),
        }
    }

    #[test]
    fn every_captured_page_is_read_as_what_it_is() {
        let expected = [
            ("activity-panel.html", "activity:14"),
            ("apitokens-panel-after-terminate.html", "tokens:1"),
            ("apitokens-panel-cli-token-unused.html", "tokens:2"),
            ("apitokens-panel-cli-token-used.html", "tokens:2"),
            ("apitokens-panel-empty.html", "tokens:0"),
            ("apitokens-panel.html", "tokens:2"),
            ("conduit-log.html", "calls:12"),
            ("conduit-login-page.html", "dialog:Grant Account Access"),
            ("dead-session-cleared-followup.html", "auth-failure"),
            ("hisec-after-good-code.html", "dialog:Generate API Token"),
            ("hisec-prompt-wrong-code.html", "factor:/conduit/token/edit/:invalid"),
            ("hisec-prompt.html", "factor:/conduit/token/edit/"),
            ("loggedout-page.html", "login"),
            ("login-bad-password.html", "login:error"),
            ("login-mfa-prompt.html", "factor:/auth/finish/"),
            ("login-page-at-protected-url.html", "login"),
            ("login-page.html", "login"),
            ("logout-dialog.html", "dialog:Log Out?"),
            ("oauth-revoke-dialog.html", "dialog:Revoke Authorization?"),
            ("oauthorizations-panel-empty.html", "oauth:0"),
            ("oauthorizations-panel-prototypes-off.html", "dialog:404 Not Found"),
            ("oauthorizations-panel.html", "oauth:1"),
            ("people-log-entry.html", "page:♟ Activity Log 8"),
            ("people-logs-forbidden.html", "dialog:403 Forbidden"),
            ("session-terminate-all-dialog.html", "dialog:Terminate Sessions?"),
            ("session-terminate-all-post-without-dialog.html", "dialog:Terminate Sessions?"),
            ("session-terminate-dialog-current.html", "dialog:No Matching Sessions"),
            ("session-terminate-dialog.html", "dialog:Terminate Session?"),
            ("sessions-panel-after-terminate-all.html", "sessions:1"),
            ("sessions-panel-after-terminate.html", "sessions:2"),
            ("sessions-panel-hisec.html", "sessions:1"),
            ("sessions-panel-two-date-forms.html", "sessions:2"),
            ("sessions-panel-with-conduit-session.html", "sessions:3"),
            ("sessions-panel.html", "sessions:3"),
            ("ssh-key-view-revoked.html", "page:SSH Key 1"),
            ("ssh-key-view.html", "page:SSH Key 1"),
            ("ssh-panel-after-revoke.html", "ssh:1"),
            ("ssh-panel-empty.html", "ssh:0"),
            ("ssh-panel.html", "ssh:2"),
            ("ssh-revoke-dialog-already-revoked.html", "dialog:You Shall Not Pass: SSH Key 1"),
            ("ssh-revoke-dialog.html", "dialog:Revoke SSH Public Key"),
            ("ssh-upload-dialog.html", "dialog:Upload SSH Public Key"),
            ("temptoken-revoke-all-dialog.html", "dialog:Revoke Tokens?"),
            ("temptoken-revoke-dialog.html", "dialog:Revoke Token?"),
            ("temptoken-revoke-post-without-dialog.html", "dialog:Revoke Token?"),
            ("token-edit-dialog.html", "dialog:Edit API Token"),
            ("token-generate-dialog.html", "dialog:Generate API Token"),
            ("token-rename-empty-name.html", "dialog:Edit API Token"),
            ("token-terminate-all-dialog.html", "dialog:Terminate API Tokens"),
            ("token-terminate-dialog-already-terminated.html", "dialog:404 Not Found"),
            ("token-terminate-dialog.html", "dialog:Terminate API Token"),
            ("token-terminate-post-no-csrf.html", "exception"),
            ("token-terminate-post-no-form.html", "dialog:Terminate API Token"),
            ("tokens-panel-empty.html", "temptokens:0"),
            ("tokens-panel.html", "temptokens:1"),
        ];
        let dir = format!("{}/tests/data/phorge", env!("CARGO_MANIFEST_DIR"));
        let pages: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".html"))
            .collect();
        assert_eq!(pages.len(), expected.len(), "every captured page has its line here");
        for (name, want) in expected {
            assert_eq!(classify(&fixture(name)), want, "{name}");
        }
    }

    #[test]
    fn no_reader_keeps_the_full_secret_a_page_shows() {
        for (page, secret) in [
            ("token-edit-dialog.html", "api-fkb2xxxxxxxxxxxxxxxxxxxxxxxx"),
            ("conduit-login-page.html", "cli-fkc3xxxxxxxxxxxxxxxxxxxxxxxx"),
        ] {
            let html = fixture(page);
            assert!(html.contains(secret));
            let read = format!("{:?} {:?} {:?}", dialog(&html), factor_form(&html), login_form(&html));
            assert!(!read.contains(secret), "{page}: {read}");
        }
    }

    #[test]
    fn ids_come_only_from_the_link_they_belong_to() {
        assert_eq!(id_after("/conduit/token/edit/12/", "/conduit/token/edit/"), Some(12));
        assert_eq!(id_after("/settings/user/alice/page/oauthorizations/?revoke=3", "?revoke="), Some(3));
        assert_eq!(id_after("http://127.0.0.1:1/auth/sshkey/view/7/", "/auth/sshkey/view/"), Some(7));
        assert_eq!(id_after("/conduit/token/edit/?objectPHID=PHID-USER-x", "/conduit/token/edit/"), None);
        assert_eq!(id_after("/conduit/token/edit/12x/", "/conduit/token/edit/"), None);
    }
}
