//! `/v1/settings/metadata-indexes`: indexes on one metadata key of one entity of the caller's
//! tenant (Midaz v3.5+; scope resource `settings`).

use actix_web::HttpResponse;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::body::Check;
use super::extract::{Body, Ids, QueryPairs, TenantCtx};
use super::reply;
use super::routes::{Access, Resource, Route};
use crate::domain::metadata::{METADATA_KEY_LENGTH_MAX, MetadataIndex, is_index_key};
use crate::error::Result;
use crate::ledger::metadata_indexes::{self, NewMetadataIndex};

pub(super) fn routes() -> Vec<Route> {
    let access = Access::Tenant(Resource::Settings);
    vec![
        Route::new::<__path_list>(access, |r| r.to(list)),
        Route::new::<__path_create>(access, |r| r.to(create)),
        Route::new::<__path_delete>(access, |r| r.to(delete)),
    ]
}

/// The key to index and how.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct MetadataIndexInput {
    /// The metadata key, without the `metadata.` prefix: a letter, then letters, digits and `_`.
    #[schema(value_type = String, required = true, max_length = 100, pattern = "^[a-zA-Z][a-zA-Z0-9_]*$", example = "tier")]
    metadata_key: Option<String>,
    /// Refuse a second live entity with the same value of the key (409
    /// `DUPLICATE_METADATA_VALUE`). Default `false`.
    unique: Option<bool>,
    /// Index only the entities that have the key. Default `true`.
    sparse: Option<bool>,
}

/// Only the indexes of one entity.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct MetadataIndexQuery {
    /// organization, ledger, segment, account, portfolio, asset, account_type, transaction,
    /// operation, operation_route or transaction_route.
    entity_name: Option<String>,
}

/// Create an index on one metadata key of an entity.
#[utoipa::path(post, path = "/v1/settings/metadata-indexes/entities/{entity_name}", tag = "Metadata indexes",
    params(("entity_name" = String, Path, description = "organization, ledger, segment, account, portfolio, asset, account_type, transaction, operation, operation_route or transaction_route")),
    request_body = MetadataIndexInput,
    responses((status = 201, body = MetadataIndex)))]
async fn create(ctx: TenantCtx, ids: Ids, body: Body) -> Result<HttpResponse> {
    let input: MetadataIndexInput = body.parse()?;
    let mut check = Check::new();
    let key = check.required("metadataKey", input.metadata_key.as_deref());
    if key.chars().count() > METADATA_KEY_LENGTH_MAX {
        check.max_len("metadataKey", Some(key), METADATA_KEY_LENGTH_MAX);
    } else if !key.is_empty() && !is_index_key(key) {
        check.invalid(
            "metadataKey",
            "metadataKey must start with a letter and contain only alphanumeric characters and underscores".to_owned(),
        );
    }
    check.finish()?;
    let new = NewMetadataIndex {
        entity: ids.get("entity_name")?,
        key: key.to_owned(),
        unique: input.unique.unwrap_or(false),
        sparse: input.sparse.unwrap_or(true),
    };
    reply::created(&metadata_indexes::create(&ctx.tenant, new).await?)
}

/// List the tenant's metadata indexes (a JSON array, as Midaz answers).
#[utoipa::path(get, path = "/v1/settings/metadata-indexes", tag = "Metadata indexes",
    params(MetadataIndexQuery),
    responses((status = 200, body = Vec<MetadataIndex>)))]
async fn list(ctx: TenantCtx, query: QueryPairs) -> Result<HttpResponse> {
    let entity = query
        .pairs
        .iter()
        .rev()
        .find(|(name, value)| name == "entity_name" && !value.is_empty())
        .map(|(_, value)| value.clone());
    reply::ok(&metadata_indexes::list(&ctx.tenant, entity).await?)
}

/// Drop the index on one metadata key of an entity.
#[utoipa::path(delete, path = "/v1/settings/metadata-indexes/entities/{entity_name}/key/{index_key}", tag = "Metadata indexes",
    params(("entity_name" = String, Path), ("index_key" = String, Path, description = "The metadata key, e.g. `tier`")),
    responses((status = 204)))]
async fn delete(ctx: TenantCtx, ids: Ids) -> Result<HttpResponse> {
    metadata_indexes::delete(&ctx.tenant, ids.get("entity_name")?, ids.get("index_key")?).await?;
    reply::no_content()
}
