//! Integration tests of the SQLite adapters, each on its own temporary database file: one test
//! binary, so the fixtures are compiled and linked once.

mod audit;
mod sessions;
mod store;
mod support;
mod users;
