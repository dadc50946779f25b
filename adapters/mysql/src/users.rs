//! `UserRepository` on MySQL: unique usernames and emails, optimistic versioning, keyset pages.

use arcana_domain::{
    DisplayName, Email, PasswordHash, ProfileUrl, Role, Status, User, UserId, UserParts, Username,
    ValueError,
};
use arcana_ports::StoreError;
use arcana_ports::users::{UserQuery, UserRepository};
use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::dsl::exists;
use diesel::mysql::Mysql;
use diesel::sql_types::{Nullable, Text};
use diesel::{
    AsChangeset, BoolExpressionMethods as _, EscapeExpressionMethods as _, ExpressionMethods as _,
    Insertable, OptionalExtension as _, QueryDsl as _, Queryable, Selectable,
    SelectableHelper as _, TextExpressionMethods as _,
};
use diesel_async::RunQueryDsl as _;

use crate::codec::{LIKE_ESCAPE, contains_pattern, from_db, id_bytes, limit, to_db, uuid_from};
use crate::error::{invalid_row, store_error, user_write_error};
use crate::pool::{Pool, connection};
use crate::schema::users;

diesel::define_sql_function! {
    /// SQL `LOWER`: the columns compare exactly (`utf8mb4_bin`), so a case-insensitive match
    /// lower-cases both sides.
    fn lower(text: Nullable<Text>) -> Nullable<Text>;
}

/// Every column of `users`, as written by `insert` and (but for the id and version) `update`.
/// Nullable columns are owned: the changeset derive would otherwise take `&Option<&str>`.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = users, primary_key(id), treat_none_as_null = true)]
struct UserRecord<'a> {
    id: Vec<u8>,
    username: &'a str,
    email: &'a str,
    display_name: Option<String>,
    avatar_url: Option<String>,
    role: &'a str,
    status: &'a str,
    status_reason: Option<String>,
    password_hash: &'a str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    last_login_at: Option<NaiveDateTime>,
    /// The update bumps the stored version itself (`version = version + 1`).
    #[diesel(skip_update)]
    version: i64,
}

impl<'a> UserRecord<'a> {
    fn of(user: &'a User) -> Result<Self, StoreError> {
        let version = i64::try_from(user.version()).map_err(|_| {
            StoreError::Other(anyhow::anyhow!("user version exceeds the stored range"))
        })?;
        Ok(Self {
            id: id_bytes(user.id().as_uuid()),
            username: user.username().as_str(),
            email: user.email().as_str(),
            display_name: user.display_name().map(|d| d.as_str().to_owned()),
            avatar_url: user.avatar_url().map(|u| u.as_str().to_owned()),
            role: user.role().as_str(),
            status: user.status().as_str(),
            status_reason: user.status_reason().map(str::to_owned),
            password_hash: user.password_hash().as_str(),
            created_at: to_db(user.created_at()),
            updated_at: to_db(user.updated_at()),
            last_login_at: user.last_login_at().map(to_db),
            version,
        })
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(Mysql))]
struct UserRow {
    id: Vec<u8>,
    username: String,
    email: String,
    display_name: Option<String>,
    avatar_url: Option<String>,
    role: String,
    status: String,
    status_reason: Option<String>,
    password_hash: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    last_login_at: Option<NaiveDateTime>,
    version: i64,
}

#[derive(Debug, Clone)]
pub struct MysqlUserRepository {
    pool: Pool,
}

impl MysqlUserRepository {
    pub(crate) fn new(pool: Pool) -> Self {
        Self { pool }
    }

    async fn find_one(
        &self,
        query: users::BoxedQuery<'_, Mysql>,
    ) -> Result<Option<User>, StoreError> {
        let mut conn = connection(&self.pool, "reading a user").await?;
        let row = query
            .select(UserRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(|err| store_error(err, "reading a user"))?;
        row.map(UserRow::into_user).transpose()
    }

    async fn exists(&self, id: UserId) -> Result<bool, StoreError> {
        let mut conn = connection(&self.pool, "checking that a user exists").await?;
        diesel::select(exists(
            users::table.filter(users::id.eq(id_bytes(id.as_uuid()))),
        ))
        .get_result(&mut conn)
        .await
        .map_err(|err| store_error(err, "checking that a user exists"))
    }
}

#[async_trait]
impl UserRepository for MysqlUserRepository {
    async fn insert(&self, user: &User) -> Result<(), StoreError> {
        let record = UserRecord::of(user)?;
        let mut conn = connection(&self.pool, "inserting a user").await?;
        diesel::insert_into(users::table)
            .values(&record)
            .execute(&mut conn)
            .await
            .map_err(|err| user_write_error(err, "inserting a user"))?;
        Ok(())
    }

    /// One statement checks the version and writes: a concurrent writer of the same version
    /// waits for the row lock, re-reads the committed row, finds the version moved on and
    /// matches nothing. The version always changes, so even without `CLIENT_FOUND_ROWS` a
    /// successful update could never report 0 rows.
    async fn update(&self, user: &User) -> Result<User, StoreError> {
        let record = UserRecord::of(user)?;
        let target = users::table
            .filter(users::id.eq(&record.id))
            .filter(users::version.eq(record.version));
        let mut conn = connection(&self.pool, "updating a user").await?;
        let updated = diesel::update(target)
            .set((&record, users::version.eq(users::version + 1)))
            .execute(&mut conn)
            .await
            .map_err(|err| user_write_error(err, "updating a user"))?;
        drop(conn);
        if updated == 1 {
            return Ok(user.clone().next_version());
        }
        // Users are never removed, so a row missing now was missing at the UPDATE too.
        Err(if self.exists(user.id()).await? {
            StoreError::StaleVersion
        } else {
            StoreError::NotFound
        })
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let id = id_bytes(id.as_uuid());
        self.find_one(users::table.filter(users::id.eq(id)).into_boxed())
            .await
    }

    async fn find_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        let query = users::table.filter(users::username.eq(username.as_str()));
        self.find_one(query.into_boxed()).await
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        let query = users::table.filter(users::email.eq(email.as_str()));
        self.find_one(query.into_boxed()).await
    }

    async fn list(&self, query: &UserQuery) -> Result<Vec<User>, StoreError> {
        let mut sql = users::table
            .select(UserRow::as_select())
            .order(users::id.asc())
            .limit(limit(query.limit))
            .into_boxed();
        if let Some(after) = query.after {
            sql = sql.filter(users::id.gt(id_bytes(after.as_uuid())));
        }
        if let Some(role) = query.role {
            sql = sql.filter(users::role.eq(role.as_str()));
        }
        sql = match query.status {
            Some(status) => sql.filter(users::status.eq(status.as_str())),
            None => sql.filter(users::status.ne(Status::Deleted.as_str())),
        };
        if let Some(text) = &query.text {
            // Usernames and emails are stored lower-case, so the lower-cased needle matches
            // them as they are; display names keep their case.
            let pattern = contains_pattern(&text.to_lowercase());
            sql = sql.filter(
                users::username
                    .like(pattern.clone())
                    .escape(LIKE_ESCAPE)
                    .or(users::email.like(pattern.clone()).escape(LIKE_ESCAPE))
                    .or(lower(users::display_name).like(pattern).escape(LIKE_ESCAPE)),
            );
        }
        let mut conn = connection(&self.pool, "listing users").await?;
        let rows = sql
            .load(&mut conn)
            .await
            .map_err(|err| store_error(err, "listing users"))?;
        rows.into_iter().map(UserRow::into_user).collect()
    }
}

fn parsed<T>(column: &'static str, result: Result<T, ValueError>) -> Result<T, StoreError> {
    result.map_err(|err| invalid_row(column, err))
}

impl UserRow {
    /// Rebuilds a `User` through the domain's parsers: a row the domain would refuse is an
    /// error, never patched with a default.
    fn into_user(self) -> Result<User, StoreError> {
        let parts = UserParts {
            id: UserId::from_uuid(uuid_from("users.id", &self.id)?),
            username: parsed("users.username", Username::parse(&self.username))?,
            email: parsed("users.email", Email::parse(&self.email))?,
            display_name: self
                .display_name
                .map(|d| parsed("users.display_name", DisplayName::parse(&d)))
                .transpose()?,
            avatar_url: self
                .avatar_url
                .map(|u| parsed("users.avatar_url", ProfileUrl::parse(&u)))
                .transpose()?,
            role: parsed("users.role", Role::parse(&self.role))?,
            status: parsed("users.status", Status::parse(&self.status))?,
            status_reason: self.status_reason,
            password_hash: parsed(
                "users.password_hash",
                PasswordHash::parse(&self.password_hash),
            )?,
            created_at: from_db(self.created_at),
            updated_at: from_db(self.updated_at),
            last_login_at: self.last_login_at.map(from_db),
            version: u64::try_from(self.version)
                .map_err(|err| invalid_row("users.version", err))?,
        };
        parsed("users", User::restore(parts))
    }
}
