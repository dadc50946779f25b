//! Integration tests of the PostgreSQL adapters, each on its own throwaway database: one test
//! binary, so the fixtures are compiled and linked once.

mod audit;
mod sessions;
mod store;
mod support;
mod users;
