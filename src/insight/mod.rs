//! What only Keyward can offer, because it holds every account's credentials in one model: a
//! checkup across all accounts (`checkup`), what changed since the last look (`changes`),
//! "whose token is this?" (`identify`), the history of what was done through Keyward (`history`)
//! a report to hand over (`report`), and a watch that refreshes now and then and tells what
//! changed (`watcher`).
//!
//! These read only the model (`Listing`, `Credential`, `Account`) and what providers already
//! declare (plus each provider's introspection call for `identify`); `service::Keyward` wires
//! them to the store and the faces.

pub mod changes;
pub mod checkup;
pub mod history;
pub mod identify;
pub mod ops;
pub mod report;
pub mod watcher;
