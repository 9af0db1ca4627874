//! Property tests: whatever a WordPress site sends (its REST index, `Link` headers, application
//! passwords with any dates, the user, error bodies), reading it never panics, and a `Link` header
//! names an API root only where a `<…>` and the API's `rel` are. See `crate::testing`.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::testing::{any_json, header_value, hostile_text, response, shaped_like};

fn passwords_answer() -> Value {
    json!([{
        "uuid": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "app_id": "",
        "name": "Thunderbird",
        "created": "2026-11-20T10:00:00",
        "last_used": "2026-11-22 00:00:00",
        "last_ip": "192.0.2.1",
        "password": null
    }])
}

fn index_answer() -> Value {
    json!({"name": "Blog", "url": "https://blog.example", "home": "https://blog.example", "gmt_offset": "5.5",
           "timezone_string": "", "namespaces": ["oembed/1.0", "wp/v2"], "authentication": {"application-passwords": {"endpoints": {}}}})
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_application_password_list_becomes_credentials(v in prop_oneof![shaped_like(passwords_answer()), any_json()], own in hostile_text()) {
        if let Ok(list) = serde_json::from_value::<Vec<AppPassword>>(v) {
            for p in list {
                let c = credential(p, &own, "https://blog.example/wp-admin/profile.php");
                std::hint::black_box(crate::summary::summarise(&c, Utc::now()));
            }
        }
    }

    #[test]
    fn any_index_is_read_or_refused(v in prop_oneof![shaped_like(index_answer()), any_json()], time in hostile_text(), html in hostile_text()) {
        if let Ok(i) = serde_json::from_value::<Index>(v.clone()) {
            let _ = (i.is_wordpress(), i.offers_application_passwords(), i.time_zone());
        }
        let _ = serde_json::from_value::<User>(v);
        let _ = utc_time(Some(&time));
        let _ = strip_tags(&html);
    }

    #[test]
    fn any_link_header_names_a_root_or_nothing(
        links in prop::collection::vec(header_value(r#"<https://blog.example/wp-json/>; rel="https://api.w.org/""#), 0..4),
    ) {
        let headers: Vec<(&str, &str)> = links.iter().map(|l| ("link", l.as_str())).collect();
        let r = response(200, &headers, Vec::new());
        if let Some(u) = api_link(&r) {
            prop_assert!(links.iter().any(|l| l.contains('<') && l.contains('>') && l.contains(API_REL)), "{u} from {links:?}");
        }
    }

    #[test]
    fn any_error_body_is_one_sentence(status in 100u16..600, body in prop_oneof![shaped_like(json!({"code": "rest_no_route", "message": "No route", "data": {"status": 404}})), any_json()]) {
        let r = response(status, &[], body.to_string().into_bytes());
        let _ = unavailable(&r, "blog.example");
        std::hint::black_box(server_error(&r).to_string());
    }
}
