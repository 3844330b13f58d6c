//! `/v1/organizations`

use actix_web::HttpResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::body::{
    Check, StatusInput, create_metadata, double_option, patch_metadata, status_or_active,
};
use super::extract::{Ids, QueryPairs, TenantCtx};
use super::openapi::{Page, PageQuery};
use super::records::{self, Input, entity_docs};
use super::reply;
use super::routes::{Access, Resource, Route};
use crate::domain::entities::{Address, NewOrganization, Organization};
use crate::domain::metadata::Metadata;
use crate::domain::query::ListQuery;
use crate::domain::scope::Parent;
use crate::error::{Error, Kind, Result};
use crate::ledger;
use crate::ledger::filters;
use crate::ledger::onboarding::OrganizationPatch;

/// Longest organization text field, in characters.
pub const ORGANIZATION_TEXT_LENGTH_MAX: usize = 256;

pub(super) fn routes() -> Vec<Route> {
    let access = Access::Tenant(Resource::Organizations);
    vec![
        Route::new::<__path_count>(access, |r| r.to(count)).filters(filters::ORGANIZATION_FILTERS),
        Route::new::<__path_create>(access, |r| {
            r.to(records::create::<Organization, CreateOrganization>)
        }),
        Route::new::<__path_list>(access, |r| r.to(list)).filters(filters::ORGANIZATION_FILTERS),
        Route::new::<__path_get>(access, |r| r.to(get)),
        Route::new::<__path_update>(access, |r| {
            r.to(records::update::<Organization, UpdateOrganization>)
        }),
        Route::new::<__path_delete>(access, |r| r.to(delete)),
    ]
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct CreateOrganization {
    #[schema(value_type = String, required = true, max_length = 256)]
    legal_name: Option<String>,
    #[schema(value_type = String, required = true, max_length = 256)]
    legal_document: Option<String>,
    #[schema(max_length = 256)]
    doing_business_as: Option<String>,
    #[schema(format = Uuid)]
    parent_organization_id: Option<String>,
    address: Option<AddressInput>,
    status: Option<StatusInput>,
    #[schema(schema_with = crate::http::openapi::metadata_input)]
    metadata: Option<Metadata>,
}

/// Absent fields are kept; `metadata` merges (a `null` value deletes its key, `null` clears).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct UpdateOrganization {
    #[schema(max_length = 256)]
    legal_name: Option<String>,
    #[schema(max_length = 256)]
    doing_business_as: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Uuid)]
    parent_organization_id: Option<Option<String>>,
    address: Option<AddressInput>,
    status: Option<StatusInput>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = crate::http::openapi::metadata_patch)]
    metadata: Option<Option<Metadata>>,
}

/// A non-empty address needs an ISO 3166-1 alpha-2 `country` (0032).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AddressInput {
    line1: Option<String>,
    line2: Option<String>,
    zip_code: Option<String>,
    city: Option<String>,
    state: Option<String>,
    country: Option<String>,
    description: Option<String>,
}

impl AddressInput {
    /// A non-empty address needs an ISO 3166-1 alpha-2 country (0032).
    fn into_address(self, check: &mut Check) -> Result<Address> {
        let address = Address {
            line1: self.line1,
            line2: self.line2,
            zip_code: self.zip_code,
            city: self.city,
            state: self.state,
            country: self.country,
            description: self.description,
        };
        check.max_lens(
            ORGANIZATION_TEXT_LENGTH_MAX,
            [
                ("address.line1", address.line1.as_deref()),
                ("address.line2", address.line2.as_deref()),
                ("address.zipCode", address.zip_code.as_deref()),
                ("address.city", address.city.as_deref()),
                ("address.state", address.state.as_deref()),
                ("address.description", address.description.as_deref()),
            ],
        );
        if address != Address::default() && !address.country.as_deref().is_some_and(is_country_code)
        {
            return Err(Error::new(Kind::InvalidCountryCode));
        }
        Ok(address)
    }
}

fn is_country_code(code: &str) -> bool {
    crate::domain::codes::COUNTRY_CODES
        .binary_search(&code)
        .is_ok()
}

impl Input for CreateOrganization {
    type Command = NewOrganization;

    fn command(self) -> Result<NewOrganization> {
        let mut check = Check::new();
        let max = ORGANIZATION_TEXT_LENGTH_MAX;
        let legal_name = check.required_max("legalName", self.legal_name.as_deref(), max);
        let legal_document =
            check.required_max("legalDocument", self.legal_document.as_deref(), max);
        check.max_len("doingBusinessAs", self.doing_business_as.as_deref(), max);
        check.uuid(
            "parentOrganizationId",
            self.parent_organization_id.as_deref(),
        );
        check.status(self.status.as_ref());
        let address = self.address.unwrap_or_default().into_address(&mut check)?;
        check.finish()?;
        Ok(NewOrganization {
            legal_name,
            legal_document,
            doing_business_as: self.doing_business_as,
            parent_organization_id: self.parent_organization_id,
            address,
            status: status_or_active(self.status),
            metadata: create_metadata(self.metadata)?,
        })
    }
}

impl Input for UpdateOrganization {
    type Command = OrganizationPatch;

    fn command(self) -> Result<OrganizationPatch> {
        let mut check = Check::new();
        check.max_lens(
            ORGANIZATION_TEXT_LENGTH_MAX,
            [
                ("legalName", self.legal_name.as_deref()),
                ("doingBusinessAs", self.doing_business_as.as_deref()),
            ],
        );
        let parent = self.parent_organization_id.clone().flatten();
        check.uuid("parentOrganizationId", parent.as_deref());
        check.status(self.status.as_ref());
        let address = self
            .address
            .map(|a| a.into_address(&mut check))
            .transpose()?;
        check.finish()?;
        Ok(OrganizationPatch {
            legal_name: self.legal_name.filter(|n| !n.trim().is_empty()),
            doing_business_as: self.doing_business_as,
            parent_organization_id: self.parent_organization_id,
            address,
            status: self.status.map(StatusInput::into_status),
            metadata: patch_metadata(self.metadata)?,
        })
    }
}

entity_docs!(
    /// Create an organization.
    create under "/v1", "Organizations" "organizations" Organization CreateOrganization, create
);

entity_docs!(
    /// Update an organization.
    update under "/v1", "Organizations" "organizations" Organization UpdateOrganization, update
);

/// Get an organization.
#[utoipa::path(get, path = "/v1/organizations/{id}", tag = "Organizations",
    responses((status = 200, body = Organization)))]
async fn get(ctx: TenantCtx, ids: Ids) -> Result<HttpResponse> {
    reply::ok(&ledger::get::<Organization>(&ctx.tenant, Parent::Root, ids.get("id")?).await?)
}

/// The list query of organizations: a metadata filter cannot be combined with a name filter
/// (0082), as in Midaz.
fn list_query(query: &QueryPairs) -> Result<ListQuery> {
    let query = query.list()?;
    let by_name = query
        .filters
        .iter()
        .any(|f| matches!(f.field, "legal_name" | "doing_business_as"));
    if query.metadata.is_some() && by_name {
        return Err(Error::new(Kind::InvalidQueryParameter).with_message(
            "A metadata filter cannot be combined with legal_name or doing_business_as.",
        ));
    }
    Ok(query)
}

/// List organizations.
///
/// A metadata filter cannot be combined with `legal_name` or `doing_business_as` (0082).
#[utoipa::path(get, path = "/v1/organizations", tag = "Organizations", params(PageQuery),
    responses((status = 200, body = Page<Organization>)))]
async fn list(ctx: TenantCtx, query: QueryPairs) -> Result<HttpResponse> {
    let query = list_query(&query)?;
    let items = ledger::list::<Organization>(&ctx.tenant, Parent::Root, query.clone()).await?;
    reply::page(&items, &query)
}

/// Count organizations.
#[utoipa::path(head, path = "/v1/organizations/metrics/count", tag = "Organizations",
    responses((status = 204, headers(("X-Total-Count" = i64)))))]
async fn count(ctx: TenantCtx, query: QueryPairs) -> Result<HttpResponse> {
    reply::total_count(
        ledger::count::<Organization>(&ctx.tenant, Parent::Root, list_query(&query)?).await?,
    )
}

/// Delete an organization (soft).
#[utoipa::path(delete, path = "/v1/organizations/{id}", tag = "Organizations",
    responses((status = 204)))]
async fn delete(ctx: TenantCtx, ids: Ids) -> Result<HttpResponse> {
    ledger::delete::<Organization>(&ctx.tenant, Parent::Root, ids.get("id")?).await?;
    reply::no_content()
}
