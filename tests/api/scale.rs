//! Many tenants: the admin list and `tenant list` page through the tenants folder in id order
//! (every tenant exactly once, a bad `limit` or `cursor` refused with its code), and 100,000
//! tenant files on disk neither slow the start nor `/health`, nor the first admin page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{SECRET, TestApp, spawn_multi_tenant};
use serde_json::{Value, json};

/// The admin credential of the test servers.
const ADMIN: &str = "admin-token-0123456789abcdef";
/// Tenant files of the scale test.
const SCALE_TENANTS: usize = 100_000;
/// Hard links made to one template file (ext4 allows 65,000 per file).
const LINKS_PER_TEMPLATE_MAX: usize = 50_000;
/// How much later than on an empty data folder `/health` may first answer with
/// [`SCALE_TENANTS`] tenant files, in milliseconds: generous against a start of ~60 ms, yet
/// below the ~800 ms a start-up pass that stats each tenant's files adds on a debug build (let
/// alone one that opens them).
const START_SLOWER_BY_MS_MAX: u128 = 400;
/// How much slower the median `/health` may be with [`SCALE_TENANTS`] tenant files, in
/// milliseconds.
const HEALTH_SLOWER_BY_MS_MAX: u128 = 50;
/// How long the first admin page of [`SCALE_TENANTS`] tenants may take, in milliseconds.
const FIRST_PAGE_MS_MAX: u128 = 3_000;
/// How long a server may take to answer `/health` at all, in seconds.
const START_WAIT_SECONDS: u64 = 30;

fn ledgerlite(data_dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ledgerlite"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("LEDGERLITE_DATA_DIR")
        .output()
        .unwrap()
}

/// An empty tenant file made by `tenant create`, at `<dir>/template.sqlite`.
fn template(dir: &Path) -> std::path::PathBuf {
    let data = dir.join("template-data");
    let out = ledgerlite(&data, &["tenant", "create", "template"]);
    assert!(out.status.success(), "{out:?}");
    let file = dir.join("template.sqlite");
    std::fs::copy(data.join("tenants/template.sqlite"), &file).unwrap();
    file
}

/// Puts a tenant file for each of `ids` into `<data_dir>/tenants/`, hard links of copies of
/// one empty tenant file (no disk space per tenant).
fn seed(data_dir: &Path, scratch: &Path, ids: &[String]) {
    let template = template(scratch);
    let tenants = data_dir.join("tenants");
    std::fs::create_dir_all(&tenants).unwrap();
    for (chunk_index, chunk) in ids.chunks(LINKS_PER_TEMPLATE_MAX).enumerate() {
        let source = scratch.join(format!("template-{chunk_index}.sqlite"));
        std::fs::copy(&template, &source).unwrap();
        for id in chunk {
            std::fs::hard_link(&source, tenants.join(format!("{id}.sqlite"))).unwrap();
        }
    }
}

/// Ids whose byte order differs from a case-blind or numeric one.
fn mixed_ids() -> Vec<String> {
    let mut ids: Vec<String> = (0..22).map(|i| format!("t{i}")).collect();
    ids.extend(["A-1", "Zed", "a_b", "a-b", "b"].map(String::from));
    ids
}

async fn admin_app() -> (TestApp, TestApp) {
    let app = spawn_multi_tenant(|config| config.admin_token = Some(ADMIN.to_owned())).await;
    let admin = app.with_token(ADMIN.to_owned());
    (app, admin)
}

/// Walks the admin list with `limit` from the first page by `next_cursor`, then back from the
/// last page by `prev_cursor`; returns the ids seen each way (the way back in list order) and
/// the page sizes forwards.
async fn walk(admin: &TestApp, limit: usize) -> (Vec<String>, Vec<String>, Vec<usize>) {
    let ids_of = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut forwards = Vec::new();
    let mut sizes = Vec::new();
    let mut path = format!("/admin/v1/tenants?limit={limit}");
    let mut first = true;
    let last = loop {
        let page = admin.get(&path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert_eq!(page.body["limit"], json!(limit));
        assert_eq!(
            page.body.get("prev_cursor").is_none(),
            first,
            "{}",
            page.body
        );
        first = false;
        forwards.extend(ids_of(&page.body));
        sizes.push(page.body["items"].as_array().unwrap().len());
        match page.body["next_cursor"].as_str() {
            Some(next) => path = format!("/admin/v1/tenants?limit={limit}&cursor={}", url(next)),
            None => break page.body,
        }
    };
    let mut backwards: Vec<Vec<String>> = vec![ids_of(&last)];
    let mut prev = last["prev_cursor"].as_str().map(str::to_owned);
    while let Some(cursor) = prev {
        let page = admin
            .get(&format!(
                "/admin/v1/tenants?limit={limit}&cursor={}",
                url(&cursor)
            ))
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        // A page reached backwards always has a next page.
        assert!(page.body["next_cursor"].is_string(), "{}", page.body);
        backwards.push(ids_of(&page.body));
        prev = page.body["prev_cursor"].as_str().map(str::to_owned);
    }
    backwards.reverse();
    (forwards, backwards.concat(), sizes)
}

#[tokio::test]
async fn admin_pages_walk_every_tenant_once_in_id_order_both_ways() {
    let (app, admin) = admin_app().await;
    let scratch = tempfile::tempdir().unwrap();
    let mut ids = mixed_ids();
    seed(&app.data_dir, scratch.path(), &ids);
    // Files that are not tenant databases are not listed.
    std::fs::write(app.data_dir.join("tenants/notes.txt"), b"").unwrap();
    std::fs::write(app.data_dir.join("tenants/bad.name.sqlite"), b"").unwrap();
    let suspended = admin.post("/admin/v1/tenants/t7/suspend", json!({})).await;
    assert_eq!(suspended.status, 200, "{}", suspended.body);
    ids.sort();
    assert_eq!(ids.first().map(String::as_str), Some("A-1"));

    let (forwards, backwards, sizes) = walk(&admin, 7).await;
    assert_eq!(forwards, ids);
    assert_eq!(backwards, ids);
    assert_eq!(sizes, vec![7, 7, 7, 6]);
    // One page of everything; the default limit is 10.
    let (all, _, sizes) = walk(&admin, 100).await;
    assert_eq!((all, sizes), (ids.clone(), vec![27]));
    let first = admin.get("/admin/v1/tenants").await;
    assert_eq!(first.body["limit"], 10);
    assert_eq!(first.body["items"].as_array().unwrap().len(), 10);
    // Only the listed tenants' status is looked at, and it is right.
    let page = admin.get("/admin/v1/tenants?limit=100").await;
    let statuses: Vec<(&str, &str)> = page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_str().unwrap(), t["status"].as_str().unwrap()))
        .filter(|(_, status)| *status != "active")
        .collect();
    assert_eq!(statuses, vec![("t7", "suspended")]);
    // A cursor past the last id is an empty last page; before the first, an empty first page.
    let past = admin
        .get(&format!(
            "/admin/v1/tenants?cursor={}",
            cursor("zzz", "next")
        ))
        .await;
    assert_eq!(past.status, 200);
    assert_eq!(past.body["items"], json!([]));
    assert!(past.body.get("next_cursor").is_none(), "{}", past.body);
    let before = admin
        .get(&format!("/admin/v1/tenants?cursor={}", cursor("0", "prev")))
        .await;
    assert_eq!(before.body["items"], json!([]));
    assert!(before.body.get("prev_cursor").is_none(), "{}", before.body);
}

/// `text` escaped for a query string (base64's `+`, `/` and `=`).
fn url(text: &str) -> String {
    text.replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

fn cursor(id: &str, direction: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE
        .encode(json!({"id": id, "direction": direction}).to_string())
}

#[tokio::test]
async fn a_bad_limit_or_cursor_is_a_400_with_its_code_and_changes_nothing() {
    let (app, admin) = admin_app().await;
    let scratch = tempfile::tempdir().unwrap();
    seed(&app.data_dir, scratch.path(), &mixed_ids());
    let files_before = names(&app.data_dir.join("tenants"));
    let uuid_cursor = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(
            json!({"id": "0193a1b2-0000-7000-8000-000000000000", "direction": "sideways"})
                .to_string(),
        )
    };
    for (query, code) in [
        ("limit=0", "0082"),
        ("limit=-1", "0082"),
        ("limit=ten", "0082"),
        ("limit=101", "0080"),
        ("cursor=not-base64!", "0082"),
        (&format!("cursor={}", cursor("a.b", "next")) as &str, "0082"),
        (&format!("cursor={}", cursor("t1", "up")), "0082"),
        (&format!("cursor={}", url(&uuid_cursor)), "0082"),
    ] {
        let reply = admin.get(&format!("/admin/v1/tenants?{query}")).await;
        assert_eq!(reply.status, 400, "{query}: {}", reply.body);
        assert_eq!(reply.code(), code, "{query}: {}", reply.body);
    }
    assert_eq!(names(&app.data_dir.join("tenants")), files_before);
    // limit=100 is the largest accepted.
    assert_eq!(admin.get("/admin/v1/tenants?limit=100").await.status, 200);
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `tenant list` prints every tenant once, in id order, and pages with `--limit`/`--cursor`,
/// printing the cursors on stderr.
#[test]
fn the_cli_lists_all_tenants_or_pages_through_them() {
    let scratch = tempfile::tempdir().unwrap();
    let data = scratch.path().join("data");
    let mut ids = mixed_ids();
    seed(&data, scratch.path(), &ids);
    std::fs::write(data.join("tenants/t3.suspended"), b"").unwrap();
    ids.sort();
    let expected: Vec<String> = ids
        .iter()
        .map(|id| {
            if id == "t3" {
                "t3 suspended".to_owned()
            } else {
                id.clone()
            }
        })
        .collect();
    let all = ledgerlite(&data, &["tenant", "list"]);
    assert!(all.status.success(), "{all:?}");
    let lines: Vec<String> = String::from_utf8(all.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines, expected);
    assert!(all.stderr.is_empty());

    let mut paged = Vec::new();
    let mut args = vec!["tenant".to_owned(), "list".to_owned(), "--limit".to_owned()];
    args.push("10".to_owned());
    loop {
        let args_ref: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = ledgerlite(&data, &args_ref);
        assert!(out.status.success(), "{out:?}");
        paged.extend(
            String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .map(String::from),
        );
        let stderr = String::from_utf8(out.stderr).unwrap();
        let Some(next) = stderr.lines().find_map(|l| l.strip_prefix("next cursor ")) else {
            break;
        };
        args.truncate(4);
        args.extend(["--cursor".to_owned(), next.to_owned()]);
    }
    assert_eq!(paged, expected);

    let bad = ledgerlite(&data, &["tenant", "list", "--cursor", "nonsense"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--cursor"));
    let zero = ledgerlite(&data, &["tenant", "list", "--limit", "0"]);
    assert!(!zero.status.success());
}

/// A multi-tenant server binary on `data_dir` with the admin API; returns it and how long
/// `/health` took to answer first.
async fn serve(data_dir: &Path) -> (Child, String, Duration) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ledgerlite"))
        .arg("serve")
        .env("LEDGERLITE_DATA_DIR", data_dir)
        .env("LEDGERLITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEDGERLITE_MULTI_TENANT", "true")
        .env("LEDGERLITE_JWT_SECRET", SECRET)
        .env("LEDGERLITE_ADMIN_TOKEN", ADMIN)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    while started.elapsed() < Duration::from_secs(START_WAIT_SECONDS) {
        if client
            .get(format!("{base}/health"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return (child, base, started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("server did not start");
}

/// The median of 21 `/health` calls.
async fn health_median(base: &str) -> Duration {
    let client = reqwest::Client::new();
    let mut times = Vec::new();
    for _ in 0..21 {
        let started = Instant::now();
        let reply = client.get(format!("{base}/health")).send().await.unwrap();
        assert_eq!(reply.status(), 200);
        times.push(started.elapsed());
    }
    times.sort();
    times[times.len() / 2]
}

/// Start-up, `/health` and the first admin page on a data folder of `SCALE_TENANTS` tenant
/// files against an empty one (the quicker of two starts each, as the machine is shared).
#[tokio::test]
async fn a_hundred_thousand_tenant_files_slow_neither_start_nor_health_nor_the_first_page() {
    let scratch = tempfile::tempdir().unwrap();
    let empty = scratch.path().join("empty");
    let full = scratch.path().join("full");
    let ids: Vec<String> = (0..SCALE_TENANTS)
        .map(|i| format!("tenant-{i:06}"))
        .collect();
    seed(&full, scratch.path(), &ids);

    let mut measured = Vec::new();
    for data in [&empty, &full, &empty, &full] {
        let (mut child, base, start) = serve(data).await;
        let health = health_median(&base).await;
        measured.push((start, health));
        let _ = child.kill();
        let _ = child.wait();
    }
    let empty_start = measured[0].0.min(measured[2].0);
    let full_start = measured[1].0.min(measured[3].0);
    let empty_health = measured[0].1.min(measured[2].1);
    let full_health = measured[1].1.min(measured[3].1);
    println!(
        "start: empty {empty_start:?}, {SCALE_TENANTS} tenants {full_start:?}; /health median: \
         empty {empty_health:?}, {SCALE_TENANTS} tenants {full_health:?}"
    );
    assert!(
        full_start.as_millis() <= empty_start.as_millis() + START_SLOWER_BY_MS_MAX,
        "start {full_start:?} with {SCALE_TENANTS} tenants, {empty_start:?} without"
    );
    assert!(
        full_health.as_millis() <= empty_health.as_millis() + HEALTH_SLOWER_BY_MS_MAX,
        "/health {full_health:?} with {SCALE_TENANTS} tenants, {empty_health:?} without"
    );

    let (mut child, base, _) = serve(&full).await;
    let client = reqwest::Client::new();
    let started = Instant::now();
    let reply = client
        .get(format!("{base}/admin/v1/tenants?limit=100"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    let first_page = started.elapsed();
    assert_eq!(reply.status(), 200);
    let body: Value = reply.json().await.unwrap();
    let _ = child.kill();
    let _ = child.wait();
    println!("first admin page of {SCALE_TENANTS} tenants: {first_page:?}");
    let listed: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        ids[..100].iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(body["next_cursor"].is_string());
    assert!(
        first_page.as_millis() <= FIRST_PAGE_MS_MAX,
        "first page {first_page:?}"
    );

    // The command line streams all of them, each once, in order.
    let out = ledgerlite(&full, &["tenant", "list"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.lines().eq(ids.iter().map(String::as_str)));
}
