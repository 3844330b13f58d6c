//! Metadata indexes of the caller's tenant: create, list, drop (`/v1/settings/metadata-indexes`).

use super::Tenant;
use crate::domain::metadata::MetadataIndex;
use crate::domain::time::now;
use crate::error::Result;
use crate::store::metadata_indexes as sql;

/// What a client asks to index.
pub struct NewMetadataIndex {
    pub entity: String,
    pub key: String,
    pub unique: bool,
    pub sparse: bool,
}

pub async fn create(tenant: &Tenant, new: NewMetadataIndex) -> Result<MetadataIndex> {
    tenant
        .writer()
        .write(move |conn| sql::create(conn, &new.entity, &new.key, new.unique, new.sparse, &now()))
        .await
}

/// The tenant's indexes, of `entity` only when given.
pub async fn list(tenant: &Tenant, entity: Option<String>) -> Result<Vec<MetadataIndex>> {
    tenant
        .read(move |conn| sql::list(conn, entity.as_deref()))
        .await
}

pub async fn delete(tenant: &Tenant, entity: String, key: String) -> Result<()> {
    tenant
        .writer()
        .write(move |conn| sql::delete(conn, &entity, &key))
        .await
}
