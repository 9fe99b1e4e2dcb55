//! A throwaway PostgreSQL cluster for one test: `initdb` in a temporary folder,
//! listening only on a Unix socket in that folder, with SCRAM-SHA-256 for every
//! login, stopped and removed when dropped (a panicking test too). No test needs a
//! server it did not start. The binaries are found with `pg_config --bindir`, else
//! under /usr/lib/postgresql/*/bin; `.ci/run` installs Debian's `postgresql` when
//! they are missing. PostgreSQL refuses to run as root, so as root the cluster's
//! files belong to, and its server runs as, `nobody` (via `runuser`).
//! [`Cluster::start_on_tcp`] also listens on 127.0.0.1, with or without TLS (a
//! certificate for `localhost` signed by a throwaway CA, made with `openssl`,
//! which Debian's `postgresql` package brings with it).

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
    /// The TCP port on 127.0.0.1, when it listens there.
    port: Option<u16>,
}

/// What a cluster offers over TCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tcp {
    Plain,
    Tls,
}

impl Cluster {
    /// initdb, then start the server on a socket in the cluster's folder.
    pub fn start() -> Cluster {
        Cluster::start_listening(None)
    }

    /// [`Cluster::start`], listening on 127.0.0.1 as well, with TLS or without.
    pub fn start_on_tcp(tcp: Tcp) -> Cluster {
        Cluster::start_listening(Some(tcp))
    }

    fn start_listening(tcp: Option<Tcp>) -> Cluster {
        let bin = bin_dir();
        let folder = tempfile::tempdir().expect("cluster folder");
        let as_nobody = is_root();
        let password_file = folder.path().join("admin-password");
        std::fs::write(&password_file, ADMIN_PASSWORD).expect("password file");
        if tcp == Some(Tcp::Tls) {
            make_certificates(folder.path());
        }
        // A port free now; the server takes it a moment later.
        let port = tcp.map(|_| {
            std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|listener| listener.local_addr())
                .expect("a free port")
                .port()
        });
        let cluster = Cluster {
            bin,
            folder,
            as_nobody,
            port,
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
        let mut options = format!(
            "-k {} -c fsync=off -c password_encryption=scram-sha-256",
            path_str(cluster.folder.path())
        );
        match port {
            Some(port) => options.push_str(&format!(" -c listen_addresses=127.0.0.1 -p {port}")),
            None => options.push_str(" -c listen_addresses=''"),
        }
        if tcp == Some(Tcp::Tls) {
            options.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                path_str(&cluster.folder.path().join("server.crt")),
                path_str(&cluster.folder.path().join("server.key"))
            ));
        }
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

    /// The superuser's connection string to `dbname` over TCP to `localhost`
    /// (the name the certificate gives), with libpq's `sslmode` when given.
    pub fn tcp_admin_url(&self, dbname: &str, sslmode: Option<&str>) -> String {
        let port = self.port.expect("a cluster started on TCP");
        let mode = sslmode.map_or(String::new(), |mode| format!(" sslmode={mode}"));
        format!(
            "host=localhost port={port} user={ADMIN} password='{ADMIN_PASSWORD}' dbname={dbname}{mode}"
        )
    }

    /// The throwaway CA's certificate (PEM) that signed the server's.
    pub fn ca_certificate(&self) -> PathBuf {
        self.folder.path().join("ca.crt")
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

/// A CA, and a certificate for `localhost` (and 127.0.0.1) it signed, with the
/// server's key readable by its owner only (PostgreSQL refuses a looser one), in
/// `folder`, by the `openssl` command.
fn make_certificates(folder: &Path) {
    std::fs::write(
        folder.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .expect("extensions file");
    let steps: [&[&str]; 3] = [
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=Zonewise test council CA",
        ],
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    ];
    for args in steps {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(folder)
            .output()
            .expect("openssl (Debian's postgresql package brings it; .ci/run installs it)");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        folder.join("server.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .expect("key permissions");
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
