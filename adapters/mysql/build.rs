//! Rebuilds the crate when a migration is added or changed: `embed_migrations!` embeds them at
//! compile time, and only this tells Cargo to look at a new migration directory.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations/mysql");
}
