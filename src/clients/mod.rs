//! Recognises the client behind a credential from every hint a server gives: user agent, device
//! display name, app or client name, OAuth client, token note, push app id, device model and
//! platform. The answer is a [`Client`]: a name, version, operating system, device, the
//! [`Form`] of program, and whether a rule knew it or the name is only the server's own text.
//!
//! Two layers. First the project's own [`RULES`] for the apps people know by name (Matrix
//! clients and bridges, calendar and contacts sync, Nextcloud, Home Assistant, Moodle,
//! JupyterHub, WordPress, scripts); then the uap-core patterns (npm `uap-core`, embedded by
//! `build.rs`) for browsers, operating systems and devices. The patterns take about half a second
//! to compile: that happens once, on first use or in [`warm_up`], which a face calls off its UI
//! thread. Results are remembered per distinct set of hints, so a list of thousands of sessions
//! costs one recognition per distinct client.
//!
//! Deliberately not here: wording (that is `summary.rs`), and any guess that a hint does not
//! support. A name is never invented: when nothing is known the answer is `None`, and when only
//! raw text is known it is returned as it is with `recognised: false`.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{LazyLock, RwLock};

use regex::Regex;
use serde::{Deserialize, Serialize};
use uaparser::{Parser, UserAgentParser};

use crate::model::ClientHints;

/// What kind of program a client is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    LazyLock::force(&COMPILED);
    // The regex engines build their search states on first use: read a few common user agents
    // (each also as a device name, to touch the rules) so the first real list does not pay.
    for ua in WARM_UP_AGENTS {
        let hints = ClientHints { user_agent: Some(ua.to_string()), device_name: Some(ua.to_string()), ..Default::default() };
        std::hint::black_box(recognise_uncached(&hints));
    }
}

const WARM_UP_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
    "Element/1.5.32 (Google Pixel 6 Pro; Android 13; TQ2A.230505.002; Flavour GooglePlay; MatrixAndroidSdk2 1.5.32)",
    "app.element.io: Firefox on Linux",
    "curl/8.5.0",
];

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
    known(&parsed.family).filter(|d| !GENERIC_DEVICES.iter().any(|g| d.eq_ignore_ascii_case(g))).map(str::to_string)
}

/// For the corpus test: each rule's name (with `{x}` where it takes part of the hint) and the
/// hints it reads (`user_agent`, `device_name`, … as in [`ClientHints`]).
#[doc(hidden)]
pub fn rule_table() -> Vec<(&'static str, Vec<&'static str>)> {
    RULES.iter().map(|r| (r.name, r.on.iter().map(|h| h.field()).collect())).collect()
}

/// For the corpus test: the index in [`rule_table`] of the rule that decides these hints.
#[doc(hidden)]
pub fn deciding_rule(hints: &ClientHints) -> Option<usize> {
    RULES.iter().zip(COMPILED.iter()).position(|(r, re)| r.on.iter().any(|&w| hint_text(hints, w).is_some_and(|t| re.is_match(t))))
}

// ---- the project's own rules ----

/// Which hint a rule reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hint {
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
const NAMES: &[Hint] = &[DeviceName, AppName, Note];
const NAMES_AND_UA: &[Hint] = &[UserAgent, DeviceName, AppName, Note];
const UA: &[Hint] = &[UserAgent];
const APP_ID: &[Hint] = &[AppId];
const OAUTH: &[Hint] = &[OauthClient];

/// How a rule decides the form.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Is(Form),
    /// Mobile on Android/iOS, browser on "web", desktop otherwise.
    ByOs,
}

/// One rule: a case-insensitive pattern over some hints. Named groups fill the answer: `v`
/// version, `os` operating system, `dev` device, `browser` browser, `x` the part of the name
/// written `{x}` in `name`.
struct Rule {
    name: &'static str,
    shape: Shape,
    os: Option<&'static str>,
    on: &'static [Hint],
    pattern: &'static str,
}

const fn rule(name: &'static str, shape: Shape, os: Option<&'static str>, on: &'static [Hint], pattern: &'static str) -> Rule {
    Rule { name, shape, os, on, pattern }
}

const MOBILE: Shape = Shape::Is(Form::MobileApp);
const DESKTOP: Shape = Shape::Is(Form::DesktopApp);
const BROWSER: Shape = Shape::Is(Form::Browser);
const SYNC: Shape = Shape::Is(Form::Sync);
const SCRIPT: Shape = Shape::Is(Form::Script);
const INTEGRATION: Shape = Shape::Is(Form::Integration);
const ANDROID: Option<&str> = Some("Android");
const IOS: Option<&str> = Some("iOS");
const MACOS: Option<&str> = Some("macOS");

/// In order: the first rule that matches any of its hints wins, so specific rules come first.
/// Every rule has cases that must match and cases that must not in `tests/data/clients/`.
static RULES: &[Rule] = &[
    // Keyward itself.
    rule("Keyward", DESKTOP, None, NAMES_AND_UA, r"^Keyward(?:/(?P<v>[\w.+-]+)|\s+on\s|$)"),
    rule("Keyward", DESKTOP, None, OAUTH, r"^https://keyward\.app/?$"),
    // Element and its relatives (Matrix).
    rule("{x} Desktop", DESKTOP, None, UA, r"\b(?P<x>Element|Riot|SchildiChat)(?:-?Nightly)?/(?P<v>[\d.]+\S*) .*\bElectron/"),
    rule("{x} Desktop", DESKTOP, None, NAMES, r"^(?P<x>Element|Riot|SchildiChat)(?: Nightly)? Desktop(?: Nightly)?: (?P<os>.+)$"),
    rule("Element X", MOBILE, None, UA, r"^Element ?X(?: dbg)?/(?P<v>[^\s(]+)(?: \((?P<dev>[^;]+); (?P<os>Android|iOS|iPadOS)\b)?"),
    rule("Element X", MOBILE, None, NAMES, r"^Element X (?:on|for) (?P<dev>.+)$"),
    rule("Element X", MOBILE, None, NAMES, r"^Element X(?: \(?(?P<os>Android|iOS)\)?)?$"),
    rule("Element X", MOBILE, None, APP_ID, r"^io\.element\.(?:elementx|android\.x)\b"),
    rule(
        "SchildiChat Android",
        MOBILE,
        ANDROID,
        UA,
        r"^SchildiChat(?: dbg)?/(?P<v>[^\s(]+) \((?:Linux; (?:U; )?Android [\d.]+; (?P<dev2>[^;]+?) Build/|(?P<dev>[^;]+); Android\b)",
    ),
    rule("SchildiChat Android", MOBILE, ANDROID, APP_ID, r"^de\.spiritcroc\.riotx\b"),
    rule("SchildiChat Web", BROWSER, None, NAMES, r"^[\w.-]*schildi[\w.-]*(?::\d+)?(?:/\S*)?(?::| via) (?P<browser>.+?) on (?P<os>.+)$"),
    rule(
        "Element Android",
        MOBILE,
        ANDROID,
        UA,
        r"^(?:Element|Riot\.im|RiotX)(?: dbg)?/(?P<v>[^\s(]+) \((?:Linux; (?:U; )?Android [\d.]+; (?P<dev2>[^;]+?) Build/|(?P<dev>[^;]+); Android\b)",
    ),
    rule(
        "Element iOS",
        MOBILE,
        IOS,
        UA,
        r"^(?:Element|Riot\.im|Riot)/(?P<v>[^\s(]+) \((?P<dev>(?:iPhone|iPad|iPod)[^;]*); (?:iOS|iPadOS)\b",
    ),
    rule("Element Android", MOBILE, ANDROID, NAMES, r"^(?:Element|Riot|RiotX)(?: for|:)? Android$"),
    rule("Element iOS", MOBILE, IOS, NAMES, r"^(?:Element|Riot)(?: for|:)? iOS$"),
    rule("Element Android", MOBILE, ANDROID, APP_ID, r"^im\.vector\.(?:app\.android|alpha|riotx)\b"),
    rule("Element iOS", MOBILE, IOS, APP_ID, r"^im\.vector\.app\.ios\b"),
    // Element Web names its sessions "<host[/path]>: <browser> on <os>" (older: " via ").
    rule(
        "Element Web",
        BROWSER,
        None,
        NAMES,
        r"^(?:https?://)?(?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d+)?(?:/[^\s:]*)?(?::| via) (?P<browser>[^:]+?) on (?P<os>[^:]+)$",
    ),
    rule(
        "Element Web",
        BROWSER,
        None,
        NAMES,
        r"^(?:localhost|127\.0\.0\.1)(?::\d+)?(?:/[^\s:]*)?(?::| via) (?P<browser>[^:]+?) on (?P<os>[^:]+)$",
    ),
    rule("FluffyChat", MOBILE, None, APP_ID, r"^chat\.fluffy\.fluffychat\b"),
    rule("FluffyChat", Shape::ByOs, None, NAMES, r"^FluffyChat(?: (?P<os>android|ios|linux|macos|windows|web|fuchsia))?(?:Debug)?$"),
    rule("Nheko", DESKTOP, None, NAMES_AND_UA, r"^nheko(?:/(?P<v>[\w.+-]+))?(?: on (?P<os>.+))?$"),
    rule("Cinny Desktop", DESKTOP, None, NAMES, r"^Cinny Desktop\b"),
    rule("Cinny", BROWSER, None, NAMES, r"^Cinny(?: Web)?$"),
    rule("NeoChat", DESKTOP, None, NAMES, r"^NeoChat\b(?: (?:on|-) (?P<os>.+))?"),
    rule("NeoChat", DESKTOP, None, APP_ID, r"^org\.kde\.neochat\b"),
    rule("Fractal", DESKTOP, Some("Linux"), NAMES, r"^Fractal\b"),
    rule("Hydrogen", BROWSER, None, NAMES, r"^Hydrogen(?: Web)?$"),
    // Matrix bridges and bots.
    rule("mautrix-python bot", SCRIPT, None, UA, r"^mautrix-python/(?P<v>[\w.+-]+)"),
    rule("mautrix-{x} bridge", INTEGRATION, None, UA, r"^mautrix-(?P<x>[a-z]+)/v?(?P<v>[\w.+-]+)"),
    rule("Hookshot", INTEGRATION, None, NAMES_AND_UA, r"^matrix-hookshot\b(?:/(?P<v>[\w.+-]+))?"),
    rule("Heisenbridge", INTEGRATION, None, NAMES_AND_UA, r"^heisenbridge\b(?:/(?P<v>[\w.+-]+))?"),
    rule("matrix-appservice-{x} bridge", INTEGRATION, None, NAMES_AND_UA, r"^matrix-appservice-(?P<x>[a-z]+)\b(?:/(?P<v>[\w.+-]+))?"),
    rule("maubot", SCRIPT, None, NAMES_AND_UA, r"^maubot\b(?:/(?P<v>[\w.+-]+))?"),
    rule("Draupnir", SCRIPT, None, NAMES_AND_UA, r"^draupnir\b(?:/(?P<v>[\w.+-]+))?"),
    rule("Mjolnir", SCRIPT, None, NAMES_AND_UA, r"^mjolnir\b(?:/(?P<v>[\w.+-]+))?"),
    rule("matrix-commander", SCRIPT, None, NAMES_AND_UA, r"^matrix-commander\b(?:/(?P<v>[\w.+-]+))?"),
    rule("matrix-bot-sdk bot", SCRIPT, None, UA, r"^matrix-bot-sdk/(?P<v>[\w.+-]+)"),
    rule("matrix-nio bot", SCRIPT, None, UA, r"^matrix-nio(?:/(?P<v>[\w.+-]+))?(?:\s|$)"),
    // Calendar and contacts sync.
    rule("DAVx5", SYNC, ANDROID, NAMES_AND_UA, r"^(?:DAVx5|DAVx⁵|DAVdroid)(?:/(?P<v>[^\s(]+))?"),
    rule("DAVx5", SYNC, ANDROID, APP_ID, r"^at\.bitfire\.davdroid\b"),
    rule("Thunderbird", SYNC, None, UA, r"\b(?:Thunderbird|Lightning)/(?P<v>[\d.]+)"),
    rule("Thunderbird", SYNC, None, NAMES, r"^(?:Mozilla )?Thunderbird\b"),
    rule("Google Calendar", SYNC, None, NAMES_AND_UA, r"^Google[ -]Calendar\b"),
    rule("Google Contacts", SYNC, None, NAMES, r"^Google[ -]Contacts\b"),
    rule("Apple Calendar", SYNC, MACOS, UA, r"\b(?:CalendarAgent|CalendarStore|iCal)/(?P<v>[\d.]+)"),
    rule("Apple Contacts", SYNC, MACOS, UA, r"\b(?:AddressBookCore|AddressBook|AddressBookSourceSync)/(?P<v>[\d.]+)"),
    rule("Apple Reminders", SYNC, IOS, UA, r"\bremindd/(?P<v>[\d.]+)"),
    rule("Apple Calendar and Contacts", SYNC, IOS, UA, r"\b(?:dataaccessd|accountsd)/(?P<v>[\d.]+)"),
    rule("Apple Calendar", SYNC, None, NAMES, r"^(?:Apple|iCloud|macOS|iOS|iPhone|iPad) Calendar$"),
    rule("Apple Contacts", SYNC, None, NAMES, r"^(?:Apple|iCloud|macOS|iOS|iPhone|iPad) Contacts$"),
    rule("Outlook CalDav Synchronizer", SYNC, Some("Windows"), NAMES_AND_UA, r"^CalDavSynchronizer(?:/(?P<v>[\w.+-]+)|$)"),
    rule("Outlook", SYNC, None, UA, r"\bMicrosoft Outlook (?P<v>[\d.]+)"),
    rule("Outlook", SYNC, None, UA, r"^Outlook-(?P<os>iOS|Android)/(?P<v>[\d.]+)"),
    rule("Outlook", SYNC, None, NAMES, r"^(?:Microsoft )?Outlook\b"),
    rule("Evolution", SYNC, Some("Linux"), UA, r"\bEvolution/(?P<v>[\d.]+)"),
    rule("Evolution", SYNC, Some("Linux"), NAMES, r"^(?:GNOME )?Evolution$"),
    // Nextcloud clients.
    rule(
        "Nextcloud Desktop",
        DESKTOP,
        None,
        UA,
        r"(?:\((?P<os>Linux|Windows|Macintosh)\) )?\bmirall/(?P<v>[\d.]+)[^\s(]*(?: \(build [^)]*\))?(?: \(Nextcloud|$)",
    ),
    rule("Nextcloud Talk", MOBILE, None, UA, r"(?:\((?P<os>Android|iOS)\) )?\bNextcloud-Talk v(?P<v>[\w.+-]+)"),
    rule("Nextcloud Android", MOBILE, ANDROID, UA, r"\bNextcloud-android/(?P<v>[\w.+-]+)"),
    rule("Nextcloud iOS", MOBILE, IOS, UA, r"\bNextcloud-iOS/(?P<v>[\w.+-]+)"),
    rule("Nextcloud Desktop", DESKTOP, None, NAMES, r"^Nextcloud Desktop(?: Client)?\b"),
    rule("Nextcloud Android", MOBILE, ANDROID, NAMES, r"^Nextcloud[ -]Android\b"),
    rule("Nextcloud iOS", MOBILE, IOS, NAMES, r"^Nextcloud[ -]iOS\b"),
    // Home Assistant companion apps.
    rule("Home Assistant for Android", MOBILE, ANDROID, OAUTH, r"^https://home-assistant\.io/android/?$"),
    rule("Home Assistant for iOS", MOBILE, IOS, OAUTH, r"^https://home-assistant\.io/ios/?$"),
    rule("Home Assistant for macOS", DESKTOP, MACOS, OAUTH, r"^https://home-assistant\.io/mac/?$"),
    rule("Home Assistant for Android", MOBILE, ANDROID, NAMES, r"^Home ?Assistant (?:Companion )?(?:for |app for )?Android\b"),
    rule("Home Assistant for iOS", MOBILE, IOS, NAMES, r"^Home ?Assistant (?:Companion )?(?:for |app for )?(?:iOS|iPhone|iPad)\b"),
    rule("Home Assistant for macOS", DESKTOP, MACOS, NAMES, r"^Home ?Assistant (?:Companion )?(?:for |app for )?macOS\b"),
    rule("Home Assistant web interface", BROWSER, None, NAMES, r"^Home Assistant web interface$"),
    rule("Home Assistant server", INTEGRATION, None, UA, r"^HomeAssistant/(?P<v>[\d.]+\S*) aiohttp/"),
    rule("Home Assistant for Android", MOBILE, ANDROID, UA, r"\bHome ?Assistant/(?P<v>[\w.+-]+) \(Android [\d.]+(?:; (?P<dev>[^;)]+))?"),
    rule("Home Assistant for macOS", DESKTOP, MACOS, UA, r"\bHome ?Assistant/(?P<v>[\w.+-]+) \(io\.robbie\.HomeAssistant[^)]*; macOS\b"),
    rule("Home Assistant for iOS", MOBILE, IOS, UA, r"\bHome ?Assistant/(?P<v>[\w.+-]+) \((?:io\.robbie\.HomeAssistant|iOS\b|iPadOS\b)"),
    rule("Home Assistant for Android", MOBILE, ANDROID, APP_ID, r"^io\.homeassistant\.companion\.android\b"),
    rule("Home Assistant for iOS", MOBILE, IOS, APP_ID, r"^io\.robbie\.HomeAssistant\b"),
    // Moodle.
    rule("Moodle app", Shape::ByOs, None, APP_ID, r"^com\.moodle\.moodlemobile$"),
    rule("Moodle Workplace app", Shape::ByOs, None, APP_ID, r"^com\.moodle\.workplace$"),
    rule("Moodle app", Shape::ByOs, None, UA, r"\bMoodleMobile\b(?: (?P<v>[\d.]+))?"),
    rule("Moodle app", Shape::ByOs, None, NAMES, r"^(?:moodle_mobile_app|Moodle mobile web service|Moodle app)$"),
    // JupyterHub.
    rule("JupyterHub notebook server", INTEGRATION, None, OAUTH, r"^jupyterhub-user-(?P<x>.+)$"),
    rule("JupyterHub service {x}", INTEGRATION, None, OAUTH, r"^service-(?P<x>.+)$"),
    rule("JupyterHub in the browser", BROWSER, None, OAUTH, r"^jupyterhub$"),
    rule(
        "JupyterHub notebook server",
        INTEGRATION,
        None,
        NAMES_AND_UA,
        r"^(?:Server at /user/\S+|jupyterhub-singleuser\b(?:/(?P<v>[\w.+-]+))?)",
    ),
    // WordPress.
    rule("WordPress for iOS", MOBILE, IOS, UA, r"\bwp-iphone/(?P<v>[\d.]+)"),
    rule("WordPress for Android", MOBILE, ANDROID, UA, r"\bwp-android(?:-native)?/(?P<v>[\d.]+)"),
    rule("WordPress for iOS", MOBILE, IOS, NAMES, r"^WordPress (?:app )?(?:for |on )?(?:iOS|iPhone|iPad)\b"),
    rule("WordPress for Android", MOBILE, ANDROID, NAMES, r"^WordPress (?:app )?(?:for |on )?Android\b"),
    rule("Jetpack for iOS", MOBILE, IOS, NAMES, r"^Jetpack (?:app )?(?:for |on )?(?:iOS|iPhone|iPad)\b"),
    rule("Jetpack for Android", MOBILE, ANDROID, NAMES, r"^Jetpack (?:app )?(?:for |on )?Android\b"),
    rule("WordPress for iOS", MOBILE, IOS, APP_ID, r"^org\.wordpress(?:\.ios)?$"),
    rule("WordPress for Android", MOBILE, ANDROID, APP_ID, r"^org\.wordpress\.android\b"),
    // Scripts and command-line tools.
    rule("Arcanist", SCRIPT, None, NAMES_AND_UA, r"^(?:arcanist|arc)(?:$|[/ ](?P<v>[\w.+-]+)?)"),
    rule("curl", SCRIPT, None, NAMES_AND_UA, r"^curl(?:/(?P<v>[\w.+-]+)|$)"),
    rule("Wget", SCRIPT, None, UA, r"^Wget/(?P<v>[\w.+-]+)"),
    rule("Python requests", SCRIPT, None, NAMES_AND_UA, r"^python-requests(?:/(?P<v>[\w.+-]+)|$)"),
    rule("Python httpx", SCRIPT, None, UA, r"^python-httpx/(?P<v>[\w.+-]+)"),
    rule("Python urllib", SCRIPT, None, UA, r"^Python-urllib/(?P<v>[\w.+-]+)"),
    rule("Python aiohttp", SCRIPT, None, UA, r"^Python/[\d.]+ aiohttp/(?P<v>[\w.+-]+)|\baiohttp/(?P<v2>[\w.+-]+)"),
    rule("Go HTTP client", SCRIPT, None, UA, r"^Go-http-client/(?P<v>[\w.+-]+)"),
    rule("node-fetch", SCRIPT, None, UA, r"^node-fetch(?:/(?P<v>[\w.+-]+))?(?:\s|$)"),
    rule("Node.js fetch", SCRIPT, None, UA, r"^(?:node|undici)$"),
    rule("axios", SCRIPT, None, UA, r"^axios/(?P<v>[\w.+-]+)"),
    rule("OkHttp", SCRIPT, None, UA, r"^okhttp/(?P<v>[\w.+-]+)$"),
    rule("Dart HTTP client", Shape::Is(Form::Unknown), None, UA, r"^Dart/(?P<v>[\d.]+) \(dart:io\)"),
    rule("Postman", SCRIPT, None, UA, r"^PostmanRuntime/(?P<v>[\w.+-]+)"),
    rule("HTTPie", SCRIPT, None, UA, r"^HTTPie/(?P<v>[\w.+-]+)"),
    rule("Java HTTP client", SCRIPT, None, UA, r"^(?:Java-http-client|Apache-HttpClient)/(?P<v>[\w.+-]+)"),
    rule("Perl LWP", SCRIPT, None, UA, r"^libwww-perl/(?P<v>[\w.+-]+)"),
    rule("Ruby script", SCRIPT, None, UA, r"^(?:Ruby|Faraday v(?P<v>[\w.+-]+))$|^Faraday v"),
    rule("PowerShell", SCRIPT, Some("Windows"), UA, r"\b(?:Windows)?PowerShell/(?P<v>[\w.+-]+)"),
];

/// The rules, compiled once.
static COMPILED: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    RULES.iter().map(|r| Regex::new(&format!("(?i){}", r.pattern)).unwrap_or_else(|e| panic!("client rule {:?}: {e}", r.name))).collect()
});

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

/// uap-core device families that say nothing a person would recognise.
const GENERIC_DEVICES: &[&str] = &[
    "Other",
    "Spider",
    "Mac",
    "K",
    "Generic Smartphone",
    "Generic Tablet",
    "Generic Feature Phone",
    "Generic_Android",
    "Generic_Android_Tablet",
    "Generic_Inettv",
    "PC",
];

/// Notes that servers write themselves and that name no client.
const NOT_A_CLIENT: &[&str] = &["requested via api", "requested via token page", "requested via the token page"];

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
    for (rule, re) in RULES.iter().zip(COMPILED.iter()) {
        for &which in rule.on {
            let Some(text) = hint_text(h, which) else { continue };
            if let Some(caps) = re.captures(text) {
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
                    device: group("dev").or_else(|| group("dev2")).filter(|d| !GENERIC_DEVICES.iter().any(|g| d.eq_ignore_ascii_case(g))),
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
        .find(|t| !NOT_A_CLIENT.contains(&t.to_ascii_lowercase().as_str()))
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
    fn every_rule_compiles() {
        assert_eq!(COMPILED.len(), RULES.len());
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
