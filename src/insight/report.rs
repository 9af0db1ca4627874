//! The report a helper hands over: which accounts were looked at, what the checkup found, and
//! what was revoked or renamed through Keyward, with times and results — as Markdown, HTML or
//! JSON. It is built only from the model, the findings and the history, none of which holds a
//! secret; server text in it is escaped for the format (HTML) or kept on one line (Markdown).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::checkup::Finding;
use super::history::Entry;
use crate::model::Account;

/// One account as the report names it.
#[derive(Debug, Clone, Serialize)]
pub struct AccountLine {
    pub name: String,
    pub kind: String,
    pub server: String,
    pub user: String,
}

impl From<&Account> for AccountLine {
    fn from(a: &Account) -> Self {
        AccountLine { name: a.name(), kind: a.kind.display_name().to_string(), server: a.base_url.clone(), user: a.user_id.clone() }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub generated: DateTime<Utc>,
    pub accounts: Vec<AccountLine>,
    pub findings: Vec<Finding>,
    pub history: Vec<Entry>,
    /// Made in screen-share-safe mode: addresses, e-mails and ids are masked (`crate::mask`).
    #[serde(default)]
    pub safe: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Html,
    Json,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "markdown" | "md" => Ok(Format::Markdown),
            "html" => Ok(Format::Html),
            "json" => Ok(Format::Json),
            other => Err(format!("unknown report format {other:?}: choose markdown, html or json")),
        }
    }
}

impl Report {
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Json => serde_json::to_string_pretty(self).unwrap_or_default() + "\n",
            Format::Markdown => self.markdown(),
            Format::Html => self.html(),
        }
    }

    fn markdown(&self) -> String {
        let cell = |s: &str| crate::net::http::one_line(s).replace('|', "\\|");
        let mut out = format!("# Keyward report\n\nMade {}.\n\n", stamp(self.generated));
        if self.safe {
            out.push_str(&format!("{SAFE_NOTE}\n\n"));
        }
        out.push_str("## Accounts\n\n");
        for a in &self.accounts {
            out.push_str(&format!("- {} — {} at {} ({})\n", cell(&a.name), a.kind, cell(&a.server), cell(&a.user)));
        }
        out.push_str(&format!("\n## What the checkup found ({})\n\n", self.findings.len()));
        if self.findings.is_empty() {
            out.push_str("Nothing needs attention.\n");
        } else {
            out.push_str("| Account | Credential | Finding | Why |\n|---|---|---|---|\n");
            for f in &self.findings {
                out.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    cell(&f.account),
                    cell(f.name.as_deref().unwrap_or(&f.credential_id)),
                    f.code.as_str(),
                    cell(&f.reason)
                ));
            }
        }
        out.push_str(&format!("\n## What was done through Keyward ({})\n\n", self.history.len()));
        if self.history.is_empty() {
            out.push_str("Nothing was renamed or revoked.\n");
        } else {
            out.push_str("| When | Account | Credential | Done | Result |\n|---|---|---|---|---|\n");
            for e in &self.history {
                out.push_str(&format!(
                    "| {} | {} | {} | {} | {} |\n",
                    stamp(e.at),
                    cell(&whose(e)),
                    cell(e.name.as_deref().unwrap_or(&e.credential_id)),
                    e.action.past_tense(),
                    cell(e.result())
                ));
            }
        }
        out
    }

    fn html(&self) -> String {
        let h = |s: &str| html_escape(s);
        let mut out = String::from(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Keyward report</title>\
             <style>body{font:15px/1.4 system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse;width:100%}\
             td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}</style></head><body>\n",
        );
        out.push_str(&format!("<h1>Keyward report</h1>\n<p>Made {}.</p>\n", h(&stamp(self.generated))));
        if self.safe {
            out.push_str(&format!("<p class=\"safe\">{SAFE_NOTE}</p>\n"));
        }
        out.push_str("<h2>Accounts</h2>\n<ul>\n");
        for a in &self.accounts {
            out.push_str(&format!(
                "<li><bdi>{}</bdi> — {} at <bdi>{}</bdi> (<bdi>{}</bdi>)</li>\n",
                h(&a.name),
                h(&a.kind),
                h(&a.server),
                h(&a.user)
            ));
        }
        out.push_str(&format!("</ul>\n<h2>What the checkup found ({})</h2>\n", self.findings.len()));
        if self.findings.is_empty() {
            out.push_str("<p>Nothing needs attention.</p>\n");
        } else {
            out.push_str("<table><tr><th>Account</th><th>Credential</th><th>Finding</th><th>Why</th></tr>\n");
            for f in &self.findings {
                out.push_str(&format!(
                    "<tr><td><bdi>{}</bdi></td><td><bdi>{}</bdi></td><td>{}</td><td>{}</td></tr>\n",
                    h(&f.account),
                    h(f.name.as_deref().unwrap_or(&f.credential_id)),
                    f.code.as_str(),
                    h(&f.reason)
                ));
            }
            out.push_str("</table>\n");
        }
        out.push_str(&format!("<h2>What was done through Keyward ({})</h2>\n", self.history.len()));
        if self.history.is_empty() {
            out.push_str("<p>Nothing was renamed or revoked.</p>\n");
        } else {
            out.push_str("<table><tr><th>When</th><th>Account</th><th>Credential</th><th>Done</th><th>Result</th></tr>\n");
            for e in &self.history {
                out.push_str(&format!(
                    "<tr><td>{}</td><td><bdi>{}</bdi></td><td><bdi>{}</bdi></td><td>{}</td><td>{}</td></tr>\n",
                    h(&stamp(e.at)),
                    h(&whose(e)),
                    h(e.name.as_deref().unwrap_or(&e.credential_id)),
                    e.action.past_tense(),
                    h(e.result())
                ));
            }
            out.push_str("</table>\n");
        }
        out.push_str("</body></html>\n");
        out
    }
}

/// What a report made in screen-share-safe mode says about itself.
pub const SAFE_NOTE: &str =
    "Made in screen-share-safe mode: IP addresses, e-mail addresses, other people's user ids and credential ids are masked (•••).";

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if c.is_control() => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// The account an entry was done from, and the other user whose credential it was, if any.
fn whose(e: &Entry) -> String {
    match &e.user {
        Some(u) => format!("{} (user {u})", e.account),
        None => e.account.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_server_text() {
        let r = Report {
            generated: Utc::now(),
            accounts: vec![AccountLine { name: "<script>x</script>".into(), kind: "Matrix".into(), server: "s".into(), user: "u".into() }],
            findings: vec![],
            history: vec![],
            safe: false,
        };
        let html = r.render(Format::Html);
        assert!(!html.contains("<script>x") && html.contains("&lt;script&gt;"), "{html}");
        assert!(r.render(Format::Markdown).contains("Nothing needs attention."));
    }
}
