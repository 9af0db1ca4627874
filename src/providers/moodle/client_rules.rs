//! How Keyward recognises the Moodle app (and Moodle Workplace) behind a token or a push
//! registration: by the service's short name, the push app id or the app's user agent. The rules
//! are Moodle's own; the engine that reads them is `crate::clients`.

use crate::clients::{rule, Rule, APP_ID, BY_OS, NAMES, UA};

/// Tried in order, after Keyward's own rule and before the shared ones; each has cases in
/// `tests/data/clients/`.
pub(crate) const CLIENT_RULES: &[Rule] = &[
    rule("Moodle app", BY_OS, None, APP_ID, r"^com\.moodle\.moodlemobile$"),
    rule("Moodle Workplace app", BY_OS, None, APP_ID, r"^com\.moodle\.workplace$"),
    rule("Moodle app", BY_OS, None, UA, r"\bMoodleMobile\b(?: (?P<v>[\d.]+))?"),
    rule("Moodle app", BY_OS, None, NAMES, r"^(?:moodle_mobile_app|Moodle mobile web service|Moodle app)$"),
];
