//! Property tests: whatever Home Assistant's HTTP and websocket APIs send (auth providers, login
//! flow steps, token answers, the refresh-token list, the current user), reading it never
//! panics. See `crate::testing` for the strategies.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::testing::{any_json, hostile_text, response, shaped_like};

fn refresh_tokens_answer() -> Value {
    json!([{
        "id": "4f9c1e0e3a9b4a5b9c2d7e8f1a2b3c4d",
        "client_id": "https://home-assistant.io/android",
        "client_name": null,
        "client_icon": null,
        "type": "normal",
        "created_at": "2026-11-20T10:00:00.000000+00:00",
        "is_current": false,
        "last_used_at": "2026-11-22T12:00:00.000000+00:00",
        "last_used_ip": "192.0.2.10",
        "auth_provider_type": "homeassistant",
        "expire_at": 1_766_000_000.5
    }])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_refresh_token_list_becomes_credentials(v in prop_oneof![shaped_like(refresh_tokens_answer()), any_json()], manage in hostile_text()) {
        if let Ok(tokens) = serde_json::from_value::<Vec<RefreshToken>>(v) {
            for t in tokens {
                let c = token_credential(t, &manage);
                std::hint::black_box(crate::summary::summarise(&c, Utc::now()));
            }
        }
    }

    #[test]
    fn any_token_answer_gives_an_expiry_or_none(
        v in shaped_like(json!({"access_token": "abc", "expires_in": 1800, "refresh_token": "def", "token_type": "Bearer"})),
        secs in prop_oneof![any::<i64>(), Just(i64::MAX), Just(i64::MIN)],
    ) {
        if let Ok(t) = serde_json::from_value::<TokenAnswer>(v) {
            let _ = expiry(t.expires_in);
        }
        let _ = expiry(Some(secs));
    }

    #[test]
    fn any_other_answer_is_read_or_refused(
        v in any_json(),
        flow in shaped_like(json!({"type": "form", "flow_id": "f1", "step_id": "init", "errors": {"base": "invalid_auth"}, "result": "code", "reason": null})),
        user in shaped_like(json!({"id": "u1", "name": "Alice", "is_owner": true, "is_admin": true})),
        status in 100u16..600,
        body in any_json(),
    ) {
        let _ = serde_json::from_value::<ProvidersAnswer>(v.clone());
        let _ = serde_json::from_value::<CurrentUser>(user);
        let _ = serde_json::from_value::<FlowStep>(flow);
        let _ = serde_json::from_value::<TokenAnswer>(v);
        std::hint::black_box(server_error(&response(status, &[], body.to_string().into_bytes())).to_string());
    }
}
