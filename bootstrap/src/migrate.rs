//! `arcana migrate [--check]`.

use anyhow::bail;

use crate::config::Settings;
use crate::database::Database;

pub async fn run(settings: &Settings, check: bool) -> anyhow::Result<()> {
    let database = Database::open(&settings.database)?;
    let pending = database.pending_migrations().await?;
    if check {
        if pending.is_empty() {
            println!("{}: schema is up to date", database.backend());
            return Ok(());
        }
        for name in &pending {
            println!("pending: {name}");
        }
        bail!(
            "{} migration(s) pending on {}",
            pending.len(),
            database.backend()
        );
    }
    database.migrate().await?;
    println!(
        "{}: applied {} migration(s)",
        database.backend(),
        pending.len()
    );
    Ok(())
}
