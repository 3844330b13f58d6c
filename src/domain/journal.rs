//! Transactions and operations as the API returns them.

use rust_decimal::Decimal;
use serde::Serialize;

#[cfg(feature = "server")]
use super::entities::Status;
use super::entities::{Stamps, entity};
use super::ids::{AccountId, BalanceId, LedgerId, OperationId, OrganizationId, TransactionId};
use super::metadata::Metadata;
use super::money;

/// Declares a unit enum stored and sent as fixed text: `as_str`, `parse`, serde and the list
/// of its codes, all from one table.
macro_rules! coded {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $code:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vdoc])* $variant,)* }

        impl $name {
            /// Every code, in declaration order.
            pub const CODES: &'static [&'static str] = &[$($code,)*];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code,)* }
            }

            pub fn parse(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)* _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let code = String::deserialize(deserializer)?;
                Self::parse(&code).ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown {} {code:?}", stringify!($name)))
                })
            }
        }
    };
}

coded! {
    /// The status of a transaction, and of each of its operations.
    TransactionStatus {
        /// Answered by the call that creates an immediate transaction; never stored.
        Created => "CREATED",
        Approved => "APPROVED",
        Pending => "PENDING",
        Canceled => "CANCELED",
        /// Annotations: recorded without effect on balances.
        Noted => "NOTED",
    }
}

impl TransactionStatus {
    /// The status a create answers for a transaction it stored as `self`: an immediate
    /// transaction is stored APPROVED and answered CREATED, the others answer what they store.
    pub fn answered(self) -> Self {
        if self == Self::Approved {
            Self::Created
        } else {
            self
        }
    }
}

coded! {
    /// The `type` of an operation.
    OperationType {
        Debit => "DEBIT",
        Credit => "CREDIT",
        OnHold => "ON_HOLD",
        Release => "RELEASE",
        /// The movement of an account's internal `overdraft` balance that mirrors what one of
        /// its balances borrows (direction debit) or repays (direction credit).
        Overdraft => "OVERDRAFT",
        /// A leg of `POST …/transactions/block`: moves like DEBIT/CREDIT, by its direction.
        Block => "BLOCK",
        /// A leg of `POST …/transactions/unblock`: moves like DEBIT/CREDIT, by its direction.
        Unblock => "UNBLOCK",
    }
}

coded! {
    /// The `direction` of an operation, and of a balance: a credit-direction balance grows
    /// with CREDITs, a debit-direction one with DEBITs.
    Direction {
        Debit => "debit",
        Credit => "credit",
    }
}

/// The `status` of a transaction or operation: its code and the description stored with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalStatus {
    pub code: TransactionStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl JournalStatus {
    /// `status`, described by its own code.
    pub fn new(status: TransactionStatus) -> Self {
        Self {
            code: status,
            description: Some(status.as_str().to_owned()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub id: TransactionId,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub parent_transaction_id: Option<TransactionId>,
    pub description: Option<String>,
    #[cfg_attr(feature = "server", schema(value_type = Status))]
    pub status: JournalStatus,
    #[serde(serialize_with = "money::serialize")]
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub amount: Decimal,
    pub asset_code: String,
    pub chart_of_accounts_group_name: Option<String>,
    pub source: Vec<String>,
    pub destination: Vec<String>,
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub ledger_id: LedgerId,
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub organization_id: OrganizationId,
    pub route: Option<String>,
    /// The transaction route the transaction names (Midaz v3.8 `routeId`).
    pub route_id: Option<String>,
    #[serde(flatten)]
    pub stamps: Stamps,
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub metadata: Metadata,
    pub operations: Vec<Operation>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct OperationAmount {
    #[serde(serialize_with = "money::serialize")]
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub value: Decimal,
}

/// A balance as an operation saw it, before or after.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BalanceSnapshot {
    #[serde(serialize_with = "money::serialize")]
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub available: Decimal,
    #[serde(serialize_with = "money::serialize")]
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub on_hold: Decimal,
    pub version: i64,
    /// What an overdraft-enabled balance owes (Midaz v3.7+); 0 for every other balance.
    #[serde(serialize_with = "money::serialize")]
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub overdraft_used: Decimal,
}

impl BalanceSnapshot {
    /// What a balance holds before its first operation.
    pub const OPENED: BalanceSnapshot = BalanceSnapshot {
        available: Decimal::ZERO,
        on_hold: Decimal::ZERO,
        version: 1,
        overdraft_used: Decimal::ZERO,
    };
}

entity! {
    pub struct Operation {
        #[cfg_attr(feature = "server", schema(value_type = String))]
        pub id: OperationId,
        #[cfg_attr(feature = "server", schema(value_type = String))]
        pub transaction_id: TransactionId,
        pub description: Option<String>,
        #[serde(rename = "type")]
        #[cfg_attr(feature = "server", schema(value_type = String))]
        pub kind: OperationType,
        pub asset_code: String,
        pub chart_of_accounts: Option<String>,
        pub amount: OperationAmount,
        pub balance: BalanceSnapshot,
        pub balance_after: BalanceSnapshot,
        #[cfg_attr(feature = "server", schema(value_type = Status))]
        pub status: JournalStatus,
        #[cfg_attr(feature = "server", schema(value_type = String))]
        pub account_id: AccountId,
        pub account_alias: String,
        pub balance_key: String,
        #[cfg_attr(feature = "server", schema(value_type = String))]
        pub balance_id: BalanceId,
        #[cfg_attr(feature = "server", schema(value_type = String))]
        pub organization_id: OrganizationId,
        #[cfg_attr(feature = "server", schema(value_type = String))]
        pub ledger_id: LedgerId,
        pub route: Option<String>,
        pub balance_affected: bool,
        #[cfg_attr(feature = "server", schema(value_type = String))]
        pub direction: Direction,
        #[serde(flatten)]
        pub routing: OperationRouting,
        /// The direction of the balance when the operation moved it: what its snapshots
        /// mean. Not on the wire (Midaz does not send it); kept for the audit's replay.
        #[serde(skip)]
        #[cfg_attr(feature = "server", schema(ignore))]
        pub balance_direction: Direction,
    }
}

/// The operation route an operation's leg named and, when its ledger validates routes, the
/// rubric it was booked under (Midaz v3.8: `null` when absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OperationRouting {
    pub route_id: Option<String>,
    pub route_code: Option<String>,
    pub route_description: Option<String>,
}

entity! {
    /// A conversion rate between two asset codes (stored for clients; transactions never convert).
    pub struct AssetRate in ledger {
        pub external_id: String,
        pub from: String,
        pub to: String,
        #[serde(serialize_with = "money::serialize_number")]
        #[cfg_attr(feature = "server", schema(value_type = f64))]
        pub rate: Decimal,
        pub scale: i64,
        pub source: Option<String>,
        pub ttl: i64,
    }
}
