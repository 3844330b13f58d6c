//! The one error table. Every failure the service can report is a [`Kind`]; the table in
//! [`Kind::spec`] maps it to its HTTP status, Midaz code, title and default message, so
//! handlers never build an error body by hand.

use std::collections::BTreeMap;

/// A failure, as the client will see it (kind, message, offending fields) plus, for internal
/// failures, the cause that is logged but never sent.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code} {message}", code = self.kind.spec().code)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    pub fields: Option<BTreeMap<String, String>>,
    pub entity_type: Option<&'static str>,
    /// Internal detail for logs; never serialized.
    pub cause: Option<String>,
    /// The item of a batch request this error is about.
    pub index: Option<usize>,
}

/// The key of [`Error::fields`] that holds where a moved tenant is served now (sent as the
/// body's `location` and the `Location` header, not as a field).
pub const LOCATION_FIELD: &str = "location";

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Status, code, title and default message of one [`Kind`].
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub status: u16,
    pub code: &'static str,
    pub title: &'static str,
    pub message: &'static str,
}

macro_rules! kinds {
    ($($name:ident => $status:literal, $code:literal, $title:literal, $message:literal;)*) => {
        /// Every failure the API reports.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Kind { $($name,)* }

        impl Kind {
            pub const fn spec(self) -> Spec {
                match self {
                    $(Kind::$name => Spec { status: $status, code: $code, title: $title, message: $message },)*
                }
            }
        }
    };
}

kinds! {
    // Tenancy and authentication (DESIGN.md).
    MissingToken => 401, "MISSING_TOKEN", "Missing Token", "An Authorization header with a Bearer token is required.";
    InvalidToken => 401, "INVALID_TOKEN", "Invalid Token", "The token is malformed, expired or its signature cannot be verified.";
    MissingTenant => 401, "MISSING_TENANT", "Missing Tenant", "The token carries no tenant claim.";
    InvalidTenant => 401, "INVALID_TENANT", "Invalid Tenant", "The tenant id in the token is not a valid tenant id.";
    TenantNotFound => 404, "TENANT_NOT_FOUND", "Tenant Not Found", "The tenant is not provisioned.";
    TenantSuspended => 403, "TENANT_SUSPENDED", "Tenant Suspended", "The tenant is suspended.";
    // Moving a tenant between nodes: frozen while its replica catches up, then moved.
    TenantReadOnly => 503, "TENANT_READ_ONLY", "Tenant Read Only", "The tenant is read-only while it is moved to another node; nothing was written. Reads still work; retry later.";
    TenantMoved => 421, "TENANT_MOVED", "Tenant Moved", "The tenant was moved to another node.";
    // The admin API (`/admin/v1`): its own credential, tenant ids from the path.
    MissingAdminToken => 401, "MISSING_ADMIN_TOKEN", "Missing Admin Token", "An Authorization header with the admin Bearer token is required.";
    InvalidAdminToken => 401, "INVALID_ADMIN_TOKEN", "Invalid Admin Token", "The admin token is not valid.";
    InvalidTenantId => 400, "INVALID_TENANT", "Invalid Tenant", "The tenant id must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$.";
    TenantInUse => 409, "TENANT_IN_USE", "Tenant In Use", "The tenant is in use; try again once its requests have finished.";
    TenantExists => 409, "TENANT_EXISTS", "Tenant Exists", "The tenant exists; pass force=true to replace it.";
    InvalidImport => 400, "INVALID_IMPORT", "Invalid Import", "The import is not a valid tenant export.";
    DeletionNotConfirmed => 400, "CONFIRMATION_REQUIRED", "Confirmation Required", "Deleting a tenant removes all its data; pass ?yes=true to confirm.";
    InsufficientPrivileges => 403, "0043", "Insufficient Privileges", "You do not have the necessary permissions to perform this action.";
    // Onboarding business rules (Midaz v3.8 codes).
    LedgerNameConflict => 409, "0002", "Ledger Name Conflict", "A ledger with this name already exists in the organization.";
    AssetNameOrCodeDuplicate => 409, "0003", "Asset Name or Code Duplicate", "An asset with this name or code already exists in the ledger.";
    CodeUppercaseRequirement => 400, "0004", "Code Uppercase Requirement", "The code must be in uppercase.";
    CurrencyCodeStandardCompliance => 400, "0005", "Currency Code Standard Compliance", "Currency-type assets must use an ISO 4217 code.";
    EntityNotFound => 404, "0007", "Entity Not Found", "No entity was found for the given id.";
    MissingFieldsInRequest => 400, "0009", "Missing Fields in Request", "Your request is missing one or more required fields.";
    AccountBalanceDeletion => 400, "0012", "Account Balance Deletion Error", "The account cannot be deleted while one of its balances is not zero.";
    DuplicateSegmentName => 409, "0015", "Duplicate Segment Name Error", "A segment with this name already exists in the ledger.";
    AliasUnavailability => 409, "0020", "Alias Unavailability Error", "The alias is already in use in this ledger.";
    InvalidParentAccountId => 400, "0029", "Invalid Parent Account ID", "The parent account id does not exist in this ledger.";
    MismatchedAssetCode => 400, "0030", "Mismatched Asset Code", "The parent account has a different asset code.";
    InvalidCountryCode => 400, "0032", "Invalid Country Code", "The country must be an ISO 3166-1 alpha-2 code.";
    InvalidCodeFormat => 400, "0033", "Invalid Code Format", "The code must contain letters only.";
    AssetCodeNotFound => 404, "0034", "Asset Code Not Found", "The asset code does not exist in this ledger.";
    PortfolioIdNotFound => 404, "0035", "Portfolio ID Not Found", "The portfolio id does not exist in this ledger.";
    SegmentIdNotFound => 404, "0036", "Segment ID Not Found", "The segment id does not exist in this ledger.";
    LedgerIdNotFound => 404, "0037", "Ledger ID Not Found", "The ledger id does not exist in this organization.";
    OrganizationIdNotFound => 404, "0038", "Organization ID Not Found", "The organization id does not exist.";
    ParentOrganizationIdNotFound => 404, "0039", "Parent Organization ID Not Found", "The parent organization id does not exist.";
    InvalidType => 400, "0040", "Invalid Type", "The type must be one of crypto, currency, commodity or others.";
    InternalServer => 500, "0046", "Internal Server Error", "The server encountered an unexpected error. Please try again later.";
    BadRequest => 400, "0047", "Bad Request", "The request has invalid fields.";
    MetadataKeyLengthExceeded => 400, "0050", "Metadata Key Length Exceeded", "A metadata key is longer than 100 characters.";
    MetadataValueLengthExceeded => 400, "0051", "Metadata Value Length Exceeded", "A metadata value is longer than 2000 characters or is not a scalar.";
    AccountIdNotFound => 404, "0052", "Account ID Not Found", "The account id does not exist in this ledger.";
    UnexpectedFieldsInTheRequest => 400, "0053", "Unexpected Fields in the Request", "The request contains fields that are not allowed.";
    AssetIdNotFound => 404, "0055", "Asset ID Not Found", "The asset id does not exist in this ledger.";
    InvalidPathParameter => 400, "0065", "Invalid Path Parameter", "A path parameter is not a valid UUID.";
    InvalidAccountType => 400, "0066", "Invalid Account Type", "The account type is not one of the ledger's account types.";
    InvalidMetadataNesting => 400, "0067", "Invalid Metadata Nesting", "Metadata values must be flat: nested objects are not allowed.";
    ForbiddenExternalAccountManipulation => 400, "0074", "External Account Modification Prohibited", "External accounts cannot be modified or deleted.";
    InvalidFinalDate => 400, "0078", "Invalid Final Date", "The end_date must not be before the start_date.";
    PaginationLimitExceeded => 400, "0080", "Pagination Limit Exceeded", "The limit must not exceed 100.";
    InvalidSortOrder => 400, "0081", "Invalid Sort Order", "The sort_order must be asc or desc.";
    InvalidQueryParameter => 400, "0082", "Invalid Query Parameter", "A query parameter is invalid.";
    InvalidDateRange => 400, "0083", "Invalid Date Range", "Both start_date and end_date must be given together.";
    AccountAliasNotFound => 404, "0085", "Account Alias Not Found", "No account with this alias exists in this ledger.";
    ParentIdSameId => 400, "0091", "ID cannot be used as the parent ID", "An organization cannot be its own parent.";
    NoBalancesFound => 404, "0092", "Balance Not Found", "The balance does not exist in this ledger.";
    InvalidRequestBody => 400, "0094", "Unmarshalling error", "The request body is not valid JSON for this endpoint.";
    AccountAliasInvalid => 400, "0096", "Invalid Account Alias", "The alias may only contain letters, digits and @ : _ -.";
    AccountTypeNotFound => 404, "0109", "Account Type Not Found", "The account type id does not exist in this ledger.";
    DuplicateAccountTypeKeyValue => 409, "0108", "Duplicate Account Type Key Value", "An account type with this keyValue already exists in this ledger.";
    InvalidAccountTypeKeyValue => 400, "0120", "Invalid Account Type Key Value", "The keyValue may only contain letters, digits, _ and -.";
    // Operation and transaction routes (Midaz v3.8 codes, titles and messages).
    OperationRouteNotFound => 404, "0101", "Operation Route Not Found", "The provided operation route does not exist in our records. Please verify the operation route and try again.";
    InvalidOperationRouteType => 400, "0103", "Invalid Operation Route Type", "The provided 'operationType' is not valid. Accepted types are 'source', 'destination', or 'bidirectional'. Please provide a valid type.";
    MissingOperationRoutes => 400, "0104", "Missing Operation Routes in Request", "Your request must include at least one operation route of each type (debit and credit). Please refer to the documentation to ensure these fields are properly populated.";
    TransactionRouteNotFound => 404, "0105", "Transaction Route Not Found", "The provided transaction route does not exist in our records. Please verify the transaction route and try again.";
    OperationRouteLinkedToTransactionRoutes => 422, "0107", "Operation Route Linked to Transaction Routes", "The operation route cannot be deleted because it is linked to one or more transaction routes. Please remove the operation route from all transaction routes before attempting to delete it.";
    InvalidAccountRuleType => 400, "0111", "Invalid Account Rule Type", "The provided 'account.ruleType' is not valid. Accepted types are 'alias' or 'account_type'. Please provide a valid rule type.";
    InvalidAccountRuleValue => 400, "0112", "Invalid Account Rule Value", "The provided 'account.validIf' is not valid. Please provide a string for 'alias' or an array of strings for 'account_type'.";
    CorruptedAccountRule => 422, "0113", "Corrupted Account Rule", "The account rule data in the operation route is internally inconsistent (unknown rule type or malformed validIf value). This indicates a data integrity issue — please verify the operation route configuration.";
    TransactionRouteNotInformed => 422, "0114", "Transaction Route Not Informed", "The transaction route is not informed. Please inform the transaction route for this transaction.";
    InvalidTransactionRouteId => 400, "0115", "Invalid Transaction Route ID", "The provided transaction route ID is not a valid UUID format. Please provide a valid UUID for the transaction route.";
    AccountingRouteCountMismatch => 422, "0116", "Accounting Route Count Mismatch", "The operation routes count does not match the transaction route.";
    AccountingRouteNotFound => 422, "0117", "Accounting Route Not Found", "An operation route of the transaction was not found in its transaction route.";
    AccountingAliasValidationFailed => 422, "0118", "Accounting Alias Validation Failed", "The operation alias does not match the expected alias defined in the accounting route rule.";
    AccountingAccountTypeValidationFailed => 422, "0119", "Accounting Account Type Validation Failed", "The account type does not match any of the expected account types defined in the accounting route rule.";
    RouteNotBidirectional => 422, "0150", "Route Not Bidirectional", "The operation route does not allow bidirectional transactions. Only routes with operation type 'bidirectional' can be reverted.";
    MissingCounterpart => 422, "0151", "Missing Counterpart", "A bidirectional route requires at least one debit and one credit operation (counterpart validation).";
    DirectionRouteMismatch => 422, "0152", "Direction Route Mismatch", "The operation direction is not compatible with its route operation type.";
    NoSourceForAction => 400, "0153", "No Source for Action", "The action '' requires at least one source operation route. Please add a source route for this action.";
    NoDestinationForAction => 400, "0154", "No Destination for Action", "The action '' requires at least one destination operation route. Please add a destination route for this action.";
    NoRoutesForAction => 422, "0157", "No Routes for Action", "No routes found for the action. Please configure operation routes for this action in the transaction route.";
    TooManyOperationRoutes => 400, "0158", "Too Many Operation Routes", "The number of operation routes exceeds the maximum allowed. Please reduce the number of operation routes and try again.";
    ScenarioNotAllowedForDirection => 422, "0162", "Scenario Not Allowed For Direction", "The accounting scenario is not allowed for the specified operation direction.";
    ReserveGroupIncomplete => 422, "0163", "Reserve Group Incomplete", "The reserve group (hold, commit, cancel) must be complete.";
    DirectScenarioRequired => 422, "0164", "Direct Scenario Required", "The direct scenario is required when other scenarios are present.";
    RevertOnlyBidirectional => 422, "0165", "Revert Only Bidirectional", "The revert scenario is only allowed for bidirectional operation routes.";
    AccountingEntryFieldRequired => 422, "0166", "Accounting Entry Field Required", "A required field is missing in the accounting entry.";
    InvalidDatetimeFormat => 400, "0131", "Invalid Datetime Format", "A date must be RFC 3339, YYYY-MM-DD hh:mm:ss or YYYY-MM-DD.";
    PayloadTooLarge => 413, "0143", "Payload Too Large", "The request body is too large.";
    GoldDslSunset => 410, "GOLD_DSL_SUNSET", "Gold DSL Removed", "Transactions in the Gold DSL are not accepted: Midaz deprecated POST …/transactions/dsl in v3.8 with a sunset of 2026-08-01. Post the transaction as JSON to …/transactions/json.";
    JsonNestingDepthExceeded => 400, "0144", "JSON Nesting Depth Exceeded", "The request body is nested too deeply.";
    JsonKeyCountExceeded => 400, "0145", "JSON Key Count Exceeded", "The request body has too many keys.";
    UnknownSettingsField => 400, "0147", "Unknown Settings Field", "The settings contain an unknown field.";
    InvalidSettingsFieldType => 400, "0148", "Invalid Settings Field Type", "A settings field has the wrong type.";
    SettingsRootLevelField => 400, "0149", "Settings Root Level Field", "Settings fields must be nested under their section.";
    // Metadata indexes (Midaz v3.5+ `/v1/settings/metadata-indexes`).
    MetadataIndexAlreadyExists => 409, "0132", "Metadata Index Already Exists", "A metadata index with the same key already exists for this entity. Please use a different key from the existing index.";
    MetadataIndexNotFound => 404, "0133", "Metadata Index Not Found", "The specified metadata index does not exist. Please verify the index name and try again.";
    MetadataIndexLimitExceeded => 400, "0135", "Metadata Index Limit Exceeded", "The maximum number of metadata indexes has been reached for this entity. Please delete unused indexes before creating new ones.";
    InvalidEntityName => 400, "0138", "Invalid Entity Name", "The provided entity name is not valid.";
    // Midaz has no code for it (its MongoDB refuses the metadata write after the entity is
    // stored): the entity is refused whole.
    DuplicateMetadataValue => 409, "DUPLICATE_METADATA_VALUE", "Duplicate Metadata Value", "Another live record already has this value of a metadata key with a unique index; nothing was written.";
    // Transactions, operations and balances.
    InsufficientFunds => 422, "0018", "Insufficient Funds Error", "The transaction could not be completed due to insufficient funds in the account. Please add sufficient funds to your account and try again.";
    AccountIneligibility => 422, "0019", "Account Ineligibility Error", "One or more accounts listed in the transaction are not eligible to participate. Please review the account statuses and try again.";
    AccountStatusTransactionRestriction => 400, "0024", "Account Status Transaction Restriction", "The current statuses of the source and/or destination accounts do not permit transactions.";
    OperationIdNotFound => 404, "0068", "Operation ID Not Found", "The operation id does not exist in this ledger.";
    TransactionIdNotFound => 404, "0070", "Transaction ID Not Found", "The transaction id does not exist in this ledger.";
    InvalidTransactionType => 400, "0072", "Invalid Transaction Type", "Each leg must have exactly one of amount, share or remaining.";
    TransactionValueMismatch => 400, "0073", "Transaction Value Mismatch", "The values of the source and destination legs must each add up to the transaction value.";
    IdempotencyKey => 409, "0084", "Duplicate Idempotency Key", "A request with this idempotency key is still being processed.";
    TransactionHasParent => 400, "0087", "Transaction Revert already exist", "This transaction has already been reverted.";
    TransactionIsRevert => 400, "0088", "Transaction is already a reversal", "A reversal cannot be reverted.";
    TransactionCantRevert => 400, "0089", "Transaction can't be reverted", "This transaction has no balance movement to revert.";
    TransactionAmbiguous => 400, "0090", "Transaction ambiguous account", "The same account and balance cannot be both a source and a destination.";
    BalancesCantBeDeleted => 400, "0093", "Balance cannot be deleted", "A balance with funds available or on hold cannot be deleted.";
    AmountOverflow => 422, "0097", "Amount Overflow", "The amount or the resulting balance is too large to be represented exactly.";
    OnHoldExternalAccount => 422, "0098", "Invalid Pending Transaction", "An external account cannot be the source of a pending transaction.";
    CommitTransactionNotPending => 422, "0099", "Invalid Transaction Status", "The transaction is not in a status that allows this action.";
    InvalidFutureTransactionDate => 400, "0121", "Invalid Future Date", "The transactionDate cannot be in the future.";
    InvalidPendingFutureTransactionDate => 400, "0122", "Invalid Field for Pending Transaction", "A pending transaction cannot have a transactionDate.";
    DuplicatedAliasKeyValue => 409, "0123", "Duplicated Alias Key Value", "The account already has a balance with this key.";
    AdditionalBalanceNotAllowed => 400, "0124", "Additional Balance Creation Not Allowed", "External accounts cannot have additional balances.";
    InvalidTransactionNonPositiveValue => 422, "0125", "Invalid Transaction Value", "The transaction value must be greater than zero.";
    NoBalanceDataAtTimestamp => 404, "0141", "No Balance Data At Timestamp", "The balance did not exist at the given date.";
    MissingRequiredQueryParameter => 400, "0142", "Missing Required Query Parameter", "A required query parameter is missing.";
    AssetRateExternalIdConflict => 409, "EXTERNAL_ID_CONFLICT", "Asset Rate External ID Conflict", "Another asset rate of this ledger already has this externalId.";
    ReservedBalanceKey => 400, "0170", "Reserved Balance Key Error", "The balance key is reserved for system use and cannot be created through the public API. Please choose a different key and try again.";
    OverdraftLimitExceeded => 422, "0167", "Overdraft Limit Exceeded Error", "The transaction could not be completed because it would exceed the configured overdraft limit for the balance. Please reduce the amount or increase the overdraft limit and try again.";
    InternalBalanceTargeted => 422, "0168", "Direct Operation On Internal Balance Error", "Direct operations on internal-scope balances are not permitted. Internal balances are managed exclusively by the system. Please target a transactional balance and try again.";
    InternalBalanceDeleted => 422, "0169", "Deletion Of Internal Balance Error", "Internal-scope balances cannot be deleted. They are managed by the system and must remain for accounting consistency.";
    InvalidBalanceDirection => 400, "0171", "Invalid Balance Direction Error", "The balance direction is not supported. Allowed values are \"credit\" and \"debit\".";
    InvalidBalanceSettings => 400, "0172", "Invalid Balance Settings Error", "The balance settings payload is invalid. Please review overdraft, limit, and scope fields and try again.";
    OverdraftLimitBelowUsage => 422, "0173", "Overdraft Limit Below Usage Error", "The new overdraft limit is below the amount currently used. Raise the limit above the current usage or repay the outstanding amount before reducing the limit.";
    OverdraftRouteNotConfigured => 422, "0176", "Overdraft Route Not Configured Error", "The transaction could not be completed because route validation is enabled but the accounting route applied to the overdraft operation does not define an overdraft entry for the required direction. Configure an overdraft accounting entry on the operation route and try again.";
    InternalBalanceUpdated => 422, "0175", "Update Of Internal Balance Error", "Internal balances are system-managed and cannot be updated through the public API. They are maintained by the system for accounting consistency.";
    ServiceUnavailable => 503, "SERVICE_UNAVAILABLE", "Service Unavailable", "The tenant's storage is unavailable; try again later.";
    // The tenant file cannot take writes (disk full, quota reached, read-only, I/O error):
    // nothing of the request was written; reads of the tenant still work.
    StorageUnavailable => 503, "STORAGE_UNAVAILABLE", "Storage Unavailable", "The tenant's storage cannot accept writes right now (disk full, quota reached or read-only); nothing was written. Reads still work; retry once space is freed.";
    // Another program (Litestream's checkpoint, an operator's sqlite3 shell) held the tenant
    // file's write lock for longer than the busy timeout: nothing was written.
    TenantBusy => 503, "TENANT_BUSY", "Tenant Busy", "Another program held the tenant's file locked for too long; nothing was written. Retry shortly.";
}

impl Error {
    pub fn new(kind: Kind) -> Self {
        Self {
            kind,
            message: kind.spec().message.to_owned(),
            fields: None,
            entity_type: None,
            cause: None,
            index: None,
        }
    }

    /// Where the tenant is served now (`TENANT_MOVED`).
    pub fn with_location(self, location: &str) -> Self {
        self.with_fields([(LOCATION_FIELD.to_owned(), location.to_owned())].into())
    }

    /// The location set by [`Error::with_location`].
    pub fn location(&self) -> Option<&str> {
        match self.kind {
            Kind::TenantMoved => self
                .fields
                .as_ref()?
                .get(LOCATION_FIELD)
                .map(String::as_str),
            _ => None,
        }
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    pub fn with_fields(mut self, fields: BTreeMap<String, String>) -> Self {
        self.fields = Some(fields);
        self
    }

    /// This error, as the error of item `index` of a batch.
    pub fn at_index(mut self, index: usize) -> Self {
        self.index = Some(index);
        self
    }

    pub fn with_entity(mut self, entity_type: &'static str) -> Self {
        self.entity_type = Some(entity_type);
        self
    }

    /// An unexpected failure: the client sees the generic 500, the log sees `cause`.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let mut error = Self::new(Kind::InternalServer);
        error.cause = Some(cause.to_string());
        error
    }

    pub fn spec(&self) -> Spec {
        self.kind.spec()
    }
}

impl From<Kind> for Error {
    fn from(kind: Kind) -> Self {
        Self::new(kind)
    }
}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        if breaks_metadata_index(&error) {
            return Self::new(Kind::DuplicateMetadataValue);
        }
        if is_locked(&error) {
            let mut busy = Self::new(Kind::TenantBusy);
            busy.cause = Some(error.to_string());
            return busy;
        }
        if is_storage_fault(&error) {
            let mut unavailable = Self::new(Kind::StorageUnavailable);
            unavailable.cause = Some(error.to_string());
            unavailable
        } else {
            Self::internal(error)
        }
    }
}

/// Whether `error` is a write refused by a unique metadata index (`store::metadata_indexes`
/// names them `metadata_index_<id>`; SQLite names an expression index in the message).
fn breaks_metadata_index(error: &rusqlite::Error) -> bool {
    match error {
        rusqlite::Error::SqliteFailure(failure, Some(message)) => {
            failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                && message.contains("index 'metadata_index_")
        }
        _ => false,
    }
}

/// Whether `error` is SQLite giving up on a lock another connection held past the busy
/// timeout. ledgerlite is the only writer of a tenant's file, so the holder is another
/// program (Litestream's checkpoints take the write lock).
fn is_locked(error: &rusqlite::Error) -> bool {
    use rusqlite::ffi::ErrorCode as Sqlite;
    matches!(
        error.sqlite_error_code(),
        Some(Sqlite::DatabaseBusy | Sqlite::DatabaseLocked)
    )
}

/// Whether `error` says the file cannot take writes right now (full disk or quota, read-only
/// file or folder, I/O failure, a journal that cannot be created) rather than a bug: the one
/// place that maps SQLite's resource faults to [`Kind::StorageUnavailable`].
pub fn is_storage_fault(error: &rusqlite::Error) -> bool {
    use rusqlite::ffi::ErrorCode as Sqlite;
    matches!(
        error.sqlite_error_code(),
        Some(Sqlite::DiskFull | Sqlite::ReadOnly | Sqlite::CannotOpen | Sqlite::SystemIoFailure)
    )
}

impl From<serde_json::Error> for Error {
    fn from(error: serde_json::Error) -> Self {
        Self::internal(error)
    }
}
