//! Host-side bindings of `plugins/wit` (`arcana:plugin@0.1.0`).
//!
//! Exports are looked up one interface at a time (`GuestIndices::new`), never as the whole
//! world, so a plugin built for a smaller world (only `meta` and `events`, say) loads and simply
//! lacks the hooks it does not export.

#![allow(unsafe_code, unused, unused_qualifications, clippy::pedantic)]

wasmtime::component::bindgen!({
    world: "plugin",
    path: "../../plugins/wit",
    imports: {
        "arcana:plugin/kv": async,
        "arcana:plugin/audit": async,
        default: trappable,
    },
    exports: { default: async },
});
