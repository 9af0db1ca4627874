//! Keyward's core: see everyone who can get into your accounts, and throw them out.
//!
//! The faces (the `keyward` CLI in `main.rs`, the desktop app in `src-tauri/`) call
//! [`service::Keyward`]; it uses the store, the vault and the providers. Layers, top to bottom:
//! faces → `service`, `view`, `summary`, `clients` → `provider`, `model`, `store`, `vault` →
//! `providers::*`. Beside them, for every layer: `secret` (zeroising secrets), `text` (server
//! text made safe for a terminal), `process` (the hardening every face does first).

pub mod clients;
pub mod error;
pub mod insight;
pub mod mask;
pub mod model;
pub mod net;
pub mod process;
pub mod provider;
pub mod providers;
pub mod secret;
pub mod service;
pub mod settings;
pub mod store;
pub mod summary;
#[cfg(test)]
mod testing;
pub mod text;
pub mod vault;
pub mod view;

pub use error::{Error, Result};
pub use service::Keyward;
