//! Connection limits: request heads larger than actix-http's fixed limits are refused with 431,
//! a client that stalls in the middle of its request head is answered 408 and disconnected
//! after the request timeout, an idle keep-alive connection is closed, and the server serves
//! everyone else meanwhile. Raw TCP, so the bytes on the wire are exactly the test's.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::{Duration, Instant};

use common::{TestApp, spawn_app, spawn_app_with};
use ledgerlite::startup::{REQUEST_HEAD_BYTES_MAX, REQUEST_HEADERS_COUNT_MAX};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Timeouts of the test servers, in milliseconds: short, so the tests are fast.
const TEST_TIMEOUT_MS: u64 = 300;
/// How much later than its timeout the server may act, in milliseconds (timers are coarse).
const TIMER_SLACK_MS: u64 = 1_500;

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Everything the server sends until it closes the connection (or until `limit`), and when
/// it closed. A reset after the answer counts as a close.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Option<Instant>) {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                return (
                    String::from_utf8_lossy(&received).into(),
                    Some(Instant::now()),
                );
            }
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
            Err(_) => return (String::from_utf8_lossy(&received).into(), None),
        }
    }
}

/// Sends `head` (written in the background: the server may answer before reading it all)
/// and returns the status line of the answer.
async fn status_line_for(app: &TestApp, head: String) -> String {
    let stream = connect(app).await;
    let (mut reader, mut writer) = stream.into_split();
    let sender = tokio::spawn(async move {
        let _ = writer.write_all(head.as_bytes()).await;
        writer
    });
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    while !received.windows(2).any(|w| w == b"\r\n") {
        match tokio::time::timeout(Duration::from_secs(5), reader.read(&mut buffer)).await {
            Ok(Ok(n)) if n > 0 => received.extend_from_slice(&buffer[..n]),
            other => panic!("no answer: {other:?}"),
        }
    }
    drop(sender.await);
    let text = String::from_utf8_lossy(&received).into_owned();
    text.lines().next().unwrap_or_default().to_owned()
}

fn head_with(headers: &[String]) -> String {
    let mut head = "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n".to_owned();
    for header in headers {
        head.push_str(header);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    head
}

#[tokio::test]
async fn a_request_head_over_the_size_limit_gets_431() {
    let app = spawn_app().await;
    let fits = format!("X-Pad: {}", "a".repeat(REQUEST_HEAD_BYTES_MAX / 2));
    assert_eq!(
        status_line_for(&app, head_with(&[fits])).await,
        "HTTP/1.1 200 OK"
    );
    let too_big = format!("X-Pad: {}", "a".repeat(REQUEST_HEAD_BYTES_MAX));
    assert_eq!(
        status_line_for(&app, head_with(&[too_big])).await,
        "HTTP/1.1 431 Request Header Fields Too Large"
    );
    // The server is unharmed.
    assert_eq!(app.get("/health").await.status, 200);
}

#[tokio::test]
async fn more_headers_than_the_count_limit_get_431() {
    let app = spawn_app().await;
    // `Host` and `Connection` are two of them.
    let headers =
        |count: usize| -> Vec<String> { (0..count - 2).map(|i| format!("X-H{i}: {i}")).collect() };
    assert_eq!(
        status_line_for(&app, head_with(&headers(REQUEST_HEADERS_COUNT_MAX))).await,
        "HTTP/1.1 200 OK"
    );
    assert_eq!(
        status_line_for(&app, head_with(&headers(REQUEST_HEADERS_COUNT_MAX + 1))).await,
        "HTTP/1.1 431 Request Header Fields Too Large"
    );
    assert_eq!(app.get("/health").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_stalling_in_its_request_head_gets_408_and_is_disconnected() {
    let app = spawn_app_with(|config| config.client_request_timeout_ms = TEST_TIMEOUT_MS).await;
    let mut stalled = connect(&app).await;
    let started = Instant::now();
    stalled
        .write_all(b"POST /v1/organizations HTTP/1.1\r\nHost: localhost\r\nContent-Ty")
        .await
        .unwrap();
    // Others are served meanwhile.
    for _ in 0..5 {
        assert_eq!(app.get("/health").await.status, 200);
    }
    let limit = Duration::from_millis(TEST_TIMEOUT_MS + TIMER_SLACK_MS);
    let (answer, closed) = read_until_closed(&mut stalled, limit).await;
    let closed = closed.expect("the stalled connection is closed in time");
    assert!(
        answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
        "{answer:?}"
    );
    let waited = closed.duration_since(started);
    assert!(
        waited >= Duration::from_millis(TEST_TIMEOUT_MS),
        "closed after {waited:?}, before the timeout"
    );
    // The half-sent request created nothing.
    let count = app.head("/v1/organizations/metrics/count").await;
    assert_eq!(count.header("x-total-count").as_deref(), Some("0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_the_keep_alive_time() {
    let app = spawn_app_with(|config| config.keep_alive_ms = TEST_TIMEOUT_MS).await;
    let mut idle = connect(&app).await;
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let limit = Duration::from_millis(TEST_TIMEOUT_MS + TIMER_SLACK_MS);
    let (answer, closed) = read_until_closed(&mut idle, limit).await;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer:?}");
    let closed = closed.expect("the idle connection is closed in time");
    let waited = closed.duration_since(started);
    assert!(
        waited >= Duration::from_millis(TEST_TIMEOUT_MS / 2),
        "closed after {waited:?}, well before the keep-alive time"
    );
    assert_eq!(app.get("/health").await.status, 200);
}
