//! The recognition rules that belong to no one kind of server, and the engine's small tables:
//! Keyward itself (tried first), calendar and contacts sync, Nextcloud clients, scripts and HTTP
//! libraries (tried after every provider's own rules), the uap-core device families that name
//! nothing, the notes servers write themselves, and the user agents [`super::warm_up`] reads.
//!
//! Deliberately not here: rules for the clients of one kind of server. Those live in the
//! provider's module (`CLIENT_RULES`) and reach the engine through
//! [`crate::provider::Provider::client_rules`].

use super::*;

/// Tried before every other rule: Keyward's own credentials.
pub(super) static FIRST: &[Rule] = &[
    rule("Keyward", DESKTOP, None, NAMES_AND_UA, r"^Keyward(?:/(?P<v>[\w.+-]+)|\s+on\s|$)"),
    rule("Keyward", DESKTOP, None, OAUTH, r"^https://keyward\.app/?$"),
];

/// Tried after every provider's rules, in order: clients that several kinds of server see.
pub(super) static SHARED: &[Rule] = &[
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
    // Scripts and command-line tools. Arcanist is Phorge's command-line client: its rule belongs in
    // the Phorge provider's CLIENT_RULES once that provider exists.
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

/// uap-core device families that say nothing a person would recognise.
pub(super) const GENERIC_DEVICES: &[&str] = &[
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
pub(super) const NOT_A_CLIENT: &[&str] = &["requested via api", "requested via token page", "requested via the token page"];

/// Common user agents, read once at warm-up so the regex engines build their states early.
pub(super) const WARM_UP_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
    "Element/1.5.32 (Google Pixel 6 Pro; Android 13; TQ2A.230505.002; Flavour GooglePlay; MatrixAndroidSdk2 1.5.32)",
    "app.element.io: Firefox on Linux",
    "curl/8.5.0",
];
