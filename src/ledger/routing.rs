//! Operation routes and transaction routes: their CRUD, and the route check a transaction of
//! a ledger with `accounting.validateRoutes` passes before it moves any balance.

use rusqlite::Connection;

use super::{Create, Record, Update, new_id, new_keys, set};
use crate::domain::entities::{Balance, Ledger, Stamps};
use crate::domain::journal::{Direction, Operation, OperationType, Transaction};
use crate::domain::metadata::Patch as MetadataPatch;
use crate::domain::routing::{
    self, AccountRule, AccountingEntries, AccountingEntry, Action, NewOperationRoute,
    NewTransactionRoute, OperationRoute, RouteLeg, RouteType, TransactionRoute,
};
use crate::domain::scope::Parent;
use crate::domain::time::Timestamp;
use crate::domain::transaction::Posting;
use crate::error::{Error, Kind, Result};
use crate::store::{self, routing as sql, transactions as journal};

// ---- operation routes ----------------------------------------------------------------------

/// An operation route keeps only the accounting entries it has.
impl Create for OperationRoute {
    type New = NewOperationRoute;

    fn build(_: &Connection, parent: &Parent, new: NewOperationRoute, at: Stamps) -> Result<Self> {
        let mut route = OperationRoute::created(new_keys(parent)?, new, at);
        route.accounting_entries = route.accounting_entries.filter(|e| !e.is_empty());
        Ok(route)
    }
}

/// A change of one action's entry: `None` keeps it, `Some(None)` removes it.
pub type EntryPatch = Option<Option<AccountingEntry>>;

/// Changes of an operation route; absent fields are kept. `accounting_entries`: `None` keeps
/// them, `Some(None)` removes them all, `Some(Some(changes))` changes the actions it names.
#[derive(Default)]
pub struct OperationRoutePatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub code: Option<String>,
    pub account: Option<AccountRule>,
    pub accounting_entries: Option<Option<Vec<(Action, EntryPatch)>>>,
    pub metadata: MetadataPatch,
}

/// The entries after `changes`: each named action replaced or removed, the rest kept.
fn merge_entries(
    existing: Option<AccountingEntries>,
    changes: Option<Option<Vec<(Action, EntryPatch)>>>,
) -> Option<AccountingEntries> {
    let changes = match changes {
        None => return existing,
        Some(None) => return None,
        Some(Some(changes)) => changes,
    };
    let mut entries = existing.unwrap_or_default();
    for (action, change) in changes {
        if let Some(entry) = change {
            *entries.slot_mut(action) = entry;
        }
    }
    Some(entries).filter(|e| !e.is_empty())
}

/// Its changed accounting entries must still fit its type (the matrix of
/// [`routing::check_entries_matrix`]).
impl Update for OperationRoute {
    type Patch = OperationRoutePatch;

    fn patch(&mut self, _: &Connection, _: &Parent, patch: OperationRoutePatch) -> Result<()> {
        if patch.accounting_entries.is_some() {
            let merged = merge_entries(self.accounting_entries.take(), patch.accounting_entries);
            if let Some(entries) = &merged {
                routing::check_entries_matrix(self.operation_type, entries)?;
            }
            self.accounting_entries = merged;
        }
        set(&mut self.title, patch.title);
        set(&mut self.description, patch.description.map(Some));
        set(&mut self.code, patch.code.map(Some));
        set(&mut self.account, patch.account.map(Some));
        self.metadata = patch.metadata.apply(std::mem::take(&mut self.metadata));
        Ok(())
    }
}

/// An operation route a transaction route lists is not deleted (0107).
impl Record for OperationRoute {
    fn deleting(conn: &Connection, _: &Parent, id: &str, _: &Timestamp) -> Result<()> {
        if sql::is_linked(conn, id)? {
            return Err(Error::new(Kind::OperationRouteLinkedToTransactionRoutes)
                .with_entity("OperationRoute"));
        }
        Ok(())
    }
}

// ---- transaction routes --------------------------------------------------------------------

/// The live operation routes `ids` of the ledger, once each, in order: any missing is 0101.
fn operation_routes(
    conn: &Connection,
    parent: &Parent,
    ids: &[String],
) -> Result<Vec<OperationRoute>> {
    let mut routes: Vec<OperationRoute> = Vec::with_capacity(ids.len());
    for id in ids {
        let id = id.to_lowercase();
        if routes.iter().all(|r| r.id != id) {
            routes.push(store::get::<OperationRoute>(conn, parent, &id)?);
        }
    }
    let kinds: Vec<RouteType> = routes.iter().map(|r| r.operation_type).collect();
    routing::check_route_mix(&kinds)?;
    Ok(routes)
}

fn link(conn: &Connection, route: &TransactionRoute) -> Result<()> {
    let ids: Vec<String> = route
        .operation_routes
        .iter()
        .map(|r| r.id.clone())
        .collect();
    sql::set_links(conn, &route.id, &ids)
}

/// A transaction route lists live operation routes of its ledger that can make a transaction
/// together, and links them.
impl Create for TransactionRoute {
    type New = NewTransactionRoute;

    fn build(
        conn: &Connection,
        parent: &Parent,
        new: NewTransactionRoute,
        at: Stamps,
    ) -> Result<Self> {
        let (organization_id, ledger_id) = parent.ledger_ids()?;
        Ok(TransactionRoute {
            operation_routes: operation_routes(conn, parent, &new.operation_routes)?,
            id: new_id(),
            organization_id,
            ledger_id,
            title: new.title,
            description: new.description,
            stamps: at,
            metadata: new.metadata,
        })
    }

    fn created(&self, conn: &Connection) -> Result<()> {
        link(conn, self)
    }
}

/// Changes of a transaction route; absent fields are kept. `operation_routes` replaces its
/// list (2 to 100 routes: 0104, 0158).
#[derive(Default)]
pub struct TransactionRoutePatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub operation_routes: Option<Vec<String>>,
    pub metadata: MetadataPatch,
}

/// A new list of operation routes is checked as on creation and linked instead of the old.
impl Update for TransactionRoute {
    type Patch = TransactionRoutePatch;

    fn patch(
        &mut self,
        conn: &Connection,
        parent: &Parent,
        patch: TransactionRoutePatch,
    ) -> Result<()> {
        if let Some(ids) = &patch.operation_routes {
            self.operation_routes = operation_routes(conn, parent, ids)?;
            link(conn, self)?;
        }
        set(&mut self.title, patch.title);
        set(&mut self.description, patch.description.map(Some));
        self.metadata = patch.metadata.apply(std::mem::take(&mut self.metadata));
        Ok(())
    }
}

/// Deleting a transaction route drops its links, freeing its operation routes.
impl Record for TransactionRoute {
    fn deleting(conn: &Connection, parent: &Parent, id: &str, _: &Timestamp) -> Result<()> {
        store::ensure_exists::<TransactionRoute>(conn, parent, id)?;
        sql::set_links(conn, id, &[])
    }
}

// ---- route checks of transactions ----------------------------------------------------------

/// A transaction's legs with their balances, as the route check sees them.
pub(crate) struct Sides<'a> {
    pub sources: (&'a [Posting], &'a [Balance]),
    pub destinations: (&'a [Posting], &'a [Balance]),
    /// Whether the sources' direction is checked (not for holds, settlements, releases).
    pub sources_directed: bool,
}

/// Midaz's step 7: when the ledger of `transaction` sets `accounting.validateRoutes`, its legs
/// must satisfy the transaction route it names for `action` (0114–0119, 0151–0157). Returns
/// the route the operations are then booked under ([`book`]), `None` when routes are not
/// validated.
pub(crate) fn check<'a>(
    conn: &Connection,
    parent: &Parent,
    transaction: &Transaction,
    action: Action,
    sides: Sides<'a>,
) -> Result<Option<TransactionRoute>> {
    let Parent::Ledger {
        organization_id,
        ledger_id,
    } = parent
    else {
        return Err(Error::internal("a route check outside a ledger"));
    };
    let ledger = store::get::<Ledger>(
        conn,
        &Parent::Organization(organization_id.clone()),
        ledger_id.as_str(),
    )?;
    if !ledger.settings.accounting.validate_routes {
        return Ok(None);
    }
    let id = routing::transaction_route_id(
        transaction.route_id.as_deref(),
        transaction.route.as_deref(),
    )?;
    let route = store::get::<TransactionRoute>(conn, parent, &id)?;
    let legs = |(postings, balances): (&'a [Posting], &'a [Balance]), source: bool, directed| {
        postings
            .iter()
            .zip(balances)
            .map(move |(posting, balance)| RouteLeg {
                alias: &posting.alias,
                account_type: &balance.account_type,
                route_id: posting.route_id.as_deref(),
                source,
                directed,
            })
    };
    let legs: Vec<RouteLeg<'_>> = legs(sides.sources, true, sides.sources_directed)
        .chain(legs(sides.destinations, false, true))
        .collect();
    routing::check_transaction(&route, action, &legs)?;
    Ok(Some(route))
}

/// Books each operation of `operations` that names an operation route under its rubric for
/// `action` and its direction (`routeCode`, `routeDescription`), and saves it again.
pub(crate) fn book(
    conn: &Connection,
    route: &TransactionRoute,
    action: Action,
    operations: &mut [Operation],
) -> Result<()> {
    for operation in operations.iter_mut() {
        let Some(route_id) = operation.routing.route_id.as_deref() else {
            continue;
        };
        let debit = operation.direction == Direction::Debit;
        // BLOCK and UNBLOCK operations book under their own rubric when the route has one,
        // else under the direct one (Midaz v3.8); OVERDRAFT ones under the overdraft rubric.
        let own = match operation.kind {
            OperationType::Block => Some(Action::Block),
            OperationType::Unblock => Some(Action::Unblock),
            OperationType::Overdraft => Some(Action::Overdraft),
            _ => None,
        };
        let rubric = own
            .and_then(|own| routing::rubric(route, own, route_id, debit))
            .or_else(|| routing::rubric(route, action, route_id, debit));
        if let Some(rubric) = rubric {
            operation.routing.route_code = Some(rubric.code.clone());
            operation.routing.route_description =
                Some(rubric.description.clone()).filter(|d| !d.is_empty());
            journal::save_operation(conn, operation)?;
        }
    }
    Ok(())
}

/// With route validation on, every move of an account's overdraft balance needs an `overdraft`
/// rubric of its direction on the operation route of the leg that caused it (0176).
pub(crate) fn check_overdraft_rubrics<'a>(
    route: &TransactionRoute,
    overdrafts: impl IntoIterator<Item = (Option<&'a str>, bool)>,
) -> Result<()> {
    for (route_id, debit) in overdrafts {
        let Some(route_id) = route_id else { continue };
        if routing::rubric(route, Action::Overdraft, route_id, debit).is_none() {
            return Err(Error::new(Kind::OverdraftRouteNotConfigured));
        }
    }
    Ok(())
}

/// Midaz refuses to revert a transaction any of whose operations names an operation route
/// that is not bidirectional (0150), whatever the ledger's settings.
pub(crate) fn check_revertible(
    conn: &Connection,
    parent: &Parent,
    operations: &[Operation],
) -> Result<()> {
    for operation in operations {
        if let Some(route_id) = operation.routing.route_id.as_deref() {
            let route = store::get::<OperationRoute>(conn, parent, route_id)?;
            if route.operation_type != RouteType::Bidirectional {
                return Err(Error::new(Kind::RouteNotBidirectional));
            }
        }
    }
    Ok(())
}
