//! The service credential of one internal HTTP link: the shared secret the calling tier
//! presents on every request (`tiers.service_credential`, `tiers.repository_credential`).

use http::HeaderMap;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// The header carrying the link's credential. Not `authorization`: that one carries the end
/// user's bearer token to the service tier, which verifies it again; the two identities (which
/// tier calls, for which user) travel side by side.
pub const CREDENTIAL_HEADER: &str = "x-arcana-service-credential";

/// The credential a listener expects, kept only as its SHA-256 digest.
///
/// Comparing digests of equal length with `subtle` takes the same time whatever the presented
/// value, its length included, so response timing tells a prober nothing about the secret.
pub(crate) struct ExpectedCredential {
    digest: [u8; 32],
}

impl ExpectedCredential {
    /// # Errors
    /// The credential is empty: the listener would admit anyone presenting an empty header.
    pub(crate) fn new(secret: &str) -> anyhow::Result<Self> {
        anyhow::ensure!(
            !secret.is_empty(),
            "the internal listener's service credential is empty"
        );
        Ok(Self {
            digest: Sha256::digest(secret.as_bytes()).into(),
        })
    }

    /// Whether `headers` carry exactly this credential.
    pub(crate) fn admits(&self, headers: &HeaderMap) -> bool {
        let Some(presented) = headers.get(CREDENTIAL_HEADER) else {
            return false;
        };
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        digest.ct_eq(&self.digest).into()
    }
}

impl std::fmt::Debug for ExpectedCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExpectedCredential(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(value: Option<&str>) -> HeaderMap {
        let mut map = HeaderMap::new();
        if let Some(value) = value {
            map.insert(CREDENTIAL_HEADER, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn only_the_exact_credential_is_admitted() {
        let expected = ExpectedCredential::new("s3cret-link").unwrap();
        assert!(expected.admits(&headers(Some("s3cret-link"))));
        assert!(!expected.admits(&headers(Some("s3cret-lin"))));
        assert!(!expected.admits(&headers(Some("s3cret-link "))));
        assert!(!expected.admits(&headers(Some(""))));
        assert!(!expected.admits(&headers(None)));
    }

    #[test]
    fn an_empty_credential_is_refused_at_start_up() {
        assert!(ExpectedCredential::new("").is_err());
    }

    #[test]
    fn debug_output_never_shows_the_credential() {
        let expected = ExpectedCredential::new("s3cret-link").unwrap();
        assert!(!format!("{expected:?}").contains("s3cret"));
    }
}
