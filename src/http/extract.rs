//! Extractors: the caller's tenant (auth, scope, tenant file), path ids, query pairs, body.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::Method;
use actix_web::web::{self, Bytes};
use actix_web::{FromRequest, HttpRequest};

use super::AppState;
use super::routes::{Access, PathRoutes, is_uuid_param};
use crate::auth::{Claims, permits};
use crate::domain::ids::{
    AccountId, BalanceId, LedgerId, OperationId, OrganizationId, TransactionId,
};
use crate::domain::query::{FilterSpec, ListQuery};
use crate::domain::scope::Parent;
use crate::domain::tenant::TenantId;
use crate::error::{Error, Kind, Result};
use crate::ledger::Tenant;

/// Largest request body accepted, in bytes.
pub const REQUEST_BODY_BYTES_MAX: usize = 1024 * 1024;

fn state(req: &HttpRequest) -> Result<web::Data<AppState>> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| Error::internal("no app state"))
}

/// The tenant a request acts on, after its token (if required) was verified, its scope
/// allows the route, and the tenant is provisioned, not suspended or moved, and not frozen if
/// the request writes.
pub struct TenantCtx {
    pub tenant: Tenant,
}

impl FromRequest for TenantCtx {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let method = req.method().clone();
        let resolved = state(req).and_then(|state| {
            let id = authorize(&state, req)?;
            Ok((state, id))
        });
        Box::pin(async move {
            let (state, id) = resolved?;
            tracing::Span::current().record("tenant", id.as_str());
            let engine = Arc::clone(&state.engine);
            let reads = matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
            engine.admit(&id, !reads)?;
            if let Some(tenant) = engine.find(&id) {
                return Ok(TenantCtx { tenant });
            }
            let tenant = actix_web::rt::task::spawn_blocking(move || engine.open_tenant(&id))
                .await
                .map_err(|_| Error::internal("opening a tenant panicked"))??;
            Ok(TenantCtx { tenant })
        })
    }
}

/// The tenant id of the request; in single-tenant mode `default` (after verifying the token
/// if authentication is on).
fn authorize(state: &AppState, req: &HttpRequest) -> Result<TenantId> {
    let Some(verifier) = &state.verifier else {
        return Ok(TenantId::default_tenant());
    };
    let token = bearer(req).ok_or_else(|| Error::new(Kind::MissingToken))?;
    let claims = verifier.verify(token)?;
    check_scope(&claims, req)?;
    if !state.config.multi_tenant {
        return Ok(TenantId::default_tenant());
    }
    tenant_of(&claims, &state.config.tenant_claim)
}

/// The token of an `Authorization: Bearer <token>` header.
pub(super) fn bearer(req: &HttpRequest) -> Option<&str> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn tenant_of(claims: &Claims, claim: &str) -> Result<TenantId> {
    let raw = claims
        .get(claim)
        .ok_or_else(|| Error::new(Kind::MissingTenant))?;
    let raw = raw
        .as_str()
        .ok_or_else(|| Error::new(Kind::InvalidTenant))?;
    if raw.is_empty() {
        return Err(Error::new(Kind::MissingTenant));
    }
    TenantId::parse(raw).ok_or_else(|| Error::new(Kind::InvalidTenant))
}

/// Whether the token allows the route's `resource:action`; the route table declares the
/// resource of every tenant route, and a route declared otherwise is refused (deny by default).
fn check_scope(claims: &Claims, req: &HttpRequest) -> Result<()> {
    let Access::Tenant(resource) = PathRoutes::of(req)?.access else {
        return Err(Error::internal(
            "a tenant extractor on a route without a tenant scope",
        ));
    };
    let resource = resource.as_str();
    let action = req.method().as_str().to_ascii_lowercase();
    if permits(claims, resource, &action) {
        Ok(())
    } else {
        Err(Error::new(Kind::InsufficientPrivileges)
            .with_message(format!("The token does not allow {resource}:{action}.")))
    }
}

/// Path parameters, UUID ones validated and lower-cased.
pub struct Ids(HashMap<String, String>);

impl Ids {
    /// The parameter `name` of the route's path; a handler asking for one its path does not
    /// have is a programming error, answered 500.
    pub fn get(&self, name: &str) -> Result<String> {
        self.0
            .get(name)
            .cloned()
            .ok_or_else(|| Error::internal(format!("the route has no path parameter '{name}'")))
    }

    /// The id of the record a ledger-scoped path names: its one parameter besides
    /// `{organization_id}` and `{ledger_id}` (`{id}`, `{operation_route_id}`, …).
    pub fn entity(&self) -> Result<String> {
        let mut others = self
            .0
            .iter()
            .filter(|(name, _)| !matches!(name.as_str(), "organization_id" | "ledger_id"));
        match (others.next(), others.next()) {
            (Some((_, id)), None) => Ok(id.clone()),
            _ => Err(Error::internal("the route does not name one record")),
        }
    }

    /// `{transaction_id}`.
    pub fn transaction(&self) -> Result<TransactionId> {
        self.get("transaction_id").map(TransactionId::new)
    }

    /// `{account_id}`.
    pub fn account(&self) -> Result<AccountId> {
        self.get("account_id").map(AccountId::new)
    }

    /// `{balance_id}`.
    pub fn balance(&self) -> Result<BalanceId> {
        self.get("balance_id").map(BalanceId::new)
    }

    /// `{operation_id}`.
    pub fn operation(&self) -> Result<OperationId> {
        self.get("operation_id").map(OperationId::new)
    }

    /// Where the record of the path lives: the account of `{account_id}`, else the ledger of
    /// `{ledger_id}`, else the organization of `{organization_id}`, else the root.
    pub fn parent(&self) -> Result<Parent> {
        if self.0.contains_key("account_id") {
            self.ledger()?.account(self.account()?)
        } else if self.0.contains_key("ledger_id") {
            self.ledger()
        } else if self.0.contains_key("organization_id") {
            self.organization()
        } else {
            Ok(Parent::Root)
        }
    }

    pub fn organization(&self) -> Result<Parent> {
        Ok(Parent::Organization(OrganizationId::new(
            self.get("organization_id")?,
        )))
    }

    pub fn ledger(&self) -> Result<Parent> {
        Ok(Parent::Ledger {
            organization_id: OrganizationId::new(self.get("organization_id")?),
            ledger_id: LedgerId::new(self.get("ledger_id")?),
        })
    }
}

impl FromRequest for Ids {
    type Error = Error;
    type Future = std::future::Ready<Result<Self>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let mut ids = HashMap::new();
        for (name, value) in req.match_info().iter() {
            if is_uuid_param(name) {
                match uuid::Uuid::parse_str(value) {
                    Ok(id) => ids.insert(name.to_owned(), id.hyphenated().to_string()),
                    Err(_) => {
                        return std::future::ready(Err(Error::new(Kind::InvalidPathParameter)
                            .with_message(format!(
                                "The path parameter '{name}' is not a valid UUID."
                            ))));
                    }
                };
            } else {
                ids.insert(name.to_owned(), value.to_owned());
            }
        }
        std::future::ready(Ok(Ids(ids)))
    }
}

/// The raw query pairs, in order, and the filters the route's list accepts.
pub struct QueryPairs {
    pub pairs: Vec<(String, String)>,
    filters: &'static [FilterSpec],
}

impl QueryPairs {
    /// The list query: paging, sorting, dates and the route's declared filters.
    pub fn list(&self) -> Result<ListQuery> {
        ListQuery::parse(&self.pairs, self.filters)
    }
}

impl FromRequest for QueryPairs {
    type Error = Error;
    type Future = std::future::Ready<Result<Self>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = PathRoutes::of(req).and_then(|route| {
            web::Query::<Vec<(String, String)>>::from_query(req.query_string())
                .map(|q| QueryPairs {
                    pairs: q.into_inner(),
                    filters: route.filters,
                })
                .map_err(|_| Error::new(Kind::InvalidQueryParameter))
        });
        std::future::ready(parsed)
    }
}

/// A request body of at most [`REQUEST_BODY_BYTES_MAX`] bytes.
pub struct Body(pub Bytes);

impl Body {
    pub fn parse<T: serde::de::DeserializeOwned + serde::Serialize>(&self) -> Result<T> {
        super::body::parse(&self.0)
    }
}

impl FromRequest for Body {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = Bytes::from_request(req, payload);
        Box::pin(async move {
            bytes
                .await
                .map(Body)
                .map_err(|error| match error.as_error::<PayloadError>() {
                    Some(PayloadError::Overflow) => Error::new(Kind::PayloadTooLarge),
                    _ => Error::new(Kind::InvalidRequestBody).with_message(error.to_string()),
                })
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_path_parameter_the_route_does_not_have_is_an_internal_error() {
        let ids = Ids(HashMap::from([("id".to_owned(), "x".to_owned())]));
        assert_eq!(ids.get("id").ok().as_deref(), Some("x"));
        let missing = ids.get("ledger_id").unwrap_err();
        assert_eq!(missing.spec().status, 500, "{missing:?}");
        assert!(ids.ledger().is_err());
    }
}
