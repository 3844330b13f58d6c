//! `…/asset-rates`: PUT (upsert by pair), GET by external id, list from an asset code.

use actix_web::HttpResponse;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::LEDGER_SCOPE;
use super::body::{Check, create_metadata};
use super::extract::{Body, Ids, QueryPairs, TenantCtx};
use super::openapi::{CursorPage, CursorQuery};
use super::reply;
use super::routes::{Access, Resource, Route};
use crate::domain::journal::AssetRate;
use crate::domain::metadata::Metadata;
use crate::error::{Error, Kind, Result};
use crate::ledger::asset_rates::{self, NewAssetRate};
use crate::ledger::filters;

/// Longest asset code and rate source, in characters.
pub const ASSET_RATE_TEXT_LENGTH_MAX: usize = 100;

pub(super) fn routes() -> Vec<Route> {
    let access = Access::Tenant(Resource::AssetRates);
    vec![
        Route::new::<__path_upsert>(access, |r| r.to(upsert)),
        Route::new::<__path_list_from>(access, |r| r.to(list_from))
            .filters(filters::ASSET_RATE_FILTERS),
        Route::new::<__path_get_one>(access, |r| r.to(get_one)),
    ]
}

/// A rate keyed by its `from`/`to` pair: a second PUT of the pair replaces the first.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AssetRateInput {
    /// Upper-case letters (0033, 0004).
    #[schema(value_type = String, required = true, max_length = 100, pattern = "^[A-Z]+$", example = "USD")]
    from: Option<String>,
    #[schema(value_type = String, required = true, max_length = 100, pattern = "^[A-Z]+$", example = "BRL")]
    to: Option<String>,
    #[schema(value_type = f64, required = true)]
    rate: Option<Value>,
    #[schema(minimum = 0)]
    scale: Option<i64>,
    #[schema(max_length = 100)]
    source: Option<String>,
    /// Seconds.
    #[schema(minimum = 0)]
    ttl: Option<i64>,
    /// Default a new UUID.
    #[schema(format = Uuid)]
    external_id: Option<String>,
    #[schema(schema_with = crate::http::openapi::metadata_input)]
    metadata: Option<Metadata>,
}

fn is_code(code: &str) -> bool {
    !code.is_empty() && code.chars().all(|c| c.is_ascii_uppercase())
}

/// Create or replace the rate of an asset pair.
#[utoipa::path(put, context_path = LEDGER_SCOPE, path = "/asset-rates", tag = "Asset rates", request_body = AssetRateInput,
    responses((status = 201, body = AssetRate)))]
async fn upsert(ctx: TenantCtx, ids: Ids, body: Body) -> Result<HttpResponse> {
    let input: AssetRateInput = body.parse()?;
    let mut check = Check::new();
    let max = ASSET_RATE_TEXT_LENGTH_MAX;
    let from = check.required_max("from", input.from.as_deref(), max);
    let to = check.required_max("to", input.to.as_deref(), max);
    if input.rate.is_none() {
        check.required("rate", None);
    }
    check.max_len("source", input.source.as_deref(), max);
    check.uuid("externalId", input.external_id.as_deref());
    if input.scale.is_some_and(|s| s < 0) {
        check.invalid("scale", "scale must be zero or more".to_owned());
    }
    if input.ttl.is_some_and(|t| t < 0) {
        check.invalid("ttl", "ttl must be zero or more".to_owned());
    }
    check.finish()?;
    for code in [&from, &to] {
        if !code.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(Error::new(Kind::InvalidCodeFormat));
        }
        if !is_code(code) {
            return Err(Error::new(Kind::CodeUppercaseRequirement));
        }
    }
    let rate = match input.rate {
        Some(Value::Number(n)) => n
            .to_string()
            .parse()
            .map_err(|_| Error::new(Kind::InvalidRequestBody))?,
        _ => {
            return Err(Error::new(Kind::InvalidRequestBody)
                .with_message("invalid value for field 'rate': expected a number"));
        }
    };
    let new = NewAssetRate {
        from,
        to,
        rate,
        scale: input.scale.unwrap_or(0),
        source: input.source,
        ttl: input.ttl.unwrap_or(0),
        external_id: input.external_id.map(|id| id.to_lowercase()),
        metadata: create_metadata(input.metadata)?,
    };
    reply::created(&asset_rates::put(&ctx.tenant, ids.ledger()?, new).await?)
}

/// Get an asset rate by its external id.
#[utoipa::path(get, context_path = LEDGER_SCOPE, path = "/asset-rates/{external_id}", tag = "Asset rates",
    responses((status = 200, body = AssetRate)))]
async fn get_one(ctx: TenantCtx, ids: Ids) -> Result<HttpResponse> {
    reply::ok(&asset_rates::get(&ctx.tenant, ids.ledger()?, ids.get("external_id")?).await?)
}

/// List the rates from an asset code.
#[utoipa::path(get, context_path = LEDGER_SCOPE, path = "/asset-rates/from/{asset_code}", tag = "Asset rates",
    params(CursorQuery),
    responses((status = 200, body = CursorPage<AssetRate>)))]
async fn list_from(ctx: TenantCtx, ids: Ids, query: QueryPairs) -> Result<HttpResponse> {
    let list = query.list()?;
    let page = asset_rates::list_from(
        &ctx.tenant,
        ids.ledger()?,
        ids.get("asset_code")?,
        list.clone(),
    )
    .await?;
    reply::cursor_page(&page, &list)
}
