//! Auditing a tenant: the hash chain, every balance against its operations, conservation.

use std::sync::Arc;

use crate::error::Result;
use crate::store::Tenant;
use crate::store::chain::{self, Audit};

/// Audits the tenant on a read connection (one consistent snapshot; writes go on).
pub async fn verify(tenant: &Arc<Tenant>) -> Result<Audit> {
    tenant.read(chain::audit).await
}

/// [`verify`] for callers outside an async runtime (the CLI).
pub fn verify_blocking(tenant: &Tenant) -> Result<Audit> {
    tenant.read_blocking(chain::audit)
}
