//! Running the real `zonewise` binary from a test, with the environment and
//! standard input a test gives it.

use std::io::Write;
use std::process::{Command, Stdio};

/// What one run of the binary did.
pub struct Run {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Standard output, then standard error.
    pub fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `zonewise args` with `env` set (a value of `None` removes the variable)
/// and `stdin` written to its standard input.
pub fn zonewise(args: &[&str], env: &[(&str, Option<&str>)], stdin: &str) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_zonewise"));
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    let mut child = command.spawn().expect("run zonewise");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let output = child.wait_with_output().expect("zonewise finished");
    Run {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
