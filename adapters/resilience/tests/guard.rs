//! The decorators through the `UserRepository` port, in front of the in-memory adapter behind
//! a switchable outage that counts every call reaching it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use arcana_adapter_memory::InMemoryUserRepository;
use arcana_adapter_resilience::{
    BreakerPolicy, Guard, Policy, ResilienceMetrics, ResilientUserRepository, RetryPolicy,
};
use arcana_domain::{Email, NewUser, PasswordHash, Role, Status, User, UserId, Username};
use arcana_ports::StoreError;
use arcana_ports::resilience::{BreakerState, CircuitOpen};
use arcana_ports::users::{UserQuery, UserRepository};
use async_trait::async_trait;

/// The dependency: the in-memory store, unless `down`, when every call fails as a timeout
/// would (outcome unknown). Counts the calls that reach it.
struct Outage {
    inner: InMemoryUserRepository,
    down: AtomicBool,
    calls: AtomicUsize,
}

impl Outage {
    fn enter(&self) -> Result<(), StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::OutcomeUnknown(anyhow::anyhow!(
                "connection lost"
            )));
        }
        Ok(())
    }
}

#[async_trait]
impl UserRepository for Outage {
    async fn insert(&self, user: &User) -> Result<(), StoreError> {
        self.enter()?;
        self.inner.insert(user).await
    }
    async fn update(&self, user: &User) -> Result<User, StoreError> {
        self.enter()?;
        self.inner.update(user).await
    }
    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.enter()?;
        self.inner.find_by_id(id).await
    }
    async fn find_by_username(&self, name: &Username) -> Result<Option<User>, StoreError> {
        self.enter()?;
        self.inner.find_by_username(name).await
    }
    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        self.enter()?;
        self.inner.find_by_email(email).await
    }
    async fn list(&self, query: &UserQuery) -> Result<Vec<User>, StoreError> {
        self.enter()?;
        self.inner.list(query).await
    }
}

fn user(name: &str) -> User {
    User::register(
        NewUser {
            username: Username::parse(name).unwrap(),
            email: Email::parse(&format!("{name}@example.com")).unwrap(),
            display_name: None,
            password_hash: PasswordHash::parse(
                "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            )
            .unwrap(),
            role: Role::User,
            status: Status::Active,
        },
        chrono::Utc::now(),
    )
}

fn policy(retries: usize, failures: u32) -> Policy {
    Policy {
        timeout: Some(Duration::from_secs(5)),
        retry: Some(RetryPolicy {
            max_retries: retries,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
        }),
        breaker: Some(BreakerPolicy {
            failures,
            open: Duration::from_mins(1),
            max_open: Duration::from_mins(1),
        }),
        max_concurrent: Some(8),
    }
}

fn setup(policy: &Policy) -> (Arc<Outage>, ResilientUserRepository, Arc<Guard>) {
    let outage = Arc::new(Outage {
        inner: InMemoryUserRepository::new(),
        down: AtomicBool::new(false),
        calls: AtomicUsize::new(0),
    });
    let metrics = ResilienceMetrics::unregistered().unwrap();
    let guard = Arc::new(Guard::new("database", policy, &metrics));
    let repo = ResilientUserRepository::new(outage.clone(), guard.clone());
    (outage, repo, guard)
}

#[tokio::test]
async fn a_write_that_is_not_safe_to_retry_reaches_the_dependency_once() {
    let (outage, repo, _) = setup(&policy(3, 100));
    outage.down.store(true, Ordering::SeqCst);
    let outcome = repo.insert(&user("once")).await;
    assert!(matches!(outcome, Err(StoreError::OutcomeUnknown(_))));
    assert_eq!(outage.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_read_is_retried_up_to_the_configured_number_of_retries() {
    let (outage, repo, _) = setup(&policy(3, 100));
    outage.down.store(true, Ordering::SeqCst);
    let outcome = repo.find_by_id(user("reader").id()).await;
    assert!(matches!(outcome, Err(StoreError::OutcomeUnknown(_))));
    assert_eq!(outage.calls.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn an_answer_of_a_healthy_dependency_is_neither_retried_nor_counted() {
    let (outage, repo, guard) = setup(&policy(3, 1));
    let stored = user("taken");
    repo.insert(&stored).await.unwrap();
    let conflict = repo.insert(&user("taken")).await;
    assert!(matches!(conflict, Err(StoreError::Conflict(_))));
    assert_eq!(outage.calls.load(Ordering::SeqCst), 2);
    assert_eq!(guard.breaker_state(), Some(BreakerState::Closed));
}

#[tokio::test]
async fn an_open_breaker_refuses_at_once_without_reaching_the_dependency() {
    let (outage, repo, guard) = setup(&policy(0, 3));
    outage.down.store(true, Ordering::SeqCst);
    for _ in 0..3 {
        assert!(repo.find_by_id(user("xyz").id()).await.is_err());
    }
    assert_eq!(guard.breaker_state(), Some(BreakerState::Open));
    let calls = outage.calls.load(Ordering::SeqCst);

    outage.down.store(false, Ordering::SeqCst);
    let Err(StoreError::Unavailable(cause)) = repo.find_by_id(user("xyz").id()).await else {
        panic!("an open breaker must refuse the call as unavailable");
    };
    let open = CircuitOpen::find(&cause).expect("the refusal names the open breaker");
    assert_eq!(open.dependency, "database");
    assert!(open.retry_after >= Duration::from_secs(1));
    assert_eq!(
        outage.calls.load(Ordering::SeqCst),
        calls,
        "refused calls never reach it"
    );
}

#[tokio::test]
async fn a_refused_read_is_not_retried() {
    let (outage, repo, _) = setup(&policy(5, 1));
    outage.down.store(true, Ordering::SeqCst);
    // The first attempt fails and opens the breaker; the retries are refused, and a refusal
    // ends the retrying.
    assert!(repo.find_by_id(user("xyz").id()).await.is_err());
    assert_eq!(outage.calls.load(Ordering::SeqCst), 1);
}
