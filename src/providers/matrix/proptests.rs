//! Property tests: whatever JSON a homeserver sends for devices, pushers, Element's client
//! information, a sign-in challenge or the next-gen auth metadata, turning it into credentials
//! (and their summary lines) never panics. See `crate::testing` for the strategies.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::testing::{any_json, hostile_text, shaped_like};

fn devices_answer() -> Value {
    json!({"devices": [{
        "device_id": "QWERTYUIOP",
        "display_name": "app.element.io: Firefox on Linux",
        "last_seen_ip": "203.0.113.7",
        "last_seen_ts": 1_732_280_000_000i64,
        "last_seen_user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
    }]})
}

fn pushers_answer() -> Value {
    json!({"pushers": [{
        "app_display_name": "Element",
        "app_id": "im.vector.app.android",
        "data": {"url": "https://push.example.org/_matrix/push/v1/notify", "format": "event_id_only"},
        "device_display_name": "Pixel 8",
        "kind": "http",
        "lang": "en",
        "profile_tag": "xyz",
        "pushkey": "push-key-secret-1"
    }]})
}

fn management(v: Value) -> Option<AccountManagement> {
    let m: AuthMetadata = serde_json::from_value(v).ok()?;
    Some(AccountManagement { uri: m.account_management_uri?, actions: m.account_management_actions_supported })
}

fn summarised(c: &Credential) {
    std::hint::black_box(crate::summary::summarise(c, Utc::now()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_device_list_becomes_credentials(
        v in prop_oneof![shaped_like(devices_answer()), any_json()],
        info in prop_oneof![shaped_like(json!({"name": "Element", "version": "1.11", "url": "https://app.element.io/"})), any_json()],
        meta in shaped_like(json!({"account_management_uri": "https://auth.example.org/account", "account_management_actions_supported": ["org.matrix.session_end"]})),
        own in hostile_text(),
    ) {
        let mgmt = management(meta);
        if let Some(m) = &mgmt {
            std::hint::black_box(m.sessions_url());
        }
        if let Ok(list) = serde_json::from_value::<DevicesResponse>(v) {
            for d in list.devices {
                let ua = d.last_seen_user_agent.clone();
                let info = serde_json::from_value::<ClientInformation>(info.clone()).ok();
                summarised(&device_credential(d, &own, info, ua, mgmt.as_ref(), true));
            }
        }
    }

    #[test]
    fn any_pusher_list_becomes_credentials(v in prop_oneof![shaped_like(pushers_answer()), any_json()]) {
        if let Ok(list) = serde_json::from_value::<PushersResponse>(v) {
            for p in list.pushers {
                summarised(&pusher_credential(p));
            }
        }
    }

    #[test]
    fn any_other_answer_is_read_or_refused(
        v in any_json(),
        uia in shaped_like(json!({"session": "xyz", "flows": [{"stages": ["m.login.password"]}], "errcode": "M_FORBIDDEN", "error": "Invalid password"})),
        well_known in shaped_like(json!({"m.homeserver": {"base_url": "https://matrix.example.org"}})),
    ) {
        let _ = serde_json::from_value::<SyncResponse>(v.clone());
        let _ = serde_json::from_value::<Versions>(v.clone());
        let _ = serde_json::from_value::<LoginResponse>(v.clone());
        let _ = serde_json::from_value::<RefreshResponse>(v.clone());
        let _ = serde_json::from_value::<Whoami>(v);
        let _ = serde_json::from_value::<UiaResponse>(uia);
        if let Ok(WellKnown { homeserver: Some(hs) }) = serde_json::from_value::<WellKnown>(well_known) {
            let _ = crate::net::http::parse_server_url(&hs.base_url);
        }
    }

    #[test]
    fn ms_times_and_pusher_ids_take_any_value(ms in any::<i64>(), app in hostile_text(), key in hostile_text()) {
        let _ = ms_to_time(ms);
        prop_assert!(pusher_id(&app, &key).starts_with("push-"));
    }
}
