//! A throwaway PostgreSQL database for the PostgreSQL + Redis run: the server is shared, so the
//! harness never writes into an existing database.

use sqlx::Connection as _;

pub struct Throwaway {
    admin_url: String,
    name: String,
    pub url: String,
}

impl Throwaway {
    pub async fn create(admin_url: &str) -> anyhow::Result<Self> {
        let name = format!("arcana_bench_{}", uuid::Uuid::now_v7().simple());
        execute(admin_url, &format!("CREATE DATABASE {name}")).await?;
        Ok(Self {
            admin_url: admin_url.to_owned(),
            url: with_database(admin_url, &name),
            name,
        })
    }

    pub async fn drop(self) -> anyhow::Result<()> {
        execute(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        )
        .await
    }
}

async fn execute(url: &str, statement: &str) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect(url).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned()))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

/// `url` with its database name replaced (credentials, host and query kept).
fn with_database(url: &str, name: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let path_start = url[scheme_end..]
        .find('/')
        .map_or(url.len(), |i| scheme_end + i);
    let query = url[path_start..]
        .find('?')
        .map_or("", |i| &url[path_start + i..]);
    format!("{}/{name}{query}", &url[..path_start])
}
