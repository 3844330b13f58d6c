//! The route table: every route of the API is one [`Route`] in its handler module's `routes()`,
//! and everything else is derived from those lists — the actix configuration ([`configure`]),
//! who may call it (its [`Access`], read by the extractors), the query filters its list
//! accepts, the OpenAPI document (`openapi::document`) and [`super::routes`] for the tests.
//!
//! A route's method and path are the ones of its `#[utoipa::path]` annotation, the one place
//! they are written. Its path placeholders named `id` or `…_id` are UUIDs (400/0065 otherwise),
//! every other placeholder is free text.

use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, guard, web};
use utoipa::openapi::RefOr;
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::schema::Schema;

use super::AppState;
use super::admin::ADMIN_SCOPE;
use crate::domain::query::FilterSpec;
use crate::error::{Error, Result};

/// The prefix of every ledger-scoped route.
pub const LEDGER_SCOPE: &str = "/v1/organizations/{organization_id}/ledgers/{ledger_id}";

/// The resources of the authorization scopes (`resource:action` in a token's `scope`), as
/// Midaz names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Organizations,
    Ledgers,
    Assets,
    Portfolios,
    Segments,
    Accounts,
    AccountTypes,
    Transactions,
    Operations,
    Balances,
    AssetRates,
    OperationRoutes,
    TransactionRoutes,
    Settings,
}

impl Resource {
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Organizations => "organizations",
            Resource::Ledgers => "ledgers",
            Resource::Assets => "assets",
            Resource::Portfolios => "portfolios",
            Resource::Segments => "segments",
            Resource::Accounts => "accounts",
            Resource::AccountTypes => "account-types",
            Resource::Transactions => "transactions",
            Resource::Operations => "operations",
            Resource::Balances => "balances",
            Resource::AssetRates => "asset-rates",
            Resource::OperationRoutes => "operation-routes",
            Resource::TransactionRoutes => "transaction-routes",
            Resource::Settings => "settings",
        }
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a token (health, version, readiness, metrics).
    Public,
    /// A tenant's caller, whose token (when one is required) must allow `resource:<method>`.
    Tenant(Resource),
    /// The operator, with `LEDGERLITE_ADMIN_TOKEN`; the route exists only when that is set.
    Admin,
}

/// What the extractors of a request learn about the route it matched.
#[derive(Debug, Clone, Copy)]
pub struct RouteInfo {
    pub access: Access,
    /// The query filters a list or count accepts.
    pub filters: &'static [FilterSpec],
}

/// One route: its method and path (from its OpenAPI annotation), who may call it, its list
/// filters, its handler and its OpenAPI operation.
pub struct Route {
    pub method: Method,
    /// The methods the annotation declares: a route is exactly one ([`check`]).
    pub documented: Vec<HttpMethod>,
    pub path: String,
    pub info: RouteInfo,
    attach: fn(actix_web::Route) -> actix_web::Route,
    operation: fn() -> Operation,
    tags: fn() -> Vec<&'static str>,
    schemas: fn(&mut Vec<(String, RefOr<Schema>)>),
}

impl Route {
    /// The route documented by `D` (a `#[utoipa::path]` of the handler module), served by the
    /// handler `attach` puts on its route, e.g. `|route| route.to(get)`.
    pub fn new<D>(access: Access, attach: fn(actix_web::Route) -> actix_web::Route) -> Self
    where
        D: utoipa::Path + utoipa::__dev::SchemaReferences + utoipa::__dev::Tags<'static>,
    {
        let documented = D::methods();
        Route {
            method: documented.first().map_or(Method::GET, method_of),
            documented,
            path: D::path(),
            info: RouteInfo {
                access,
                filters: &[],
            },
            attach,
            operation: D::operation,
            tags: D::tags,
            schemas: D::schemas,
        }
    }

    /// The route's OpenAPI operation, with its tags.
    pub fn operation(&self) -> Operation {
        let mut operation = (self.operation)();
        let tags = (self.tags)();
        if !tags.is_empty() {
            operation.tags = Some(tags.into_iter().map(str::to_owned).collect());
        }
        operation
    }

    /// Adds the schemas the route's operation refers to.
    pub fn schemas(&self, schemas: &mut Vec<(String, RefOr<Schema>)>) {
        (self.schemas)(schemas);
    }

    /// A list or count that accepts `filters` beside paging.
    pub fn filters(mut self, filters: &'static [FilterSpec]) -> Self {
        self.info.filters = filters;
        self
    }
}

fn method_of(method: &HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Trace => Method::TRACE,
    }
}

/// The routes of one path, in the resource that serves them: actix finds the route by method
/// and the extractors find its [`RouteInfo`] in the resource's data.
#[derive(Debug, Clone, Default)]
pub struct PathRoutes(Vec<(Method, RouteInfo)>);

impl PathRoutes {
    /// The route `req` matched; a handler reached by any other way is refused.
    pub fn of(req: &HttpRequest) -> Result<RouteInfo> {
        req.app_data::<PathRoutes>()
            .and_then(|routes| {
                routes
                    .0
                    .iter()
                    .find(|(method, _)| method == req.method())
                    .map(|(_, info)| *info)
            })
            .ok_or_else(|| Error::internal("a request outside the route table"))
    }
}

/// Where a route is mounted: the ledger scope and the admin scope are matched by prefix once,
/// then against their own routes only.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mount {
    Root,
    Ledger,
    Admin,
}

fn mount_of(path: &str) -> (Mount, &str) {
    if let Some(rest) = path.strip_prefix(LEDGER_SCOPE) {
        (Mount::Ledger, rest)
    } else if let Some(rest) = path.strip_prefix(ADMIN_SCOPE) {
        (Mount::Admin, rest)
    } else {
        (Mount::Root, path)
    }
}

/// Registers `routes` in their order: one resource per path (its routes by method), the
/// ledger-scoped ones in one scope after the root ones its prefix would swallow, the admin
/// ones in a scope that exists only when the admin API is enabled.
pub fn configure(cfg: &mut web::ServiceConfig, routes: Vec<Route>) {
    let mut root = Vec::new();
    let mut ledger = Vec::new();
    let mut admin = Vec::new();
    for route in routes {
        let (mount, rest) = mount_of(&route.path);
        let rest = rest.to_owned();
        match mount {
            Mount::Root => root.push((rest, route)),
            Mount::Ledger => ledger.push((rest, route)),
            Mount::Admin => admin.push((rest, route)),
        }
    }
    for resource in resources(root) {
        cfg.service(resource);
    }
    let mut scope = web::scope(LEDGER_SCOPE).default_service(web::to(super::not_found));
    for resource in resources(ledger) {
        scope = scope.service(resource);
    }
    cfg.service(scope);
    let mut scope = web::scope(ADMIN_SCOPE)
        .guard(guard::fn_guard(|ctx| {
            ctx.app_data::<web::Data<AppState>>()
                .is_some_and(|state| state.config.admin_token.is_some())
        }))
        .default_service(web::to(super::admin::unknown));
    for resource in resources(admin) {
        scope = scope.service(resource);
    }
    cfg.service(scope);
}

/// One actix resource per distinct path, in order of first appearance.
fn resources(routes: Vec<(String, Route)>) -> Vec<actix_web::Resource> {
    let mut grouped: Vec<(String, Vec<Route>)> = Vec::new();
    for (path, route) in routes {
        match grouped.iter_mut().find(|(p, _)| *p == path) {
            Some((_, same)) => same.push(route),
            None => grouped.push((path, vec![route])),
        }
    }
    grouped
        .into_iter()
        .map(|(path, routes)| {
            let infos = PathRoutes(
                routes
                    .iter()
                    .map(|route| (route.method.clone(), route.info))
                    .collect(),
            );
            let mut resource = web::resource(path)
                .app_data(infos)
                .default_service(web::to(method_not_allowed));
            for route in routes {
                resource = resource.route((route.attach)(web::method(route.method)));
            }
            resource
        })
        .collect()
}

/// Refuses a table the server must not start with: a route declared with other than one
/// method, twice, or with an access that does not fit its path (every `/v1` route is a
/// tenant's and names its scope resource, every `/admin/v1` route is the operator's, nothing
/// else needs a token): a route cannot be served under a weaker rule than its neighbours.
pub fn check(routes: &[Route]) -> std::result::Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for route in routes {
        let name = format!("{} {}", route.method, route.path);
        if route.documented.len() != 1 {
            return Err(format!("{name}: a route has exactly one method"));
        }
        if !seen.insert(name.clone()) {
            return Err(format!("{name}: declared twice"));
        }
        let fits = match route.info.access {
            Access::Tenant(_) => route.path.starts_with("/v1/"),
            Access::Admin => route.path.starts_with(&format!("{ADMIN_SCOPE}/")),
            Access::Public => {
                !route.path.starts_with("/v1/")
                    && !route.path.starts_with(&format!("{ADMIN_SCOPE}/"))
            }
        };
        if !fits {
            return Err(format!(
                "{name}: access {:?} does not fit its path",
                route.info.access
            ));
        }
    }
    Ok(())
}

/// A known path called with a method it does not serve: 405 in the envelope Midaz's HTTP
/// framework uses (as for an unknown path), with `Allow` listing the methods it serves.
async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    let allowed = req
        .app_data::<PathRoutes>()
        .map(|routes| {
            routes
                .0
                .iter()
                .map(|(method, _)| method.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, allowed))
        .json(serde_json::json!({
            "code": 405,
            "title": "request_failed",
            "message": "Method Not Allowed",
        }))
}

/// Whether the path placeholder `name` holds a UUID.
pub fn is_uuid_param(name: &str) -> bool {
    name == "id" || name.ends_with("_id")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[utoipa::path(get, path = "/v1/organizations/{id}/widgets", responses((status = 200)))]
    #[allow(dead_code)]
    fn widgets() {}

    #[utoipa::path(get, path = "/admin/v1/widgets", responses((status = 200)))]
    #[allow(dead_code)]
    fn admin_widgets() {}

    fn served(route: actix_web::Route) -> actix_web::Route {
        route.to(actix_web::HttpResponse::Ok)
    }

    #[test]
    fn the_servers_table_passes_its_checks() {
        assert_eq!(check(&super::super::route_table()), Ok(()));
    }

    #[test]
    fn a_tenant_route_declared_public_or_admin_is_refused() {
        for access in [Access::Public, Access::Admin] {
            let table = [Route::new::<__path_widgets>(access, served)];
            let refused = check(&table).unwrap_err();
            assert!(
                refused.contains("GET /v1/organizations/{id}/widgets"),
                "{refused}"
            );
        }
        let tenant = [Route::new::<__path_widgets>(
            Access::Tenant(Resource::Organizations),
            served,
        )];
        assert_eq!(check(&tenant), Ok(()));
    }

    #[test]
    fn an_admin_route_declared_public_and_a_twice_declared_route_are_refused() {
        assert!(check(&[Route::new::<__path_admin_widgets>(Access::Public, served)]).is_err());
        let twice = [
            Route::new::<__path_admin_widgets>(Access::Admin, served),
            Route::new::<__path_admin_widgets>(Access::Admin, served),
        ];
        assert!(check(&twice).unwrap_err().contains("declared twice"));
    }

    #[test]
    fn ids_and_uuid_params_follow_the_placeholder_name() {
        for uuid in [
            "id",
            "organization_id",
            "ledger_id",
            "external_id",
            "balance_id",
        ] {
            assert!(is_uuid_param(uuid), "{uuid}");
        }
        for text in ["alias", "code", "asset_code", "tenant"] {
            assert!(!is_uuid_param(text), "{text}");
        }
    }
}
