//! Outbound email.

use arcana_domain::Email;
use async_trait::async_trait;

#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Email,
    pub subject: String,
    pub text_body: String,
}

#[derive(Debug, thiserror::Error)]
#[error("mail could not be sent")]
pub struct MailError(#[source] pub anyhow::Error);

#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Hands the message to the transport. Success means accepted for delivery, not delivered.
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}
