//! Diagnostic jobs every deployment has, so operators can smoke-test workers and benchmarks
//! need no custom code.

use std::time::Duration;

use arcana_domain::jobs::JobName;
use serde::{Deserialize, Serialize};

use crate::job::{Job, JobContext, JobError};

/// Does nothing: measures the queue itself.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Noop {}

impl Job for Noop {
    const NAME: JobName = JobName::from_static("noop");
    type Deps = ();

    async fn execute(self, (): &(), _ctx: JobContext) -> Result<(), JobError> {
        Ok(())
    }
}

/// Sleeps `ms` milliseconds, giving up early when the attempt is cancelled: a stand-in for
/// slow work (timeouts, shutdown, crash tests).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Sleep {
    pub ms: u64,
}

impl Job for Sleep {
    const NAME: JobName = JobName::from_static("sleep");
    type Deps = ();

    async fn execute(self, (): &(), ctx: JobContext) -> Result<(), JobError> {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(self.ms)) => Ok(()),
            () = ctx.cancelled() => Err(JobError::Retry("cancelled".into())),
        }
    }
}
