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

use crate::domain::ids::{AccountId, LedgerId, OrganizationId};
use crate::error::{Error, Result};

/// Where an entity lives: at the root, in an organization, in a ledger, or under one account
/// of a ledger (its balances and operations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parent {
    Root,
    Organization(OrganizationId),
    Ledger {
        organization_id: OrganizationId,
        ledger_id: LedgerId,
    },
    Account {
        organization_id: OrganizationId,
        ledger_id: LedgerId,
        account_id: AccountId,
    },
}

impl Parent {
    /// The organization of any parent but the root.
    pub fn organization_id(&self) -> Result<&OrganizationId> {
        match self {
            Parent::Organization(organization_id)
            | Parent::Ledger {
                organization_id, ..
            }
            | Parent::Account {
                organization_id, ..
            } => Ok(organization_id),
            Parent::Root => Err(Error::internal(
                "an organization-scoped use case called at the root",
            )),
        }
    }

    /// The ledger of a ledger- or account-scoped parent.
    pub fn ledger_id(&self) -> Result<&LedgerId> {
        match self {
            Parent::Ledger { ledger_id, .. } | Parent::Account { ledger_id, .. } => Ok(ledger_id),
            _ => Err(Error::internal(
                "a ledger-scoped use case called outside a ledger",
            )),
        }
    }

    /// The account of an account-scoped parent.
    pub fn account_id(&self) -> Result<&AccountId> {
        match self {
            Parent::Account { account_id, .. } => Ok(account_id),
            _ => Err(Error::internal(
                "an account-scoped use case called outside an account",
            )),
        }
    }

    /// The organization and ledger ids of a ledger- or account-scoped parent, as the text the
    /// entities store.
    pub fn ledger_ids(&self) -> Result<(String, String)> {
        let (organization_id, ledger_id) = (self.organization_id()?, self.ledger_id()?);
        Ok((organization_id.to_string(), ledger_id.to_string()))
    }

    /// The ledger of a ledger- or account-scoped parent, as a parent.
    pub fn ledger(&self) -> Result<Parent> {
        Ok(Parent::Ledger {
            organization_id: self.organization_id()?.clone(),
            ledger_id: self.ledger_id()?.clone(),
        })
    }

    /// The account `account_id` of the ledger of this parent.
    pub fn account(&self, account_id: AccountId) -> Result<Parent> {
        Ok(Parent::Account {
            organization_id: self.organization_id()?.clone(),
            ledger_id: self.ledger_id()?.clone(),
            account_id,
        })
    }
}
