//! Use cases: one function per operation. Writes run as one command of the tenant's writer
//! (one savepoint of a group commit); reads run on a read connection.

pub mod accounts;
pub mod asset_rates;
pub mod audit;
pub mod balances;
pub mod onboarding;
pub mod transactions;

use std::sync::Arc;

use rusqlite::Connection;

use crate::domain::entities::{Ledger, Organization};
use crate::domain::query::ListQuery;
use crate::error::{Error, Kind, Result};
use crate::store::{self, Entity, Parent, Tenant};

/// A fresh time-ordered id.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Fails with 0038 / 0037 unless the organization (and ledger) of `parent` exist.
pub fn ensure_parent(conn: &Connection, parent: &Parent) -> Result<()> {
    match parent {
        Parent::Root => Ok(()),
        Parent::Organization(org) => store::ensure_exists::<Organization>(conn, &Parent::Root, org),
        Parent::Ledger {
            organization_id,
            ledger_id,
        } => {
            store::ensure_exists::<Organization>(conn, &Parent::Root, organization_id)?;
            store::ensure_exists::<Ledger>(
                conn,
                &Parent::Organization(organization_id.clone()),
                ledger_id,
            )
        }
    }
}

/// Runs `command` as one write in the ledger of `parent` once the organization and ledger are
/// known to exist; `command` gets the parent and the ledger id.
pub async fn write_in_ledger<T, F>(tenant: &Arc<Tenant>, parent: Parent, command: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Connection, &Parent, &str) -> Result<T> + Send + 'static,
{
    tenant
        .writer()
        .write(move |conn| {
            ensure_parent(conn, &parent)?;
            let (_, ledger_id) = parent.ledger_ids()?;
            command(conn, &parent, &ledger_id)
        })
        .await
}

/// [`write_in_ledger`] for reads, on a read connection.
pub async fn read_in_ledger<T, F>(tenant: &Arc<Tenant>, parent: Parent, query: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Connection, &Parent, &str) -> Result<T> + Send + 'static,
{
    tenant
        .read(move |conn| {
            ensure_parent(conn, &parent)?;
            let (_, ledger_id) = parent.ledger_ids()?;
            query(conn, &parent, &ledger_id)
        })
        .await
}

pub async fn get<E: Entity>(tenant: &Arc<Tenant>, parent: Parent, id: String) -> Result<E> {
    tenant
        .read(move |conn| {
            ensure_parent(conn, &parent)?;
            store::get::<E>(conn, &parent, &id)
        })
        .await
}

pub async fn list<E: Entity>(
    tenant: &Arc<Tenant>,
    parent: Parent,
    query: ListQuery,
) -> Result<Vec<E>> {
    tenant
        .read(move |conn| {
            ensure_parent(conn, &parent)?;
            store::list::<E>(conn, &parent, &query)
        })
        .await
}

pub async fn count<E: Entity>(
    tenant: &Arc<Tenant>,
    parent: Parent,
    query: ListQuery,
) -> Result<i64> {
    tenant
        .read(move |conn| {
            ensure_parent(conn, &parent)?;
            store::count::<E>(conn, &parent, &query)
        })
        .await
}

/// Soft-deletes an entity that has no delete rules of its own.
pub async fn delete<E: Entity>(tenant: &Arc<Tenant>, parent: Parent, id: String) -> Result<()> {
    tenant
        .writer()
        .write(move |conn| {
            ensure_parent(conn, &parent)?;
            store::delete::<E>(conn, &parent, &id, &crate::domain::time::now())
        })
        .await
}

/// Runs `change` on the live entity `id` and saves it with a new `updatedAt`.
pub async fn update<E, F>(tenant: &Arc<Tenant>, parent: Parent, id: String, change: F) -> Result<E>
where
    E: Entity + Stamped,
    F: FnOnce(&Connection, &mut E) -> Result<()> + Send + 'static,
{
    tenant
        .writer()
        .write(move |conn| {
            ensure_parent(conn, &parent)?;
            let mut entity = store::get::<E>(conn, &parent, &id)?;
            change(conn, &mut entity)?;
            entity.touch(crate::domain::time::now());
            entity.save(conn)?;
            Ok(entity)
        })
        .await
}

/// Entities whose `updatedAt` moves on every change.
pub trait Stamped {
    fn touch(&mut self, now: String);
}

macro_rules! stamped {
    ($($entity:ty),*) => {$(
        impl Stamped for $entity {
            fn touch(&mut self, now: String) {
                self.stamps.updated_at = now;
            }
        }
    )*};
}

stamped!(
    crate::domain::entities::Organization,
    crate::domain::entities::Ledger,
    crate::domain::entities::Asset,
    crate::domain::entities::Portfolio,
    crate::domain::entities::Segment,
    crate::domain::entities::AccountType,
    crate::domain::entities::Account,
    crate::domain::entities::Balance
);

/// A conflict error unless `taken` is false.
pub fn ensure_free(taken: bool, kind: Kind) -> Result<()> {
    if taken { Err(Error::new(kind)) } else { Ok(()) }
}
