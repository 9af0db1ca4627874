//! Which certificates Keyward trusts, in one place for the HTTP client and the websocket: the
//! operating system's own store (so a company or home CA the user installed works), read with
//! `rustls-native-certs`. On Linux that is the system bundle (`/etc/ssl/certs` and the like), and
//! `SSL_CERT_FILE` / `SSL_CERT_DIR` replace it when set; on macOS the keychain; on Windows the
//! system certificate store. Only when the system offers no certificate at all (a bare container)
//! does Keyward fall back to the Mozilla roots it carries, rather than reach nothing.
//!
//! A certificate problem becomes one plain reason ("its certificate is for another host"),
//! never the server's own words.

use std::sync::{Arc, OnceLock};

use rustls::{CertificateError, ClientConfig, RootCertStore};

/// The TLS configuration every connection uses, built once per process.
pub fn client_config() -> Arc<ClientConfig> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    CONFIG.get_or_init(|| Arc::new(build())).clone()
}

fn build() -> ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports the default TLS versions")
        .with_root_certificates(roots())
        .with_no_client_auth()
}

/// The operating system's trusted certificates, or the bundled Mozilla roots when it has none.
fn roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for cert in found.certs {
        // A certificate rustls cannot parse is skipped, as browsers skip it.
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        tracing::warn!("the system offers no trusted certificates; using the bundled Mozilla roots");
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    roots
}

/// The rustls error somewhere in an error's chain (io errors wrap it without exposing it as a
/// source, so those are opened too).
pub fn rustls_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        if let Some(inner) = err.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            if let Some(r) = inner.downcast_ref::<rustls::Error>() {
                return Some(r);
            }
            if let Some(r) = rustls_error(inner) {
                return Some(r);
            }
        }
        next = err.source();
    }
    None
}

/// A TLS failure in plain words.
pub fn reason(e: &rustls::Error) -> String {
    let what = match e {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                "its certificate is for another host name"
            }
            CertificateError::UnknownIssuer => "its certificate is not signed by an authority this computer trusts",
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => "its certificate has expired",
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => "its certificate is not valid yet",
            CertificateError::Revoked => "its certificate was revoked",
            _ => "its certificate is not valid",
        },
        _ => "the secure connection failed (TLS problem)",
    };
    what.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_problems_read_as_plain_words() {
        let wrong_host = rustls::Error::InvalidCertificate(CertificateError::NotValidForName);
        assert_eq!(reason(&wrong_host), "its certificate is for another host name");
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer));
        let found = rustls_error(&io).map(reason);
        assert_eq!(found.as_deref(), Some("its certificate is not signed by an authority this computer trusts"));
    }

    #[test]
    fn the_configuration_has_roots_to_trust() {
        // Whatever the machine offers, something is trusted (the system's or the bundled roots).
        assert!(!roots().is_empty());
    }
}
