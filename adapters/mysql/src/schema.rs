//! The tables as diesel sees them; must match `migrations/mysql/`.

diesel::table! {
    users (id) {
        id -> Binary,
        username -> Varchar,
        email -> Varchar,
        display_name -> Nullable<Varchar>,
        avatar_url -> Nullable<Varchar>,
        role -> Varchar,
        status -> Varchar,
        status_reason -> Nullable<Varchar>,
        password_hash -> Varchar,
        created_at -> Datetime,
        updated_at -> Datetime,
        last_login_at -> Nullable<Datetime>,
        version -> Bigint,
    }
}

diesel::table! {
    sessions (id) {
        id -> Binary,
        user_id -> Binary,
        created_at -> Datetime,
        last_used_at -> Datetime,
        expires_at -> Datetime,
        idle_expires_at -> Datetime,
        revoked_at -> Nullable<Datetime>,
        user_agent -> Nullable<Varchar>,
        ip -> Nullable<Varchar>,
        refresh_hash -> Varchar,
        previous_hash -> Nullable<Varchar>,
        rotated_at -> Nullable<Datetime>,
    }
}

diesel::table! {
    access_denylist (token_id) {
        token_id -> Varchar,
        expires_at -> Datetime,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Binary,
        at -> Datetime,
        action -> Varchar,
        actor -> Nullable<Binary>,
        subject -> Varchar,
        detail -> Nullable<Text>,
        ip -> Nullable<Varchar>,
    }
}

diesel::table! {
    plugin_kv (plugin, item_key) {
        plugin -> Varchar,
        /// `VARBINARY(256)`: the key's UTF-8 bytes, compared as bytes.
        item_key -> Binary,
        /// `MEDIUMBLOB`.
        value -> Binary,
        updated_at -> Datetime,
    }
}
