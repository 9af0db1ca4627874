//! Screen-share-safe mode: masked copies of what the faces show, so a person can share their
//! screen (or paste the CLI's output) while someone helps them, without showing other people's
//! addresses or anything that would let the viewer reach a credential.
//!
//! Masking happens here, once, on the view types the faces receive (account listings and their
//! rows, checkup findings, changes, history, the report, "whose token is this?", revoke results);
//! the faces only call [`Mask::mask`] (through [`crate::Keyward::masker`]) when the mode is on
//! (the persisted setting, `settings.json` beside the store, or the CLI's `--safe`).
//!
//! What is masked, and how (chosen so the rows stay distinguishable and a helper can follow):
//! - **IP addresses**, v4 and v6, in every field and inside free text (summary lines, names
//!   servers gave, notes, errors): an IPv4 address keeps its first three octets
//!   (`203.0.113.•••`), an IPv6 address its first two groups, the provider's /32
//!   (`2001:db8:•••`); an IPv4-mapped IPv6 address is masked as its IPv4 (`::ffff:203.0.113.•••`);
//!   a port or zone after it stays. Within one view (one Masker) the same address is always
//!   masked the same, and a *different* address that would look the same gets a number
//!   (`203.0.113.•••#2`), so two sessions from two machines of one network still look different,
//!   while one machine seen twice looks the same.
//! - **E-mail addresses**: the first character of the local part and the domain
//!   (`a•••@example.org`), numbered like addresses when two would look alike. The domain is kept
//!   when it is (a parent of, or below) one of the user's own accounts' hosts, else only its last
//!   label stays (`b•••@•••.com`): other people's host names are not shown.
//! - **User ids of other people** (Matrix `@user:server` in any text): `@b•••:server`, the server
//!   under the same rule as e-mail domains. The user's own user ids stay as they are.
//! - **Credential ids, token prefixes and other ids** (facts labelled ID, UUID, prefix, token,
//!   key): `•••` and six characters of an HMAC-SHA256, keyed with a random key kept in
//!   `settings.json` and over the account id and the id. Such a masked id is stable (the same
//!   in every view, every process, until the settings file goes) and unguessable without the key,
//!   and it still works for actions: [`crate::Keyward::resolve_ids`] maps a masked id back by
//!   masking every id of the account's current (saved) listing and comparing — so a masked id
//!   acts only on a credential that is still listed. An original id in free text (an error that
//!   names it) is replaced by its mask too.
//!
//! What stays: names (with any address, e-mail or id inside them masked), clients, kinds, times,
//! badges, the user's own account names and server host names (so the helper knows which account
//! is on screen; an account named after an e-mail login, or on a server reached by IP address,
//! has that part masked). Keyward's own account ids (random, local) stay: the faces act by them.
//!
//! Masking a masked value changes nothing ([`Masker::text`] is idempotent): `•` is in no
//! address, e-mail or id pattern.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use crate::insight::checkup::{Finding, Fix};
use crate::insight::history::Entry;
use crate::insight::identify::Identity;
use crate::insight::ops::ChangeView;
use crate::insight::report::{AccountLine, Report};
use crate::model::{Account, Fact, Gap, Usage};
use crate::service::RevokeReport;
use crate::view::{AccountListing, AccountView, CredentialRow, UsedBy, UserListing};

/// What a masked part is replaced with.
pub const DOTS: &str = "•••";

/// Masks the values of one view. Make one per view (one answer of a command, one CLI output):
/// its numbering of look-alike addresses is stable within it.
pub struct Masker {
    key: Vec<u8>,
    own_hosts: Vec<String>,
    own_users: Vec<String>,
    /// Original → masked, for addresses and e-mails.
    seen: HashMap<String, String>,
    /// Masked form without its number → how many different originals have it.
    alike: HashMap<String, u32>,
    /// Original ids (long enough to find in text) → masked, to replace them in free text.
    ids: Vec<(String, String)>,
}

impl Masker {
    /// A masker with the install's key and the user's own accounts (whose hosts and user ids
    /// stay).
    pub fn new(key: &[u8], accounts: &[Account]) -> Self {
        let mut own_hosts: Vec<String> = accounts
            .iter()
            .filter_map(|a| url::Url::parse(&a.base_url).ok().and_then(|u| u.host_str().map(|h| h.to_ascii_lowercase())))
            .collect();
        // The server part of the user's own user ids (`@alice:example.org`) is theirs too.
        own_hosts.extend(accounts.iter().filter_map(|a| a.user_id.split_once(':').map(|(_, s)| host_only(s).to_ascii_lowercase())));
        own_hosts.retain(|h| !h.is_empty() && h.parse::<IpAddr>().is_err());
        Masker {
            key: key.to_vec(),
            own_hosts,
            own_users: accounts.iter().map(|a| a.user_id.clone()).filter(|u| !u.is_empty()).collect(),
            seen: HashMap::new(),
            alike: HashMap::new(),
            ids: Vec::new(),
        }
    }

    /// The masked form of credential `id` of account `account_id`: `•••` and six characters of
    /// a keyed hash. Already masked: unchanged.
    pub fn id(&mut self, account_id: &str, id: &str) -> String {
        if id.contains('•') {
            return id.to_string();
        }
        let masked = mask_id(&self.key, account_id, id);
        if id.chars().count() >= 6 && !self.ids.iter().any(|(o, _)| o == id) {
            self.ids.push((id.to_string(), masked.clone()));
            // Longest first, so an id that contains another is replaced whole.
            self.ids.sort_by_key(|(o, _)| std::cmp::Reverse(o.len()));
        }
        masked
    }

    /// Free text with every IP address, e-mail address, other person's user id and known
    /// credential id in it masked; everything else kept as it is (control and bidi characters
    /// too: the faces deal with those as before).
    pub fn text(&mut self, s: &str) -> String {
        let mut s = s.to_string();
        for (orig, masked) in &self.ids {
            if s.contains(orig.as_str()) {
                s = s.replace(orig.as_str(), masked);
            }
        }
        let s = self.user_ids(&s);
        let s = self.emails(&s);
        self.addresses(&s)
    }

    pub fn opt(&mut self, s: &Option<String>) -> Option<String> {
        s.as_deref().map(|s| self.text(s))
    }

    fn numbered(&mut self, original: &str, base: String, number_at: impl Fn(&str, u32) -> String) -> String {
        if let Some(m) = self.seen.get(original) {
            return m.clone();
        }
        let n = self.alike.entry(base.clone()).or_insert(0);
        *n += 1;
        let masked = if *n == 1 { base } else { number_at(&base, *n) };
        self.seen.insert(original.to_string(), masked.clone());
        masked
    }

    fn ip(&mut self, ip: IpAddr) -> String {
        let base = match ip {
            IpAddr::V4(v4) => v4_base(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => format!("::ffff:{}", v4_base(v4)),
                None => {
                    let s = v6.segments();
                    format!("{:x}:{:x}:{DOTS}", s[0], s[1])
                }
            },
        };
        self.numbered(&ip.to_string(), base, |b, n| format!("{b}#{n}"))
    }

    /// Every IP address in `s`, masked. Candidates are the longest runs of hex digits, `.` and
    /// `:`; one that parses as an address (or an IPv4 address with a port) is masked.
    fn addresses(&mut self, s: &str) -> String {
        let is_part = |c: char| c.is_ascii_hexdigit() || c == '.' || c == ':';
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(start) = rest.find(is_part) {
            out.push_str(&rest[..start]);
            let run_len = rest[start..].find(|c: char| !is_part(c)).unwrap_or(rest.len() - start);
            let run = &rest[start..start + run_len];
            out.push_str(&self.address_run(run));
            rest = &rest[start + run_len..];
        }
        out.push_str(rest);
        out
    }

    fn address_run(&mut self, run: &str) -> String {
        // Trailing punctuation ("from 192.0.2.1.", "at 2001:db8::1:") is not part of the address.
        let core = run.trim_end_matches(['.', ':']);
        let tail = &run[core.len()..];
        if let Ok(ip) = core.parse::<IpAddr>() {
            return format!("{}{tail}", self.ip(ip));
        }
        // An IPv4 address with a port.
        if let Some((host, port)) = core.rsplit_once(':') {
            if let (Ok(v4), true) = (host.parse::<Ipv4Addr>(), !port.is_empty() && port.chars().all(|c| c.is_ascii_digit())) {
                return format!("{}:{port}{tail}", self.ip(IpAddr::V4(v4)));
            }
        }
        // Addresses side by side without a space between ("192.0.2.1:192.0.2.2") are rare enough
        // to be left to the pieces: mask every dotted quad inside.
        if core.contains('.') && core.contains(':') {
            return run.split(':').map(|p| self.address_run(p)).collect::<Vec<_>>().join(":");
        }
        run.to_string()
    }

    /// Is `host` (lowercase) one of the user's own, or a parent or child of one?
    fn own_host(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.own_hosts.iter().any(|h| *h == host || h.ends_with(&format!(".{host}")) || host.ends_with(&format!(".{h}")))
    }

    /// A host name as shown: kept when it is the user's own, else only its last label.
    fn host(&mut self, host: &str) -> String {
        if self.own_host(host) || host.contains('•') {
            return host.to_string();
        }
        if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
            return self.ip(ip);
        }
        match host.rsplit_once('.') {
            Some((_, tld)) => format!("{DOTS}.{tld}"),
            None => DOTS.to_string(),
        }
    }

    fn emails(&mut self, s: &str) -> String {
        let local = |c: char| c.is_ascii_alphanumeric() || "._%+-".contains(c);
        let domain = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-';
        let chars: Vec<(usize, char)> = s.char_indices().collect();
        let mut out = String::with_capacity(s.len());
        let mut copied = 0; // byte offset in s up to which out has s
        let mut i = 0;
        while i < chars.len() {
            let (at, c) = chars[i];
            if c != '@' {
                i += 1;
                continue;
            }
            // The local part: back from the '@'.
            let mut l = i;
            while l > 0 && local(chars[l - 1].1) {
                l -= 1;
            }
            let mut r = i + 1;
            while r < chars.len() && domain(chars[r].1) {
                r += 1;
            }
            let start = chars.get(l).map(|x| x.0).unwrap_or(at);
            let end = chars.get(r).map(|x| x.0).unwrap_or(s.len());
            let dom = s[at + 1..end].trim_end_matches(['.', '-']);
            let end = at + 1 + dom.len();
            let tld_ok = dom.rsplit_once('.').is_some_and(|(_, t)| t.len() >= 2 && t.chars().all(|c| c.is_ascii_alphabetic()));
            if l < i && start >= copied && tld_ok {
                let original = &s[start..end];
                let first: String = s[start..at].chars().next().into_iter().collect();
                let base = format!("{first}{DOTS}@{}", self.host(dom));
                let masked = self.numbered(original, base, |b, n| b.replacen('@', &format!("#{n}@"), 1));
                out.push_str(&s[copied..start]);
                out.push_str(&masked);
                copied = end;
                i = chars.iter().position(|x| x.0 >= end).unwrap_or(chars.len());
            } else {
                i += 1;
            }
        }
        out.push_str(&s[copied..]);
        out
    }

    /// `@user:server` ids (Matrix) of other people.
    fn user_ids(&mut self, s: &str) -> String {
        let local = |c: char| c.is_ascii_alphanumeric() || "._=-/+".contains(c);
        let server = |c: char| c.is_ascii_alphanumeric() || ".-:[]".contains(c);
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        let mut prev: Option<char> = None;
        while let Some(at) = rest.find('@') {
            let before = &rest[..at];
            let prev_char = before.chars().next_back().or(prev);
            let after = &rest[at + 1..];
            let l_len = after.find(|c: char| !local(c)).unwrap_or(after.len());
            let is_id = !prev_char.is_some_and(|c| c.is_ascii_alphanumeric() || "._%+-".contains(c))
                && l_len > 0
                && after[l_len..].starts_with(':');
            if is_id {
                let srv_all = &after[l_len + 1..];
                let s_len = srv_all.find(|c: char| !server(c)).unwrap_or(srv_all.len());
                let srv = srv_all[..s_len].trim_end_matches(['.', ':']);
                if !srv.is_empty() && srv.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '[') {
                    let id = &rest[at..at + 1 + l_len + 1 + srv.len()];
                    out.push_str(before);
                    if self.own_users.iter().any(|u| u == id) {
                        out.push_str(id);
                    } else {
                        let first: String = after.chars().next().into_iter().collect();
                        let (h, port) = split_port(srv);
                        let base = format!("@{first}{DOTS}:{}{port}", self.host(h));
                        let masked = self.numbered(id, base, |b, n| b.replacen(':', &format!("#{n}:"), 1));
                        out.push_str(&masked);
                    }
                    prev = id.chars().next_back();
                    rest = &rest[at + id.len()..];
                    continue;
                }
            }
            out.push_str(&rest[..at + 1]);
            prev = Some('@');
            rest = &rest[at + 1..];
        }
        out.push_str(rest);
        out
    }

    fn fact(&mut self, account_id: &str, f: &Fact) -> Fact {
        let label = f.label.to_ascii_lowercase();
        let is_id = ["id", "uuid", "prefix", "token", "key", "fingerprint"]
            .iter()
            .any(|w| label.split(|c: char| !c.is_ascii_alphanumeric()).any(|part| part == *w));
        let value =
            if is_id && !f.value.trim().is_empty() && !f.value.contains(' ') { self.id(account_id, &f.value) } else { self.text(&f.value) };
        Fact { label: f.label.clone(), value }
    }

    fn gap(&mut self, g: &Gap) -> Gap {
        Gap { message: self.text(&g.message), url: self.opt(&g.url), remedy: g.remedy.clone() }
    }

    fn usage(&mut self, u: &Usage) -> Usage {
        let h = &u.hints;
        let hints = crate::model::ClientHints {
            user_agent: self.opt(&h.user_agent),
            device_name: self.opt(&h.device_name),
            app_name: self.opt(&h.app_name),
            app_id: self.opt(&h.app_id),
            oauth_client: self.opt(&h.oauth_client),
            note: self.opt(&h.note),
            model: self.opt(&h.model),
            platform: self.opt(&h.platform),
            version: self.opt(&h.version),
            url: self.opt(&h.url),
        };
        Usage { hints, last_used: u.last_used, ip: self.opt(&u.ip) }
    }
}

fn v4_base(v4: Ipv4Addr) -> String {
    let o = v4.octets();
    format!("{}.{}.{}.{DOTS}", o[0], o[1], o[2])
}

fn host_only(server: &str) -> &str {
    split_port(server).0
}

/// `example.org:8448` → (`example.org`, `:8448`); an IPv6 literal in brackets keeps them.
fn split_port(server: &str) -> (&str, &str) {
    if server.starts_with('[') {
        return match server.find(']') {
            Some(i) => (&server[..=i], &server[i + 1..]),
            None => (server, ""),
        };
    }
    match server.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) && !h.contains(':') => (h, &server[h.len()..]),
        _ => (server, ""),
    }
}

/// `•••` and six characters of HMAC-SHA256(key, account id, id) (a base-32 alphabet without
/// look-alikes).
pub fn mask_id(key: &[u8], account_id: &str, id: &str) -> String {
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    let tag = ring::hmac::sign(&k, format!("{}\0{}", account_id, id).as_bytes());
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let bytes = tag.as_ref();
    let code: String = bytes.iter().take(6).map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect();
    format!("{DOTS}{code}")
}

/// A copy of a view with what screen-share-safe mode hides masked.
pub trait Mask {
    fn mask(&self, m: &mut Masker) -> Self;
}

impl<T: Mask> Mask for Vec<T> {
    fn mask(&self, m: &mut Masker) -> Self {
        self.iter().map(|x| x.mask(m)).collect()
    }
}

/// An answer that shows nothing (its error may still be masked).
impl Mask for () {
    fn mask(&self, _: &mut Masker) -> Self {}
}

impl<T: Mask> Mask for Option<T> {
    fn mask(&self, m: &mut Masker) -> Self {
        self.as_ref().map(|x| x.mask(m))
    }
}

impl Mask for CredentialRow {
    fn mask(&self, m: &mut Masker) -> Self {
        let r = self;
        // The id first, so the text after it finds it.
        let id = m.id(&r.account_id, &r.id);
        let client_info = r.client_info.as_ref().map(|c| crate::clients::Client {
            name: m.text(&c.name),
            version: m.opt(&c.version),
            os: m.opt(&c.os),
            device: m.opt(&c.device),
            browser: m.opt(&c.browser),
            ..c.clone()
        });
        CredentialRow {
            account: m.text(&r.account),
            id,
            name: m.opt(&r.name),
            title: m.text(&r.title),
            client: m.opt(&r.client),
            client_info,
            summary: m.text(&r.summary),
            times: r.times.iter().map(|t| crate::summary::Moment { label: m.text(&t.label).into(), ..t.clone() }).collect(),
            last_ip: m.opt(&r.last_ip),
            revoke_warning: m.opt(&r.revoke_warning),
            why_not: m.opt(&r.why_not),
            manage_url: m.opt(&r.manage_url),
            pending: m.opt(&r.pending),
            restrictions: r.restrictions.iter().map(|s| m.text(s)).collect(),
            usage: r.usage.iter().map(|u| m.usage(u)).collect(),
            used_by: r.used_by.iter().map(|u| UsedBy { who: m.text(&u.who), ip: m.opt(&u.ip), last_used: u.last_used.clone() }).collect(),
            details: r.details.iter().map(|f| m.fact(&r.account_id, f)).collect(),
            ..r.clone()
        }
    }
}

impl Mask for AccountView {
    fn mask(&self, m: &mut Masker) -> Self {
        let a = self;
        let all_others = a.all_others.iter().map(|id| m.id(&a.id, id)).collect();
        let mut capabilities = a.capabilities.clone();
        capabilities.token_page = m.opt(&capabilities.token_page);
        let mut account_actions = a.account_actions.clone();
        account_actions.manage_url = m.opt(&account_actions.manage_url);
        AccountView {
            name: m.text(&a.name),
            label: m.opt(&a.label),
            base_url: m.text(&a.base_url),
            login: m.text(&a.login),
            user_id: m.text(&a.user_id),
            server_facts: a.server_facts.iter().map(|f| m.fact(&a.id, f)).collect(),
            gaps: a.gaps.iter().map(|g| m.gap(g)).collect(),
            all_others,
            capabilities,
            account_actions,
            ..a.clone()
        }
    }
}

impl Mask for AccountListing {
    fn mask(&self, m: &mut Masker) -> Self {
        // Rows first: their ids are then known when the account's texts are masked.
        let rows = self.rows.mask(m);
        AccountListing { account: self.account.mask(m), rows }
    }
}

impl Mask for UserListing {
    fn mask(&self, m: &mut Masker) -> Self {
        let rows = self.rows.mask(m);
        UserListing { account: self.account.mask(m), user: m.text(&self.user), rows, gaps: self.gaps.iter().map(|g| m.gap(g)).collect() }
    }
}

impl Mask for Finding {
    fn mask(&self, m: &mut Masker) -> Self {
        let f = self;
        let credential_id = m.id(&f.account_id, &f.credential_id);
        let fix = match &f.fix {
            Fix::OpenPage { url } => Fix::OpenPage { url: m.text(url) },
            other => other.clone(),
        };
        Finding {
            account: m.text(&f.account),
            credential_id,
            name: m.opt(&f.name),
            summary: m.text(&f.summary),
            reason: m.text(&f.reason),
            fix,
            // What "this is fine" remembers may hold the server's hints: a hash is as good.
            fingerprint: mask_id(&m.key, &f.account_id, &f.fingerprint),
            ..f.clone()
        }
    }
}

impl Mask for ChangeView {
    fn mask(&self, m: &mut Masker) -> Self {
        let c = self;
        let credential_id = m.id(&c.account_id, &c.credential_id);
        ChangeView {
            account: m.text(&c.account),
            credential_id,
            name: m.opt(&c.name),
            summary: m.text(&c.summary),
            words: m.text(&c.words),
            address: m.opt(&c.address),
            ..c.clone()
        }
    }
}

impl Mask for Entry {
    fn mask(&self, m: &mut Masker) -> Self {
        let e = self;
        let credential_id = m.id(&e.account_id, &e.credential_id);
        Entry {
            account: m.text(&e.account),
            user: e.user.as_ref().map(|u| m.text(u)),
            credential_id,
            name: m.opt(&e.name),
            new_name: m.opt(&e.new_name),
            error: m.opt(&e.error),
            ..e.clone()
        }
    }
}

impl Mask for AccountLine {
    fn mask(&self, m: &mut Masker) -> Self {
        AccountLine { name: m.text(&self.name), kind: self.kind.clone(), server: m.text(&self.server), user: m.text(&self.user) }
    }
}

impl Mask for Report {
    fn mask(&self, m: &mut Masker) -> Self {
        let findings = self.findings.mask(m);
        let history = self.history.mask(m);
        Report { generated: self.generated, accounts: self.accounts.mask(m), findings, history, safe: true }
    }
}

impl Mask for Identity {
    fn mask(&self, m: &mut Masker) -> Self {
        let i = self;
        let credential_id = match (&i.account_id, &i.credential_id) {
            (Some(a), Some(c)) => Some(m.id(a, c)),
            (None, Some(c)) => Some(m.id("", c)),
            _ => None,
        };
        Identity {
            account: m.opt(&i.account),
            credential_id,
            name: m.opt(&i.name),
            summary: m.opt(&i.summary),
            confirm_url: m.opt(&i.confirm_url),
            ..i.clone()
        }
    }
}

/// What to do about an error: the pages and labels in it may name other hosts.
impl Mask for crate::error::Remedy {
    fn mask(&self, m: &mut Masker) -> Self {
        use crate::error::Remedy;
        match self {
            Remedy::UseToken { label, page } => Remedy::UseToken { label: m.text(label), page: m.opt(page) },
            Remedy::OpenPage { url } => Remedy::OpenPage { url: m.text(url) },
            Remedy::ListCredentials { account } => Remedy::ListCredentials { account: m.text(account) },
            other => other.clone(),
        }
    }
}

/// A revoke's results. The account is named, not identified, in the report: its ids are masked
/// under `account_id`, which the caller gives (see [`Masker::revoke_report`]).
impl Masker {
    pub fn revoke_report(&mut self, account_id: &str, r: &RevokeReport) -> RevokeReport {
        let results = r
            .results
            .iter()
            .map(|x| {
                let id = self.id(account_id, &x.id);
                crate::provider::Revoked { id, error: self.opt(&x.error), replaced: x.replaced, confirm_url: self.opt(&x.confirm_url) }
            })
            .collect();
        RevokeReport { account: self.text(&r.account), user: r.user.as_ref().map(|u| self.text(u)), results, signed_out: r.signed_out }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masker() -> Masker {
        let own: Account = serde_json::from_value(serde_json::json!({
            "id": "a1", "kind": "matrix", "base_url": "https://matrix.example.org", "login": "alice",
            "user_id": "@alice:example.org", "signed_in": true, "added": "2026-01-01T00:00:00Z"
        }))
        .unwrap();
        Masker::new(b"test key", &[own])
    }

    #[test]
    fn ipv4_keeps_its_network_and_look_alikes_are_numbered() {
        let mut m = masker();
        assert_eq!(m.text("from 203.0.113.7."), "from 203.0.113.•••.");
        assert_eq!(m.text("203.0.113.9 and 203.0.113.7"), "203.0.113.•••#2 and 203.0.113.•••");
        assert_eq!(m.text("198.51.100.1:8448"), "198.51.100.•••:8448");
        assert_eq!(m.text("version 1.2.3 at 12:30"), "version 1.2.3 at 12:30", "not addresses");
    }

    #[test]
    fn ipv6_in_every_form() {
        let mut m = masker();
        for (input, want) in [
            ("2001:db8:85a3::8a2e:370:7334", "2001:db8:•••"),
            ("2001:0db8:85a3:0000:0000:8a2e:0370:7334", "2001:db8:•••"),
            ("[2001:db8::1]:443", "[2001:db8:•••#2]:443"),
            ("fe80::1%eth0", "fe80:0:•••%eth0"),
            ("::ffff:192.0.2.128", "::ffff:192.0.2.•••"),
            ("::1", "0:0:•••"),
            ("at 2001:DB8::42.", "2001:db8:•••#3."),
        ] {
            let got = m.text(input);
            assert!(got.ends_with(want) || got == want, "{input} → {got}, wanted {want}");
            assert!(!got.contains("7334") && !got.contains("::1]") && !got.contains("42."), "{got}");
        }
        // The same address in another spelling is the same mask.
        assert_eq!(m.text("2001:db8:85a3:0:0:8a2e:370:7334"), "2001:db8:•••");
    }

    #[test]
    fn emails_inside_text_keep_a_first_letter_and_own_domains() {
        let mut m = masker();
        assert_eq!(m.text("mail bob.smith+x@example.org now"), "mail b•••@example.org now");
        assert_eq!(m.text("<carol@gmail.com>"), "<c•••@•••.com>");
        assert_eq!(m.text("bill@example.org."), "b•••#2@example.org.");
        assert_eq!(m.text("alice@127.0.0.1:8008"), "alice@127.0.0.•••:8008", "an account name is not an e-mail");
    }

    #[test]
    fn other_peoples_user_ids_are_masked_and_ones_own_kept() {
        let mut m = masker();
        assert_eq!(m.text("@alice:example.org"), "@alice:example.org");
        assert_eq!(m.text("invited by @bob:evil.net"), "invited by @b•••:•••.net");
        assert_eq!(m.text("@carol:matrix.example.org:8448"), "@c•••:matrix.example.org:8448");
    }

    #[test]
    fn masking_is_idempotent_and_survives_hostile_text() {
        let mut m = masker();
        let hostile = "\u{202E}198.51.100.23\u{202C} <b>dave@evil.net</b>\u{0007}2001:db8::dead @eve:evil.net";
        let once = m.text(hostile);
        for gone in ["198.51.100.23", "dave@", "evil.net", "::dead", "@eve"] {
            assert!(!once.contains(gone), "{gone} in {once:?}");
        }
        assert!(once.contains('\u{202E}') && once.contains("<b>"), "the rest is kept: {once:?}");
        let mut fresh = masker();
        assert_eq!(fresh.text(&once), once);
        assert_eq!(m.text(&once), once);
    }

    #[test]
    fn ids_are_stable_keyed_and_replaced_in_text() {
        let mut m = masker();
        let a = m.id("a1", "ABCDEFGHIJ");
        assert!(a.starts_with(DOTS) && a.chars().count() == 9, "{a}");
        assert_eq!(a, mask_id(b"test key", "a1", "ABCDEFGHIJ"));
        assert_ne!(a, mask_id(b"other key", "a1", "ABCDEFGHIJ"));
        assert_ne!(a, m.id("a1", "ABCDEFGHIK"));
        assert_eq!(m.id("a1", &a), a, "a masked id stays");
        assert_eq!(m.text("could not revoke ABCDEFGHIJ"), format!("could not revoke {a}"));
    }
}
