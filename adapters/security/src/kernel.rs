//! Argon2 computations on memory that each hashing thread allocates once and reuses.
//!
//! The crate's convenience calls allocate the whole memory cost (19 MiB by default) for every
//! hash and free it afterwards; the allocator keeps such freed blocks around per thread, so a
//! login storm grew resident memory to hundreds of MiB. Reusing one buffer per hashing thread
//! bounds memory at `threads × memory cost` and saves the page faults of fresh memory.

use std::cell::RefCell;

use argon2::password_hash::{self, phc};
use argon2::{Algorithm, Argon2, Block, Params, Version};

const SALT_LEN: usize = 16;

thread_local! {
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs Argon2 with this thread's buffer, grown to `params` if needed. A buffer only grows, which
/// is fine because stored hashes carry the configured parameters or older, cheaper ones.
fn compute(
    argon: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> argon2::Result<()> {
    MEMORY.with_borrow_mut(|memory| {
        let blocks = params.block_count();
        if memory.len() < blocks {
            memory.resize(blocks, Block::new());
        }
        argon.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
    })
}

/// A fresh Argon2id hash of `password` with a random salt, as a PHC structure.
pub(crate) fn hash(params: &Params, password: &[u8]) -> password_hash::Result<phc::PasswordHash> {
    let mut salt = [0_u8; SALT_LEN];
    getrandom::fill(&mut salt).map_err(|_| password_hash::Error::RngFailure)?;
    let mut out = vec![0_u8; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    compute(&argon, params, password, &salt, &mut out)?;
    Ok(phc::PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: phc::ParamsString::try_from(params)?,
        salt: Some(phc::Salt::new(&salt)?),
        hash: Some(phc::Output::new(&out)?),
    })
}

/// Whether `password` produces `stored`, computed with the stored algorithm, version, parameters
/// and salt. The digest comparison is constant-time (`phc::Output`'s equality).
pub(crate) fn verify(stored: &phc::PasswordHash, password: &[u8]) -> password_hash::Result<bool> {
    let algorithm = Algorithm::try_from(stored.algorithm.as_str())?;
    let version = stored
        .version
        .map(Version::try_from)
        .transpose()?
        .unwrap_or_default();
    let (Some(salt), Some(expected)) = (&stored.salt, &stored.hash) else {
        return Err(password_hash::Error::EncodingInvalid);
    };
    // Carries the stored digest's length as the output length.
    let params = Params::try_from(stored)?;
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0_u8; expected.len()];
    compute(&argon, &params, password, salt.as_ref(), &mut out)?;
    Ok(phc::Output::new(&out)? == *expected)
}
