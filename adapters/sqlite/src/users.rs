//! `UserRepository` on SQLite: unique usernames and emails, optimistic versioning, keyset pages.

use arcana_domain::{
    DisplayName, Email, PasswordHash, ProfileUrl, Role, Status, User, UserId, UserParts, Username,
    ValueError,
};
use arcana_ports::StoreError;
use arcana_ports::users::{UserQuery, UserRepository};
use async_trait::async_trait;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Row as _, Sqlite, SqlitePool};
use uuid::Uuid;

use crate::codec::{contains_pattern, limit, micros, opt_micros, opt_time, time};
use crate::error::{invalid_row, store_error, user_write_error};

type Query<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments>;

/// Every column of `users`, followed by the rest of the statement.
macro_rules! select_users {
    ($rest:literal) => {
        concat!(
            "SELECT id, username, email, display_name, avatar_url, role, status, status_reason, ",
            "password_hash, created_at, updated_at, last_login_at, version FROM users ",
            $rest
        )
    };
}

const BY_ID: &str = select_users!("WHERE id = ?1");
const BY_USERNAME: &str = select_users!("WHERE username = ?1");
const BY_EMAIL: &str = select_users!("WHERE email = ?1");

/// `after` is always bound (the nil UUID for the first page) so that the id condition stays an
/// index range. SQLite's LIKE ignores ASCII case only; usernames and emails are stored
/// lower-case and the needle is lower-cased, so only non-ASCII letters of display names are
/// compared with their case.
const LIST: &str = select_users!(
    "WHERE id > ?1 AND (?2 IS NULL OR role = ?2) \
     AND ((?3 IS NULL AND status <> 'deleted') OR status = ?3) \
     AND (?4 IS NULL OR username LIKE ?4 ESCAPE '\\' OR email LIKE ?4 ESCAPE '\\' \
          OR display_name LIKE ?4 ESCAPE '\\') \
     ORDER BY id LIMIT ?5"
);

const INSERT: &str = "INSERT INTO users (id, username, email, display_name, avatar_url, role, \
    status, status_reason, password_hash, created_at, updated_at, last_login_at, version) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

/// One statement checks the version and writes, so of two writers of one version exactly one
/// changes a row.
const UPDATE: &str = "UPDATE users SET username = ?2, email = ?3, display_name = ?4, \
    avatar_url = ?5, role = ?6, status = ?7, status_reason = ?8, password_hash = ?9, \
    created_at = ?10, updated_at = ?11, last_login_at = ?12, version = version + 1 \
    WHERE id = ?1 AND version = ?13";

#[derive(Debug, Clone)]
pub struct SqliteUserRepository {
    pool: SqlitePool,
}

impl SqliteUserRepository {
    pub(crate) fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }

    async fn fetch_one(&self, query: Query<'_>) -> Result<Option<User>, StoreError> {
        let row = query
            .fetch_optional(&self.pool)
            .await
            .map_err(|err| store_error(err, "reading a user"))?;
        row.as_ref().map(user_from_row).transpose()
    }
}

#[async_trait]
impl UserRepository for SqliteUserRepository {
    async fn insert(&self, user: &User) -> Result<(), StoreError> {
        bind_user(sqlx::query(INSERT), user)?
            .execute(&self.pool)
            .await
            .map_err(|err| user_write_error(err, "inserting a user"))?;
        Ok(())
    }

    async fn update(&self, user: &User) -> Result<User, StoreError> {
        let done = bind_user(sqlx::query(UPDATE), user)?
            .execute(&self.pool)
            .await
            .map_err(|err| user_write_error(err, "updating a user"))?;
        if done.rows_affected() == 1 {
            return Ok(user.clone().next_version());
        }
        // Users are never removed, so a row missing now was missing at the UPDATE too.
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1)")
            .bind(*user.id().as_uuid())
            .fetch_one(&self.pool)
            .await
            .map_err(|err| store_error(err, "checking that a user exists"))?;
        Err(if exists {
            StoreError::StaleVersion
        } else {
            StoreError::NotFound
        })
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.fetch_one(sqlx::query(BY_ID).bind(*id.as_uuid())).await
    }

    async fn find_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        self.fetch_one(sqlx::query(BY_USERNAME).bind(username.as_str().to_owned()))
            .await
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        self.fetch_one(sqlx::query(BY_EMAIL).bind(email.as_str().to_owned()))
            .await
    }

    async fn list(&self, query: &UserQuery) -> Result<Vec<User>, StoreError> {
        let after = query.after.map_or(Uuid::nil(), |id| *id.as_uuid());
        let text = query
            .text
            .as_deref()
            .map(|text| contains_pattern(&text.to_lowercase()));
        let rows = sqlx::query(LIST)
            .bind(after)
            .bind(query.role.map(Role::as_str))
            .bind(query.status.map(Status::as_str))
            .bind(text)
            .bind(limit(query.limit))
            .fetch_all(&self.pool)
            .await
            .map_err(|err| store_error(err, "listing users"))?;
        rows.iter().map(user_from_row).collect()
    }
}

/// Binds every column of `user` as `?1`..`?13`, in the order of `INSERT` and `UPDATE`.
fn bind_user<'q>(query: Query<'q>, user: &User) -> Result<Query<'q>, StoreError> {
    let version = i64::try_from(user.version())
        .map_err(|_| StoreError::Other(anyhow::anyhow!("user version exceeds the stored range")))?;
    Ok(query
        .bind(*user.id().as_uuid())
        .bind(user.username().as_str().to_owned())
        .bind(user.email().as_str().to_owned())
        .bind(user.display_name().map(|d| d.as_str().to_owned()))
        .bind(user.avatar_url().map(|u| u.as_str().to_owned()))
        .bind(user.role().as_str())
        .bind(user.status().as_str())
        .bind(user.status_reason().map(str::to_owned))
        .bind(user.password_hash().as_str().to_owned())
        .bind(micros(user.created_at()))
        .bind(micros(user.updated_at()))
        .bind(opt_micros(user.last_login_at()))
        .bind(version))
}

fn parsed<T>(column: &'static str, result: Result<T, ValueError>) -> Result<T, StoreError> {
    result.map_err(|err| invalid_row(column, err))
}

/// Rebuilds a `User` through the domain's parsers: a row the domain would refuse is an error,
/// never patched with a default.
fn user_from_row(row: &SqliteRow) -> Result<User, StoreError> {
    let decode = |err: sqlx::Error| store_error(err, "decoding a user row");
    let text = |column: &str| row.try_get::<String, _>(column).map_err(decode);
    let opt_text = |column: &str| row.try_get::<Option<String>, _>(column).map_err(decode);
    let int = |column: &str| row.try_get::<i64, _>(column).map_err(decode);
    let version =
        u64::try_from(int("version")?).map_err(|err| invalid_row("users.version", err))?;
    let last_login = row
        .try_get::<Option<i64>, _>("last_login_at")
        .map_err(decode)?;
    Ok(User::from_parts(UserParts {
        id: UserId::from_uuid(row.try_get::<Uuid, _>("id").map_err(decode)?),
        username: parsed("users.username", Username::parse(&text("username")?))?,
        email: parsed("users.email", Email::parse(&text("email")?))?,
        display_name: opt_text("display_name")?
            .map(|d| parsed("users.display_name", DisplayName::parse(&d)))
            .transpose()?,
        avatar_url: opt_text("avatar_url")?
            .map(|u| parsed("users.avatar_url", ProfileUrl::parse(&u)))
            .transpose()?,
        role: parsed("users.role", Role::parse(&text("role")?))?,
        status: parsed("users.status", Status::parse(&text("status")?))?,
        status_reason: opt_text("status_reason")?,
        password_hash: parsed(
            "users.password_hash",
            PasswordHash::parse(&text("password_hash")?),
        )?,
        created_at: time("users.created_at", int("created_at")?)?,
        updated_at: time("users.updated_at", int("updated_at")?)?,
        last_login_at: opt_time("users.last_login_at", last_login)?,
        version,
    }))
}
