//! The TLS crypto provider: rustls with `ring`, so the build needs no C toolchain for
//! aws-lc.

/// Makes `ring` the process's rustls provider, unless one is installed already.
pub(crate) fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
