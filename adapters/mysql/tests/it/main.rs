//! Backend-specific integration tests of the MySQL/MariaDB adapters (the port contracts themselves are in
//! the shared conformance suite, tests/conformance), each on its own throwaway database: one
//! test binary, so the fixtures are compiled and linked once.

mod store;
mod support;
mod users;
