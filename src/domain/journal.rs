//! Transactions and operations as the API returns them.

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::entities::{Stamps, Status};
use super::metadata::Metadata;
use super::money;

/// Transaction status codes.
pub mod status {
    /// Returned by the call that creates an immediate transaction.
    pub const CREATED: &str = "CREATED";
    pub const APPROVED: &str = "APPROVED";
    pub const PENDING: &str = "PENDING";
    pub const CANCELED: &str = "CANCELED";
    /// Annotations: recorded without effect on balances.
    pub const NOTED: &str = "NOTED";

    /// The status a create answers for a transaction it stored as `stored`: an immediate
    /// transaction is stored APPROVED and answered CREATED, the others answer what they store.
    pub fn answered(stored: &str) -> &str {
        if stored == APPROVED { CREATED } else { stored }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_transaction_id: Option<String>,
    pub description: Option<String>,
    pub status: Status,
    #[serde(serialize_with = "money::serialize")]
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub asset_code: String,
    pub chart_of_accounts_group_name: Option<String>,
    pub source: Vec<String>,
    pub destination: Vec<String>,
    pub ledger_id: String,
    pub organization_id: String,
    pub route: Option<String>,
    #[serde(flatten)]
    pub stamps: Stamps,
    #[schema(value_type = Object)]
    pub metadata: Metadata,
    pub operations: Vec<Operation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OperationAmount {
    #[serde(serialize_with = "money::serialize")]
    #[schema(value_type = String)]
    pub value: Decimal,
}

/// A balance as an operation saw it, before or after.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BalanceSnapshot {
    #[serde(serialize_with = "money::serialize")]
    #[schema(value_type = String)]
    pub available: Decimal,
    #[serde(serialize_with = "money::serialize")]
    #[schema(value_type = String)]
    pub on_hold: Decimal,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub id: String,
    pub transaction_id: String,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub asset_code: String,
    pub chart_of_accounts: Option<String>,
    pub amount: OperationAmount,
    pub balance: BalanceSnapshot,
    pub balance_after: BalanceSnapshot,
    pub status: Status,
    pub account_id: String,
    pub account_alias: String,
    pub balance_key: String,
    pub balance_id: String,
    pub organization_id: String,
    pub ledger_id: String,
    pub route: Option<String>,
    pub balance_affected: bool,
    pub direction: String,
    #[serde(flatten)]
    pub stamps: Stamps,
    #[schema(value_type = Object)]
    pub metadata: Metadata,
}

/// A conversion rate between two asset codes (stored for clients; transactions never convert).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetRate {
    pub id: String,
    pub organization_id: String,
    pub ledger_id: String,
    pub external_id: String,
    pub from: String,
    pub to: String,
    #[serde(serialize_with = "money::serialize_number")]
    #[schema(value_type = f64)]
    pub rate: Decimal,
    pub scale: i64,
    pub source: Option<String>,
    pub ttl: i64,
    #[serde(flatten)]
    pub stamps: Stamps,
    #[schema(value_type = Object)]
    pub metadata: Metadata,
}
