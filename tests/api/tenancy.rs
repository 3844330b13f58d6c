//! Tenancy and authentication (DESIGN.md, "Tenancy and authentication"): single-tenant mode,
//! token verification, tenant ids, provisioning, suspension, scopes, isolation, the tenant LRU
//! and the `ledgerlite token` / `ledgerlite tenant` commands.

// Test code states its expectations with `expect`; the crate lints forbid it only in `src`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::collections::BTreeSet;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex, Weak};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Reply, SECRET, TestApp, spawn_app, spawn_app_with, spawn_multi_tenant, token_for};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ledgerlite::config::Config;
use ledgerlite::domain::tenant::TenantId;
use ledgerlite::store::{Missing, Registry, Tenant};
use serde_json::{Value, json};

/// RSA key pair used only by these tests (generated with `openssl genpkey`); never a real key.
const TEST_RSA_PRIVATE_KEY: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCsCB3V7FLCcWNh\n\
LA+DZepgpwhBmqswNxFFGPSJH3wWKd70Wny4ziTVwuyFtkoRKJooZsx3vQkQ/J5c\n\
LyVYNvLVTZkrDJWAAHLKCx32JJr/gWCixI5wRwHruEV7Qa0GuJ5J3JsF3CdiFmO0\n\
RtLIGMus/vZ3DhSp5QuwiDXV5OdkcdG0y/blb+vo2M5pSoA1EhQq9EYDx9TbQDfG\n\
PUhzBJCyn8XEhn4BpVQYmOznZBxsDdw+lUW2yyqch1EfjHFp9/EbQtREte1L4GO2\n\
Eii9RnAy6jZZ/cUDTl+2UK1L9O6T048vMiurbMlo+kYjlUy9L3JHZRkTrBOucvIs\n\
Wf/RpQkbAgMBAAECggEARgVLt43oJZKnY57edZoe6tYxyxocQZS4Z8p/heyVwiOq\n\
xwSprULixUsAoHAQ96jyDi3BXZ9IuGxKPLVH2v8Kmf1qsZX+p8oG7uvVdyFxITxU\n\
zAt6+oI8auhnB4M03P56FxA+3QS91vPMA02sb5uAE1r3kH/fs0MyHdljKDtyX3Qz\n\
6rJ6J/Pt3evbrQ6eRDOc86cfKmv0lj9jxnYNHJtQx0dDUFssH8MfB4r7ZPMjoxTU\n\
kKJsRmpTqOFHCuFmff//ecdoeMq42JlqtcMW+WkQZoXnUPXkLEAlG+eiphBDPu+h\n\
NJu6exN9MRyBm1RhJe+lLtK/yn8FPQRUeVBA0XuVgQKBgQDxPUBt81iG7ZgZ55z2\n\
HNXyROvxuvdfiRg/UT3H0GiPLor/EXSIkG5NeL64TFgvpT/uxj1P7Cu6uBvS0PEn\n\
3JfeL8J6qVlWscgp9USq7y0FMnjys2F4Qp8ngubHG7kLIh0m5GHXowzK1uJE7RuE\n\
zV1H1uCGIAaWBkzCowFMY7j7QQKBgQC2js3tq/IyvhpyGxBdwhzQ4M0s0PwnQcis\n\
DoXfyvEFpYRHLZ6DBwWTFGrcl5sRcdGHpqsedxM72IK4CBB7eNU/rEIcbwWMBeBD\n\
NFfJZ8t9/RIrS4EU2UnBr966TeFC0TkbivELJ6vMbiCKB3q1E17HpzFQbEhV1qkO\n\
JucvsaJ5WwKBgBMn3fndHOZ5713/OkOAvqxiNKoZQpNfe4FrnhBDyEm2VGs0o6BE\n\
d73HHL3dshL2eEEplKzIACDvhaYT2VJk/doyyKqcz+9GZrKOO0mnfFexTlFXVSIL\n\
iD/G8TRWSzdLGi2AbRSGafmhXo5ClbDR7dpKgcGkwWEgVvANqYi7UnEBAoGAVJB2\n\
B8B8otC4w16SCDxgyMk5gacVBsJMSJc5oF8Losf3LFmPcbaQ+H6euaxoon4Mxz+H\n\
SMdz22cBtmnV6LwiXCpZPX6YHTKjnb3jZGJ2Otg90FxbYOL+bYAgNkDZNfBg+cc0\n\
vSwVQs9It2ebicF9SBLEnzJpl4mmKe4PbWJllr0CgYA/OMpAwduNzT01fCEZvxKu\n\
JyE5RiD8eUDf65cHYPFgLQiXibNvuktGmMfs/NWhRO95GSE1k3SJ8kjDAMPjk5W6\n\
7eBqGDqTTcaDIZ8NCBzXgW/3Ma9C8EAUBFzAaM1PxhOz4k7ItWdR2kIZeSw6dquv\n\
nmfUhHs7RRII2UpMMS0hUg==\n\
-----END PRIVATE KEY-----\n\
";

const TEST_RSA_PUBLIC_KEY: &str = "\
-----BEGIN PUBLIC KEY-----\n\
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEArAgd1exSwnFjYSwPg2Xq\n\
YKcIQZqrMDcRRRj0iR98Fine9Fp8uM4k1cLshbZKESiaKGbMd70JEPyeXC8lWDby\n\
1U2ZKwyVgAByygsd9iSa/4FgosSOcEcB67hFe0GtBrieSdybBdwnYhZjtEbSyBjL\n\
rP72dw4UqeULsIg11eTnZHHRtMv25W/r6NjOaUqANRIUKvRGA8fU20A3xj1IcwSQ\n\
sp/FxIZ+AaVUGJjs52QcbA3cPpVFtssqnIdRH4xxaffxG0LURLXtS+BjthIovUZw\n\
Muo2Wf3FA05ftlCtS/Tuk9OPLzIrq2zJaPpGI5VMvS9yR2UZE6wTrnLyLFn/0aUJ\n\
GwIDAQAB\n\
-----END PUBLIC KEY-----\n\
";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// Claims of a valid token for `tenant` (expires in an hour), plus `extra` (a `null` value
/// removes the claim).
fn claims(tenant: &str, extra: Value) -> Value {
    let mut body = json!({"tenantId": tenant, "exp": now() + 3600, "iat": now()});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        for (key, value) in extra {
            if value.is_null() {
                body.remove(key);
            } else {
                body.insert(key.clone(), value.clone());
            }
        }
    }
    body
}

/// `claims` signed with `alg` and the HMAC `secret`.
fn sign_hmac(alg: Algorithm, secret: &[u8], claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret))
        .expect("sign")
}

/// `claims` signed HS256 with the test servers' secret.
fn sign(claims: &Value) -> String {
    sign_hmac(Algorithm::HS256, SECRET.as_bytes(), claims)
}

/// `claims` signed RS256 with [`TEST_RSA_PRIVATE_KEY`].
fn sign_rs256(claims: &Value) -> String {
    let key = EncodingKey::from_rsa_pem(TEST_RSA_PRIVATE_KEY.as_bytes()).expect("rsa key");
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, &key).expect("sign")
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// A token built by hand: base64url header and payload, then `signature` as given.
fn hand_made(header: Value, claims: &Value, signature: &str) -> String {
    format!("{}.{}.{signature}", b64(&header), b64(claims))
}

/// Every file and folder below `dir`, recursively.
fn entries_under(dir: &Path) -> BTreeSet<PathBuf> {
    let mut found = BTreeSet::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let Ok(listing) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in listing {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                pending.push(path.clone());
            }
            found.insert(path);
        }
    }
    found
}

/// The temporary folder that holds the app's data folder: a path escaping the data folder
/// would still land below it.
fn root_of(app: &TestApp) -> PathBuf {
    app.data_dir
        .parent()
        .expect("data dir has a parent")
        .to_path_buf()
}

fn tenant_file(app: &TestApp, tenant: &str) -> PathBuf {
    app.data_dir
        .join("tenants")
        .join(format!("{tenant}.sqlite"))
}

/// Creates the tenants' files with a registry of our own, closed again before returning.
fn provision(app: &TestApp, tenants: &[&str]) {
    let registry = Registry::new(app.config.store()).expect("registry");
    for tenant in tenants {
        let id = TenantId::parse(tenant).expect("valid tenant id");
        assert!(
            registry.create(&id).expect("create tenant"),
            "{tenant} already existed"
        );
    }
}

fn set_suspended(app: &TestApp, tenant: &str, suspended: bool) {
    let registry = Registry::new(app.config.store()).expect("registry");
    registry
        .set_suspended(
            &TenantId::parse(tenant).expect("valid tenant id"),
            suspended,
        )
        .expect("suspend/resume");
}

/// Ids of the live organizations stored in a tenant's file, read straight from SQLite.
fn organizations_in_file(file: &Path) -> BTreeSet<String> {
    let conn = rusqlite::Connection::open(file).expect("open tenant file");
    let mut statement = conn
        .prepare("SELECT id FROM organization WHERE deleted_at IS NULL")
        .expect("prepare");
    let ids = statement
        .query_map([], |row| row.get::<_, String>(0))
        .expect("query");
    ids.collect::<Result<_, _>>().expect("rows")
}

/// `GET path` with the `Authorization` header set to `authorization` verbatim (or absent).
async fn get_with_authorization(app: &TestApp, path: &str, authorization: Option<&str>) -> Reply {
    let mut request = app.client.get(format!("{}{path}", app.base));
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    Reply::from(request.send().await.expect("request")).await
}

/// Asserts an error reply: status, code, and the `{code, title, message}` body.
#[track_caller]
fn assert_error(reply: &Reply, status: u16, code: &str, what: &str) {
    assert_eq!(reply.status.as_u16(), status, "{what}: {}", reply.body);
    assert_eq!(reply.code(), code, "{what}: {}", reply.body);
    assert!(
        reply.body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{what}: no title in {}",
        reply.body
    );
    assert!(
        reply.body["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{what}: no message in {}",
        reply.body
    );
}

/// Ids of the organizations a tenant sees through the API.
async fn listed_organizations(app: &TestApp) -> BTreeSet<String> {
    let reply = app.get("/v1/organizations?limit=100").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let items = reply.body["items"].as_array().expect("items");
    assert!(items.len() < 100, "more organizations than one page holds");
    items
        .iter()
        .map(|item| item["id"].as_str().expect("id").to_owned())
        .collect()
}

/// A multi-tenant server that creates tenants on first use, so that a token wrongly accepted
/// would show as a success (and a new file) rather than as a 404.
async fn auto_provisioning() -> TestApp {
    spawn_multi_tenant(|config| config.auto_provision = true).await
}

/// Asserts that `token` is refused with 401 `INVALID_TOKEN` for a GET and a POST, and that no
/// tenant file appeared.
async fn assert_invalid_token(app: &TestApp, token: String, what: &str) {
    let before = entries_under(&root_of(app));
    let client = app.with_token(token);
    assert_error(
        &client.get("/v1/organizations").await,
        401,
        "INVALID_TOKEN",
        what,
    );
    let created = client
        .post(
            "/v1/organizations",
            json!({"legalName": "X", "legalDocument": "1"}),
        )
        .await;
    assert_error(&created, 401, "INVALID_TOKEN", what);
    assert_eq!(
        entries_under(&root_of(app)),
        before,
        "{what}: files changed"
    );
}

fn ledgerlite(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ledgerlite"))
        .env_clear()
        .envs(env.iter().copied())
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .expect("run ledgerlite")
}

/// The decoded (unverified) payload of a token.
fn token_payload(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("payload part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
        .expect("json payload")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[track_caller]
fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: {:?}\n{}\n{}",
        output.status,
        stdout(output),
        String::from_utf8_lossy(&output.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// Single-tenant mode
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn single_tenant_needs_no_token_and_ignores_the_authorization_header() {
    let app = spawn_app().await;
    let org = app.organization().await;
    for header in [
        None,
        Some("Bearer "),
        Some("Bearer"),
        Some("Bearer garbage"),
        Some("Bearer a.b.c"),
        Some("Basic dXNlcjpwYXNz"),
    ] {
        let reply = get_with_authorization(&app, &format!("/v1/organizations/{org}"), header).await;
        assert_eq!(
            reply.status, 200,
            "Authorization {header:?}: {}",
            reply.body
        );
    }
    let with_garbage = app.with_token("garbage".to_owned());
    let second = with_garbage.organization().await;
    assert_eq!(
        listed_organizations(&app).await,
        BTreeSet::from([org.clone(), second.clone()])
    );

    let file = tenant_file(&app, "default");
    assert!(file.is_file(), "{} missing", file.display());
    assert_eq!(organizations_in_file(&file), BTreeSet::from([org, second]));
    let sqlite_files: Vec<_> = entries_under(&app.data_dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "sqlite"))
        .collect();
    assert_eq!(sqlite_files, vec![file]);
}

#[tokio::test]
async fn single_tenant_with_auth_on_requires_a_verified_token() {
    let app = spawn_app_with(|config| {
        config.auth = true;
        config.jwt_secret = Some(SECRET.to_owned());
    })
    .await;
    assert_error(
        &app.get("/v1/organizations").await,
        401,
        "MISSING_TOKEN",
        "no token",
    );
    let empty = get_with_authorization(&app, "/v1/organizations", Some("Bearer ")).await;
    assert_error(&empty, 401, "MISSING_TOKEN", "empty token");
    assert_error(
        &app.with_token("garbage".to_owned())
            .get("/v1/organizations")
            .await,
        401,
        "INVALID_TOKEN",
        "garbage",
    );
    let wrong_secret = sign_hmac(
        Algorithm::HS256,
        b"another-secret-0123456789abcdef0123",
        &claims("default", json!({})),
    );
    assert_error(
        &app.with_token(wrong_secret).get("/v1/organizations").await,
        401,
        "INVALID_TOKEN",
        "wrong secret",
    );
    let expired = sign(&claims("default", json!({"exp": now() - 120})));
    assert_error(
        &app.with_token(expired).get("/v1/organizations").await,
        401,
        "INVALID_TOKEN",
        "expired",
    );

    // A valid token works, and whatever tenant it names, the data stays in `default`.
    let client = app.with_token(token_for("other", json!({})));
    let org = client.organization().await;
    assert_eq!(
        listed_organizations(&client).await,
        BTreeSet::from([org.clone()])
    );
    assert_eq!(
        organizations_in_file(&tenant_file(&app, "default")),
        BTreeSet::from([org])
    );
    assert!(!tenant_file(&app, "other").exists());

    // Scopes apply in single-tenant mode too.
    let read_only = app.with_token(token_for("default", json!({"scope": "organizations:get"})));
    assert_eq!(read_only.get("/v1/organizations").await.status, 200);
    let denied = read_only
        .post(
            "/v1/organizations",
            json!({"legalName": "X", "legalDocument": "1"}),
        )
        .await;
    assert_error(&denied, 403, "0043", "read-only scope posting");
}

// ---------------------------------------------------------------------------------------------
// Multi-tenant mode: the token
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn multi_tenant_without_a_token_is_401_missing_token() {
    let app = auto_provisioning().await;
    let before = entries_under(&root_of(&app));
    for header in [
        None,
        Some("Bearer "),
        Some("Bearer"),
        Some("Bearer    "),
        Some("Basic dXNlcjpwYXNz"),
        Some(""),
    ] {
        let reply = get_with_authorization(&app, "/v1/organizations", header).await;
        assert_error(
            &reply,
            401,
            "MISSING_TOKEN",
            &format!("Authorization {header:?}"),
        );
    }
    // Authentication comes before request validation.
    assert_error(
        &app.get("/v1/organizations/not-a-uuid").await,
        401,
        "MISSING_TOKEN",
        "bad uuid, no token",
    );
    let created = app
        .post(
            "/v1/organizations",
            json!({"legalName": "X", "legalDocument": "1"}),
        )
        .await;
    assert_error(&created, 401, "MISSING_TOKEN", "post without token");
    assert_eq!(entries_under(&root_of(&app)), before);
}

#[tokio::test]
async fn multi_tenant_rejects_garbage_and_badly_signed_tokens() {
    let app = auto_provisioning().await;
    let valid = token_for("acme", json!({}));
    let (signed, signature) = valid.rsplit_once('.').expect("three parts");
    let mut flipped: Vec<char> = signature.chars().collect();
    flipped[0] = if flipped[0] == 'A' { 'B' } else { 'A' };
    let bad_signature = format!("{signed}.{}", flipped.into_iter().collect::<String>());
    let cases = [
        ("garbage", "garbage".to_owned()),
        ("three garbage parts", "a.b.c".to_owned()),
        ("two parts", signed.to_owned()),
        ("empty signature", format!("{signed}.")),
        ("bad signature", bad_signature),
        (
            "wrong secret",
            sign_hmac(
                Algorithm::HS256,
                b"another-secret-0123456789abcdef0123",
                &claims("acme", json!({})),
            ),
        ),
        (
            "empty secret",
            sign_hmac(Algorithm::HS256, b"", &claims("acme", json!({}))),
        ),
    ];
    for (what, token) in cases {
        assert_invalid_token(&app, token, what).await;
    }
    // The same claims, correctly signed, are accepted.
    assert_eq!(
        app.with_token(valid).get("/v1/organizations").await.status,
        200
    );
}

#[tokio::test]
async fn multi_tenant_rejects_unsigned_alg_none_tokens() {
    let app = auto_provisioning().await;
    let claims = claims("acme", json!({}));
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({"alg": alg, "typ": "JWT"});
        assert_invalid_token(
            &app,
            hand_made(header.clone(), &claims, ""),
            &format!("alg {alg}"),
        )
        .await;
        // With a signature made for HS256 kept on, still refused.
        let hs256_signature = sign(&claims)
            .rsplit_once('.')
            .expect("three parts")
            .1
            .to_owned();
        assert_invalid_token(
            &app,
            hand_made(header, &claims, &hs256_signature),
            &format!("alg {alg}, signed"),
        )
        .await;
    }
    assert_invalid_token(
        &app,
        hand_made(json!({"typ": "JWT"}), &claims, ""),
        "no alg",
    )
    .await;
    assert!(!tenant_file(&app, "acme").exists());
}

#[tokio::test]
async fn multi_tenant_accepts_only_the_configured_algorithm() {
    let app = auto_provisioning().await;
    let claims = claims("acme", json!({}));
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        assert_invalid_token(
            &app,
            sign_hmac(alg, SECRET.as_bytes(), &claims),
            &format!("{alg:?}"),
        )
        .await;
    }
    assert_invalid_token(&app, sign_rs256(&claims), "RS256").await;
    // A hand-made header claiming HS256 over an HS384 signature does not verify either.
    let hs384_signature = sign_hmac(Algorithm::HS384, SECRET.as_bytes(), &claims)
        .rsplit_once('.')
        .expect("parts")
        .1
        .to_owned();
    assert_invalid_token(
        &app,
        hand_made(
            json!({"alg": "HS256", "typ": "JWT"}),
            &claims,
            &hs384_signature,
        ),
        "HS384 as HS256",
    )
    .await;
    assert!(!tenant_file(&app, "acme").exists());
}

#[tokio::test]
async fn rs256_server_verifies_with_the_public_key_and_refuses_algorithm_confusion() {
    let keys = tempfile::tempdir().expect("temp dir");
    let public_key = keys.path().join("public.pem");
    std::fs::write(&public_key, TEST_RSA_PUBLIC_KEY).expect("write key");
    let app = spawn_multi_tenant(|config| {
        config.jwt_secret = None;
        config.jwt_algorithm = "RS256".to_owned();
        config.jwt_public_key = Some(public_key.clone());
        config.auto_provision = true;
    })
    .await;
    let claims = claims("acme", json!({}));
    // HS256 signed with the public key as the HMAC secret: the classic confusion attack.
    for key in [
        TEST_RSA_PUBLIC_KEY.as_bytes(),
        TEST_RSA_PUBLIC_KEY.trim().as_bytes(),
        SECRET.as_bytes(),
    ] {
        assert_invalid_token(
            &app,
            sign_hmac(Algorithm::HS256, key, &claims),
            "HS256 with the public key",
        )
        .await;
    }
    assert_invalid_token(
        &app,
        hand_made(json!({"alg": "none"}), &claims, ""),
        "alg none",
    )
    .await;
    let tampered = {
        let token = sign_rs256(&claims);
        let (_, rest) = token.split_once('.').expect("parts");
        let (_, signature) = rest.split_once('.').expect("parts");
        hand_made(
            json!({"alg": "RS256", "typ": "JWT"}),
            &json!({"tenantId": "evil", "exp": now() + 3600}),
            signature,
        )
    };
    assert_invalid_token(&app, tampered, "RS256 tampered payload").await;
    let client = app.with_token(sign_rs256(&claims));
    let org = client.organization().await;
    assert_eq!(listed_organizations(&client).await, BTreeSet::from([org]));
}

#[tokio::test]
async fn multi_tenant_enforces_exp_and_nbf() {
    let app = auto_provisioning().await;
    let cases = [
        ("expired two minutes ago", json!({"exp": now() - 120})),
        ("expired a day ago", json!({"exp": now() - 86_400})),
        ("no exp", json!({"exp": null})),
        ("exp as text", json!({"exp": "never"})),
        (
            "exp as far-future text",
            json!({"exp": (now() + 3600).to_string()}),
        ),
        ("nbf two minutes ahead", json!({"nbf": now() + 120})),
        ("nbf a day ahead", json!({"nbf": now() + 86_400})),
        ("nbf as text", json!({"nbf": "soon"})),
    ];
    for (what, extra) in cases {
        assert_invalid_token(&app, sign(&claims("acme", extra)), what).await;
    }
    assert!(!tenant_file(&app, "acme").exists());
    let fine = sign(&claims(
        "acme",
        json!({"exp": now() + 120, "nbf": now() - 60}),
    ));
    assert_eq!(
        app.with_token(fine).get("/v1/organizations").await.status,
        200
    );
}

#[tokio::test]
async fn multi_tenant_checks_issuer_and_audience_when_configured() {
    let app = spawn_multi_tenant(|config| {
        config.jwt_issuer = Some("https://issuer.example".to_owned());
        config.jwt_audience = Some("ledgerlite".to_owned());
        config.auto_provision = true;
    })
    .await;
    let right = json!({"iss": "https://issuer.example", "aud": "ledgerlite"});
    let cases = [
        (
            "wrong iss",
            json!({"iss": "https://evil.example", "aud": "ledgerlite"}),
        ),
        ("no iss", json!({"aud": "ledgerlite"})),
        (
            "wrong aud",
            json!({"iss": "https://issuer.example", "aud": "midaz"}),
        ),
        (
            "wrong aud list",
            json!({"iss": "https://issuer.example", "aud": ["midaz", "other"]}),
        ),
        ("no aud", json!({"iss": "https://issuer.example"})),
        ("neither", json!({})),
    ];
    for (what, extra) in cases {
        assert_invalid_token(&app, sign(&claims("acme", extra)), what).await;
    }
    let client = app.with_token(sign(&claims("acme", right)));
    assert_eq!(client.get("/v1/organizations").await.status, 200);
}

#[tokio::test]
async fn token_errors_name_the_check_that_failed_in_words() {
    let app = spawn_multi_tenant(|config| {
        config.jwt_issuer = Some("https://issuer.example".to_owned());
        config.jwt_audience = Some("ledgerlite".to_owned());
    })
    .await;
    let right = || json!({"iss": "https://issuer.example", "aud": "ledgerlite"});
    let with = |extra: Value| {
        let mut claims = claims("acme", right());
        for (key, value) in extra.as_object().expect("object") {
            match value {
                Value::Null => claims.as_object_mut().expect("object").remove(key),
                _ => claims
                    .as_object_mut()
                    .expect("object")
                    .insert(key.clone(), value.clone()),
            };
        }
        claims
    };
    let malformed = "it is not a well-formed JWT (header.payload.signature, base64url JSON)";
    let cases = [
        ("garbage".to_owned(), malformed.to_owned()),
        ("a.b.c".to_owned(), malformed.to_owned()),
        (
            sign_hmac(
                Algorithm::HS256,
                b"another-secret-0123456789abcdef0123",
                &with(json!({})),
            ),
            "its signature does not match".to_owned(),
        ),
        (
            sign_rs256(&with(json!({}))),
            "it is not signed with the configured algorithm".to_owned(),
        ),
        (
            sign(&with(json!({"exp": now() - 120}))),
            "it has expired (exp is in the past)".to_owned(),
        ),
        (
            sign(&with(json!({"nbf": now() + 120}))),
            "it is not valid yet (nbf is in the future)".to_owned(),
        ),
        (
            sign(&with(json!({"exp": null}))),
            "the required claim exp is missing".to_owned(),
        ),
        (
            sign(&with(json!({"iss": "https://evil.example"}))),
            "its issuer (iss) is not the expected one".to_owned(),
        ),
        (
            sign(&with(json!({"iss": null}))),
            "the required claim iss is missing".to_owned(),
        ),
        (
            sign(&with(json!({"aud": "midaz"}))),
            "its audience (aud) is not the expected one".to_owned(),
        ),
    ];
    for (token, why) in cases {
        let reply = app.with_token(token).get("/v1/organizations").await;
        assert_error(&reply, 401, "INVALID_TOKEN", &why);
        assert_eq!(
            reply.body["message"],
            format!("The token was rejected: {why}."),
            "{}",
            reply.body
        );
    }
    let fine = app.with_token(sign(&with(json!({}))));
    assert_eq!(fine.get("/v1/organizations").await.status, 404);
}

#[tokio::test]
async fn multi_tenant_ignores_iss_and_aud_when_not_configured() {
    let app = auto_provisioning().await;
    let token = sign(&claims("acme", json!({"iss": "anyone", "aud": "anything"})));
    assert_eq!(
        app.with_token(token).get("/v1/organizations").await.status,
        200
    );
}

#[tokio::test]
async fn multi_tenant_rejects_a_tampered_payload() {
    let app = auto_provisioning().await;
    provision(&app, &["victim"]);
    let token = token_for("mallory", json!({"scope": "organizations:get"}));
    let (header, rest) = token.split_once('.').expect("parts");
    let (_, signature) = rest.split_once('.').expect("parts");
    let forged = [
        claims("victim", json!({"scope": "organizations:get"})),
        claims("mallory", json!({"scope": null})),
        claims("mallory", json!({"scope": "*:*"})),
    ];
    for payload in forged {
        let tampered = format!("{header}.{}.{signature}", b64(&payload));
        assert_invalid_token(&app, tampered, &format!("payload {payload}")).await;
    }
    assert!(!tenant_file(&app, "mallory").exists());
}

// ---------------------------------------------------------------------------------------------
// Multi-tenant mode: the tenant
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn multi_tenant_token_without_tenant_claim_is_401_missing_tenant() {
    let app = auto_provisioning().await;
    let before = entries_under(&root_of(&app));
    let token = sign(&claims("acme", json!({"tenantId": null, "sub": "someone"})));
    assert_error(
        &app.with_token(token).get("/v1/organizations").await,
        401,
        "MISSING_TENANT",
        "no tenantId",
    );
    // A differently named claim is not the tenant claim.
    let token = sign(&claims(
        "acme",
        json!({"tenantId": null, "tenant_id": "acme", "tenant": "acme"}),
    ));
    assert_error(
        &app.with_token(token).get("/v1/organizations").await,
        401,
        "MISSING_TENANT",
        "other claim",
    );
    assert_eq!(entries_under(&root_of(&app)), before);
}

#[tokio::test]
async fn the_tenant_claim_name_is_configurable() {
    let app = spawn_multi_tenant(|config| {
        config.tenant_claim = "org_id".to_owned();
        config.auto_provision = true;
    })
    .await;
    let token = sign(&claims("acme", json!({})));
    assert_error(
        &app.with_token(token).get("/v1/organizations").await,
        401,
        "MISSING_TENANT",
        "tenantId only",
    );
    let token = sign(&claims("ignored", json!({"org_id": "globex"})));
    assert_eq!(
        app.with_token(token).get("/v1/organizations").await.status,
        200
    );
    assert!(tenant_file(&app, "globex").is_file());
    assert!(!tenant_file(&app, "ignored").exists());
}

#[tokio::test]
async fn malformed_tenant_ids_are_401_invalid_tenant_and_create_no_file() {
    // Auto-provisioning on: a malformed id must not become a file even when tenants are
    // created on demand.
    let app = auto_provisioning().await;
    provision(&app, &["x"]);
    let root = root_of(&app);
    let before = entries_under(&root);
    let long = "a".repeat(65);
    let ids = [
        json!("../x"),
        json!("../../x"),
        json!("..%2Fx"),
        json!("a/b"),
        json!("a\\b"),
        json!("/etc/passwd"),
        json!(".hidden"),
        json!(".."),
        json!("."),
        json!("-x"),
        json!("_x"),
        json!("x.sqlite"),
        json!("a b"),
        json!("x\u{0}"),
        json!(" x"),
        json!(long),
        json!("é"),
        json!("caf\u{e9}"),
        json!(42),
        json!(true),
        json!(["x"]),
        json!({"id": "x"}),
    ];
    for id in ids {
        let token = sign(&claims("x", json!({"tenantId": id.clone()})));
        let client = app.with_token(token);
        assert_error(
            &client.get("/v1/organizations").await,
            401,
            "INVALID_TENANT",
            &format!("tenant {id}"),
        );
        let created = client
            .post(
                "/v1/organizations",
                json!({"legalName": "X", "legalDocument": "1"}),
            )
            .await;
        assert_error(&created, 401, "INVALID_TENANT", &format!("tenant {id}"));
    }
    let null = sign(&claims("x", json!({"tenantId": null})));
    assert_eq!(
        app.with_token(null).get("/v1/organizations").await.status,
        401
    );
    let empty = sign(&claims("x", json!({"tenantId": ""})));
    assert_eq!(
        app.with_token(empty).get("/v1/organizations").await.status,
        401
    );
    assert_eq!(
        entries_under(&root),
        before,
        "a malformed tenant id touched the disk"
    );
    assert!(organizations_in_file(&tenant_file(&app, "x")).is_empty());

    // The longest valid id (64 characters) is fine.
    let longest = "a".repeat(64);
    let client = app.with_token(token_for(&longest, json!({})));
    assert_eq!(client.get("/v1/organizations").await.status, 200);
    assert!(tenant_file(&app, &longest).is_file());
}

#[tokio::test]
async fn unknown_tenant_is_404_tenant_not_found_and_creates_no_file() {
    let app = spawn_multi_tenant(|_| {}).await;
    let root = root_of(&app);
    let before = entries_under(&root);
    let client = app.with_token(token_for("ghost", json!({})));
    assert_error(
        &client.get("/v1/organizations").await,
        404,
        "TENANT_NOT_FOUND",
        "get",
    );
    let created = client
        .post(
            "/v1/organizations",
            json!({"legalName": "X", "legalDocument": "1", "address": {"country": "US"}}),
        )
        .await;
    assert_error(&created, 404, "TENANT_NOT_FOUND", "post");
    assert_eq!(
        entries_under(&root),
        before,
        "an unknown tenant touched the disk"
    );

    // Once provisioned, the same token works.
    provision(&app, &["ghost"]);
    let org = client.organization().await;
    assert_eq!(listed_organizations(&client).await, BTreeSet::from([org]));
}

#[tokio::test]
async fn auto_provisioning_creates_the_tenant_file_on_first_request() {
    let app = auto_provisioning().await;
    let file = tenant_file(&app, "fresh");
    assert!(!file.exists());
    let client = app.with_token(token_for("fresh", json!({})));
    let org = client.organization().await;
    assert!(file.is_file(), "{} not created", file.display());
    assert_eq!(
        listed_organizations(&client).await,
        BTreeSet::from([org.clone()])
    );
    assert_eq!(organizations_in_file(&file), BTreeSet::from([org]));
}

#[tokio::test]
async fn suspended_tenant_is_403_until_resumed() {
    let app = spawn_multi_tenant(|_| {}).await;
    provision(&app, &["acme", "other"]);
    let acme = app.with_token(token_for("acme", json!({})));
    let other = app.with_token(token_for("other", json!({})));
    let org = acme.organization().await;
    other.organization().await;

    set_suspended(&app, "acme", true);
    assert_error(
        &acme.get("/v1/organizations").await,
        403,
        "TENANT_SUSPENDED",
        "list",
    );
    assert_error(
        &acme.get(&format!("/v1/organizations/{org}")).await,
        403,
        "TENANT_SUSPENDED",
        "get",
    );
    let created = acme
        .post(
            "/v1/organizations",
            json!({"legalName": "X", "legalDocument": "1", "address": {"country": "US"}}),
        )
        .await;
    assert_error(&created, 403, "TENANT_SUSPENDED", "post");
    assert_error(
        &acme.delete(&format!("/v1/organizations/{org}")).await,
        403,
        "TENANT_SUSPENDED",
        "delete",
    );
    // Other tenants are unaffected.
    assert_eq!(other.get("/v1/organizations").await.status, 200);

    set_suspended(&app, "acme", false);
    assert_eq!(
        listed_organizations(&acme).await,
        BTreeSet::from([org.clone()])
    );
    assert_eq!(
        acme.get(&format!("/v1/organizations/{org}")).await.status,
        200
    );
    acme.organization().await;
}

// ---------------------------------------------------------------------------------------------
// Scopes
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn scope_claims_restrict_resources_and_verbs() {
    let app = spawn_multi_tenant(|_| {}).await;
    provision(&app, &["acme"]);
    let admin = app.with_token(token_for("acme", json!({})));
    let ledger = admin.ledger().await;
    let org_path = ledger
        .split("/ledgers/")
        .next()
        .expect("org path")
        .to_owned();
    let new_org = json!({"legalName": "X", "legalDocument": "1", "address": {"country": "US"}});

    // Read-only on organizations.
    let reader = app.with_token(token_for("acme", json!({"scope": "organizations:get"})));
    assert_eq!(reader.get("/v1/organizations").await.status, 200);
    assert_eq!(reader.get(&org_path).await.status, 200);
    assert_error(
        &reader.post("/v1/organizations", new_org.clone()).await,
        403,
        "0043",
        "post",
    );
    assert_error(
        &reader.patch(&org_path, json!({"legalName": "Y"})).await,
        403,
        "0043",
        "patch",
    );
    assert_error(&reader.delete(&org_path).await, 403, "0043", "delete");
    assert_error(
        &reader.get(&format!("{org_path}/ledgers")).await,
        403,
        "0043",
        "ledgers get",
    );
    assert_error(&reader.get(&ledger).await, 403, "0043", "ledger get");

    // Space-separated scopes add up.
    let two = app.with_token(token_for(
        "acme",
        json!({"scope": "organizations:get ledgers:get"}),
    ));
    assert_eq!(two.get(&ledger).await.status, 200);
    assert_error(
        &two.post(&format!("{org_path}/ledgers"), json!({"name": "Other"}))
            .await,
        403,
        "0043",
        "ledgers post",
    );

    // `*:*` allows everything, in `permissions` as in `scope`.
    for extra in [json!({"permissions": ["*:*"]}), json!({"scope": "*:*"})] {
        let all = app.with_token(token_for("acme", extra.clone()));
        assert_eq!(
            all.post("/v1/organizations", new_org.clone()).await.status,
            201,
            "{extra}"
        );
        assert_eq!(all.get(&ledger).await.status, 200, "{extra}");
    }

    // A wildcard action on one resource.
    let orgs = app.with_token(token_for(
        "acme",
        json!({"permissions": ["organizations:*"]}),
    ));
    let created = orgs.post("/v1/organizations", new_org.clone()).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        orgs.patch(
            &format!("/v1/organizations/{id}"),
            json!({"legalName": "Y"})
        )
        .await
        .status,
        200
    );
    assert_eq!(
        orgs.delete(&format!("/v1/organizations/{id}")).await.status,
        204
    );
    assert_error(
        &orgs.get(&format!("{org_path}/ledgers")).await,
        403,
        "0043",
        "ledgers with organizations:*",
    );

    // A wildcard resource with one verb.
    let getter = app.with_token(token_for("acme", json!({"permissions": ["*:get"]})));
    assert_eq!(getter.get(&ledger).await.status, 200);
    assert_error(
        &getter.post("/v1/organizations", new_org.clone()).await,
        403,
        "0043",
        "post with *:get",
    );

    // An empty scope allows nothing.
    let nothing = app.with_token(token_for("acme", json!({"scope": ""})));
    assert_error(
        &nothing.get("/v1/organizations").await,
        403,
        "0043",
        "empty scope",
    );
}

#[tokio::test]
async fn a_malformed_scope_claim_does_not_grant_full_access() {
    let app = spawn_multi_tenant(|_| {}).await;
    provision(&app, &["acme"]);
    let new_org = json!({"legalName": "X", "legalDocument": "1", "address": {"country": "US"}});
    let malformed = [
        json!({"scope": ["organizations:get"]}),
        json!({"scope": 42}),
        json!({"permissions": "organizations:get"}),
        json!({"permissions": {"organizations": "get"}}),
        json!({"permissions": [42]}),
    ];
    for extra in malformed {
        let client = app.with_token(token_for("acme", extra.clone()));
        let reply = client.post("/v1/organizations", new_org.clone()).await;
        assert_error(&reply, 403, "0043", &format!("claims {extra}"));
    }
    assert!(organizations_in_file(&tenant_file(&app, "acme")).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Isolation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn tenants_are_isolated_in_their_own_files() {
    let app = spawn_multi_tenant(|_| {}).await;
    provision(&app, &["tenant-a", "tenant-b"]);
    let a = app.with_token(token_for("tenant-a", json!({})));
    let b = app.with_token(token_for("tenant-b", json!({})));
    let a_orgs = BTreeSet::from([a.organization().await, a.organization().await]);
    let b_orgs = BTreeSet::from([b.organization().await]);
    let a_ledger = a.ledger().await;
    let a_org = a_orgs.iter().next().expect("an org").clone();

    for path in [
        format!("/v1/organizations/{a_org}"),
        format!("/v1/organizations/{a_org}/ledgers"),
    ] {
        assert_error(&b.get(&path).await, 404, "0038", &format!("B GET {path}"));
    }
    assert_eq!(b.get(&a_ledger).await.status, 404, "B reads A's ledger");
    assert_error(
        &b.patch(
            &format!("/v1/organizations/{a_org}"),
            json!({"legalName": "Hijacked"}),
        )
        .await,
        404,
        "0038",
        "B patch",
    );
    assert_error(
        &b.delete(&format!("/v1/organizations/{a_org}")).await,
        404,
        "0038",
        "B delete",
    );
    let child = b
        .post(
            "/v1/organizations",
            json!({"legalName": "X", "legalDocument": "1", "parentOrganizationId": a_org}),
        )
        .await;
    assert_eq!(
        child.status, 404,
        "B uses A's org as parent: {}",
        child.body
    );
    let b_ledger = b
        .post(
            &format!("/v1/organizations/{a_org}/ledgers"),
            json!({"name": "Sneaky"}),
        )
        .await;
    assert_error(&b_ledger, 404, "0038", "B creates a ledger in A's org");

    // A's organization is untouched.
    let still = a.get(&format!("/v1/organizations/{a_org}")).await;
    assert_eq!(still.status, 200);
    assert_eq!(still.body["legalName"], "Acme Ltd");

    let a_listed = listed_organizations(&a).await;
    let b_listed = listed_organizations(&b).await;
    assert!(a_listed.is_disjoint(&b_listed));
    assert_eq!(b_listed, b_orgs);
    assert!(a_orgs.is_subset(&a_listed));
    assert_eq!(a_listed.len(), 3);

    // Physically apart: each tenant's rows are in its own file only.
    assert_eq!(
        organizations_in_file(&tenant_file(&app, "tenant-a")),
        a_listed
    );
    assert_eq!(
        organizations_in_file(&tenant_file(&app, "tenant-b")),
        b_listed
    );
}

// ---------------------------------------------------------------------------------------------
// The tenant LRU under concurrency
// ---------------------------------------------------------------------------------------------

/// xorshift64*: a small deterministic generator, seeded per run.
struct Rng(u64);

impl Rng {
    fn next(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % bound
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_small_tenant_cache_serves_many_tenants_concurrently() {
    const TENANTS: usize = 8;
    const CREATES: usize = 160;
    let app =
        spawn_multi_tenant(|config| config.tenant_cache = NonZeroUsize::new(2).expect("non-zero"))
            .await;
    let names: Vec<String> = (0..TENANTS).map(|i| format!("lru-{i}")).collect();
    provision(&app, &names.iter().map(String::as_str).collect::<Vec<_>>());
    let clients: Vec<Arc<TestApp>> = names
        .iter()
        .map(|name| Arc::new(app.with_token(token_for(name, json!({})))))
        .collect();

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_nanos() as u64
        | 1;
    let mut rng = Rng(seed);
    let mut tasks = Vec::new();
    for i in 0..CREATES {
        let tenant = rng.next(TENANTS);
        let client = Arc::clone(&clients[tenant]);
        let read = i % 3 == 0;
        tasks.push(tokio::spawn(async move {
            if read {
                let reply = client.get("/v1/organizations?limit=100").await;
                assert_eq!(reply.status, 200, "list in tenant {tenant}: {}", reply.body);
            }
            let reply = client
                .post("/v1/organizations", json!({"legalName": format!("Org of {tenant}"), "legalDocument": "1", "address": {"country": "US"}}))
                .await;
            assert_eq!(reply.status, 201, "create in tenant {tenant}: {}", reply.body);
            (tenant, reply.body["id"].as_str().expect("id").to_owned())
        }));
    }
    let mut expected = vec![BTreeSet::new(); TENANTS];
    for task in tasks {
        let (tenant, id) = task
            .await
            .unwrap_or_else(|error| panic!("request failed (seed {seed}): {error}"));
        expected[tenant].insert(id);
    }
    for (tenant, client) in clients.iter().enumerate() {
        assert_eq!(
            listed_organizations(client).await,
            expected[tenant],
            "tenant {tenant} (seed {seed})"
        );
    }
    for (tenant, name) in names.iter().enumerate() {
        assert_eq!(
            organizations_in_file(&tenant_file(&app, name)),
            expected[tenant],
            "file of {name} (seed {seed})"
        );
    }
    assert_eq!(expected.iter().map(BTreeSet::len).sum::<usize>(), CREATES);
}

/// The registry's promise behind the LRU: however tenants are evicted and reopened, there is
/// never more than one open instance (one writer) of a tenant's file at a time.
#[test]
fn the_registry_never_holds_two_open_instances_of_one_tenant() {
    const TENANTS: usize = 4;
    const THREADS: u64 = 16;
    const OPENS_PER_THREAD: usize = 400;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::with_data_dir(dir.path().join("data"));
    config.tenant_cache = NonZeroUsize::new(2).expect("non-zero");
    let registry = Arc::new(Registry::new(config.store()).expect("registry"));
    let ids: Vec<TenantId> = (0..TENANTS)
        .map(|i| TenantId::parse(&format!("t{i}")).expect("valid id"))
        .collect();
    for id in &ids {
        registry.create(id).expect("create");
    }
    // Every instance handed out, per tenant, as weak references: two of them alive at once
    // and distinct means two open instances.
    let handed_out: Arc<Mutex<Vec<Vec<Weak<Tenant>>>>> =
        Arc::new(Mutex::new(vec![Vec::new(); TENANTS]));
    let threads: Vec<_> = (0..THREADS)
        .map(|thread| {
            let registry = Arc::clone(&registry);
            let ids = ids.clone();
            let handed_out = Arc::clone(&handed_out);
            std::thread::spawn(move || {
                let mut rng = Rng(thread.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
                for _ in 0..OPENS_PER_THREAD {
                    let index = rng.next(TENANTS);
                    let tenant = registry.open(&ids[index], Missing::Fail).expect("open");
                    {
                        let mut handed_out = handed_out.lock().expect("lock");
                        let seen = &mut handed_out[index];
                        seen.retain(|weak| weak.strong_count() > 0);
                        let other = seen
                            .iter()
                            .filter_map(Weak::upgrade)
                            .find(|other| !Arc::ptr_eq(other, &tenant));
                        assert!(other.is_none(), "two open instances of {}", ids[index]);
                        seen.push(Arc::downgrade(&tenant));
                    }
                    if rng.next(3) == 0 {
                        std::thread::sleep(std::time::Duration::from_micros(rng.next(500) as u64));
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("no thread failed");
    }
    assert!(registry.open_count() <= 2);
}

// ---------------------------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------------------------

#[test]
fn cli_creates_and_lists_tenants() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let created = ledgerlite(&data, &["tenant", "create", "acme"], &[]);
    assert_success(&created, "tenant create acme");
    assert!(data.join("tenants").join("acme.sqlite").is_file());
    assert_eq!(stdout(&created).trim(), "created acme");

    let again = ledgerlite(&data, &["tenant", "create", "acme"], &[]);
    assert_success(&again, "tenant create acme again");
    assert_eq!(stdout(&again).trim(), "exists acme");

    assert_success(
        &ledgerlite(&data, &["tenant", "create", "globex"], &[]),
        "tenant create globex",
    );
    let listed = ledgerlite(&data, &["tenant", "list"], &[]);
    assert_success(&listed, "tenant list");
    assert_eq!(
        stdout(&listed).lines().collect::<Vec<_>>(),
        ["acme", "globex"]
    );

    assert_success(
        &ledgerlite(&data, &["tenant", "suspend", "acme"], &[]),
        "suspend",
    );
    let listed = ledgerlite(&data, &["tenant", "list"], &[]);
    assert_eq!(
        stdout(&listed).lines().collect::<Vec<_>>(),
        ["acme suspended", "globex"]
    );
    assert_success(
        &ledgerlite(&data, &["tenant", "resume", "acme"], &[]),
        "resume",
    );
    let listed = ledgerlite(&data, &["tenant", "list"], &[]);
    assert_eq!(
        stdout(&listed).lines().collect::<Vec<_>>(),
        ["acme", "globex"]
    );

    let missing = ledgerlite(&data, &["tenant", "suspend", "ghost"], &[]);
    assert!(
        !missing.status.success(),
        "suspending an unknown tenant succeeded"
    );
    assert!(!data.join("tenants").join("ghost.suspended").exists());
}

#[test]
fn cli_refuses_malformed_tenant_ids_and_touches_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    for id in [
        "../x",
        "../../x",
        "a/b",
        ".hidden",
        "-x",
        "é",
        "x.sqlite",
        &"a".repeat(65),
    ] {
        for command in [
            &["tenant", "create", id][..],
            &["tenant", "suspend", id],
            &["tenant", "resume", id],
        ] {
            let output = ledgerlite(&data, command, &[]);
            assert!(!output.status.success(), "{command:?} succeeded");
            assert_eq!(
                entries_under(dir.path()),
                BTreeSet::new(),
                "{command:?} touched the disk"
            );
        }
        let output = ledgerlite(
            &data,
            &["token", "--tenant", id],
            &[("LEDGERLITE_JWT_SECRET", SECRET)],
        );
        assert!(!output.status.success(), "token --tenant {id} succeeded");
        assert!(stdout(&output).trim().is_empty(), "token printed for {id}");
    }
    assert!(!dir.path().join("x.sqlite").exists());
}

#[tokio::test]
async fn cli_tokens_are_accepted_by_the_server() {
    let app = spawn_multi_tenant(|_| {}).await;
    let secret = [("LEDGERLITE_JWT_SECRET", SECRET)];
    assert_success(
        &ledgerlite(&app.data_dir, &["tenant", "create", "acme"], &[]),
        "tenant create acme",
    );

    let minted = ledgerlite(&app.data_dir, &["token", "--tenant", "acme"], &secret);
    assert_success(&minted, "token --tenant acme");
    let token = stdout(&minted).trim().to_owned();
    let acme = app.with_token(token);
    let org = acme.organization().await;
    assert_eq!(
        listed_organizations(&acme).await,
        BTreeSet::from([org.clone()])
    );
    assert_eq!(
        organizations_in_file(&tenant_file(&app, "acme")),
        BTreeSet::from([org])
    );

    // Suspension by the CLI reaches the running server.
    assert_success(
        &ledgerlite(&app.data_dir, &["tenant", "suspend", "acme"], &[]),
        "suspend",
    );
    assert_error(
        &acme.get("/v1/organizations").await,
        403,
        "TENANT_SUSPENDED",
        "after CLI suspend",
    );
    assert_success(
        &ledgerlite(&app.data_dir, &["tenant", "resume", "acme"], &[]),
        "resume",
    );
    assert_eq!(acme.get("/v1/organizations").await.status, 200);

    // A scoped token, and one for a tenant that was never created.
    let scoped = ledgerlite(
        &app.data_dir,
        &["token", "--tenant", "acme", "--scope", "organizations:get"],
        &secret,
    );
    assert_success(&scoped, "scoped token");
    let reader = app.with_token(stdout(&scoped).trim().to_owned());
    assert_eq!(reader.get("/v1/organizations").await.status, 200);
    let denied = reader
        .post(
            "/v1/organizations",
            json!({"legalName": "X", "legalDocument": "1"}),
        )
        .await;
    assert_error(&denied, 403, "0043", "scoped CLI token posting");
    let ghost = ledgerlite(&app.data_dir, &["token", "--tenant", "ghost"], &secret);
    assert_success(&ghost, "token --tenant ghost");
    let ghost = app.with_token(stdout(&ghost).trim().to_owned());
    assert_error(
        &ghost.get("/v1/organizations").await,
        404,
        "TENANT_NOT_FOUND",
        "CLI token, unknown tenant",
    );

    // The minted claims: the tenant, and an `exp` in seconds one default lifetime ahead.
    let payload = token_payload(&acme.token.clone().expect("token"));
    assert_eq!(payload["tenantId"], "acme");
    let exp = payload["exp"].as_u64().expect("numeric exp");
    assert!(
        exp.abs_diff(now() + 3600) <= 60,
        "exp {exp} is not an hour ahead"
    );
    let short = ledgerlite(
        &app.data_dir,
        &["token", "--tenant", "acme", "--ttl", "60"],
        &secret,
    );
    assert_success(&short, "token --ttl 60");
    let exp = token_payload(stdout(&short).trim())["exp"]
        .as_u64()
        .expect("numeric exp");
    assert!(
        exp.abs_diff(now() + 60) <= 30,
        "exp {exp} is not a minute ahead"
    );

    // A token signed with another secret is refused.
    let other = ledgerlite(
        &app.data_dir,
        &["token", "--tenant", "acme"],
        &[(
            "LEDGERLITE_JWT_SECRET",
            "not-the-server-secret-0123456789abc",
        )],
    );
    assert_success(&other, "token with another secret");
    assert_error(
        &app.with_token(stdout(&other).trim().to_owned())
            .get("/v1/organizations")
            .await,
        401,
        "INVALID_TOKEN",
        "other secret",
    );

    // Without a secret, no token.
    let no_secret = ledgerlite(&app.data_dir, &["token", "--tenant", "acme"], &[]);
    assert!(!no_secret.status.success());
    assert!(stdout(&no_secret).trim().is_empty());
}
