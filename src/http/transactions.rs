//! `…/transactions`: create (json, inflow, outflow, annotation), commit, cancel, revert,
//! get, list, count, update; operation updates.

use actix_web::{HttpRequest, HttpResponse};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::LEDGER_SCOPE;
use super::body::{Check, create_metadata, double_option, patch_metadata};
use super::error::Envelope;
use super::extract::{Body, Ids, QueryPairs, TenantCtx};
use super::openapi::{CursorPage, CursorQuery, decimal_input};
use super::reply;
use super::routes::{Access, Resource, Route};
use crate::domain::entities::{DEFAULT_BALANCE_KEY, external_alias};
use crate::domain::journal::{Operation, Transaction};
use crate::domain::metadata::Metadata;
use crate::domain::query::ListQuery;
use crate::domain::time::{DayEnd, format, parse_query_date};
use crate::domain::transaction::{LEGS_PER_SIDE_MAX, Leg, LegValue};
use crate::error::{Error, Kind, Result};
use crate::ledger::filters;
use crate::ledger::transactions::{
    self as use_case, Annotations, BATCH_TRANSACTIONS_MAX, BatchItem,
    IDEMPOTENCY_TTL_DEFAULT_SECONDS, IDEMPOTENCY_TTL_MAX_SECONDS, Idempotency, Mode,
    NewTransaction,
};

/// Longest description, chart-of-accounts group name and route, in characters.
pub const TRANSACTION_TEXT_LENGTH_MAX: usize = 256;
/// Longest transaction `code`, leg alias, balance key and chart of accounts, in characters.
pub const TRANSACTION_CODE_LENGTH_MAX: usize = 100;
/// Longest `X-Idempotency` key, in characters.
pub const IDEMPOTENCY_KEY_LENGTH_MAX: usize = 256;

pub(super) fn routes() -> Vec<Route> {
    let access = Access::Tenant(Resource::Transactions);
    vec![
        Route::new::<__path_count>(access, |r| r.to(count)).filters(filters::TRANSACTION_FILTERS),
        Route::new::<__path_create_json>(access, |r| r.to(create(Shape::Json))),
        Route::new::<__path_create_batch>(access, |r| r.to(create_batch)),
        Route::new::<__path_create_inflow>(access, |r| r.to(create(Shape::Inflow))),
        Route::new::<__path_create_outflow>(access, |r| r.to(create(Shape::Outflow))),
        Route::new::<__path_create_annotation>(access, |r| r.to(create(Shape::Annotation))),
        Route::new::<__path_create_block>(access, |r| r.to(create(Shape::Block))),
        Route::new::<__path_create_unblock>(access, |r| r.to(create(Shape::Unblock))),
        Route::new::<__path_create_dsl>(access, |r| r.to(create_dsl)),
        Route::new::<__path_list>(access, |r| r.to(list)).filters(filters::TRANSACTION_FILTERS),
        Route::new::<__path_commit>(access, |r| r.to(commit)),
        Route::new::<__path_cancel>(access, |r| r.to(cancel)),
        Route::new::<__path_revert>(access, |r| r.to(revert)),
        Route::new::<__path_update_operation>(Access::Tenant(Resource::Operations), |r| {
            r.to(update_operation)
        }),
        Route::new::<__path_get_one>(access, |r| r.to(get_one)),
        Route::new::<__path_update>(access, |r| r.to(update)),
    ]
}

/// The body of `/transactions/json`; `/inflow` omits `send.source` and `pending`, `/outflow`
/// omits `send.distribute` (0053 if given), `/annotation` records without moving balances.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct TransactionInput {
    #[schema(max_length = 256)]
    chart_of_accounts_group_name: Option<String>,
    #[schema(max_length = 256)]
    description: Option<String>,
    #[schema(max_length = 100)]
    code: Option<String>,
    /// Two-phase: hold the sources' amounts until commit or cancel.
    pending: Option<bool>,
    /// A past date (0121), not with `pending` (0122): RFC 3339, `YYYY-MM-DDThh:mm:ss` or
    /// `YYYY-MM-DD`.
    transaction_date: Option<String>,
    route_id: Option<String>,
    #[schema(max_length = 256)]
    route: Option<String>,
    #[schema(schema_with = crate::http::openapi::metadata_input)]
    metadata: Option<Metadata>,
    #[schema(required = true)]
    send: Option<SendInput>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
struct SendInput {
    #[schema(value_type = String, required = true, example = "BRL")]
    asset: Option<String>,
    /// Greater than zero (0125); each side's legs must add up to it (0073).
    #[schema(schema_with = decimal_input, required = true)]
    value: Option<Value>,
    source: Option<SourceInput>,
    distribute: Option<DistributeInput>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
struct SourceInput {
    #[schema(max_items = 256)]
    from: Option<Vec<LegInput>>,
    remaining: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
struct DistributeInput {
    #[schema(max_items = 256)]
    to: Option<Vec<LegInput>>,
    remaining: Option<String>,
}

/// One leg: exactly one of `amount`, `share` or `remaining` (0072).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct LegInput {
    #[schema(value_type = String, required = true, max_length = 100, example = "@person1")]
    account_alias: Option<String>,
    /// Default `default`.
    #[schema(max_length = 100)]
    balance_key: Option<String>,
    amount: Option<AmountInput>,
    share: Option<ShareInput>,
    /// Any non-empty text: what the legs before it left of `send.value`.
    remaining: Option<String>,
    #[schema(max_length = 256)]
    description: Option<String>,
    #[schema(max_length = 100)]
    chart_of_accounts: Option<String>,
    #[schema(schema_with = crate::http::openapi::metadata_input)]
    metadata: Option<Metadata>,
    route_id: Option<String>,
    route: Option<String>,
    /// Accepted and ignored.
    rate: Option<Value>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
struct AmountInput {
    asset: Option<String>,
    #[schema(schema_with = decimal_input, required = true)]
    value: Option<Value>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct ShareInput {
    #[schema(value_type = i64, required = true)]
    percentage: Option<Value>,
    /// Default 100.
    #[schema(value_type = Option<i64>)]
    percentage_of_percentage: Option<Value>,
}

/// An amount given as a JSON string or number, read exactly (never through a float).
fn decimal(field: &str, value: &Value) -> Result<Decimal> {
    let text = match value {
        Value::String(text) => text.trim().to_owned(),
        Value::Number(number) => number.to_string(),
        _ => return Err(unrepresentable(field)),
    };
    let parsed = if text.contains(['e', 'E']) {
        Decimal::from_scientific(&text)
    } else {
        Decimal::from_str_exact(&text)
    };
    parsed
        .map(|d| d.normalize())
        .map_err(|_| unrepresentable(field))
}

/// A share percentage: a JSON integer, as Midaz reads it (an `int64`, so `33.5` or `"60"` is 0094).
fn whole(field: &str, value: &Value) -> Result<Decimal> {
    match value {
        Value::Number(number) => number
            .as_i64()
            .map(Decimal::from)
            .ok_or_else(|| not_an_integer(field)),
        _ => Err(not_an_integer(field)),
    }
}

fn not_an_integer(field: &str) -> Error {
    Error::new(Kind::InvalidRequestBody).with_message(format!(
        "invalid value for field '{field}': expected an integer"
    ))
}

fn unrepresentable(field: &str) -> Error {
    Error::new(Kind::InvalidRequestBody).with_message(format!(
        "invalid value for field '{field}': expected a decimal number of at most 28 digits"
    ))
}

/// Which legs the endpoint fills in itself.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Json,
    Inflow,
    Outflow,
    Annotation,
    Block,
    Unblock,
}

struct Parsed {
    new: NewTransaction,
    pending: bool,
    /// SHA-256 of the input as parsed: the idempotency key when the request names none, so
    /// that the same input is the same key whatever its spacing or key order.
    fingerprint: String,
}

fn parse_legs(check: &mut Check, side: &str, legs: Option<Vec<LegInput>>) -> Result<Vec<Leg>> {
    let legs = legs.unwrap_or_default();
    if legs.is_empty() {
        check.required(side, None);
    }
    if legs.len() > LEGS_PER_SIDE_MAX {
        check.invalid(
            side,
            format!("{side} must have at most {LEGS_PER_SIDE_MAX} legs"),
        );
    }
    legs.into_iter()
        .enumerate()
        .map(|(index, leg)| parse_leg(check, &format!("{side}[{index}]"), leg))
        .collect()
}

/// One leg, `at` naming it in errors (`send.source.from[0]`).
fn parse_leg(check: &mut Check, at: &str, leg: LegInput) -> Result<Leg> {
    let alias = leg.account_alias.as_deref();
    let alias = check.required_max(
        &format!("{at}.accountAlias"),
        alias,
        TRANSACTION_CODE_LENGTH_MAX,
    );
    check.max_lens(
        TRANSACTION_CODE_LENGTH_MAX,
        [
            (&format!("{at}.balanceKey"), leg.balance_key.as_deref()),
            (
                &format!("{at}.chartOfAccounts"),
                leg.chart_of_accounts.as_deref(),
            ),
        ],
    );
    check.uuid(&format!("{at}.routeId"), leg.route_id.as_deref());
    check.max_len(
        &format!("{at}.route"),
        leg.route.as_deref(),
        TRANSACTION_TEXT_LENGTH_MAX,
    );
    let description = leg.description.as_deref();
    check.max_len(
        &format!("{at}.description"),
        description,
        TRANSACTION_TEXT_LENGTH_MAX,
    );
    let remaining = leg.remaining.as_deref().is_some_and(|r| !r.is_empty());
    let value = leg_value(check, at, leg.amount, leg.share, remaining)?;
    let metadata = create_metadata(leg.metadata)?;
    Ok(Leg {
        alias,
        balance_key: leg
            .balance_key
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| DEFAULT_BALANCE_KEY.to_owned())
            .to_lowercase(),
        value,
        description: leg.description,
        chart_of_accounts: leg.chart_of_accounts,
        metadata,
        route: leg.route,
        route_id: leg.route_id.map(|id| id.to_lowercase()),
    })
}

/// What a leg moves: exactly one of an amount, a share or the remainder (0072).
fn leg_value(
    check: &mut Check,
    at: &str,
    amount: Option<AmountInput>,
    share: Option<ShareInput>,
    remaining: bool,
) -> Result<LegValue> {
    if [amount.is_some(), share.is_some(), remaining]
        .iter()
        .filter(|g| **g)
        .count()
        != 1
    {
        return Err(
            Error::new(Kind::InvalidTransactionType).with_message(format!(
                "{at} must have exactly one of amount, share or remaining."
            )),
        );
    }
    if let Some(amount) = amount {
        return Ok(match amount.value {
            Some(v) => LegValue::Amount(decimal(&format!("{at}.amount.value"), &v)?),
            None => {
                check.required(&format!("{at}.amount.value"), None);
                LegValue::Amount(Decimal::ZERO)
            }
        });
    }
    let Some(share) = share else {
        return Ok(LegValue::Remaining);
    };
    let percentage = share
        .percentage
        .map(|p| whole(&format!("{at}.share.percentage"), &p))
        .transpose()?;
    let of = share
        .percentage_of_percentage
        .map(|p| whole(&format!("{at}.share.percentageOfPercentage"), &p))
        .transpose()?
        .filter(|p| !p.is_zero())
        .unwrap_or(Decimal::ONE_HUNDRED);
    Ok(match percentage {
        Some(percentage) => LegValue::Share { percentage, of },
        None => {
            check.required(&format!("{at}.share.percentage"), None);
            LegValue::Remaining
        }
    })
}

fn forbid(field: &str) -> Error {
    let fields = [(
        field.to_owned(),
        format!("{field} is not allowed on this endpoint"),
    )]
    .into_iter()
    .collect();
    Error::new(Kind::UnexpectedFieldsInTheRequest).with_fields(fields)
}

/// Parses and validates a create body in Midaz's order.
fn parse(body: &Body, shape: Shape) -> Result<Parsed> {
    parse_input(body.parse()?, shape)
}

fn parse_input(input: TransactionInput, shape: Shape) -> Result<Parsed> {
    let mut digest = Sha256::new();
    // A block and the unblock that lifts it usually carry the same body: they must not be
    // one idempotency key.
    match shape {
        Shape::Block => digest.update(b"block:"),
        Shape::Unblock => digest.update(b"unblock:"),
        _ => {}
    }
    digest.update(serde_json::to_vec(&input)?);
    let fingerprint = format!("sha256:{:x}", digest.finalize());
    forbid_by_shape(&input, shape)?;
    let mut check = Check::new();
    check.max_lens(
        TRANSACTION_TEXT_LENGTH_MAX,
        [
            ("description", input.description.as_deref()),
            (
                "chartOfAccountsGroupName",
                input.chart_of_accounts_group_name.as_deref(),
            ),
        ],
    );
    check.max_len("code", input.code.as_deref(), TRANSACTION_CODE_LENGTH_MAX);
    check.max_len("route", input.route.as_deref(), TRANSACTION_TEXT_LENGTH_MAX);
    check.uuid("routeId", input.route_id.as_deref());
    let Some(send) = input.send else {
        check.required("send", None);
        check.finish()?;
        return Err(Error::new(Kind::MissingFieldsInRequest));
    };
    let (asset, value, from, to) = parse_send(&mut check, send, shape)?;
    check.finish()?;
    let metadata = create_metadata(input.metadata)?;
    // Block and unblock are always immediate: Midaz ignores their `pending`.
    let pending = input.pending.unwrap_or(false) && !matches!(shape, Shape::Block | Shape::Unblock);
    check_transaction_date(input.transaction_date.as_deref(), pending)?;
    if value <= Decimal::ZERO {
        return Err(Error::new(Kind::InvalidTransactionNonPositiveValue));
    }
    let mode = match (shape, pending) {
        (Shape::Annotation, _) => Mode::Annotation,
        (Shape::Block, _) => Mode::Block,
        (Shape::Unblock, _) => Mode::Unblock,
        (_, true) => Mode::Pending,
        _ => Mode::Immediate,
    };
    let new = NewTransaction {
        mode,
        description: input.description,
        chart_of_accounts_group_name: input.chart_of_accounts_group_name,
        route: input.route,
        route_id: input.route_id.map(|id| id.to_lowercase()),
        metadata,
        asset,
        value,
        from,
        to,
    };
    Ok(Parsed {
        new,
        pending,
        fingerprint,
    })
}

/// 0053 for the fields the endpoint fills in itself: `/inflow`'s `send.source` and `pending`,
/// `/outflow`'s `send.distribute`.
fn forbid_by_shape(input: &TransactionInput, shape: Shape) -> Result<()> {
    let send = input.send.as_ref();
    if shape == Shape::Inflow {
        if send.is_some_and(|s| s.source.is_some()) {
            return Err(forbid("send.source"));
        }
        if input.pending.is_some() {
            return Err(forbid("pending"));
        }
    }
    if shape == Shape::Outflow && send.is_some_and(|s| s.distribute.is_some()) {
        return Err(forbid("send.distribute"));
    }
    Ok(())
}

/// `send`: its asset, its value (zero when missing) and both sides' legs, the external
/// account standing in for the side the endpoint fills in.
fn parse_send(
    check: &mut Check,
    send: SendInput,
    shape: Shape,
) -> Result<(String, Decimal, Vec<Leg>, Vec<Leg>)> {
    let asset = check
        .required("send.asset", send.asset.as_deref())
        .to_owned();
    let value = match &send.value {
        Some(v) => Some(decimal("send.value", v)?),
        None => {
            check.required("send.value", None);
            None
        }
    };
    let value = value.unwrap_or_default();
    let external = || {
        Leg::new(
            external_alias(&asset),
            DEFAULT_BALANCE_KEY,
            LegValue::Amount(value),
        )
    };
    let from = match shape {
        Shape::Inflow => vec![external()],
        _ => parse_legs(check, "send.source.from", send.source.and_then(|s| s.from))?,
    };
    let to = match shape {
        Shape::Outflow => vec![external()],
        _ => parse_legs(
            check,
            "send.distribute.to",
            send.distribute.and_then(|s| s.to),
        )?,
    };
    Ok((asset, value, from, to))
}

/// `transactionDate`: not with `pending` (0122), not in the future (0121).
fn check_transaction_date(date: Option<&str>, pending: bool) -> Result<()> {
    let Some(date) = date.filter(|d| !d.is_empty()) else {
        return Ok(());
    };
    if pending {
        return Err(Error::new(Kind::InvalidPendingFutureTransactionDate));
    }
    let at = parse_query_date(date, DayEnd::Start)
        .ok_or_else(|| Error::new(Kind::InvalidDatetimeFormat))?;
    if at > time::OffsetDateTime::now_utc() {
        return Err(Error::new(Kind::InvalidFutureTransactionDate));
    }
    Ok(())
}

/// `X-Idempotency` (or `fingerprint`, the SHA-256 of the parsed input) and `X-TTL` in seconds.
fn idempotency(req: &HttpRequest, fingerprint: String) -> Result<Idempotency> {
    let given = given_idempotency(req)?;
    Ok(given.unwrap_or_else(|| Idempotency {
        key: fingerprint,
        ttl_seconds: ttl(req),
    }))
}

/// `X-Idempotency` and `X-TTL` in seconds, when the request names a key.
fn given_idempotency(req: &HttpRequest) -> Result<Option<Idempotency>> {
    let Some(key) = header(req, "X-Idempotency") else {
        return Ok(None);
    };
    if key.chars().count() > IDEMPOTENCY_KEY_LENGTH_MAX {
        let fields = [(
            "X-Idempotency".to_owned(),
            format!("must be at most {IDEMPOTENCY_KEY_LENGTH_MAX} characters"),
        )];
        return Err(Error::new(Kind::BadRequest).with_fields(fields.into_iter().collect()));
    }
    Ok(Some(Idempotency {
        key: key.to_owned(),
        ttl_seconds: ttl(req),
    }))
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn ttl(req: &HttpRequest) -> u64 {
    header(req, "X-TTL")
        .and_then(|t| t.parse::<u64>().ok())
        .filter(|t| *t > 0)
        .unwrap_or(IDEMPOTENCY_TTL_DEFAULT_SECONDS)
        .min(IDEMPOTENCY_TTL_MAX_SECONDS)
}

/// 201 with a create's body and whether it is a replay.
fn created(created: use_case::Created) -> Result<HttpResponse> {
    let replayed = if created.replayed() { "true" } else { "false" };
    Ok(HttpResponse::Created()
        .content_type("application/json")
        .insert_header(("X-Idempotency-Replayed", replayed))
        .body(created.into_json()?))
}

/// The handler of a create endpoint of the given shape.
fn create(
    shape: Shape,
) -> impl Fn(
    TenantCtx,
    Ids,
    HttpRequest,
    Body,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<HttpResponse>>>>
+ Clone
+ 'static {
    move |ctx, ids, req, body| Box::pin(create_with(ctx, ids, req, body, shape))
}

/// The OpenAPI operations of the routes [`create`] serves.
macro_rules! create_docs {
    ($name:ident $path:literal $summary:literal) => {
        #[utoipa::path(post, context_path = LEDGER_SCOPE, path = $path, tag = "Transactions",
            summary = $summary, request_body = TransactionInput, params(IdempotencyHeaders),
            responses((status = 201, body = Transaction, headers(
                ("X-Idempotency-Replayed" = bool, description = "Whether this is a replay of an earlier response"))
            )))]
        #[allow(dead_code)]
        fn $name() {}
    };
}
create_docs!(create_json "/transactions/json" "Create a transaction.");
create_docs!(create_inflow "/transactions/inflow" "Create a transaction from the asset's external account.");
create_docs!(create_outflow "/transactions/outflow" "Create a transaction to the asset's external account.");
create_docs!(create_annotation "/transactions/annotation" "Record a transaction without effect on balances (status NOTED).");
create_docs!(create_block "/transactions/block" "Create an immediate transaction whose operations are typed BLOCK (`pending` is ignored).");
create_docs!(create_unblock "/transactions/unblock" "Create an immediate transaction whose operations are typed UNBLOCK (`pending` is ignored).");

/// `X-Idempotency` and `X-TTL`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
struct IdempotencyHeaders {
    /// Idempotency key (at most 256 characters); without one, the SHA-256 of the body is the key.
    #[param(rename = "X-Idempotency", max_length = 256)]
    idempotency: Option<String>,
    /// How long the key is kept, in seconds (default 300).
    #[param(rename = "X-TTL", minimum = 1)]
    ttl: Option<u64>,
}

async fn create_with(
    ctx: TenantCtx,
    ids: Ids,
    req: HttpRequest,
    body: Body,
    shape: Shape,
) -> Result<HttpResponse> {
    let parsed = parse(&body, shape)?;
    debug_assert!(!parsed.pending || parsed.new.mode == Mode::Pending);
    let idempotency = idempotency(&req, parsed.fingerprint)?;
    created(use_case::create(&ctx.tenant, ids.ledger()?, parsed.new, idempotency).await?)
}

/// Commit a pending transaction (0099 unless PENDING).
#[utoipa::path(post, context_path = LEDGER_SCOPE, path = "/transactions/{transaction_id}/commit", tag = "Transactions",
    responses((status = 201, body = Transaction)))]
async fn commit(ctx: TenantCtx, ids: Ids) -> Result<HttpResponse> {
    reply::created(&use_case::settle(&ctx.tenant, ids.ledger()?, ids.transaction()?, true).await?)
}

/// Cancel a pending transaction (0099 unless PENDING).
#[utoipa::path(post, context_path = LEDGER_SCOPE, path = "/transactions/{transaction_id}/cancel", tag = "Transactions",
    responses((status = 201, body = Transaction)))]
async fn cancel(ctx: TenantCtx, ids: Ids) -> Result<HttpResponse> {
    reply::created(&use_case::settle(&ctx.tenant, ids.ledger()?, ids.transaction()?, false).await?)
}

/// A revert is deduplicated only by an explicit `X-Idempotency`: without one, a second revert
/// of the same transaction is 0087.
#[utoipa::path(post, context_path = LEDGER_SCOPE, path = "/transactions/{transaction_id}/revert", tag = "Transactions",
    summary = "Revert an approved transaction with a new, reversed one.", params(IdempotencyHeaders),
    responses((status = 201, body = Transaction)))]
async fn revert(ctx: TenantCtx, ids: Ids, req: HttpRequest) -> Result<HttpResponse> {
    let idempotency = given_idempotency(&req)?;
    created(
        use_case::revert_once(&ctx.tenant, ids.ledger()?, ids.transaction()?, idempotency).await?,
    )
}

/// Get a transaction with its operations.
#[utoipa::path(get, context_path = LEDGER_SCOPE, path = "/transactions/{transaction_id}", tag = "Transactions",
    responses((status = 200, body = Transaction)))]
async fn get_one(ctx: TenantCtx, ids: Ids) -> Result<HttpResponse> {
    reply::ok(&use_case::get(&ctx.tenant, ids.ledger()?, ids.transaction()?).await?)
}

/// List the ledger's transactions.
#[utoipa::path(get, context_path = LEDGER_SCOPE, path = "/transactions", tag = "Transactions", params(CursorQuery),
    responses((status = 200, body = CursorPage<Transaction>)))]
async fn list(ctx: TenantCtx, ids: Ids, query: QueryPairs) -> Result<HttpResponse> {
    let query = query.list()?;
    let page = use_case::list(&ctx.tenant, ids.ledger()?, query.clone()).await?;
    reply::cursor_page(&page, &query)
}

/// Counts transactions of a day window: the given one, or today (UTC).
#[utoipa::path(head, context_path = LEDGER_SCOPE, path = "/transactions/metrics/count", tag = "Transactions",
    summary = "Count the ledger's transactions of a day window (default today, UTC).",
    params(("start_date" = Option<String>, Query), ("end_date" = Option<String>, Query)),
    responses((status = 204, headers(("X-Total-Count" = i64)))))]
async fn count(ctx: TenantCtx, ids: Ids, query: QueryPairs) -> Result<HttpResponse> {
    let mut query: ListQuery = query.list()?;
    if query.window.is_none() {
        let today = time::OffsetDateTime::now_utc().date();
        let start = today.midnight().assume_utc();
        query.window = Some((
            format(start),
            format(start + time::Duration::days(1) - time::Duration::microseconds(1)),
        ));
    }
    reply::total_count(use_case::count(&ctx.tenant, ids.ledger()?, query).await?)
}

/// Absent fields are kept; `metadata` merges (a `null` value deletes its key, `null` clears).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
struct AnnotationsInput {
    #[schema(max_length = 256)]
    description: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = crate::http::openapi::metadata_patch)]
    metadata: Option<Option<Metadata>>,
}

impl AnnotationsInput {
    fn into_change(self) -> Result<Annotations> {
        let mut check = Check::new();
        check.max_len(
            "description",
            self.description.as_deref(),
            TRANSACTION_TEXT_LENGTH_MAX,
        );
        check.finish()?;
        Ok(Annotations {
            description: self.description,
            metadata: patch_metadata(self.metadata)?,
        })
    }
}

/// Update a transaction's description and metadata.
#[utoipa::path(patch, context_path = LEDGER_SCOPE, path = "/transactions/{transaction_id}", tag = "Transactions",
    request_body = AnnotationsInput, responses((status = 200, body = Transaction)))]
async fn update(ctx: TenantCtx, ids: Ids, body: Body) -> Result<HttpResponse> {
    let change = body.parse::<AnnotationsInput>()?.into_change()?;
    reply::ok(&use_case::update(&ctx.tenant, ids.ledger()?, ids.transaction()?, change).await?)
}

/// Update an operation's description and metadata.
#[utoipa::path(patch, context_path = LEDGER_SCOPE, path = "/transactions/{transaction_id}/operations/{operation_id}",
    tag = "Operations", request_body = AnnotationsInput, responses((status = 200, body = Operation)))]
async fn update_operation(ctx: TenantCtx, ids: Ids, body: Body) -> Result<HttpResponse> {
    let change = body.parse::<AnnotationsInput>()?.into_change()?;
    let operation = use_case::update_operation(
        &ctx.tenant,
        ids.ledger()?,
        ids.transaction()?,
        ids.operation()?,
        change,
    )
    .await?;
    reply::ok(&operation)
}

/// `POST …/transactions/batch` (an extension of the Midaz contract): up to
/// [`BATCH_TRANSACTIONS_MAX`] bodies of the `/json` shape, each with an optional
/// `idempotencyKey`, applied in one write. `"atomic": true` applies all or none (201, or the
/// first failing item's error with its `index`); otherwise every item gets its own result
/// in order (200).
/// Create a transaction from a Gold DSL file: refused. Midaz deprecated the Gold DSL in v3.8
/// and sunset it on 2026-08-01; the answer carries Midaz's `Deprecation`, `Sunset` and `Link`
/// (the JSON endpoint that replaces it) headers. The body is not read.
#[utoipa::path(post, context_path = LEDGER_SCOPE, path = "/transactions/dsl", tag = "Transactions",
    responses((status = 410, body = crate::http::error::Envelope, description = "Gone: post JSON to `…/transactions/json`",
        headers(("Deprecation" = String), ("Sunset" = String), ("Link" = String)))))]
async fn create_dsl(_: TenantCtx, ids: Ids) -> Result<HttpResponse> {
    let successor = format!(
        "</v1/organizations/{}/ledgers/{}/transactions/json>; rel=\"successor-version\"",
        ids.get("organization_id")?,
        ids.get("ledger_id")?
    );
    let error = Error::new(Kind::GoldDslSunset);
    let mut reply = actix_web::ResponseError::error_response(&error);
    let headers = reply.headers_mut();
    for (name, value) in [
        ("deprecation", "true".to_owned()),
        ("sunset", GOLD_DSL_SUNSET.to_owned()),
        ("link", successor),
    ] {
        let value = actix_web::http::header::HeaderValue::from_str(&value)
            .map_err(|_| Error::internal("a header value that is not visible ASCII"))?;
        headers.insert(
            actix_web::http::header::HeaderName::from_static(name),
            value,
        );
    }
    Ok(reply)
}

/// When Midaz retired the Gold DSL endpoint (its `Sunset` header).
pub const GOLD_DSL_SUNSET: &str = "Sat, 01 Aug 2026 00:00:00 GMT";

#[utoipa::path(post, context_path = LEDGER_SCOPE, path = "/transactions/batch", tag = "Transactions",
    summary = "Create up to 1,000 transactions in one write (extension of the Midaz contract).",
    request_body = BatchInput, params(IdempotencyHeaders), responses(
        (status = 200, body = BatchReply, description = "Not atomic: one result per item"),
        (status = 201, body = BatchReply, description = "Atomic: all created"),
    ))]
async fn create_batch(
    ctx: TenantCtx,
    ids: Ids,
    req: HttpRequest,
    body: Body,
) -> Result<HttpResponse> {
    let batch: BatchInput = body.parse()?;
    let atomic = batch.atomic.unwrap_or(false);
    let items = batch.transactions.unwrap_or_default();
    let mut check = Check::new();
    if items.is_empty() {
        check.required("transactions", None);
    }
    if items.len() > BATCH_TRANSACTIONS_MAX {
        check.invalid(
            "transactions",
            format!("transactions must have at most {BATCH_TRANSACTIONS_MAX} items"),
        );
    }
    check.finish()?;
    let ttl_seconds = ttl(&req);
    let parsed: Vec<Result<BatchItem>> = items
        .into_iter()
        .map(|item| batch_item(item, ttl_seconds))
        .collect();
    let outcomes = use_case::create_batch(&ctx.tenant, ids.ledger()?, parsed, atomic).await?;
    let mut results = Vec::with_capacity(outcomes.len());
    for (index, outcome) in outcomes.into_iter().enumerate() {
        results.push(match outcome {
            Ok(created) => BatchResult {
                index,
                status: 201,
                replayed: Some(created.replayed()),
                body: BatchBody::Created(created.into_value()?),
            },
            Err(error) => BatchResult {
                index,
                status: error.spec().status,
                replayed: None,
                body: BatchBody::Failed(error.envelope()),
            },
        });
    }
    let body = BatchReply { items: results };
    Ok(if atomic {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
struct BatchInput {
    /// All or none (201, or the first failing item's error with its `index`); default false.
    atomic: Option<bool>,
    /// Bodies of the `/json` shape, each with an optional `idempotencyKey`.
    #[schema(value_type = Vec<BatchTransactionInput>, required = true, min_items = 1, max_items = 1000)]
    transactions: Option<Vec<Value>>,
}

/// A `/json` body plus its optional `idempotencyKey` (else the SHA-256 of the item).
struct BatchTransactionInput;

impl utoipa::PartialSchema for BatchTransactionInput {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
        let mut schema = <TransactionInput as utoipa::PartialSchema>::schema();
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            object.properties.insert(
                "idempotencyKey".to_owned(),
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .max_length(Some(IDEMPOTENCY_KEY_LENGTH_MAX))
                    .into(),
            );
        }
        schema
    }
}

impl ToSchema for BatchTransactionInput {}

/// `{items}`: one result per item, in order.
#[derive(Serialize, ToSchema)]
struct BatchReply {
    items: Vec<BatchResult>,
}

#[derive(Serialize, ToSchema)]
struct BatchResult {
    index: usize,
    /// The status the item would have had on its own (201 when created).
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    replayed: Option<bool>,
    body: BatchBody,
}

#[derive(Serialize, ToSchema)]
#[serde(untagged)]
enum BatchBody {
    #[schema(value_type = Transaction)]
    Created(Value),
    Failed(Envelope),
}

/// One item: the `/json` body plus its optional `idempotencyKey` (else its fingerprint).
fn batch_item(mut item: Value, ttl_seconds: u64) -> Result<BatchItem> {
    let key = match item
        .as_object_mut()
        .and_then(|o| o.remove("idempotencyKey"))
    {
        None | Some(Value::Null) => None,
        Some(Value::String(key)) if key.chars().count() <= IDEMPOTENCY_KEY_LENGTH_MAX => Some(key),
        Some(_) => {
            let fields = [(
                "idempotencyKey".to_owned(),
                format!(
                    "idempotencyKey must be a string of at most {IDEMPOTENCY_KEY_LENGTH_MAX} characters"
                ),
            )];
            return Err(Error::new(Kind::BadRequest).with_fields(fields.into_iter().collect()));
        }
    };
    let parsed = parse_input(super::body::parse_value(item)?, Shape::Json)?;
    Ok(BatchItem {
        new: parsed.new,
        idempotency: Idempotency {
            key: key.unwrap_or(parsed.fingerprint),
            ttl_seconds,
        },
    })
}
