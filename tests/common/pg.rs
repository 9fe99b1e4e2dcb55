//! A throwaway PostgreSQL cluster for one test: `initdb` in a temporary folder,
//! listening only on a Unix socket in that folder, with SCRAM-SHA-256 for every
//! login, stopped and removed when dropped (a panicking test too). No test needs a
//! server it did not start. The binaries are found with `pg_config --bindir`, else
//! under /usr/lib/postgresql/*/bin; `.ci/run` installs Debian's `postgresql` when
//! they are missing. PostgreSQL refuses to run as root, so as root the cluster's
//! files belong to, and its server runs as, `nobody` (via `runuser`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The bootstrap superuser's name and password (the cluster lives only as long as
/// its test, on a socket in a folder only its owner can enter).
pub const ADMIN: &str = "zw_admin";
const ADMIN_PASSWORD: &str = "throwaway-admin-password";

/// A running cluster; dropping it stops it and deletes its folder.
pub struct Cluster {
    bin: PathBuf,
    folder: tempfile::TempDir,
    as_nobody: bool,
}

impl Cluster {
    /// initdb, then start the server on a socket in the cluster's folder.
    pub fn start() -> Cluster {
        let bin = bin_dir();
        let folder = tempfile::tempdir().expect("cluster folder");
        let as_nobody = is_root();
        let password_file = folder.path().join("admin-password");
        std::fs::write(&password_file, ADMIN_PASSWORD).expect("password file");
        let cluster = Cluster {
            bin,
            folder,
            as_nobody,
        };
        if as_nobody {
            let status = Command::new("chown")
                .args(["-R", "nobody"])
                .arg(cluster.folder.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown the cluster folder to nobody");
        }
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                path_str(&data),
                "-U",
                ADMIN,
                "--pwfile",
                path_str(&password_file),
                "--auth-local=scram-sha-256",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        let options = format!(
            "-k {} -c listen_addresses='' -c fsync=off -c password_encryption=scram-sha-256",
            path_str(cluster.folder.path())
        );
        cluster.run(
            "pg_ctl",
            &[
                "-D",
                path_str(&data),
                "-o",
                &options,
                "-l",
                path_str(&cluster.folder.path().join("server.log")),
                "-w",
                "start",
            ],
        );
        cluster
    }

    fn data(&self) -> PathBuf {
        self.folder.path().join("data")
    }

    /// A connection string (libpq's key=value form, each value quoted) for `user`
    /// with `password` to database `dbname`.
    pub fn url_as(&self, user: &str, password: &str, dbname: &str) -> String {
        let quoted =
            |value: &str| format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"));
        format!(
            "host={} user={} password={} dbname={}",
            quoted(path_str(self.folder.path())),
            quoted(user),
            quoted(password),
            quoted(dbname)
        )
    }

    /// The superuser's connection string to `dbname`.
    pub fn admin_url(&self, dbname: &str) -> String {
        self.url_as(ADMIN, ADMIN_PASSWORD, dbname)
    }

    /// A new empty database owned by the superuser; returns its name.
    pub fn create_database(&self, name: &str) -> String {
        let mut client = postgres::Client::connect(&self.admin_url("postgres"), postgres::NoTls)
            .expect("connect as the superuser");
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
        name.to_string()
    }

    /// The server's log so far (for a failing test's message).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.folder.path().join("server.log")).unwrap_or_default()
    }

    /// The folder holding the socket (psql's `-h`).
    pub fn socket_folder(&self) -> &Path {
        self.folder.path()
    }

    /// One of the server's programs, run as `nobody` when we are root (initdb
    /// refuses root), from the cluster's folder, which `nobody` may enter.
    fn command(&self, program: &str) -> Command {
        let binary = self.bin.join(program);
        if self.as_nobody {
            let mut command = Command::new("runuser");
            command
                .args(["-u", "nobody", "--"])
                .arg(binary)
                .current_dir(self.folder.path());
            command
        } else {
            Command::new(binary)
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let output = self
            .command(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let stopped = self
            .command("pg_ctl")
            .args(["-D", path_str(&data), "-m", "immediate", "-w", "stop"])
            .output();
        if let Err(error) = stopped {
            eprintln!("stopping the test cluster: {error}");
        }
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

/// Where initdb and pg_ctl are: `pg_config --bindir` when it has them, else the
/// newest /usr/lib/postgresql/*/bin (Debian keeps them off PATH).
fn bin_dir() -> PathBuf {
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if dir.join("initdb").is_file() {
            return dir;
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    found.sort_by_key(|bin| {
        bin.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop().expect(
        "PostgreSQL's initdb was not found (pg_config --bindir, /usr/lib/postgresql/*/bin): \
         install Debian's postgresql package, as .ci/run does",
    )
}
