//! Property tests for the web mechanics that read server text: the local times pages show (any
//! wall-clock time in any zone name a page gives, and any bytes where a TZif file is read),
//! links' query parameters, and forms and tables in any HTML. None may panic.

use chrono::{DateTime, NaiveDateTime};
use proptest::prelude::*;
use scraper::Html;
use url::Url;

use super::*;
use crate::testing::hostile_text;

fn wall_clock() -> impl Strategy<Value = NaiveDateTime> {
    (-8_000_000_000_000i64..8_000_000_000_000)
        .prop_filter_map("a representable time", |s| DateTime::from_timestamp(s, 0).map(|t| t.naive_utc()))
}

fn tzif_bytes() -> impl Strategy<Value = Vec<u8>> {
    let header = |version: u8, counts: [u32; 6]| {
        let mut v = b"TZif".to_vec();
        v.push(version);
        v.extend([0u8; 15]);
        for c in counts {
            v.extend(c.to_be_bytes());
        }
        v
    };
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        (prop::collection::vec(any::<u8>(), 0..60)).prop_map(|tail| [b"TZif".to_vec(), tail].concat()),
        (
            any::<u8>(),
            prop::array::uniform6(prop_oneof![0u32..8, Just(u32::MAX), Just(0x8000_0000), any::<u32>()]),
            prop::collection::vec(any::<u8>(), 0..300)
        )
            .prop_map(move |(ver, counts, tail)| [header(ver, counts), tail].concat()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_tzif_bytes_give_an_offset_or_none(data in tzif_bytes(), local in wall_clock()) {
        let _ = tzif_offset(&data, local);
    }

    #[test]
    fn any_zone_name_gives_a_time_or_none(zone in prop_oneof![hostile_text(), "[A-Za-z_/+-]{0,30}", Just("Europe/London".to_string())], local in wall_clock()) {
        let _ = local_to_utc(local, &zone);
    }

    #[test]
    fn any_link_gives_a_parameter_or_none(href in hostile_text(), name in "[a-z]{1,10}") {
        let base = Url::parse("https://moodle.example/user/").expect("a fixed URL");
        let _ = query_param(&base, &href, &name);
    }

    #[test]
    fn any_html_gives_forms_and_tables(html in prop_oneof![
        hostile_text(),
        hostile_text().prop_map(|t| format!("<form action=\"{t}\"><input type=hidden name=\"{t}\" value=\"{t}\"></form><table><tr><th>{t}</th></tr><tr><td rowspan=99 colspan=99>{t}</td></tr></table>")),
    ]) {
        let doc = Html::parse_document(&html);
        std::hint::black_box(forms(doc.root_element()));
        std::hint::black_box(tables(doc.root_element()));
        let _ = input_value(&doc, "sesskey");
    }
}
