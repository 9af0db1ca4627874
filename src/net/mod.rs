//! The network mechanics every provider shares, and nothing kind-specific: `http`, the one HTTP
//! client (timeouts, redirect rules, body caps, rate-limit waits, errors without secrets), `tls`,
//! which certificates it trusts (the operating system's), and `web`, browser-like sessions for
//! providers that drive a server's web pages (one cookie jar, manual redirects, forms, tables read
//! by heading, the local times such pages show), and `loopback`, the one-shot listener that receives the
//! answer of a sign-in done in the user's browser.

pub mod http;
pub mod loopback;
pub mod tls;
pub mod web;
