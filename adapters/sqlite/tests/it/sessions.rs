//! `SqliteSessionStore`: atomic rotation under concurrency, revocation, the deny list, purging.

use std::sync::Arc;

use arcana_domain::UserId;
use arcana_ports::sessions::SessionStore;
use chrono::TimeDelta;

use crate::support::{TestDb, hash, lifetimes, now, session};

#[tokio::test]
async fn a_session_round_trips_and_rotates_only_from_its_current_token() {
    let db = TestDb::fresh().await;
    let sessions = db.store.sessions();
    let at = now();
    let first = session(UserId::generate(), 'a', at);
    sessions.create(&first).await.unwrap();
    assert_eq!(sessions.find(first.id).await.unwrap(), Some(first.clone()));

    let second = first.rotated(hash('b'), lifetimes().idle, at + TimeDelta::seconds(1));
    assert!(sessions.rotate(&hash('a'), &second).await.unwrap());
    assert_eq!(sessions.find(first.id).await.unwrap(), Some(second.clone()));
    let replay = first.rotated(hash('c'), lifetimes().idle, at);
    assert!(!sessions.rotate(&hash('a'), &replay).await.unwrap());

    assert!(sessions.revoke(first.id, at).await.unwrap());
    assert!(!sessions.revoke(first.id, at).await.unwrap());
    let after_revoke = second.rotated(hash('d'), lifetimes().idle, at);
    assert!(!sessions.rotate(&hash('b'), &after_revoke).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_concurrent_rotations_with_one_token_let_exactly_one_through() {
    let db = TestDb::fresh().await;
    let sessions = Arc::new(db.store.sessions());
    let at = now();
    let original = session(UserId::generate(), 'a', at);
    sessions.create(&original).await.unwrap();
    let racers: Vec<_> = ['1', '2', '3', '4', '5', '6', '7', '8']
        .into_iter()
        .map(|seed| {
            let sessions = sessions.clone();
            let next = original.rotated(hash(seed), lifetimes().idle, at);
            tokio::spawn(async move { (seed, sessions.rotate(&hash('a'), &next).await) })
        })
        .collect();
    let mut winners = Vec::new();
    for racer in racers {
        let (seed, outcome) = racer.await.unwrap();
        if outcome.expect("no rotation fails, e.g. with 'database is locked'") {
            winners.push(seed);
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let stored = sessions.find(original.id).await.unwrap().unwrap();
    assert_eq!(stored.refresh_hash, hash(winners[0]));
}

#[tokio::test]
async fn revoking_a_user_keeps_one_session_and_lists_only_live_ones_newest_first() {
    let db = TestDb::fresh().await;
    let sessions = db.store.sessions();
    let at = now();
    let user = UserId::generate();
    let old = session(user, 'a', at - TimeDelta::minutes(30));
    let recent = session(user, 'b', at - TimeDelta::minutes(1));
    let idle = session(user, 'c', at - TimeDelta::minutes(61));
    let other = session(UserId::generate(), 'd', at);
    for row in [&old, &recent, &idle, &other] {
        sessions.create(row).await.unwrap();
    }
    let live: Vec<_> = sessions.list_live_for_user(user, at).await.unwrap();
    assert_eq!(
        live.iter().map(|s| s.id).collect::<Vec<_>>(),
        [recent.id, old.id]
    );

    assert_eq!(
        sessions
            .revoke_all_for_user(user, Some(recent.id), at)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        sessions.list_live_for_user(user, at).await.unwrap(),
        [recent]
    );
    assert!(
        sessions
            .find(other.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_none()
    );
}

#[tokio::test]
async fn denials_last_until_their_expiry_and_purging_forgets_only_the_dead() {
    let db = TestDb::fresh().await;
    let sessions = db.store.sessions();
    let at = now();
    sessions
        .deny_access_token("jti-1", at + TimeDelta::minutes(5))
        .await
        .unwrap();
    sessions
        .deny_access_token("jti-1", at + TimeDelta::minutes(5))
        .await
        .unwrap();
    sessions
        .deny_access_token("old", at - TimeDelta::seconds(1))
        .await
        .unwrap();
    assert!(sessions.is_access_token_denied("jti-1", at).await.unwrap());
    assert!(!sessions.is_access_token_denied("jti-2", at).await.unwrap());
    assert!(
        !sessions
            .is_access_token_denied("jti-1", at + TimeDelta::minutes(5))
            .await
            .unwrap()
    );

    let user = UserId::generate();
    let live = session(user, 'a', at);
    let expired = session(user, 'b', at - TimeDelta::days(2));
    let revoked = session(user, 'c', at);
    for row in [&live, &expired, &revoked] {
        sessions.create(row).await.unwrap();
    }
    sessions.revoke(revoked.id, at).await.unwrap();
    assert_eq!(sessions.purge_expired(at).await.unwrap(), 3);
    assert!(sessions.find(live.id).await.unwrap().is_some());
    assert!(sessions.find(expired.id).await.unwrap().is_none());
    assert!(sessions.is_access_token_denied("jti-1", at).await.unwrap());
}
