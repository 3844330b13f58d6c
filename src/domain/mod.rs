//! Pure rules: no actix, no rusqlite, no I/O.

pub mod audit;
pub mod codes;
pub mod entities;
pub mod ids;
pub mod journal;
pub mod metadata;
pub mod money;
pub mod query;
pub mod routing;
pub mod scope;
pub mod tenant;
pub mod time;
pub mod transaction;
