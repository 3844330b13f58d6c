//! The handlers every stored record of a ledger shares: get, list (by page or by cursor),
//! count and delete. A record's module routes to them with its type
//! (`get::<Portfolio>`) and documents each route with [`entity_docs!`]. Every entity is created
//! and updated by [`create`] and [`update`], with its body type (`create::<Asset, CreateAsset>`).

use actix_web::HttpResponse;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::extract::{Body, Ids, QueryPairs, TenantCtx};
use super::reply;
use crate::error::Result;
use crate::ledger;

/// The OpenAPI operations of the generic handlers ([`get`], [`list`], [`cursor_list`],
/// [`count`], [`delete`], [`create`], [`update`]), one doc-only function per entity and route.
/// A get, update or delete names its path parameter when it is not `id`; a create or update
/// names its body and gives its summary as a doc comment, and is in the ledger scope unless it
/// names another (`create under "/v1", …`).
macro_rules! entity_docs {
    ($(#[$doc:meta])+ create under $scope:literal, $($rest:tt)*) => {
        entity_docs!(@create $scope; $(#[$doc])+ $($rest)*);
    };
    ($(#[$doc:meta])+ update under $scope:literal, $($rest:tt)*) => {
        entity_docs!(@update $scope; $(#[$doc])+ $($rest)*);
    };
    ($(#[$doc:meta])+ create $($rest:tt)*) => {
        entity_docs!(@create crate::http::LEDGER_SCOPE; $(#[$doc])+ $($rest)*);
    };
    ($(#[$doc:meta])+ update $($rest:tt)*) => {
        entity_docs!(@update crate::http::LEDGER_SCOPE; $(#[$doc])+ $($rest)*);
    };
    (@create $scope:expr; $(#[$doc:meta])+ $tag:literal $path:literal $entity:ident $body:ident,
        $name:ident) => {
        #[utoipa::path(post, context_path = $scope, path = concat!("/", $path),
            tag = $tag, request_body = $body, responses((status = 201, body = $entity)))]
        $(#[$doc])+
        #[allow(dead_code)]
        pub(super) fn $name() {}
    };
    (@update $scope:expr; $(#[$doc:meta])+ $tag:literal $path:literal $entity:ident $body:ident,
        $name:ident) => {
        entity_docs!(@update $scope; $(#[$doc])+ $tag $path $entity $body, $name, "id");
    };
    (@update $scope:expr; $(#[$doc:meta])+ $tag:literal $path:literal $entity:ident $body:ident,
        $name:ident, $param:literal) => {
        #[utoipa::path(patch, context_path = $scope, path = concat!("/", $path, "/{", $param, "}"),
            tag = $tag, request_body = $body, responses((status = 200, body = $entity)))]
        $(#[$doc])+
        #[allow(dead_code)]
        pub(super) fn $name() {}
    };
    (get $tag:literal $path:literal $entity:ident, $name:ident) => {
        entity_docs!(get $tag $path $entity, $name, "id");
    };
    (get $tag:literal $path:literal $entity:ident, $name:ident, $param:literal) => {
        #[utoipa::path(get, context_path = crate::http::LEDGER_SCOPE,
            path = concat!("/", $path, "/{", $param, "}"),
            tag = $tag, summary = concat!("Get one of the ledger's ", $path, " by id."),
            responses((status = 200, body = $entity)))]
        #[allow(dead_code)]
        pub(super) fn $name() {}
    };
    (list $tag:literal $path:literal $entity:ident, $name:ident) => {
        #[utoipa::path(get, context_path = crate::http::LEDGER_SCOPE, path = concat!("/", $path), tag = $tag,
            summary = concat!("List the ledger's ", $path, "."), params(crate::http::openapi::PageQuery),
            responses((status = 200, body = crate::http::openapi::Page<$entity>)))]
        #[allow(dead_code)]
        pub(super) fn $name() {}
    };
    (cursor_list $tag:literal $path:literal $entity:ident, $name:ident) => {
        #[utoipa::path(get, context_path = crate::http::LEDGER_SCOPE, path = concat!("/", $path), tag = $tag,
            summary = concat!("List the ledger's ", $path, " (cursor; `metadata.<key>=` filters)."),
            params(crate::http::openapi::CursorQuery),
            responses((status = 200, body = crate::http::openapi::CursorPage<$entity>)))]
        #[allow(dead_code)]
        pub(super) fn $name() {}
    };
    (count $tag:literal $path:literal $entity:ident, $name:ident) => {
        #[utoipa::path(head, context_path = crate::http::LEDGER_SCOPE, path = concat!("/", $path, "/metrics/count"),
            tag = $tag, summary = concat!("Count the ledger's ", $path, "."),
            responses((status = 204, headers(("X-Total-Count" = i64)))))]
        #[allow(dead_code)]
        pub(super) fn $name() {}
    };
    (delete $tag:literal $path:literal $entity:ident, $name:ident) => {
        entity_docs!(delete $tag $path $entity, $name, "id");
    };
    (delete $tag:literal $path:literal $entity:ident, $name:ident, $param:literal) => {
        #[utoipa::path(delete, context_path = crate::http::LEDGER_SCOPE,
            path = concat!("/", $path, "/{", $param, "}"),
            tag = $tag, summary = concat!("Delete one of the ledger's ", $path, " (soft)."),
            responses((status = 204)))]
        #[allow(dead_code)]
        pub(super) fn $name() {}
    };
}
pub(super) use entity_docs;

pub(super) async fn get<E: ledger::Record + Serialize>(
    ctx: TenantCtx,
    ids: Ids,
) -> Result<HttpResponse> {
    reply::ok(&ledger::get::<E>(&ctx.tenant, ids.parent()?, ids.entity()?).await?)
}

pub(super) async fn list<E: ledger::Record + Serialize>(
    ctx: TenantCtx,
    ids: Ids,
    query: QueryPairs,
) -> Result<HttpResponse> {
    let query = query.list()?;
    let items = ledger::list::<E>(&ctx.tenant, ids.parent()?, query.clone()).await?;
    reply::page(&items, &query)
}

pub(super) async fn cursor_list<E: ledger::Record + Serialize>(
    ctx: TenantCtx,
    ids: Ids,
    query: QueryPairs,
) -> Result<HttpResponse> {
    let query = query.list()?;
    let page = ledger::list_by_cursor::<E>(&ctx.tenant, ids.parent()?, query.clone()).await?;
    reply::cursor_page(&page, &query)
}

pub(super) async fn count<E: ledger::Record>(
    ctx: TenantCtx,
    ids: Ids,
    query: QueryPairs,
) -> Result<HttpResponse> {
    reply::total_count(ledger::count::<E>(&ctx.tenant, ids.parent()?, query.list()?).await?)
}

pub(super) async fn delete<E: ledger::Record>(ctx: TenantCtx, ids: Ids) -> Result<HttpResponse> {
    ledger::delete::<E>(&ctx.tenant, ids.parent()?, ids.entity()?).await?;
    reply::no_content()
}

/// A request body of [`create`] or [`update`]: its field rules, in Midaz's order, turn it into
/// the command or patch of its entity, whose own rules then run in `ledger`.
pub(super) trait Input: DeserializeOwned + Serialize {
    type Command;

    fn command(self) -> Result<Self::Command>;
}

/// Creates an entity where the path says from the body `B`.
pub(super) async fn create<E, B>(ctx: TenantCtx, ids: Ids, body: Body) -> Result<HttpResponse>
where
    E: ledger::Create + Serialize,
    B: Input<Command = E::New>,
{
    let new = body.parse::<B>()?.command()?;
    reply::created(&ledger::create::<E>(&ctx.tenant, ids.parent()?, new).await?)
}

/// Changes the entity the path names with the body `B`.
pub(super) async fn update<E, B>(ctx: TenantCtx, ids: Ids, body: Body) -> Result<HttpResponse>
where
    E: ledger::Update + Serialize,
    B: Input<Command = E::Patch>,
{
    let patch = body.parse::<B>()?.command()?;
    let id = ids.entity()?;
    reply::ok(&ledger::update::<E>(&ctx.tenant, ids.parent()?, id, patch).await?)
}
