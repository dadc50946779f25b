//! Cache-aside `UserRepository`: lookups by id, username and email served from a `Cache`.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use arcana_domain::{Email, User, UserId, Username};
use arcana_ports::StoreError;
use arcana_ports::cache::{Cache, Lookup};
use arcana_ports::users::{UserQuery, UserRepository};
use async_trait::async_trait;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::MEMO_ENTRIES;
use crate::codec::{decode_user, encode_user};
use crate::memo::Memo;

/// Caches each user once, under its id; usernames and emails map to the id only. An index
/// entry is trusted only if the user it leads to still has that name, so a rename needs no
/// invalidation of the old name (which the decorator could not know) and can never make a name
/// resolve to the wrong account.
pub struct CachedUserRepository {
    inner: Arc<dyn UserRepository>,
    cache: Arc<dyn Cache>,
    ttl: Duration,
    decoded: Memo<User>,
}

impl CachedUserRepository {
    pub fn new(inner: Arc<dyn UserRepository>, cache: Arc<dyn Cache>, ttl: Duration) -> Self {
        Self {
            inner,
            cache,
            ttl,
            decoded: Memo::new(MEMO_ENTRIES),
        }
    }

    async fn forget(&self, id: UserId) {
        if let Err(err) = self.cache.invalidate(&user_key(id)).await {
            tracing::warn!(error = %err, user = %id, "cache invalidation failed; the cache retries it");
        }
    }

    /// A name lookup: through the index to the id, then the record.
    async fn find_by_name(
        &self,
        index_key: String,
        matches: impl Fn(&User) -> bool + Send + Sync,
        load: impl Future<Output = Result<Option<User>, StoreError>> + Send,
    ) -> Result<Option<User>, StoreError> {
        let ticket = match self.cache.get(&index_key).await {
            Ok(Lookup::Hit(bytes)) => {
                if let Ok(id) = Uuid::from_slice(&bytes)
                    && let Some(user) = self.find_by_id(UserId::from_uuid(id)).await?
                    && matches(&user)
                {
                    return Ok(Some(user));
                }
                // Stale (renamed account) or unreadable: the store decides, and refills.
                self.cache.invalidate(&index_key).await.ok();
                None
            }
            Ok(Lookup::Miss(ticket)) => Some(ticket),
            Err(_) => None,
        };
        let user = load.await?;
        if let (Some(ticket), Some(user)) = (ticket, &user) {
            let id = user.id();
            let _ = self
                .cache
                .fill(&index_key, id.as_uuid().as_bytes(), self.ttl, ticket)
                .await;
        }
        Ok(user)
    }
}

fn user_key(id: UserId) -> String {
    format!("user:{id}")
}

/// The index key of an email: its SHA-256, never the address. Keys surface where values do
/// not (key listings, `MONITOR`, slow logs, the cache metrics' key kinds), and an address is
/// personal data. A keyed hash would add nothing: the record behind the index holds the address
/// for whoever can read values.
fn email_key(email: &Email) -> String {
    let digest = Sha256::digest(email.as_str().as_bytes());
    let mut key = String::with_capacity(EMAIL_KEY_PREFIX.len() + 64);
    key.push_str(EMAIL_KEY_PREFIX);
    for byte in digest {
        let _ = write!(key, "{byte:02x}");
    }
    key
}

const EMAIL_KEY_PREFIX: &str = "user-email:";

#[async_trait]
impl UserRepository for CachedUserRepository {
    async fn insert(&self, user: &User) -> Result<(), StoreError> {
        self.inner.insert(user).await
    }

    async fn update(&self, user: &User) -> Result<User, StoreError> {
        let outcome = self.inner.update(user).await;
        // A stale version means the cached copy the caller started from is outdated too.
        if matches!(&outcome, Ok(_) | Err(StoreError::StaleVersion)) {
            self.forget(user.id()).await;
        }
        outcome
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let key = user_key(id);
        let ticket = match self.cache.get(&key).await {
            Ok(Lookup::Hit(bytes)) => match self.decoded.decode(&key, &bytes, decode_user) {
                Ok(user) if user.id() == id => return Ok(Some(user)),
                Ok(_) | Err(_) => {
                    tracing::warn!(user = %id, "unreadable cached user; reading the store");
                    self.forget(id).await;
                    None
                }
            },
            Ok(Lookup::Miss(ticket)) => Some(ticket),
            Err(_) => None,
        };
        let user = self.inner.find_by_id(id).await?;
        if let (Some(ticket), Some(user)) = (ticket, &user) {
            let _ = self
                .cache
                .fill(&key, &encode_user(user), self.ttl, ticket)
                .await;
        }
        Ok(user)
    }

    async fn find_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        let key = format!("user-name:{}", username.as_str());
        let wanted = username.clone();
        self.find_by_name(
            key,
            move |user| *user.username() == wanted,
            self.inner.find_by_username(username),
        )
        .await
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        let key = email_key(email);
        let wanted = email.clone();
        self.find_by_name(
            key,
            move |user| *user.email() == wanted,
            self.inner.find_by_email(email),
        )
        .await
    }

    async fn list(&self, query: &UserQuery) -> Result<Vec<User>, StoreError> {
        self.inner.list(query).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_key_holds_a_digest_not_the_address() {
        let email = Email::parse("Someone@Example.com").expect("a valid email");
        let key = email_key(&email);
        assert!(!key.contains("example"), "{key}");
        assert!(!key.to_lowercase().contains("someone"), "{key}");
        let digest = key.strip_prefix(EMAIL_KEY_PREFIX).expect("the prefix");
        assert_eq!(digest.len(), 64);
        assert!(digest.bytes().all(|b| b.is_ascii_hexdigit()));
        // The same address always finds the same entry, whichever process computed the key.
        assert_eq!(key, email_key(&email.clone()));
        let other = Email::parse("someone.else@example.com").expect("a valid email");
        assert_ne!(key, email_key(&other));
    }
}
