//! Arcana's composition root: configuration, wiring and what each binary runs. `arcana` (the
//! monolith and the CLI) and `arcana-worker` (job workers) share everything here.

pub mod admin;
pub mod background;
pub mod cli;
pub mod config;
pub mod database;
pub mod grpc;
pub mod jobs;
pub mod jobs_cli;
pub mod migrate;
pub mod serve;
pub mod state;
pub mod telemetry;
pub mod wiring;
pub mod worker;
