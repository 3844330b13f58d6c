//! `…/ledgers/{ledger_id}/accounts`, by id, alias and external code.

use actix_web::HttpResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::LEDGER_SCOPE;
use super::body::{
    Check, StatusInput, create_metadata, double_option, patch_metadata, status_or_active,
};
use super::extract::{Body, Ids, TenantCtx};
use super::records::{count, entity_docs, get, list};
use super::reply;
use super::routes::{Access, Resource, Route};
use crate::domain::entities::{
    ACCOUNT_TYPE_EXTERNAL, Account, EXTERNAL_ALIAS_PREFIX, external_alias,
};
use crate::domain::metadata::Metadata;
use crate::error::{Error, Kind, Result};
use crate::ledger::accounts;
use crate::ledger::filters;

/// Longest account name, type and entity id, in characters.
pub const ACCOUNT_TEXT_LENGTH_MAX: usize = 256;
/// Longest alias and asset code, in characters.
pub const ALIAS_LENGTH_MAX: usize = 100;

pub(super) fn routes() -> Vec<Route> {
    let access = Access::Tenant(Resource::Accounts);
    vec![
        Route::new::<__path_get_by_alias>(access, |r| r.to(get_by_alias)),
        Route::new::<__path_get_external>(access, |r| r.to(get_external)),
        Route::new::<__path_count_accounts>(access, |r| r.to(count::<Account>))
            .filters(filters::ACCOUNT_FILTERS),
        Route::new::<__path_create>(access, |r| r.to(create)),
        Route::new::<__path_list_accounts>(access, |r| r.to(list::<Account>))
            .filters(filters::ACCOUNT_FILTERS),
        Route::new::<__path_get_account>(access, |r| r.to(get::<Account>)),
        Route::new::<__path_update>(access, |r| r.to(update)),
        Route::new::<__path_remove>(access, |r| r.to(remove)),
    ]
}

/// Creating an account also creates its `default` balance.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct CreateAccount {
    /// Default `"<assetCode> <type> account"`.
    #[schema(max_length = 256)]
    name: Option<String>,
    /// `^[a-zA-Z0-9@:_-]+$` (0096), unique in the ledger (0020); default the account id.
    /// Required for `type` `external`.
    #[schema(max_length = 100, pattern = "^[a-zA-Z0-9@:_-]+$", example = "@person1")]
    alias: Option<String>,
    /// Free text (e.g. `deposit`), or an account type's `keyValue` when the ledger validates
    /// account types.
    #[serde(rename = "type")]
    #[schema(value_type = String, required = true, max_length = 256, example = "deposit")]
    kind: Option<String>,
    /// An asset of the ledger (0034).
    #[schema(value_type = String, required = true, max_length = 100, example = "BRL")]
    asset_code: Option<String>,
    #[schema(format = Uuid)]
    parent_account_id: Option<String>,
    #[schema(format = Uuid)]
    portfolio_id: Option<String>,
    #[schema(format = Uuid)]
    segment_id: Option<String>,
    #[schema(max_length = 256)]
    entity_id: Option<String>,
    blocked: Option<bool>,
    status: Option<StatusInput>,
    #[schema(schema_with = crate::http::openapi::metadata_input)]
    metadata: Option<Metadata>,
}

/// Absent fields are kept; `null` clears `portfolioId`, `segmentId` and `entityId`;
/// `metadata` merges (a `null` value deletes its key, `null` clears).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct UpdateAccount {
    #[schema(max_length = 256)]
    name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Uuid)]
    portfolio_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Uuid)]
    segment_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 256)]
    entity_id: Option<Option<String>>,
    blocked: Option<bool>,
    status: Option<StatusInput>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = crate::http::openapi::metadata_patch)]
    metadata: Option<Option<Metadata>>,
}

entity_docs!(get "Accounts" "accounts" Account, get_account);
entity_docs!(list "Accounts" "accounts" Account, list_accounts);
entity_docs!(count "Accounts" "accounts" Account, count_accounts);

/// `^[a-zA-Z0-9@:_-]+$`
fn is_alias(alias: &str) -> bool {
    !alias.is_empty()
        && alias
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '@' | ':' | '_' | '-'))
}

/// Create an account (and its `default` balance).
#[utoipa::path(post, context_path = LEDGER_SCOPE, path = "/accounts", tag = "Accounts", request_body = CreateAccount,
    responses((status = 201, body = Account)))]
async fn create(ctx: TenantCtx, ids: Ids, body: Body) -> Result<HttpResponse> {
    let input: CreateAccount = body.parse()?;
    let mut check = Check::new();
    let asset_code = check.required_max("assetCode", input.asset_code.as_deref(), ALIAS_LENGTH_MAX);
    let kind = check.required_max("type", input.kind.as_deref(), ACCOUNT_TEXT_LENGTH_MAX);
    if kind == ACCOUNT_TYPE_EXTERNAL {
        check.required("alias", input.alias.as_deref());
    }
    check.max_len("alias", input.alias.as_deref(), ALIAS_LENGTH_MAX);
    check.max_lens(
        ACCOUNT_TEXT_LENGTH_MAX,
        [
            ("name", input.name.as_deref()),
            ("entityId", input.entity_id.as_deref()),
        ],
    );
    check.uuid("parentAccountId", input.parent_account_id.as_deref());
    check.uuid("portfolioId", input.portfolio_id.as_deref());
    check.uuid("segmentId", input.segment_id.as_deref());
    if input
        .alias
        .as_deref()
        .is_some_and(|a| a.contains(EXTERNAL_ALIAS_PREFIX))
    {
        check.invalid(
            "alias",
            format!("alias must not contain {EXTERNAL_ALIAS_PREFIX}"),
        );
    }
    check.status(input.status.as_ref());
    check.finish()?;
    if input.alias.as_deref().is_some_and(|a| !is_alias(a)) {
        return Err(Error::new(Kind::AccountAliasInvalid));
    }
    let new = accounts::NewAccount {
        name: input.name.filter(|n| !n.trim().is_empty()),
        alias: input.alias,
        kind,
        asset_code,
        parent_account_id: input.parent_account_id,
        portfolio_id: input.portfolio_id,
        segment_id: input.segment_id,
        entity_id: input.entity_id,
        blocked: input.blocked.unwrap_or(false),
        status: status_or_active(input.status),
        metadata: create_metadata(input.metadata)?,
    };
    reply::created(&accounts::create_account(&ctx.tenant, ids.ledger()?, new).await?)
}

/// Update an account (not an external one: 0074).
#[utoipa::path(patch, context_path = LEDGER_SCOPE, path = "/accounts/{id}", tag = "Accounts", request_body = UpdateAccount,
    responses((status = 200, body = Account)))]
async fn update(ctx: TenantCtx, ids: Ids, body: Body) -> Result<HttpResponse> {
    let input: UpdateAccount = body.parse()?;
    let mut check = Check::new();
    check.max_len("name", input.name.as_deref(), ACCOUNT_TEXT_LENGTH_MAX);
    check.max_len(
        "entityId",
        input.entity_id.clone().flatten().as_deref(),
        ACCOUNT_TEXT_LENGTH_MAX,
    );
    check.uuid(
        "portfolioId",
        input.portfolio_id.clone().flatten().as_deref(),
    );
    check.uuid("segmentId", input.segment_id.clone().flatten().as_deref());
    check.status(input.status.as_ref());
    check.finish()?;
    let patch = accounts::AccountPatch {
        name: input.name.filter(|n| !n.trim().is_empty()),
        portfolio_id: input.portfolio_id,
        segment_id: input.segment_id,
        entity_id: input.entity_id,
        blocked: input.blocked,
        status: input.status.map(StatusInput::into_status),
        metadata: patch_metadata(input.metadata)?,
    };
    reply::ok(&accounts::update_account(&ctx.tenant, ids.ledger()?, ids.get("id")?, patch).await?)
}

/// Delete an account (soft) and its balances, which must all be zero (0012).
#[utoipa::path(delete, context_path = LEDGER_SCOPE, path = "/accounts/{id}", tag = "Accounts", responses((status = 204)))]
async fn remove(ctx: TenantCtx, ids: Ids) -> Result<HttpResponse> {
    accounts::delete_account(&ctx.tenant, ids.ledger()?, ids.get("id")?).await?;
    reply::no_content()
}

/// Get an account by alias.
#[utoipa::path(get, context_path = LEDGER_SCOPE, path = "/accounts/alias/{alias}", tag = "Accounts",
    responses((status = 200, body = Account)))]
async fn get_by_alias(ctx: TenantCtx, ids: Ids) -> Result<HttpResponse> {
    reply::ok(&accounts::get_by_alias(&ctx.tenant, ids.ledger()?, ids.get("alias")?).await?)
}

/// Get the external account `@external/{code}` of an asset.
#[utoipa::path(get, context_path = LEDGER_SCOPE, path = "/accounts/external/{code}", tag = "Accounts",
    responses((status = 200, body = Account)))]
async fn get_external(ctx: TenantCtx, ids: Ids) -> Result<HttpResponse> {
    let alias = external_alias(&ids.get("code")?);
    reply::ok(&accounts::get_by_alias(&ctx.tenant, ids.ledger()?, alias).await?)
}
