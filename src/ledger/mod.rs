//! Use cases: one function per operation. Writes run as one command of the tenant's writer
//! (one savepoint of a group commit); reads run on a read connection.

pub mod accounts;
pub mod asset_rates;
pub mod audit;
pub mod balances;
pub mod filters;
pub mod metadata_indexes;
pub mod onboarding;
pub mod routing;
pub mod transactions;

use std::sync::Arc;

use rusqlite::Connection;

use crate::domain::entities::{Account, Ledger, Organization, Stamped, Stamps, Status};
use crate::domain::ids::LedgerId;
use crate::domain::metadata::{Metadata, Patch as MetadataPatch};
use crate::domain::query::{CursorPage, ListQuery};
use crate::error::{Error, Kind, Result};

use crate::domain::scope::Parent;
use crate::domain::tenant::TenantId;
use crate::domain::time::Timestamp;
use crate::store::{self, Entity};

/// One tenant's ledger: the handle every use case takes. Cheap to clone; the tenant's file
/// stays open while a handle is held (an evicted tenant keeps serving its holders).
#[derive(Clone)]
pub struct Tenant(Arc<store::Tenant>);

impl From<Arc<store::Tenant>> for Tenant {
    fn from(tenant: Arc<store::Tenant>) -> Self {
        Self(tenant)
    }
}

impl Tenant {
    pub fn id(&self) -> &TenantId {
        self.0.id()
    }

    /// The tenant's writer, for use cases that change it.
    fn writer(&self) -> &store::writer::Writer {
        self.0.writer()
    }

    /// Runs `query` on a read connection on a blocking thread.
    async fn read<T, F>(&self, query: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.0.read(query).await
    }

    /// The stored tenant, for the audit and the store's own tools.
    fn store(&self) -> &Arc<store::Tenant> {
        &self.0
    }
}

/// An entity the generic use cases ([`get`], [`list`], [`list_by_cursor`], [`count`],
/// [`delete`]) serve: any stored entity of the catalogue.
pub trait Record: Entity {
    /// The rules and side effects of deleting the live entity `id` under `parent` at `at`, run
    /// in the deleting write before the soft delete: none unless the entity has some.
    fn deleting(_conn: &Connection, _parent: &Parent, _id: &str, _at: &Timestamp) -> Result<()> {
        Ok(())
    }
}

macro_rules! records {
    ($($entity:ty),*) => {$(
        impl Record for $entity {}
    )*};
}

records!(
    crate::domain::entities::Organization,
    crate::domain::entities::Ledger,
    crate::domain::entities::Portfolio,
    crate::domain::entities::Segment,
    crate::domain::entities::AccountType,
    crate::domain::entities::Balance
);

/// The journal is append-only: an operation is read through the generic use cases, never
/// deleted.
impl Record for crate::domain::journal::Operation {
    fn deleting(_: &Connection, _: &Parent, _: &str, _: &Timestamp) -> Result<()> {
        Err(Error::internal(
            "an operation of the journal is never deleted",
        ))
    }
}

/// A fresh time-ordered id.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The keys of a new record of the ledger of `parent`: a fresh id, the organization id and the
/// ledger id.
pub(crate) fn new_keys(parent: &Parent) -> Result<(String, String, String)> {
    let (organization_id, ledger_id) = parent.ledger_ids()?;
    Ok((new_id(), organization_id, ledger_id))
}

/// Fails with 0038 / 0037 unless the organization (and ledger) of `parent` exist, and with
/// the account's not-found error unless the account of an account-scoped parent does.
pub(crate) fn ensure_parent(conn: &Connection, parent: &Parent) -> Result<()> {
    match parent {
        Parent::Account { account_id, .. } => {
            let ledger = parent.ledger()?;
            ensure_parent(conn, &ledger)?;
            store::ensure_exists::<Account>(conn, &ledger, account_id.as_str())
        }
        Parent::Root => Ok(()),
        Parent::Organization(org) => {
            store::ensure_exists::<Organization>(conn, &Parent::Root, org.as_str())
        }
        Parent::Ledger {
            organization_id,
            ledger_id,
        } => {
            store::ensure_exists::<Organization>(conn, &Parent::Root, organization_id.as_str())?;
            store::ensure_exists::<Ledger>(
                conn,
                &Parent::Organization(organization_id.clone()),
                ledger_id.as_str(),
            )
        }
    }
}

/// Runs `command` as one write once the organization (and ledger) of `parent` are known to
/// exist; `command` gets the parent.
pub(crate) async fn write_in<T, F>(tenant: &Tenant, parent: Parent, command: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Connection, &Parent) -> Result<T> + Send + 'static,
{
    tenant
        .writer()
        .write(move |conn| {
            ensure_parent(conn, &parent)?;
            command(conn, &parent)
        })
        .await
}

/// [`write_in`] for reads, on a read connection.
pub(crate) async fn read_in<T, F>(tenant: &Tenant, parent: Parent, query: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Connection, &Parent) -> Result<T> + Send + 'static,
{
    tenant
        .read(move |conn| {
            ensure_parent(conn, &parent)?;
            query(conn, &parent)
        })
        .await
}

/// Whether a command of [`in_ledger`] changes the ledger (the tenant's writer runs it) or only
/// reads it (a read connection does).
#[derive(Clone, Copy)]
pub(crate) enum Run {
    Read,
    Write,
}

/// [`write_in`] or [`read_in`] in the ledger of `parent`; `command` also gets the ledger id.
pub(crate) async fn in_ledger<T, F>(
    tenant: &Tenant,
    parent: Parent,
    run: Run,
    command: F,
) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Connection, &Parent, &LedgerId) -> Result<T> + Send + 'static,
{
    let command =
        move |conn: &Connection, parent: &Parent| command(conn, parent, parent.ledger_id()?);
    match run {
        Run::Read => read_in(tenant, parent, command).await,
        Run::Write => write_in(tenant, parent, command).await,
    }
}

pub async fn get<E: Record>(tenant: &Tenant, parent: Parent, id: String) -> Result<E> {
    read_in(tenant, parent, move |conn, parent| {
        store::get::<E>(conn, parent, &id)
    })
    .await
}

pub async fn list<E: Record>(tenant: &Tenant, parent: Parent, query: ListQuery) -> Result<Vec<E>> {
    read_in(tenant, parent, move |conn, parent| {
        store::list::<E>(conn, parent, &query)
    })
    .await
}

/// A cursor page of the entities under `parent`.
pub async fn list_by_cursor<E: Record>(
    tenant: &Tenant,
    parent: Parent,
    query: ListQuery,
) -> Result<CursorPage<E>> {
    read_in(tenant, parent, move |conn, parent| {
        store::list_by_cursor::<E>(conn, parent, &query)
    })
    .await
}

pub async fn count<E: Record>(tenant: &Tenant, parent: Parent, query: ListQuery) -> Result<i64> {
    read_in(tenant, parent, move |conn, parent| {
        store::count::<E>(conn, parent, &query)
    })
    .await
}

/// Soft-deletes an entity after its [`Record::deleting`] rules.
pub async fn delete<E: Record>(tenant: &Tenant, parent: Parent, id: String) -> Result<()> {
    write_in(tenant, parent, move |conn, parent| {
        let at = crate::domain::time::now();
        E::deleting(conn, parent, &id, &at)?;
        store::delete::<E>(conn, parent, &id, &at)
    })
    .await
}

/// An entity the generic [`create`] use case creates from its command (which `entity!`
/// declares with it); its own rules run in [`Create::build`].
pub trait Create: Record + Stamped {
    type New: Send + 'static;

    /// The entity `new` creates under `parent`, stamped `stamps`, once its rules pass.
    fn build(conn: &Connection, parent: &Parent, new: Self::New, stamps: Stamps) -> Result<Self>;

    /// What creating the entity writes besides its row: nothing unless it has more.
    fn created(&self, _conn: &Connection) -> Result<()> {
        Ok(())
    }
}

/// An entity the generic [`update`] use case changes with its patch.
pub trait Update: Record + Stamped {
    type Patch: Send + 'static;

    /// Applies `patch` to the live entity under `parent`, with the entity's rules on it.
    fn patch(&mut self, conn: &Connection, parent: &Parent, patch: Self::Patch) -> Result<()>;
}

/// Creates an entity under `parent` from its command.
pub async fn create<E: Create>(tenant: &Tenant, parent: Parent, new: E::New) -> Result<E> {
    write_in(tenant, parent, move |conn, parent| {
        let entity = E::build(conn, parent, new, Stamps::new(crate::domain::time::now()))?;
        entity.save(conn)?;
        entity.created(conn)?;
        Ok(entity)
    })
    .await
}

/// Applies `patch` to the live entity `id` under `parent`.
pub async fn update<E: Update>(
    tenant: &Tenant,
    parent: Parent,
    id: String,
    patch: E::Patch,
) -> Result<E> {
    change(tenant, parent, id, move |conn, parent, entity: &mut E| {
        entity.patch(conn, parent, patch)
    })
    .await
}

/// Runs `change` on the live entity `id` and saves it with a new `updatedAt`.
pub(crate) async fn change<E, F>(
    tenant: &Tenant,
    parent: Parent,
    id: String,
    change: F,
) -> Result<E>
where
    E: Record + Stamped,
    F: FnOnce(&Connection, &Parent, &mut E) -> Result<()> + Send + 'static,
{
    write_in(tenant, parent, move |conn, parent| {
        let mut entity = store::get::<E>(conn, parent, &id)?;
        change(conn, parent, &mut entity)?;
        entity.stamps_mut().updated_at = crate::domain::time::now();
        entity.save(conn)?;
        Ok(entity)
    })
    .await
}

/// A patch's new value of a field, when it has one.
pub(crate) fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *field = value;
    }
}

/// A patch's new status (an empty code meaning ACTIVE) and its metadata changes.
pub(crate) fn apply_status_and_metadata(
    status: &mut Status,
    metadata: &mut Metadata,
    new_status: Option<Status>,
    patch: MetadataPatch,
) {
    if let Some(new_status) = new_status {
        *status = Status::or_active(Some(new_status));
    }
    *metadata = patch.apply(std::mem::take(metadata));
}

/// A conflict error unless `taken` is false.
pub fn ensure_free(taken: bool, kind: Kind) -> Result<()> {
    if taken { Err(Error::new(kind)) } else { Ok(()) }
}
