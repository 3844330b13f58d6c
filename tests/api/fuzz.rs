//! Fuzzing the transaction endpoints, as a bounded proptest run in CI.
//!
//! Hostile requests go to every transaction endpoint (`/transactions/json|inflow|outflow|
//! annotation|batch`, commit, cancel, revert, PATCH of a transaction, of an operation and of a
//! balance) and to the list and count endpoints: valid-shaped bodies with mutated fields
//! (wrong types, huge, negative, zero, over-precise and scientific amounts, deep nesting,
//! unknown fields, empty and unicode strings, nulls), text-level damage (truncation, duplicate
//! keys, stray and non-UTF-8 bytes), arbitrary JSON, random bytes, odd content types, odd path
//! ids, and random query strings. Every request must be answered (no dropped connection),
//! never with a 5xx; a 4xx must carry the JSON error envelope with its `code`, and must leave
//! the tenant file exactly as it was. The bodies in `tests/api/fuzz_corpus/` are replayed against
//! every body-taking endpoint before the random cases; the ledger's audit must be clean at
//! the end.
//!
//! Reproducible like `tests/model.rs`: fixed seed and case count unless `PROPTEST_RNG_SEED` /
//! `PROPTEST_CASES` say otherwise; failures are saved in `tests/api/fuzz.proptest-regressions`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{TestApp, spawn_app_with};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::Method;
use serde_json::{Value, json};

/// Random requests sent when `PROPTEST_CASES` is not set.
const FUZZ_CASES_DEFAULT: u32 = 600;
/// RNG seed when `PROPTEST_RNG_SEED` is not set.
const FUZZ_SEED_DEFAULT: u64 = 0xf022_1ed9_e700_0001;
/// Shrinking steps tried on a failing request.
const SHRINK_ITERATIONS_MAX: u32 = 500;
/// Mutations applied to one valid-shaped body.
const MUTATIONS_PER_BODY_MAX: usize = 4;
/// Longest random byte body, in bytes.
const RANDOM_BODY_BYTES_MAX: usize = 96;
/// Longest generated string, in characters.
const RANDOM_STRING_CHARS_MAX: usize = 40;
/// Nesting of the deepest generated wrapper, in levels (beyond the server's limit of 10).
const NESTING_LEVELS_MAX: usize = 40;
/// Pending transactions the fixture leaves for commit/cancel/revert to find.
const PENDING_FIXTURES: usize = 4;

/// Failing cases found so far, replayed before new ones (relative to the package root, where
/// `cargo test` runs).
const REGRESSIONS_FILE: &str = "tests/api/fuzz.proptest-regressions";
const CORPUS_DIR: &str = "tests/api/fuzz_corpus";

// ---- the fixture ---------------------------------------------------------------------------

/// A ledger with funded accounts, pending and approved transactions: ids for the paths.
struct Fixture {
    app: TestApp,
    ledger: String,
    file: PathBuf,
    transactions: Vec<String>,
    operations: Vec<(String, String)>,
    balances: Vec<String>,
    accounts: Vec<String>,
}

fn leg(alias: &str, value: &str) -> Value {
    json!({"accountAlias": alias, "amount": {"asset": "USD", "value": value}})
}

fn transfer(from: &str, to: &str, value: &str) -> Value {
    json!({"send": {"asset": "USD", "value": value,
        "source": {"from": [leg(from, value)]}, "distribute": {"to": [leg(to, value)]}}})
}

impl Fixture {
    async fn new() -> Self {
        let app = spawn_app_with(|config| config.sync = ledgerlite::store::SyncMode::Normal).await;
        let ledger = app.ledger().await;
        app.asset(&ledger, "USD").await;
        let mut accounts = Vec::new();
        for alias in ["@a", "@b"] {
            let account = app.account(&ledger, alias, "USD").await;
            accounts.push(account["id"].as_str().unwrap().to_owned());
        }
        let mut transactions = Vec::new();
        let mut operations = Vec::new();
        let mut post = async |rest: &str, body: Value| {
            let reply = app.post(&format!("{ledger}{rest}"), body).await;
            assert_eq!(reply.status, 201, "{}", reply.body);
            let id = reply.body["id"].as_str().unwrap().to_owned();
            for op in reply.body["operations"].as_array().unwrap() {
                operations.push((id.clone(), op["id"].as_str().unwrap().to_owned()));
            }
            transactions.push(id);
        };
        post(
            "/transactions/inflow",
            json!({"send": {"asset": "USD", "value": "1000000",
                "distribute": {"to": [leg("@a", "600000"), leg("@b", "400000")]}}}),
        )
        .await;
        post("/transactions/json", transfer("@a", "@b", "10")).await;
        for cents in 0..PENDING_FIXTURES {
            let mut body = transfer("@b", "@a", &format!("1.{cents:02}"));
            body["pending"] = json!(true);
            post("/transactions/json", body).await;
        }
        let reply = app.get(&format!("{ledger}/balances?limit=100")).await;
        let balances = reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["id"].as_str().unwrap().to_owned())
            .collect();
        let file = app.data_dir.join("tenants/default.sqlite");
        Self {
            app,
            ledger,
            file,
            transactions,
            operations,
            balances,
            accounts,
        }
    }
}

/// Every row of every table of the tenant file, as text.
fn snapshot(file: &Path) -> BTreeMap<String, Vec<Vec<String>>> {
    let conn =
        rusqlite::Connection::open_with_flags(file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut state = BTreeMap::new();
    for table in tables {
        let mut statement = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = statement.column_count();
        let rows = statement
            .query_map([], |r| {
                Ok((0..columns)
                    .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                    .collect::<Vec<String>>())
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        state.insert(table, rows);
    }
    state
}

// ---- requests ------------------------------------------------------------------------------

/// An id in a path: one the fixture knows, a random UUID, or not a UUID at all.
#[derive(Debug, Clone)]
enum Id {
    Known(usize),
    Random(u128),
    Garbage(String),
}

#[derive(Debug, Clone)]
enum Endpoint {
    Create(&'static str),
    Batch,
    Settle(&'static str, Id),
    PatchTransaction(Id),
    PatchOperation(Id),
    PatchBalance(Id),
    List(&'static str, Option<Id>),
    Count,
}

#[derive(Debug, Clone)]
enum Query {
    None,
    Pairs(Vec<(String, String)>),
    Raw(String),
}

#[derive(Debug, Clone)]
struct Request {
    endpoint: Endpoint,
    body: Option<Vec<u8>>,
    content_type: Option<&'static str>,
    query: Query,
}

impl Request {
    fn method(&self) -> Method {
        match self.endpoint {
            Endpoint::Create(_) | Endpoint::Batch | Endpoint::Settle(..) => Method::POST,
            Endpoint::PatchTransaction(_)
            | Endpoint::PatchOperation(_)
            | Endpoint::PatchBalance(_) => Method::PATCH,
            Endpoint::List(..) => Method::GET,
            Endpoint::Count => Method::HEAD,
        }
    }
}

fn id_text(id: &Id, known: &[String]) -> String {
    match id {
        Id::Known(k) if !known.is_empty() => known[k % known.len()].clone(),
        Id::Known(_) => "none".to_owned(),
        Id::Random(bits) => uuid::Uuid::from_u128(*bits).to_string(),
        Id::Garbage(text) => text.clone(),
    }
}

impl Fixture {
    fn path(&self, endpoint: &Endpoint) -> String {
        let tx = |id: &Id| id_text(id, &self.transactions);
        let rest = match endpoint {
            Endpoint::Create(kind) => format!("/transactions/{kind}"),
            Endpoint::Batch => "/transactions/batch".to_owned(),
            Endpoint::Settle(action, id) => format!("/transactions/{}/{action}", tx(id)),
            Endpoint::PatchTransaction(id) => format!("/transactions/{}", tx(id)),
            Endpoint::PatchOperation(id) => {
                let (t, o) = match id {
                    Id::Known(k) => self.operations[k % self.operations.len()].clone(),
                    other => (self.transactions[0].clone(), id_text(other, &[])),
                };
                format!("/transactions/{t}/operations/{o}")
            }
            Endpoint::PatchBalance(id) => format!("/balances/{}", id_text(id, &self.balances)),
            Endpoint::List(kind, None) => format!("/{kind}"),
            Endpoint::List(kind, Some(id)) => {
                format!("/accounts/{}/{kind}", id_text(id, &self.accounts))
            }
            Endpoint::Count => "/transactions/metrics/count".to_owned(),
        };
        format!("{}{}{rest}", self.app.base, self.ledger)
    }

    /// Sends `request`; checks the reply's shape and that a rejection changed nothing.
    async fn check(&self, request: &Request) -> Result<u16, TestCaseError> {
        let before = snapshot(&self.file);
        let mut url = reqwest::Url::parse(&self.path(&request.endpoint))
            .map_err(|e| TestCaseError::fail(format!("unusable path: {e}")))?;
        match &request.query {
            Query::None => {}
            Query::Pairs(pairs) => {
                url.query_pairs_mut().extend_pairs(pairs);
            }
            Query::Raw(raw) => url.set_query(Some(raw)),
        }
        let mut builder = self.app.client.request(request.method(), url.clone());
        if let Some(content_type) = request.content_type {
            builder = builder.header("content-type", content_type);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let response = builder
            .send()
            .await
            .map_err(|e| TestCaseError::fail(format!("no answer to {url}: {e}")))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| TestCaseError::fail(format!("answer to {url} cut short: {e}")))?;
        let text = String::from_utf8_lossy(&bytes);
        prop_assert!(
            status < 500,
            "{} {}: {} {}",
            request.method(),
            url,
            status,
            text
        );
        if request.method() == Method::HEAD {
            prop_assert!(bytes.is_empty(), "a HEAD answer has no body");
        } else if status != 204 {
            let body: Value = serde_json::from_slice(&bytes).map_err(|e| {
                TestCaseError::fail(format!(
                    "{url}: {status} with a non-JSON body ({e}): {text}"
                ))
            })?;
            if status >= 400 {
                prop_assert!(
                    body["code"].is_string()
                        && body["title"].is_string()
                        && body["message"].is_string(),
                    "{} {}: {} without the error envelope: {}",
                    request.method(),
                    url,
                    status,
                    text
                );
            }
        }
        if status >= 400 {
            prop_assert!(
                snapshot(&self.file) == before,
                "{} {} was refused with {} but changed the tenant",
                request.method(),
                url,
                status
            );
        }
        Ok(status)
    }
}

// ---- generators ----------------------------------------------------------------------------

/// Valid-shaped bodies of each body-taking endpoint, the starting points of mutations.
fn template(endpoint: &Endpoint) -> Value {
    let legs = json!({"send": {"asset": "USD", "value": "0.50",
        "source": {"from": [{"accountAlias": "@a", "balanceKey": "default", "amount": {"asset": "USD", "value": "0.25"},
            "description": "leg", "chartOfAccounts": "1000", "metadata": {"k": "v"}},
            {"accountAlias": "@b", "remaining": "remaining"}]},
        "distribute": {"to": [{"accountAlias": "@external/USD", "share": {"percentage": 100, "percentageOfPercentage": 100}}]}},
        "description": "fuzz", "chartOfAccountsGroupName": "G", "code": "C1", "pending": false,
        "metadata": {"reference": "R-1", "n": 1, "ok": true}});
    match endpoint {
        Endpoint::Create("inflow") => json!({"send": {"asset": "USD", "value": "0.01",
            "distribute": {"to": [{"accountAlias": "@a", "amount": {"asset": "USD", "value": "0.01"}}]}},
            "transactionDate": "2024-01-31T10:00:00Z"}),
        Endpoint::Create("outflow") => json!({"send": {"asset": "USD", "value": "0.01",
            "source": {"from": [{"accountAlias": "@b", "amount": {"asset": "USD", "value": "0.01"}}]}}, "pending": true}),
        Endpoint::Create(_) => legs,
        Endpoint::Batch => {
            json!({"atomic": false, "transactions": [legs, {"idempotencyKey": "k", "send": {"asset": "USD", "value": "1",
                "source": {"from": [{"accountAlias": "@a", "amount": {"asset": "USD", "value": "1"}}]},
                "distribute": {"to": [{"accountAlias": "@b", "remaining": "remaining"}]}}}]})
        }
        Endpoint::PatchBalance(_) => json!({"allowSending": true, "allowReceiving": true}),
        _ => json!({"description": "patched", "metadata": {"k": "v", "gone": null}}),
    }
}

fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(" ".to_owned()),
        Just("0".to_owned()),
        Just("-1".to_owned()),
        Just("1e3".to_owned()),
        Just("1E+400".to_owned()),
        Just("1e-400".to_owned()),
        Just("NaN".to_owned()),
        Just("Infinity".to_owned()),
        Just("1,5".to_owned()),
        Just("0x1F".to_owned()),
        Just("\u{661}\u{662}\u{663}".to_owned()),
        Just("\u{0}".to_owned()),
        Just("💸".to_owned()),
        Just("0.00000000000000000000000000001".to_owned()),
        Just("79228162514264337593543950335".to_owned()),
        Just("79228162514264337593543950336".to_owned()),
        Just("-79228162514264337593543950336".to_owned()),
        Just("remaining".to_owned()),
        Just("@external/USD".to_owned()),
        Just("@a".to_owned()),
        Just("USD".to_owned()),
        Just("2999-01-01T00:00:00Z".to_owned()),
        Just("x".repeat(300)),
        Just("é".repeat(3000)),
        proptest::string::string_regex(&format!(".{{0,{RANDOM_STRING_CHARS_MAX}}}")).unwrap(),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    let literal = prop_oneof![
        Just("0"),
        Just("-0"),
        Just("-1"),
        Just("1e400"),
        Just("-1e400"),
        Just("1E-30"),
        Just("1.5e2"),
        Just("123456789012345678901234567890.5"),
        Just("0.00000000000000000000000000001"),
        Just("79228162514264337593543950336"),
        Just("18446744073709551616"),
        Just("-9223372036854775809"),
    ]
    .prop_map(|text| serde_json::from_str::<Value>(text).unwrap());
    prop_oneof![
        literal,
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        string().prop_map(Value::String),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(string(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A value wrapped in `levels` arrays or objects.
fn nested(value: Value, levels: usize, arrays: bool) -> Value {
    (0..levels).fold(
        value,
        |v, _| if arrays { json!([v]) } else { json!({"a": v}) },
    )
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, Value),
    Remove(usize),
    AddField(usize, String, Value),
    Nest(usize, usize, bool),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), prop_oneof![4 => scalar(), 1 => any_json()]).prop_map(|(at, v)| Mutation::Replace(at, v)),
        2 => any::<usize>().prop_map(Mutation::Remove),
        2 => (any::<usize>(), prop_oneof![string(), Just("send".to_owned()), Just("metadata".to_owned())], scalar())
            .prop_map(|(at, k, v)| Mutation::AddField(at, k, v)),
        1 => (any::<usize>(), 1..=NESTING_LEVELS_MAX, any::<bool>()).prop_map(|(at, n, arrays)| Mutation::Nest(at, n, arrays)),
    ]
}

/// JSON pointers of every node of `value` but the root.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(v, p, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(v, p, out);
            }
        }
        _ => {}
    }
}

fn apply(mut body: Value, mutations: &[Mutation]) -> Value {
    for m in mutations {
        let mut all = Vec::new();
        pointers(&body, String::new(), &mut all);
        if all.is_empty() {
            continue;
        }
        let pick = |at: &usize| all[at % all.len()].clone();
        match m {
            Mutation::Replace(at, v) => {
                if let Some(node) = body.pointer_mut(&pick(at)) {
                    *node = v.clone();
                }
            }
            Mutation::Nest(at, levels, arrays) => {
                if let Some(node) = body.pointer_mut(&pick(at)) {
                    *node = nested(node.take(), *levels, *arrays);
                }
            }
            Mutation::Remove(at) => {
                let pointer = pick(at);
                let (parent, key) = pointer.rsplit_once('/').unwrap();
                match body.pointer_mut(parent) {
                    Some(Value::Object(map)) => {
                        map.remove(&key.replace("~1", "/").replace("~0", "~"));
                    }
                    Some(Value::Array(items)) => {
                        let i: usize = key.parse().unwrap();
                        items.remove(i);
                    }
                    _ => {}
                }
            }
            Mutation::AddField(at, key, v) => {
                let pointer = pick(at);
                let target = match body.pointer(&pointer) {
                    Some(Value::Object(_)) => pointer,
                    _ => String::new(),
                };
                if let Some(Value::Object(map)) = body.pointer_mut(&target) {
                    map.insert(key.clone(), v.clone());
                }
            }
        }
    }
    body
}

/// Damage done to the text of a body.
#[derive(Debug, Clone)]
enum Damage {
    Truncate(usize),
    DuplicateKey(String),
    Insert(usize, Vec<u8>),
    Prefix(Vec<u8>),
    Suffix(Vec<u8>),
}

fn damage() -> impl Strategy<Value = Damage> {
    let bytes = prop_oneof![
        Just(vec![0xff]),
        Just(vec![0xc3]),
        Just(vec![0]),
        Just(b"\xef\xbb\xbf".to_vec()),
        Just(b"}}}".to_vec()),
        Just(b",".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\\u0000".to_vec()),
        Just(b"\\ud800".to_vec()),
        Just(b"/* c */".to_vec()),
        Just(b"NaN".to_vec()),
        prop::collection::vec(any::<u8>(), 1..8),
    ];
    prop_oneof![
        any::<usize>().prop_map(Damage::Truncate),
        prop_oneof![
            Just("send".to_owned()),
            Just("value".to_owned()),
            Just("pending".to_owned()),
            string()
        ]
        .prop_map(Damage::DuplicateKey),
        (any::<usize>(), bytes.clone()).prop_map(|(at, b)| Damage::Insert(at, b)),
        bytes.clone().prop_map(Damage::Prefix),
        bytes.prop_map(Damage::Suffix),
    ]
}

fn damaged(text: Vec<u8>, damage: &Damage) -> Vec<u8> {
    let mut text = text;
    match damage {
        Damage::Truncate(at) => text.truncate(at % (text.len() + 1)),
        Damage::DuplicateKey(key) => {
            // `{"key": …` repeated at the front of the outermost object.
            if text.first() == Some(&b'{') {
                let duplicate = format!("{{{}:1,", Value::String(key.clone()));
                text.splice(0..1, duplicate.into_bytes());
            }
        }
        Damage::Insert(at, bytes) => {
            let at = at % (text.len() + 1);
            text.splice(at..at, bytes.iter().copied());
        }
        Damage::Prefix(bytes) => text.splice(0..0, bytes.iter().copied()).for_each(drop),
        Damage::Suffix(bytes) => text.extend_from_slice(bytes),
    }
    text
}

fn body(endpoint: Endpoint) -> impl Strategy<Value = Option<Vec<u8>>> {
    let base = template(&endpoint);
    let mutated = || prop::collection::vec(mutation(), 0..=MUTATIONS_PER_BODY_MAX);
    prop_oneof![
        1 => Just(None),
        6 => mutated().prop_map({
            let base = base.clone();
            move |m: Vec<Mutation>| Some(apply(base.clone(), &m).to_string().into_bytes())
        }),
        3 => (mutated(), damage()).prop_map(move |(m, d)| {
            Some(damaged(apply(base.clone(), &m).to_string().into_bytes(), &d))
        }),
        1 => any_json().prop_map(|v| Some(v.to_string().into_bytes())),
        1 => prop::collection::vec(any::<u8>(), 0..RANDOM_BODY_BYTES_MAX).prop_map(Some),
    ]
}

fn id() -> impl Strategy<Value = Id> {
    prop_oneof![
        6 => any::<usize>().prop_map(Id::Known),
        1 => any::<u128>().prop_map(Id::Random),
        1 => prop_oneof![
            Just("x".to_owned()),
            Just("00000000-0000-0000-0000-000000000000".to_owned()),
            Just("01900000-0000-7000-8000-00000000000Z".to_owned()),
            Just("%00".to_owned()),
            Just("%F0%9F%92%B8".to_owned()),
            Just("metrics".to_owned()),
            Just("1".repeat(300)),
        ]
        .prop_map(Id::Garbage),
    ]
}

fn query_pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    let key = prop_oneof![
        Just("limit".to_owned()),
        Just("page".to_owned()),
        Just("cursor".to_owned()),
        Just("sort_order".to_owned()),
        Just("start_date".to_owned()),
        Just("end_date".to_owned()),
        Just("metadata.k".to_owned()),
        Just("metadata.".to_owned()),
        Just("status".to_owned()),
        Just("type".to_owned()),
        Just("direction".to_owned()),
        Just("route".to_owned()),
        Just("route_id".to_owned()),
        string(),
    ];
    let cursor = |json: &str| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(json)
    };
    let value = prop_oneof![
        Just("0".to_owned()),
        Just("1".to_owned()),
        Just("100".to_owned()),
        Just("101".to_owned()),
        Just("-1".to_owned()),
        Just("4294967296".to_owned()),
        Just("99999999999999999999999".to_owned()),
        Just("asc".to_owned()),
        Just("desc".to_owned()),
        Just("DESC".to_owned()),
        Just("2024-01-01".to_owned()),
        Just("2024-13-45".to_owned()),
        Just("2024-01-01 10:00:00".to_owned()),
        Just("2024-01-01T00:00:00Z".to_owned()),
        Just("9999-12-31T23:59:59Z".to_owned()),
        Just("0000-01-01".to_owned()),
        Just(cursor(
            r#"{"id":"01900000-0000-7000-8000-000000000000","direction":"next"}"#
        )),
        Just(cursor(r#"{"id":"x","direction":"sideways"}"#)),
        Just(cursor(
            r#"{"id":"01900000-0000-7000-8000-000000000000","points_next":false}"#
        )),
        Just(cursor("[1,2,3]")),
        Just("!!!notbase64".to_owned()),
        Just("APPROVED".to_owned()),
        Just("ON_HOLD".to_owned()),
        string(),
    ];
    prop::collection::vec((key, value), 0..6)
}

fn query() -> impl Strategy<Value = Query> {
    prop_oneof![
        1 => Just(Query::None),
        6 => query_pairs().prop_map(Query::Pairs),
        1 => prop_oneof![
            Just("%ZZ&&==&limit".to_owned()),
            Just("limit=1&limit=2&limit=x".to_owned()),
            Just("a=%ff%fe".to_owned()),
            Just("cursor=%00".to_owned()),
            proptest::string::string_regex("[ -~]{0,40}").unwrap(),
        ]
        .prop_map(Query::Raw),
    ]
}

fn content_type() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![
        6 => Just(Some("application/json")),
        1 => Just(None),
        1 => Just(Some("text/plain")),
        1 => Just(Some("application/x-www-form-urlencoded")),
        1 => Just(Some("multipart/form-data; boundary=x")),
        1 => Just(Some("application/json; charset=utf-16")),
    ]
}

fn with_body(endpoint: Endpoint) -> BoxedStrategy<Request> {
    (body(endpoint.clone()), content_type(), Just(endpoint))
        .prop_map(|(body, content_type, endpoint)| Request {
            endpoint,
            body,
            content_type,
            query: Query::None,
        })
        .boxed()
}

fn listing(endpoint: Endpoint) -> BoxedStrategy<Request> {
    (query(), Just(endpoint))
        .prop_map(|(query, endpoint)| Request {
            endpoint,
            body: None,
            content_type: None,
            query,
        })
        .boxed()
}

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        3 => with_body(Endpoint::Create("json")),
        2 => with_body(Endpoint::Create("inflow")),
        2 => with_body(Endpoint::Create("outflow")),
        2 => with_body(Endpoint::Create("annotation")),
        2 => with_body(Endpoint::Batch),
        2 => (prop_oneof![Just("commit"), Just("cancel"), Just("revert")], id())
            .prop_flat_map(|(action, id)| with_body(Endpoint::Settle(action, id))),
        2 => id().prop_flat_map(|id| with_body(Endpoint::PatchTransaction(id))),
        2 => id().prop_flat_map(|id| with_body(Endpoint::PatchOperation(id))),
        2 => id().prop_flat_map(|id| with_body(Endpoint::PatchBalance(id))),
        1 => listing(Endpoint::List("transactions", None)),
        1 => listing(Endpoint::List("balances", None)),
        1 => id().prop_flat_map(|id| listing(Endpoint::List("operations", Some(id)))),
        1 => id().prop_flat_map(|id| listing(Endpoint::List("balances", Some(id)))),
        1 => listing(Endpoint::Count),
    ]
}

/// Every endpoint that takes a body, for the corpus.
fn body_endpoints() -> Vec<Endpoint> {
    let mut endpoints = vec![
        Endpoint::Create("json"),
        Endpoint::Create("inflow"),
        Endpoint::Create("outflow"),
        Endpoint::Create("annotation"),
        Endpoint::Batch,
        Endpoint::PatchTransaction(Id::Known(1)),
        Endpoint::PatchOperation(Id::Known(0)),
        Endpoint::PatchBalance(Id::Known(0)),
    ];
    for action in ["commit", "cancel", "revert"] {
        endpoints.push(Endpoint::Settle(action, Id::Known(0)));
    }
    endpoints
}

// ---- the runs ------------------------------------------------------------------------------

fn config() -> Config {
    common::seeded_config(
        FUZZ_CASES_DEFAULT,
        FUZZ_SEED_DEFAULT,
        SHRINK_ITERATIONS_MAX,
        REGRESSIONS_FILE,
    )
}

fn audit(file: &Path) {
    let conn =
        rusqlite::Connection::open_with_flags(file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let audit = ledgerlite::store::chain::audit(&conn).unwrap();
    assert!(audit.ok(), "the audit disagrees: {:?}", audit.problems);
}

#[test]
fn hostile_requests_are_refused_cleanly_and_change_nothing() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let fixture = runtime.block_on(Fixture::new());

    // The corpus first: every file against every body-taking endpoint.
    let mut corpus: Vec<PathBuf> = std::fs::read_dir(CORPUS_DIR)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    corpus.sort();
    assert!(!corpus.is_empty(), "no corpus in {CORPUS_DIR}");
    for file in &corpus {
        let bytes = std::fs::read(file).unwrap();
        for endpoint in body_endpoints() {
            let request = Request {
                endpoint: endpoint.clone(),
                body: Some(bytes.clone()),
                content_type: Some("application/json"),
                query: Query::None,
            };
            if let Err(error) = runtime.block_on(fixture.check(&request)) {
                panic!("corpus {} on {endpoint:?}: {error}", file.display());
            }
        }
    }

    let config = config();
    eprintln!("fuzz: {} cases, seed {:?}", config.cases, config.rng_seed);
    let statuses: std::cell::RefCell<BTreeMap<u16, u64>> = Default::default();
    let mut runner = TestRunner::new(config);
    let result = runner.run(&request(), |request| {
        let status = runtime.block_on(fixture.check(&request))?;
        *statuses.borrow_mut().entry(status).or_default() += 1;
        Ok(())
    });
    let statuses = statuses.into_inner();
    if let Err(error) = result {
        panic!("{error}");
    }
    eprintln!("fuzz statuses: {statuses:?}");
    // Some hostile requests are still valid ones: both answers must have been seen.
    assert!(
        statuses.keys().any(|s| (200..300).contains(s)),
        "nothing was accepted"
    );
    assert!(
        statuses.keys().any(|s| (400..500).contains(s)),
        "nothing was refused"
    );
    let health = runtime.block_on(fixture.app.get("/health"));
    assert_eq!(health.status, 200);
    audit(&fixture.file);
}

/// Regression (found by this fuzzer): balances have no metadata column, and a `metadata.<key>`
/// filter on a balance list was a 500. It matches no balance: an empty page.
#[tokio::test]
async fn a_metadata_filter_on_balance_lists_answers_an_empty_page() {
    let fixture = Fixture::new().await;
    let account = &fixture.accounts[0];
    for rest in [
        "/balances?metadata.k=0".to_owned(),
        format!("/accounts/{account}/balances?metadata.k=v"),
    ] {
        let reply = fixture.app.get(&format!("{}{rest}", fixture.ledger)).await;
        assert_eq!(reply.status, 200, "{rest}: {}", reply.body);
        assert_eq!(reply.body["items"], json!([]), "{rest}: {}", reply.body);
        assert_eq!(reply.body["limit"], 10, "{rest}: {}", reply.body);
    }
    let unfiltered = fixture
        .app
        .get(&format!("{}/balances", fixture.ledger))
        .await;
    assert_eq!(unfiltered.status, 200);
    assert_eq!(unfiltered.body["items"].as_array().unwrap().len(), 3);
}
