-- Arcana schema for SQLite (the embedded default backend).
--
-- Ids are UUIDv7 stored as 16-byte BLOBs: SQLite compares BLOBs with memcmp, so the order of
-- an id column is UUID byte order, which for UUIDv7 is creation order (keyset pagination relies
-- on it). Times are INTEGER microseconds since the Unix epoch, UTC: exact, and compared as
-- numbers rather than as text whose width could vary. STRICT makes SQLite refuse a value of the
-- wrong type instead of storing it anyway.

CREATE TABLE users (
    id            BLOB    NOT NULL PRIMARY KEY,
    -- The constraint names match PostgreSQL's; SQLite reports the column (`users.username`)
    -- when one is violated, which is what the adapter maps to the conflicting field.
    username      TEXT    NOT NULL CONSTRAINT users_username_key UNIQUE,
    email         TEXT    NOT NULL CONSTRAINT users_email_key UNIQUE,
    display_name  TEXT,
    avatar_url    TEXT,
    role          TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    status_reason TEXT,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    last_login_at INTEGER,
    version       INTEGER NOT NULL
) STRICT;

-- No foreign key to users: the session and audit ports do not require the user row (users are
-- only ever soft-deleted anyway), so each store works on its own, as the memory adapters do.
CREATE TABLE sessions (
    id              BLOB    NOT NULL PRIMARY KEY,
    user_id         BLOB    NOT NULL,
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    idle_expires_at INTEGER NOT NULL,
    revoked_at      INTEGER,
    user_agent      TEXT,
    ip              TEXT,
    refresh_hash    TEXT    NOT NULL,
    previous_hash   TEXT,
    rotated_at      INTEGER
) STRICT;

-- revoke_all_for_user and list_live_for_user: every session of one user.
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
-- purge_expired: sessions past their absolute lifetime.
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE access_denylist (
    token_id   TEXT    NOT NULL PRIMARY KEY,
    expires_at INTEGER NOT NULL
) STRICT;

-- purge_expired: deny-list entries whose token has expired anyway.
CREATE INDEX access_denylist_expires_at_idx ON access_denylist (expires_at);

CREATE TABLE audit_log (
    id      BLOB    NOT NULL PRIMARY KEY,
    at      INTEGER NOT NULL,
    action  TEXT    NOT NULL,
    actor   BLOB,
    subject TEXT    NOT NULL,
    detail  TEXT,
    ip      TEXT
) STRICT;

-- The audit query filtered by actor, subject or action, newest first: each index ends with
-- the id so that the filter and the ORDER BY id DESC are one index scan.
CREATE INDEX audit_log_actor_idx ON audit_log (actor, id);
CREATE INDEX audit_log_subject_idx ON audit_log (subject, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
