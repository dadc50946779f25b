//! Arcana's composition root: configuration, wiring per deployment mode, and what each binary
//! runs. `arcana` (the monolith and the CLI), the tier binaries of the layered modes
//! (`arcana-controller`, `arcana-service`, `arcana-repository`) and `arcana-worker` are each a
//! few lines over the pieces here: storage, caches, application, public listeners, internal
//! listeners, jobs.

pub mod admin;
pub mod cli;
pub mod config;
pub mod dev;
pub mod jobs_cli;
pub mod migrate;
pub mod plugin_cli;
pub mod process;
pub mod serve;
pub mod tiers;
pub mod tls;
pub mod worker;

mod background;
mod database;
mod jobs;
mod limits;
mod links;
mod ops;
mod plugins;
mod pool_metrics;
mod public;
mod resilience;
mod shutdown;
mod state;
mod storage;
mod telemetry;
mod wiring;
