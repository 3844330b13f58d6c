//! ledgerlite: an embedded, multi-tenant, double-entry ledger serving the Midaz v3.8 REST
//! contract, one SQLite file per tenant.
//!
//! Layers: [`http`] parses and maps, [`ledger`] runs use cases, [`domain`] holds pure rules,
//! [`store`] owns SQL. [`Engine`] embeds the ledger in a program without HTTP.

pub mod admin;
pub mod auth;
pub mod cli;
pub mod config;
pub mod domain;
pub mod engine;
pub mod error;
pub mod http;
pub mod ledger;
pub mod startup;
pub mod store;
pub mod telemetry;

pub use engine::Engine;
