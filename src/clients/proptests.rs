//! Property tests: recognising a client from any hints a server gives (user agents, device
//! names, app ids, notes: real ones with hostile text spliced in, or anything) never panics, and
//! a client's name is never invented from nothing.

use proptest::prelude::*;

use super::*;
use crate::testing::{header_value, hostile_text};

fn hint() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        header_value(
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"
        ),
        header_value("Element/1.5.32 (Google Pixel 6 Pro; Android 13; TQ2A.230505.002; Flavour GooglePlay; MatrixAndroidSdk2 1.5.32)"),
        header_value("app.element.io: Firefox on Linux"),
        hostile_text(),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_hints_give_a_client_or_none(
        user_agent in hint(), device_name in hint(), app_name in hint(), app_id in hint(), note in hint(), model in hint(), platform in hint(),
    ) {
        let hints = ClientHints { user_agent, device_name, app_name, app_id, note, model, platform, ..Default::default() };
        if let Some(c) = recognise(&hints) {
            prop_assert!(!c.name.is_empty() || !hints.is_empty());
            std::hint::black_box(c.label());
        }
    }

    #[test]
    fn any_user_agent_gives_parts(ua in hint()) {
        std::hint::black_box(parse_user_agent(ua.as_deref().unwrap_or("")));
        let _ = os_name(ua.as_deref().unwrap_or(""));
    }
}
