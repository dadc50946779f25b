//! Port conformance: one set of contract cases per driven port, run unchanged against every
//! adapter of that port — memory, SQLite, PostgreSQL, MySQL/MariaDB.
//!
//! Each backend is one test that runs every case on a fresh store (its own database or file),
//! so no case depends on another or on test order, reports every failing case by name, and
//! prints how many cases ran.

mod audit;
mod fixtures;
mod harness;
mod sessions;
mod users;

use harness::{Backend, run_all};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_adapters_honour_every_port_contract() {
    run_all(Backend::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_adapters_honour_every_port_contract() {
    run_all(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_adapters_honour_every_port_contract() {
    run_all(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_adapters_honour_every_port_contract() {
    run_all(Backend::Mysql).await;
}
