//! The OpenAPI 3.1 document of the API, generated from the handlers' `#[utoipa::path]`
//! annotations and the DTOs' `ToSchema` derives, served at `GET /openapi.json` with Swagger UI
//! (vendored assets) at `/swagger/`.
//!
//! What every route shares is added once, by [`Contract`], from the same tables the server
//! uses: path parameters from the path template (UUID ones per the `Ids` extractor), each list's
//! filters from its entity's `FILTERS`, the error envelope for 4xx/5xx and the bearer scheme.
//!
//! The document describes what the server serves: the admin API is part of it
//! only when it is enabled (`LEDGERLITE_ADMIN_TOKEN`), see [`document`].

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{ContentBuilder, Ref, Required};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_swagger_ui::SwaggerUi;

use super::admin::ADMIN_SCOPE;
use super::routes::{Access, Route, is_uuid_param};
use crate::domain::query::{FilterSpec, Match};

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/openapi.json";
/// Where Swagger UI is served.
pub const SWAGGER_PATH: &str = "/swagger/";
/// The name of the bearer security scheme.
const BEARER: &str = "bearer";
/// The name of the admin API's security scheme.
const ADMIN_BEARER: &str = "adminToken";

/// The document of a server with the admin API enabled (`admin_enabled`) or not, built from
/// the route table: each route's operation under its method and path, the schemas they use,
/// and what every route shares ([`Contract`]). The admin paths are in it exactly when the
/// server serves them.
pub fn document(admin_enabled: bool) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    let routes: Vec<Route> = super::route_table()
        .into_iter()
        .filter(|route| admin_enabled || route.info.access != Access::Admin)
        .collect();
    let mut schemas = Vec::new();
    for route in &routes {
        doc.paths
            .add_path_operation(&route.path, route.documented.clone(), route.operation());
        route.schemas(&mut schemas);
    }
    doc.components
        .get_or_insert_with(Default::default)
        .schemas
        .extend(schemas);
    if admin_enabled {
        doc.tags.get_or_insert_with(Vec::new).push(
            TagBuilder::new()
                .name("Admin")
                .description(Some(
                    "The operator's API, mirroring the `tenant` and `verify` commands; present \
                     because LEDGERLITE_ADMIN_TOKEN is set. Every call needs \
                     `Authorization: Bearer <LEDGERLITE_ADMIN_TOKEN>`; a tenant's JWT is never \
                     accepted.",
                ))
                .build(),
        );
    }
    Contract { routes: &routes }.modify(&mut doc);
    doc
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ledgerlite",
        description = "Embedded multi-tenant double-entry ledger serving the Midaz v3.8 REST contract.\n\n\
            Authentication: in single-tenant mode (the default) no token is needed; with \
            `LEDGERLITE_AUTH=true` or in multi-tenant mode every `/v1` request needs \
            `Authorization: Bearer <JWT>` (the `tenantId` claim selects the tenant)."
    ),
    tags(
        (name = "System", description = "Health, version, readiness and metrics; no token needed."),
        (name = "Organizations"),
        (name = "Ledgers"),
        (name = "Assets"),
        (name = "Portfolios"),
        (name = "Segments"),
        (name = "Account types"),
        (name = "Accounts"),
        (name = "Transactions"),
        (name = "Operations"),
        (name = "Balances"),
        (name = "Asset rates"),
        (name = "Metadata indexes", description = "SQLite indexes on one metadata key of one entity of the caller's tenant."),
    )
)]
struct ApiDoc;

/// Swagger UI at `/swagger/` reading `/openapi.json` (both served without a token), and a
/// redirect from `/swagger`.
pub fn routes(cfg: &mut web::ServiceConfig, doc: utoipa::openapi::OpenApi) {
    cfg.route(
        "/swagger",
        web::get().to(|| async {
            HttpResponse::PermanentRedirect()
                .insert_header(("Location", SWAGGER_PATH))
                .finish()
        }),
    )
    .service(SwaggerUi::new(format!("{SWAGGER_PATH}{{_:.*}}")).url(OPENAPI_PATH, doc));
}

/// `{items, page, limit}`: a page of a page list.
#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[schema(minimum = 1)]
    pub page: u32,
    #[schema(minimum = 1, maximum = 100)]
    pub limit: u32,
}

/// `{items, limit, next_cursor?, prev_cursor?}`: a page of a cursor list.
#[derive(Serialize, ToSchema)]
pub struct CursorPage<T> {
    pub items: Vec<T>,
    #[schema(minimum = 1, maximum = 100)]
    pub limit: u32,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// Pass as `cursor` for the previous page; absent on the first page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    Asc,
    Desc,
}

/// The query of a page list (organizations, ledgers, assets, portfolios, segments, accounts).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageQuery {
    /// Items per page.
    #[param(minimum = 1, maximum = 100, default = 10)]
    limit: Option<u32>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1000000, default = 1)]
    page: Option<u32>,
    /// By creation time; default `asc`.
    #[param(inline)]
    sort_order: Option<SortOrder>,
    /// Created at or after; RFC 3339, `YYYY-MM-DD hh:mm:ss` or `YYYY-MM-DD`. Only together
    /// with `end_date`.
    start_date: Option<String>,
    /// Created at or before (a date alone means the end of that day). Only together with
    /// `start_date`.
    end_date: Option<String>,
}

/// The query of a cursor list (transactions, operations, balances, asset rates, account types).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct CursorQuery {
    /// Items per page.
    #[param(minimum = 1, maximum = 100, default = 10)]
    limit: Option<u32>,
    /// `next_cursor` or `prev_cursor` of a previous page (base64 of `{"id", "direction"}`).
    cursor: Option<String>,
    /// By id (creation order); default `asc`.
    #[param(inline)]
    sort_order: Option<SortOrder>,
    /// Created at or after; RFC 3339, `YYYY-MM-DD hh:mm:ss` or `YYYY-MM-DD`. Only together
    /// with `end_date`.
    start_date: Option<String>,
    /// Created at or before. Only together with `start_date`.
    end_date: Option<String>,
}

/// What every operation shares, added to the generated document; the list filters are the
/// routes'.
struct Contract<'a> {
    routes: &'a [Route],
}

impl Contract<'_> {
    /// The filters the route `method path` declares.
    fn filters_of(&self, path: &str, method: &str) -> &'static [FilterSpec] {
        self.routes
            .iter()
            .find(|route| route.path == path && route.method.as_str().eq_ignore_ascii_case(method))
            .map_or(&[], |route| route.info.filters)
    }
}

impl Modify for Contract<'_> {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        add_components(doc);
        close_request_bodies(doc);
        let mut ids = std::collections::BTreeMap::<String, usize>::new();
        for item in doc.paths.paths.values_mut() {
            for (_, operation) in operations(item) {
                *ids.entry(operation.operation_id.clone().unwrap_or_default())
                    .or_default() += 1;
            }
        }
        for (path, item) in doc.paths.paths.iter_mut() {
            for (method, operation) in operations(item) {
                unique_operation_id(operation, &ids);
                describe_responses(operation);
                path_parameters(path, operation);
                if path.starts_with("/v1/") {
                    filter_parameters(method, operation, self.filters_of(path, method));
                    ledger_security(method, operation);
                } else if path.starts_with(ADMIN_SCOPE) {
                    admin_security(path, method, operation);
                }
            }
        }
    }
}

/// The security schemes (the admin token's only when admin routes are served) and the error
/// envelope.
fn add_components(doc: &mut utoipa::openapi::OpenApi) {
    let admin_paths = doc.paths.paths.keys().any(|p| p.starts_with(ADMIN_SCOPE));
    let components = doc.components.get_or_insert_with(Default::default);
    if admin_paths {
        components.add_security_scheme(
            ADMIN_BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The value of LEDGERLITE_ADMIN_TOKEN (not a JWT). Accepted by the \
                         /admin/v1 routes only, which accept nothing else.",
                    ))
                    .build(),
            ),
        );
    }
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "Required in multi-tenant mode and with LEDGERLITE_AUTH=true; \
                     ignored otherwise.",
                ))
                .build(),
        ),
    );
    components.schemas.insert(
        "Error".to_owned(),
        <super::error::Envelope as utoipa::PartialSchema>::schema(),
    );
}

/// A `/v1` operation: no token or the JWT bearer; 4XX and 5XX answer the error envelope.
fn ledger_security(method: &str, operation: &mut Operation) {
    operation.security = Some(vec![
        SecurityRequirement::default(),
        SecurityRequirement::new(BEARER, Vec::<String>::new()),
    ]);
    error_responses(
        method,
        operation,
        &[("4XX", CLIENT_ERRORS), ("5XX", SERVER_ERRORS)],
    );
}

/// An `/admin/v1` operation: the admin token only, and its errors.
fn admin_security(path: &str, method: &str, operation: &mut Operation) {
    operation.security = Some(vec![SecurityRequirement::new(
        ADMIN_BEARER,
        Vec::<String>::new(),
    )]);
    if path.contains("{tenant}") {
        error_responses(
            method,
            operation,
            &[("400", INVALID_TENANT_ERROR), ("404", UNKNOWN_TENANT_ERROR)],
        );
    }
    error_responses(
        method,
        operation,
        &[("401", ADMIN_TOKEN_ERRORS), ("5XX", SERVER_ERRORS)],
    );
}

/// A handler name shared by several modules (`create`, `list`, …) becomes `<tag>_<name>`.
fn unique_operation_id(operation: &mut Operation, ids: &std::collections::BTreeMap<String, usize>) {
    let id = operation.operation_id.clone().unwrap_or_default();
    if ids.get(&id).copied().unwrap_or(0) > 1 {
        let tag = operation
            .tags
            .as_ref()
            .and_then(|tags| tags.first())
            .map(|tag| tag.to_lowercase().replace(' ', "_"))
            .unwrap_or_default();
        operation.operation_id = Some(format!("{tag}_{id}"));
    }
}

/// Every response needs a description; the generated ones without one get their status's.
fn describe_responses(operation: &mut Operation) {
    for (status, response) in operation.responses.responses.iter_mut() {
        if let utoipa::openapi::RefOr::T(response) = response
            && response.description.is_empty()
        {
            response.description = match status.as_str() {
                "200" => "OK",
                "201" => "Created",
                "204" => "No Content",
                _ => "Response",
            }
            .to_owned();
        }
    }
}

fn operations(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("head", item.head.as_mut()),
        ("patch", item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.map(|o| (method, o)))
    .collect()
}

/// A required path parameter for every `{name}` of the template the operation does not declare:
/// a UUID where the `Ids` extractor demands one (400/0065 otherwise), else free text.
fn path_parameters(path: &str, operation: &mut Operation) {
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    let declared: Vec<String> = parameters
        .iter()
        .filter_map(|p| match p {
            utoipa::openapi::RefOr::T(p) => Some(p.name.clone()),
            utoipa::openapi::RefOr::Ref(_) => None,
        })
        .collect();
    let names = path
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')));
    let mut added = Vec::new();
    for name in names.filter(|n| !declared.iter().any(|d| d == n)) {
        let uuid = is_uuid_param(name);
        let schema = if uuid {
            ObjectBuilder::new().schema_type(Type::String).format(Some(
                utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Uuid),
            ))
        } else {
            ObjectBuilder::new().schema_type(Type::String)
        };
        added.push(utoipa::openapi::RefOr::T(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(schema))
                .build(),
        ));
    }
    added.append(parameters);
    *parameters = added;
}

fn filter_parameters(method: &str, operation: &mut Operation, filters: &[FilterSpec]) {
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    let is_list = parameters
        .iter()
        .any(|p| matches!(p, utoipa::openapi::RefOr::T(p) if p.name == "limit"));
    for spec in filters {
        let text = ObjectBuilder::new().schema_type(Type::String);
        let (schema, description) = match spec.matching {
            Match::Exact => (text, "Exact match."),
            Match::Prefix => (text, "Case-insensitive prefix."),
            Match::Flag => (ObjectBuilder::new().schema_type(Type::Boolean), "Flag."),
            Match::LegAccount => (text, "Transactions with an operation on this account id."),
            Match::LegAlias => (
                text,
                "Transactions with an operation on the account with this alias.",
            ),
            Match::AnyOf => (
                text,
                "Comma-separated values, any of which matches (exact).",
            ),
            Match::OneOf(values) => (
                text.enum_values(Some(values.iter().copied())),
                "One of the codes (case-insensitive).",
            ),
        };
        parameters.push(utoipa::openapi::RefOr::T(
            ParameterBuilder::new()
                .name(spec.param)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(description))
                .schema(Some(schema))
                .build(),
        ));
    }
    if is_list || method == "head" && !filters.is_empty() {
        let note = "Also filters by one metadata key: `metadata.<key>=<value>` (exact match).";
        operation.description = Some(match operation.description.take() {
            Some(text) if !text.is_empty() => format!("{text}\n\n{note}"),
            _ => note.to_owned(),
        });
    }
}

/// The `/v1` refusals, all in the error envelope.
const CLIENT_ERRORS: &str = "The request was refused: invalid path, query or body (400), token \
    (401), scope or suspended tenant (403), unknown tenant or entity (404), conflict (409), \
    payload too large (413), tenant moved to another node (421 `TENANT_MOVED`, with its URL in \
    `location` and the `Location` header) or business rule (422).";
/// The failures of any route under `/v1` or `/admin/v1`, in the error envelope.
const SERVER_ERRORS: &str = "Internal error (500), tenant storage unavailable (503) or a \
    write to a tenant frozen for a move (503 `TENANT_READ_ONLY`, with `Retry-After`).";
/// An admin route's refusal of a `{tenant}` that is not a tenant id.
const INVALID_TENANT_ERROR: &str = "An invalid tenant id (`INVALID_TENANT`).";
/// An admin route's answer for a `{tenant}` without a file.
const UNKNOWN_TENANT_ERROR: &str = "No such tenant (`TENANT_NOT_FOUND`).";
/// The admin API's refusal of a caller without the admin token.
const ADMIN_TOKEN_ERRORS: &str =
    "No admin token (`MISSING_ADMIN_TOKEN`) or a wrong one (`INVALID_ADMIN_TOKEN`).";

/// Failures in the error envelope, by status or range, unless the operation declares that
/// status itself (HEAD responses carry no body).
fn error_responses(method: &str, operation: &mut Operation, errors: &[(&str, &str)]) {
    for &(range, description) in errors {
        let mut response = ResponseBuilder::new().description(description);
        if method != "head" {
            response = response.content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Error")))
                    .build(),
            );
        }
        operation
            .responses
            .responses
            .entry(range.to_owned())
            .or_insert_with(|| response.build().into());
    }
}

/// An amount as clients may send it: a decimal string (`"100.50"`) or a JSON number, read
/// exactly, never through a float.
pub fn decimal_input() -> utoipa::openapi::schema::Schema {
    utoipa::openapi::schema::OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^-?[0-9]{1,20}(\\.[0-9]{1,8})?$"))
                .examples(["100.50"]),
        )
        .item(ObjectBuilder::new().schema_type(Type::Number))
        .into()
}

/// Metadata on create: a flat object of scalars; keys up to 100 characters (0050), values up to
/// 2000 (0051), no nesting (0067).
pub fn metadata_input() -> utoipa::openapi::schema::Schema {
    metadata(false)
}

/// Metadata on update: merged into the stored one; a `null` value deletes its key and
/// `null` instead of the object clears all.
pub fn metadata_patch() -> utoipa::openapi::schema::Schema {
    metadata(true)
}

fn metadata(patch: bool) -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{AdditionalProperties, OneOfBuilder, SchemaType};
    let mut value = OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(crate::domain::metadata::METADATA_VALUE_LENGTH_MAX)),
        )
        .item(ObjectBuilder::new().schema_type(Type::Number))
        .item(ObjectBuilder::new().schema_type(Type::Boolean));
    if patch {
        value = value.item(ObjectBuilder::new().schema_type(Type::Null));
    }
    let kind = if patch {
        SchemaType::from_iter([Type::Object, Type::Null])
    } else {
        SchemaType::new(Type::Object)
    };
    ObjectBuilder::new()
        .schema_type(kind)
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(crate::domain::metadata::METADATA_KEY_LENGTH_MAX)),
        ))
        .additional_properties(Some(AdditionalProperties::RefOr(value.into())))
        .into()
}

/// Request bodies are closed (`additionalProperties: false`): the server refuses unknown fields
/// at any depth (400/0053). Applies to the component schemas reachable from a request body.
fn close_request_bodies(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{AdditionalProperties, Schema};
    let mut pending: Vec<String> = Vec::new();
    for item in doc.paths.paths.values_mut() {
        for (_, operation) in operations(item) {
            if let Some(RefOr::T(body)) = &operation.request_body {
                for content in body.content.values() {
                    if let RefOr::T(content) = content
                        && let Some(schema) = &content.schema
                    {
                        collect_refs(schema, &mut pending);
                    }
                }
            }
        }
    }
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    let mut closed = std::collections::BTreeSet::new();
    while let Some(name) = pending.pop() {
        if !closed.insert(name.clone()) {
            continue;
        }
        if let Some(schema) = components.schemas.get_mut(&name) {
            collect_refs(schema, &mut pending);
            if let RefOr::T(Schema::Object(object)) = schema {
                object.additional_properties =
                    Some(Box::new(AdditionalProperties::FreeForm(false)));
            }
        }
    }
}

/// The component names `schema` refers to, through properties, items and compositions.
fn collect_refs(
    schema: &utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
    out: &mut Vec<String>,
) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ArrayItems, Schema};
    match schema {
        RefOr::Ref(reference) => {
            if let Some(name) = reference.ref_location.strip_prefix("#/components/schemas/") {
                out.push(name.to_owned());
            }
        }
        RefOr::T(Schema::Object(object)) => {
            object
                .properties
                .values()
                .for_each(|p| collect_refs(p, out));
        }
        RefOr::T(Schema::Array(array)) => {
            if let ArrayItems::RefOrSchema(items) = &array.items {
                collect_refs(items, out);
            }
        }
        RefOr::T(Schema::OneOf(one_of)) => one_of.items.iter().for_each(|s| collect_refs(s, out)),
        RefOr::T(Schema::AnyOf(any_of)) => any_of.items.iter().for_each(|s| collect_refs(s, out)),
        RefOr::T(Schema::AllOf(all_of)) => all_of.items.iter().for_each(|s| collect_refs(s, out)),
        RefOr::T(_) => {}
    }
}
