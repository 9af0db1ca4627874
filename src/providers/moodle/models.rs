//! Apple device model codes as names: "iPhone14,8" → "iPhone 14 Plus".
//!
//! The Moodle app reports a push device's `model` as the phone says it: on Android a name
//! ("Pixel 7"), on iOS Apple's model identifier, which people do not recognise. The table is the
//! vendored `data/ios-device-list/devices-min.json` (npm ios-device-list, MIT; its README says
//! where it came from and how to update it), parsed once. A code it does not know stays as Moodle
//! gave it; nothing is guessed.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

const TABLE: &str = include_str!("data/ios-device-list/devices-min.json");

#[derive(Deserialize)]
struct Entry {
    name: String,
    model: String,
}

fn table() -> &'static HashMap<String, String> {
    static T: OnceLock<HashMap<String, String>> = OnceLock::new();
    T.get_or_init(|| {
        let entries: Vec<Entry> = serde_json::from_str(TABLE).unwrap_or_default();
        entries.into_iter().filter(|e| !e.model.is_empty() && !e.name.is_empty()).map(|e| (e.model, e.name)).collect()
    })
}

/// The product name of an Apple model identifier, when the table knows it.
pub(super) fn apple_name(code: &str) -> Option<&'static str> {
    table().get(code.trim()).map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apple_codes_read_as_product_names() {
        assert_eq!(apple_name("iPhone14,8"), Some("iPhone 14 Plus"));
        assert_eq!(apple_name("iPhone15,3"), Some("iPhone 14 Pro Max"));
        assert_eq!(apple_name("iPad13,1"), Some("iPad Air (4th generation)"));
        assert_eq!(apple_name(" iPhone12,8 "), Some("iPhone SE (2nd generation)"));
    }

    #[test]
    fn unknown_codes_and_android_names_are_not_guessed() {
        assert_eq!(apple_name("Pixel"), None);
        assert_eq!(apple_name("iPhone99,9"), None);
        assert_eq!(apple_name(""), None);
    }

    #[test]
    fn the_vendored_table_parses_whole() {
        assert!(table().len() > 150, "{} codes", table().len());
    }
}
