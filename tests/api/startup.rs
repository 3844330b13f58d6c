//! A start or command refused for its configuration: one line on stderr naming the setting,
//! the value and what to do, the exit code of its class, no stack trace (even with
//! `RUST_BACKTRACE=1`) and no data folder left behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Exit codes, as the README's "Command line" section documents them.
const EXIT_CONFIG: i32 = 2;
const EXIT_ADDRESS: i32 = 3;
const EXIT_DATA_DIR: i32 = 4;

/// How long a refused start may take to exit, in seconds.
const REFUSAL_WAIT_SECONDS: u64 = 10;

/// Runs the binary with only `env` set (and `RUST_BACKTRACE=1`); returns its exit code and its
/// one stderr line, asserting there is exactly one.
/// A start that is not refused is killed after [`REFUSAL_WAIT_SECONDS`] and fails the test.
fn refused(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ledgerlite"))
        .env_clear()
        .env("RUST_BACKTRACE", "1")
        .envs(env.iter().copied())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(REFUSAL_WAIT_SECONDS);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} {env:?} was not refused: it is still running");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?}");
    (out.status.code().unwrap(), stderr.trim_end().to_owned())
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_taken_port_names_the_address_and_the_setting_and_leaves_no_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, line) = refused(&["--addr", &addr, "--data-dir", path(&data)], &[]);
    assert_eq!(code, EXIT_ADDRESS);
    assert_eq!(
        line,
        format!(
            "error: cannot listen on {addr} (--addr / LEDGERLITE_ADDR): the address is already \
             in use, perhaps by another ledgerlite or Midaz (v3.6+ also serves on 3002); stop \
             it or choose another address, e.g. --addr 127.0.0.1:3003"
        )
    );
    assert!(!data.exists(), "a failed start created the data folder");
}

#[test]
fn a_port_without_a_host_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_dir = path(&data);
    let (code, line) = refused(
        &[],
        &[
            ("LEDGERLITE_ADDR", "3002"),
            ("LEDGERLITE_DATA_DIR", data_dir),
        ],
    );
    assert_eq!(code, EXIT_CONFIG);
    assert_eq!(
        line,
        "error: --addr / LEDGERLITE_ADDR \"3002\" is not a listen address: give host:port, e.g. \
         127.0.0.1:3002 (a port alone is not enough)"
    );
    assert!(!data.exists());
}

#[test]
fn a_data_folder_that_is_a_file_or_has_no_parent_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "not a folder").unwrap();
    let (code, line) = refused(&["--addr", "127.0.0.1:0", "--data-dir", path(&file)], &[]);
    assert_eq!(code, EXIT_DATA_DIR);
    assert_eq!(
        line,
        format!(
            "error: the data folder {} (--data-dir / LEDGERLITE_DATA_DIR) is a file, not a \
             folder; point --data-dir at a folder",
            file.display()
        )
    );
    let orphan = dir.path().join("missing/data");
    // Commands check the folder the same way as the server.
    let (code, line) = refused(&["--data-dir", path(&orphan), "tenant", "list"], &[]);
    assert_eq!(code, EXIT_DATA_DIR);
    assert_eq!(
        line,
        format!(
            "error: the data folder {} (--data-dir / LEDGERLITE_DATA_DIR) does not exist, nor \
             does its parent {}; create it (mkdir -p {}) or point --data-dir elsewhere",
            orphan.display(),
            dir.path().join("missing").display(),
            orphan.display()
        )
    );
    assert!(!dir.path().join("missing").exists());
    // A file argument that does not exist is named with its flag.
    let data = dir.path().join("data");
    let missing = dir.path().join("acme.jsonl");
    let (code, line) = refused(
        &[
            "--data-dir",
            path(&data),
            "tenant",
            "import",
            "acme",
            "--from",
            path(&missing),
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert_eq!(
        line,
        format!(
            "error: cannot read the export {} (--from): No such file or directory",
            missing.display()
        )
    );
}

#[test]
fn a_short_or_missing_hs256_secret_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_dir = path(&data);
    let serve = [
        "--multi-tenant",
        "--addr",
        "127.0.0.1:0",
        "--data-dir",
        data_dir,
    ];
    let short = "0123456789abcdef0123456789abcde"; // 31 bytes
    let (code, line) = refused(&serve, &[("LEDGERLITE_JWT_SECRET", short)]);
    assert_eq!(code, EXIT_CONFIG);
    assert_eq!(
        line,
        "error: LEDGERLITE_JWT_SECRET (--jwt-secret) is 31 bytes long: HS256 needs at least 32; \
         use a random secret, e.g. $(openssl rand -hex 32)"
    );
    let (code, line) = refused(&serve, &[]);
    assert_eq!(code, EXIT_CONFIG);
    assert_eq!(
        line,
        "error: LEDGERLITE_JWT_SECRET (--jwt-secret) is not set: verifying HS256 tokens needs it; \
         set it to a random secret of at least 32 bytes, e.g. $(openssl rand -hex 32)"
    );
    // `token` refuses to sign with a secret the server would refuse.
    let (code, line) = refused(
        &["--data-dir", data_dir, "token", "--tenant", "acme"],
        &[("LEDGERLITE_JWT_SECRET", short)],
    );
    assert_eq!(code, EXIT_CONFIG);
    assert!(line.starts_with("error: LEDGERLITE_JWT_SECRET (--jwt-secret) is 31 bytes long"));
    assert!(!data.exists(), "a refused start created the data folder");
}

#[test]
fn a_bad_flag_or_variable_is_one_line_naming_it_and_never_echoes_a_secret() {
    let (code, line) = refused(&[], &[("LEDGERLITE_SYNC", "sometimes")]);
    assert_eq!(code, EXIT_CONFIG);
    assert_eq!(
        line,
        "error: invalid value 'sometimes' for '--sync <SYNC>' (LEDGERLITE_SYNC); see ledgerlite \
         --help"
    );
    let (code, line) = refused(&[], &[("LEDGERLITE_ADMIN_TOKEN", "hunter2")]);
    assert_eq!(code, EXIT_CONFIG);
    assert_eq!(
        line,
        "error: invalid value (hidden) for '--admin-token <ADMIN_TOKEN>': the admin token must \
         be at least 16 bytes long (LEDGERLITE_ADMIN_TOKEN); see ledgerlite --help"
    );
    let (code, line) = refused(&["token", "--tenant", "bad id"], &[]);
    assert_eq!(code, EXIT_CONFIG);
    assert_eq!(
        line,
        "error: invalid tenant id \"bad id\": use ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
    );
    let (code, line) = refused(&["--no-such-flag"], &[]);
    assert_eq!(code, EXIT_CONFIG);
    assert_eq!(
        line,
        "error: unexpected argument '--no-such-flag' found; see ledgerlite --help"
    );
}

#[test]
fn completions_are_printed_for_bash_zsh_and_fish() {
    for (shell, marker) in [
        ("bash", "complete -F _ledgerlite"),
        ("zsh", "#compdef ledgerlite"),
        ("fish", "complete -c ledgerlite"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_ledgerlite"))
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("verify"), "{shell}: subcommands missing");
    }
}

/// README "Coming from Midaz" lists Midaz routes ledgerlite does not serve; each must be absent
/// from the served OpenAPI document, so implementing one forces the list to be updated.
#[test]
fn the_readme_list_of_midaz_routes_not_implemented_is_true() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let (_, rest) = readme
        .split_once("<!-- midaz: not implemented -->")
        .expect("the marked list in README.md");
    let (list, _) = rest.split_once("<!-- /midaz -->").expect("its end marker");
    let paths: Vec<&str> = list
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|path| path.trim_start_matches('…'))
        .filter(|path| path.starts_with('/'))
        .collect();
    assert_eq!(paths.len(), 1, "{paths:?}");
    let document = serde_json::to_value(ledgerlite::http::openapi::document(true)).unwrap();
    let served: Vec<&String> = document["paths"].as_object().unwrap().keys().collect();
    assert!(served.len() > 40, "{served:?}");
    for path in paths {
        let hits: Vec<_> = served.iter().filter(|p| p.contains(path)).collect();
        assert!(
            hits.is_empty(),
            "README says {path} is not implemented, but {hits:?} is served"
        );
    }
}
