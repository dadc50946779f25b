-- Arcana schema for PostgreSQL.
--
-- Ids are native `uuid` (UUIDv7), whose ordering is UUID byte order, i.e. creation order:
-- keyset pagination relies on it. Times are `timestamptz` (microsecond precision).

CREATE TABLE users (
    id            uuid        PRIMARY KEY,
    -- Named so that the adapter maps a unique violation to the field by constraint name.
    username      text        NOT NULL CONSTRAINT users_username_key UNIQUE,
    email         text        NOT NULL CONSTRAINT users_email_key UNIQUE,
    display_name  text,
    avatar_url    text,
    role          text        NOT NULL,
    status        text        NOT NULL,
    status_reason text,
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    last_login_at timestamptz,
    version       bigint      NOT NULL
);

-- No foreign key to users: the session and audit ports do not require the user row (users are
-- only ever soft-deleted anyway), so each store works on its own, as the memory adapters do.
CREATE TABLE sessions (
    id              uuid        PRIMARY KEY,
    user_id         uuid        NOT NULL,
    created_at      timestamptz NOT NULL,
    last_used_at    timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    idle_expires_at timestamptz NOT NULL,
    revoked_at      timestamptz,
    user_agent      text,
    ip              text,
    refresh_hash    text        NOT NULL,
    previous_hash   text,
    rotated_at      timestamptz
);

-- revoke_all_for_user and list_live_for_user: every session of one user.
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
-- purge_expired: sessions past their absolute lifetime.
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE access_denylist (
    token_id   text        PRIMARY KEY,
    expires_at timestamptz NOT NULL
);

-- purge_expired: deny-list entries whose token has expired anyway.
CREATE INDEX access_denylist_expires_at_idx ON access_denylist (expires_at);

CREATE TABLE audit_log (
    id      uuid        PRIMARY KEY,
    at      timestamptz NOT NULL,
    action  text        NOT NULL,
    actor   uuid,
    subject text        NOT NULL,
    detail  text,
    ip      text
);

-- The audit query filtered by actor, subject or action, newest first: each index ends with
-- the id so that the filter and the ORDER BY id DESC are one index scan.
CREATE INDEX audit_log_actor_idx ON audit_log (actor, id);
CREATE INDEX audit_log_subject_idx ON audit_log (subject, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
