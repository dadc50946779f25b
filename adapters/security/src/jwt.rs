//! HS256 JWT access tokens: signing the application's claims and checking every one of them on
//! the way back, with expiry judged against the caller's clock.

use std::borrow::Cow;
use std::fmt;

use anyhow::Context as _;
use arcana_domain::{Role, SessionId, UserId};
use arcana_ports::security::{AccessClaims, TokenCodec, TokenError};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The `typ` claim of access tokens, so that no other kind of token signed with the same key can
/// pass for one.
const ACCESS_TYPE: &str = "access";

/// HMAC keys shorter than the hash output weaken HS256 (RFC 7518 §3.2).
const MIN_SECRET_BYTES: usize = 32;

/// What [`JwtTokenCodec`] signs with and stamps into every token.
#[derive(Clone)]
pub struct JwtConfig {
    /// The HS256 key, at least 32 bytes. Redacted from `Debug`.
    pub secret: Vec<u8>,
    /// The `kid` header, so that a later key can be introduced beside this one.
    pub key_id: String,
    /// The `iss` claim issued and required.
    pub issuer: String,
    /// The `aud` claim issued and required; tokens meant for another service are refused.
    pub audience: String,
}

impl fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtConfig")
            .field("secret", &"<redacted>")
            .field("key_id", &self.key_id)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

/// [`TokenCodec`] for HS256 JWTs with a `kid` header.
pub struct JwtTokenCodec {
    key_id: String,
    issuer: String,
    audience: String,
    /// Built once: the header and the validation rules are the same for every token.
    header: Header,
    validation: Validation,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl JwtTokenCodec {
    /// Refuses a secret shorter than 32 bytes and empty identifiers.
    pub fn new(config: JwtConfig) -> anyhow::Result<Self> {
        anyhow::ensure!(
            config.secret.len() >= MIN_SECRET_BYTES,
            "the JWT secret must be at least {MIN_SECRET_BYTES} bytes"
        );
        anyhow::ensure!(
            !config.key_id.is_empty(),
            "the JWT key id must not be empty"
        );
        anyhow::ensure!(
            !config.issuer.is_empty(),
            "the JWT issuer must not be empty"
        );
        anyhow::ensure!(
            !config.audience.is_empty(),
            "the JWT audience must not be empty"
        );

        // jsonwebtoken resolves its crypto backend once per process and panics at first use if
        // it cannot tell which one to take (both backends enabled by feature unification).
        // Installing ours up front removes that guess; an error only means one is already set.
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();

        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(config.key_id.clone());

        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked against the `now` passed to `verify`, so that the application's
        // clock (and a test's) decides, not the system clock inside the library.
        validation.validate_exp = false;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);

        Ok(Self {
            encoding: EncodingKey::from_secret(&config.secret),
            decoding: DecodingKey::from_secret(&config.secret),
            key_id: config.key_id,
            issuer: config.issuer,
            audience: config.audience,
            header,
            validation,
        })
    }
}

impl fmt::Debug for JwtTokenCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtTokenCodec")
            .field("key_id", &self.key_id)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

/// The token payload as it travels. Borrowed when issuing; owned when verifying.
#[derive(Serialize, Deserialize)]
struct WireClaims<'a> {
    sub: Cow<'a, str>,
    sid: Cow<'a, str>,
    role: Cow<'a, str>,
    jti: Cow<'a, str>,
    iat: i64,
    exp: i64,
    iss: Cow<'a, str>,
    aud: Cow<'a, str>,
    typ: Cow<'a, str>,
}

impl TokenCodec for JwtTokenCodec {
    fn issue(&self, claims: &AccessClaims) -> Result<String, anyhow::Error> {
        let wire = WireClaims {
            sub: Cow::Owned(claims.user_id.to_string()),
            sid: Cow::Owned(claims.session_id.to_string()),
            role: Cow::Borrowed(claims.role.as_str()),
            jti: Cow::Borrowed(&claims.token_id),
            iat: claims.issued_at.timestamp(),
            exp: claims.expires_at.timestamp(),
            iss: Cow::Borrowed(&self.issuer),
            aud: Cow::Borrowed(&self.audience),
            typ: Cow::Borrowed(ACCESS_TYPE),
        };
        jsonwebtoken::encode(&self.header, &wire, &self.encoding).context("signing an access token")
    }

    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, TokenError> {
        // Checks the signature, `alg` (HS256 only), `iss` and `aud`.
        let data =
            jsonwebtoken::decode::<WireClaims<'static>>(token, &self.decoding, &self.validation)
                .map_err(|_| TokenError::Invalid)?;
        if data.header.kid.as_deref() != Some(self.key_id.as_str()) {
            return Err(TokenError::Invalid);
        }
        let wire = data.claims;
        // The library checked `iss` and `aud` already; repeating it is free and keeps the whole
        // contract readable in one place.
        if wire.typ != ACCESS_TYPE || wire.iss != self.issuer || wire.aud != self.audience {
            return Err(TokenError::Invalid);
        }
        let claims = AccessClaims {
            user_id: UserId::parse(&wire.sub).map_err(|_| TokenError::Invalid)?,
            session_id: SessionId::parse(&wire.sid).map_err(|_| TokenError::Invalid)?,
            role: Role::parse(&wire.role).map_err(|_| TokenError::Invalid)?,
            token_id: wire.jti.into_owned(),
            issued_at: DateTime::from_timestamp(wire.iat, 0).ok_or(TokenError::Invalid)?,
            expires_at: DateTime::from_timestamp(wire.exp, 0).ok_or(TokenError::Invalid)?,
        };
        // Expired only for a token that is otherwise sound: clients react by refreshing, which a
        // forged token must not invite.
        if now >= claims.expires_at {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn config() -> JwtConfig {
        JwtConfig {
            secret: SECRET.to_vec(),
            key_id: "k1".into(),
            issuer: "arcana".into(),
            audience: "arcana-api".into(),
        }
    }

    fn codec(config: JwtConfig) -> JwtTokenCodec {
        JwtTokenCodec::new(config).unwrap()
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    fn claims() -> AccessClaims {
        AccessClaims {
            user_id: UserId::generate(),
            session_id: SessionId::generate(),
            role: Role::Moderator,
            token_id: "jti-1".into(),
            issued_at: at(1_700_000_000),
            expires_at: at(1_700_000_900),
        }
    }

    fn hand_signed(typ: &str, algorithm: Algorithm) -> String {
        let claims = claims();
        let wire = WireClaims {
            sub: claims.user_id.to_string().into(),
            sid: claims.session_id.to_string().into(),
            role: "user".into(),
            jti: "jti-2".into(),
            iat: 1_700_000_000,
            exp: 1_700_000_900,
            iss: "arcana".into(),
            aud: "arcana-api".into(),
            typ: typ.into(),
        };
        let mut header = Header::new(algorithm);
        header.kid = Some("k1".into());
        jsonwebtoken::encode(&header, &wire, &EncodingKey::from_secret(SECRET)).unwrap()
    }

    #[test]
    fn an_issued_token_verifies_to_the_same_claims() {
        let codec = codec(config());
        let claims = claims();
        let token = codec.issue(&claims).unwrap();
        assert_eq!(codec.verify(&token, at(1_700_000_899)).unwrap(), claims);
    }

    #[test]
    fn a_tampered_signature_is_invalid() {
        let codec = codec(config());
        let token = codec.issue(&claims()).unwrap();
        let signature_start = token.rfind('.').unwrap() + 1;
        let mut tampered = token.into_bytes();
        tampered[signature_start] = if tampered[signature_start] == b'A' {
            b'B'
        } else {
            b'A'
        };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(
            codec.verify(&tampered, at(1_700_000_000)),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn a_token_for_another_audience_issuer_or_key_is_invalid() {
        let verifier = codec(config());
        let others = [
            JwtConfig {
                audience: "elsewhere".into(),
                ..config()
            },
            JwtConfig {
                issuer: "someone-else".into(),
                ..config()
            },
            JwtConfig {
                key_id: "k2".into(),
                ..config()
            },
        ];
        for other in others {
            let token = codec(other).issue(&claims()).unwrap();
            assert_eq!(
                verifier.verify(&token, at(1_700_000_000)),
                Err(TokenError::Invalid)
            );
        }
    }

    #[test]
    fn a_token_signed_with_another_secret_is_invalid() {
        let other = JwtConfig {
            secret: b"another secret of thirty-two bytes!".to_vec(),
            ..config()
        };
        let token = codec(other).issue(&claims()).unwrap();
        assert_eq!(
            codec(config()).verify(&token, at(1_700_000_000)),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn a_token_of_another_type_or_algorithm_is_invalid() {
        let codec = codec(config());
        assert!(
            codec
                .verify(&hand_signed("access", Algorithm::HS256), at(1_700_000_000))
                .is_ok()
        );
        let refresh = hand_signed("refresh", Algorithm::HS256);
        assert_eq!(
            codec.verify(&refresh, at(1_700_000_000)),
            Err(TokenError::Invalid)
        );
        let hs384 = hand_signed("access", Algorithm::HS384);
        assert_eq!(
            codec.verify(&hs384, at(1_700_000_000)),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn a_token_is_expired_from_its_expiry_instant_on() {
        let codec = codec(config());
        let token = codec.issue(&claims()).unwrap();
        assert_eq!(
            codec.verify(&token, at(1_700_000_900)),
            Err(TokenError::Expired)
        );
        assert_eq!(
            codec.verify(&token, at(1_800_000_000)),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn garbage_is_invalid() {
        let codec = codec(config());
        for token in ["", "a.b.c", "not a token"] {
            assert_eq!(
                codec.verify(token, at(1_700_000_000)),
                Err(TokenError::Invalid)
            );
        }
    }

    #[test]
    fn a_secret_shorter_than_32_bytes_is_refused() {
        let short = JwtConfig {
            secret: SECRET[..31].to_vec(),
            ..config()
        };
        assert!(JwtTokenCodec::new(short).is_err());
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let config = config();
        let secret = String::from_utf8(SECRET.to_vec()).unwrap();
        assert!(!format!("{config:?}").contains(&secret));
        assert!(!format!("{:?}", codec(config)).contains(&secret));
    }
}
