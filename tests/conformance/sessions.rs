//! `SessionStore` contract cases.

use std::sync::Arc;

use arcana_domain::UserId;
use arcana_domain::session::{ClientInfo, Session};
use chrono::TimeDelta;

use crate::cases;
use crate::fixtures::{hash, lifetimes, now, session};
use crate::harness::{Case, Stores};

pub fn cases() -> Vec<Case> {
    cases![
        sessions_round_trip_with_every_field,
        rotation_swaps_only_from_the_current_token_of_a_live_family,
        concurrent_rotations_with_one_token_let_exactly_one_through,
        revoking_one_session_or_a_whole_user_is_counted_and_final,
        live_sessions_exclude_revoked_and_expired_ones_newest_first,
        denied_access_tokens_stay_denied_until_their_expiry,
        purging_forgets_dead_sessions_and_expired_denials_only,
    ]
}

async fn sessions_round_trip_with_every_field(s: Arc<Stores>) {
    let at = now();
    let original = session(UserId::generate(), 'a', at);
    s.sessions.create(&original).await.unwrap();
    assert_eq!(
        s.sessions.find(original.id()).await.unwrap(),
        Some(original.clone())
    );
    let rotated = original.rotated(
        hash('b'),
        lifetimes().idle,
        &ClientInfo::default(),
        at + TimeDelta::seconds(3),
    );
    assert!(s.sessions.rotate(&hash('a'), &rotated).await.unwrap());
    assert_eq!(s.sessions.find(original.id()).await.unwrap(), Some(rotated));
}

async fn rotation_swaps_only_from_the_current_token_of_a_live_family(s: Arc<Stores>) {
    let at = now();
    let first = session(UserId::generate(), 'a', at);
    s.sessions.create(&first).await.unwrap();
    let second = first.rotated(hash('b'), lifetimes().idle, &ClientInfo::default(), at);
    assert!(s.sessions.rotate(&hash('a'), &second).await.unwrap());
    let replay = first.rotated(hash('c'), lifetimes().idle, &ClientInfo::default(), at);
    assert!(
        !s.sessions.rotate(&hash('a'), &replay).await.unwrap(),
        "the replaced token cannot rotate"
    );
    assert!(s.sessions.revoke(first.id(), at).await.unwrap());
    let after_revoke = second.rotated(hash('d'), lifetimes().idle, &ClientInfo::default(), at);
    assert!(
        !s.sessions.rotate(&hash('b'), &after_revoke).await.unwrap(),
        "a revoked family cannot rotate"
    );
    let stored = s.sessions.find(first.id()).await.unwrap().unwrap();
    assert_eq!(stored.refresh_hash(), &hash('b'));
    assert!(stored.revoked_at().is_some());
}

async fn concurrent_rotations_with_one_token_let_exactly_one_through(s: Arc<Stores>) {
    let at = now();
    let original = session(UserId::generate(), 'a', at);
    s.sessions.create(&original).await.unwrap();
    let seeds = ['1', '2', '3', '4', '5', '6', '7', '8'];
    let racers = seeds.map(|seed| {
        let s = s.clone();
        let next = original.rotated(hash(seed), lifetimes().idle, &ClientInfo::default(), at);
        tokio::spawn(async move {
            s.sessions
                .rotate(&hash('a'), &next)
                .await
                .map(|won| won.then_some(seed))
        })
    });
    let mut winners = Vec::new();
    for racer in racers {
        if let Some(seed) = racer.await.unwrap().unwrap() {
            winners.push(seed);
        }
    }
    assert_eq!(winners.len(), 1, "one live branch only: {winners:?}");
    let stored = s.sessions.find(original.id()).await.unwrap().unwrap();
    assert_eq!(stored.refresh_hash(), &hash(winners[0]));
}

async fn revoking_one_session_or_a_whole_user_is_counted_and_final(s: Arc<Stores>) {
    let at = now();
    let (alice, bob) = (UserId::generate(), UserId::generate());
    let mine: Vec<_> = ['a', 'b', 'c'].map(|c| session(alice, c, at)).into();
    for row in &mine {
        s.sessions.create(row).await.unwrap();
    }
    let theirs = session(bob, 'd', at);
    s.sessions.create(&theirs).await.unwrap();

    assert!(s.sessions.revoke(mine[0].id(), at).await.unwrap());
    assert!(
        !s.sessions.revoke(mine[0].id(), at).await.unwrap(),
        "revoking twice changes nothing"
    );
    let revoked = s
        .sessions
        .revoke_all_for_user(alice, Some(mine[2].id()), at)
        .await
        .unwrap();
    assert_eq!(
        revoked,
        [mine[1].id()],
        "only the one still live and not kept"
    );
    assert!(
        s.sessions
            .find(mine[2].id())
            .await
            .unwrap()
            .unwrap()
            .revoked_at()
            .is_none()
    );
    assert!(
        s.sessions
            .find(theirs.id())
            .await
            .unwrap()
            .unwrap()
            .revoked_at()
            .is_none(),
        "other users untouched"
    );
    assert_eq!(
        s.sessions
            .revoke_all_for_user(alice, None, at)
            .await
            .unwrap(),
        [mine[2].id()]
    );
}

async fn live_sessions_exclude_revoked_and_expired_ones_newest_first(s: Arc<Stores>) {
    let at = now();
    let user = UserId::generate();
    let old = session(user, 'a', at - TimeDelta::minutes(30));
    let recent = session(user, 'b', at - TimeDelta::minutes(1));
    let idle = session(user, 'c', at - TimeDelta::minutes(61));
    let revoked = session(user, 'd', at);
    for row in [&old, &recent, &idle, &revoked] {
        s.sessions.create(row).await.unwrap();
    }
    s.sessions.revoke(revoked.id(), at).await.unwrap();
    let live: Vec<_> = s
        .sessions
        .list_live_for_user(user, at)
        .await
        .unwrap()
        .iter()
        .map(Session::id)
        .collect();
    assert_eq!(live, [recent.id(), old.id()]);
    assert!(
        s.sessions
            .list_live_for_user(UserId::generate(), at)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn denied_access_tokens_stay_denied_until_their_expiry(s: Arc<Stores>) {
    let at = now();
    s.sessions
        .deny_access_token("jti-1", at + TimeDelta::minutes(5))
        .await
        .unwrap();
    s.sessions
        .deny_access_token("jti-1", at + TimeDelta::minutes(5))
        .await
        .unwrap();
    assert!(
        s.sessions
            .is_access_token_denied("jti-1", at)
            .await
            .unwrap()
    );
    assert!(
        !s.sessions
            .is_access_token_denied("jti-2", at)
            .await
            .unwrap()
    );
    assert!(
        !s.sessions
            .is_access_token_denied("jti-1", at + TimeDelta::minutes(5))
            .await
            .unwrap()
    );
}

async fn purging_forgets_dead_sessions_and_expired_denials_only(s: Arc<Stores>) {
    let at = now();
    let user = UserId::generate();
    let live = session(user, 'a', at);
    let expired = session(user, 'b', at - TimeDelta::days(2));
    let revoked = session(user, 'c', at);
    for row in [&live, &expired, &revoked] {
        s.sessions.create(row).await.unwrap();
    }
    s.sessions.revoke(revoked.id(), at).await.unwrap();
    s.sessions
        .deny_access_token("old", at - TimeDelta::seconds(1))
        .await
        .unwrap();
    s.sessions
        .deny_access_token("current", at + TimeDelta::minutes(1))
        .await
        .unwrap();

    assert_eq!(s.sessions.purge_expired(at).await.unwrap(), 3);
    assert!(s.sessions.find(live.id()).await.unwrap().is_some());
    assert!(s.sessions.find(expired.id()).await.unwrap().is_none());
    assert!(s.sessions.find(revoked.id()).await.unwrap().is_none());
    assert!(
        s.sessions
            .is_access_token_denied("current", at)
            .await
            .unwrap()
    );
}
