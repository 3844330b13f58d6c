//! ledgerlite: an embedded, multi-tenant, double-entry ledger serving the Midaz v3.8 REST
//! contract, one SQLite file per tenant.
//!
//! Layers: [`http`] parses and maps, [`ledger`] runs use cases, [`domain`] holds pure rules,
//! [`store`] owns SQL. [`Engine`] embeds the ledger in a program without HTTP.
//!
//! The `server` feature (on by default) adds the HTTP server, the command line, the admin
//! tools and token verification; without it the crate is the engine alone.

#[cfg(feature = "server")]
pub mod admin;
#[cfg(feature = "server")]
pub mod auth;
#[cfg(feature = "server")]
pub mod cli;
#[cfg(feature = "server")]
pub mod config;
pub mod domain;
pub mod engine;
pub mod error;
#[cfg(feature = "server")]
pub mod http;
pub mod ledger;
#[cfg(feature = "server")]
pub mod replication;
#[cfg(feature = "server")]
pub mod startup;
pub mod store;
#[cfg(feature = "server")]
pub mod telemetry;

pub use engine::Engine;
