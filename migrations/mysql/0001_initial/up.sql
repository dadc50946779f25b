-- Arcana schema for MySQL 8.0+ and MariaDB 10.5+.
--
-- Ids are UUIDv7 in BINARY(16): InnoDB compares binary strings byte by byte, so an id column
-- sorts in UUID byte order, which for UUIDv7 is creation order (keyset pagination relies on it).
-- Times are DATETIME(6): microseconds, UTC by convention (DATETIME has no time zone, so the
-- session time zone never shifts them). Tables are InnoDB (row locks make the conditional
-- UPDATEs atomic) in utf8mb4 with the utf8mb4_bin collation: comparisons, uniqueness and LIKE
-- are exact code-point matches on both servers (their default collations differ, and MySQL's
-- also folds accents), like the other backends. The display-name search lower-cases explicitly.
--
-- MySQL commits implicitly after every DDL statement, so this migration cannot run atomically;
-- every statement is `IF NOT EXISTS` and the indexes are part of their table's statement, so a
-- migration interrupted halfway can simply be run again.

CREATE TABLE IF NOT EXISTS users (
    id            BINARY(16)    NOT NULL,
    username      VARCHAR(32)   NOT NULL,
    email         VARCHAR(254)  NOT NULL,
    display_name  VARCHAR(64)   NULL,
    avatar_url    VARCHAR(2048) NULL,
    role          VARCHAR(32)   NOT NULL,
    status        VARCHAR(32)   NOT NULL,
    status_reason VARCHAR(500)  NULL,
    password_hash VARCHAR(512)  NOT NULL,
    created_at    DATETIME(6)   NOT NULL,
    updated_at    DATETIME(6)   NOT NULL,
    last_login_at DATETIME(6)   NULL,
    version       BIGINT        NOT NULL,
    PRIMARY KEY (id),
    -- Named so that the adapter maps a duplicate-key error to the field by key name (MariaDB
    -- reports it as `users_username_key`, MySQL 8 as `users.users_username_key`).
    UNIQUE KEY users_username_key (username),
    UNIQUE KEY users_email_key (email)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- No foreign key to users: the session and audit ports do not require the user row (users are
-- only ever soft-deleted anyway), so each store works on its own, as the memory adapters do.
CREATE TABLE IF NOT EXISTS sessions (
    id              BINARY(16)   NOT NULL,
    user_id         BINARY(16)   NOT NULL,
    created_at      DATETIME(6)  NOT NULL,
    last_used_at    DATETIME(6)  NOT NULL,
    expires_at      DATETIME(6)  NOT NULL,
    idle_expires_at DATETIME(6)  NOT NULL,
    revoked_at      DATETIME(6)  NULL,
    user_agent      VARCHAR(256) NULL,
    ip              VARCHAR(64)  NULL,
    refresh_hash    VARCHAR(64)  NOT NULL,
    previous_hash   VARCHAR(64)  NULL,
    rotated_at      DATETIME(6)  NULL,
    PRIMARY KEY (id),
    -- revoke_all_for_user and list_live_for_user: every session of one user.
    KEY sessions_user_id_idx (user_id),
    -- purge_expired: sessions past their absolute lifetime.
    KEY sessions_expires_at_idx (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS access_denylist (
    token_id   VARCHAR(255) NOT NULL,
    expires_at DATETIME(6)  NOT NULL,
    PRIMARY KEY (token_id),
    -- purge_expired: deny-list entries whose token has expired anyway.
    KEY access_denylist_expires_at_idx (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS audit_log (
    id      BINARY(16)   NOT NULL,
    at      DATETIME(6)  NOT NULL,
    action  VARCHAR(64)  NOT NULL,
    actor   BINARY(16)   NULL,
    subject VARCHAR(512) NOT NULL,
    detail  TEXT         NULL,
    ip      VARCHAR(64)  NULL,
    PRIMARY KEY (id),
    -- The audit query filtered by actor, subject or action, newest first: each index ends with
    -- the id so that the filter and the ORDER BY id DESC are one index range read backwards.
    KEY audit_log_actor_idx (actor, id),
    KEY audit_log_subject_idx (subject, id),
    KEY audit_log_action_idx (action, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
