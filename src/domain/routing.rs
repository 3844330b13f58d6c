//! Operation routes and transaction routes (Midaz's accounting routes), and the pure rules
//! that check them: an operation route's account rule and accounting entries when it is
//! written, a transaction route's mix of operation routes, and a transaction's legs against
//! the transaction route it names when its ledger sets `accounting.validateRoutes`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::entities::{Stamps, entity};
use super::metadata::Metadata;
use crate::error::{Error, Kind, Result};

/// Most operation routes a transaction route may list (Midaz: 100, on update).
pub const OPERATION_ROUTES_PER_TRANSACTION_ROUTE_MAX: usize = 100;
/// Fewest operation routes a transaction route update may list (Midaz: one of each side).
pub const OPERATION_ROUTES_PER_TRANSACTION_ROUTE_MIN: usize = 2;

/// `account.ruleType` of a rule on the account's alias.
pub const RULE_ALIAS: &str = "alias";
/// `account.ruleType` of a rule on the account's type.
pub const RULE_ACCOUNT_TYPE: &str = "account_type";

/// Which side of a transaction an operation route serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RouteType {
    Source,
    Destination,
    Bidirectional,
}

impl RouteType {
    /// The type named `text` (exact, lower case), or 0103.
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "source" => Ok(Self::Source),
            "destination" => Ok(Self::Destination),
            "bidirectional" => Ok(Self::Bidirectional),
            _ => Err(Error::new(Kind::InvalidOperationRouteType)),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Source => "source",
            Self::Destination => "destination",
            Self::Bidirectional => "bidirectional",
        }
    }
}

/// Which accounts a leg on an operation route may name: `validIf` is an alias (`alias`) or a
/// list of account types (`account_type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AccountRule {
    pub rule_type: String,
    /// An alias (`alias`) or a list of account types (`account_type`).
    #[cfg_attr(feature = "server", schema(schema_with = valid_if_schema))]
    pub valid_if: Value,
}

/// `validIf`: a string or a list of strings.
#[cfg(feature = "server")]
fn valid_if_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
    let text = || ObjectBuilder::new().schema_type(Type::String);
    OneOfBuilder::new()
        .item(text())
        .item(ArrayBuilder::new().items(text()))
        .into()
}

/// A chart-of-accounts entry: its code and description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Rubric {
    pub code: String,
    pub description: String,
}

/// The debit and credit rubrics of one action.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AccountingEntry {
    pub debit: Option<Rubric>,
    pub credit: Option<Rubric>,
}

/// The accounting actions, each with the name Midaz gives it, which is also the field of
/// its entry in [`AccountingEntries`]: one list makes the enum, [`Action::ALL`], the names
/// and the entries' fields, so they cannot drift apart.
macro_rules! actions {
    ($($action:ident => $name:ident),* $(,)?) => {
        /// What a transaction does with the legs on a route: its accounting action.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        pub enum Action {
            $($action,)*
        }

        impl Action {
            /// Every action, in Midaz's order.
            pub const ALL: [Action; [$(Action::$action),*].len()] = [$(Action::$action),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Action::$action => stringify!($name),)*
                }
            }
        }

        /// The accounting entries of an operation route, one per action it takes part in.
        #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
        #[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
        pub struct AccountingEntries {
            $(
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $name: Option<AccountingEntry>,
            )*
        }

        impl AccountingEntries {
            fn slot(&self, action: Action) -> &Option<AccountingEntry> {
                match action {
                    $(Action::$action => &self.$name,)*
                }
            }

            pub fn slot_mut(&mut self, action: Action) -> &mut Option<AccountingEntry> {
                match action {
                    $(Action::$action => &mut self.$name,)*
                }
            }
        }
    };
}

actions! {
    Direct => direct,
    Hold => hold,
    Commit => commit,
    Cancel => cancel,
    Revert => revert,
    Overdraft => overdraft,
    Block => block,
    Unblock => unblock,
}

impl Action {
    /// Actions whose missing rubric is Midaz's 0009 rather than 0166.
    fn missing_is_0009(self) -> bool {
        matches!(
            self,
            Action::Direct | Action::Hold | Action::Commit | Action::Cancel | Action::Revert
        )
    }
}

impl AccountingEntries {
    pub fn get(&self, action: Action) -> Option<&AccountingEntry> {
        self.slot(action).as_ref()
    }

    pub fn is_empty(&self) -> bool {
        Action::ALL.iter().all(|a| self.get(*a).is_none())
    }

    /// The actions with an entry, in Midaz's order.
    fn present(&self) -> impl Iterator<Item = (Action, &AccountingEntry)> {
        Action::ALL
            .into_iter()
            .filter_map(|a| self.get(a).map(|e| (a, e)))
    }
}

entity! {
    pub struct OperationRoute in ledger, created from NewOperationRoute {
        pub title: String,
        pub description: Option<String>,
        pub code: Option<String>,
        pub operation_type: RouteType,
        pub account: Option<AccountRule>,
        pub accounting_entries: Option<AccountingEntries>,
    }
}

entity! {
    pub struct TransactionRoute in ledger, created from NewTransactionRoute {
        pub title: String,
        pub description: Option<String>,
        // The command names them by id.
        pub operation_routes: Vec<OperationRoute> as Vec<String>,
    }
}

// ---- rules on writing routes ----------------------------------------------------------------

/// A transaction route lists 2 to 100 operation routes (0104, 0158).
pub fn check_route_list_length(routes: usize) -> Result<()> {
    if routes < OPERATION_ROUTES_PER_TRANSACTION_ROUTE_MIN {
        return Err(Error::new(Kind::MissingOperationRoutes));
    }
    if routes > OPERATION_ROUTES_PER_TRANSACTION_ROUTE_MAX {
        return Err(Error::new(Kind::TooManyOperationRoutes));
    }
    Ok(())
}

fn missing(field: String) -> Error {
    Error::new(Kind::MissingFieldsInRequest)
        .with_fields([(field.clone(), format!("{field} is a required field"))].into())
}

/// An account rule's shape (Midaz's handler): both fields or neither (0009), a known rule
/// type (0111), an alias string or a list of account type strings (0112).
pub fn check_account_rule(rule_type: Option<&str>, valid_if: Option<&Value>) -> Result<()> {
    let valid_if = valid_if.filter(|v| !v.is_null());
    let rule_type = rule_type.filter(|r| !r.is_empty());
    match (rule_type, valid_if) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(missing("account.validIf".to_owned())),
        (None, Some(_)) => Err(missing("account.ruleType".to_owned())),
        (Some(rule), Some(value)) => match rule.to_lowercase().as_str() {
            RULE_ALIAS if value.is_string() => Ok(()),
            RULE_ACCOUNT_TYPE
                if value
                    .as_array()
                    .is_some_and(|items| items.iter().all(Value::is_string)) =>
            {
                Ok(())
            }
            RULE_ALIAS | RULE_ACCOUNT_TYPE => Err(Error::new(Kind::InvalidAccountRuleValue)),
            _ => Err(Error::new(Kind::InvalidAccountRuleType)),
        },
    }
}

/// Each present entry has a rubric (0009 for the reserve actions, 0166 for the others), and
/// each rubric a code and a description.
pub fn check_entry_shapes(entries: &AccountingEntries) -> Result<()> {
    for (action, entry) in entries.present() {
        let fail = |field: String| {
            if action.missing_is_0009() {
                missing(field)
            } else {
                Error::new(Kind::AccountingEntryFieldRequired).with_message(format!(
                    "{} {field}",
                    Kind::AccountingEntryFieldRequired.spec().message
                ))
            }
        };
        let name = action.as_str();
        if entry.debit.is_none() && entry.credit.is_none() {
            return Err(fail(format!(
                "accountingEntries.{name}.debit, accountingEntries.{name}.credit"
            )));
        }
        for (side, rubric) in [("debit", &entry.debit), ("credit", &entry.credit)] {
            let Some(rubric) = rubric else { continue };
            if rubric.code.trim().is_empty() {
                return Err(fail(format!("accountingEntries.{name}.{side}.code")));
            }
            if rubric.description.trim().is_empty() {
                return Err(fail(format!("accountingEntries.{name}.{side}.description")));
            }
        }
    }
    Ok(())
}

fn with_detail(kind: Kind, detail: &str) -> Error {
    Error::new(kind).with_message(format!("{} {detail}", kind.spec().message))
}

/// Midaz's matrix of which actions a route type may have and which rubrics each needs:
/// revert only on bidirectional routes (0165), no hold or cancel on destinations (0162),
/// debit/credit rubrics per type and action (0166), hold with commit and cancel (0163), and
/// `direct` whenever another reserve or revert entry is present (0164).
pub fn check_entries_matrix(kind: RouteType, entries: &AccountingEntries) -> Result<()> {
    if kind != RouteType::Bidirectional && entries.revert.is_some() {
        return Err(with_detail(
            Kind::RevertOnlyBidirectional,
            "revert is only allowed for bidirectional operation routes",
        ));
    }
    if kind == RouteType::Destination {
        for action in [Action::Hold, Action::Cancel] {
            if entries.get(action).is_some() {
                return Err(with_detail(
                    Kind::ScenarioNotAllowedForDirection,
                    &format!(
                        "{} scenario is not allowed for destination direction",
                        action.as_str()
                    ),
                ));
            }
        }
    }
    for (action, entry) in entries.present() {
        let (debit, credit) = rubrics_required(kind, action);
        for (needed, side, rubric) in [
            (debit, "debit", &entry.debit),
            (credit, "credit", &entry.credit),
        ] {
            if needed && rubric.is_none() {
                return Err(with_detail(
                    Kind::AccountingEntryFieldRequired,
                    &format!(
                        "{side} is required for {}/{}",
                        kind.as_str(),
                        action.as_str()
                    ),
                ));
            }
        }
    }
    if kind != RouteType::Destination {
        check_reserve_group(entries)?;
    }
    let others = [
        Action::Hold,
        Action::Commit,
        Action::Cancel,
        Action::Revert,
        Action::Overdraft,
    ];
    if entries.direct.is_none() && others.iter().any(|a| entries.get(*a).is_some()) {
        return Err(with_detail(
            Kind::DirectScenarioRequired,
            "direct scenario is required when other scenarios are present",
        ));
    }
    Ok(())
}

/// Hold, commit and cancel come together on a route that can be a source (0163).
fn check_reserve_group(entries: &AccountingEntries) -> Result<()> {
    let (hold, commit, cancel) = (
        entries.hold.is_some(),
        entries.commit.is_some(),
        entries.cancel.is_some(),
    );
    if hold && !(commit && cancel) {
        let lacking: Vec<&str> = [(commit, "commit"), (cancel, "cancel")]
            .into_iter()
            .filter(|(present, _)| !present)
            .map(|(_, name)| name)
            .collect();
        return Err(with_detail(
            Kind::ReserveGroupIncomplete,
            &format!(
                "reserve group incomplete: hold requires {}",
                lacking.join(" and ")
            ),
        ));
    }
    if (commit || cancel) && !hold {
        return Err(with_detail(
            Kind::ReserveGroupIncomplete,
            "reserve group incomplete: commit and cancel require hold",
        ));
    }
    Ok(())
}

/// Which of (debit, credit) an entry of `action` on a route of `kind` must have.
fn rubrics_required(kind: RouteType, action: Action) -> (bool, bool) {
    let single = matches!(
        action,
        Action::Direct | Action::Commit | Action::Block | Action::Unblock
    );
    match kind {
        _ if action == Action::Overdraft => (true, true),
        RouteType::Source if single => (true, false),
        RouteType::Destination if single => (false, true),
        _ => (true, true),
    }
}

/// A transaction route needs a source (or bidirectional) route (0153) and a destination (or
/// bidirectional) route (0154).
pub fn check_route_mix(kinds: &[RouteType]) -> Result<()> {
    let has = |side: RouteType| {
        kinds
            .iter()
            .any(|k| *k == side || *k == RouteType::Bidirectional)
    };
    if !has(RouteType::Source) {
        return Err(Error::new(Kind::NoSourceForAction));
    }
    if !has(RouteType::Destination) {
        return Err(Error::new(Kind::NoDestinationForAction));
    }
    Ok(())
}

// ---- rules on transactions -------------------------------------------------------------------

/// The transaction route a transaction names: `routeId`, else the legacy `route` text, which
/// must then be a UUID (0115); neither is 0114.
pub fn transaction_route_id(route_id: Option<&str>, route: Option<&str>) -> Result<String> {
    let given = route_id
        .filter(|r| !r.is_empty())
        .or(route.filter(|r| !r.is_empty()))
        .ok_or_else(|| Error::new(Kind::TransactionRouteNotInformed))?;
    uuid::Uuid::parse_str(given)
        .map(|id| id.to_string())
        .map_err(|_| Error::new(Kind::InvalidTransactionRouteId))
}

/// One leg of a transaction as route validation sees it.
#[derive(Debug, Clone)]
pub struct RouteLeg<'a> {
    /// The account alias (without the balance key).
    pub alias: &'a str,
    /// The type of the leg's account, as its balance records it.
    pub account_type: &'a str,
    /// The operation route the leg names (`routeId`).
    pub route_id: Option<&'a str>,
    /// A source (`from`) leg, else a destination.
    pub source: bool,
    /// Whether the leg's direction is checked against its route's type: not for the holds,
    /// settlements and releases of a pending transaction's sources, as in Midaz.
    pub directed: bool,
}

/// The operation routes of `route` that serve `action`, by side; `source_only` for cancel,
/// whose destinations never move.
struct ActionRoutes<'a> {
    source: BTreeMap<&'a str, &'a OperationRoute>,
    destination: BTreeMap<&'a str, &'a OperationRoute>,
    bidirectional: BTreeMap<&'a str, &'a OperationRoute>,
    source_only: bool,
}

impl<'a> ActionRoutes<'a> {
    /// Midaz's route cache for one action: routes with an entry for `action` (0157 if none);
    /// a hold's destinations are those of commit.
    fn of(route: &'a TransactionRoute, action: Action) -> Result<Self> {
        let with = |action: Action, kind: RouteType| {
            route
                .operation_routes
                .iter()
                .filter(move |r| r.operation_type == kind)
                .filter(move |r| {
                    r.accounting_entries
                        .as_ref()
                        .is_some_and(|e| e.get(action).is_some())
                })
                .map(|r| (r.id.as_str(), r))
                .collect::<BTreeMap<_, _>>()
        };
        let mut routes = ActionRoutes {
            source: with(action, RouteType::Source),
            destination: with(action, RouteType::Destination),
            bidirectional: with(action, RouteType::Bidirectional),
            source_only: action == Action::Cancel,
        };
        if routes.source.is_empty()
            && routes.destination.is_empty()
            && routes.bidirectional.is_empty()
        {
            return Err(Error::new(Kind::NoRoutesForAction).with_message(format!(
                "No routes found for action '{}'. Please configure operation routes for this action in the transaction route.",
                action.as_str()
            )));
        }
        if action == Action::Hold {
            let commit = with(Action::Commit, RouteType::Destination);
            if route.operation_routes.iter().any(|r| {
                r.accounting_entries
                    .as_ref()
                    .is_some_and(|e| e.commit.is_some())
            }) {
                routes.destination = commit;
            }
        }
        Ok(routes)
    }

    fn find(&self, id: &str, source: bool) -> Option<&'a OperationRoute> {
        let side = if source {
            &self.source
        } else {
            &self.destination
        };
        side.get(id).or_else(|| self.bidirectional.get(id)).copied()
    }
}

fn route_not_found(route_id: &str, alias: &str) -> Error {
    Error::new(Kind::AccountingRouteNotFound).with_message(format!(
        "The operation route ID '{route_id}' was not found in the transaction route cache for operation '{alias}'. Please verify the route configuration."
    ))
}

/// Checks a transaction's legs against its transaction route, in Midaz's order: routes for
/// the action (0157), every leg naming an operation route (0117), the count of routes used
/// against the route's (0116) and the counterparts of shared bidirectional routes (0151),
/// then each leg: its route on its side (0117), its direction (0152), its account rule
/// (0118, 0119, 0113).
pub fn check_transaction(
    route: &TransactionRoute,
    action: Action,
    legs: &[RouteLeg<'_>],
) -> Result<()> {
    let routes = ActionRoutes::of(route, action)?;
    let legs: Vec<&RouteLeg<'_>> = legs
        .iter()
        .filter(|l| l.source || !routes.source_only)
        .collect();
    for leg in &legs {
        if leg.route_id.is_some_and(str::is_empty) {
            return Err(route_not_found("", leg.alias));
        }
    }
    if !routes.source_only {
        check_route_count(&routes, &legs)?;
    }
    for leg in &legs {
        let route_id = leg.route_id.unwrap_or("");
        let operation_route = routes
            .find(route_id, leg.source)
            .ok_or_else(|| route_not_found(route_id, leg.alias))?;
        if leg.directed {
            check_direction(leg, operation_route.operation_type)?;
        }
        if let Some(rule) = &operation_route.account {
            check_account(leg, rule)?;
        }
    }
    Ok(())
}

fn check_route_count(routes: &ActionRoutes<'_>, legs: &[&RouteLeg<'_>]) -> Result<()> {
    let used = |source: bool| -> BTreeSet<&str> {
        legs.iter()
            .filter(|l| l.source == source)
            .filter_map(|l| l.route_id)
            .collect()
    };
    let (from, to) = (used(true), used(false));
    let shared: BTreeSet<&str> = from
        .iter()
        .filter(|id| routes.bidirectional.contains_key(*id) && to.contains(*id))
        .copied()
        .collect();
    let (sources, destinations, bidirectional) = (
        routes.source.len(),
        routes.destination.len(),
        routes.bidirectional.len(),
    );
    if from.len() + to.len() - shared.len() != sources + destinations + bidirectional
        || from.len() < sources
        || to.len() < destinations
    {
        return Err(Error::new(Kind::AccountingRouteCountMismatch).with_message(format!(
            "The operation routes count does not match the transaction route cache. Expected {} source and {} destination operations, but the route has {sources} source, {destinations} destination, and {bidirectional} bidirectional operation routes.",
            from.len(),
            to.len()
        )));
    }
    for id in shared {
        let on = |source: bool| {
            legs.iter()
                .any(|l| l.source == source && l.route_id == Some(id))
        };
        if !(on(true) && on(false)) {
            return Err(Error::new(Kind::MissingCounterpart).with_message(format!(
                "Route '{id}' requires at least one debit and one credit operation (counterpart validation)."
            )));
        }
    }
    Ok(())
}

fn check_direction(leg: &RouteLeg<'_>, kind: RouteType) -> Result<()> {
    let fits = match kind {
        RouteType::Source => leg.source,
        RouteType::Destination => !leg.source,
        RouteType::Bidirectional => true,
    };
    if fits {
        return Ok(());
    }
    let direction = if leg.source { "debit" } else { "credit" };
    Err(Error::new(Kind::DirectionRouteMismatch).with_message(format!(
        "Operation direction '{direction}' is not compatible with route operation type '{}' for operation '{}'.",
        kind.as_str(),
        leg.alias
    )))
}

fn check_account(leg: &RouteLeg<'_>, rule: &AccountRule) -> Result<()> {
    match rule.rule_type.as_str() {
        RULE_ALIAS => {
            let expected = rule
                .valid_if
                .as_str()
                .ok_or_else(|| Error::new(Kind::CorruptedAccountRule))?;
            if leg.alias == expected {
                Ok(())
            } else {
                Err(Error::new(Kind::AccountingAliasValidationFailed).with_message(format!(
                    "The operation alias '{}' does not match the expected alias '{expected}' defined in the accounting route rule.",
                    leg.alias
                )))
            }
        }
        RULE_ACCOUNT_TYPE => {
            let allowed: Vec<&str> = rule
                .valid_if
                .as_array()
                .and_then(|items| items.iter().map(Value::as_str).collect())
                .ok_or_else(|| Error::new(Kind::CorruptedAccountRule))?;
            if allowed.contains(&leg.account_type) {
                Ok(())
            } else {
                Err(Error::new(Kind::AccountingAccountTypeValidationFailed).with_message(format!(
                    "The account type '{}' does not match any of the expected account types [{}] defined in the accounting route rule.",
                    leg.account_type,
                    allowed.join(" ")
                )))
            }
        }
        _ => Err(Error::new(Kind::CorruptedAccountRule)),
    }
}

/// The rubric an operation of `direction` (`debit`/`credit`) on `route_id` is booked under
/// for `action`: its `routeCode` and `routeDescription`.
pub fn rubric<'a>(
    route: &'a TransactionRoute,
    action: Action,
    route_id: &str,
    debit: bool,
) -> Option<&'a Rubric> {
    let entry = route
        .operation_routes
        .iter()
        .find(|r| r.id == route_id)?
        .accounting_entries
        .as_ref()?
        .get(action)?;
    if debit {
        entry.debit.as_ref()
    } else {
        entry.credit.as_ref()
    }
    .filter(|r| !r.code.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rubric(code: &str) -> Option<Rubric> {
        Some(Rubric {
            code: code.to_owned(),
            description: format!("Rubric {code}"),
        })
    }

    fn direct(debit: Option<&str>, credit: Option<&str>) -> AccountingEntries {
        AccountingEntries {
            direct: Some(AccountingEntry {
                debit: debit.and_then(rubric),
                credit: credit.and_then(rubric),
            }),
            ..AccountingEntries::default()
        }
    }

    fn operation_route(
        id: &str,
        kind: RouteType,
        account: Option<(&str, Value)>,
    ) -> OperationRoute {
        OperationRoute {
            id: id.to_owned(),
            organization_id: String::new(),
            ledger_id: String::new(),
            title: id.to_owned(),
            description: None,
            code: None,
            operation_type: kind,
            account: account.map(|(rule_type, valid_if)| AccountRule {
                rule_type: rule_type.to_owned(),
                valid_if,
            }),
            accounting_entries: Some(direct(Some("D"), Some("C"))),
            stamps: Stamps::new(String::new()),
            metadata: Metadata::new(),
        }
    }

    fn route(operation_routes: Vec<OperationRoute>) -> TransactionRoute {
        TransactionRoute {
            id: "t".to_owned(),
            organization_id: String::new(),
            ledger_id: String::new(),
            title: "t".to_owned(),
            description: None,
            operation_routes,
            stamps: Stamps::new(String::new()),
            metadata: Metadata::new(),
        }
    }

    fn leg<'a>(alias: &'a str, route_id: Option<&'a str>, source: bool) -> RouteLeg<'a> {
        RouteLeg {
            alias,
            account_type: "deposit",
            route_id,
            source,
            directed: true,
        }
    }

    fn code(result: Result<()>) -> &'static str {
        result.err().map_or("ok", |e| e.spec().code)
    }

    #[test]
    fn legs_must_use_exactly_the_routes_of_their_transaction_route_on_their_side() {
        let types = Value::from(vec!["deposit"]);
        let tr = route(vec![
            operation_route(
                "s",
                RouteType::Source,
                Some((RULE_ALIAS, Value::from("@a"))),
            ),
            operation_route(
                "d",
                RouteType::Destination,
                Some((RULE_ACCOUNT_TYPE, types)),
            ),
        ]);
        let check = |legs: &[RouteLeg<'_>]| code(check_transaction(&tr, Action::Direct, legs));
        assert_eq!(
            check(&[leg("@a", Some("s"), true), leg("@b", Some("d"), false)]),
            "ok"
        );
        assert_eq!(
            check(&[leg("@a", Some("s"), true), leg("@b", None, false)]),
            "0116"
        );
        assert_eq!(
            check(&[leg("@a", Some("d"), true), leg("@b", Some("s"), false)]),
            "0117"
        );
        assert_eq!(
            check(&[leg("@a", Some(""), true), leg("@b", Some("d"), false)]),
            "0117"
        );
        assert_eq!(
            check(&[leg("@x", Some("s"), true), leg("@b", Some("d"), false)]),
            "0118"
        );
        let mut savings = leg("@b", Some("d"), false);
        savings.account_type = "savings";
        assert_eq!(check(&[leg("@a", Some("s"), true), savings]), "0119");
        assert_eq!(code(check_transaction(&tr, Action::Revert, &[])), "0157");
    }

    #[test]
    fn a_bidirectional_route_used_on_both_sides_needs_a_debit_and_a_credit() {
        let tr = route(vec![operation_route("b", RouteType::Bidirectional, None)]);
        let both = [leg("@a", Some("b"), true), leg("@b", Some("b"), false)];
        assert_eq!(code(check_transaction(&tr, Action::Direct, &both)), "ok");
        // A debit on a destination route points the wrong way.
        let direction = check_direction(&leg("@a", Some("d"), true), RouteType::Destination);
        assert_eq!(code(direction), "0152");
    }

    #[test]
    fn a_transaction_names_its_route_by_id_or_by_uuid_text() {
        let id = "0196F1D2-0000-7000-8000-000000000000";
        let named = transaction_route_id(None, Some(id)).ok();
        assert_eq!(
            named.as_deref(),
            Some("0196f1d2-0000-7000-8000-000000000000")
        );
        assert_eq!(code(transaction_route_id(None, None).map(drop)), "0114");
        assert_eq!(
            code(transaction_route_id(Some(""), Some("x")).map(drop)),
            "0115"
        );
    }

    #[test]
    fn entries_fit_their_route_type_as_midazs_matrix_says() {
        let matrix = |kind, entries: &AccountingEntries| code(check_entries_matrix(kind, entries));
        assert_eq!(matrix(RouteType::Source, &direct(Some("1"), None)), "ok");
        assert_eq!(matrix(RouteType::Source, &direct(None, Some("1"))), "0166");
        assert_eq!(
            matrix(RouteType::Destination, &direct(None, Some("1"))),
            "ok"
        );
        assert_eq!(
            matrix(RouteType::Bidirectional, &direct(Some("1"), None)),
            "0166"
        );
        let mut reserve = direct(Some("1"), None);
        reserve.hold = direct(Some("2"), Some("3")).direct;
        assert_eq!(matrix(RouteType::Source, &reserve), "0163");
        assert_eq!(matrix(RouteType::Destination, &reserve), "0162");
        reserve.commit = direct(Some("4"), None).direct;
        reserve.cancel = direct(Some("5"), Some("6")).direct;
        assert_eq!(matrix(RouteType::Source, &reserve), "ok");
        reserve.direct = None;
        assert_eq!(matrix(RouteType::Source, &reserve), "0164");
        let revert = AccountingEntries {
            revert: direct(Some("1"), Some("2")).direct,
            ..direct(Some("1"), Some("2"))
        };
        assert_eq!(matrix(RouteType::Source, &revert), "0165");
        assert_eq!(matrix(RouteType::Bidirectional, &revert), "ok");
        assert_eq!(code(check_entry_shapes(&direct(None, None))), "0009");
        let block = AccountingEntries {
            block: Some(AccountingEntry::default()),
            ..AccountingEntries::default()
        };
        assert_eq!(code(check_entry_shapes(&block)), "0166");
    }

    #[test]
    fn account_rules_and_route_mixes_are_checked_on_write() {
        let rule = |t: Option<&str>, v: Option<Value>| code(check_account_rule(t, v.as_ref()));
        assert_eq!(rule(Some("alias"), Some(Value::from("@a"))), "ok");
        assert_eq!(
            rule(Some("account_type"), Some(Value::from(vec!["x"]))),
            "ok"
        );
        assert_eq!(rule(Some("alias"), Some(Value::from(vec!["x"]))), "0112");
        assert_eq!(rule(Some("owner"), Some(Value::from("x"))), "0111");
        assert_eq!(rule(Some("alias"), None), "0009");
        assert_eq!(rule(None, Some(Value::from("x"))), "0009");
        assert_eq!(code(check_route_mix(&[RouteType::Source])), "0154");
        assert_eq!(code(check_route_mix(&[RouteType::Destination])), "0153");
        assert_eq!(code(check_route_mix(&[RouteType::Bidirectional])), "ok");
    }
}
