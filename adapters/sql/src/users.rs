//! `UserRepository` over any [`Dialect`]: unique usernames and emails, optimistic versioning,
//! keyset pages.

use std::marker::PhantomData;

use arcana_domain::{
    DisplayName, Email, PasswordHash, ProfileUrl, Role, Status, User, UserId, UserParts, Username,
    ValueError,
};
use arcana_ports::StoreError;
use arcana_ports::users::{UserQuery, UserRepository};
use async_trait::async_trait;
use sqlx::{Database, Pool};
use uuid::Uuid;

use crate::Dialect;
use crate::codec::{Columns, contains_pattern, limit, opt_time};
use crate::database::{Args as _, SqlDatabase, Statement};
use crate::error::{invalid_row, store_error, user_write_error};

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

const BY_ID: &str = select_users!("WHERE id = $1");
const BY_USERNAME: &str = select_users!("WHERE username = $1");
const BY_EMAIL: &str = select_users!("WHERE email = $1");

/// `after` is always bound (the nil UUID for the first page) so that the id condition stays an
/// index range. Usernames and emails are stored lower-case and the needle is lower-cased, so
/// plain LIKE suffices for them; display names keep their case and are lower-cased first
/// (SQLite's `lower` and `LIKE` fold ASCII only, so there non-ASCII letters keep their case).
const LIST: &str = select_users!(
    "WHERE id > $1 AND ($2 IS NULL OR role = $2) \
     AND (($3 IS NULL AND status <> 'deleted') OR status = $3) \
     AND ($4 IS NULL OR username LIKE $4 ESCAPE '\\' OR email LIKE $4 ESCAPE '\\' \
          OR lower(display_name) LIKE $4 ESCAPE '\\') \
     ORDER BY id LIMIT $5"
);

const INSERT: &str = "INSERT INTO users (id, username, email, display_name, avatar_url, role, \
    status, status_reason, password_hash, created_at, updated_at, last_login_at, version) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

/// One statement checks the version and writes, so of two writers of one version exactly one
/// changes a row (SQLite has a single writer; on PostgreSQL the second waits for the row lock,
/// re-reads the committed row, finds the version moved on and changes nothing).
const UPDATE: &str = "UPDATE users SET username = $2, email = $3, display_name = $4, \
    avatar_url = $5, role = $6, status = $7, status_reason = $8, password_hash = $9, \
    created_at = $10, updated_at = $11, last_login_at = $12, version = version + 1 \
    WHERE id = $1 AND version = $13";

const EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1) AS found";

/// The users table of one database; cheap to clone (it holds the pool's handle).
#[derive(Debug)]
pub struct SqlUserRepository<D: Dialect> {
    pool: Pool<D::Db>,
    dialect: PhantomData<D>,
}

impl<D: Dialect> Clone for SqlUserRepository<D> {
    fn clone(&self) -> Self {
        Self::new(self.pool.clone())
    }
}

impl<D: Dialect> SqlUserRepository<D> {
    pub(crate) fn new(pool: Pool<D::Db>) -> Self {
        Self {
            pool,
            dialect: PhantomData,
        }
    }

    async fn fetch_one(&self, statement: Statement<D::Db>) -> Result<Option<User>, StoreError> {
        let row = D::Db::fetch_optional(&self.pool, statement)
            .await
            .map_err(|err| store_error::<D>(err, "reading a user"))?;
        row.as_ref().map(user_from_row::<D>).transpose()
    }

    async fn write(
        &self,
        sql: &'static str,
        user: &User,
        doing: &'static str,
    ) -> Result<u64, StoreError> {
        let done = D::Db::execute(&self.pool, bind_user::<D>(sqlx::query(sql), user)?)
            .await
            .map_err(|err| user_write_error::<D>(err, doing))?;
        Ok(D::rows_affected(&done))
    }
}

#[async_trait]
impl<D: Dialect> UserRepository for SqlUserRepository<D> {
    async fn insert(&self, user: &User) -> Result<(), StoreError> {
        self.write(INSERT, user, "inserting a user").await?;
        Ok(())
    }

    async fn update(&self, user: &User) -> Result<User, StoreError> {
        if self.write(UPDATE, user, "updating a user").await? == 1 {
            return Ok(user.clone().next_version());
        }
        // Users are never removed, so a row missing now was missing at the UPDATE too.
        let doing = "checking that a user exists";
        let row = D::Db::fetch_optional(&self.pool, sqlx::query(EXISTS).arg(*user.id().as_uuid()))
            .await
            .map_err(|err| store_error::<D>(err, doing))?;
        let exists = match &row {
            Some(row) => Columns::<D>::new(row, "users", doing).get::<bool>("found")?,
            None => false,
        };
        Err(if exists {
            StoreError::StaleVersion
        } else {
            StoreError::NotFound
        })
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.fetch_one(sqlx::query(BY_ID).arg(*id.as_uuid())).await
    }

    async fn find_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        self.fetch_one(sqlx::query(BY_USERNAME).arg(username.as_str().to_owned()))
            .await
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        self.fetch_one(sqlx::query(BY_EMAIL).arg(email.as_str().to_owned()))
            .await
    }

    async fn list(&self, query: &UserQuery) -> Result<Vec<User>, StoreError> {
        let after = query.after.map_or(Uuid::nil(), |id| *id.as_uuid());
        let text = query
            .text
            .as_deref()
            .map(|text| contains_pattern(&text.to_lowercase()));
        let statement = sqlx::query(LIST)
            .arg(after)
            .arg(query.role.map(Role::as_str))
            .arg(query.status.map(Status::as_str))
            .arg(text)
            .arg(limit(query.limit));
        let rows = D::Db::fetch_all(&self.pool, statement)
            .await
            .map_err(|err| store_error::<D>(err, "listing users"))?;
        rows.iter().map(user_from_row::<D>).collect()
    }
}

/// Binds every column of `user` as `$1`..`$13`, in the order of `INSERT` and `UPDATE`.
fn bind_user<D: Dialect>(
    statement: Statement<D::Db>,
    user: &User,
) -> Result<Statement<D::Db>, StoreError> {
    let version = i64::try_from(user.version())
        .map_err(|_| StoreError::Other(anyhow::anyhow!("user version exceeds the stored range")))?;
    Ok(statement
        .arg(*user.id().as_uuid())
        .arg(user.username().as_str().to_owned())
        .arg(user.email().as_str().to_owned())
        .arg(user.display_name().map(|d| d.as_str().to_owned()))
        .arg(user.avatar_url().map(|u| u.as_str().to_owned()))
        .arg(user.role().as_str())
        .arg(user.status().as_str())
        .arg(user.status_reason().map(str::to_owned))
        .arg(user.password_hash().as_str().to_owned())
        .arg(D::encode_time(user.created_at()))
        .arg(D::encode_time(user.updated_at()))
        .arg(opt_time::<D>(user.last_login_at()))
        .arg(version))
}

fn parsed<T>(column: &'static str, result: Result<T, ValueError>) -> Result<T, StoreError> {
    result.map_err(|err| invalid_row(column, err))
}

/// Rebuilds a `User` through the domain's parsers: a row the domain would refuse is an error,
/// never patched with a default.
fn user_from_row<D: Dialect>(row: &<D::Db as Database>::Row) -> Result<User, StoreError> {
    let row = Columns::<D>::new(row, "users", "decoding a user row");
    let text = |column: &str| row.get::<String>(column);
    let opt_text = |column: &str| row.get::<Option<String>>(column);
    let version = u64::try_from(row.get::<i64>("version")?)
        .map_err(|err| invalid_row("users.version", err))?;
    let parts = UserParts {
        id: UserId::from_uuid(row.get::<Uuid>("id")?),
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
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
        last_login_at: row.opt_time("last_login_at")?,
        version,
    };
    parsed("users", User::restore(parts))
}
