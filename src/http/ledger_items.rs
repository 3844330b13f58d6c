//! Ledger-scoped catalogue entities: assets, portfolios, segments and account types.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::LEDGER_SCOPE;
use super::body::{
    Check, StatusInput, create_metadata, double_option, patch_metadata, status_or_active,
};
use super::records::{Input, count, create, cursor_list, delete, entity_docs, get, list, update};
use super::routes::{Access, Resource, Route};
use crate::domain::codes::CURRENCY_CODES;
use crate::domain::entities::{
    AccountType, Asset, NewAccountType, NewAsset, NewPortfolio, NewSegment, Portfolio, Segment,
};
use crate::domain::metadata::Metadata;
use crate::error::{Error, Kind, Result};
use crate::ledger::filters;
use crate::ledger::onboarding::{AccountTypePatch, NamedPatch, PortfolioPatch};

/// Longest name of an asset, portfolio or segment, and longest portfolio entity id, in characters.
pub const NAME_LENGTH_MAX: usize = 256;
/// Longest asset code, in characters.
pub const ASSET_CODE_LENGTH_MAX: usize = 100;
/// Longest account type name, in characters.
pub const ACCOUNT_TYPE_NAME_LENGTH_MAX: usize = 100;
/// Longest account type description, in characters.
pub const ACCOUNT_TYPE_DESCRIPTION_LENGTH_MAX: usize = 500;
/// Longest account type key value, in characters.
pub const ACCOUNT_TYPE_KEY_LENGTH_MAX: usize = 50;
/// Asset types Midaz accepts.
pub const ASSET_TYPES: &[&str] = &["crypto", "currency", "commodity", "others"];

pub(super) fn routes() -> Vec<Route> {
    let assets = Access::Tenant(Resource::Assets);
    let portfolios = Access::Tenant(Resource::Portfolios);
    let segments = Access::Tenant(Resource::Segments);
    let account_types = Access::Tenant(Resource::AccountTypes);
    vec![
        Route::new::<__path_count_assets>(assets, |r| r.to(count::<Asset>))
            .filters(filters::ASSET_FILTERS),
        Route::new::<__path_create_asset>(assets, |r| r.to(create::<Asset, CreateAsset>)),
        Route::new::<__path_list_assets>(assets, |r| r.to(list::<Asset>))
            .filters(filters::ASSET_FILTERS),
        Route::new::<__path_get_asset>(assets, |r| r.to(get::<Asset>)),
        Route::new::<__path_update_asset>(assets, |r| r.to(update::<Asset, UpdateNamed>)),
        Route::new::<__path_delete_asset>(assets, |r| r.to(delete::<Asset>)),
        Route::new::<__path_count_portfolios>(portfolios, |r| r.to(count::<Portfolio>))
            .filters(filters::PORTFOLIO_FILTERS),
        Route::new::<__path_create_portfolio>(portfolios, |r| {
            r.to(create::<Portfolio, CreatePortfolio>)
        }),
        Route::new::<__path_list_portfolios>(portfolios, |r| r.to(list::<Portfolio>))
            .filters(filters::PORTFOLIO_FILTERS),
        Route::new::<__path_get_portfolio>(portfolios, |r| r.to(get::<Portfolio>)),
        Route::new::<__path_update_portfolio>(portfolios, |r| {
            r.to(update::<Portfolio, UpdatePortfolio>)
        }),
        Route::new::<__path_delete_portfolio>(portfolios, |r| r.to(delete::<Portfolio>)),
        Route::new::<__path_count_segments>(segments, |r| r.to(count::<Segment>))
            .filters(filters::SEGMENT_FILTERS),
        Route::new::<__path_create_segment>(segments, |r| r.to(create::<Segment, CreateSegment>)),
        Route::new::<__path_list_segments>(segments, |r| r.to(list::<Segment>))
            .filters(filters::SEGMENT_FILTERS),
        Route::new::<__path_get_segment>(segments, |r| r.to(get::<Segment>)),
        Route::new::<__path_update_segment>(segments, |r| r.to(update::<Segment, UpdateNamed>)),
        Route::new::<__path_delete_segment>(segments, |r| r.to(delete::<Segment>)),
        Route::new::<__path_count_account_types>(account_types, |r| r.to(count::<AccountType>))
            .filters(filters::ACCOUNT_TYPE_FILTERS),
        Route::new::<__path_create_account_type>(account_types, |r| {
            r.to(create::<AccountType, CreateAccountType>)
        }),
        Route::new::<__path_list_account_types>(account_types, |r| {
            r.to(cursor_list::<AccountType>)
        })
        .filters(filters::ACCOUNT_TYPE_FILTERS),
        Route::new::<__path_get_account_type>(account_types, |r| r.to(get::<AccountType>)),
        Route::new::<__path_update_account_type>(account_types, |r| {
            r.to(update::<AccountType, UpdateAccountType>)
        }),
        Route::new::<__path_delete_account_type>(account_types, |r| r.to(delete::<AccountType>)),
    ]
}

entity_docs!(get "Assets" "assets" Asset, get_asset);
entity_docs!(list "Assets" "assets" Asset, list_assets);
entity_docs!(count "Assets" "assets" Asset, count_assets);
entity_docs!(get "Portfolios" "portfolios" Portfolio, get_portfolio);
entity_docs!(list "Portfolios" "portfolios" Portfolio, list_portfolios);
entity_docs!(count "Portfolios" "portfolios" Portfolio, count_portfolios);
entity_docs!(delete "Portfolios" "portfolios" Portfolio, delete_portfolio);
entity_docs!(get "Segments" "segments" Segment, get_segment);
entity_docs!(list "Segments" "segments" Segment, list_segments);
entity_docs!(count "Segments" "segments" Segment, count_segments);
entity_docs!(delete "Segments" "segments" Segment, delete_segment);
entity_docs!(get "Account types" "account-types" AccountType, get_account_type);
entity_docs!(cursor_list "Account types" "account-types" AccountType, list_account_types);
entity_docs!(count "Account types" "account-types" AccountType, count_account_types);
entity_docs!(delete "Account types" "account-types" AccountType, delete_account_type);

/// Name, status and metadata: the PATCH body of ledgers, assets and segments. Absent fields are
/// kept; `metadata` merges (a `null` value deletes its key, `null` clears).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct UpdateNamed {
    #[schema(max_length = 256)]
    name: Option<String>,
    status: Option<StatusInput>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = crate::http::openapi::metadata_patch)]
    metadata: Option<Option<Metadata>>,
}

impl Input for UpdateNamed {
    type Command = NamedPatch;

    fn command(self) -> Result<NamedPatch> {
        let mut check = Check::new();
        check.max_len("name", self.name.as_deref(), NAME_LENGTH_MAX);
        check.status(self.status.as_ref());
        check.finish()?;
        Ok(NamedPatch {
            name: self.name.filter(|n| !n.trim().is_empty()),
            status: self.status.map(StatusInput::into_status),
            metadata: patch_metadata(self.metadata)?,
        })
    }
}

// ---- assets --------------------------------------------------------------------------------

/// Creating an asset also creates its external account `@external/<code>`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct CreateAsset {
    #[schema(value_type = String, required = true, max_length = 256)]
    name: Option<String>,
    /// `crypto`, `currency`, `commodity` or `others` (0040).
    #[serde(rename = "type")]
    #[schema(value_type = String, required = true, pattern = "^(crypto|currency|commodity|others)$", example = "currency")]
    kind: Option<String>,
    /// Upper-case letters (0033, 0004); ISO 4217 for currencies (0005).
    #[schema(value_type = String, required = true, max_length = 100, pattern = "^[A-Z]+$", example = "BRL")]
    code: Option<String>,
    status: Option<StatusInput>,
    #[schema(schema_with = crate::http::openapi::metadata_input)]
    metadata: Option<Metadata>,
}

/// Asset rules in Midaz's order: type (0040), code letters only (0033), upper case (0004),
/// ISO 4217 for currencies (0005).
fn check_asset(kind: &str, code: &str) -> Result<()> {
    if !ASSET_TYPES.contains(&kind) {
        return Err(Error::new(Kind::InvalidType));
    }
    if !code.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(Error::new(Kind::InvalidCodeFormat));
    }
    if code.chars().any(|c| c.is_ascii_lowercase()) {
        return Err(Error::new(Kind::CodeUppercaseRequirement));
    }
    if kind == "currency" && CURRENCY_CODES.binary_search(&code).is_err() {
        return Err(Error::new(Kind::CurrencyCodeStandardCompliance));
    }
    Ok(())
}

impl Input for CreateAsset {
    type Command = NewAsset;

    fn command(self) -> Result<NewAsset> {
        let mut check = Check::new();
        let name = check.required_max("name", self.name.as_deref(), NAME_LENGTH_MAX);
        let kind = check.required("type", self.kind.as_deref()).to_owned();
        let code = check.required_max("code", self.code.as_deref(), ASSET_CODE_LENGTH_MAX);
        check.status(self.status.as_ref());
        check.finish()?;
        check_asset(&kind, &code)?;
        Ok(NewAsset {
            name,
            kind,
            code,
            status: status_or_active(self.status),
            metadata: create_metadata(self.metadata)?,
        })
    }
}

entity_docs!(
    /// Create an asset (and its external account `@external/<code>`).
    create "Assets" "assets" Asset CreateAsset, create_asset
);

entity_docs!(
    /// Update an asset.
    update "Assets" "assets" Asset UpdateNamed, update_asset
);

/// Delete an asset (soft) and its external account.
#[utoipa::path(delete, context_path = LEDGER_SCOPE, path = "/assets/{id}", tag = "Assets", responses((status = 204)))]
#[allow(dead_code)]
fn delete_asset() {}

// ---- portfolios ----------------------------------------------------------------------------

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct CreatePortfolio {
    #[schema(value_type = String, required = true, max_length = 256)]
    name: Option<String>,
    #[schema(max_length = 256)]
    entity_id: Option<String>,
    status: Option<StatusInput>,
    #[schema(schema_with = crate::http::openapi::metadata_input)]
    metadata: Option<Metadata>,
}

/// Absent fields are kept; `metadata` merges (a `null` value deletes its key, `null` clears).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct UpdatePortfolio {
    #[schema(max_length = 256)]
    name: Option<String>,
    #[schema(max_length = 256)]
    entity_id: Option<String>,
    status: Option<StatusInput>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = crate::http::openapi::metadata_patch)]
    metadata: Option<Option<Metadata>>,
}

impl Input for CreatePortfolio {
    type Command = NewPortfolio;

    fn command(self) -> Result<NewPortfolio> {
        let mut check = Check::new();
        let name = check.required_max("name", self.name.as_deref(), NAME_LENGTH_MAX);
        check.max_len("entityId", self.entity_id.as_deref(), NAME_LENGTH_MAX);
        check.status(self.status.as_ref());
        check.finish()?;
        Ok(NewPortfolio {
            name,
            entity_id: self.entity_id,
            status: status_or_active(self.status),
            metadata: create_metadata(self.metadata)?,
        })
    }
}

impl Input for UpdatePortfolio {
    type Command = PortfolioPatch;

    fn command(self) -> Result<PortfolioPatch> {
        let mut check = Check::new();
        check.max_len("entityId", self.entity_id.as_deref(), NAME_LENGTH_MAX);
        check.finish()?;
        let named = UpdateNamed {
            name: self.name,
            status: self.status,
            metadata: self.metadata,
        };
        Ok(PortfolioPatch {
            named: named.command()?,
            entity_id: self.entity_id,
        })
    }
}

entity_docs!(
    /// Create a portfolio.
    create "Portfolios" "portfolios" Portfolio CreatePortfolio, create_portfolio
);

entity_docs!(
    /// Update a portfolio.
    update "Portfolios" "portfolios" Portfolio UpdatePortfolio, update_portfolio
);

// ---- segments ------------------------------------------------------------------------------

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct CreateSegment {
    #[schema(value_type = String, required = true, max_length = 256)]
    name: Option<String>,
    status: Option<StatusInput>,
    #[schema(schema_with = crate::http::openapi::metadata_input)]
    metadata: Option<Metadata>,
}

impl Input for CreateSegment {
    type Command = NewSegment;

    fn command(self) -> Result<NewSegment> {
        let mut check = Check::new();
        let name = check.required_max("name", self.name.as_deref(), NAME_LENGTH_MAX);
        check.status(self.status.as_ref());
        check.finish()?;
        Ok(NewSegment {
            name,
            status: status_or_active(self.status),
            metadata: create_metadata(self.metadata)?,
        })
    }
}

entity_docs!(
    /// Create a segment.
    create "Segments" "segments" Segment CreateSegment, create_segment
);

entity_docs!(
    /// Update a segment.
    update "Segments" "segments" Segment UpdateNamed, update_segment
);

// ---- account types -------------------------------------------------------------------------

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct CreateAccountType {
    #[schema(value_type = String, required = true, max_length = 100)]
    name: Option<String>,
    #[schema(max_length = 500)]
    description: Option<String>,
    /// Letters, digits, `_` and `-` (0120); unique in the ledger (0108).
    #[schema(value_type = String, required = true, max_length = 50, pattern = "^[a-zA-Z0-9_-]+$")]
    key_value: Option<String>,
    #[schema(schema_with = crate::http::openapi::metadata_input)]
    metadata: Option<Metadata>,
}

/// Absent fields are kept; `metadata` merges (a `null` value deletes its key, `null` clears).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct UpdateAccountType {
    #[schema(max_length = 100)]
    name: Option<String>,
    #[schema(max_length = 500)]
    description: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = crate::http::openapi::metadata_patch)]
    metadata: Option<Option<Metadata>>,
}

fn is_key_value(key: &str) -> bool {
    key.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// An account type's name and description: at most their lengths.
fn check_account_type_texts(check: &mut Check, name: Option<&str>, description: Option<&str>) {
    check.max_len("name", name, ACCOUNT_TYPE_NAME_LENGTH_MAX);
    check.max_len(
        "description",
        description,
        ACCOUNT_TYPE_DESCRIPTION_LENGTH_MAX,
    );
}

impl Input for CreateAccountType {
    type Command = NewAccountType;

    fn command(self) -> Result<NewAccountType> {
        let mut check = Check::new();
        let name = check.required_max("name", self.name.as_deref(), ACCOUNT_TYPE_NAME_LENGTH_MAX);
        let key_value = self.key_value.as_deref();
        let key_value = check.required_max("keyValue", key_value, ACCOUNT_TYPE_KEY_LENGTH_MAX);
        check_account_type_texts(&mut check, None, self.description.as_deref());
        check.finish()?;
        if !is_key_value(&key_value) {
            return Err(Error::new(Kind::InvalidAccountTypeKeyValue));
        }
        Ok(NewAccountType {
            name,
            description: self.description,
            key_value,
            metadata: create_metadata(self.metadata)?,
        })
    }
}

impl Input for UpdateAccountType {
    type Command = AccountTypePatch;

    fn command(self) -> Result<AccountTypePatch> {
        let mut check = Check::new();
        check_account_type_texts(
            &mut check,
            self.name.as_deref(),
            self.description.as_deref(),
        );
        check.finish()?;
        Ok(AccountTypePatch {
            name: self.name.filter(|n| !n.trim().is_empty()),
            description: self.description,
            metadata: patch_metadata(self.metadata)?,
        })
    }
}

entity_docs!(
    /// Create an account type.
    create "Account types" "account-types" AccountType CreateAccountType, create_account_type
);

entity_docs!(
    /// Update an account type.
    update "Account types" "account-types" AccountType UpdateAccountType, update_account_type
);
