//! `UserRepository` over maps, with the same uniqueness and versioning rules as the SQL stores.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

use arcana_domain::{Email, Status, User, UserId, Username};
use arcana_ports::health::{Health, HealthCheck};
use arcana_ports::users::{UserQuery, UserRepository};
use arcana_ports::{StoreError, UniqueField};
use async_trait::async_trait;

use crate::poisoned;

#[derive(Default)]
struct Tables {
    users: BTreeMap<UserId, User>,
    id_by_username: HashMap<String, UserId>,
    id_by_email: HashMap<String, UserId>,
}

impl Tables {
    /// The field `user` would collide on, ignoring its own row.
    fn collision(&self, user: &User) -> Option<UniqueField> {
        let other = |id: Option<&UserId>| id.is_some_and(|id| *id != user.id());
        if other(self.id_by_username.get(user.username().as_str())) {
            Some(UniqueField::Username)
        } else if other(self.id_by_email.get(user.email().as_str())) {
            Some(UniqueField::Email)
        } else {
            None
        }
    }

    fn index(&mut self, user: &User) {
        self.id_by_username
            .insert(user.username().as_str().to_owned(), user.id());
        self.id_by_email
            .insert(user.email().as_str().to_owned(), user.id());
    }
}

#[derive(Default)]
pub struct InMemoryUserRepository {
    tables: RwLock<Tables>,
}

impl InMemoryUserRepository {
    pub fn new() -> Self {
        Self::default()
    }
}

fn matches(user: &User, query: &UserQuery) -> bool {
    let status_ok = match query.status {
        Some(status) => user.status() == status,
        None => user.status() != Status::Deleted,
    };
    let role_ok = query.role.is_none_or(|role| user.role() == role);
    let text_ok = query.text.as_deref().is_none_or(|text| {
        let needle = text.to_lowercase();
        user.username().as_str().contains(&needle)
            || user.email().as_str().contains(&needle)
            || user
                .display_name()
                .is_some_and(|d| d.as_str().to_lowercase().contains(&needle))
    });
    status_ok && role_ok && text_ok
}

#[async_trait]
impl UserRepository for InMemoryUserRepository {
    async fn insert(&self, user: &User) -> Result<(), StoreError> {
        let mut tables = self.tables.write().map_err(|_| poisoned())?;
        if let Some(field) = tables.collision(user) {
            return Err(StoreError::Conflict(field));
        }
        tables.index(user);
        tables.users.insert(user.id(), user.clone());
        Ok(())
    }

    async fn update(&self, user: &User) -> Result<User, StoreError> {
        let mut tables = self.tables.write().map_err(|_| poisoned())?;
        let stored = tables.users.get(&user.id()).ok_or(StoreError::NotFound)?;
        if stored.version() != user.version() {
            return Err(StoreError::StaleVersion);
        }
        if let Some(field) = tables.collision(user) {
            return Err(StoreError::Conflict(field));
        }
        let (old_username, old_email) = (
            stored.username().as_str().to_owned(),
            stored.email().as_str().to_owned(),
        );
        tables.id_by_username.remove(&old_username);
        tables.id_by_email.remove(&old_email);
        tables.index(user);
        let next = user.clone().next_version();
        tables.users.insert(user.id(), next.clone());
        Ok(next)
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let tables = self.tables.read().map_err(|_| poisoned())?;
        Ok(tables.users.get(&id).cloned())
    }

    async fn find_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        let tables = self.tables.read().map_err(|_| poisoned())?;
        Ok(tables
            .id_by_username
            .get(username.as_str())
            .and_then(|id| tables.users.get(id))
            .cloned())
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        let tables = self.tables.read().map_err(|_| poisoned())?;
        Ok(tables
            .id_by_email
            .get(email.as_str())
            .and_then(|id| tables.users.get(id))
            .cloned())
    }

    async fn list(&self, query: &UserQuery) -> Result<Vec<User>, StoreError> {
        use std::ops::Bound::{Excluded, Unbounded};
        let tables = self.tables.read().map_err(|_| poisoned())?;
        let start = query.after.map_or(Unbounded, Excluded);
        Ok(tables
            .users
            .range((start, Unbounded))
            .map(|(_, user)| user)
            .filter(|user| matches(user, query))
            .take(query.limit)
            .cloned()
            .collect())
    }
}

#[async_trait]
impl HealthCheck for InMemoryUserRepository {
    fn name(&self) -> &'static str {
        "database"
    }

    async fn check(&self) -> Health {
        match self.tables.read() {
            Ok(_) => Health::Up {
                detail: "memory".into(),
            },
            Err(_) => Health::Down {
                reason: "in-memory store lock poisoned".into(),
            },
        }
    }
}
