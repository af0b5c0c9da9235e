//! Shared helpers of the live tests: a moto server (scripts/moto/harness.py)
//! on a free loopback port, and runs of the real `ecr-audit` binary against it.
//!
//! The server is a child process owned by [`Moto`]; dropping it (also when a
//! test panics) kills it, and the harness exits by itself when its stdin
//! closes, so no server outlives the test process.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::Instant;

use serde_json::{json, Value};

pub const SETUP_HINT: &str =
    "the live tests need moto in .venv: run scripts/setup-python-env (from the repository root) first";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> PathBuf {
    let venv = root().join(".venv");
    let candidates = [venv.join("bin/python"), venv.join("Scripts/python.exe")];
    for c in candidates {
        if c.exists() {
            return c;
        }
    }
    panic!("{SETUP_HINT} (no .venv/bin/python)");
}

/// A running moto server with the test harness around it.
pub struct Moto {
    child: Child,
    stdin: Mutex<Option<ChildStdin>>,
    stdout: Mutex<BufReader<ChildStdout>>,
    pub port: u16,
}

impl Moto {
    /// Starts a server on a free loopback port.
    pub fn start() -> Moto {
        Moto::start_with_env(&[])
    }

    pub fn start_with_env(env: &[(&str, &str)]) -> Moto {
        let python = python();
        let mut command = Command::new(&python);
        command
            .arg(root().join("scripts/moto/harness.py"))
            .current_dir(root())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            // moto's own server never talks to AWS, but make sure of it.
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_PROFILE");
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}; {SETUP_HINT}", python.display()));
        let stdin = child.stdin.take().expect("piped stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        let read = stdout.read_line(&mut line);
        let port = match read {
            Ok(n) if n > 0 => serde_json::from_str::<Value>(&line)
                .ok()
                .and_then(|v| v["port"].as_u64())
                .unwrap_or_else(|| panic!("the moto harness said {line:?}; {SETUP_HINT}")),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the moto harness exited before serving; {SETUP_HINT}");
            }
        };
        Moto {
            child,
            stdin: Mutex::new(Some(stdin)),
            stdout: Mutex::new(stdout),
            port: u16::try_from(port).expect("a port"),
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Sends one harness command and returns its answer; panics on an error.
    pub fn command(&self, command: Value) -> Value {
        let mut stdin = self.stdin.lock().unwrap();
        let mut stdout = self.stdout.lock().unwrap();
        let input = stdin.as_mut().expect("the harness is running");
        writeln!(input, "{command}").expect("write to the harness");
        input.flush().expect("flush to the harness");
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read from the harness");
        let answer: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("the harness answered {line:?}: {e}"));
        assert_eq!(
            answer["ok"],
            json!(true),
            "harness command {command} failed: {answer}"
        );
        answer
    }

    /// Seeds a world (see scripts/moto/seeds.py) and returns its facts.
    pub fn seed(&self, world: Value) -> Value {
        self.command(world)["world"].clone()
    }

    /// Answers the operation (`ecr:GetLifecyclePolicy`) with an error.
    pub fn fault(&self, fault: Value) {
        let mut command = fault;
        command["cmd"] = json!("fault");
        self.command(command);
    }

    /// Requests the server answered since the last reset, by operation, and
    /// the most it had in flight at once; `reset` starts counting anew.
    pub fn requests(&self, reset: bool) -> (std::collections::BTreeMap<String, u64>, u64) {
        let answer = self.command(json!({"cmd": "requests", "reset": reset}));
        let operations = answer["operations"]
            .as_object()
            .expect("operations")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().expect("a count")))
            .collect();
        (operations, answer["peak"].as_u64().expect("peak"))
    }

    pub fn clear_faults(&self) {
        self.command(json!({"cmd": "clear_faults"}));
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Closing stdin makes the harness stop; kill it anyway.
        if let Ok(mut stdin) = self.stdin.lock() {
            stdin.take();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A run of the real binary.
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    pub seconds: f64,
}

impl Run {
    pub fn describe(&self) -> String {
        format!(
            "exit {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status,
            truncate(&self.stdout),
            truncate(&self.stderr)
        )
    }
}

fn truncate(s: &str) -> &str {
    let max = 6000;
    if s.len() <= max {
        s
    } else {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        &s[..end]
    }
}

/// The test credentials. moto accepts any; these are distinctive so that a
/// test can assert they never show in an output.
pub const ACCESS_KEY: &str = "AKIAMOTOTESTKEY00001";
pub const SECRET_KEY: &str = "s3cr3t-live-test-key-never-printed";
pub const SESSION_TOKEN: &str = "FwoGZXIvYXdzEXAMPLEsessionTOKENneverPRINTED0123456789abcdefABCDEF";

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_ecr-audit")
}

/// Runs `ecr-audit ARGS` with the environment of a scan against `moto`:
/// static test credentials (or `credentials`), the endpoint, no retries, no
/// profile files of the machine.
pub fn ecr_audit(moto: &Moto, args: &[&str], credentials: Option<(&str, &str)>) -> Run {
    ecr_audit_with(moto, args, credentials, &[])
}

/// [`ecr_audit`] with environment changes: `(name, Some(value))` sets,
/// `(name, None)` removes.
pub fn ecr_audit_with(
    moto: &Moto,
    args: &[&str],
    credentials: Option<(&str, &str)>,
    env: &[(&str, Option<&str>)],
) -> Run {
    let (key, secret) = credentials.unwrap_or((ACCESS_KEY, SECRET_KEY));
    // An empty home and working directory: no profile, config file or
    // ecr-audit.toml of the machine takes part.
    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("live-home");
    let _ = std::fs::create_dir_all(&home);
    let mut command = Command::new(binary());
    command
        .args(args)
        .current_dir(&home)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", home.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
        .env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("NO_COLOR", "1");
    if credentials.is_none() {
        command.env("AWS_SESSION_TOKEN", SESSION_TOKEN);
    }
    for (name, value) in env {
        match value {
            Some(v) => command.env(name, v),
            None => command.env_remove(name),
        };
    }
    run(command)
}

pub fn run(mut command: Command) -> Run {
    let started = Instant::now();
    let output: Output = command.output().expect("run ecr-audit");
    Run {
        status: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// A scratch directory under the target directory, emptied first.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}
