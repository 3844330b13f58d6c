//! Where an entity lives: the scope every use case and query is called in.

use crate::error::{Error, Result};

/// Where an entity lives: at the root, in an organization, or in a ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parent {
    Root,
    Organization(String),
    Ledger {
        organization_id: String,
        ledger_id: String,
    },
}

impl Parent {
    /// The organization and ledger ids of a ledger-scoped parent.
    pub fn ledger_ids(&self) -> Result<(String, String)> {
        match self {
            Parent::Ledger {
                organization_id,
                ledger_id,
            } => Ok((organization_id.clone(), ledger_id.clone())),
            _ => Err(Error::internal(
                "a ledger-scoped use case called outside a ledger",
            )),
        }
    }
}
