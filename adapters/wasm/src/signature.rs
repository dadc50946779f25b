//! Detached ed25519 signatures over the exact bytes of a module.
//!
//! Files are one line each so that a key can be pasted into configuration:
//! `plugin.pub` holds `ed25519:<base64 public key>`, `plugin.key` holds
//! `ed25519-secret:<base64 seed>`, and `NAME.wasm.sig` holds `ed25519:<base64 signature>`.
//! Verification runs before a single byte of the module is parsed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

const PUBLIC_PREFIX: &str = "ed25519:";
const SECRET_PREFIX: &str = "ed25519-secret:";
const SIGNATURE_PREFIX: &str = "ed25519:";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("the module has no signature file")]
    Missing,
    #[error("the signature file is malformed")]
    Malformed,
    #[error("the signature does not match the module under any trusted key")]
    Invalid,
    #[error("the key is malformed: expected one line `{0}<base64>`")]
    BadKey(&'static str),
}

/// A public key trusted to sign plugins, parsed from the one-line content of a `.pub` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey(VerifyingKey);

impl TrustedKey {
    pub fn parse(line: &str) -> Result<Self, SignatureError> {
        let bytes =
            decode(line.trim(), PUBLIC_PREFIX).ok_or(SignatureError::BadKey(PUBLIC_PREFIX))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| SignatureError::BadKey(PUBLIC_PREFIX))?;
        VerifyingKey::from_bytes(&bytes)
            .map(Self)
            .map_err(|_| SignatureError::BadKey(PUBLIC_PREFIX))
    }

    /// The one-line form written to `.pub` files.
    pub fn render(&self) -> String {
        format!("{PUBLIC_PREFIX}{}", STANDARD.encode(self.0.as_bytes()))
    }
}

/// A signing key, as written by `arcana plugin keygen`.
pub struct SecretKey(SigningKey);

impl SecretKey {
    pub fn generate() -> anyhow::Result<Self> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|err| anyhow::anyhow!("no system randomness: {err}"))?;
        Ok(Self(SigningKey::from_bytes(&seed)))
    }

    pub fn parse(line: &str) -> Result<Self, SignatureError> {
        let bytes =
            decode(line.trim(), SECRET_PREFIX).ok_or(SignatureError::BadKey(SECRET_PREFIX))?;
        let seed: [u8; 32] = bytes
            .try_into()
            .map_err(|_| SignatureError::BadKey(SECRET_PREFIX))?;
        Ok(Self(SigningKey::from_bytes(&seed)))
    }

    pub fn render(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(self.0.to_bytes()))
    }

    pub fn public(&self) -> TrustedKey {
        TrustedKey(self.0.verifying_key())
    }

    /// The content of `NAME.wasm.sig` for `module`.
    pub fn sign(&self, module: &[u8]) -> String {
        let signature = self.0.sign(module);
        format!(
            "{SIGNATURE_PREFIX}{}\n",
            STANDARD.encode(signature.to_bytes())
        )
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// Checks `signature` (the content of a `.sig` file) over `module` against every trusted key.
/// `verify_strict` refuses the malleable and small-order forms that plain `verify` accepts.
pub fn verify(
    module: &[u8],
    signature: &[u8],
    trusted: &[TrustedKey],
) -> Result<(), SignatureError> {
    let text = std::str::from_utf8(signature).map_err(|_| SignatureError::Malformed)?;
    let bytes = decode(text.trim(), SIGNATURE_PREFIX).ok_or(SignatureError::Malformed)?;
    let bytes: [u8; 64] = bytes.try_into().map_err(|_| SignatureError::Malformed)?;
    let signature = Signature::from_bytes(&bytes);
    if trusted
        .iter()
        .any(|key| key.0.verify_strict(module, &signature).is_ok())
    {
        Ok(())
    } else {
        Err(SignatureError::Invalid)
    }
}

fn decode(line: &str, prefix: &str) -> Option<Vec<u8>> {
    STANDARD.decode(line.strip_prefix(prefix)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_bytes_and_its_key() {
        let key = SecretKey::generate().unwrap();
        let other = SecretKey::generate().unwrap();
        let module = b"\0asm module bytes";
        let signature = key.sign(module);

        assert_eq!(
            verify(module, signature.as_bytes(), &[key.public()]),
            Ok(())
        );
        assert_eq!(
            verify(b"\0asm module bytez", signature.as_bytes(), &[key.public()]),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            verify(module, signature.as_bytes(), &[other.public()]),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            verify(
                module,
                signature.as_bytes(),
                &[other.public(), key.public()]
            ),
            Ok(())
        );
        assert_eq!(
            verify(module, b"ed25519:not base64", &[key.public()]),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn keys_round_trip_through_their_one_line_files() {
        let key = SecretKey::generate().unwrap();
        let parsed = SecretKey::parse(&key.render()).unwrap();
        assert_eq!(parsed.public(), key.public());
        assert_eq!(
            TrustedKey::parse(&key.public().render()).unwrap(),
            key.public()
        );
        assert!(TrustedKey::parse("ssh-ed25519 AAAA").is_err());
        assert!(format!("{key:?}").contains("redacted"));
    }
}
