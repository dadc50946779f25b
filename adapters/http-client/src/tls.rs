//! TLS of the internal HTTP link on ring, both ends, with no process-wide state: each config
//! names its crypto provider, so nothing depends on (or races to install) a global default.

use std::sync::Arc;

use anyhow::Context as _;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};

/// Both ends speak HTTP/1.1 only: the client keeps a pool of keep-alive connections.
const ALPN_HTTP1: &[u8] = b"http/1.1";

fn ring() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The listener's configuration: this tier's certificate chain and key; no client certificates
/// (on this transport the caller is identified by its credential).
pub(crate) fn server_config(cert_pem: &[u8], key_pem: &[u8]) -> anyhow::Result<Arc<ServerConfig>> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .context("reading this tier's certificate (PEM)")?;
    anyhow::ensure!(
        !chain.is_empty(),
        "this tier's certificate file holds no certificate"
    );
    // The error names the PEM problem, never the key material.
    let key =
        PrivateKeyDer::from_pem_slice(key_pem).context("reading this tier's private key (PEM)")?;
    let mut config = ServerConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()
        .context("choosing TLS versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("this tier's certificate and key do not match")?;
    config.alpn_protocols = vec![ALPN_HTTP1.to_vec()];
    Ok(Arc::new(config))
}

/// The caller's configuration: only the deployment's CA is trusted (no platform roots), and the
/// callee's certificate must name `tier` whatever host the URL names, exactly as the gRPC
/// transport checks it. A Kubernetes Service name or a loopback address in `tiers.*_url` then
/// needs no matching SAN, and a certificate of another tier (signed by the same CA) is refused.
pub(crate) fn client_config(ca_pem: &[u8], tier: &'static str) -> anyhow::Result<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        let cert = cert.context("reading the deployment CA (PEM)")?;
        roots
            .add(cert)
            .context("the deployment CA is not a usable trust anchor")?;
    }
    anyhow::ensure!(
        !roots.is_empty(),
        "the deployment CA file holds no certificate"
    );
    let provider = ring();
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .context("building the certificate verifier")?;
    let verifier = TierVerifier {
        webpki,
        tier: ServerName::try_from(tier).with_context(|| format!("tier name {tier:?}"))?,
    };
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("choosing TLS versions")?
        // "dangerous" only in name: every check is webpki's, against another subject name.
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![ALPN_HTTP1.to_vec()];
    Ok(config)
}

/// webpki's verification of the callee's chain, for the tier's name instead of the URL's host.
#[derive(Debug)]
struct TierVerifier {
    webpki: Arc<WebPkiServerVerifier>,
    tier: ServerName<'static>,
}

impl ServerCertVerifier for TierVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _url_host: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.webpki
            .verify_server_cert(end_entity, intermediates, &self.tier, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}
