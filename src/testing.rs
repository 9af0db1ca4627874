//! Strategies for the property tests of every parser of server text (compiled only for tests):
//! hostile strings, arbitrary JSON, JSON shaped like a real answer with any of its parts
//! replaced, and HTML pages with hostile pieces spliced in. Each parser's own property tests live
//! beside it, in a `proptests.rs` child module (`providers/matrix/proptests.rs`,
//! `net/web/proptests.rs`, …), and assert one thing: whatever the server sends, the parser
//! returns (a value or an error) without panicking, in bounded time.
//!
//! To add a provider's parsers (Phorge's, Hypothesis's): add `#[cfg(test)] mod proptests;` to the
//! provider module and write its `proptests.rs` like `providers/matrix/proptests.rs`, feeding
//! [`shaped_like`] a captured answer and the result to the provider's conversion function.
//!
//! Sizes are bounded (strings to a few KiB, JSON to a few levels and elements), so each test
//! runs in seconds.

use proptest::prelude::*;
use serde_json::{Map, Value};

/// Strings a hostile or broken server might send: any Unicode, control characters and escape
/// sequences, bidi controls, very long runs, numbers-as-text, and the empty string.
pub fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<String>(),
        "[ -~]{0,24}",
        Just("\u{1b}[31m".to_string()),
        Just("\u{1b}]0;title\u{7}".to_string()),
        Just("\u{202E}\u{2066}\u{200B}\u{FEFF}".to_string()),
        Just("\r\n\t\0".to_string()),
        Just("%s%n{}{{x}}\\u0000".to_string()),
        Just("-1".to_string()),
        Just("99999999999999999999".to_string()),
        Just("1.5e308".to_string()),
        Just("ü".repeat(300)),
        Just("a".repeat(4096)),
        Just(String::new()),
    ];
    prop::collection::vec(piece, 0..4).prop_map(|v| v.concat())
}

/// A JSON leaf: null, a boolean, an extreme or ordinary number, or hostile text.
pub fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(-1i64), Just(0i64)].prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("JSON has no NaN or infinity", |f| f.is_finite()).prop_map(Value::from),
        hostile_text().prop_map(Value::String),
    ]
}

/// Any JSON value, a few levels deep.
pub fn any_json() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..5).prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// JSON shaped like `template` (a real answer), with any part kept, replaced by [`any_json`],
/// or left out; arrays get 0 to 4 elements shaped like the template's first. What a server
/// that mostly speaks the protocol but lies in the details would send.
pub fn shaped_like(template: Value) -> BoxedStrategy<Value> {
    match template {
        Value::Object(fields) => {
            let parts: Vec<BoxedStrategy<Option<(String, Value)>>> = fields
                .into_iter()
                .map(|(k, v)| {
                    let key = k.clone();
                    prop_oneof![
                        6 => shaped_like(v).prop_map(move |v| Some((key.clone(), v))),
                        1 => any_json().prop_map(move |v| Some((k.clone(), v))),
                        1 => Just(None),
                    ]
                    .boxed()
                })
                .collect();
            parts.prop_map(|kv| Value::Object(kv.into_iter().flatten().collect())).boxed()
        }
        Value::Array(items) => match items.into_iter().next() {
            Some(first) => prop_oneof![
                6 => prop::collection::vec(shaped_like(first), 0..5).prop_map(Value::Array),
                1 => any_json(),
            ]
            .boxed(),
            None => prop::collection::vec(any_json(), 0..3).prop_map(Value::Array).boxed(),
        },
        leaf => prop_oneof![3 => Just(leaf), 2 => json_leaf()].boxed(),
    }
}

/// `page` with hostile text spliced in at a few places (inside text, tags and attributes), or
/// cut short, or replaced by arbitrary text: what a page parser must survive.
pub fn spliced_page(page: &'static str) -> impl Strategy<Value = String> {
    let cuts = prop::collection::vec((0..=page.len(), hostile_text()), 0..4);
    prop_oneof![
        4 => cuts.prop_map(move |mut cuts| {
            cuts.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
            let mut s = page.to_string();
            for (at, text) in cuts {
                let at = (0..=at).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0);
                s.insert_str(at, &text);
            }
            s
        }),
        1 => (0..=page.len()).prop_map(move |n| page.get(..n).unwrap_or(page).to_string()),
        1 => hostile_text(),
    ]
}

/// A response as `Http::send` returns it, for parsers that read one (headers, status, body).
pub fn response(status: u16, headers: &[(&str, &str)], body: Vec<u8>) -> crate::net::http::Response {
    let mut map = reqwest::header::HeaderMap::new();
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (reqwest::header::HeaderName::from_bytes(k.as_bytes()), reqwest::header::HeaderValue::from_str(v)) {
            map.append(k, v);
        }
    }
    crate::net::http::Response {
        status: reqwest::StatusCode::from_u16(status).unwrap_or(reqwest::StatusCode::OK),
        headers: map,
        url: url::Url::parse("https://server.example/api/").expect("a fixed URL"),
        body,
    }
}

/// Header values a server might send: anything printable, hostile text, or shaped like `real`.
pub fn header_value(real: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![Just(real.to_string()), "[ -~]{0,80}", hostile_text(), spliced_text(real)]
}

/// `real` with hostile text spliced in at one place.
fn spliced_text(real: &'static str) -> impl Strategy<Value = String> {
    (0..=real.len(), hostile_text()).prop_map(move |(at, t)| {
        let at = (0..=at).rev().find(|i| real.is_char_boundary(*i)).unwrap_or(0);
        format!("{}{t}{}", &real[..at], &real[at..])
    })
}
