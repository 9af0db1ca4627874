//! A string that is a secret: a password, a token, a cookie. It prints as `<secret>` in `Debug`,
//! has no `Display` and no `Serialize`, and is wiped from memory when dropped. Getting at the
//! value takes an explicit `expose()`, which makes every use easy to find and review.

use std::fmt;

use zeroize::Zeroizing;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(Zeroizing::new(s.into()))
    }

    /// The secret's text. Send it to its server or the keyring; never print, log or store it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }

    /// Reads one secret from a reader (stdin): the first line, without its line ending.
    pub fn read_line(mut r: impl std::io::BufRead) -> std::io::Result<Secret> {
        let mut line = Zeroizing::new(String::new());
        r.read_line(&mut line)?;
        let trimmed = line.trim_end_matches(['\n', '\r']);
        Ok(Secret::new(trimmed.to_string()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret::new(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "<secret>");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn reads_first_line_only() {
        let s = Secret::read_line(&b"pa ss\r\nsecond\n"[..]).unwrap();
        assert_eq!(s.expose(), "pa ss");
    }
}

/// `#[serde(with = "crate::secret::stored")]` for the fields of a provider's stored-secret type,
/// which is serialised only to go into the keyring (see `provider::Session::save`).
pub mod stored {
    use super::Secret;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(s: &Secret, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(s.expose())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Secret, D::Error> {
        String::deserialize(de).map(Secret::new)
    }

    /// The same for `Option<Secret>`.
    pub mod option {
        use super::super::Secret;
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(s: &Option<Secret>, ser: S) -> Result<S::Ok, S::Error> {
            match s {
                Some(s) => ser.serialize_some(s.expose()),
                None => ser.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Secret>, D::Error> {
            Option::<String>::deserialize(de).map(|o| o.map(Secret::new))
        }
    }
}
