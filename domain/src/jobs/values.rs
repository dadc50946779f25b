//! The job values an operator or a configuration names: job and queue names, priorities and
//! states, each parsed in one place with one spelling.

use std::borrow::Cow;
use std::fmt;

use crate::ValueError;

/// Longest job, queue or unique-key name.
const MAX_NAME_LEN: usize = 64;

/// The naming rule of jobs, queues and unique keys: 1–64 of `[A-Za-z0-9._:-]`, so a name is
/// safe as a Redis key part and as a metric label. `const` so that names written in code are
/// checked when it compiles ([`JobName::from_static`]).
const fn follows_naming_rule(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_NAME_LEN {
        return false;
    }
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        if !(byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b':' | b'-')) {
            return false;
        }
        at += 1;
    }
    true
}

fn check_name(raw: &str) -> Result<(), ValueError> {
    if follows_naming_rule(raw) {
        Ok(())
    } else {
        Err(ValueError::new(
            "invalid_name",
            "1 to 64 letters, digits, `.`, `_`, `:` or `-`",
        ))
    }
}

/// A unique key (see [`super::UniqueKey`]) checked against the naming rule.
///
/// # Errors
/// `invalid_name` when `raw` breaks the naming rule.
pub fn parse_unique_key(raw: &str) -> Result<String, ValueError> {
    check_name(raw).map(|()| raw.to_owned())
}

macro_rules! job_name_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Cow<'static, str>);

        impl $name {
            /// # Errors
            /// `invalid_name` when `raw` breaks the naming rule (1–64 of `[A-Za-z0-9._:-]`).
            pub fn parse(raw: &str) -> Result<Self, ValueError> {
                check_name(raw).map(|()| Self(Cow::Owned(raw.to_owned())))
            }

            /// A name written in code. Used in a `const`, a name that breaks the naming rule
            /// fails the build.
            ///
            /// # Panics
            /// When `raw` breaks the naming rule.
            pub const fn from_static(raw: &'static str) -> Self {
                assert!(follows_naming_rule(raw), "a name breaks the naming rule");
                Self(Cow::Borrowed(raw))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0.into_owned()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        // Hashes and compares as its text, so maps keyed by names are searched with a `&str`.
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                *self.0 == *other
            }
        }
    };
}

job_name_type!(
    /// The registered name of a kind of job (`sessions.purge`, `noop`).
    JobName
);

job_name_type!(
    /// A queue: workers subscribe to queues by name.
    QueueName
);

impl QueueName {
    /// The queue of a job that names none.
    pub const DEFAULT: &'static str = "default";

    pub const fn default_queue() -> Self {
        Self::from_static(Self::DEFAULT)
    }
}

/// Order in which pending jobs of one queue are taken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    Critical,
}

impl Priority {
    pub const ALL: [Self; 4] = [Self::Low, Self::Normal, Self::High, Self::Critical];

    /// # Errors
    /// `invalid_priority` for anything but `low`, `normal`, `high` or `critical`.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == raw)
            .ok_or_else(|| ValueError::new("invalid_priority", "low, normal, high or critical"))
    }

    /// Its place in the order, from 0 (`low`) to 3 (`critical`): how stores that sort by
    /// number keep it.
    pub fn rank(self) -> u8 {
        match self {
            Self::Low => 0,
            Self::Normal => 1,
            Self::High => 2,
            Self::Critical => 3,
        }
    }

    /// The priority of `rank`, `None` outside 0–3.
    pub fn from_rank(rank: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.rank() == rank)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Normal => "normal",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Waiting for its run-at time (delayed, or waiting to retry).
    Scheduled,
    Pending,
    /// Held by a worker under a lease.
    Active,
    Completed,
    DeadLettered,
    Cancelled,
}

impl JobState {
    pub const ALL: [Self; 6] = [
        Self::Scheduled,
        Self::Pending,
        Self::Active,
        Self::Completed,
        Self::DeadLettered,
        Self::Cancelled,
    ];

    /// A state by its API name.
    ///
    /// # Errors
    /// `invalid_state` for a name that is none of [`JobState::as_str`]'s.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| {
                ValueError::new(
                    "invalid_state",
                    "scheduled, pending, active, completed, dead or cancelled",
                )
            })
    }

    /// The API name: `dead` for a dead-lettered job, the variant's name otherwise.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Completed => "completed",
            Self::DeadLettered => "dead",
            Self::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_within_the_rule_round_trip_exactly() {
        let longest = "a".repeat(MAX_NAME_LEN);
        for raw in ["noop", "sessions.purge", "Mail_out:v2-eu", longest.as_str()] {
            assert_eq!(JobName::parse(raw).unwrap().as_str(), raw);
            assert_eq!(QueueName::parse(raw).unwrap().to_string(), raw);
        }
    }

    #[test]
    fn names_outside_the_rule_are_refused() {
        let too_long = "a".repeat(MAX_NAME_LEN + 1);
        for raw in [
            "",
            "with space",
            "slash/ed",
            "ünï",
            "star*",
            too_long.as_str(),
        ] {
            assert_eq!(
                JobName::parse(raw).unwrap_err().code,
                "invalid_name",
                "{raw:?}"
            );
            assert_eq!(
                QueueName::parse(raw).unwrap_err().code,
                "invalid_name",
                "{raw:?}"
            );
            assert!(parse_unique_key(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn a_name_written_in_code_equals_the_same_name_parsed() {
        const PURGE: JobName = JobName::from_static("sessions.purge");
        assert_eq!(PURGE, JobName::parse("sessions.purge").unwrap());
        assert_eq!(PURGE.clone().into_string(), "sessions.purge");
    }

    #[test]
    #[should_panic(expected = "naming rule")]
    fn a_name_written_in_code_is_checked_too() {
        let _ = JobName::from_static("with space");
    }

    #[test]
    fn the_default_queue_obeys_the_rule() {
        assert_eq!(
            QueueName::parse(QueueName::DEFAULT).unwrap(),
            QueueName::default_queue()
        );
    }

    #[test]
    fn every_priority_round_trips_and_others_are_refused() {
        for priority in Priority::ALL {
            assert_eq!(Priority::parse(priority.as_str()).unwrap(), priority);
        }
        for raw in ["", "Normal", "urgent", " low"] {
            assert_eq!(Priority::parse(raw).unwrap_err().code, "invalid_priority");
        }
        assert_eq!(Priority::default(), Priority::Normal);
        for priority in Priority::ALL {
            assert_eq!(Priority::from_rank(priority.rank()), Some(priority));
        }
        assert!(
            Priority::ALL
                .windows(2)
                .all(|w| w[0].rank() < w[1].rank() && w[0] < w[1])
        );
        assert_eq!(Priority::from_rank(4), None);
    }

    #[test]
    fn every_state_round_trips_and_others_are_refused() {
        for state in JobState::ALL {
            assert_eq!(JobState::parse(state.as_str()).unwrap(), state);
        }
        assert_eq!(JobState::parse("dead").unwrap(), JobState::DeadLettered);
        for raw in ["", "dead_lettered", "Pending", "done"] {
            assert_eq!(JobState::parse(raw).unwrap_err().code, "invalid_state");
        }
    }
}
