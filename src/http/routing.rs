//! `…/operation-routes` and `…/transaction-routes`: Midaz's accounting routes. Bodies are
//! checked in Midaz's order: field rules (0009, 0047), the account rule (0111, 0112), the
//! accounting entries' rubrics (0009, 0166), the type (0103) and its matrix (0162–0166).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::body::{Check, create_metadata, double_option, patch_metadata, unmarshalling};
use super::records::{Input, create, cursor_list, delete, entity_docs, get, update};
use super::routes::{Access, Resource, Route};
use crate::domain::metadata::Metadata;
use crate::domain::routing::{
    self, AccountRule, AccountingEntries, AccountingEntry, Action, NewOperationRoute,
    NewTransactionRoute, OperationRoute, RouteType, Rubric, TransactionRoute,
};
use crate::error::Result;
use crate::ledger::routing::{EntryPatch, OperationRoutePatch, TransactionRoutePatch};

/// Longest title of an operation or transaction route, in characters.
pub const ROUTE_TITLE_LENGTH_MAX: usize = 255;
/// Longest description of an operation or transaction route, in characters.
pub const ROUTE_DESCRIPTION_LENGTH_MAX: usize = 250;
/// Longest operation route code, in characters.
pub const OPERATION_ROUTE_CODE_LENGTH_MAX: usize = 100;
/// Longest rubric code of an accounting entry, in characters.
pub const RUBRIC_CODE_LENGTH_MAX: usize = 50;
/// Longest rubric description of an accounting entry, in characters.
pub const RUBRIC_DESCRIPTION_LENGTH_MAX: usize = 250;

pub(super) fn routes() -> Vec<Route> {
    let operation_routes = Access::Tenant(Resource::OperationRoutes);
    let transaction_routes = Access::Tenant(Resource::TransactionRoutes);
    vec![
        Route::new::<__path_create_operation_route>(operation_routes, |r| {
            r.to(create::<OperationRoute, CreateOperationRouteInput>)
        }),
        Route::new::<__path_list_operation_routes>(operation_routes, |r| {
            r.to(cursor_list::<OperationRoute>)
        }),
        Route::new::<__path_get_operation_route>(operation_routes, |r| r.to(get::<OperationRoute>)),
        Route::new::<__path_update_operation_route>(operation_routes, |r| {
            r.to(update::<OperationRoute, UpdateOperationRouteInput>)
        }),
        Route::new::<__path_delete_operation_route>(operation_routes, |r| {
            r.to(delete::<OperationRoute>)
        }),
        Route::new::<__path_create_transaction_route>(transaction_routes, |r| {
            r.to(create::<TransactionRoute, CreateTransactionRouteInput>)
        }),
        Route::new::<__path_list_transaction_routes>(transaction_routes, |r| {
            r.to(cursor_list::<TransactionRoute>)
        }),
        Route::new::<__path_get_transaction_route>(transaction_routes, |r| {
            r.to(get::<TransactionRoute>)
        }),
        Route::new::<__path_update_transaction_route>(transaction_routes, |r| {
            r.to(update::<TransactionRoute, UpdateTransactionRouteInput>)
        }),
        Route::new::<__path_delete_transaction_route>(transaction_routes, |r| {
            r.to(delete::<TransactionRoute>)
        }),
    ]
}

entity_docs!(cursor_list "Operation routes" "operation-routes" OperationRoute, list_operation_routes);
entity_docs!(get "Operation routes" "operation-routes" OperationRoute, get_operation_route, "operation_route_id");
entity_docs!(delete "Operation routes" "operation-routes" OperationRoute, delete_operation_route, "operation_route_id");
entity_docs!(cursor_list "Transaction routes" "transaction-routes" TransactionRoute, list_transaction_routes);
entity_docs!(get "Transaction routes" "transaction-routes" TransactionRoute, get_transaction_route, "transaction_route_id");
entity_docs!(delete "Transaction routes" "transaction-routes" TransactionRoute, delete_transaction_route, "transaction_route_id");

// ---- bodies --------------------------------------------------------------------------------

/// Which accounts may use the route: `alias` with one alias, or `account_type` with a list of
/// account type key values.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AccountRuleInput {
    #[schema(pattern = "^(alias|account_type)$")]
    rule_type: Option<String>,
    /// A string (`alias`) or an array of strings (`account_type`) (0112).
    #[schema(value_type = Object)]
    valid_if: Option<Value>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
struct RubricInput {
    #[schema(value_type = String, required = true, max_length = 50)]
    code: Option<String>,
    #[schema(value_type = String, required = true, max_length = 250)]
    description: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
struct EntryInput {
    debit: Option<RubricInput>,
    credit: Option<RubricInput>,
}

/// Declares a body of accounting entries, one field per [`Action`] of type `$ty`, and its
/// `into_changes`, which pairs each action with its field.
macro_rules! entries {
    ($(#[$meta:meta])* struct $name:ident of $ty:ty $(, #[$field:meta])?) => {
        $(#[$meta])*
        #[derive(Debug, Deserialize, Serialize, ToSchema)]
        struct $name {
            $(#[$field])? direct: $ty,
            $(#[$field])? hold: $ty,
            $(#[$field])? commit: $ty,
            $(#[$field])? cancel: $ty,
            $(#[$field])? revert: $ty,
            $(#[$field])? overdraft: $ty,
            $(#[$field])? block: $ty,
            $(#[$field])? unblock: $ty,
        }

        impl $name {
            fn into_changes(self) -> Vec<(Action, $ty)> {
                let Self { direct, hold, commit, cancel, revert, overdraft, block, unblock } = self;
                let fields = [direct, hold, commit, cancel, revert, overdraft, block, unblock];
                Action::ALL.into_iter().zip(fields).collect()
            }
        }
    };
}

entries!(
    /// One entry per action the route takes part in. Which rubrics each needs depends on the
    /// route's type (0162–0166).
    struct EntriesInput of Option<EntryInput>
);

entries!(
    /// A PATCH of the entries: a named action is replaced, `null` removes it, others are kept.
    struct EntriesPatchInput of Option<Option<EntryInput>>,
    #[serde(default, deserialize_with = "double_option")]
);

fn rubric(check: &mut Check, at: &str, input: Option<RubricInput>) -> Option<Rubric> {
    let input = input?;
    let code = check.required_max(
        &format!("{at}.code"),
        input.code.as_deref(),
        RUBRIC_CODE_LENGTH_MAX,
    );
    let description = check.required_max(
        &format!("{at}.description"),
        input.description.as_deref(),
        RUBRIC_DESCRIPTION_LENGTH_MAX,
    );
    Some(Rubric { code, description })
}

fn entry(check: &mut Check, action: Action, input: EntryInput) -> AccountingEntry {
    let at = format!("accountingEntries.{}", action.as_str());
    AccountingEntry {
        debit: rubric(check, &format!("{at}.debit"), input.debit),
        credit: rubric(check, &format!("{at}.credit"), input.credit),
    }
}

/// The account rule of a body: both fields or neither (0009), a known type (0111), a value of
/// the type's shape (0112). An empty rule is none.
fn account_rule(input: Option<AccountRuleInput>) -> Result<Option<AccountRule>> {
    let Some(input) = input else { return Ok(None) };
    routing::check_account_rule(input.rule_type.as_deref(), input.valid_if.as_ref())?;
    Ok(match (input.rule_type, input.valid_if) {
        (Some(rule_type), Some(valid_if)) if !rule_type.is_empty() && !valid_if.is_null() => {
            Some(AccountRule {
                rule_type,
                valid_if,
            })
        }
        _ => None,
    })
}

/// The title, description and code rules shared by create and update.
fn check_texts(check: &mut Check, description: Option<&str>, code: Option<&str>) {
    check.max_len("description", description, ROUTE_DESCRIPTION_LENGTH_MAX);
    check.max_len("code", code, OPERATION_ROUTE_CODE_LENGTH_MAX);
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct CreateOperationRouteInput {
    #[schema(value_type = String, required = true, max_length = 255)]
    title: Option<String>,
    #[schema(max_length = 250)]
    description: Option<String>,
    #[schema(max_length = 100)]
    code: Option<String>,
    /// `source`, `destination` or `bidirectional` (0103).
    #[schema(value_type = String, required = true, pattern = "^(source|destination|bidirectional)$")]
    operation_type: Option<String>,
    account: Option<AccountRuleInput>,
    accounting_entries: Option<EntriesInput>,
    #[schema(schema_with = crate::http::openapi::metadata_input)]
    metadata: Option<Metadata>,
}

/// Absent fields are kept (the type cannot change); `metadata` merges (a `null` value deletes
/// its key, `null` clears); `accountingEntries: null` removes them all.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct UpdateOperationRouteInput {
    #[schema(max_length = 255)]
    title: Option<String>,
    #[schema(max_length = 250)]
    description: Option<String>,
    #[schema(max_length = 100)]
    code: Option<String>,
    account: Option<AccountRuleInput>,
    #[serde(default, deserialize_with = "double_option")]
    accounting_entries: Option<Option<EntriesPatchInput>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = crate::http::openapi::metadata_patch)]
    metadata: Option<Option<Metadata>>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct CreateTransactionRouteInput {
    #[schema(value_type = String, required = true, max_length = 255)]
    title: Option<String>,
    #[schema(max_length = 250)]
    description: Option<String>,
    /// Ids of the ledger's operation routes: at least one source and one destination (or a
    /// bidirectional one) (0153, 0154).
    #[schema(value_type = Vec<String>, required = true)]
    operation_routes: Option<Vec<String>>,
    #[schema(schema_with = crate::http::openapi::metadata_input)]
    metadata: Option<Metadata>,
}

/// Absent fields are kept; `operationRoutes` replaces the list (2 to 100 ids: 0104, 0158).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct UpdateTransactionRouteInput {
    #[schema(max_length = 255)]
    title: Option<String>,
    #[schema(max_length = 250)]
    description: Option<String>,
    operation_routes: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = crate::http::openapi::metadata_patch)]
    metadata: Option<Option<Metadata>>,
}

/// Operation route ids are UUIDs; another value is Midaz's unmarshalling error (0094).
fn route_ids(ids: Vec<String>) -> Result<Vec<String>> {
    ids.into_iter()
        .map(|id| {
            uuid::Uuid::parse_str(&id)
                .map(|uuid| uuid.to_string())
                .map_err(|_| unmarshalling(&format!("operationRoutes: invalid UUID {id:?}")))
        })
        .collect()
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.filter(|t| !t.trim().is_empty())
}

// ---- operation routes ----------------------------------------------------------------------

impl Input for CreateOperationRouteInput {
    type Command = NewOperationRoute;

    fn command(self) -> Result<NewOperationRoute> {
        let mut check = Check::new();
        let title = check.required_max("title", self.title.as_deref(), ROUTE_TITLE_LENGTH_MAX);
        let kind = check
            .required("operationType", self.operation_type.as_deref())
            .to_owned();
        check_texts(
            &mut check,
            self.description.as_deref(),
            self.code.as_deref(),
        );
        let entries = self.accounting_entries.map(|entries| {
            let mut built = AccountingEntries::default();
            for (action, given) in entries.into_changes() {
                *built.slot_mut(action) = given.map(|given| entry(&mut check, action, given));
            }
            built
        });
        check.finish()?;
        let account = account_rule(self.account)?;
        if let Some(entries) = &entries {
            routing::check_entry_shapes(entries)?;
        }
        let operation_type = RouteType::parse(&kind)?;
        if let Some(entries) = &entries {
            routing::check_entries_matrix(operation_type, entries)?;
        }
        Ok(NewOperationRoute {
            title,
            description: non_empty(self.description),
            code: non_empty(self.code),
            operation_type,
            account,
            accounting_entries: entries,
            metadata: create_metadata(self.metadata)?,
        })
    }
}

entity_docs!(
    /// Create an operation route.
    create "Operation routes" "operation-routes" OperationRoute CreateOperationRouteInput, create_operation_route
);

impl Input for UpdateOperationRouteInput {
    type Command = OperationRoutePatch;

    fn command(self) -> Result<OperationRoutePatch> {
        let mut check = Check::new();
        check.max_len("title", self.title.as_deref(), ROUTE_TITLE_LENGTH_MAX);
        check_texts(
            &mut check,
            self.description.as_deref(),
            self.code.as_deref(),
        );
        let entries = self.accounting_entries.map(|entries| {
            entries.map(|entries| {
                let changes: Vec<(Action, EntryPatch)> = entries
                    .into_changes()
                    .into_iter()
                    .map(|(action, change)| {
                        (
                            action,
                            change.map(|given| given.map(|g| entry(&mut check, action, g))),
                        )
                    })
                    .collect();
                changes
            })
        });
        check.finish()?;
        let account = account_rule(self.account)?;
        if let Some(Some(changes)) = &entries {
            let mut given = AccountingEntries::default();
            for (action, change) in changes {
                if let Some(Some(entry)) = change {
                    *given.slot_mut(*action) = Some(entry.clone());
                }
            }
            routing::check_entry_shapes(&given)?;
        }
        Ok(OperationRoutePatch {
            title: non_empty(self.title),
            description: non_empty(self.description),
            code: non_empty(self.code),
            account,
            accounting_entries: entries,
            metadata: patch_metadata(self.metadata)?,
        })
    }
}

entity_docs!(
    /// Update an operation route.
    update "Operation routes" "operation-routes" OperationRoute UpdateOperationRouteInput, update_operation_route, "operation_route_id"
);

// ---- transaction routes --------------------------------------------------------------------

impl Input for CreateTransactionRouteInput {
    type Command = NewTransactionRoute;

    fn command(self) -> Result<NewTransactionRoute> {
        let mut check = Check::new();
        let title = check.required_max("title", self.title.as_deref(), ROUTE_TITLE_LENGTH_MAX);
        check_texts(&mut check, self.description.as_deref(), None);
        if self.operation_routes.is_none() {
            check.required("operationRoutes", None);
        }
        check.finish()?;
        Ok(NewTransactionRoute {
            title,
            description: non_empty(self.description),
            operation_routes: route_ids(self.operation_routes.unwrap_or_default())?,
            metadata: create_metadata(self.metadata)?,
        })
    }
}

entity_docs!(
    /// Create a transaction route over the ledger's operation routes; the answer embeds them.
    create "Transaction routes" "transaction-routes" TransactionRoute CreateTransactionRouteInput, create_transaction_route
);

impl Input for UpdateTransactionRouteInput {
    type Command = TransactionRoutePatch;

    fn command(self) -> Result<TransactionRoutePatch> {
        let mut check = Check::new();
        check.max_len("title", self.title.as_deref(), ROUTE_TITLE_LENGTH_MAX);
        check_texts(&mut check, self.description.as_deref(), None);
        check.finish()?;
        let patch = TransactionRoutePatch {
            title: non_empty(self.title),
            description: non_empty(self.description),
            operation_routes: self.operation_routes.map(route_ids).transpose()?,
            metadata: patch_metadata(self.metadata)?,
        };
        if let Some(ids) = &patch.operation_routes {
            routing::check_route_list_length(ids.len())?;
        }
        Ok(patch)
    }
}

entity_docs!(
    /// Update a transaction route.
    update "Transaction routes" "transaction-routes" TransactionRoute UpdateTransactionRouteInput, update_transaction_route, "transaction_route_id"
);
