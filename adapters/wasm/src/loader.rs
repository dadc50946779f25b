//! load → verify → compile → describe → enable, from the plugin directory or an upload.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use arcana_domain::event::EventKind;
use arcana_domain::plugin::PluginName;
use arcana_ports::plugins::{PluginError, PluginInfo};

use crate::host::WasmPluginHost;
use crate::signature::{self, SignatureError};
use crate::version::{Source, Version, sha256_hex};

/// The plugin names of the `NAME.wasm` files in `dir`; other files are ignored.
pub async fn names_in(dir: &Path) -> std::io::Result<Vec<PluginName>> {
    let mut names = Vec::new();
    let mut entries = tokio::fs::read_dir(dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        if let Some(name) = plugin_of(&entry.path()) {
            names.push(name);
        }
    }
    names.sort();
    names.dedup();
    Ok(names)
}

/// The plugin a file belongs to: `audit.wasm` and `audit.wasm.sig` both belong to `audit`.
pub fn plugin_of(path: &Path) -> Option<PluginName> {
    let file = path.file_name()?.to_str()?;
    let stem = file
        .strip_suffix(".wasm.sig")
        .or_else(|| file.strip_suffix(".wasm"))?;
    PluginName::parse(stem).ok()
}

fn module_path(dir: &Path, name: &PluginName) -> PathBuf {
    dir.join(format!("{name}.wasm"))
}

fn signature_path(dir: &Path, name: &PluginName) -> PathBuf {
    dir.join(format!("{name}.wasm.sig"))
}

impl WasmPluginHost {
    /// Brings `name` in line with the directory: loads a new or changed module, forgets a
    /// deleted one. A module that fails keeps the previous version running (or, if there is
    /// none, shows as rejected) with the reason in `last_error`.
    pub async fn reload(&self, name: &PluginName) {
        let _changes = self.inner.changes.lock().await;
        let dir = &self.inner.settings.directory;
        let bytes = match tokio::fs::read(module_path(dir, name)).await {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                if self.slot(name).is_some() {
                    tracing::info!(plugin = name.as_str(), "plugin file removed; unloading");
                    self.forget(name);
                }
                return;
            }
            Err(err) => {
                tracing::warn!(plugin = name.as_str(), "plugin file unreadable: {err}");
                return;
            }
        };
        let sha256 = sha256_hex(&bytes);
        let slot = self.slot_or_insert(name);
        if slot
            .version
            .load()
            .as_ref()
            .is_some_and(|v| v.sha256 == sha256)
        {
            return;
        }
        let signature = tokio::fs::read(signature_path(dir, name)).await.ok();
        match self
            .verify_and_load(name, bytes, signature.as_deref())
            .await
        {
            Ok(version) => self.activate(name, version, "loaded"),
            Err(reason) => self.refuse(name, &sha256, &reason),
        }
    }

    pub(crate) async fn verify_and_load(
        &self,
        name: &PluginName,
        bytes: Vec<u8>,
        signature: Option<&[u8]>,
    ) -> Result<Version, String> {
        let settings = &self.inner.settings;
        match signature {
            Some(signature) => signature::verify(&bytes, signature, &settings.trusted_keys)
                .map_err(|err| err.to_string())?,
            None if settings.allow_unsigned => {
                tracing::warn!(
                    plugin = name.as_str(),
                    "loading an UNSIGNED plugin (plugins.allow_unsigned)"
                );
            }
            None => return Err(SignatureError::Missing.to_string()),
        }
        let granted = settings
            .grants
            .get(name.as_str())
            .map_or(&[][..], Vec::as_slice);
        Version::load(
            &self.inner.engine,
            Source {
                name,
                bytes,
                granted,
            },
            self.inner.services.clone(),
            settings.memory_limit_bytes,
        )
        .await
    }

    /// Swaps `version` in; calls in flight finish on the version they hold.
    fn activate(&self, name: &PluginName, version: Version, how: &str) {
        let slot = self.slot_or_insert(name);
        let detail = format!(
            "{how} {} ({})",
            version.manifest.version,
            &version.sha256[..12]
        );
        tracing::info!(plugin = name.as_str(), version = %version.manifest.version, sha256 = %version.sha256, "plugin {how}");
        slot.version.store(Some(Arc::new(version)));
        slot.set_error(None);
        if let Ok(mut rejected) = slot.rejected.lock() {
            *rejected = None;
        }
        self.rebuild_interceptors();
        // An upload is audited by the use case, under the administrator who made it; a file
        // dropped into the directory has no actor, so the host records it.
        if how == "loaded" {
            self.audit(EventKind::PluginInstalled, name, detail);
        }
    }

    fn refuse(&self, name: &PluginName, sha256: &str, reason: &str) {
        let slot = self.slot_or_insert(name);
        let running = slot.version.load().is_some();
        tracing::warn!(
            plugin = name.as_str(),
            sha256,
            "plugin module refused: {reason}"
        );
        slot.set_error(Some(if running {
            format!("reload refused, previous version kept: {reason}")
        } else {
            reason.to_owned()
        }));
        if !running && let Ok(mut rejected) = slot.rejected.lock() {
            *rejected = Some(sha256.to_owned());
        }
        self.rebuild_interceptors();
    }

    /// Verifies and loads an uploaded module first; only then writes it (signature first, each
    /// through a temporary file and a rename) so the watcher never sees half a pair.
    pub(crate) async fn install_module(
        &self,
        name: &PluginName,
        module: Vec<u8>,
        signature: Option<Vec<u8>>,
    ) -> Result<PluginInfo, PluginError> {
        let _changes = self.inner.changes.lock().await;
        let version = self
            .verify_and_load(name, module.clone(), signature.as_deref())
            .await
            .map_err(PluginError::Rejected)?;
        let dir = &self.inner.settings.directory;
        let write = async {
            match &signature {
                Some(signature) => write_atomically(&signature_path(dir, name), signature).await?,
                None => remove_if_present(&signature_path(dir, name)).await?,
            }
            write_atomically(&module_path(dir, name), &module).await
        };
        write
            .await
            .map_err(|err| PluginError::Internal(err.into()))?;
        self.activate(name, version, "installed");
        let slot = self
            .slot(name)
            .ok_or_else(|| PluginError::NotFound(name.to_string()))?;
        Ok(slot.info())
    }

    pub(crate) async fn remove_module(&self, name: &PluginName) -> Result<(), PluginError> {
        let _changes = self.inner.changes.lock().await;
        if self.slot(name).is_none() {
            return Err(PluginError::NotFound(name.to_string()));
        }
        let dir = &self.inner.settings.directory;
        remove_if_present(&module_path(dir, name))
            .await
            .and(remove_if_present(&signature_path(dir, name)).await)
            .map_err(|err| PluginError::Internal(err.into()))?;
        self.forget(name);
        Ok(())
    }

    pub(crate) fn enable(
        &self,
        name: &PluginName,
        enabled: bool,
    ) -> Result<PluginInfo, PluginError> {
        let slot = self
            .slot(name)
            .ok_or_else(|| PluginError::NotFound(name.to_string()))?;
        slot.enabled.store(enabled, Ordering::Relaxed);
        if enabled && let Ok(mut supervisor) = slot.supervisor.lock() {
            supervisor.clear();
        }
        self.rebuild_interceptors();
        Ok(slot.info())
    }
}

async fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let file = path
        .file_name()
        .and_then(|f| f.to_str())
        .unwrap_or("plugin");
    let temporary = path.with_file_name(format!(".{file}.partial"));
    tokio::fs::write(&temporary, bytes).await?;
    tokio::fs::rename(&temporary, path).await
}

async fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match tokio::fs::remove_file(path).await {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}
