-- Plugins' durable key-value state (the `PluginKv` port), one row per (plugin, key).
--
-- Keys are TEXT under SQLite's default BINARY collation, which compares with memcmp: the key
-- order is UTF-8 byte order, the order the port promises. The primary key is the listing index:
-- "keys of one plugin starting with a prefix, in order" is one range of it (the adapter asks for
-- `item_key >= prefix AND item_key < successor(prefix)`, never a LIKE pattern, which SQLite would
-- also match case-insensitively). WITHOUT ROWID stores the rows in that index itself.
-- The size check repeats the adapter's (64 KiB), so a value written around it is still refused.

CREATE TABLE plugin_kv (
    plugin     TEXT    NOT NULL,
    item_key   TEXT    NOT NULL,
    value      BLOB    NOT NULL CHECK (length(value) <= 65536),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (plugin, item_key)
) STRICT, WITHOUT ROWID;
