//! "Whose token is this?": a pasted token is recognised by its shape (each provider declares the
//! shapes of its kind's tokens in its capabilities), then only the user's accounts of a kind whose
//! shape matches are asked, each through its server's own introspection — a token is never sent to
//! a server of another kind, which would leak it further.
//!
//! The token is a [`Secret`]: never stored, logged or shown, and wiped when dropped. What comes
//! back names the account and the credential, never the token.

use serde::Serialize;

use crate::model::Kind;
use crate::provider::TokenShape;
use crate::secret::Secret;

/// A kind whose tokens look like the pasted one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub kind: Kind,
    /// "Matrix access token".
    pub what: &'static str,
}

/// Every kind whose declared token shapes match `token`, in registry order.
pub fn candidates(token: &Secret) -> Vec<Candidate> {
    let t = token.expose().trim();
    crate::providers::all()
        .flat_map(|p| {
            let caps = p.capabilities();
            caps.token_shapes
                .iter()
                .filter(|s: &&TokenShape| (s.matches)(t))
                .map(move |s| Candidate { kind: caps.kind, what: s.what })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// What `identify` found.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// The kind it looks like (the first candidate, or the one an account confirmed).
    pub kind: Option<Kind>,
    /// In words: "Matrix access token", or why it is not known.
    pub what: String,
    /// The account it belongs to, when it is one of the user's.
    pub account: Option<String>,
    pub account_id: Option<String>,
    pub credential_id: Option<String>,
    pub name: Option<String>,
    /// The credential's plain-words line.
    pub summary: Option<String>,
    /// Still accepted by its server; `None` when that cannot be told without sending it elsewhere.
    pub valid: Option<bool>,
    pub revoked: bool,
    /// Asked to revoke, the server ends it only once the user confirms on this page of its own
    /// (Matrix next-gen auth), which the face opens; `revoked` stays false until then.
    pub confirm_url: Option<String>,
    /// Every kind it could be, by shape.
    pub candidates: Vec<String>,
}

// ---- shape helpers for providers ----

/// Only ASCII letters and digits (and `extra`), `len` characters or within `range`.
pub fn charset(t: &str, extra: &str) -> bool {
    !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
}

/// A JSON Web Token: three base64url parts, the first a JSON header.
pub fn is_jwt(t: &str) -> bool {
    let parts: Vec<&str> = t.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| !p.is_empty() && charset(p, "-_"))
        && jwt_part(parts[0]).is_some_and(|h| h.get("alg").is_some())
}

/// A base64url part of a JWT, decoded as JSON.
pub fn jwt_part(p: &str) -> Option<serde_json::Value> {
    serde_json::from_slice(&base64url(p)?).ok()
}

/// The claims (payload) of a JWT, without checking its signature.
pub fn jwt_claims(t: &str) -> Option<serde_json::Value> {
    let mut parts = t.split('.');
    let _ = parts.next()?;
    jwt_part(parts.next()?)
}

/// Decodes unpadded base64url (and standard base64) — enough for token parts, no dependency.
pub fn base64url(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes: Vec<u8> = s.bytes().filter(|b| *b != b'=').collect();
    if bytes.len() > 16 * 1024 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, b) in chunk.iter().enumerate() {
            acc |= val(*b)? << (18 - 6 * i);
        }
        let n = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => return None,
        };
        for i in 0..n {
            out.push((acc >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_name_the_kinds_they_fit() {
        let kinds = |t: &str| candidates(&Secret::new(t)).into_iter().map(|c| c.kind.as_str()).collect::<Vec<_>>();
        assert_eq!(kinds("syt_YWxpY2U_SzGbqXkOuyUvSBmvTqwN_1pV3bD"), vec!["matrix"]);
        assert_eq!(kinds("syr_YWxpY2U_SzGbqXkOuyUvSBmvTqwN_1pV3bD"), vec!["matrix"]);
        let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJhYmMiLCJpYXQiOjEsImV4cCI6Mn0.c2ln";
        assert_eq!(kinds(jwt), vec!["homeassistant"]);
        assert_eq!(kinds("abcd EFGH 1234 ijkl MNOP 5678"), vec!["wordpress"]);
        assert!(kinds("0123456789abcdef0123456789abcdef").contains(&"jupyterhub"));
        assert!(kinds("hello world").is_empty());
    }

    #[test]
    fn base64url_and_jwt_claims() {
        assert_eq!(base64url("YWxpY2U").unwrap(), b"alice");
        let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJhYmMiLCJpYXQiOjEsImV4cCI6Mn0.c2ln";
        assert!(is_jwt(jwt));
        assert_eq!(jwt_claims(jwt).unwrap()["iss"], "abc");
        assert!(!is_jwt("a.b.c"));
    }
}
