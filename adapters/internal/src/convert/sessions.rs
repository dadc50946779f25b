//! Sessions: the stored family (storage API, digests included) and the view (service API).

use arcana_domain::session::{Session, SessionParts, TokenHash};
use arcana_domain::{SessionId, UserId};
use arcana_ports::usecases::SessionView;

use super::{Invalid, client, client_info, micros, optional_time, parsed, time};
use crate::wire;

pub(crate) fn session_record(session: &Session) -> wire::SessionRecord {
    wire::SessionRecord {
        id: session.id().to_string(),
        user_id: session.user_id().to_string(),
        created_at_us: micros(session.created_at()),
        last_used_at_us: micros(session.last_used_at()),
        expires_at_us: micros(session.expires_at()),
        idle_expires_at_us: micros(session.idle_expires_at()),
        revoked_at_us: session.revoked_at().map(micros),
        client: Some(client(session.client().clone())),
        refresh_hash: session.refresh_hash().as_str().to_owned(),
        previous_hash: session.previous_hash().map(|hash| hash.as_str().to_owned()),
        rotated_at_us: session.rotated_at().map(micros),
    }
}

pub(crate) fn session(record: wire::SessionRecord) -> Result<Session, Invalid> {
    let parts = SessionParts {
        id: session_id("id", &record.id)?,
        user_id: parsed("user_id", UserId::parse(&record.user_id))?,
        created_at: time("created_at_us", record.created_at_us)?,
        last_used_at: time("last_used_at_us", record.last_used_at_us)?,
        expires_at: time("expires_at_us", record.expires_at_us)?,
        idle_expires_at: time("idle_expires_at_us", record.idle_expires_at_us)?,
        revoked_at: optional_time("revoked_at_us", record.revoked_at_us)?,
        client: client_info(record.client),
        refresh_hash: token_hash("refresh_hash", &record.refresh_hash)?,
        previous_hash: record
            .previous_hash
            .as_deref()
            .map(|hash| token_hash("previous_hash", hash))
            .transpose()?,
        rotated_at: optional_time("rotated_at_us", record.rotated_at_us)?,
    };
    parsed("session", Session::restore(parts))
}

pub(crate) fn session_id(field: &str, raw: &str) -> Result<SessionId, Invalid> {
    parsed(field, SessionId::parse(raw))
}

pub(crate) fn token_hash(field: &str, raw: &str) -> Result<TokenHash, Invalid> {
    parsed(field, TokenHash::parse(raw))
}

pub(crate) fn session_view(session: &SessionView) -> wire::SessionView {
    wire::SessionView {
        id: session.id.to_string(),
        created_at_us: micros(session.created_at),
        last_used_at_us: micros(session.last_used_at),
        expires_at_us: micros(session.expires_at),
        idle_expires_at_us: micros(session.idle_expires_at),
        client: Some(client(session.client.clone())),
    }
}

pub(crate) fn view_of_session(message: wire::SessionView) -> Result<SessionView, Invalid> {
    Ok(SessionView {
        id: session_id("id", &message.id)?,
        created_at: time("created_at_us", message.created_at_us)?,
        last_used_at: time("last_used_at_us", message.last_used_at_us)?,
        expires_at: time("expires_at_us", message.expires_at_us)?,
        idle_expires_at: time("idle_expires_at_us", message.idle_expires_at_us)?,
        client: client_info(message.client),
    })
}
