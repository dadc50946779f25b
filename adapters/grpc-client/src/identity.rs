//! Which tier is calling: the DNS names of its client certificate, which rustls has already
//! verified against the deployment's CA. A tier's certificate names the tier
//! (`controller`, `service`, `repository`), which is what `arcana tls init` issues and what an
//! operator's own certificates must carry.

use std::sync::{Arc, PoisonError, RwLock};

use rustls_pki_types::{CertificateDer, ServerName};
use webpki::EndEntityCert;

/// How many distinct admitted leaf certificates are remembered: a deployment has a handful of
/// caller replicas, usually sharing one certificate; past this the memo starts over.
const REMEMBERED: usize = 16;

/// Admits calls from one tier. Parsing the leaf certificate on every call costs more than the
/// rest of the check, and a connection presents the same leaf for its whole life, so leaves
/// already admitted are remembered by their exact bytes: equal bytes are the same certificate,
/// which rustls verified on this connection's handshake, so its names are the ones checked.
pub(crate) struct Admission {
    tier: &'static str,
    admitted: RwLock<Vec<CertificateDer<'static>>>,
}

impl Admission {
    pub(crate) fn new(tier: &'static str) -> Self {
        Self {
            tier,
            admitted: RwLock::new(Vec::new()),
        }
    }

    /// The tier this admission lets in.
    pub(crate) fn tier(&self) -> &'static str {
        self.tier
    }

    /// Whether the verified peer certificate chain names the tier.
    pub(crate) fn admits(&self, certs: Option<&Arc<Vec<CertificateDer<'static>>>>) -> bool {
        let Some(leaf) = certs.and_then(|chain| chain.first()) else {
            return false;
        };
        let known = |admitted: &[CertificateDer<'static>]| admitted.iter().any(|c| c == leaf);
        if known(&self.admitted.read().unwrap_or_else(PoisonError::into_inner)) {
            return true;
        }
        if !names(leaf, self.tier) {
            return false;
        }
        let mut admitted = self
            .admitted
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if !known(&admitted) {
            if admitted.len() == REMEMBERED {
                admitted.clear();
            }
            admitted.push(leaf.clone().into_owned());
        }
        true
    }
}

/// Whether `leaf` is valid for the DNS name `tier`.
fn names(leaf: &CertificateDer<'_>, tier: &str) -> bool {
    let (Ok(cert), Ok(name)) = (EndEntityCert::try_from(leaf), ServerName::try_from(tier)) else {
        return false;
    };
    cert.verify_is_valid_for_subject_name(&name).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(names: &[&str]) -> Arc<Vec<CertificateDer<'static>>> {
        let names = names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(names)
            .expect("params")
            .self_signed(&key)
            .expect("certificate");
        Arc::new(vec![cert.der().clone()])
    }

    #[test]
    fn a_leaf_naming_the_tier_is_admitted_again_and_others_never() {
        let admission = Admission::new("controller");
        let controller = chain(&["controller", "localhost"]);
        let repository = chain(&["repository"]);
        assert!(admission.admits(Some(&controller)));
        assert!(admission.admits(Some(&controller)), "remembered");
        assert!(!admission.admits(Some(&repository)));
        assert!(
            !admission.admits(Some(&repository)),
            "a refusal is never remembered"
        );
        assert!(!admission.admits(None), "no client certificate");
        assert!(!admission.admits(Some(&Arc::new(Vec::new()))));
        assert_eq!(admission.admitted.read().unwrap().len(), 1);
    }

    #[test]
    fn the_memo_stays_bounded_and_keeps_admitting() {
        let admission = Admission::new("service");
        let leaves = (0..REMEMBERED + 3)
            .map(|_| chain(&["service"]))
            .collect::<Vec<_>>();
        for leaf in &leaves {
            assert!(admission.admits(Some(leaf)));
        }
        assert!(admission.admitted.read().unwrap().len() <= REMEMBERED);
        assert!(leaves.iter().all(|leaf| admission.admits(Some(leaf))));
    }
}
