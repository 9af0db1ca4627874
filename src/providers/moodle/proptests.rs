//! Property tests: whatever a Moodle site serves as its login, sessions, security-keys or
//! confirmation page (the captured pages of `tests/data/moodle-4.3/` with hostile text spliced
//! in, cut short, or replaced), and whatever times they show, reading them never panics. See
//! `crate::testing` for the strategies.

use chrono::Utc;
use proptest::prelude::*;
use url::Url;

use super::pages;
use crate::testing::{hostile_text, spliced_page};

const LOGIN: &str = include_str!("../../../tests/data/moodle-4.3/login_page.html");
const LOGIN_WRONG: &str = include_str!("../../../tests/data/moodle-4.3/login_wrong_password.html");
const SESSIONS: &str = include_str!("../../../tests/data/moodle-4.3/usersessions_two_sessions.html");
const KEYS: &str = include_str!("../../../tests/data/moodle-4.3/managetoken_with_createtoken_cap.html");
const CONFIRM: &str = include_str!("../../../tests/data/moodle-4.3/managetoken_reset_confirm.html");

fn base() -> Url {
    Url::parse("https://moodle.example/").expect("a fixed URL")
}

proptest! {
    // Real pages are 20–130 KiB: fewer cases, each a full parse.
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn any_login_page_is_read(html in prop_oneof![spliced_page(LOGIN), spliced_page(LOGIN_WRONG)]) {
        std::hint::black_box(pages::login_page(&html));
        std::hint::black_box(pages::page_info(&html));
    }

    #[test]
    fn any_sessions_page_is_read_or_refused(html in spliced_page(SESSIONS)) {
        let _ = pages::sessions_page(&html, &base());
    }

    #[test]
    fn any_keys_page_is_read_or_refused(html in spliced_page(KEYS)) {
        let _ = pages::keys_page(&html, &base());
        let _ = pages::pats_page(&html);
    }

    #[test]
    fn any_confirmation_page_is_read(html in spliced_page(CONFIRM)) {
        let _ = pages::confirm_form(&html);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_shown_time_is_a_time_or_none(
        text in prop_oneof![
            hostile_text(),
            Just("Sunday, 22 November 2026, 1:04 PM".to_string()),
            (1u32..40, "(January|March|Smarch)", -300_000i32..300_000, 0u32..30, 0u32..70).prop_map(|(d, m, y, h, min)| format!("{d} {m} {y}, {h}:{min:02} PM")),
        ],
        zone in prop_oneof![hostile_text(), Just("Europe/Berlin".to_string()), Just("UTC".to_string()), Just("../../etc/passwd".to_string())],
    ) {
        let _ = pages::moodle_time(&text, Some(&zone));
    }

    #[test]
    fn any_ago_is_a_time_before_now_or_none(n in any::<u64>(), unit in "(min|mins|minute|minutes|hour|hours|day|days)", text in hostile_text()) {
        let now = Utc::now();
        if let Some(t) = pages::moodle_ago(&format!("{n} {unit} ago"), now) {
            prop_assert!(t <= now);
        }
        let _ = pages::moodle_ago(&text, now);
    }
}
