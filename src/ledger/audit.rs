//! Auditing a tenant: the hash chain, every balance against its operations, conservation.

use super::Tenant;
use crate::domain::audit::Audit;
use crate::error::Result;
use crate::store::chain;

/// Audits the tenant on a read connection (one consistent snapshot; writes go on).
pub async fn verify(tenant: &Tenant) -> Result<Audit> {
    tenant.read(chain::audit).await
}

/// [`verify`] for callers outside an async runtime (the CLI).
pub fn verify_blocking(tenant: &Tenant) -> Result<Audit> {
    tenant.store().read_blocking(chain::audit)
}
