//! Opaque refresh tokens: 256 random bits for the client, their SHA-256 digest for storage.

use arcana_domain::session::TokenHash;
use arcana_ports::security::{RefreshSecret, RefreshTokens};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

const SECRET_BYTES: usize = 32;

/// [`RefreshTokens`] backed by the operating system's CSPRNG.
///
/// The digest is a plain SHA-256, not a password hash: with 256 bits of entropy there is nothing
/// to brute-force, and a fast, unsalted digest lets storage look a token up by its hash.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomRefreshTokens;

impl RefreshTokens for RandomRefreshTokens {
    fn generate(&self) -> RefreshSecret {
        let mut bytes = [0_u8; SECRET_BYTES];
        // Without the OS's randomness no secret can be made safely, and there is no fallback
        // worth having.
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        let secret = URL_SAFE_NO_PAD.encode(bytes);
        let hash = digest(&secret);
        RefreshSecret { secret, hash }
    }

    fn digest(&self, secret: &str) -> TokenHash {
        digest(secret)
    }
}

fn digest(secret: &str) -> TokenHash {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(64);
    for byte in Sha256::digest(secret.as_bytes()) {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    TokenHash::parse(&hex).expect("a lower-case hex SHA-256 digest is a TokenHash")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_the_hex_sha256_of_the_secret() {
        let hash = RandomRefreshTokens.digest("abc");
        assert_eq!(
            hash.as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(RandomRefreshTokens.digest("abc"), hash);
    }

    #[test]
    fn generated_secrets_are_distinct_and_stored_as_their_digest() {
        let first = RandomRefreshTokens.generate();
        let second = RandomRefreshTokens.generate();
        assert_ne!(first.secret, second.secret);
        assert_eq!(first.secret.len(), 43, "32 bytes in unpadded base64");
        assert!(URL_SAFE_NO_PAD.decode(&first.secret).is_ok());
        assert_eq!(first.hash, RandomRefreshTokens.digest(&first.secret));
        assert_eq!(second.hash, RandomRefreshTokens.digest(&second.secret));
    }
}
