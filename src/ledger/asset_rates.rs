//! Asset rates: upsert by currency pair, get by external id, list from a code.

use super::Run;
use super::Tenant;
use super::{ensure_parent, new_id};
use crate::domain::entities::Stamps;
use crate::domain::journal::AssetRate;
use crate::domain::metadata::Metadata;
use crate::domain::query::CursorPage;
use crate::domain::query::ListQuery;
use crate::domain::scope::Parent;
use crate::domain::time::now;
use crate::error::{Error, Kind, Result};
use crate::store::asset_rates as sql;

pub struct NewAssetRate {
    pub from: String,
    pub to: String,
    pub rate: rust_decimal::Decimal,
    pub scale: i64,
    pub source: Option<String>,
    pub ttl: i64,
    pub external_id: Option<String>,
    pub metadata: Metadata,
}

/// Creates the rate of `from → to`, or replaces the existing one (keeping its id).
pub async fn put(tenant: &Tenant, parent: Parent, new: NewAssetRate) -> Result<AssetRate> {
    tenant
        .writer()
        .write(move |conn| {
            ensure_parent(conn, &parent)?;
            let (organization_id, ledger_id) = parent.ledger_ids()?;
            let at = now();
            let rate = match sql::by_pair(conn, &ledger_id, &new.from, &new.to)? {
                Some(existing) => AssetRate {
                    external_id: new.external_id.unwrap_or(existing.external_id),
                    rate: new.rate,
                    scale: new.scale,
                    source: new.source,
                    ttl: new.ttl,
                    metadata: new.metadata,
                    stamps: Stamps {
                        updated_at: at,
                        ..existing.stamps
                    },
                    ..existing
                },
                None => AssetRate {
                    id: new_id(),
                    organization_id,
                    ledger_id,
                    external_id: new.external_id.unwrap_or_else(new_id),
                    from: new.from,
                    to: new.to,
                    rate: new.rate,
                    scale: new.scale,
                    source: new.source,
                    ttl: new.ttl,
                    stamps: Stamps::new(at),
                    metadata: new.metadata,
                },
            };
            if sql::by_external_id(conn, &rate.ledger_id, &rate.external_id)?
                .is_some_and(|other| other.id != rate.id)
            {
                return Err(Error::new(Kind::AssetRateExternalIdConflict).with_entity("AssetRate"));
            }
            sql::save(conn, &rate)?;
            Ok(rate)
        })
        .await
}

pub async fn get(tenant: &Tenant, parent: Parent, external_id: String) -> Result<AssetRate> {
    super::in_ledger(tenant, parent, Run::Read, move |conn, _, ledger_id| {
        sql::by_external_id(conn, ledger_id.as_str(), &external_id)?
            .ok_or_else(|| Error::new(Kind::EntityNotFound).with_entity("AssetRate"))
    })
    .await
}

pub async fn list_from(
    tenant: &Tenant,
    parent: Parent,
    from: String,
    query: ListQuery,
) -> Result<CursorPage<AssetRate>> {
    super::in_ledger(tenant, parent, Run::Read, move |conn, _, ledger_id| {
        sql::list_from(conn, ledger_id.as_str(), &from, &query)
    })
    .await
}
