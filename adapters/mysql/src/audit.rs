//! `AuditLog` on MySQL: append-only rows, read newest first by (time-ordered) id.

use arcana_domain::UserId;
use arcana_domain::audit::AuditEntry;
use arcana_domain::event::EventKind;
use arcana_domain::ids::EventId;
use arcana_ports::StoreError;
use arcana_ports::audit::{AuditLog, AuditQuery};
use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::mysql::Mysql;
use diesel::{
    ExpressionMethods as _, Insertable, QueryDsl as _, Queryable, Selectable, SelectableHelper as _,
};
use diesel_async::RunQueryDsl as _;

use crate::codec::{from_db, id_bytes, limit, to_db, uuid_from};
use crate::error::{invalid_row, store_error};
use crate::pool::{Pool, connection};
use crate::schema::audit_log;

#[derive(Insertable)]
#[diesel(table_name = audit_log)]
struct AuditRecord<'a> {
    id: Vec<u8>,
    at: NaiveDateTime,
    action: &'static str,
    actor: Option<Vec<u8>>,
    subject: &'a str,
    detail: Option<&'a str>,
    ip: Option<&'a str>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_log, check_for_backend(Mysql))]
struct AuditRow {
    id: Vec<u8>,
    at: NaiveDateTime,
    action: String,
    actor: Option<Vec<u8>>,
    subject: String,
    detail: Option<String>,
    ip: Option<String>,
}

#[derive(Debug, Clone)]
pub struct MysqlAuditLog {
    pool: Pool,
}

impl MysqlAuditLog {
    pub(crate) fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl AuditLog for MysqlAuditLog {
    async fn append(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let record = AuditRecord {
            id: id_bytes(entry.id.as_uuid()),
            at: to_db(entry.at),
            action: entry.action.name(),
            actor: entry.actor.map(|id| id_bytes(id.as_uuid())),
            subject: &entry.subject,
            detail: entry.detail.as_deref(),
            ip: entry.ip.as_deref(),
        };
        let mut conn = connection(&self.pool, "appending to the audit log").await?;
        diesel::insert_into(audit_log::table)
            .values(&record)
            .execute(&mut conn)
            .await
            .map_err(|err| store_error(err, "appending to the audit log"))?;
        Ok(())
    }

    async fn query(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let mut sql = audit_log::table
            .select(AuditRow::as_select())
            .order(audit_log::id.desc())
            .limit(limit(query.limit))
            .into_boxed();
        if let Some(before) = query.before {
            sql = sql.filter(audit_log::id.lt(id_bytes(before.as_uuid())));
        }
        if let Some(actor) = query.actor {
            sql = sql.filter(audit_log::actor.eq(id_bytes(actor.as_uuid())));
        }
        if let Some(action) = query.action {
            sql = sql.filter(audit_log::action.eq(action.name()));
        }
        if let Some(subject) = &query.subject {
            sql = sql.filter(audit_log::subject.eq(subject));
        }
        let mut conn = connection(&self.pool, "querying the audit log").await?;
        let rows = sql
            .load(&mut conn)
            .await
            .map_err(|err| store_error(err, "querying the audit log"))?;
        rows.into_iter().map(AuditRow::into_entry).collect()
    }
}

impl AuditRow {
    fn into_entry(self) -> Result<AuditEntry, StoreError> {
        Ok(AuditEntry {
            id: EventId::from_uuid(uuid_from("audit_log.id", &self.id)?),
            at: from_db(self.at),
            action: EventKind::parse(&self.action)
                .ok_or_else(|| invalid_row("audit_log.action", "unknown event kind"))?,
            actor: self
                .actor
                .map(|raw| uuid_from("audit_log.actor", &raw).map(UserId::from_uuid))
                .transpose()?,
            subject: self.subject,
            detail: self.detail,
            ip: self.ip,
        })
    }
}
