//! Property tests for what the HTTP client reads from any answer: how long a rate-limited
//! server asks to wait (`Retry-After`, Matrix's `retry_after_ms`), where a redirect points, the
//! one-line error message. None may panic, whatever the headers and body.

use proptest::prelude::*;
use serde_json::json;

use crate::testing::{any_json, header_value, hostile_text, response};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_retry_after_is_a_wait_or_none(
        header in prop_oneof![header_value("120"), any::<u64>().prop_map(|n| n.to_string()), Just("Wed, 21 Oct 2026 07:28:00 GMT".to_string())],
        ms in prop_oneof![any::<u64>().prop_map(|n| json!(n)), any_json()],
    ) {
        let r = response(429, &[("retry-after", &header)], Vec::new());
        let h = header.trim();
        let wait = r.retry_after().map(|w| w.as_secs());
        if !h.is_empty() && h.len() <= 64 && h.bytes().all(|b| b.is_ascii_digit()) {
            // Seconds; more than fits is "longer than anyone waits".
            prop_assert_eq!(wait, Some(h.parse::<u64>().unwrap_or(u64::MAX)));
        } else if chrono::DateTime::parse_from_rfc2822(h).is_ok() {
            // An HTTP date: some wait (none left when it has passed).
            prop_assert!(wait.is_some());
        } else {
            prop_assert_eq!(wait, None);
        }
        let _ = response(429, &[], json!({"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": ms}).to_string().into_bytes()).retry_after();
    }

    #[test]
    fn any_answer_gives_a_location_and_a_one_line_message(location in hostile_text(), status in 100u16..600, body in any_json(), text in hostile_text()) {
        let r = response(status, &[("location", &location)], body.to_string().into_bytes());
        let _ = r.location();
        let message = r.error_message();
        prop_assert!(!message.contains('\n'));
        let _ = response(status, &[], text.into_bytes()).error_message();
    }
}
