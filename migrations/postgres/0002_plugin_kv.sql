-- Plugins' durable key-value state (the `PluginKv` port), one row per (plugin, key).
--
-- The key column is collated "C" so that it orders by bytes (UTF-8 byte order, the order the
-- port promises) whatever the database's default collation, and so that the primary key, which
-- is the listing index, answers "keys of one plugin starting with a prefix, in order" as one
-- index range (`item_key >= prefix AND item_key < successor(prefix)`; no LIKE pattern).
-- The size check repeats the adapter's (64 KiB), so a value written around it is still refused.

CREATE TABLE plugin_kv (
    plugin     text        NOT NULL,
    item_key   text        COLLATE "C" NOT NULL,
    value      bytea       NOT NULL CONSTRAINT plugin_kv_value_size CHECK (octet_length(value) <= 65536),
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (plugin, item_key)
);
