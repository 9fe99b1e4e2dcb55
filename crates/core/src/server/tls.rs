//! TLS to the team server. Children's records cross the council's network
//! between the server and each desk, so every TCP connection is encrypted when
//! the server offers TLS (libpq's `sslmode=prefer`, the default) and refused
//! when it does not under `sslmode=require`. The server's certificate must be
//! signed by a root the desk trusts and name the host connected to (rustls
//! checks both, as libpq's `verify-full`): the public roots, the operating
//! system's store (where a council's IT team installs its own CA on managed
//! laptops) and the certificates in the file `PGSSLROOTCERT` names, libpq's
//! variable for the same thing. A Unix socket never carries TLS (the server
//! does not offer it there); it stays on the machine.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::ServerError;

/// libpq's variable naming a file of trusted root certificates (PEM).
pub const ROOT_CERT_VARIABLE: &str = "PGSSLROOTCERT";

/// The trusted roots' file named by [`ROOT_CERT_VARIABLE`], if set.
pub fn root_file_from_environment() -> Option<PathBuf> {
    std::env::var_os(ROOT_CERT_VARIABLE)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
}

/// The connector every server connection uses: rustls with the public roots,
/// the system's and `root_file`'s. A named file that cannot be read, or holds
/// no certificate, is an error naming it (a typo must not silently leave the
/// council's CA untrusted).
pub fn connector(root_file: Option<&Path>) -> Result<MakeRustlsConnect, ServerError> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let system = rustls_native_certs::load_native_certs();
    for error in &system.errors {
        tracing::warn!("the system's certificate store: {error}");
    }
    roots.add_parsable_certificates(system.certs);
    if let Some(file) = root_file {
        let named = |detail: String| {
            ServerError::Invalid(format!("{ROOT_CERT_VARIABLE} {}: {detail}", file.display()))
        };
        let certificates = CertificateDer::pem_file_iter(file)
            .map_err(|e| named(e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| named(e.to_string()))?;
        if certificates.is_empty() {
            return Err(named("no PEM certificate in the file".to_string()));
        }
        for certificate in certificates {
            roots
                .add(certificate)
                .map_err(|e| named(format!("not a usable root certificate ({e})")))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Invalid(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}
