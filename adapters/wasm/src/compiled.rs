//! The compiled-module cache: Cranelift takes 30–60 ms per module, loading its machine code back
//! takes well under 1 ms, so a restart (or a second process on the same directory) only compiles
//! what changed.
//!
//! An entry is `<plugin>.<sha256 of the module>.<engine fingerprint>.cwasm`. Only modules whose
//! signature was verified reach the cache, an entry is named by the exact bytes it was compiled
//! from, and the fingerprint changes with the wasmtime version and the engine's settings, so a
//! stale or foreign entry is never picked. Loading machine code is trusted the way the binary
//! itself is: the cache directory must be writable by Arcana's user only (it is created 0700).
//! An entry wasmtime refuses (truncated, other build) is compiled again and replaced; a cache that
//! cannot be written costs only the compile time, never the load.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use arcana_domain::plugin::PluginName;
use wasmtime::Engine;
use wasmtime::component::Component;

#[derive(Debug, Clone)]
pub struct CompiledCache {
    dir: PathBuf,
    fingerprint: String,
}

impl CompiledCache {
    pub fn new(dir: PathBuf, engine: &Engine) -> Self {
        // `DefaultHasher::new()` has fixed keys: the same binary gives the same fingerprint in
        // every process, which is all the name needs.
        let mut hasher = std::hash::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Self {
            dir,
            fingerprint: format!("{:016x}", hasher.finish()),
        }
    }

    fn entry(&self, name: &PluginName, sha256: &str) -> PathBuf {
        self.dir
            .join(format!("{name}.{sha256}.{}.cwasm", self.fingerprint))
    }

    /// The compiled component, from the cache when it holds these exact bytes' machine code,
    /// else compiled now and stored for the next start. Blocking: call it off the async workers.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        name: &PluginName,
        sha256: &str,
        bytes: &[u8],
    ) -> wasmtime::Result<Component> {
        let entry = self.entry(name, sha256);
        if entry.exists() {
            // SAFETY: the entry was written by this cache (see the module comment for the trust
            // placed in its directory) from a module whose signature was verified, and the
            // fingerprint in its name ties it to this engine; wasmtime still checks the header
            // and refuses an artifact of another version or configuration. Entries are replaced
            // by rename, never rewritten in place, so the mapped file does not change under us.
            #[allow(unsafe_code)]
            let loaded = unsafe { Component::deserialize_file(engine, &entry) };
            match loaded {
                Ok(component) => {
                    tracing::debug!(
                        plugin = name.as_str(),
                        "plugin loaded from the compiled cache"
                    );
                    return Ok(component);
                }
                Err(err) => tracing::warn!(
                    plugin = name.as_str(),
                    entry = %entry.display(),
                    "compiled cache entry unusable, compiling again: {err:#}"
                ),
            }
        }
        let component = Component::new(engine, bytes)?;
        if let Err(err) = self.store(name, &entry, &component) {
            tracing::warn!(
                plugin = name.as_str(),
                dir = %self.dir.display(),
                "compiled module not cached (the next start compiles it again): {err:#}"
            );
        }
        Ok(component)
    }

    fn store(&self, name: &PluginName, entry: &Path, component: &Component) -> anyhow::Result<()> {
        create_private_dir(&self.dir)?;
        let code = component.serialize()?;
        let file = entry
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or("entry");
        let temporary = self.dir.join(format!(".{file}.partial"));
        std::fs::write(&temporary, code)?;
        std::fs::rename(&temporary, entry)?;
        self.prune(name, entry);
        Ok(())
    }

    /// Older entries of the same plugin are dead weight once a newer version is stored.
    fn prune(&self, name: &PluginName, keep: &Path) {
        let prefix = format!("{name}.");
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            // Only names this cache wrote: lowercase, `.cwasm`.
            let ours = path
                .file_name()
                .and_then(|f| f.to_str())
                .is_some_and(|f| f.starts_with(&prefix))
                && path.extension().is_some_and(|e| e == "cwasm");
            if ours && path != keep {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest valid component: the preamble alone.
    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";

    fn name(raw: &str) -> PluginName {
        PluginName::parse(raw).expect("valid name")
    }

    fn scratch_dir(label: &str) -> PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        std::env::temp_dir().join(format!(
            "arcana-cwasm-{label}-{}-{nanos}",
            std::process::id()
        ))
    }

    #[test]
    fn entries_are_named_by_plugin_bytes_and_engine() {
        let engine = Engine::default();
        let cache = CompiledCache::new(PathBuf::from("/cache"), &engine);
        let a = cache.entry(&name("audit"), "ab12");
        let b = cache.entry(&name("audit"), "cd34");
        assert_ne!(a, b);
        let file = a.file_name().and_then(|f| f.to_str()).expect("utf-8");
        assert!(file.starts_with("audit.ab12."), "{file}");
        assert!(a.extension().is_some_and(|e| e == "cwasm"), "{file}");
        let again = CompiledCache::new(PathBuf::from("/cache"), &engine);
        assert_eq!(a, again.entry(&name("audit"), "ab12"));
    }

    #[test]
    fn a_compiled_module_is_stored_reused_and_replaced_when_unusable() {
        let dir = scratch_dir("reuse");
        let engine = Engine::default();
        let cache = CompiledCache::new(dir.clone(), &engine);
        let plugin = name("audit");
        cache
            .load_or_compile(&engine, &plugin, "aa", EMPTY_COMPONENT)
            .expect("compiles");
        let entry = cache.entry(&plugin, "aa");
        let stored = std::fs::read(&entry).expect("entry written");
        assert!(
            stored.len() > EMPTY_COMPONENT.len(),
            "machine code, not the module"
        );

        // Served from the entry: the module bytes are not even looked at.
        cache
            .load_or_compile(&engine, &plugin, "aa", b"not a module")
            .expect("loaded from the cache");

        std::fs::write(&entry, b"garbage").expect("corrupt");
        cache
            .load_or_compile(&engine, &plugin, "aa", EMPTY_COMPONENT)
            .expect("compiled again");
        assert_eq!(std::fs::read(&entry).expect("rewritten"), stored);

        // A new version replaces the old entry.
        cache
            .load_or_compile(&engine, &plugin, "bb", EMPTY_COMPONENT)
            .expect("compiles");
        assert!(!entry.exists());
        assert!(cache.entry(&plugin, "bb").exists());
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn pruning_keeps_other_plugins_and_the_current_entry() {
        let dir = scratch_dir("prune");
        std::fs::create_dir_all(&dir).expect("dir");
        let engine = Engine::default();
        let cache = CompiledCache::new(dir.clone(), &engine);
        let keep = cache.entry(&name("audit"), "new");
        let old = cache.entry(&name("audit"), "old");
        let other = cache.entry(&name("audit-x"), "old");
        for path in [&keep, &old, &other] {
            std::fs::write(path, b"x").expect("write");
        }
        cache.prune(&name("audit"), &keep);
        assert!(keep.exists());
        assert!(!old.exists());
        assert!(other.exists(), "`audit-x.` does not start with `audit.`");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
