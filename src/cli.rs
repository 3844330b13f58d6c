//! The command line: `serve` (the default), `token`, `tenant …`.

use crate::auth;
use crate::config::{Cli, Command, Config, TenantAction};
use crate::domain::tenant::TenantId;
use crate::startup::Application;
use crate::store::Registry;

/// Runs the command the user asked for.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None | Some(Command::Serve) => serve(cli.config),
        Some(Command::Token { tenant, ttl, scope }) => {
            let id = TenantId::parse(&tenant)
                .ok_or_else(|| anyhow::anyhow!("invalid tenant id {tenant:?}"))?;
            println!(
                "{}",
                auth::mint(&cli.config, id.as_str(), ttl, scope.as_deref())?
            );
            Ok(())
        }
        Some(Command::Tenant { action }) => tenant(&cli.config, action),
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    crate::telemetry::init();
    let addr = config.addr.clone();
    let mode = if config.multi_tenant {
        "multi-tenant"
    } else {
        "single-tenant"
    };
    let data_dir = config.data_dir.clone();
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config)?;
        tracing::info!(%addr, port = app.port(), mode, data_dir = %data_dir.display(), "ledgerlite listening");
        let registry = app.registry();
        app.run_until_stopped().await?;
        registry.close_all();
        tracing::info!("ledgerlite stopped");
        Ok(())
    })
}

fn tenant(config: &Config, action: TenantAction) -> anyhow::Result<()> {
    let parse = |id: &str| {
        TenantId::parse(id).ok_or_else(|| {
            anyhow::anyhow!("invalid tenant id {id:?}: use ^[A-Za-z0-9][A-Za-z0-9_-]{{0,63}}$")
        })
    };
    // Ids are checked before the registry creates the data folder: a refused command leaves
    // the disk untouched.
    match action {
        TenantAction::Create { id } => {
            let id = parse(&id)?;
            let created = Registry::new(config.store())?.create(&id)?;
            println!("{} {id}", if created { "created" } else { "exists" });
        }
        TenantAction::List => {
            let registry = Registry::new(config.store())?;
            for id in registry.list()? {
                let suspended = if registry.is_suspended(&id) {
                    " suspended"
                } else {
                    ""
                };
                println!("{id}{suspended}");
            }
        }
        TenantAction::Suspend { id } => {
            let id = parse(&id)?;
            Registry::new(config.store())?.set_suspended(&id, true)?;
            println!("suspended {id}");
        }
        TenantAction::Resume { id } => {
            let id = parse(&id)?;
            Registry::new(config.store())?.set_suspended(&id, false)?;
            println!("resumed {id}");
        }
    }
    Ok(())
}
