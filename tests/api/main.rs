//! The integration tests, compiled as one binary: each module drives the real server (in
//! process or as the built binary) or the library against real tenant files; `common` holds
//! the helpers they share.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod admin;
mod asset_rates;
mod batch;
mod cli;
mod client_flow;
mod concurrency;
mod connections;
mod crash;
mod direction;
mod faults;
mod fuzz;
mod invariants;
mod limits;
mod logs;
mod metadata_indexes;
mod metrics;
mod model;
mod moving;
mod onboarding;
mod openapi;
mod replication;
mod restart;
mod routes;
mod scale;
mod smoke;
mod startup;
mod tenancy;
mod transactions;
mod verify;
