//! Argon2id password hashing: PHC strings, rehash detection and equal cost for unknown accounts,
//! run on the bounded blocking pool so that a login storm cannot stall the reactor.

use std::fmt;
use std::num::NonZeroUsize;

use anyhow::Context as _;
use arcana_domain::{Password, PasswordHash};
use arcana_ports::security::{HashError, PasswordHasher, Verification};
use argon2::password_hash::phc;
use argon2::{ARGON2ID_IDENT, Algorithm, Params, Version};
use async_trait::async_trait;

use crate::kernel;
use crate::pool::BlockingPool;

/// Argon2 cost parameters. The default is OWASP's recommendation for Argon2id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory per hash in KiB; what makes guessing expensive on GPUs, and what each concurrent
    /// hash holds while it runs.
    pub memory_kib: u32,
    /// Passes over that memory; raises the CPU cost when memory cannot grow.
    pub iterations: u32,
    /// Lanes per hash. Part of the hash itself: changing it changes every digest.
    pub parallelism: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// How [`Argon2PasswordHasher`] spends the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HasherConfig {
    /// Parameters of new hashes; stored hashes made with others verify and report
    /// `needs_rehash`.
    pub params: Argon2Params,
    /// Hashes running at once. Each takes a core and `memory_kib`, so more than the number of
    /// cores only adds latency and memory.
    pub max_concurrent: usize,
    /// Callers allowed to queue for a slot. Beyond that a caller gets `Saturated` at once: a fast
    /// 503 is better than a queue whose tail times out anyway.
    pub max_waiting: usize,
}

impl Default for HasherConfig {
    fn default() -> Self {
        Self {
            params: Argon2Params::default(),
            max_concurrent: std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
            max_waiting: 256,
        }
    }
}

/// Salt and digest of the dummy hash (B64, no padding): arbitrary bytes, 16 and 32 long.
const DUMMY_SALT: &str = "YXJjYW5hLWR1bW15c2FsdA";
const DUMMY_DIGEST: &str = "ZHVtbXktZGlnZXN0LW1hdGNoaW5nLW5vdGhpbmchISE";

/// [`PasswordHasher`] producing Argon2id PHC strings.
pub struct Argon2PasswordHasher {
    params: Params,
    /// Where hashing runs: off the reactor, bounded, shedding beyond `max_waiting`.
    pool: BlockingPool,
    /// Verified against when the account does not exist, so that an unknown user costs what a
    /// wrong password costs. Made with the configured parameters for the same reason.
    dummy: phc::PasswordHash,
}

impl Argon2PasswordHasher {
    /// Validates the configuration.
    pub fn new(config: HasherConfig) -> anyhow::Result<Self> {
        anyhow::ensure!(
            config.max_concurrent > 0,
            "max_concurrent must be at least 1"
        );
        let Argon2Params {
            memory_kib,
            iterations,
            parallelism,
        } = config.params;
        let params = Params::new(memory_kib, iterations, parallelism, None)
            .context("invalid Argon2 parameters")?;
        // Verifying costs the same against any well-formed hash with these parameters, so the
        // dummy is assembled rather than computed: start-up stays instant (readiness in
        // milliseconds) and no real password's hash is involved.
        let dummy_phc = format!(
            "$argon2id$v=19$m={memory_kib},t={iterations},p={parallelism}${DUMMY_SALT}${DUMMY_DIGEST}"
        );
        let dummy =
            phc::PasswordHash::new(&dummy_phc).context("assembling the dummy password hash")?;
        Ok(Self {
            params,
            pool: BlockingPool::new(config.max_concurrent, config.max_waiting)?,
            dummy,
        })
    }

    fn needs_rehash(&self, hash: &phc::PasswordHash) -> bool {
        if hash.algorithm != ARGON2ID_IDENT || hash.version != Some(Version::V0x13.into()) {
            return true;
        }
        // Unreadable parameters cannot be the configured ones; the verification will fail anyway.
        Params::try_from(hash).map_or(true, |stored| {
            stored.m_cost() != self.params.m_cost()
                || stored.t_cost() != self.params.t_cost()
                || stored.p_cost() != self.params.p_cost()
        })
    }

    /// Checks `password` against `hash` on the pool; `Ok(false)` is a plain mismatch.
    async fn check(&self, password: &Password, hash: phc::PasswordHash) -> Result<bool, HashError> {
        let plaintext = password.clone();
        self.pool
            .run(move || kernel::verify(&hash, plaintext.expose().as_bytes()))
            .await?
            .map_err(|error| internal(error, "verifying a password hash"))
    }
}

impl fmt::Debug for Argon2PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Argon2PasswordHasher")
            .field("params", &self.params)
            .field("pool", &self.pool)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl PasswordHasher for Argon2PasswordHasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        let plaintext = password.clone();
        let params = self.params.clone();
        let phc = self
            .pool
            .run(move || kernel::hash(&params, plaintext.expose().as_bytes()))
            .await?
            .map_err(|error| internal(error, "hashing a password"))?;
        PasswordHash::parse(&phc.to_string())
            .map_err(|error| internal(error, "wrapping a fresh password hash"))
    }

    async fn verify<'a>(
        &self,
        password: &Password,
        hash: Option<&'a PasswordHash>,
    ) -> Result<Verification, HashError> {
        let Some(stored) = hash else {
            self.check(password, self.dummy.clone()).await?;
            return Ok(Verification::Mismatch);
        };
        let parsed = parse_stored(stored)?;
        let needs_rehash = self.needs_rehash(&parsed);
        if self.check(password, parsed).await? {
            Ok(Verification::Match { needs_rehash })
        } else {
            Ok(Verification::Mismatch)
        }
    }
}

/// Parses a stored hash and refuses what Argon2 cannot check: a string without salt or digest
/// would otherwise read as a plain mismatch and hide the corrupted row.
fn parse_stored(stored: &PasswordHash) -> Result<phc::PasswordHash, HashError> {
    let parsed = phc::PasswordHash::new(stored.as_str())
        .map_err(|error| internal(error, "parsing a stored password hash"))?;
    Algorithm::new(parsed.algorithm.as_str())
        .map_err(|error| internal(error, "reading a stored password hash's algorithm"))?;
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err(HashError::Internal(anyhow::anyhow!(
            "the stored password hash has no salt or no digest"
        )));
    }
    Ok(parsed)
}

fn internal(
    error: impl std::error::Error + Send + Sync + 'static,
    context: &'static str,
) -> HashError {
    HashError::Internal(anyhow::Error::new(error).context(context))
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

    use super::*;
    use argon2::Argon2;

    /// Hashes with the argon2 crate's own allocating implementation, so that the reusable-memory
    /// kernel is checked against the reference in both directions.
    fn argon2id(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    #[tokio::test]
    async fn hashes_interoperate_with_the_reference_implementation() {
        let hasher = hasher(256);
        let ours = hasher
            .hash(&password("correct horse battery"))
            .await
            .unwrap();
        let parsed = phc::PasswordHash::new(ours.as_str()).unwrap();
        let reference = argon2id(Params::new(256, 1, 1, None).unwrap());
        assert!(
            reference
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        assert!(
            reference
                .verify_password(b"wrong horse battery", &parsed)
                .is_err()
        );
    }

    fn config(memory_kib: u32, max_concurrent: usize, max_waiting: usize) -> HasherConfig {
        HasherConfig {
            params: Argon2Params {
                memory_kib,
                iterations: 1,
                parallelism: 1,
            },
            max_concurrent,
            max_waiting,
        }
    }

    fn hasher(memory_kib: u32) -> Argon2PasswordHasher {
        Argon2PasswordHasher::new(config(memory_kib, 2, 16)).unwrap()
    }

    fn password(raw: &str) -> Password {
        Password::candidate(raw)
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_rejects_others() {
        let hasher = hasher(256);
        let hash = hasher
            .hash(&password("correct horse battery"))
            .await
            .unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=256,t=1,p=1$"));

        let right = hasher
            .verify(&password("correct horse battery"), Some(&hash))
            .await
            .unwrap();
        assert_eq!(
            right,
            Verification::Match {
                needs_rehash: false
            }
        );
        let wrong = hasher
            .verify(&password("wrong horse battery"), Some(&hash))
            .await
            .unwrap();
        assert_eq!(wrong, Verification::Mismatch);
    }

    #[tokio::test]
    async fn a_hash_made_with_other_parameters_needs_rehash() {
        let old = hasher(128)
            .hash(&password("correct horse battery"))
            .await
            .unwrap();
        let verdict = hasher(256)
            .verify(&password("correct horse battery"), Some(&old))
            .await
            .unwrap();
        assert_eq!(verdict, Verification::Match { needs_rehash: true });
    }

    #[tokio::test]
    async fn an_argon2i_hash_verifies_but_needs_rehash() {
        let params = Params::new(256, 1, 1, None).unwrap();
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, params)
            .hash_password(b"correct horse battery")
            .unwrap();
        let stored = PasswordHash::parse(&argon2i.to_string()).unwrap();
        let verdict = hasher(256)
            .verify(&password("correct horse battery"), Some(&stored))
            .await
            .unwrap();
        assert_eq!(verdict, Verification::Match { needs_rehash: true });
    }

    #[tokio::test]
    async fn an_unknown_account_is_a_mismatch() {
        let verdict = hasher(256)
            .verify(&password("anything at all"), None)
            .await
            .unwrap();
        assert_eq!(verdict, Verification::Mismatch);
    }

    #[tokio::test]
    async fn an_unparseable_stored_hash_is_an_internal_error() {
        let hasher = hasher(256);
        for raw in [
            "$not-a-phc-string",
            "$argon2id$v=19$m=256,t=1,p=1",
            "$$",
            "$pbkdf2$i=1$c2FsdHNhbHQ$aGFzaA",
        ] {
            let stored = PasswordHash::parse(raw).unwrap();
            let outcome = hasher
                .verify(&password("anything at all"), Some(&stored))
                .await;
            assert!(
                matches!(outcome, Err(HashError::Internal(_))),
                "{raw} was accepted"
            );
        }
    }

    #[tokio::test]
    async fn a_caller_is_shed_when_every_slot_is_busy_and_nobody_may_wait() {
        let hasher = Argon2PasswordHasher::new(config(256, 1, 0)).unwrap();
        let busy = hasher.pool.occupy();

        let outcome = hasher.hash(&password("correct horse battery")).await;
        assert!(matches!(outcome, Err(HashError::Saturated)));
        assert_eq!(hasher.pool.waiting(), 0);

        drop(busy);
        assert!(
            hasher
                .hash(&password("correct horse battery"))
                .await
                .is_ok()
        );
    }

    #[test]
    fn impossible_configurations_are_refused() {
        assert!(Argon2PasswordHasher::new(config(256, 0, 1)).is_err());
        assert!(Argon2PasswordHasher::new(config(1, 1, 1)).is_err());
    }

    #[test]
    fn the_default_parameters_are_owasps() {
        let params = HasherConfig::default().params;
        assert_eq!(
            (params.memory_kib, params.iterations, params.parallelism),
            (19_456, 2, 1)
        );
    }
}
