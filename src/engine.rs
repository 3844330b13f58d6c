//! Embedding ledgerlite with no HTTP: the tenant registry the server uses, behind two calls.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let engine = ledgerlite::Engine::open("./data")?;
//! let tenant = engine.tenant("acme")?; // created on first use
//! // …then any `ledgerlite::ledger::…` use case, e.g. `ledger::create::<Organization>(&tenant, Parent::Root, …)`.
//! # Ok(()) }
//! ```
//!
//! Use cases are `async` and run their SQL on blocking threads of the Tokio runtime they are
//! awaited in (any Tokio runtime, or actix's). `examples/embed.rs` is a complete program.

use std::path::PathBuf;
use std::sync::Arc;

use crate::domain::tenant::TenantId;
use crate::error::{Error, Kind, Result};
use crate::ledger::Tenant;
use crate::store::{Missing, Registry, StoreConfig};

/// One data folder of tenants, each opened on first use and kept in the registry's LRU.
pub struct Engine {
    registry: Arc<Registry>,
}

impl Engine {
    /// Tenants in `<data_dir>/tenants/`, with every other setting at its default.
    pub fn open(data_dir: impl Into<PathBuf>) -> anyhow::Result<Self> {
        Self::with_store_config(StoreConfig::with_data_dir(data_dir))
    }

    /// Tenants as `config` (sync mode, cache size, data folder) says.
    pub fn with_store_config(config: StoreConfig) -> anyhow::Result<Self> {
        Ok(Self::with_registry(Arc::new(Registry::new(config)?)))
    }

    /// Tenants as the server's configuration says.
    #[cfg(feature = "server")]
    pub fn with_config(config: &crate::config::Config) -> anyhow::Result<Self> {
        Self::with_store_config(config.store())
    }

    /// The tenants of `registry` (the server's).
    pub fn with_registry(registry: Arc<Registry>) -> Self {
        Self { registry }
    }

    /// The tenant `id`, its file created if it does not exist yet. Blocking (file I/O).
    pub fn tenant(&self, id: &str) -> Result<Tenant> {
        let id = TenantId::parse(id).ok_or_else(|| Error::new(Kind::InvalidTenantId))?;
        self.registry.open(&id, Missing::Create).map(Tenant::from)
    }

    /// The tenant `id` if it is open now (no I/O).
    pub fn find(&self, id: &TenantId) -> Option<Tenant> {
        self.registry.find(id).map(Tenant::from)
    }

    /// Opens the tenant `id`; a tenant without a file is created only when the configuration
    /// provisions tenants on first use, else it is `TENANT_NOT_FOUND`. Blocking (file I/O).
    pub fn open_tenant(&self, id: &TenantId) -> Result<Tenant> {
        let missing = if self.registry.config().auto_provision {
            Missing::Create
        } else {
            Missing::Fail
        };
        self.registry.open(id, missing).map(Tenant::from)
    }

    /// Whether the operator's state of tenant `id` lets a request through (`writes`: one that
    /// may write): moved, suspended or (for writes) frozen refuse it.
    pub fn admit(&self, id: &TenantId, writes: bool) -> Result<()> {
        self.registry.files_of(id).refuse_request(writes)
    }

    /// Bytes of heap SQLite holds now, over every open tenant.
    pub fn sqlite_memory_bytes() -> u64 {
        crate::store::sqlite_memory_bytes()
    }

    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }
}

impl Drop for Engine {
    /// Tenants no one holds any more close with their WAL folded into the file.
    fn drop(&mut self) {
        self.registry.close_all();
    }
}
