//! Embedding ledgerlite with no HTTP: the tenant registry the server uses, behind two calls.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let engine = ledgerlite::Engine::open("./data")?;
//! let tenant = engine.tenant("acme")?; // created on first use
//! // …then any `ledgerlite::ledger::…` use case, e.g. `onboarding::create_organization(&tenant, …)`.
//! # Ok(()) }
//! ```
//!
//! Use cases are `async` and run their SQL on blocking threads of the Tokio runtime they are
//! awaited in (any Tokio runtime, or actix's). `examples/embed.rs` is a complete program.

use std::path::PathBuf;
use std::sync::Arc;

use crate::config::Config;
use crate::domain::tenant::TenantId;
use crate::error::{Error, Kind, Result};
use crate::store::{Missing, Registry, Tenant};

/// One data folder of tenants, each opened on first use and kept in the registry's LRU.
pub struct Engine {
    registry: Arc<Registry>,
}

impl Engine {
    /// Tenants in `<data_dir>/tenants/`, with every other setting at its default.
    pub fn open(data_dir: impl Into<PathBuf>) -> anyhow::Result<Self> {
        Self::with_config(&Config::with_data_dir(data_dir))
    }

    /// Tenants as `config` (sync mode, cache size, data folder) says.
    pub fn with_config(config: &Config) -> anyhow::Result<Self> {
        Ok(Self {
            registry: Arc::new(Registry::new(config.store())?),
        })
    }

    /// The tenant `id`, its file created if it does not exist yet. Blocking (file I/O).
    pub fn tenant(&self, id: &str) -> Result<Arc<Tenant>> {
        let id = TenantId::parse(id).ok_or_else(|| Error::new(Kind::InvalidTenantId))?;
        self.registry.open(&id, Missing::Create)
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
