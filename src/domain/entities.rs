//! The onboarding entities as the API returns them (camelCase JSON, ids as UUIDv7 strings).

use serde::{Deserialize, Serialize};

use super::ids::{AccountId, BalanceId, LedgerId, OrganizationId};
use super::metadata::Metadata;
use super::time::Timestamp;

/// Longest status code, in characters.
pub const STATUS_CODE_LENGTH_MAX: usize = 100;
/// Longest status description, in characters.
pub const STATUS_DESCRIPTION_LENGTH_MAX: usize = 256;
/// Status code given to entities created without one.
pub const STATUS_ACTIVE: &str = "ACTIVE";
/// Status code of the accounts created for an asset's `@external/<CODE>`.
pub const STATUS_EXTERNAL: &str = "external";
/// Account type of `@external/<CODE>` accounts.
pub const ACCOUNT_TYPE_EXTERNAL: &str = "external";
/// Alias prefix of external accounts.
pub const EXTERNAL_ALIAS_PREFIX: &str = "@external/";
/// Key of the balance every account gets on creation.
pub const DEFAULT_BALANCE_KEY: &str = "default";

/// Declares an entity as the API returns it: camelCase JSON of the given fields, then the
/// [`Stamps`] (flattened) and the metadata every stored entity carries.
macro_rules! entity {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($(#[$field_meta:meta])* pub $field:ident: $ty:ty,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize)]
        #[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            $($(#[$field_meta])* pub $field: $ty,)*
            #[serde(flatten)]
            pub stamps: Stamps,
            #[cfg_attr(feature = "server", schema(value_type = Object))]
            pub metadata: Metadata,
        }
    };
}
pub(crate) use entity;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Status {
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Status {
    pub fn active() -> Self {
        Self {
            code: STATUS_ACTIVE.to_owned(),
            description: None,
        }
    }

    /// The given status, or ACTIVE when it is missing or its code is empty.
    pub fn or_active(status: Option<Status>) -> Self {
        status
            .filter(|s| !s.code.is_empty())
            .unwrap_or_else(Self::active)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub zip_code: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub description: Option<String>,
}

/// Fields every stored entity carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Stamps {
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "server", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, format = DateTime))]
    pub deleted_at: Option<Timestamp>,
}

impl Stamps {
    pub fn new(now: Timestamp) -> Self {
        Self {
            created_at: now.clone(),
            updated_at: now,
            deleted_at: None,
        }
    }
}

entity! {
    pub struct Organization {
        pub id: String,
        pub parent_organization_id: Option<String>,
        pub legal_name: String,
        pub legal_document: String,
        pub doing_business_as: Option<String>,
        pub address: Address,
        pub status: Status,
    }
}

entity! {
    pub struct Ledger {
        pub id: String,
        pub organization_id: String,
        pub name: String,
        pub settings: LedgerSettings,
        pub status: Status,
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AccountingSettings {
    pub validate_account_type: bool,
    pub validate_routes: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct LedgerSettings {
    pub accounting: AccountingSettings,
}

entity! {
    pub struct Asset {
        pub id: String,
        pub organization_id: String,
        pub ledger_id: String,
        pub name: String,
        #[serde(rename = "type")]
        pub kind: String,
        pub code: String,
        pub status: Status,
    }
}

entity! {
    pub struct Portfolio {
        pub id: String,
        pub organization_id: String,
        pub ledger_id: String,
        pub name: String,
        pub entity_id: Option<String>,
        pub status: Status,
    }
}

entity! {
    pub struct Segment {
        pub id: String,
        pub organization_id: String,
        pub ledger_id: String,
        pub name: String,
        pub status: Status,
    }
}

entity! {
    pub struct AccountType {
        pub id: String,
        pub organization_id: String,
        pub ledger_id: String,
        pub name: String,
        pub description: Option<String>,
        pub key_value: String,
    }
}

entity! {
    pub struct Account {
        pub id: String,
        pub organization_id: String,
        pub ledger_id: String,
        pub name: String,
        pub alias: String,
        #[serde(rename = "type")]
        pub kind: String,
        pub asset_code: String,
        pub parent_account_id: Option<String>,
        pub portfolio_id: Option<String>,
        pub segment_id: Option<String>,
        pub entity_id: Option<String>,
        pub blocked: bool,
        pub status: Status,
    }
}

impl Account {
    pub fn is_external(&self) -> bool {
        self.kind == ACCOUNT_TYPE_EXTERNAL
    }
}

/// The alias of the external account of an asset code.
pub fn external_alias(asset_code: &str) -> String {
    format!("{EXTERNAL_ALIAS_PREFIX}{asset_code}")
}

entity! {
    /// One balance of an account: `available` and `onHold` amounts of its asset under `key`.
    pub struct Balance {
        #[cfg_attr(feature = "server", schema(value_type = String))]
        pub id: BalanceId,
        #[cfg_attr(feature = "server", schema(value_type = String))]
        pub organization_id: OrganizationId,
        #[cfg_attr(feature = "server", schema(value_type = String))]
        pub ledger_id: LedgerId,
        #[cfg_attr(feature = "server", schema(value_type = String))]
        pub account_id: AccountId,
        pub alias: String,
        pub key: String,
        pub asset_code: String,
        #[serde(serialize_with = "super::money::serialize")]
        #[cfg_attr(feature = "server", schema(value_type = String, example = "1500.5"))]
        pub available: rust_decimal::Decimal,
        #[serde(serialize_with = "super::money::serialize")]
        #[cfg_attr(feature = "server", schema(value_type = String, example = "0"))]
        pub on_hold: rust_decimal::Decimal,
        pub version: i64,
        pub account_type: String,
        pub allow_sending: bool,
        pub allow_receiving: bool,
        #[serde(flatten)]
        pub overdraft: NoOverdraft,
    }
}

/// The balance fields of Midaz's overdraft feature (v3.7+), which ledgerlite does not offer:
/// every balance is credit-direction, never overdrawn, with no settings. Serialized so that
/// clients reading those fields find them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoOverdraft;

impl Serialize for NoOverdraft {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("direction", "credit")?;
        map.serialize_entry("overdraftUsed", "0")?;
        map.serialize_entry("settings", &())?;
        map.end()
    }
}

#[cfg(feature = "server")]
impl utoipa::PartialSchema for NoOverdraft {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .property(
                "direction",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["credit"])),
            )
            .property(
                "overdraftUsed",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["0"])),
            )
            .property("settings", ObjectBuilder::new().schema_type(Type::Null))
            .required("direction")
            .required("overdraftUsed")
            .required("settings")
            .into()
    }
}

#[cfg(feature = "server")]
impl utoipa::ToSchema for NoOverdraft {}
