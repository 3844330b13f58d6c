//! Balances (by id, account, alias, external code; history) and account operations.

use actix_web::HttpResponse;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::LEDGER_SCOPE;
use super::body::Check;
use super::extract::{Body, Ids, QueryPairs, TenantCtx};
use super::openapi::{CursorPage, CursorQuery};
use super::records::cursor_list;
use super::reply;
use super::routes::{Access, Resource, Route};
use crate::domain::entities::{Balance, BalanceScope, BalanceSettings, external_alias};
use crate::domain::journal::{Direction, Operation};
use crate::domain::time::{DayEnd, format, parse_query_date};
use crate::error::{Error, Kind, Result};
use crate::ledger::filters;
use crate::ledger::{self, balances, transactions};
use rust_decimal::Decimal;

/// Longest balance key, in characters.
pub const BALANCE_KEY_LENGTH_MAX: usize = 100;
/// Balances returned by the alias and external-code lookups (not paginated).
pub const ALIAS_BALANCES_LIMIT: usize = 10;

pub(super) fn routes() -> Vec<Route> {
    let access = Access::Tenant(Resource::Balances);
    vec![
        Route::new::<__path_of_alias>(access, |r| r.to(of_alias)),
        Route::new::<__path_of_external>(access, |r| r.to(of_external)),
        Route::new::<__path_account_history>(access, |r| r.to(account_history)),
        Route::new::<__path_of_account>(access, |r| r.to(cursor_list::<Balance>)),
        Route::new::<__path_create>(access, |r| r.to(create)),
        Route::new::<__path_operations>(Access::Tenant(Resource::Operations), |r| {
            r.to(cursor_list::<Operation>)
        })
        .filters(filters::OPERATION_FILTERS),
        Route::new::<__path_operation>(Access::Tenant(Resource::Operations), |r| r.to(operation)),
        Route::new::<__path_list>(access, |r| r.to(cursor_list::<Balance>)),
        Route::new::<__path_history>(access, |r| r.to(history)),
        Route::new::<__path_get_one>(access, |r| r.to(get_one)),
        Route::new::<__path_update>(access, |r| r.to(update)),
        Route::new::<__path_remove>(access, |r| r.to(remove)),
    ]
}

/// List the ledger's balances.
#[utoipa::path(get, context_path = LEDGER_SCOPE, path = "/balances", tag = "Balances", params(CursorQuery),
    responses((status = 200, body = CursorPage<Balance>)))]
#[allow(dead_code)]
fn list() {}

/// List an account's balances.
#[utoipa::path(get, context_path = LEDGER_SCOPE, path = "/accounts/{account_id}/balances", tag = "Balances",
    params(CursorQuery), responses((status = 200, body = CursorPage<Balance>)))]
#[allow(dead_code)]
fn of_account() {}

/// `{items, limit}`: the balances of an alias, not paginated.
#[derive(Serialize, ToSchema)]
struct AliasBalances {
    items: Vec<Balance>,
    limit: usize,
}

fn alias_list(items: Vec<Balance>) -> Result<HttpResponse> {
    let items: Vec<Balance> = items.into_iter().take(ALIAS_BALANCES_LIMIT).collect();
    reply::ok(&AliasBalances {
        items,
        limit: ALIAS_BALANCES_LIMIT,
    })
}

/// The balances of the account with an alias (at most 10, not paginated).
#[utoipa::path(get, context_path = LEDGER_SCOPE, path = "/accounts/alias/{alias}/balances", tag = "Balances",
    responses((status = 200, body = AliasBalances)))]
async fn of_alias(ctx: TenantCtx, ids: Ids) -> Result<HttpResponse> {
    alias_list(balances::of_alias(&ctx.tenant, ids.ledger()?, ids.get("alias")?).await?)
}

/// The balances of the external account `@external/{code}` (at most 10).
#[utoipa::path(get, context_path = LEDGER_SCOPE, path = "/accounts/external/{code}/balances", tag = "Balances",
    responses((status = 200, body = AliasBalances)))]
async fn of_external(ctx: TenantCtx, ids: Ids) -> Result<HttpResponse> {
    let alias = external_alias(&ids.get("code")?);
    alias_list(balances::of_alias(&ctx.tenant, ids.ledger()?, alias).await?)
}

/// Get a balance.
#[utoipa::path(get, context_path = LEDGER_SCOPE, path = "/balances/{balance_id}", tag = "Balances",
    responses((status = 200, body = Balance)))]
async fn get_one(ctx: TenantCtx, ids: Ids) -> Result<HttpResponse> {
    reply::ok(&ledger::get::<Balance>(&ctx.tenant, ids.ledger()?, ids.get("balance_id")?).await?)
}

/// Absent flags are kept; settings, when given, replace the balance's settings whole (`null`
/// keeps them, as in Midaz).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct UpdateBalance {
    allow_sending: Option<bool>,
    allow_receiving: Option<bool>,
    settings: Option<SettingsInput>,
}

/// A balance's settings as a client sends them (Midaz v3.7+).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct SettingsInput {
    /// `transactional` (the only scope a client may give).
    balance_scope: Option<String>,
    allow_overdraft: Option<bool>,
    overdraft_limit_enabled: Option<bool>,
    /// A decimal string greater than zero; required exactly when `overdraftLimitEnabled`.
    overdraft_limit: Option<String>,
}

impl SettingsInput {
    /// The settings, or 0172 for a scope or limit Midaz refuses.
    fn into_settings(self) -> Result<BalanceSettings> {
        let invalid = |why: String| Error::new(Kind::InvalidBalanceSettings).with_message(why);
        let balance_scope = match self.balance_scope.as_deref() {
            None | Some("") => None,
            Some("transactional") => Some(BalanceScope::Transactional),
            Some("internal") => Some(BalanceScope::Internal),
            Some(other) => {
                return Err(invalid(format!(
                    "invalid balanceScope {other:?}: must be \"transactional\" or \"internal\"."
                )));
            }
        };
        let overdraft_limit = match self.overdraft_limit {
            None => None,
            Some(text) => Some(
                Decimal::from_str_exact(text.trim())
                    .map(|d| d.normalize())
                    .map_err(|_| {
                        invalid(format!("overdraftLimit {text:?} is not a valid decimal."))
                    })?,
            ),
        };
        let settings = BalanceSettings {
            balance_scope,
            allow_overdraft: self.allow_overdraft.unwrap_or(false),
            overdraft_limit_enabled: self.overdraft_limit_enabled.unwrap_or(false),
            overdraft_limit,
        };
        settings.check()?;
        Ok(settings)
    }
}

/// Update a balance's flags and settings.
#[utoipa::path(patch, context_path = LEDGER_SCOPE, path = "/balances/{balance_id}", tag = "Balances",
    request_body = UpdateBalance, responses((status = 200, body = Balance)))]
async fn update(ctx: TenantCtx, ids: Ids, body: Body) -> Result<HttpResponse> {
    let input: UpdateBalance = body.parse()?;
    let change = balances::Change {
        allow_sending: input.allow_sending,
        allow_receiving: input.allow_receiving,
        settings: input
            .settings
            .map(SettingsInput::into_settings)
            .transpose()?,
    };
    reply::ok(&balances::update(&ctx.tenant, ids.ledger()?, ids.balance()?, change).await?)
}

/// Delete a balance (soft); only when nothing is available or on hold (0093).
#[utoipa::path(delete, context_path = LEDGER_SCOPE, path = "/balances/{balance_id}", tag = "Balances",
    responses((status = 204)))]
async fn remove(ctx: TenantCtx, ids: Ids) -> Result<HttpResponse> {
    balances::delete(&ctx.tenant, ids.ledger()?, ids.balance()?).await?;
    reply::no_content()
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct CreateBalance {
    /// No whitespace; stored lower-case; unique per account (0123); not `overdraft` (0170).
    #[schema(value_type = String, required = true, max_length = 100, pattern = "^\\S+$")]
    key: Option<String>,
    allow_sending: Option<bool>,
    allow_receiving: Option<bool>,
    /// `credit` (the default) or `debit` (0171 otherwise).
    direction: Option<String>,
    settings: Option<SettingsInput>,
}

/// Create an additional balance of an account under a new key.
#[utoipa::path(post, context_path = LEDGER_SCOPE, path = "/accounts/{account_id}/balances", tag = "Balances",
    request_body = CreateBalance, responses((status = 201, body = Balance)))]
async fn create(ctx: TenantCtx, ids: Ids, body: Body) -> Result<HttpResponse> {
    let input: CreateBalance = body.parse()?;
    let mut check = Check::new();
    let key = check.required_max("key", input.key.as_deref(), BALANCE_KEY_LENGTH_MAX);
    if key.chars().any(char::is_whitespace) {
        check.invalid("key", "key must not contain whitespace".to_owned());
    }
    check.finish()?;
    let direction = match input.direction.as_deref() {
        None => Direction::Credit,
        Some(text) => Direction::parse(text).ok_or_else(|| {
            Error::new(Kind::InvalidBalanceDirection).with_message(format!(
                "The balance direction {text} is not supported. Allowed values are \"credit\" and \"debit\"."
            ))
        })?,
    };
    let new = balances::NewBalance {
        key: key.to_lowercase(),
        allow_sending: input.allow_sending.unwrap_or(true),
        allow_receiving: input.allow_receiving.unwrap_or(true),
        direction,
        settings: input
            .settings
            .map(SettingsInput::into_settings)
            .transpose()?,
    };
    reply::created(&balances::create(&ctx.tenant, ids.ledger()?, ids.account()?, new).await?)
}

/// The query of the history routes.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct HistoryQuery {
    /// `YYYY-MM-DD hh:mm:ss` or RFC 3339 (a date alone is 0131).
    #[param(example = "2026-01-31 23:59:59")]
    date: String,
}

/// A balance at a date: a [`Balance`] without the current flags `allowSending` and
/// `allowReceiving`, as [`history_view`] writes it.
struct HistoricBalance;

impl utoipa::PartialSchema for HistoricBalance {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::Schema;
        let mut schema = <Balance as utoipa::PartialSchema>::schema();
        let parts = match &mut schema {
            RefOr::T(Schema::AllOf(all)) => all.items.iter_mut().collect(),
            other => vec![other],
        };
        for part in parts {
            if let RefOr::T(Schema::Object(object)) = part {
                for flag in ["allowSending", "allowReceiving"] {
                    object.properties.remove(flag);
                    object.required.retain(|r| r != flag);
                }
            }
        }
        schema
    }
}

impl ToSchema for HistoricBalance {}

/// `{items}`: an account's balances at a date.
#[derive(ToSchema)]
#[allow(dead_code)]
struct HistoricBalances {
    items: Vec<HistoricBalance>,
}

/// The `date` query parameter: required (0142), `YYYY-MM-DD hh:mm:ss` or RFC 3339 (0131).
fn history_date(query: &QueryPairs) -> Result<String> {
    let raw = query
        .pairs
        .iter()
        .find(|(k, _)| k == "date")
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            Error::new(Kind::MissingRequiredQueryParameter)
                .with_message("The query parameter 'date' is required.")
        })?;
    if !raw.contains([' ', 'T']) {
        return Err(Error::new(Kind::InvalidDatetimeFormat));
    }
    parse_query_date(raw, DayEnd::End)
        .map(format)
        .ok_or_else(|| Error::new(Kind::InvalidDatetimeFormat))
}

/// A balance as the history endpoints show it: without `allowSending`/`allowReceiving`, which
/// are current flags, not part of the balance's past.
fn history_view(balance: Balance) -> Result<serde_json::Value> {
    let mut view = serde_json::to_value(balance)?;
    if let Some(fields) = view.as_object_mut() {
        fields.remove("allowSending");
        fields.remove("allowReceiving");
    }
    Ok(view)
}

/// A balance as it was at a date.
#[utoipa::path(get, context_path = LEDGER_SCOPE, path = "/balances/{balance_id}/history", tag = "Balances",
    params(HistoryQuery), responses((status = 200, body = HistoricBalance)))]
async fn history(ctx: TenantCtx, ids: Ids, query: QueryPairs) -> Result<HttpResponse> {
    let at = history_date(&query)?;
    reply::ok(&history_view(
        balances::history(&ctx.tenant, ids.ledger()?, ids.balance()?, at).await?,
    )?)
}

/// An account's balances as they were at a date.
#[utoipa::path(get, context_path = LEDGER_SCOPE, path = "/accounts/{account_id}/balances/history", tag = "Balances",
    params(HistoryQuery), responses((status = 200, body = HistoricBalances)))]
async fn account_history(ctx: TenantCtx, ids: Ids, query: QueryPairs) -> Result<HttpResponse> {
    let at = history_date(&query)?;
    let balances = balances::account_history(&ctx.tenant, ids.parent()?, at).await?;
    let items = balances
        .into_iter()
        .map(history_view)
        .collect::<Result<Vec<_>>>()?;
    reply::ok(&json!({"items": items}))
}

/// List an account's operations.
#[utoipa::path(get, context_path = LEDGER_SCOPE, path = "/accounts/{account_id}/operations", tag = "Operations",
    params(CursorQuery), responses((status = 200, body = CursorPage<Operation>)))]
#[allow(dead_code)]
fn operations() {}

/// Get one of an account's operations.
#[utoipa::path(get, context_path = LEDGER_SCOPE, path = "/accounts/{account_id}/operations/{operation_id}",
    tag = "Operations", responses((status = 200, body = Operation)))]
async fn operation(ctx: TenantCtx, ids: Ids) -> Result<HttpResponse> {
    let found = transactions::operation_of_account(&ctx.tenant, ids.parent()?, ids.operation()?);
    reply::ok(&found.await?)
}
