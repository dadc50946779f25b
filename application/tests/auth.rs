//! Account and session use cases over the in-memory adapters.

mod common;

use arcana_ports::usecases::RequestContext;
use std::sync::Arc;

use arcana_adapter_memory::ManualClock;
use arcana_application::AuthSettings;
use arcana_domain::Password;
use arcana_domain::event::EventKind;
use arcana_domain::session::ClientInfo;
use arcana_ports::audit::AuditQuery;
use arcana_ports::usecases::auth::{ChangePassword, Register};
use arcana_ports::usecases::{AuthError, AuthUseCases, TokenRejection, UserUseCases};
use arcana_ports::{StoreError, UniqueField};
use chrono::TimeDelta;
use common::{PASSWORD, World, ports_with, start};

fn rejection(result: Result<impl std::fmt::Debug, AuthError>) -> TokenRejection {
    match result {
        Err(AuthError::InvalidToken(reason)) => reason,
        other => panic!("expected a token rejection, got {other:?}"),
    }
}

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
async fn refresh_rotates_and_the_grace_window_refuses_without_revoking() {
    let world = World::new();
    let first = world.register("frank").await;
    let second = world
        .auth
        .refresh(
            &first.refresh_token,
            ClientInfo::default(),
            RequestContext::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        rejection(
            world
                .auth
                .refresh(
                    &first.refresh_token,
                    ClientInfo::default(),
                    RequestContext::default()
                )
                .await
        ),
        TokenRejection::Superseded
    );
    let third = world
        .auth
        .refresh(
            &second.refresh_token,
            ClientInfo::default(),
            RequestContext::default(),
        )
        .await;
    assert!(third.is_ok(), "the family survives a superseded replay");
}

#[tokio::test]
async fn reuse_after_the_grace_window_revokes_the_family() {
    let world = World::new();
    let first = world.register("grace").await;
    let second = world
        .auth
        .refresh(
            &first.refresh_token,
            ClientInfo::default(),
            RequestContext::default(),
        )
        .await
        .unwrap();
    world.clock.advance(TimeDelta::seconds(11));
    assert_eq!(
        rejection(
            world
                .auth
                .refresh(
                    &first.refresh_token,
                    ClientInfo::default(),
                    RequestContext::default()
                )
                .await
        ),
        TokenRejection::Reused
    );
    assert_eq!(
        rejection(
            world
                .auth
                .refresh(
                    &second.refresh_token,
                    ClientInfo::default(),
                    RequestContext::default()
                )
                .await
        ),
        TokenRejection::Revoked
    );
    assert_eq!(
        rejection(
            world
                .auth
                .authenticate(&second.access_token, RequestContext::default())
                .await
        ),
        TokenRejection::Revoked
    );
    let audit = world
        .ports
        .audit
        .query(&AuditQuery {
            actor: None,
            subject: None,
            action: Some(EventKind::SessionReuseDetected),
            before: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_produce_exactly_one_new_token() {
    let world = Arc::new(World::new());
    let session = world.register("heidi").await;
    let attempts = (0..8).map(|_| {
        let world = world.clone();
        let token = session.refresh_token.clone();
        tokio::spawn(async move {
            world
                .auth
                .refresh(&token, ClientInfo::default(), RequestContext::default())
                .await
        })
    });
    let mut successes = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(_) => successes += 1,
            Err(AuthError::InvalidToken(TokenRejection::Superseded)) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(successes, 1);
}

#[tokio::test]
async fn access_tokens_expire_with_the_clock_and_sessions_when_idle() {
    let world = World::new();
    let session = world.register("ivan").await;
    world.clock.advance(TimeDelta::minutes(16));
    assert_eq!(
        rejection(
            world
                .auth
                .authenticate(&session.access_token, RequestContext::default())
                .await
        ),
        TokenRejection::Expired
    );
    world.clock.advance(TimeDelta::days(8));
    assert_eq!(
        rejection(
            world
                .auth
                .refresh(
                    &session.refresh_token,
                    ClientInfo::default(),
                    RequestContext::default()
                )
                .await
        ),
        TokenRejection::Revoked
    );
}

#[tokio::test]
async fn logout_and_password_change_revoke_immediately() {
    let world = World::new();
    let here = world.register("judy").await;
    let there = world.login("judy", PASSWORD).await.unwrap();
    let principal = world.principal(&here).await;
    let change = ChangePassword {
        current_password: Password::candidate(PASSWORD),
        new_password: Password::candidate("brand-new-password"),
    };
    world
        .auth
        .change_password(&principal, change)
        .await
        .unwrap();
    assert_eq!(
        rejection(
            world
                .auth
                .authenticate(&there.access_token, RequestContext::default())
                .await
        ),
        TokenRejection::Revoked
    );
    world.principal(&here).await;

    world.auth.logout(&principal, false).await.unwrap();
    assert_eq!(
        rejection(
            world
                .auth
                .authenticate(&here.access_token, RequestContext::default())
                .await
        ),
        TokenRejection::Revoked
    );
    assert!(world.login("judy", "brand-new-password").await.is_ok());
}

#[tokio::test]
async fn a_new_password_must_follow_the_policy_and_the_current_one_must_match() {
    let world = World::new();
    let session = world.register("kate").await;
    let principal = world.principal(&session).await;
    let same_as_name = ChangePassword {
        current_password: Password::candidate(PASSWORD),
        new_password: Password::candidate("KATE@example.com"),
    };
    let Err(AuthError::Validation(fields)) =
        world.auth.change_password(&principal, same_as_name).await
    else {
        panic!()
    };
    assert_eq!(fields[0].field, "new_password");
    let wrong = ChangePassword {
        current_password: Password::candidate("not-my-password"),
        new_password: Password::candidate("brand-new-password"),
    };
    let Err(AuthError::Validation(fields)) = world.auth.change_password(&principal, wrong).await
    else {
        panic!()
    };
    assert_eq!(fields[0].field, "current_password");
}

#[tokio::test]
async fn sessions_are_listed_and_revoked_only_by_their_owner() {
    let world = World::new();
    let mine = world.register("liam").await;
    let other = world.register("mia").await;
    let me = world.principal(&mine).await;
    let them = world.principal(&other).await;
    assert_eq!(world.auth.list_sessions(&me).await.unwrap().len(), 1);
    let result = world.auth.revoke_session(&them, me.session_id).await;
    assert!(matches!(result, Err(AuthError::SessionNotFound)));
    world.auth.revoke_session(&me, me.session_id).await.unwrap();
    assert_eq!(
        rejection(
            world
                .auth
                .authenticate(&mine.access_token, RequestContext::default())
                .await
        ),
        TokenRejection::Revoked
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
