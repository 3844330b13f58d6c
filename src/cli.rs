//! The command line: `serve` (the default), `token`, `tenant …` (create, list, suspend,
//! resume, backup, restore, delete, export), `verify`. The work itself is in [`crate::admin`],
//! shared with the admin API.

use crate::admin;
use crate::auth;
use crate::config::{Cli, Command, Config, TenantAction};
use crate::domain::tenant::TenantId;
use crate::startup::Application;
use crate::store::Registry;

/// Runs the command the user asked for.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None | Some(Command::Serve) => serve(cli.config),
        Some(Command::Version) => {
            println!(
                "ledgerlite {} (schema {})",
                env!("CARGO_PKG_VERSION"),
                crate::store::schema::SCHEMA_VERSION
            );
            Ok(())
        }
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
        Some(Command::Verify { tenant, all }) => verify(&cli.config, tenant, all),
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    crate::telemetry::init(config.log_format);
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
            for tenant in admin::list_tenants(&Registry::new(config.store())?)? {
                let suspended = if tenant.status == "suspended" {
                    " suspended"
                } else {
                    ""
                };
                println!("{}{suspended}", tenant.id);
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
        TenantAction::Backup { id, to, force } => {
            let id = parse(&id)?;
            admin::backup(&config.data_dir, id.clone(), &to, force)?;
            println!("backed up {id} to {}", to.display());
        }
        TenantAction::Restore { id, from, force } => {
            let id = parse(&id)?;
            admin::restore(&config.data_dir, id.clone(), &from, force)?;
            println!("restored {id} from {}", from.display());
        }
        TenantAction::Delete { id, yes } => {
            let id = parse(&id)?;
            if !yes {
                anyhow::bail!("deleting tenant {id} removes all its data; pass --yes to confirm");
            }
            let registry = Registry::new(config.store())?;
            for path in admin::delete_tenant(&registry, id.clone())? {
                eprintln!("removed {}", path.display());
            }
            println!("deleted {id}");
        }
        TenantAction::Export { id, to } => {
            let id = parse(&id)?;
            match to {
                Some(path) => {
                    let file = std::fs::File::create_new(&path)
                        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
                    let written = (|| -> anyhow::Result<u64> {
                        let mut out = std::io::BufWriter::new(file);
                        let rows = admin::export(&config.data_dir, id, &mut out)?;
                        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
                        Ok(rows)
                    })();
                    match written {
                        Ok(rows) => eprintln!("exported {rows} rows to {}", path.display()),
                        Err(e) => {
                            // No half-written export is left behind.
                            let _ = std::fs::remove_file(&path);
                            return Err(e);
                        }
                    }
                }
                None => {
                    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                    admin::export(&config.data_dir, id, &mut out)?;
                }
            }
        }
    }
    Ok(())
}

/// Audits one tenant or all of them; prints a line per tenant and fails if any has problems.
fn verify(config: &Config, tenant: Option<String>, all: bool) -> anyhow::Result<()> {
    let ids = match (tenant, all) {
        (Some(id), false) => {
            vec![TenantId::parse(&id).ok_or_else(|| anyhow::anyhow!("invalid tenant id {id:?}"))?]
        }
        _ => Registry::new(config.store())?.list()?,
    };
    let registry = Registry::new(config.store())?;
    let mut failed = 0;
    for tenant in admin::verify_tenants(&registry, &ids)? {
        let (id, audit) = (tenant.id, tenant.audit);
        if tenant.ok {
            println!(
                "{id}: ok ({} chain entries, {} operations, {} balances)",
                audit.chain_entries, audit.operations, audit.balances
            );
        } else {
            failed += 1;
            println!("{id}: {} problem(s)", audit.problems.len());
            for problem in &audit.problems {
                println!("  {problem}");
            }
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} tenant(s) failed verification");
    }
    Ok(())
}
