//! Sessions over the in-memory adapters: refresh rotation, reuse detection, expiry, logout,
//! password change and revocation by the owner.

mod common;

use arcana_ports::usecases::RequestContext;
use std::sync::Arc;

use arcana_domain::Password;
use arcana_domain::event::EventKind;
use arcana_domain::session::ClientInfo;
use arcana_ports::audit::AuditQuery;
use arcana_ports::usecases::auth::ChangePassword;
use arcana_ports::usecases::{AuthError, AuthUseCases, TokenRejection};
use chrono::TimeDelta;
use common::{PASSWORD, World, rejection};

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
