//! Where an entity lives: the scope every use case and query is called in. Its ids are typed,
//! so a ledger id cannot stand where an organization id is expected:
//!
//! ```
//! use ledgerlite::domain::ids::{LedgerId, OrganizationId};
//! use ledgerlite::domain::scope::Parent;
//! let organization = OrganizationId::new("01900000-0000-7000-8000-000000000001");
//! let ledger = LedgerId::new("01900000-0000-7000-8000-000000000002");
//! let _ = Parent::Ledger { organization_id: organization, ledger_id: ledger };
//! ```
//!
//! ```compile_fail
//! use ledgerlite::domain::ids::{LedgerId, OrganizationId};
//! use ledgerlite::domain::scope::Parent;
//! let organization = OrganizationId::new("01900000-0000-7000-8000-000000000001");
//! let ledger = LedgerId::new("01900000-0000-7000-8000-000000000002");
//! let _ = Parent::Ledger { organization_id: ledger, ledger_id: organization };
//! ```

use crate::domain::ids::{LedgerId, OrganizationId};
use crate::error::{Error, Result};

/// Where an entity lives: at the root, in an organization, or in a ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parent {
    Root,
    Organization(OrganizationId),
    Ledger {
        organization_id: OrganizationId,
        ledger_id: LedgerId,
    },
}

impl Parent {
    /// The organization of an organization- or ledger-scoped parent.
    pub fn organization_id(&self) -> Result<&OrganizationId> {
        match self {
            Parent::Organization(organization_id)
            | Parent::Ledger {
                organization_id, ..
            } => Ok(organization_id),
            Parent::Root => Err(Error::internal(
                "an organization-scoped use case called at the root",
            )),
        }
    }

    /// The ledger of a ledger-scoped parent.
    pub fn ledger_id(&self) -> Result<&LedgerId> {
        match self {
            Parent::Ledger { ledger_id, .. } => Ok(ledger_id),
            _ => Err(Error::internal(
                "a ledger-scoped use case called outside a ledger",
            )),
        }
    }

    /// The organization and ledger ids of a ledger-scoped parent, as the text the entities
    /// store.
    pub fn ledger_ids(&self) -> Result<(String, String)> {
        match self {
            Parent::Ledger {
                organization_id,
                ledger_id,
            } => Ok((organization_id.to_string(), ledger_id.to_string())),
            _ => Err(Error::internal(
                "a ledger-scoped use case called outside a ledger",
            )),
        }
    }
}
