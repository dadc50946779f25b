//! Account and session use cases over the in-memory adapters.

mod common;

use arcana_ports::usecases::RequestContext;
use std::sync::Arc;

use arcana_adapter_memory::ManualClock;
use arcana_application::AuthSettings;
use arcana_domain::Password;
use arcana_domain::session::ClientInfo;
use arcana_ports::usecases::auth::Register;
use arcana_ports::usecases::{AuthError, AuthUseCases, TokenRejection, UserUseCases};
use arcana_ports::{StoreError, UniqueField};
use chrono::TimeDelta;
use common::{PASSWORD, World, ports_with, rejection, start};

#[tokio::test]
async fn registration_signs_in_and_login_accepts_username_or_email_in_any_case() {
    let world = World::new();
    let registered = world.register("Alice").await;
    assert_eq!(registered.user.username().as_str(), "alice");
    world.principal(&registered).await;
    assert!(world.login("ALICE", PASSWORD).await.is_ok());
    assert!(world.login(" Alice@Example.com ", PASSWORD).await.is_ok());
}

#[tokio::test]
async fn registration_reports_every_invalid_field_and_conflicts_by_field() {
    let world = World::new();
    let result = world
        .auth
        .register(Register {
            username: "x".into(),
            email: "nope".into(),
            password: Password::candidate("short"),
            display_name: Some(" ".into()),
            client: ClientInfo::default(),
            request: RequestContext::default(),
        })
        .await;
    let Err(AuthError::Validation(fields)) = result else {
        panic!("{result:?}")
    };
    let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(names, ["username", "email", "password", "display_name"]);

    world.register("bob").await;
    let duplicate = world
        .auth
        .register(Register {
            username: "BOB".into(),
            email: "other@example.com".into(),
            password: Password::candidate(PASSWORD),
            display_name: None,
            client: ClientInfo::default(),
            request: RequestContext::default(),
        })
        .await;
    assert!(matches!(
        duplicate,
        Err(AuthError::Conflict(UniqueField::Username))
    ));
}

#[tokio::test]
async fn unknown_accounts_and_wrong_passwords_fail_the_same_way() {
    let world = World::new();
    world.register("carol").await;
    assert!(matches!(
        world.login("carol", "wrong-password!").await,
        Err(AuthError::InvalidCredentials)
    ));
    assert!(matches!(
        world.login("nobody", "wrong-password!").await,
        Err(AuthError::InvalidCredentials)
    ));
    assert!(matches!(
        world.login("no@where.example", "wrong-password!").await,
        Err(AuthError::InvalidCredentials)
    ));
}

#[tokio::test]
async fn failures_lock_an_identifier_out_for_growing_times_that_expire_by_themselves() {
    let world = World::new();
    world.register("dave").await;
    for _ in 0..5 {
        assert!(matches!(
            world.login("dave", "wrong-password!").await,
            Err(AuthError::InvalidCredentials)
        ));
    }
    let Err(AuthError::Throttled { retry_after }) = world.login("dave", PASSWORD).await else {
        panic!()
    };
    assert_eq!(retry_after.as_secs(), 30);

    world.clock.advance(TimeDelta::seconds(31));
    assert!(matches!(
        world.login("dave", "wrong-password!").await,
        Err(AuthError::InvalidCredentials)
    ));
    let Err(AuthError::Throttled { retry_after }) = world.login("dave", PASSWORD).await else {
        panic!()
    };
    assert_eq!(
        retry_after.as_secs(),
        60,
        "the second lockout is twice as long"
    );

    world.clock.advance(TimeDelta::seconds(61));
    assert!(
        world.login("dave", PASSWORD).await.is_ok(),
        "lockout expired and success resets the count"
    );
    assert!(matches!(
        world.login("dave", "wrong-password!").await,
        Err(AuthError::InvalidCredentials)
    ));
}

#[tokio::test]
async fn unknown_identifiers_are_throttled_like_real_ones() {
    let world = World::new();
    for _ in 0..5 {
        let _ = world.login("ghost", "wrong-password!").await;
    }
    assert!(matches!(
        world.login("ghost", "wrong-password!").await,
        Err(AuthError::Throttled { .. })
    ));
}

#[tokio::test]
async fn a_client_address_is_throttled_across_identifiers() {
    let mut settings = AuthSettings::default();
    settings.throttle.ip_threshold = 3;
    let world = World::with_settings(settings);
    world.register("erin").await;
    for name in ["a-one", "a-two", "a-three"] {
        let _ = world
            .login_from(name, "wrong-password!", Some("203.0.113.9"))
            .await;
    }
    let blocked = world
        .login_from("erin", PASSWORD, Some("203.0.113.9"))
        .await;
    assert!(matches!(blocked, Err(AuthError::Throttled { .. })));
    assert!(
        world
            .login_from("erin", PASSWORD, Some("198.51.100.1"))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn suspended_accounts_learn_it_only_with_the_right_password() {
    let world = World::new();
    let root = world.root().await;
    let session = world.register("nina").await;
    world
        .users
        .set_status(&root, session.user.id(), "suspended", Some("abuse".into()))
        .await
        .unwrap();
    assert_eq!(
        rejection(
            world
                .auth
                .authenticate(&session.access_token, RequestContext::default())
                .await
        ),
        TokenRejection::Revoked
    );
    assert!(matches!(
        world.login("nina", "wrong-password!").await,
        Err(AuthError::InvalidCredentials)
    ));
    assert!(matches!(
        world.login("nina", PASSWORD).await,
        Err(AuthError::AccountDisabled(_))
    ));
}

#[tokio::test]
async fn an_unreachable_user_store_is_reported_as_unavailable() {
    let clock = Arc::new(ManualClock::new(start()));
    let mut ports = ports_with(clock.clone());
    let mut users = arcana_ports::users::MockUserRepository::new();
    users.expect_find_by_username().returning(|_| {
        Err(StoreError::Unavailable(anyhow::anyhow!(
            "connection refused"
        )))
    });
    ports.users = Arc::new(users);
    let world = World::from_ports(ports, clock, AuthSettings::default());
    assert!(matches!(
        world.login("olga", PASSWORD).await,
        Err(AuthError::Unavailable(_))
    ));
}
