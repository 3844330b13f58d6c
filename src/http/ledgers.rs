//! `/v1/organizations/{organization_id}/ledgers` and `/settings`.

use actix_web::HttpResponse;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::body::{Check, StatusInput, create_metadata, status_or_active};
use super::extract::{Body, Ids, QueryPairs, TenantCtx};
use super::ledger_items::UpdateNamed;
use super::openapi::{Page, PageQuery};
use super::records::{self, Input, entity_docs};
use super::reply;
use super::routes::{Access, Resource, Route};
use crate::domain::entities::{Ledger, LedgerSettings, NewLedger};
use crate::domain::metadata::Metadata;
use crate::error::{Error, Kind, Result};
use crate::ledger::filters;
use crate::ledger::onboarding;
use crate::ledger::{self};

/// Longest ledger name, in characters.
pub const LEDGER_NAME_LENGTH_MAX: usize = 256;
/// Largest settings PATCH body, in bytes.
pub const SETTINGS_BODY_BYTES_MAX: usize = 64 * 1024;

pub(super) fn routes() -> Vec<Route> {
    let access = Access::Tenant(Resource::Ledgers);
    vec![
        Route::new::<__path_count>(access, |r| r.to(count)).filters(filters::LEDGER_FILTERS),
        Route::new::<__path_create>(access, |r| r.to(records::create::<Ledger, CreateLedger>)),
        Route::new::<__path_list>(access, |r| r.to(list)).filters(filters::LEDGER_FILTERS),
        Route::new::<__path_get_settings>(access, |r| r.to(get_settings)),
        Route::new::<__path_update_settings>(access, |r| r.to(update_settings)),
        Route::new::<__path_get>(access, |r| r.to(get)),
        Route::new::<__path_update>(access, |r| r.to(records::update::<Ledger, UpdateNamed>)),
        Route::new::<__path_delete>(access, |r| r.to(delete)),
    ]
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct CreateLedger {
    #[schema(value_type = String, required = true, max_length = 256)]
    name: Option<String>,
    status: Option<StatusInput>,
    settings: Option<LedgerSettingsInput>,
    #[schema(schema_with = crate::http::openapi::metadata_input)]
    metadata: Option<Metadata>,
}

/// Ledger settings to change; absent fields are kept (default `false`).
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct LedgerSettingsInput {
    accounting: Option<AccountingInput>,
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AccountingInput {
    validate_account_type: Option<bool>,
    validate_routes: Option<bool>,
}

impl LedgerSettingsInput {
    fn apply(self, mut settings: LedgerSettings) -> LedgerSettings {
        if let Some(accounting) = self.accounting {
            if let Some(flag) = accounting.validate_account_type {
                settings.accounting.validate_account_type = flag;
            }
            if let Some(flag) = accounting.validate_routes {
                settings.accounting.validate_routes = flag;
            }
        }
        settings
    }
}

impl Input for CreateLedger {
    type Command = NewLedger;

    fn command(self) -> Result<NewLedger> {
        let mut check = Check::new();
        let name = check.required_max("name", self.name.as_deref(), LEDGER_NAME_LENGTH_MAX);
        check.status(self.status.as_ref());
        check.finish()?;
        Ok(NewLedger {
            name,
            settings: self
                .settings
                .unwrap_or_default()
                .apply(LedgerSettings::default()),
            status: status_or_active(self.status),
            metadata: create_metadata(self.metadata)?,
        })
    }
}

entity_docs!(
    /// Create a ledger.
    create under "/v1/organizations/{organization_id}", "Ledgers" "ledgers" Ledger CreateLedger, create
);

entity_docs!(
    /// Update a ledger.
    update under "/v1/organizations/{organization_id}", "Ledgers" "ledgers" Ledger UpdateNamed, update
);

/// Get a ledger.
#[utoipa::path(get, path = "/v1/organizations/{organization_id}/ledgers/{id}", tag = "Ledgers", responses((status = 200, body = Ledger)))]
async fn get(ctx: TenantCtx, ids: Ids) -> Result<HttpResponse> {
    reply::ok(&ledger::get::<Ledger>(&ctx.tenant, ids.organization()?, ids.get("id")?).await?)
}

/// List the ledgers of an organization.
#[utoipa::path(get, path = "/v1/organizations/{organization_id}/ledgers", tag = "Ledgers", params(PageQuery),
    responses((status = 200, body = Page<Ledger>)))]
async fn list(ctx: TenantCtx, ids: Ids, query: QueryPairs) -> Result<HttpResponse> {
    let query = query.list()?;
    let items = ledger::list::<Ledger>(&ctx.tenant, ids.organization()?, query.clone()).await?;
    reply::page(&items, &query)
}

/// Count the ledgers of an organization.
#[utoipa::path(head, path = "/v1/organizations/{organization_id}/ledgers/metrics/count", tag = "Ledgers",
    responses((status = 204, headers(("X-Total-Count" = i64)))))]
async fn count(ctx: TenantCtx, ids: Ids, query: QueryPairs) -> Result<HttpResponse> {
    reply::total_count(
        ledger::count::<Ledger>(&ctx.tenant, ids.organization()?, query.list()?).await?,
    )
}

/// Delete a ledger (soft).
#[utoipa::path(delete, path = "/v1/organizations/{organization_id}/ledgers/{id}", tag = "Ledgers", responses((status = 204)))]
async fn delete(ctx: TenantCtx, ids: Ids) -> Result<HttpResponse> {
    ledger::delete::<Ledger>(&ctx.tenant, ids.organization()?, ids.get("id")?).await?;
    reply::no_content()
}

/// Get a ledger's settings.
#[utoipa::path(get, path = "/v1/organizations/{organization_id}/ledgers/{id}/settings", tag = "Ledgers",
    responses((status = 200, body = LedgerSettings)))]
async fn get_settings(ctx: TenantCtx, ids: Ids) -> Result<HttpResponse> {
    let ledger = ledger::get::<Ledger>(&ctx.tenant, ids.organization()?, ids.get("id")?).await?;
    reply::ok(&ledger.settings)
}

/// Update a ledger's settings.
///
/// Merges a partial settings object: unknown section or field 0147, wrong type 0148, a
/// section's field given at the root 0149.
#[utoipa::path(patch, path = "/v1/organizations/{organization_id}/ledgers/{id}/settings", tag = "Ledgers",
    request_body = LedgerSettingsInput, responses((status = 200, body = LedgerSettings)))]
async fn update_settings(ctx: TenantCtx, ids: Ids, body: Body) -> Result<HttpResponse> {
    if body.0.len() > SETTINGS_BODY_BYTES_MAX {
        return Err(Error::new(Kind::PayloadTooLarge));
    }
    let value: Value = serde_json::from_slice(&body.0).map_err(|e| {
        Error::new(Kind::InvalidRequestBody).with_message(format!("Invalid request body: {e}."))
    })?;
    let Value::Object(root) = value else {
        return Err(Error::new(Kind::InvalidRequestBody)
            .with_message("The settings must be a JSON object."));
    };
    let input = settings_input(root)?;
    let ledger = onboarding::update_ledger_settings(
        &ctx.tenant,
        ids.organization()?,
        ids.get("id")?,
        move |current| Ok(input.apply(current)),
    )
    .await?;
    reply::ok(&ledger.settings)
}

fn settings_input(root: Map<String, Value>) -> Result<LedgerSettingsInput> {
    const ACCOUNTING_FIELDS: &[&str] = &["validateAccountType", "validateRoutes"];
    let mut input = LedgerSettingsInput::default();
    for (key, value) in root {
        if ACCOUNTING_FIELDS.contains(&key.as_str()) {
            return Err(Error::new(Kind::SettingsRootLevelField)
                .with_message(format!("'{key}' belongs under 'accounting'.")));
        }
        if key != "accounting" {
            return Err(Error::new(Kind::UnknownSettingsField)
                .with_message(format!("Unknown settings field '{key}'.")));
        }
        let Value::Object(section) = value else {
            return Err(Error::new(Kind::InvalidSettingsFieldType)
                .with_message("'accounting' must be an object."));
        };
        let mut accounting = AccountingInput::default();
        for (field, flag) in section {
            let flag = flag.as_bool().ok_or_else(|| {
                Error::new(Kind::InvalidSettingsFieldType)
                    .with_message(format!("'accounting.{field}' must be a boolean."))
            });
            match field.as_str() {
                "validateAccountType" => accounting.validate_account_type = Some(flag?),
                "validateRoutes" => accounting.validate_routes = Some(flag?),
                _ => {
                    return Err(Error::new(Kind::UnknownSettingsField)
                        .with_message(format!("Unknown settings field 'accounting.{field}'.")));
                }
            }
        }
        input.accounting = Some(accounting);
    }
    Ok(input)
}
