//! Structured logs: JSON lines carrying the request id and tenant of each request, never the
//! caller's token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

#[tokio::test]
async fn json_logs_carry_request_id_and_tenant_but_not_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bin = env!("CARGO_BIN_EXE_ledgerlite");
    let secret = "logs-test-secret-0123456789abcdef0123";
    let created = Command::new(bin)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["tenant", "create", "acme"])
        .output()
        .unwrap();
    assert!(created.status.success());
    let token = Command::new(bin)
        .args(["token", "--tenant", "acme"])
        .env("LEDGERLITE_JWT_SECRET", secret)
        .output()
        .unwrap();
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    let child = Command::new(bin)
        .env("LEDGERLITE_DATA_DIR", dir.path())
        .env("LEDGERLITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEDGERLITE_MULTI_TENANT", "true")
        .env("LEDGERLITE_JWT_SECRET", secret)
        .env("LEDGERLITE_LOG_FORMAT", "json")
        .env("LEDGERLITE_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while reqwest::get(format!("{base}/health")).await.is_err() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let response = reqwest::Client::new()
        .get(format!("{base}/v1/organizations"))
        .bearer_auth(&token)
        .header("X-Request-Id", "log-test-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(!log.contains(&token), "the token leaked into the log");
    let finished: Vec<Value> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["fields"]["message"] == "request finished")
        .collect();
    let ours = finished
        .iter()
        .find(|l| l["span"]["request_id"] == "log-test-42")
        .expect("a line for the request");
    assert_eq!(ours["span"]["tenant"], "acme");
    assert_eq!(ours["span"]["route"], "/v1/organizations");
    assert_eq!(ours["fields"]["status"], 200);
}

/// Text logs into a pipe (as under journald or `> file`): no colour escapes, a banner naming
/// the version, mode, absolute data folder, URL, Swagger UI and `/metrics`, and none of the
/// HTTP framework's start and stop chatter at the default level.
#[tokio::test]
async fn text_logs_into_a_pipe_are_plain_and_start_with_the_banner() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_ledgerlite"))
        .current_dir(dir.path())
        .env_remove("LEDGERLITE_LOG")
        .env_remove("LEDGERLITE_LOG_FORMAT")
        .env_remove("LEDGERLITE_DATA_DIR")
        .env_remove("NO_COLOR")
        .args(["--addr", &format!("127.0.0.1:{port}"), "--data-dir", "data"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while reqwest::get(format!("{base}/health")).await.is_err() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(!log.contains('\x1b'), "colour escapes in a pipe:\n{log}");
    let data = dir.path().canonicalize().unwrap().join("data");
    let banner = format!(
        "ledgerlite {version} (single-tenant) listening on {base}, data in {data}; Swagger UI \
         at {base}/swagger/, metrics at {base}/metrics",
        version = env!("CARGO_PKG_VERSION"),
        data = data.display()
    );
    assert!(log.lines().any(|l| l.contains(&banner)), "{banner}\n{log}");
    assert!(!log.contains("actix"), "framework chatter at info:\n{log}");
    assert!(!log.contains("WARN"), "{log}");
}

/// The banner line of a server whose stderr is a terminal (a pseudo-terminal from `script`),
/// with `NO_COLOR` set to `no_color`.
fn banner_on_a_terminal(no_color: &str) -> String {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let command = format!(
        "{} --addr 127.0.0.1:0 --data-dir {}",
        env!("CARGO_BIN_EXE_ledgerlite"),
        dir.path().join("data").display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("NO_COLOR", no_color)
        .env_remove("LEDGERLITE_LOG")
        .env_remove("LEDGERLITE_LOG_FORMAT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux");
    let lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let banner = lines
        .map_while(Result::ok)
        .find(|line| line.contains("listening on"))
        .expect("a banner");
    let _ = child.kill();
    let _ = child.wait();
    banner
}

#[test]
fn text_logs_on_a_terminal_are_coloured_unless_no_color_is_set() {
    assert!(banner_on_a_terminal("").contains("\x1b["));
    let plain = banner_on_a_terminal("1");
    assert!(!plain.contains('\x1b'), "{plain:?}");
}
