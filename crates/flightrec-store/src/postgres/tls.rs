//! TLS to PostgreSQL, asked for in the database URL as libpq asks for it.
//!
//! - `sslmode=require`, `verify-ca` or `verify-full`: TLS, or no
//!   connection. The server's certificate chain and its name (or IP
//!   address) are always verified, as libpq's `verify-full` does: a log
//!   that is meant to be trusted is not written over a connection to
//!   whoever answers. The CAs trusted are the system's, or only those in
//!   the PEM file `sslrootcert=FILE` names.
//! - `sslmode=disable`, or `prefer` (the default): plain TCP, for a local
//!   socket or a trusted network. libpq's `prefer` would try TLS without
//!   verifying anything; here TLS is asked for explicitly or not used, so a
//!   server with a self-made certificate (Debian's default) neither breaks
//!   the default nor passes for verified.
//!
//! The client (tokio-postgres) knows neither `sslrootcert` nor the two
//! `verify-` modes, so they are taken out of the URL here.

use crate::StoreError;
use postgres::Config;
use postgres::config::SslMode;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// How connections are made.
#[derive(Clone)]
pub enum Tls {
    Off,
    On(MakeRustlsConnect),
}

/// The client's configuration and TLS from a database URL (a
/// `postgres://` URL or libpq's `key=value` form).
pub fn parse(url: &str) -> Result<(Config, Tls), StoreError> {
    let (url, root_cert) = take_libpq_only_options(url);
    let config: Config = url
        .parse()
        .map_err(|e| StoreError::Unavailable(format!("the database URL is not understood: {e}")))?;
    let tls = match config.get_ssl_mode() {
        SslMode::Require => Tls::On(connector(root_cert.as_deref())?),
        _ => Tls::Off,
    };
    Ok((config, tls))
}

fn connector(root_cert: Option<&Path>) -> Result<MakeRustlsConnect, StoreError> {
    let roots = match root_cert {
        Some(file) => roots_from(file)?,
        None => system_roots(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Unavailable(format!("TLS is not available: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

fn roots_from(file: &Path) -> Result<RootCertStore, StoreError> {
    let unusable = |why: String| {
        StoreError::Unavailable(format!(
            "sslrootcert {}: {why}; it must hold the PEM certificates of the CAs that sign the \
             PostgreSQL server's certificate",
            file.display()
        ))
    };
    let mut roots = RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(file).map_err(|e| unusable(e.to_string()))?;
    for cert in certs {
        let cert = cert.map_err(|e| unusable(e.to_string()))?;
        roots.add(cert).map_err(|e| unusable(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(unusable("no certificate in it".into()));
    }
    Ok(roots)
}

/// The system's CAs; one that cannot be parsed is skipped, as every TLS
/// client does.
fn system_roots() -> RootCertStore {
    let found = rustls_native_certs::load_native_certs();
    for e in &found.errors {
        tracing::debug!(error = %e, "a system CA certificate could not be read");
    }
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(found.certs);
    roots
}

/// `url` without `sslrootcert` (returned, as a path) and with libpq's
/// `verify-ca`/`verify-full` as `require`, which here verifies as much.
fn take_libpq_only_options(url: &str) -> (String, Option<PathBuf>) {
    let mut root_cert = None;
    let mut keep = |key: &str, value: &str| -> Option<String> {
        match (key, value) {
            ("sslrootcert", path) => {
                root_cert = Some(PathBuf::from(path));
                None
            }
            ("sslmode", "verify-ca" | "verify-full") => Some("require".into()),
            (_, value) => Some(value.to_owned()),
        }
    };
    if let Some((base, query)) = url
        .split_once('?')
        .filter(|_| url.starts_with("postgres://") || url.starts_with("postgresql://"))
    {
        let params: Vec<String> = query
            .split('&')
            .filter_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                keep(key, &percent_decode(value)).map(|v| format!("{key}={v}"))
            })
            .collect();
        let url = match params.is_empty() {
            true => base.to_owned(),
            false => format!("{base}?{}", params.join("&")),
        };
        return (url, root_cert);
    }
    if url.contains("://") {
        return (url.to_owned(), None);
    }
    // key=value pairs separated by spaces; a quoted value with spaces (a
    // password, say) is left as it is unless it is one of these keys.
    let words: Vec<String> = url
        .split(' ')
        .filter_map(|word| match word.split_once('=') {
            Some((key @ ("sslrootcert" | "sslmode"), value)) => {
                keep(key, value.trim_matches('\'')).map(|v| format!("{key}={v}"))
            }
            _ => Some(word.to_owned()),
        })
        .collect();
    (words.join(" "), root_cert)
}

/// `%2F` and the like in a URL's query value (a path may need them).
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_only_options_are_taken_out_of_urls() {
        let (url, root) = take_libpq_only_options(
            "postgres://app@db.internal/flightrec?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=x",
        );
        assert_eq!(
            url,
            "postgres://app@db.internal/flightrec?sslmode=require&application_name=x"
        );
        assert_eq!(root, Some(PathBuf::from("/etc/ca.pem")));

        let (url, root) =
            take_libpq_only_options("postgres://app@db/flightrec?sslrootcert=/ca.pem");
        assert_eq!(url, "postgres://app@db/flightrec");
        assert_eq!(root, Some(PathBuf::from("/ca.pem")));

        let (url, root) = take_libpq_only_options(
            "host=db user=app password='a b' sslmode=verify-ca sslrootcert=/ca.pem",
        );
        assert_eq!(url, "host=db user=app password='a b' sslmode=require");
        assert_eq!(root, Some(PathBuf::from("/ca.pem")));

        let plain = "postgres://app@db/flightrec";
        assert_eq!(take_libpq_only_options(plain), (plain.to_owned(), None));
    }

    #[test]
    fn sslmode_chooses_whether_tls_is_offered() {
        for url in [
            "postgres://app@db/f",
            "postgres://app@db/f?sslmode=disable",
            "postgres://app@db/f?sslmode=prefer",
        ] {
            let (_, tls) = parse(url).unwrap();
            assert!(matches!(tls, Tls::Off), "{url}");
        }
        for mode in ["require", "verify-ca", "verify-full"] {
            let (config, tls) = parse(&format!("postgres://app@db/f?sslmode={mode}")).unwrap();
            assert!(matches!(tls, Tls::On(_)), "{mode}");
            assert_eq!(config.get_ssl_mode(), SslMode::Require, "{mode}");
        }
    }

    #[test]
    fn a_root_certificate_file_that_holds_none_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ca.pem");
        std::fs::write(&file, "not a certificate").unwrap();
        let url = format!(
            "postgres://app@db/f?sslmode=require&sslrootcert={}",
            file.display()
        );
        let err = parse(&url).err().unwrap().to_string();
        assert!(err.contains("no certificate in it"), "{err}");
        let missing = "postgres://app@db/f?sslmode=require&sslrootcert=/nonexistent/ca.pem";
        let err = parse(missing).err().unwrap().to_string();
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
    }
}
