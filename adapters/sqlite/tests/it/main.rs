//! Backend-specific integration tests of the SQLite adapters (the port contracts themselves are in
//! the shared conformance suite, tests/conformance), each on its own temporary database file: one test
//! binary, so the fixtures are compiled and linked once.

mod store;
mod support;
