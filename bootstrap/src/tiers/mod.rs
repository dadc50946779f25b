//! The three processes of the layered modes. Each builds only its own piece: the controller
//! the public listeners over remote use cases, the service the application over remote
//! storage, the repository the storage adapters behind the internal listener.

pub mod controller;
pub mod repository;
pub mod service;

use anyhow::bail;

use crate::config::{Mode, Settings, Tier};

/// The tier binaries make sense only in a layered mode.
fn require_layered(settings: &Settings, tier: Tier) -> anyhow::Result<()> {
    if settings.mode == Mode::Monolith {
        bail!(
            "arcana-{} runs in a layered mode: set mode = layered-grpc (the monolith is `arcana serve`)",
            tier.as_str()
        );
    }
    Ok(())
}
