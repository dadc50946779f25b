//! `SessionStore` on MySQL: refresh-token families, rotated by a single conditional UPDATE,
//! and the access-token deny list.

use arcana_domain::session::{ClientInfo, Session, SessionParts, TokenHash};
use arcana_domain::{SessionId, UserId};
use arcana_ports::StoreError;
use arcana_ports::sessions::SessionStore;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl::{DuplicatedKeys, exists};
use diesel::mysql::Mysql;
use diesel::{
    AsChangeset, BoolExpressionMethods as _, ExpressionMethods as _, Insertable,
    OptionalExtension as _, QueryDsl as _, Queryable, Selectable, SelectableHelper as _,
};
use diesel_async::{AsyncConnection as _, RunQueryDsl as _};

use crate::codec::{from_db, id_bytes, to_db, uuid_from};
use crate::error::{invalid_row, store_error};
use crate::pool::{Pool, connection};
use crate::schema::{access_denylist, sessions};

/// Every column of `sessions`, as written by `create` and (but for the id) `rotate`.
/// Nullable columns are owned: the changeset derive would otherwise take `&Option<&str>`.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = sessions, primary_key(id), treat_none_as_null = true)]
struct SessionRecord<'a> {
    id: Vec<u8>,
    user_id: Vec<u8>,
    created_at: NaiveDateTime,
    last_used_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    idle_expires_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
    user_agent: Option<String>,
    ip: Option<String>,
    refresh_hash: &'a str,
    previous_hash: Option<String>,
    rotated_at: Option<NaiveDateTime>,
}

impl<'a> SessionRecord<'a> {
    fn of(session: &'a Session) -> Self {
        Self {
            id: id_bytes(session.id().as_uuid()),
            user_id: id_bytes(session.user_id().as_uuid()),
            created_at: to_db(session.created_at()),
            last_used_at: to_db(session.last_used_at()),
            expires_at: to_db(session.expires_at()),
            idle_expires_at: to_db(session.idle_expires_at()),
            revoked_at: session.revoked_at().map(to_db),
            user_agent: session.client().user_agent.clone(),
            ip: session.client().ip.clone(),
            refresh_hash: session.refresh_hash().as_str(),
            previous_hash: session.previous_hash().map(|h| h.as_str().to_owned()),
            rotated_at: session.rotated_at().map(to_db),
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = sessions, check_for_backend(Mysql))]
struct SessionRow {
    id: Vec<u8>,
    user_id: Vec<u8>,
    created_at: NaiveDateTime,
    last_used_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    idle_expires_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
    user_agent: Option<String>,
    ip: Option<String>,
    refresh_hash: String,
    previous_hash: Option<String>,
    rotated_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone)]
pub struct MysqlSessionStore {
    pool: Pool,
}

impl MysqlSessionStore {
    pub(crate) fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl SessionStore for MysqlSessionStore {
    async fn create(&self, session: &Session) -> Result<(), StoreError> {
        let mut conn = connection(&self.pool, "creating a session").await?;
        diesel::insert_into(sessions::table)
            .values(&SessionRecord::of(session))
            .execute(&mut conn)
            .await
            .map_err(|err| store_error(err, "creating a session"))?;
        Ok(())
    }

    async fn find(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        let mut conn = connection(&self.pool, "reading a session").await?;
        let row = sessions::table
            .filter(sessions::id.eq(id_bytes(id.as_uuid())))
            .select(SessionRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(|err| store_error(err, "reading a session"))?;
        row.map(SessionRow::into_session).transpose()
    }

    /// The compare-and-swap: one statement tests the current hash and writes. Concurrent
    /// rotations queue on the row lock and re-check the condition against the committed row,
    /// so exactly one matches. The count is of *matched* rows (`CLIENT_FOUND_ROWS`), so a
    /// rotation to identical values still reports its success.
    async fn rotate(&self, expected: &TokenHash, next: &Session) -> Result<bool, StoreError> {
        let record = SessionRecord::of(next);
        let target = sessions::table
            .filter(sessions::id.eq(&record.id))
            .filter(sessions::refresh_hash.eq(expected.as_str()))
            .filter(sessions::revoked_at.is_null());
        let mut conn = connection(&self.pool, "rotating a session").await?;
        let rotated = diesel::update(target)
            .set(&record)
            .execute(&mut conn)
            .await
            .map_err(|err| store_error(err, "rotating a session"))?;
        Ok(rotated == 1)
    }

    async fn revoke(&self, id: SessionId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let target = sessions::table
            .filter(sessions::id.eq(id_bytes(id.as_uuid())))
            .filter(sessions::revoked_at.is_null());
        let mut conn = connection(&self.pool, "revoking a session").await?;
        let revoked = diesel::update(target)
            .set(sessions::revoked_at.eq(to_db(now)))
            .execute(&mut conn)
            .await
            .map_err(|err| store_error(err, "revoking a session"))?;
        Ok(revoked == 1)
    }

    async fn revoke_all_for_user(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionId>, StoreError> {
        let user = id_bytes(user.as_uuid());
        let keep: Vec<Vec<u8>> = keep.iter().map(|id| id_bytes(id.as_uuid())).collect();
        let now = to_db(now);
        let mut conn = connection(&self.pool, "revoking a user's sessions").await?;
        // MySQL has no UPDATE … RETURNING: the ids are read under row locks and revoked in the
        // same transaction, so the list is exactly what this call revoked.
        let revoked: Vec<Vec<u8>> = conn
            .transaction(async move |conn| {
                let ids: Vec<Vec<u8>> = sessions::table
                    .filter(sessions::user_id.eq(user))
                    .filter(sessions::revoked_at.is_null())
                    .filter(sessions::id.ne_all(keep))
                    .select(sessions::id)
                    .for_update()
                    .load(conn)
                    .await?;
                if !ids.is_empty() {
                    diesel::update(sessions::table.filter(sessions::id.eq_any(&ids)))
                        .set(sessions::revoked_at.eq(now))
                        .execute(conn)
                        .await?;
                }
                Ok::<_, diesel::result::Error>(ids)
            })
            .await
            .map_err(|err| store_error(err, "revoking a user's sessions"))?;
        revoked
            .iter()
            .map(|bytes| uuid_from("sessions.id", bytes).map(SessionId::from_uuid))
            .collect()
    }

    async fn list_live_for_user(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Session>, StoreError> {
        let now = to_db(now);
        let mut conn = connection(&self.pool, "listing a user's sessions").await?;
        let rows = sessions::table
            .filter(sessions::user_id.eq(id_bytes(user.as_uuid())))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(now))
            .filter(sessions::idle_expires_at.gt(now))
            .order((sessions::last_used_at.desc(), sessions::id.desc()))
            .select(SessionRow::as_select())
            .load(&mut conn)
            .await
            .map_err(|err| store_error(err, "listing a user's sessions"))?;
        rows.into_iter().map(SessionRow::into_session).collect()
    }

    async fn deny_access_token(
        &self,
        token_id: &str,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let until = to_db(until);
        let mut conn = connection(&self.pool, "denying an access token").await?;
        diesel::insert_into(access_denylist::table)
            .values((
                access_denylist::token_id.eq(token_id),
                access_denylist::expires_at.eq(until),
            ))
            .on_conflict(DuplicatedKeys)
            .do_update()
            .set(access_denylist::expires_at.eq(until))
            .execute(&mut conn)
            .await
            .map_err(|err| store_error(err, "denying an access token"))?;
        Ok(())
    }

    async fn is_access_token_denied(
        &self,
        token_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let denied = access_denylist::table
            .filter(access_denylist::token_id.eq(token_id))
            .filter(access_denylist::expires_at.gt(to_db(now)));
        let mut conn = connection(&self.pool, "checking the access-token deny list").await?;
        diesel::select(exists(denied))
            .get_result(&mut conn)
            .await
            .map_err(|err| store_error(err, "checking the access-token deny list"))
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let now = to_db(now);
        let dead_sessions = sessions::table.filter(
            sessions::revoked_at
                .is_not_null()
                .or(sessions::expires_at.le(now))
                .or(sessions::idle_expires_at.le(now)),
        );
        let dead_denials = access_denylist::table.filter(access_denylist::expires_at.le(now));
        let mut conn = connection(&self.pool, "purging sessions").await?;
        let sessions = diesel::delete(dead_sessions)
            .execute(&mut conn)
            .await
            .map_err(|err| store_error(err, "purging sessions"))?;
        let denials = diesel::delete(dead_denials)
            .execute(&mut conn)
            .await
            .map_err(|err| store_error(err, "purging the deny list"))?;
        Ok((sessions + denials) as u64)
    }
}

impl SessionRow {
    fn into_session(self) -> Result<Session, StoreError> {
        let hash = |column: &'static str, raw: &str| {
            TokenHash::parse(raw).map_err(|err| invalid_row(column, err))
        };
        let parts = SessionParts {
            id: SessionId::from_uuid(uuid_from("sessions.id", &self.id)?),
            user_id: UserId::from_uuid(uuid_from("sessions.user_id", &self.user_id)?),
            created_at: from_db(self.created_at),
            last_used_at: from_db(self.last_used_at),
            expires_at: from_db(self.expires_at),
            idle_expires_at: from_db(self.idle_expires_at),
            revoked_at: self.revoked_at.map(from_db),
            client: ClientInfo {
                user_agent: self.user_agent,
                ip: self.ip,
            },
            refresh_hash: hash("sessions.refresh_hash", &self.refresh_hash)?,
            previous_hash: self
                .previous_hash
                .map(|raw| hash("sessions.previous_hash", &raw))
                .transpose()?,
            rotated_at: self.rotated_at.map(from_db),
        };
        Session::restore(parts).map_err(|err| invalid_row("sessions", err))
    }
}
