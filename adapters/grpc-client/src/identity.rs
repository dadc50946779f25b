//! Which tier is calling: the DNS names of its client certificate, which rustls has already
//! verified against the deployment's CA. A tier's certificate names the tier
//! (`controller`, `service`, `repository`), which is what `arcana tls init` issues and what an
//! operator's own certificates must carry.

use std::sync::Arc;

use rustls_pki_types::{CertificateDer, ServerName};
use webpki::EndEntityCert;

/// Whether the verified peer certificate chain names `tier`.
pub(crate) fn is_tier(certs: Option<&Arc<Vec<CertificateDer<'static>>>>, tier: &str) -> bool {
    let Some(leaf) = certs.and_then(|chain| chain.first()) else {
        return false;
    };
    let (Ok(cert), Ok(name)) = (EndEntityCert::try_from(leaf), ServerName::try_from(tier)) else {
        return false;
    };
    cert.verify_is_valid_for_subject_name(&name).is_ok()
}
