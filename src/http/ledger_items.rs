//! Ledger-scoped catalogue entities: assets, portfolios, segments and account types.

use actix_web::HttpResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::LEDGER_SCOPE;
use super::body::{
    Check, StatusInput, create_metadata, double_option, patch_metadata, status_or_active,
};
use super::extract::{Body, Ids, TenantCtx};
use super::records::{count, cursor_list, delete, entity_docs, get, list};
use super::reply;
use super::routes::{Access, Resource, Route};
use crate::domain::codes::CURRENCY_CODES;
use crate::domain::entities::{AccountType, Asset, Portfolio, Segment};
use crate::domain::metadata::Metadata;
use crate::error::{Error, Kind, Result};
use crate::ledger::filters;
use crate::ledger::{accounts, onboarding};

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
        Route::new::<__path_create_asset>(assets, |r| r.to(create_asset)),
        Route::new::<__path_list_assets>(assets, |r| r.to(list::<Asset>))
            .filters(filters::ASSET_FILTERS),
        Route::new::<__path_get_asset>(assets, |r| r.to(get::<Asset>)),
        Route::new::<__path_update_asset>(assets, |r| r.to(update_named::<Asset>)),
        Route::new::<__path_delete_asset>(assets, |r| r.to(delete_asset)),
        Route::new::<__path_count_portfolios>(portfolios, |r| r.to(count::<Portfolio>))
            .filters(filters::PORTFOLIO_FILTERS),
        Route::new::<__path_create_portfolio>(portfolios, |r| r.to(create_portfolio)),
        Route::new::<__path_list_portfolios>(portfolios, |r| r.to(list::<Portfolio>))
            .filters(filters::PORTFOLIO_FILTERS),
        Route::new::<__path_get_portfolio>(portfolios, |r| r.to(get::<Portfolio>)),
        Route::new::<__path_update_portfolio>(portfolios, |r| r.to(update_portfolio)),
        Route::new::<__path_delete_portfolio>(portfolios, |r| r.to(delete::<Portfolio>)),
        Route::new::<__path_count_segments>(segments, |r| r.to(count::<Segment>))
            .filters(filters::SEGMENT_FILTERS),
        Route::new::<__path_create_segment>(segments, |r| r.to(create_segment)),
        Route::new::<__path_list_segments>(segments, |r| r.to(list::<Segment>))
            .filters(filters::SEGMENT_FILTERS),
        Route::new::<__path_get_segment>(segments, |r| r.to(get::<Segment>)),
        Route::new::<__path_update_segment>(segments, |r| r.to(update_named::<Segment>)),
        Route::new::<__path_delete_segment>(segments, |r| r.to(delete::<Segment>)),
        Route::new::<__path_count_account_types>(account_types, |r| r.to(count::<AccountType>))
            .filters(filters::ACCOUNT_TYPE_FILTERS),
        Route::new::<__path_create_account_type>(account_types, |r| r.to(create_account_type)),
        Route::new::<__path_list_account_types>(account_types, |r| {
            r.to(cursor_list::<AccountType>)
        })
        .filters(filters::ACCOUNT_TYPE_FILTERS),
        Route::new::<__path_get_account_type>(account_types, |r| r.to(get::<AccountType>)),
        Route::new::<__path_update_account_type>(account_types, |r| r.to(update_account_type)),
        Route::new::<__path_delete_account_type>(account_types, |r| r.to(delete::<AccountType>)),
    ]
}

/// Rename, or change the status or metadata of, an asset or a segment.
async fn update_named<E: onboarding::Named + Serialize>(
    ctx: TenantCtx,
    ids: Ids,
    body: Body,
) -> Result<HttpResponse> {
    let patch = body.parse::<UpdateNamed>()?.into_patch()?;
    reply::ok(
        &onboarding::update_named::<E>(&ctx.tenant, ids.ledger()?, ids.get("id")?, patch).await?,
    )
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

/// Name, status and metadata: the PATCH body of assets and segments. Absent fields are kept;
/// `metadata` merges (a `null` value deletes its key, `null` clears).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct UpdateNamed {
    #[schema(max_length = 256)]
    name: Option<String>,
    status: Option<StatusInput>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = crate::http::openapi::metadata_patch)]
    metadata: Option<Option<Metadata>>,
}

impl UpdateNamed {
    fn into_patch(self) -> Result<onboarding::NamedPatch> {
        let mut check = Check::new();
        check.max_len("name", self.name.as_deref(), NAME_LENGTH_MAX);
        check.status(self.status.as_ref());
        check.finish()?;
        Ok(onboarding::NamedPatch {
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

/// Create an asset (and its external account `@external/<code>`).
#[utoipa::path(post, context_path = LEDGER_SCOPE, path = "/assets", tag = "Assets", request_body = CreateAsset,
    responses((status = 201, body = Asset)))]
async fn create_asset(ctx: TenantCtx, ids: Ids, body: Body) -> Result<HttpResponse> {
    let input: CreateAsset = body.parse()?;
    let mut check = Check::new();
    let name = check.required_max("name", input.name.as_deref(), NAME_LENGTH_MAX);
    let kind = check.required("type", input.kind.as_deref()).to_owned();
    let code = check.required_max("code", input.code.as_deref(), ASSET_CODE_LENGTH_MAX);
    check.status(input.status.as_ref());
    check.finish()?;
    check_asset(&kind, &code)?;
    let new = onboarding::NewAsset {
        name,
        kind,
        code,
        status: status_or_active(input.status),
        metadata: create_metadata(input.metadata)?,
    };
    reply::created(&onboarding::create_asset(&ctx.tenant, ids.ledger()?, new).await?)
}

/// Update an asset.
#[utoipa::path(patch, context_path = LEDGER_SCOPE, path = "/assets/{id}", tag = "Assets", request_body = UpdateNamed,
    responses((status = 200, body = Asset)))]
#[allow(dead_code)]
fn update_asset() {}

/// Delete an asset (soft) and its external account.
#[utoipa::path(delete, context_path = LEDGER_SCOPE, path = "/assets/{id}", tag = "Assets", responses((status = 204)))]
async fn delete_asset(ctx: TenantCtx, ids: Ids) -> Result<HttpResponse> {
    accounts::delete_asset(&ctx.tenant, ids.ledger()?, ids.get("id")?).await?;
    reply::no_content()
}

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

/// Create a portfolio.
#[utoipa::path(post, context_path = LEDGER_SCOPE, path = "/portfolios", tag = "Portfolios", request_body = CreatePortfolio,
    responses((status = 201, body = Portfolio)))]
async fn create_portfolio(ctx: TenantCtx, ids: Ids, body: Body) -> Result<HttpResponse> {
    let input: CreatePortfolio = body.parse()?;
    let mut check = Check::new();
    let name = check.required_max("name", input.name.as_deref(), NAME_LENGTH_MAX);
    check.max_len("entityId", input.entity_id.as_deref(), NAME_LENGTH_MAX);
    check.status(input.status.as_ref());
    check.finish()?;
    let new = onboarding::NewPortfolio {
        name,
        entity_id: input.entity_id,
        status: status_or_active(input.status),
        metadata: create_metadata(input.metadata)?,
    };
    reply::created(&onboarding::create_portfolio(&ctx.tenant, ids.ledger()?, new).await?)
}

/// Update a portfolio.
#[utoipa::path(patch, context_path = LEDGER_SCOPE, path = "/portfolios/{id}", tag = "Portfolios",
    request_body = UpdatePortfolio, responses((status = 200, body = Portfolio)))]
async fn update_portfolio(ctx: TenantCtx, ids: Ids, body: Body) -> Result<HttpResponse> {
    let input: UpdatePortfolio = body.parse()?;
    let mut check = Check::new();
    check.max_len("entityId", input.entity_id.as_deref(), NAME_LENGTH_MAX);
    check.finish()?;
    let named = UpdateNamed {
        name: input.name,
        status: input.status,
        metadata: input.metadata,
    }
    .into_patch()?;
    let patch = onboarding::PortfolioPatch {
        named,
        entity_id: input.entity_id,
    };
    reply::ok(
        &onboarding::update_portfolio(&ctx.tenant, ids.ledger()?, ids.get("id")?, patch).await?,
    )
}

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

/// Create a segment.
#[utoipa::path(post, context_path = LEDGER_SCOPE, path = "/segments", tag = "Segments", request_body = CreateSegment,
    responses((status = 201, body = Segment)))]
async fn create_segment(ctx: TenantCtx, ids: Ids, body: Body) -> Result<HttpResponse> {
    let input: CreateSegment = body.parse()?;
    let mut check = Check::new();
    let name = check.required_max("name", input.name.as_deref(), NAME_LENGTH_MAX);
    check.status(input.status.as_ref());
    check.finish()?;
    let new = onboarding::NewSegment {
        name,
        status: status_or_active(input.status),
        metadata: create_metadata(input.metadata)?,
    };
    reply::created(&onboarding::create_segment(&ctx.tenant, ids.ledger()?, new).await?)
}

/// Update a segment.
#[utoipa::path(patch, context_path = LEDGER_SCOPE, path = "/segments/{id}", tag = "Segments", request_body = UpdateNamed,
    responses((status = 200, body = Segment)))]
#[allow(dead_code)]
fn update_segment() {}

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

/// Create an account type.
#[utoipa::path(post, context_path = LEDGER_SCOPE, path = "/account-types", tag = "Account types",
    request_body = CreateAccountType, responses((status = 201, body = AccountType)))]
async fn create_account_type(ctx: TenantCtx, ids: Ids, body: Body) -> Result<HttpResponse> {
    let input: CreateAccountType = body.parse()?;
    let mut check = Check::new();
    let name = check.required_max("name", input.name.as_deref(), ACCOUNT_TYPE_NAME_LENGTH_MAX);
    let key_value = input.key_value.as_deref();
    let key_value = check.required_max("keyValue", key_value, ACCOUNT_TYPE_KEY_LENGTH_MAX);
    let description = input.description.as_deref();
    check.max_len(
        "description",
        description,
        ACCOUNT_TYPE_DESCRIPTION_LENGTH_MAX,
    );
    check.finish()?;
    if !is_key_value(&key_value) {
        return Err(Error::new(Kind::InvalidAccountTypeKeyValue));
    }
    let new = onboarding::NewAccountType {
        name,
        description: input.description,
        key_value,
        metadata: create_metadata(input.metadata)?,
    };
    reply::created(&onboarding::create_account_type(&ctx.tenant, ids.ledger()?, new).await?)
}

/// Update an account type.
#[utoipa::path(patch, context_path = LEDGER_SCOPE, path = "/account-types/{id}", tag = "Account types",
    request_body = UpdateAccountType, responses((status = 200, body = AccountType)))]
async fn update_account_type(ctx: TenantCtx, ids: Ids, body: Body) -> Result<HttpResponse> {
    let input: UpdateAccountType = body.parse()?;
    let mut check = Check::new();
    check.max_len("name", input.name.as_deref(), ACCOUNT_TYPE_NAME_LENGTH_MAX);
    let description = input.description.as_deref();
    check.max_len(
        "description",
        description,
        ACCOUNT_TYPE_DESCRIPTION_LENGTH_MAX,
    );
    check.finish()?;
    let patch = onboarding::AccountTypePatch {
        name: input.name.filter(|n| !n.trim().is_empty()),
        description: input.description,
        metadata: patch_metadata(input.metadata)?,
    };
    reply::ok(
        &onboarding::update_account_type(&ctx.tenant, ids.ledger()?, ids.get("id")?, patch).await?,
    )
}
