//! The onboarding entities as the API returns them (camelCase JSON, ids as UUIDv7 strings).

use serde::{Deserialize, Serialize};

use super::ids::{AccountId, BalanceId, LedgerId, OrganizationId};
use super::journal::Direction;
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
/// [`Stamps`] (flattened) and the metadata every stored entity carries. An entity declared
/// `in ledger` starts with the `id`, `organization_id` and `ledger_id` of a ledger's records,
/// one `in organization` with the `id` and `organization_id`, one `in tenant` with the `id`.
///
/// `created from NewX` also declares the command that creates it: the same fields (a field
/// written `name: String as Option<String>` has the second type in the command, the use case
/// resolving it) and the metadata. When every field of the command has the entity's type,
/// `X::created` builds the entity from the command, its keys and its stamps.
macro_rules! entity {
    ($(#[$meta:meta])* pub struct $name:ident in $place:ident $($rest:tt)*) => {
        entity! { @in $place $(#[$meta])* pub struct $name $($rest)* }
    };
    (@in ledger $($rest:tt)*) => { entity! { @keys [id, organization_id, ledger_id] $($rest)* } };
    (@in organization $($rest:tt)*) => { entity! { @keys [id, organization_id] $($rest)* } };
    (@in tenant $($rest:tt)*) => { entity! { @keys [id] $($rest)* } };
    (
        @keys [$($key:ident),*]
        $(#[$meta:meta])*
        pub struct $name:ident, created from $new:ident {
            $($(#[$field_meta:meta])* pub $field:ident: $ty:ty,)*
        }
    ) => {
        entity! {
            @command [$($key),*] $(#[$meta])* pub struct $name, created from $new {
                $($(#[$field_meta])* pub $field: $ty,)*
            }
        }

        impl $name {
            /// The entity `new` creates, under its keys, with `stamps`.
            pub fn created(
                ($($key,)*): ($(entity!(@key $key),)*),
                new: $new,
                stamps: $crate::domain::entities::Stamps,
            ) -> Self {
                Self {
                    $($key,)*
                    $($field: new.$field,)*
                    stamps,
                    metadata: new.metadata,
                }
            }
        }
    };
    (@keys $keys:tt $(#[$meta:meta])* pub struct $name:ident, created from $($rest:tt)*) => {
        entity! { @command $keys $(#[$meta])* pub struct $name, created from $($rest)* }
    };
    (
        @command [$($key:ident),*]
        $(#[$meta:meta])*
        pub struct $name:ident, created from $new:ident {
            $($(#[$field_meta:meta])* pub $field:ident: $ty:ty $(as $given:ty)?,)*
        }
    ) => {
        entity! {
            @keys [$($key),*] $(#[$meta])* pub struct $name {
                $($(#[$field_meta])* pub $field: $ty,)*
            }
        }

        #[doc = concat!("The command that creates a [`", stringify!($name), "`].")]
        #[derive(Debug, Clone)]
        pub struct $new {
            $(pub $field: entity!(@given $ty $(, $given)?),)*
            pub metadata: $crate::domain::metadata::Metadata,
        }
    };
    (@key $key:ident) => { String };
    (@given $ty:ty) => { $ty };
    (@given $ty:ty, $given:ty) => { $given };
    (
        @keys [$($key:ident),*]
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($(#[$field_meta:meta])* pub $field:ident: $ty:ty,)*
        }
    ) => {
        entity! {
            $(#[$meta])*
            pub struct $name {
                $(pub $key: String,)*
                $($(#[$field_meta])* pub $field: $ty,)*
            }
        }
    };
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

        impl $crate::domain::entities::Stamped for $name {
            fn stamps_mut(&mut self) -> &mut $crate::domain::entities::Stamps {
                &mut self.stamps
            }
        }
    };
}
pub(crate) use entity;

/// An entity with creation and update stamps: every one [`entity!`] declares.
pub trait Stamped {
    fn stamps_mut(&mut self) -> &mut Stamps;
}

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
    pub struct Organization in tenant, created from NewOrganization {
        pub parent_organization_id: Option<String>,
        pub legal_name: String,
        pub legal_document: String,
        pub doing_business_as: Option<String>,
        pub address: Address,
        pub status: Status,
    }
}

entity! {
    pub struct Ledger in organization, created from NewLedger {
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
    pub struct Asset in ledger, created from NewAsset {
        pub name: String,
        #[serde(rename = "type")]
        pub kind: String,
        pub code: String,
        pub status: Status,
    }
}

entity! {
    pub struct Portfolio in ledger, created from NewPortfolio {
        pub name: String,
        pub entity_id: Option<String>,
        pub status: Status,
    }
}

entity! {
    pub struct Segment in ledger, created from NewSegment {
        pub name: String,
        pub status: Status,
    }
}

entity! {
    pub struct AccountType in ledger, created from NewAccountType {
        pub name: String,
        pub description: Option<String>,
        pub key_value: String,
    }
}

entity! {
    pub struct Account in ledger, created from NewAccount {
        // The command may leave the name to its default `"<assetCode> <type> account"`.
        pub name: String as Option<String>,
        // The command may leave the alias to its default, the account id.
        pub alias: String as Option<String>,
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
        #[cfg_attr(feature = "server", schema(value_type = String))]
        pub direction: Direction,
        #[serde(serialize_with = "super::money::serialize")]
        #[cfg_attr(feature = "server", schema(value_type = String, example = "0"))]
        pub overdraft_used: rust_decimal::Decimal,
        pub settings: Option<BalanceSettings>,
    }
}

/// A balance's settings (Midaz v3.7+): its scope and overdraft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BalanceSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance_scope: Option<BalanceScope>,
    #[serde(default)]
    pub allow_overdraft: bool,
    #[serde(default)]
    pub overdraft_limit_enabled: bool,
    /// Present exactly when `overdraftLimitEnabled`; a decimal string on the wire.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "super::money::serialize_option"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>, example = "1000.00"))]
    pub overdraft_limit: Option<rust_decimal::Decimal>,
}

impl BalanceSettings {
    /// Midaz's rules for settings a client sends (0172): a limit exactly when
    /// `overdraftLimitEnabled`, greater than zero; never the `internal` scope, which only the
    /// ledger gives its own balances.
    pub fn check(&self) -> crate::error::Result<()> {
        use crate::error::{Error, Kind};
        let refuse = |why: &str| Err(Error::new(Kind::InvalidBalanceSettings).with_message(why));
        if self.balance_scope == Some(BalanceScope::Internal) {
            return refuse(
                "The balanceScope internal is reserved for balances the ledger manages.",
            );
        }
        match (self.overdraft_limit_enabled, self.overdraft_limit) {
            (false, Some(_)) => {
                refuse("overdraftLimit must be absent when overdraftLimitEnabled is false.")
            }
            (true, None) => {
                refuse("overdraftLimit is required when overdraftLimitEnabled is true.")
            }
            (true, Some(limit)) if limit <= rust_decimal::Decimal::ZERO => {
                refuse("overdraftLimit must be greater than zero.")
            }
            _ => Ok(()),
        }
    }
}

/// Who may move a balance: clients (`transactional`) or only the ledger itself (`internal`,
/// the account's `overdraft` balance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum BalanceScope {
    Transactional,
    Internal,
}

/// The key of an account's internal balance that mirrors what its balances owe.
pub const OVERDRAFT_BALANCE_KEY: &str = "overdraft";

impl Balance {
    /// A new, empty balance `key` of `account`, both flags on, without settings. An external
    /// account's balance is debit-direction (as Midaz v3.8 creates them: an inflow raises
    /// it), every other balance credit-direction.
    pub fn opened(id: BalanceId, account: &Account, key: &str, stamps: Stamps) -> Self {
        Self {
            id,
            organization_id: OrganizationId::new(account.organization_id.clone()),
            ledger_id: LedgerId::new(account.ledger_id.clone()),
            account_id: AccountId::new(account.id.clone()),
            alias: account.alias.clone(),
            key: key.to_owned(),
            asset_code: account.asset_code.clone(),
            available: rust_decimal::Decimal::ZERO,
            on_hold: rust_decimal::Decimal::ZERO,
            version: 1,
            account_type: account.kind.clone(),
            allow_sending: true,
            allow_receiving: true,
            direction: if account.is_external() {
                Direction::Debit
            } else {
                Direction::Credit
            },
            overdraft_used: rust_decimal::Decimal::ZERO,
            settings: None,
            stamps,
            metadata: Metadata::new(),
        }
    }

    /// The account's internal balance that mirrors what its overdraft-enabled balances owe:
    /// debit-direction, internal scope (Midaz v3.7's companion balance).
    pub fn overdraft_of(id: BalanceId, account: &Account, stamps: Stamps) -> Self {
        Self {
            direction: Direction::Debit,
            settings: Some(BalanceSettings {
                balance_scope: Some(BalanceScope::Internal),
                allow_overdraft: false,
                overdraft_limit_enabled: false,
                overdraft_limit: None,
            }),
            ..Self::opened(id, account, OVERDRAFT_BALANCE_KEY, stamps)
        }
    }

    /// Whether only the ledger may move it (0168, 0169, 0175).
    pub fn is_internal(&self) -> bool {
        self.settings
            .as_ref()
            .is_some_and(|s| s.balance_scope == Some(BalanceScope::Internal))
    }

    /// Its overdraft rule: `None` when it may not be overdrawn, else the limit (`None`:
    /// unlimited). Only a credit-direction balance can be overdrawn.
    pub fn overdraft_limit(&self) -> Option<Option<rust_decimal::Decimal>> {
        let settings = self.settings.as_ref()?;
        if !settings.allow_overdraft || self.direction != Direction::Credit {
            return None;
        }
        Some(
            settings
                .overdraft_limit
                .filter(|_| settings.overdraft_limit_enabled),
        )
    }
}
