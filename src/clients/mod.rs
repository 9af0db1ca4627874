//! Recognises the client behind a credential from every hint a server gives: user agent, device
//! display name, app or client name, OAuth client, token note, push app id, device model and
//! platform. The answer is a [`Client`]: a name, version, operating system, device, the
//! [`Form`] of program, and whether a rule knew it or the name is only the server's own text.
//!
//! This is the generic engine. Two layers of knowledge feed it. First the recognition [`Rule`]s
//! for the apps people know by name, in this order: Keyward itself (`rules.rs`), then the rules
//! each provider owns for its kind of server (Matrix clients and bridges in `providers/matrix.rs`,
//! the Home Assistant companion apps in `providers/homeassistant.rs`, …, collected through
//! [`crate::provider::Provider::client_rules`] in the order of the registry), then the shared
//! rules for clients that belong to no one kind (calendar and contacts sync, Nextcloud, scripts
//! and HTTP libraries, `rules.rs`). Then the uap-core patterns (npm `uap-core`, embedded by
//! `build.rs`) for browsers, operating systems and devices. The patterns take about half a second
//! to compile: that happens once, on first use or in [`warm_up`], which a face calls off its UI
//! thread. Results are remembered per distinct set of hints, so a list of thousands of sessions
//! costs one recognition per distinct client.
//!
//! Deliberately not here: wording (that is `summary`), kind-specific rules (their provider's), and
//! any guess that a hint does not support. A name is never invented: when nothing is known the
//! answer is `None`, and when only raw text is known it is returned as it is with
//! `recognised: false`.

#[cfg(test)]
mod proptests;
mod rules;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{LazyLock, OnceLock, RwLock};

use regex::Regex;
use serde::{Deserialize, Serialize};
use uaparser::{Parser, UserAgentParser};

use crate::model::ClientHints;

/// What kind of program a client is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Form {
    Browser,
    DesktopApp,
    MobileApp,
    /// Calendar and contacts sync (CalDAV/CardDAV clients).
    Sync,
    /// A script, command-line tool, HTTP library or bot.
    Script,
    /// A server-side integration: a bridge, a notebook server, a hub service.
    Integration,
    Unknown,
}

impl Form {
    /// Plain words for the form ("mobile app").
    pub fn noun(self) -> &'static str {
        match self {
            Form::Browser => "browser",
            Form::DesktopApp => "desktop app",
            Form::MobileApp => "mobile app",
            Form::Sync => "calendar and contacts sync",
            Form::Script => "script or bot",
            Form::Integration => "server integration",
            Form::Unknown => "unknown",
        }
    }
}

/// The client behind a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Client {
    /// "Element Desktop", "Firefox", "DAVx5"; or the server's raw text when not recognised.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// "macOS", "Android", "Linux".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// "Pixel 8", "iPhone".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// The browser a web app runs in ("Firefox" for Element Web).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    pub form: Form,
    /// True when a rule or the uap-core patterns knew the client; false when the name is only
    /// the server's own text (a guess).
    pub recognised: bool,
}

impl Client {
    /// Where it runs, as the line says it: the device for mobile apps when it is known, else the
    /// operating system ("Pixel 8", "macOS").
    pub fn place(&self) -> Option<&str> {
        match (self.form, &self.device, &self.os) {
            (Form::MobileApp, Some(d), _) => Some(d),
            (_, _, Some(os)) => Some(os),
            (_, Some(d), None) => Some(d),
            _ => None,
        }
    }

    /// "Element Desktop on macOS", "Element Web in Firefox on Linux", "curl".
    pub fn label(&self) -> String {
        let mut s = self.name.clone();
        if let Some(b) = &self.browser {
            if !self.name.eq_ignore_ascii_case(b) {
                s.push_str(" in ");
                s.push_str(b);
            }
        }
        if let Some(p) = self.place() {
            if !self.name.contains(p) {
                s.push_str(" on ");
                s.push_str(p);
            }
        }
        s
    }
}

/// The client the hints point to, if any hint says anything. Remembered per distinct hints.
pub fn recognise(hints: &ClientHints) -> Option<Client> {
    let key = hints_hash(hints);
    let remembered = CACHE.read().ok().and_then(|m| m.get(&key).and_then(|v| v.iter().find(|(h, _)| h == hints).map(|(_, c)| c.clone())));
    if let Some(hit) = remembered {
        return hit;
    }
    let found = recognise_uncached(hints);
    if let Ok(mut m) = CACHE.write() {
        if m.len() >= CACHE_LIMIT {
            m.clear();
        }
        m.entry(key).or_default().push((hints.clone(), found.clone()));
    }
    found
}

/// Compiles the uap-core patterns and the project's rules now, so the first list does not pay
/// for it. Takes about half a second; call it from a background thread at start-up.
pub fn warm_up() {
    LazyLock::force(&UAP);
    for c in COMPILED.iter() {
        c.regex();
    }
    // The regex engines build their search states on first use: read a few common user agents
    // (each also as a device name, to touch the rules) so the first real list does not pay.
    for ua in rules::WARM_UP_AGENTS {
        let hints = ClientHints { user_agent: Some(ua.to_string()), device_name: Some(ua.to_string()), ..Default::default() };
        std::hint::black_box(recognise_uncached(&hints));
    }
}

/// The uap-core patterns (`regexes.yaml` of the `uap-core` release pinned in the root
/// `package.json`), embedded by `build.rs`.
pub const UAP_CORE_PATTERNS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/uap-regexes.yaml"));

/// What the uap-core patterns alone say about a user agent: browser (or other program) family
/// and version, operating system, device. `None` for each part they do not know.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UaParts {
    pub family: Option<String>,
    pub version: Option<String>,
    pub os: Option<String>,
    pub device: Option<String>,
}

/// The uap-core reading of one user agent.
pub fn parse_user_agent(ua: &str) -> UaParts {
    let parsed = UAP.parse_user_agent(ua);
    let family = known(&parsed.family).map(str::to_string);
    let version = join_version(&[&parsed.major, &parsed.minor, &parsed.patch]);
    UaParts { family, version, os: uap_os(ua), device: uap_device(ua) }
}

fn uap_os(ua: &str) -> Option<String> {
    known(&UAP.parse_os(ua).family).and_then(os_name)
}

fn uap_device(ua: &str) -> Option<String> {
    let parsed = UAP.parse_device(ua);
    known(&parsed.family).filter(|d| !rules::GENERIC_DEVICES.iter().any(|g| d.eq_ignore_ascii_case(g))).map(str::to_string)
}

/// For the corpus test: each rule's name (with `{x}` where it takes part of the hint) and the
/// hints it reads (`user_agent`, `device_name`, … as in [`ClientHints`]).
#[doc(hidden)]
pub fn rule_table() -> Vec<(&'static str, Vec<&'static str>)> {
    COMPILED.iter().map(|c| (c.rule.name, c.rule.on.iter().map(|h| h.field()).collect())).collect()
}

/// For the corpus test: the index in [`rule_table`] of the rule that decides these hints.
#[doc(hidden)]
pub fn deciding_rule(hints: &ClientHints) -> Option<usize> {
    COMPILED.iter().position(|c| c.rule.on.iter().any(|&w| hint_text(hints, w).is_some_and(|t| c.regex().is_match(t))))
}

// ---- the language rules are written in ----

/// Which hint a rule reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    UserAgent,
    DeviceName,
    AppName,
    AppId,
    OauthClient,
    Note,
}

use Hint::*;

impl Hint {
    fn field(self) -> &'static str {
        match self {
            UserAgent => "user_agent",
            DeviceName => "device_name",
            AppName => "app_name",
            AppId => "app_id",
            OauthClient => "oauth_client",
            Note => "note",
        }
    }
}

/// Names people give things: device names, app names, notes (the same words fit all three).
pub const NAMES: &[Hint] = &[DeviceName, AppName, Note];
pub const NAMES_AND_UA: &[Hint] = &[UserAgent, DeviceName, AppName, Note];
pub const UA: &[Hint] = &[UserAgent];
pub const APP_ID: &[Hint] = &[AppId];
pub const OAUTH: &[Hint] = &[OauthClient];

/// How a rule decides the form.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    Is(Form),
    /// Mobile on Android/iOS, browser on "web", desktop otherwise.
    ByOs,
}

/// One recognition rule: a case-insensitive pattern over some hints. Named groups fill the
/// answer: `v` (or `v2`) version, `os` operating system, `dev` (or `dev2`) device, `browser`
/// browser, `x` the part of the name written `{x}` in `name`. Made with [`rule`]; every rule
/// has cases that must match and cases that must not in `tests/data/clients/`.
#[derive(Debug)]
pub struct Rule {
    name: &'static str,
    shape: Shape,
    os: Option<&'static str>,
    on: &'static [Hint],
    pattern: &'static str,
}

/// A rule named `name` (with `{x}` for the part the pattern's `x` group takes), of `shape`, on
/// the system `os` unless the pattern's `os` group says, matching `pattern` on any of `on`.
pub const fn rule(name: &'static str, shape: Shape, os: Option<&'static str>, on: &'static [Hint], pattern: &'static str) -> Rule {
    Rule { name, shape, os, on, pattern }
}

pub const MOBILE: Shape = Shape::Is(Form::MobileApp);
pub const DESKTOP: Shape = Shape::Is(Form::DesktopApp);
pub const BROWSER: Shape = Shape::Is(Form::Browser);
pub const SYNC: Shape = Shape::Is(Form::Sync);
pub const SCRIPT: Shape = Shape::Is(Form::Script);
pub const INTEGRATION: Shape = Shape::Is(Form::Integration);
pub const BY_OS: Shape = Shape::ByOs;
pub const ANDROID: Option<&str> = Some("Android");
pub const IOS: Option<&str> = Some("iOS");
pub const MACOS: Option<&str> = Some("macOS");

// ---- the engine ----

/// Every rule in the order it is tried (the first rule that matches any of its hints wins, so
/// specific rules come first): Keyward's own, each provider's in registry order, the shared ones.
fn every_rule() -> impl Iterator<Item = &'static Rule> {
    rules::FIRST.iter().chain(crate::providers::all().flat_map(|p| p.client_rules().iter())).chain(rules::SHARED.iter())
}

/// The rules, in the order they are tried, each compiled the first time it is tried on a hint
/// it reads ([`Compiled::regex`]): a listing whose hints are only device names never compiles
/// the rules for user agents, and one of a few clients compiles only the rules up to theirs.
/// Compiling all ~110 patterns (case-insensitive, Unicode classes) takes 25–50 ms, a quarter of
/// the CPU time of `keyward list --json` over 5,000 Matrix devices; [`warm_up`] still compiles
/// them all, off the app's UI thread.
static COMPILED: LazyLock<Vec<Compiled>> = LazyLock::new(|| every_rule().map(|rule| Compiled { rule, re: OnceLock::new() }).collect());

struct Compiled {
    rule: &'static Rule,
    re: OnceLock<Regex>,
}

impl Compiled {
    fn regex(&self) -> &Regex {
        self.re.get_or_init(|| {
            Regex::new(&format!("(?i){}", self.rule.pattern)).unwrap_or_else(|e| panic!("client rule {:?}: {e}", self.rule.name))
        })
    }
}

/// The uap-core patterns, compiled once (about half a second).
static UAP: LazyLock<UserAgentParser> = LazyLock::new(|| {
    UserAgentParser::builder()
        .with_unicode_support(false)
        .build_from_bytes(UAP_CORE_PATTERNS)
        .expect("the embedded uap-core patterns parse")
});

/// Recognitions remembered, by a hash of the hints (hints that collide share a bucket).
type Remembered = HashMap<u64, Vec<(ClientHints, Option<Client>)>>;
const CACHE_LIMIT: usize = 16_384;
static CACHE: LazyLock<RwLock<Remembered>> = LazyLock::new(|| RwLock::new(HashMap::new()));

fn hints_hash(h: &ClientHints) -> u64 {
    let mut s = std::collections::hash_map::DefaultHasher::new();
    for p in [&h.user_agent, &h.device_name, &h.app_name, &h.app_id, &h.oauth_client, &h.note, &h.model, &h.platform, &h.version, &h.url] {
        p.hash(&mut s);
    }
    s.finish()
}

fn hint_text(h: &ClientHints, which: Hint) -> Option<&str> {
    let text = match which {
        UserAgent => h.user_agent.as_deref(),
        DeviceName => h.device_name.as_deref(),
        AppName => h.app_name.as_deref(),
        AppId => h.app_id.as_deref(),
        OauthClient => h.oauth_client.as_deref(),
        Note => h.note.as_deref(),
    }?;
    let text = text.trim();
    (!text.is_empty()).then_some(text)
}

fn recognise_uncached(h: &ClientHints) -> Option<Client> {
    let ua = hint_text(h, UserAgent);
    let mut client = match by_rules(h) {
        Some(c) => c,
        None => ua.and_then(by_patterns).or_else(|| by_raw_text(h))?,
    };
    fill_in(&mut client, h, ua);
    Some(client)
}

/// The first of the project's rules that matches one of its hints.
fn by_rules(h: &ClientHints) -> Option<Client> {
    for c in COMPILED.iter() {
        let rule = c.rule;
        for &which in rule.on {
            let Some(text) = hint_text(h, which) else { continue };
            if let Some(caps) = c.regex().captures(text) {
                let group = |n: &str| caps.name(n).map(|m| m.as_str().trim().to_string()).filter(|s| !s.is_empty());
                let name = match group("x") {
                    Some(x) if rule.name.contains("{x}") => rule.name.replace("{x}", &x),
                    _ => rule.name.to_string(),
                };
                let os = group("os").and_then(|o| os_name(&o)).or(rule.os.map(str::to_string));
                let form = match rule.shape {
                    Shape::Is(f) => f,
                    Shape::ByOs if group("os").is_some_and(|o| o.eq_ignore_ascii_case("web")) => Form::Browser,
                    Shape::ByOs => Form::Unknown,
                };
                return Some(Client {
                    name,
                    version: group("v").or_else(|| group("v2")),
                    os,
                    device: group("dev")
                        .or_else(|| group("dev2"))
                        .filter(|d| !rules::GENERIC_DEVICES.iter().any(|g| d.eq_ignore_ascii_case(g))),
                    browser: group("browser").filter(|b| !b.to_ascii_lowercase().starts_with("unknown")),
                    form,
                    recognised: true,
                });
            }
        }
    }
    None
}

/// What the uap-core patterns know about the user agent (a browser, mostly).
fn by_patterns(raw: &str) -> Option<Client> {
    let ua = UAP.parse_user_agent(raw);
    let family = known(&ua.family)?;
    let (name, form) = browser_name(family, raw);
    let version = join_version(&[&ua.major, &ua.minor, &ua.patch]);
    Some(Client { name, version, os: None, device: None, browser: None, form, recognised: true })
}

/// The server's own text, unrecognised: an app name, OAuth client, device name, note, or the
/// first product of a user agent.
fn by_raw_text(h: &ClientHints) -> Option<Client> {
    let name = [AppName, OauthClient, DeviceName, Note]
        .into_iter()
        .filter_map(|w| hint_text(h, w))
        .find(|t| !rules::NOT_A_CLIENT.contains(&t.to_ascii_lowercase().as_str()))
        .map(str::to_string)
        .or_else(|| hint_text(h, UserAgent).and_then(first_product))
        .or_else(|| hint_text(h, AppId).map(str::to_string))?;
    Some(Client { name, version: None, os: None, device: None, browser: None, form: Form::Unknown, recognised: false })
}

/// Version, OS and device from whichever hints still have them; then the form where the rule
/// left it to the OS. The uap-core device patterns (the largest set) are read only where a
/// device is worth naming: mobile systems, or no system known.
fn fill_in(c: &mut Client, h: &ClientHints, ua: Option<&str>) {
    if c.version.is_none() {
        c.version = h.version.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    }
    if c.os.is_none() {
        c.os = ua.and_then(uap_os).or_else(|| h.platform.as_deref().and_then(os_name));
    }
    if c.device.is_none() {
        c.device = h.model.as_deref().map(str::trim).filter(|m| !m.is_empty()).map(str::to_string);
    }
    if c.device.is_none() && matches!(c.os.as_deref(), None | Some("Android" | "iOS" | "iPadOS")) {
        c.device = ua.and_then(uap_device);
    }
    if c.os.is_none() {
        c.os = c.device.as_deref().and_then(os_of_device);
    }
    if c.form == Form::Unknown && c.recognised {
        c.form = match c.os.as_deref() {
            Some("Android" | "iOS" | "iPadOS") => Form::MobileApp,
            Some(_) => Form::DesktopApp,
            None if c.browser.is_some() => Form::Browser,
            None => Form::Unknown,
        };
    }
}

/// A person's name for a uap-core family, and whether it is a browser.
fn browser_name(family: &str, raw: &str) -> (String, Form) {
    let name = match family {
        "Chrome Mobile" | "Chrome Mobile iOS" | "Chrome Mobile WebView" | "HeadlessChrome" => "Chrome",
        "Firefox Mobile" | "Firefox iOS" | "Firefox Beta" | "Firefox Alpha" => "Firefox",
        "Mobile Safari" | "Mobile Safari UI/WKWebView" => "Safari",
        "Edge Mobile" => "Edge",
        other => other,
    };
    let browser = raw.starts_with("Mozilla/") || raw.starts_with("Opera/");
    (name.to_string(), if browser { Form::Browser } else { Form::Unknown })
}

/// "SomeApp" from "SomeApp/2.1 (…)"; never "Mozilla"; at most a few words.
fn first_product(ua: &str) -> Option<String> {
    let first = ua.split(['/', '(', ';']).next()?.trim();
    let ok = !first.is_empty() && !first.eq_ignore_ascii_case("mozilla") && first.len() <= 40;
    ok.then(|| first.to_string())
}

/// The operating system as people write it ("Mac OS X" → "macOS"); `None` for "web" and
/// "unknown".
pub fn os_name(raw: &str) -> Option<String> {
    let t = raw.trim();
    let lower = t.to_ascii_lowercase();
    let named = match lower.as_str() {
        "" | "web" | "unknown" | "unknown os" | "other" => return None,
        "mac os x" | "mac os" | "macos" | "osx" | "mac" | "darwin" | "mac_os_x" | "macintosh" => "macOS",
        "ios" | "iphone os" | "iphone" => "iOS",
        "ipados" => "iPadOS",
        "android" => "Android",
        "linux" => "Linux",
        "windows" | "win32" | "win64" | "windows nt" => "Windows",
        "chrome os" | "chromeos" | "cros" => "ChromeOS",
        "fuchsia" => "Fuchsia",
        "freebsd" => "FreeBSD",
        _ => return Some(t.to_string()),
    };
    Some(named.to_string())
}

/// The OS a device name implies, where it is plain ("iPhone" → iOS).
fn os_of_device(device: &str) -> Option<String> {
    let d = device.to_ascii_lowercase();
    if d.starts_with("iphone") || d.starts_with("ipod") {
        Some("iOS".into())
    } else if d.starts_with("ipad") {
        Some("iPadOS".into())
    } else if d.starts_with("pixel") || d.starts_with("samsung") || d.starts_with("google pixel") || d.starts_with("sm-") {
        Some("Android".into())
    } else {
        None
    }
}

fn known(s: &str) -> Option<&str> {
    (!s.is_empty() && s != "Other").then_some(s)
}

fn join_version(parts: &[&Option<std::borrow::Cow<'_, str>>]) -> Option<String> {
    let present: Vec<&str> = parts.iter().map_while(|p| p.as_deref()).collect();
    (!present.is_empty()).then(|| present.join("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ua(s: &str) -> ClientHints {
        ClientHints { user_agent: Some(s.into()), ..Default::default() }
    }

    fn named(s: &str) -> ClientHints {
        ClientHints { device_name: Some(s.into()), ..Default::default() }
    }

    #[test]
    fn every_rule_compiles_and_each_provider_brings_its_own() {
        assert_eq!(COMPILED.len(), every_rule().count());
        for c in COMPILED.iter() {
            c.regex();
        }
        let names: Vec<&str> = COMPILED.iter().map(|c| c.rule.name).collect();
        for (kind_rule, shared) in [("Element X", "DAVx5"), ("Home Assistant for Android", "curl")] {
            assert!(names.contains(&kind_rule) && names.contains(&shared), "{kind_rule} or {shared} missing");
        }
        assert_eq!(names.first(), Some(&"Keyward"), "Keyward's own rule comes first");
    }

    #[test]
    fn element_device_names_name_the_client() {
        let c = recognise(&named("app.element.io: Firefox on Linux")).unwrap();
        assert_eq!(
            (c.name.as_str(), c.browser.as_deref(), c.os.as_deref(), c.form),
            ("Element Web", Some("Firefox"), Some("Linux"), Form::Browser)
        );
        assert_eq!(c.label(), "Element Web in Firefox on Linux");
        let c = recognise(&named("Element Desktop: macOS")).unwrap();
        assert_eq!(c.label(), "Element Desktop on macOS");
        let c = recognise(&named("Element X on Pixel 8")).unwrap();
        assert_eq!((c.label().as_str(), c.os.as_deref()), ("Element X on Pixel 8", Some("Android")));
    }

    #[test]
    fn browsers_come_from_uap_core() {
        let c = recognise(&ua("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0")).unwrap();
        assert_eq!((c.name.as_str(), c.os.as_deref(), c.form, c.recognised), ("Firefox", Some("Linux"), Form::Browser, true));
    }

    #[test]
    fn unknown_text_is_kept_but_not_recognised() {
        let c = recognise(&ClientHints { note: Some("CI script".into()), ..Default::default() }).unwrap();
        assert_eq!((c.name.as_str(), c.recognised), ("CI script", false));
        assert_eq!(recognise(&ClientHints::default()), None);
    }

    #[test]
    fn os_names_are_written_as_people_write_them() {
        assert_eq!(os_name("Mac OS X").as_deref(), Some("macOS"));
        assert_eq!(os_name("web"), None);
        assert_eq!(os_name("Ubuntu").as_deref(), Some("Ubuntu"));
    }
}
