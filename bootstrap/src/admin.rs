//! `arcana user create-admin`.

use std::io::BufRead;

use anyhow::{Context, bail};
use arcana_application::SeedOutcome;
use arcana_domain::Password;

use crate::cli::CreateAdminArgs;
use crate::config::Settings;
use crate::wiring;

pub async fn create_admin(settings: Settings, args: CreateAdminArgs) -> anyhow::Result<()> {
    if crate::database::Scheme::of(settings.database.url.expose())
        == Some(crate::database::Scheme::Memory)
    {
        bail!(
            "database.url is `memory:`, which keeps nothing once this command exits; \
             seed the superadmin at start-up instead with bootstrap_admin.username/email/password \
             (ARCANA_BOOTSTRAP_ADMIN__USERNAME, …__EMAIL, …__PASSWORD)"
        );
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = Password::candidate(line.trim_end_matches(['\r', '\n']));
    let database = crate::serve::open_database(&settings).await?;
    let app = wiring::build(&settings, &database.storage(), &prometheus::Registry::new())
        .context("building the application")?;
    match app
        .users
        .ensure_superadmin(&args.username, &args.email, password)
        .await
    {
        Ok(SeedOutcome::Created) => println!("superadmin {} created", args.username.to_lowercase()),
        Ok(SeedOutcome::AlreadyPresent) => {
            println!("superadmin {} already exists", args.username.to_lowercase());
        }
        Err(err) => bail!(
            "could not create the superadmin: {}",
            wiring::describe(&err)
        ),
    }
    Ok(())
}
