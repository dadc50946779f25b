//! Integration tests of the MySQL/MariaDB adapters, each on its own throwaway database: one
//! test binary, so the fixtures are compiled and linked once.

mod audit;
mod sessions;
mod store;
mod support;
mod users;
