//! Runs the Python ADBC client suite (tests/python/test_adbc.py) against real `cohort serve`
//! processes: one read-write, one `--read-only`, both with a bearer token.
//!
//! The suite needs adbc-driver-flightsql and pyarrow (tests/python/requirements.txt). `.ci/run`
//! installs them into `$COHORT_TEST_VENV` (default `~/.cache/cohort-test-venv`); when that
//! environment is missing, this test makes it with `python3 -m venv` and pip, so `cargo test`
//! works on a fresh machine too. It fails, never skips, when that is impossible.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const TOKEN: &str = "adbc-test-token-42";

fn repo() -> PathBuf {
    // cargo sets the variable at run time too; prefer it (a shared target folder may hold a
    // binary built for another checkout)
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

fn venv() -> PathBuf {
    match std::env::var_os("COHORT_TEST_VENV") {
        Some(v) => PathBuf::from(v),
        None => {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(std::env::temp_dir);
            home.join(".cache/cohort-test-venv")
        }
    }
}

/// The venv's python with the client packages, made if needed.
fn python() -> PathBuf {
    let venv = venv();
    let py = venv.join("bin/python");
    let ready = |py: &Path| {
        Command::new(py)
            .args(["-c", "import adbc_driver_flightsql.dbapi, pyarrow.parquet"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if ready(&py) {
        return py;
    }
    eprintln!(
        "flight_adbc: making the Python environment {}",
        venv.display()
    );
    let ok = Command::new("python3")
        .arg("-m")
        .arg("venv")
        .arg(&venv)
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "python3 -m venv {} failed: the ADBC client tests need Python 3 with venv",
        venv.display()
    );
    let ok = Command::new(venv.join("bin/pip"))
        .args(["install", "-q", "-r"])
        .arg(repo().join("tests/python/requirements.txt"))
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "pip install -r tests/python/requirements.txt failed (is PyPI reachable?)"
    );
    assert!(
        ready(&py),
        "the ADBC packages still do not import from {}",
        py.display()
    );
    py
}

/// A `cohort serve` process, killed when dropped.
struct Serve {
    child: Child,
    uri: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path, data: &Path, extra: &[&str]) -> Serve {
    let token_file = dir.join("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cohort"))
        .arg("--data")
        .arg(data)
        .arg("--models")
        .arg(dir.join("models"))
        .arg("--target-partitions")
        .arg("2")
        .arg("serve")
        .arg("--addr")
        .arg("127.0.0.1:0")
        .arg("--token-file")
        .arg(&token_file)
        .args(extra)
        .env_remove("COHORT_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let uri = line
        .split_whitespace()
        .find(|w| w.starts_with("grpc://"))
        .unwrap_or_else(|| panic!("cohort serve did not say where it listens: {line:?}"))
        .to_string();
    Serve { child, uri }
}

#[test]
fn python_adbc_client_suite() {
    let py = python();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("shop");
    cohort::gen::generate(&data, 1500, 13).unwrap();
    let rw_dir = dir.path().join("rw");
    let ro_dir = dir.path().join("ro");
    std::fs::create_dir_all(&rw_dir).unwrap();
    std::fs::create_dir_all(&ro_dir).unwrap();
    let rw = serve(&rw_dir, &data, &[]);
    let ro = serve(&ro_dir, &data, &["--read-only"]);
    let out = Command::new(&py)
        .arg(repo().join("tests/python/test_adbc.py"))
        .env("COHORT_URI", &rw.uri)
        .env("COHORT_READONLY_URI", &ro.uri)
        .env("COHORT_TOKEN", TOKEN)
        .env("COHORT_DATA", &data)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stderr}");
    assert!(out.status.success(), "the ADBC suite failed:\n{stderr}");
    // unittest prints one line per test; make sure they all ran
    let ran = stderr.lines().filter(|l| l.ends_with("... ok")).count();
    assert_eq!(ran, 8, "{stderr}");
}

#[test]
fn serve_refuses_to_start_without_a_token() {
    let out = Command::new(env!("CARGO_BIN_EXE_cohort"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env_remove("COHORT_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no bearer token; pass --token-file FILE or set $COHORT_TOKEN"),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_cohort"))
        .args(["serve", "--addr", "0.0.0.0:0", "--insecure-no-auth"])
        .env_remove("COHORT_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--insecure-no-auth only binds to a loopback address"),
        "{err}"
    );
}

#[test]
fn serve_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cohort"))
        .arg("--models")
        .arg(dir.path().join("models"))
        .args(["serve", "--addr", "127.0.0.1:0", "--insecure-no-auth"])
        .env_remove("COHORT_TOKEN")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.contains("NO authentication"), "{line}");
    let ok = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(status.success(), "exit {status:?}");
    assert!(rest.contains("cohort serve: stopped"), "{rest}");
}
