//! `AuditLog` contract cases.

use std::sync::Arc;

use arcana_domain::UserId;
use arcana_domain::event::{EventKind, Subject};
use arcana_ports::audit::AuditQuery;
use chrono::TimeDelta;

use crate::cases;
use crate::fixtures::{audit_entry, now};
use crate::harness::{Case, Stores};

pub fn cases() -> Vec<Case> {
    cases![
        entries_come_back_newest_first_with_every_field,
        entries_filter_by_actor_action_and_subject_and_page_backwards
    ]
}

fn all(limit: usize) -> AuditQuery {
    AuditQuery {
        actor: None,
        subject: None,
        action: None,
        before: None,
        limit,
    }
}

async fn entries_come_back_newest_first_with_every_field(s: Arc<Stores>) {
    let at = now();
    let actor = UserId::generate();
    let first = audit_entry(EventKind::UserRegistered, None, Subject::User(actor), at);
    let second = audit_entry(
        EventKind::UserLoginFailed,
        None,
        Subject::LoginIdentifier("a***".into()),
        at + TimeDelta::seconds(1),
    );
    s.audit.append(&first).await.unwrap();
    s.audit.append(&second).await.unwrap();
    assert_eq!(s.audit.query(&all(10)).await.unwrap(), vec![second, first]);
}

async fn entries_filter_by_actor_action_and_subject_and_page_backwards(s: Arc<Stores>) {
    let at = now();
    let (admin, target) = (UserId::generate(), UserId::generate());
    let mut written = Vec::new();
    for i in 0..5 {
        let kind = if i % 2 == 0 {
            EventKind::UserStatusChanged
        } else {
            EventKind::UserRoleChanged
        };
        let entry = audit_entry(
            kind,
            Some(admin),
            Subject::User(target),
            at + TimeDelta::seconds(i),
        );
        s.audit.append(&entry).await.unwrap();
        written.push(entry);
    }
    let noise = audit_entry(
        EventKind::UserLoggedIn,
        Some(target),
        Subject::User(admin),
        at,
    );
    s.audit.append(&noise).await.unwrap();

    let by_actor = AuditQuery {
        actor: Some(admin),
        ..all(10)
    };
    assert_eq!(s.audit.query(&by_actor).await.unwrap().len(), 5);
    let by_action = AuditQuery {
        action: Some(EventKind::UserRoleChanged),
        ..all(10)
    };
    assert_eq!(s.audit.query(&by_action).await.unwrap().len(), 2);
    let by_subject = AuditQuery {
        subject: Some(format!("user:{admin}")),
        ..all(10)
    };
    assert_eq!(s.audit.query(&by_subject).await.unwrap(), vec![noise]);

    let first_page = s
        .audit
        .query(&AuditQuery {
            limit: 2,
            ..by_actor.clone()
        })
        .await
        .unwrap();
    assert_eq!(first_page, vec![written[4].clone(), written[3].clone()]);
    let next = AuditQuery {
        before: Some(first_page[1].id),
        limit: 10,
        ..by_actor
    };
    assert_eq!(
        s.audit.query(&next).await.unwrap(),
        vec![written[2].clone(), written[1].clone(), written[0].clone()]
    );
}
