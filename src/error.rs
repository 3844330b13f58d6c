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
    ReservedBalanceKey => 400, "0170", "Reserved Balance Key", "This balance key is reserved.";
    ServiceUnavailable => 503, "SERVICE_UNAVAILABLE", "Service Unavailable", "The tenant's storage is unavailable; try again later.";
    // The tenant file cannot take writes (disk full, quota reached, read-only, I/O error):
    // nothing of the request was written; reads of the tenant still work.
    StorageUnavailable => 503, "STORAGE_UNAVAILABLE", "Storage Unavailable", "The tenant's storage cannot accept writes right now (disk full, quota reached or read-only); nothing was written. Reads still work; retry once space is freed.";
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
