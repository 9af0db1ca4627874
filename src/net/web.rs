//! Shared mechanics for providers that must drive a server's web pages because its API does not
//! cover everything: a cookie session whose cookies can be kept in the keyring between runs,
//! manual redirects (so a provider sees where a server sends it: a login page, an MFA page),
//! forms and their hidden inputs, HTML tables read by their column headings, and the
//! human-formatted local times such pages show.
//!
//! It knows no server kind. It never puts a cookie, a form value or a page body into an error
//! or a log line: errors name the host and what was expected, nothing more.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use reqwest::header::{COOKIE, SET_COOKIE};
use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::http::{Http, Response};
use crate::error::{Error, Result};
use crate::model::host_of;
use crate::secret::Secret;

/// How many redirects [`WebSession::follow`] follows before it gives up.
const MAX_REDIRECTS: usize = 8;

/// A browser-like session: ONE cookie jar (this one; the HTTP client under it keeps none) that the
/// provider can save and restore, no automatic redirects. Cookies are sent only to the host they
/// came from.
pub struct WebSession {
    http: Http,
    host: String,
    cookies: BTreeMap<String, Secret>,
}

/// Where a page request ended after following redirects, and every URL on the way.
pub struct Followed {
    pub response: Response,
    /// The URLs visited, first to last (the last is `response.url`).
    pub chain: Vec<Url>,
}

impl WebSession {
    /// A fresh session for the server at `base`, with the cookies kept from an earlier run.
    pub fn new(base: &Url, cookies: BTreeMap<String, Secret>) -> Self {
        WebSession { http: Http::web_session(), host: host_of(base.as_str()), cookies }
    }

    /// The cookies to keep for the next run (secrets: keyring only).
    pub fn cookies(&self) -> &BTreeMap<String, Secret> {
        &self.cookies
    }

    pub fn has_cookies(&self) -> bool {
        !self.cookies.is_empty()
    }

    /// Forgets every cookie (a new login follows).
    pub fn clear(&mut self) {
        self.cookies.clear();
    }

    fn cookie_header(&self) -> Option<String> {
        if self.cookies.is_empty() {
            return None;
        }
        Some(self.cookies.iter().map(|(k, v)| format!("{k}={}", v.expose())).collect::<Vec<_>>().join("; "))
    }

    fn absorb(&mut self, r: &Response) {
        if host_of(r.url.as_str()) != self.host {
            return;
        }
        for v in r.headers.get_all(SET_COOKIE).iter() {
            let Ok(v) = v.to_str() else { continue };
            let first = v.split(';').next().unwrap_or("");
            let Some((name, value)) = first.split_once('=') else { continue };
            let (name, value) = (name.trim().to_string(), value.trim().to_string());
            let expired = v.split(';').any(|p| {
                let p = p.trim().to_ascii_lowercase();
                p == "max-age=0" || p.starts_with("max-age=-") || p.starts_with("expires=thu, 01 jan 1970")
            });
            if value.is_empty() || value == "deleted" || expired {
                self.cookies.remove(&name);
            } else {
                self.cookies.insert(name, Secret::new(value));
            }
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder, url: &Url) -> Result<Response> {
        let req = match self.cookie_header().filter(|_| host_of(url.as_str()) == self.host) {
            Some(c) => req.header(COOKIE, c),
            None => req,
        };
        let r = self.http.send(req).await?;
        self.absorb(&r);
        Ok(r)
    }

    /// One GET, redirects not followed.
    pub async fn get(&mut self, url: Url) -> Result<Response> {
        let req = self.http.get(url.clone());
        self.send(req, &url).await
    }

    /// One form POST (`application/x-www-form-urlencoded`), redirects not followed.
    pub async fn post_form(&mut self, url: Url, fields: &[(String, String)]) -> Result<Response> {
        let req = self.http.post(url.clone()).form(fields);
        self.send(req, &url).await
    }

    /// Follows the redirects of `first` with GETs on the same host, as a browser would.
    pub async fn follow(&mut self, first: Response) -> Result<Followed> {
        let mut chain = vec![first.url.clone()];
        let mut r = first;
        for _ in 0..MAX_REDIRECTS {
            if !r.status.is_redirection() {
                return Ok(Followed { response: r, chain });
            }
            let Some(next) = r.location() else { return Ok(Followed { response: r, chain }) };
            if host_of(next.as_str()) != self.host {
                // Another site (a single sign-on provider): stop and let the caller judge.
                chain.push(next);
                return Ok(Followed { response: r, chain });
            }
            chain.push(next.clone());
            r = self.get(next).await?;
        }
        Err(Error::bad_response(self.host.clone(), "too many redirects"))
    }

    /// GET and follow redirects.
    pub async fn open(&mut self, url: Url) -> Result<Followed> {
        let r = self.get(url).await?;
        self.follow(r).await
    }
}

// ---- reading pages ----

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("a valid CSS selector")
}

/// Text of an element with whitespace collapsed.
pub fn text_of(e: &ElementRef) -> String {
    e.text().collect::<Vec<_>>().join(" ").split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The value of the first `<input name=NAME>` in the page.
pub fn input_value(doc: &Html, name: &str) -> Option<String> {
    let s = sel("input[name]");
    doc.select(&s).find(|e| e.attr("name") == Some(name)).and_then(|e| e.attr("value").map(str::to_string))
}

/// A form as a browser would submit it: where, how, and its hidden fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub action: Option<String>,
    pub method: String,
    pub id: Option<String>,
    /// `(name, value)` of every hidden input, in page order.
    pub hidden: Vec<(String, String)>,
    /// Names of every other input (text, password, checkbox …).
    pub fields: Vec<String>,
}

impl Form {
    pub fn hidden_value(&self, name: &str) -> Option<&str> {
        self.hidden.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
    pub fn has_field(&self, name: &str) -> bool {
        self.fields.iter().any(|f| f == name) || self.hidden.iter().any(|(n, _)| n == name)
    }
}

fn form_of(f: &ElementRef) -> Form {
    let inputs = sel("input[name]");
    let mut hidden = Vec::new();
    let mut fields = Vec::new();
    for i in f.select(&inputs) {
        let name = i.attr("name").unwrap_or_default().to_string();
        if i.attr("type").map(|t| t.eq_ignore_ascii_case("hidden")).unwrap_or(false) {
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

/// Every form in (a part of) a page.
pub fn forms(root: ElementRef) -> Vec<Form> {
    let s = sel("form");
    root.select(&s).map(|f| form_of(&f)).collect()
}

/// One table cell: its text, the links in it, and the forms in it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cell {
    pub text: String,
    pub links: Vec<String>,
    pub forms: Vec<Form>,
}

/// An HTML table read by its column headings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// The index of the column whose heading is `name` (case-insensitive).
    pub fn column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h.eq_ignore_ascii_case(name))
    }

    /// The first of several possible headings that the table has.
    pub fn column_any(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| self.column(n))
    }
}

/// Every table in (a part of) a page that has a header row. Cells of a row beyond the headings
/// are kept; missing cells are empty.
pub fn tables(root: ElementRef) -> Vec<Table> {
    let table_sel = sel("table");
    let th_sel = sel("thead th, thead td");
    let tr_sel = sel("tbody tr");
    let td_sel = sel("td, th");
    let a_sel = sel("a[href]");
    let mut out = Vec::new();
    for t in root.select(&table_sel) {
        let headers: Vec<String> = t.select(&th_sel).map(|h| text_of(&h)).collect();
        if headers.is_empty() {
            continue;
        }
        let rows = t
            .select(&tr_sel)
            .map(|tr| {
                tr.select(&td_sel)
                    .map(|td| Cell {
                        text: text_of(&td),
                        links: td.select(&a_sel).filter_map(|a| a.attr("href").map(str::to_string)).collect(),
                        forms: forms(td),
                    })
                    .collect::<Vec<_>>()
            })
            .filter(|r: &Vec<Cell>| !r.is_empty())
            .collect();
        out.push(Table { headers, rows });
    }
    out
}

/// The value of a query parameter of a link (relative links resolve against `base`).
pub fn query_param(base: &Url, href: &str, name: &str) -> Option<String> {
    let u = base.join(href).ok()?;
    let v = u.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    v
}

// ---- local times ----

/// Turns a wall-clock time shown on a page into UTC, given the IANA time zone the page was
/// rendered in. `UTC`-like zones are exact everywhere; named zones are looked up in the system's
/// time zone database (`/usr/share/zoneinfo`) where there is one. `None` when the zone is unknown:
/// the caller then keeps the page's words rather than guessing.
pub fn local_to_utc(local: NaiveDateTime, zone: &str) -> Option<DateTime<Utc>> {
    let offset = zone_offset(zone, local)?;
    offset.from_local_datetime(&local).single().map(|t| t.with_timezone(&Utc))
}

fn zone_offset(zone: &str, local: NaiveDateTime) -> Option<FixedOffset> {
    let z = zone.trim();
    if matches!(z.to_ascii_uppercase().as_str(), "UTC" | "ETC/UTC" | "GMT" | "ETC/GMT" | "Z" | "UCT" | "ZULU" | "UNIVERSAL") {
        return FixedOffset::east_opt(0);
    }
    if z.is_empty() || z.contains("..") || z.starts_with('/') || !z.chars().all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c)) {
        return None;
    }
    let data = std::fs::read(std::path::Path::new("/usr/share/zoneinfo").join(z)).ok()?;
    tzif_offset(&data, local)
}

/// The UTC offset in force at a local time, from a TZif file (RFC 8536). Reads the 64-bit block
/// of version 2+ files, else the 32-bit one. Past the last transition, the last offset holds.
fn tzif_offset(data: &[u8], local: NaiveDateTime) -> Option<FixedOffset> {
    fn be32(b: &[u8]) -> Option<i64> {
        Some(i32::from_be_bytes(b.get(..4)?.try_into().ok()?) as i64)
    }
    fn be64(b: &[u8]) -> Option<i64> {
        Some(i64::from_be_bytes(b.get(..8)?.try_into().ok()?))
    }
    struct Block {
        times: Vec<i64>,
        idx: Vec<usize>,
        offsets: Vec<i64>,
        len: usize,
    }
    fn block(d: &[u8], wide: bool) -> Option<Block> {
        if d.get(..4)? != b"TZif" {
            return None;
        }
        let counts: Vec<usize> = (0..6).map(|i| be32(&d[20 + 4 * i..]).map(|v| v as usize)).collect::<Option<_>>()?;
        let (isut, isstd, leap, timecnt, typecnt, charcnt) = (counts[0], counts[1], counts[2], counts[3], counts[4], counts[5]);
        let tsize = if wide { 8 } else { 4 };
        let mut p = 44;
        let times: Vec<i64> =
            (0..timecnt).map(|i| if wide { be64(d.get(p + i * 8..)?) } else { be32(d.get(p + i * 4..)?) }).collect::<Option<_>>()?;
        p += timecnt * tsize;
        let idx: Vec<usize> = d.get(p..p + timecnt)?.iter().map(|b| *b as usize).collect();
        p += timecnt;
        let offsets: Vec<i64> = (0..typecnt).map(|i| be32(d.get(p + i * 6..)?)).collect::<Option<_>>()?;
        p += typecnt * 6 + charcnt + leap * (tsize + 4) + isstd + isut;
        Some(Block { times, idx, offsets, len: p })
    }
    let v1 = block(data, false)?;
    let b = if data.get(4).copied().unwrap_or(0) >= b'2' { block(data.get(v1.len..)?, true)? } else { v1 };
    if b.offsets.is_empty() {
        return None;
    }
    let wall = local.and_utc().timestamp();
    // The offset before the first transition is the first non-DST type; good enough for old dates.
    let mut off = b.offsets[0];
    for (i, t) in b.times.iter().enumerate() {
        // A transition at UTC time t happens at wall time t + (offset before it).
        if wall - off >= *t {
            off = *b.offsets.get(*b.idx.get(i)?)?;
        } else {
            break;
        }
    }
    FixedOffset::east_opt(off as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that sets a cookie on every answer and records the Cookie header of each request.
    fn cookie_server() -> (Url, std::sync::Arc<std::sync::Mutex<Vec<Option<String>>>>) {
        use std::io::{BufRead, BufReader, Write};
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!("http://127.0.0.1:{}/", l.local_addr().unwrap().port())).unwrap();
        let log = seen.clone();
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut cookie = None;
                let mut line = String::new();
                while r.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                    if let Some(v) = line.strip_prefix("cookie: ").or_else(|| line.strip_prefix("Cookie: ")) {
                        cookie = Some(v.trim().to_string());
                    }
                    line.clear();
                }
                log.lock().unwrap().push(cookie);
                let _ =
                    (&s).write_all(b"HTTP/1.1 200 OK\r\nSet-Cookie: sid=abc123; Path=/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            }
        });
        (url, seen)
    }

    #[tokio::test]
    async fn clear_forgets_every_cookie_so_the_next_request_sends_none() {
        let (url, seen) = cookie_server();
        let mut web = WebSession::new(&url, BTreeMap::new());
        web.get(url.clone()).await.unwrap();
        web.get(url.clone()).await.unwrap();
        assert!(web.has_cookies());
        web.clear();
        web.get(url.clone()).await.unwrap();
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen, vec![None, Some("sid=abc123".to_string()), None], "the cookie came back after clear()");
    }

    #[test]
    fn tables_are_read_by_heading_with_links_and_forms() {
        let doc = Html::parse_document(
            r#"<table><thead><tr><th>Name</th><th>Action</th></tr></thead><tbody>
            <tr><td> A  b </td><td><a href="x.php?delete=7&amp;k=v">Go</a></td></tr>
            <tr><td>C</td><td><form method="post" action="y.php"><input type="hidden" name="id" value="3"><input name="q"></form></td></tr>
            </tbody></table>"#,
        );
        let t = &tables(doc.root_element())[0];
        assert_eq!(t.column("action"), Some(1));
        assert_eq!(t.rows[0][0].text, "A b");
        let base = Url::parse("http://h/p/").unwrap();
        assert_eq!(query_param(&base, &t.rows[0][1].links[0], "delete").as_deref(), Some("7"));
        let f = &t.rows[1][1].forms[0];
        assert_eq!((f.method.as_str(), f.hidden_value("id"), f.has_field("q")), ("post", Some("3"), true));
    }

    #[test]
    fn utc_zones_convert_exactly_and_unknown_zones_give_nothing() {
        let t = NaiveDateTime::parse_from_str("2026-11-22 13:04", "%Y-%m-%d %H:%M").unwrap();
        assert_eq!(local_to_utc(t, "UTC").unwrap().to_rfc3339(), "2026-11-22T13:04:00+00:00");
        assert!(local_to_utc(t, "../../etc/passwd").is_none());
        assert!(local_to_utc(t, "Nowhere/Atlantis").is_none());
    }

    #[test]
    fn named_zones_follow_daylight_saving_where_the_system_knows_them() {
        if !std::path::Path::new("/usr/share/zoneinfo/Europe/London").exists() {
            return;
        }
        let winter = NaiveDateTime::parse_from_str("2026-11-22 13:04", "%Y-%m-%d %H:%M").unwrap();
        let summer = NaiveDateTime::parse_from_str("2026-07-01 13:04", "%Y-%m-%d %H:%M").unwrap();
        assert_eq!(local_to_utc(winter, "Europe/London").unwrap().to_rfc3339(), "2026-11-22T13:04:00+00:00");
        assert_eq!(local_to_utc(summer, "Europe/London").unwrap().to_rfc3339(), "2026-07-01T12:04:00+00:00");
        assert_eq!(local_to_utc(winter, "Australia/Sydney").unwrap().to_rfc3339(), "2026-11-22T02:04:00+00:00");
    }
}
