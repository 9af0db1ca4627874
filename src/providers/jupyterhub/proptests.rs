//! Property tests: whatever a JupyterHub sends (its API root, the user model, token lists, error
//! bodies naming a missing scope), reading it never panics. See `crate::testing`.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::testing::{any_json, hostile_text, response, shaped_like};

fn tokens_answer() -> Value {
    json!({"api_tokens": [{
        "id": "a12",
        "kind": "api_token",
        "note": "Keyward on laptop",
        "created": "2026-11-20T10:00:00.000000Z",
        "last_activity": "2026-11-22T12:00:00.000000Z",
        "expires_at": null,
        "scopes": ["access:servers!user=alice"],
        "roles": [],
        "oauth_client": "JupyterHub",
        "session_id": null
    }], "oauth_tokens": []})
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_token_list_becomes_credentials(v in prop_oneof![shaped_like(tokens_answer()), any_json()], own in prop::option::of(hostile_text())) {
        if let Ok(list) = serde_json::from_value::<TokenList>(v) {
            for t in list.api_tokens.into_iter().chain(list.oauth_tokens) {
                let c = token_credential(t, own.as_deref());
                std::hint::black_box(crate::summary::summarise(&c, Utc::now()));
            }
        }
    }

    #[test]
    fn any_error_body_gives_a_scope_or_none(
        message in prop_oneof![hostile_text(), Just("Action is not authorized with current scopes; requires any of [read:tokens]".to_string()),
                               hostile_text().prop_map(|t| format!("requires any of [{t}")), hostile_text().prop_map(|t| format!("{t}requires any of []]"))],
        status in 100u16..600,
        other in any_json(),
    ) {
        let r = response(status, &[], json!({"status": status, "message": message}).to_string().into_bytes());
        let _ = missing_scope(&r);
        std::hint::black_box(server_error(&r).to_string());
        let r = response(status, &[], other.to_string().into_bytes());
        let _ = missing_scope(&r);
        let _ = serde_json::from_value::<ApiRoot>(other.clone());
        let _ = serde_json::from_value::<UserModel>(other.clone());
        let _ = serde_json::from_value::<NewToken>(other);
    }
}
