-- Plugins' durable key-value state (the `PluginKv` port), one row per (plugin, key).
--
-- The key is VARBINARY: it compares byte by byte (UTF-8 byte order, the order the port
-- promises) with no collation and no trailing-space padding (`utf8mb4_bin` is PAD SPACE on
-- MariaDB and MySQL 5.7-style collations, which would make `a` and `a ` the same key). The
-- primary key is the listing index: "keys of one plugin starting with a prefix, in order" is one
-- range of it (`item_key >= prefix AND item_key < successor(prefix)`; no LIKE pattern).
-- Values go up to 64 KiB, one byte more than a BLOB holds, hence MEDIUMBLOB with the limit
-- checked here as well as in the adapter.
--
-- Re-runnable like 0001 (`IF NOT EXISTS`): DDL commits implicitly.

CREATE TABLE IF NOT EXISTS plugin_kv (
    plugin     VARCHAR(32)    NOT NULL,
    item_key   VARBINARY(256) NOT NULL,
    value      MEDIUMBLOB     NOT NULL,
    updated_at DATETIME(6)    NOT NULL,
    PRIMARY KEY (plugin, item_key),
    CONSTRAINT plugin_kv_value_size CHECK (LENGTH(value) <= 65536)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
