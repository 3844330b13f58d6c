//! `…/ledgers/{ledger_id}/accounts`, by id, alias and external code.

use actix_web::HttpResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::LEDGER_SCOPE;
use super::body::{
    Check, StatusInput, create_metadata, double_option, patch_metadata, status_or_active,
};
use super::extract::{Ids, TenantCtx};
use super::records::{self, Input, count, delete, entity_docs, get, list};
use super::reply;
use super::routes::{Access, Resource, Route};
use crate::domain::entities::{
    ACCOUNT_TYPE_EXTERNAL, Account, EXTERNAL_ALIAS_PREFIX, NewAccount, external_alias,
};
use crate::domain::metadata::Metadata;
use crate::error::{Error, Kind, Result};
use crate::ledger::accounts::{self, AccountPatch};
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
        Route::new::<__path_create>(access, |r| r.to(records::create::<Account, CreateAccount>)),
        Route::new::<__path_list_accounts>(access, |r| r.to(list::<Account>))
            .filters(filters::ACCOUNT_FILTERS),
        Route::new::<__path_get_account>(access, |r| r.to(get::<Account>)),
        Route::new::<__path_update>(access, |r| r.to(records::update::<Account, UpdateAccount>)),
        Route::new::<__path_remove>(access, |r| r.to(delete::<Account>)),
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

impl Input for CreateAccount {
    type Command = NewAccount;

    fn command(self) -> Result<NewAccount> {
        let mut check = Check::new();
        let asset_code =
            check.required_max("assetCode", self.asset_code.as_deref(), ALIAS_LENGTH_MAX);
        let kind = check.required_max("type", self.kind.as_deref(), ACCOUNT_TEXT_LENGTH_MAX);
        if kind == ACCOUNT_TYPE_EXTERNAL {
            check.required("alias", self.alias.as_deref());
        }
        check.max_len("alias", self.alias.as_deref(), ALIAS_LENGTH_MAX);
        check.max_lens(
            ACCOUNT_TEXT_LENGTH_MAX,
            [
                ("name", self.name.as_deref()),
                ("entityId", self.entity_id.as_deref()),
            ],
        );
        check.uuid("parentAccountId", self.parent_account_id.as_deref());
        check.uuid("portfolioId", self.portfolio_id.as_deref());
        check.uuid("segmentId", self.segment_id.as_deref());
        if self
            .alias
            .as_deref()
            .is_some_and(|a| a.contains(EXTERNAL_ALIAS_PREFIX))
        {
            check.invalid(
                "alias",
                format!("alias must not contain {EXTERNAL_ALIAS_PREFIX}"),
            );
        }
        check.status(self.status.as_ref());
        check.finish()?;
        if self.alias.as_deref().is_some_and(|a| !is_alias(a)) {
            return Err(Error::new(Kind::AccountAliasInvalid));
        }
        Ok(NewAccount {
            name: self.name.filter(|n| !n.trim().is_empty()),
            alias: self.alias,
            kind,
            asset_code,
            parent_account_id: self.parent_account_id,
            portfolio_id: self.portfolio_id,
            segment_id: self.segment_id,
            entity_id: self.entity_id,
            blocked: self.blocked.unwrap_or(false),
            status: status_or_active(self.status),
            metadata: create_metadata(self.metadata)?,
        })
    }
}

impl Input for UpdateAccount {
    type Command = AccountPatch;

    fn command(self) -> Result<AccountPatch> {
        let mut check = Check::new();
        check.max_len("name", self.name.as_deref(), ACCOUNT_TEXT_LENGTH_MAX);
        check.max_len(
            "entityId",
            self.entity_id.clone().flatten().as_deref(),
            ACCOUNT_TEXT_LENGTH_MAX,
        );
        check.uuid(
            "portfolioId",
            self.portfolio_id.clone().flatten().as_deref(),
        );
        check.uuid("segmentId", self.segment_id.clone().flatten().as_deref());
        check.status(self.status.as_ref());
        check.finish()?;
        Ok(AccountPatch {
            name: self.name.filter(|n| !n.trim().is_empty()),
            portfolio_id: self.portfolio_id,
            segment_id: self.segment_id,
            entity_id: self.entity_id,
            blocked: self.blocked,
            status: self.status.map(StatusInput::into_status),
            metadata: patch_metadata(self.metadata)?,
        })
    }
}

entity_docs!(
    /// Create an account (and its `default` balance).
    create "Accounts" "accounts" Account CreateAccount, create
);

entity_docs!(
    /// Update an account (not an external one: 0074).
    update "Accounts" "accounts" Account UpdateAccount, update
);

/// Delete an account (soft) and its balances, which must all be zero (0012).
#[utoipa::path(delete, context_path = LEDGER_SCOPE, path = "/accounts/{id}", tag = "Accounts", responses((status = 204)))]
#[allow(dead_code)]
fn remove() {}

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
