//! The filters each list accepts beside paging, sorting, dates and one metadata key: query
//! parameter → stored field, and how they compare. The route table gives each list route its
//! filters; unknown query parameters are ignored, as Midaz does.

use crate::domain::journal::{OperationType, TransactionStatus};
use crate::domain::query::{FilterSpec, Match};

/// `name`, a case-insensitive prefix.
const NAME_FILTER: &[FilterSpec] = &[FilterSpec {
    param: "name",
    field: "name",
    matching: Match::Prefix,
}];

pub const ORGANIZATION_FILTERS: &[FilterSpec] = &[
    FilterSpec {
        param: "legal_name",
        field: "legal_name",
        matching: Match::Prefix,
    },
    FilterSpec {
        param: "doing_business_as",
        field: "doing_business_as",
        matching: Match::Prefix,
    },
    FilterSpec {
        param: "legal_document",
        field: "legal_document",
        matching: Match::Exact,
    },
    FilterSpec {
        param: "status",
        field: "status_code",
        matching: Match::OneOf(&["ACTIVE", "INACTIVE"]),
    },
];

pub const LEDGER_FILTERS: &[FilterSpec] = &[
    FilterSpec {
        param: "name",
        field: "name",
        matching: Match::Prefix,
    },
    FilterSpec {
        param: "status",
        field: "status_code",
        matching: Match::OneOf(&["ACTIVE", "INACTIVE"]),
    },
];

pub const ASSET_FILTERS: &[FilterSpec] = NAME_FILTER;

pub const PORTFOLIO_FILTERS: &[FilterSpec] = NAME_FILTER;

pub const SEGMENT_FILTERS: &[FilterSpec] = NAME_FILTER;

pub const ACCOUNT_TYPE_FILTERS: &[FilterSpec] = NAME_FILTER;

pub const ACCOUNT_FILTERS: &[FilterSpec] = &[
    FilterSpec {
        param: "name",
        field: "name",
        matching: Match::Prefix,
    },
    FilterSpec {
        param: "alias",
        field: "alias",
        matching: Match::Prefix,
    },
    FilterSpec {
        param: "portfolio_id",
        field: "portfolio_id",
        matching: Match::Exact,
    },
    FilterSpec {
        param: "segment_id",
        field: "segment_id",
        matching: Match::Exact,
    },
    FilterSpec {
        param: "parent_account_id",
        field: "parent_account_id",
        matching: Match::Exact,
    },
    FilterSpec {
        param: "entity_id",
        field: "entity_id",
        matching: Match::Exact,
    },
    FilterSpec {
        param: "type",
        field: "type",
        matching: Match::Exact,
    },
    FilterSpec {
        param: "asset_code",
        field: "asset_code",
        matching: Match::Exact,
    },
    FilterSpec {
        param: "blocked",
        field: "blocked",
        matching: Match::Flag,
    },
    FilterSpec {
        param: "status",
        field: "status_code",
        matching: Match::OneOf(&["ACTIVE", "INACTIVE", "BLOCKED"]),
    },
];

pub const TRANSACTION_FILTERS: &[FilterSpec] = &[
    FilterSpec {
        param: "status",
        field: "status_code",
        matching: Match::OneOf(TransactionStatus::CODES),
    },
    FilterSpec {
        param: "route",
        field: "route",
        matching: Match::Exact,
    },
    FilterSpec {
        param: "account_id",
        field: "account_id",
        matching: Match::LegAccount,
    },
    FilterSpec {
        param: "alias",
        field: "account_alias",
        matching: Match::LegAlias,
    },
];

pub const OPERATION_FILTERS: &[FilterSpec] = &[
    FilterSpec {
        param: "type",
        field: "type",
        matching: Match::OneOf(OperationType::CODES),
    },
    FilterSpec {
        param: "direction",
        field: "direction",
        matching: Match::Exact,
    },
    FilterSpec {
        param: "route_id",
        field: "route_id",
        matching: Match::Exact,
    },
    FilterSpec {
        param: "route_code",
        field: "route_code",
        matching: Match::Exact,
    },
];

/// `to`: the target codes wanted of the rates listed from one code.
pub const ASSET_RATE_FILTERS: &[FilterSpec] = &[FilterSpec {
    param: "to",
    field: "target_code",
    matching: Match::AnyOf,
}];
