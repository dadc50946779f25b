//! `SqliteAuditLog`: newest first, filters, paging backwards.

use arcana_domain::UserId;
use arcana_domain::audit::AuditEntry;
use arcana_domain::event::{DomainEvent, EventKind, Subject};
use arcana_ports::audit::{AuditLog, AuditQuery};
use chrono::TimeDelta;

use crate::support::{TestDb, now};

fn entry(kind: EventKind, actor: Option<UserId>, subject: Subject, seconds: i64) -> AuditEntry {
    let at = now() + TimeDelta::seconds(seconds);
    let event = DomainEvent::new(kind, actor, subject, at).with_detail("tests");
    AuditEntry::from_event(&event, Some("198.51.100.1".into()))
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

#[tokio::test]
async fn entries_come_back_newest_first_filtered_and_paged_backwards() {
    let db = TestDb::fresh().await;
    let audit = db.store.audit();
    let (admin, target) = (UserId::generate(), UserId::generate());
    let mut written = Vec::new();
    for i in 0..4 {
        let kind = if i % 2 == 0 {
            EventKind::UserRoleChanged
        } else {
            EventKind::UserDeleted
        };
        let row = entry(kind, Some(admin), Subject::User(target), i);
        audit.append(&row).await.unwrap();
        written.push(row);
    }
    let anonymous = entry(
        EventKind::UserLoginFailed,
        None,
        Subject::LoginIdentifier("a***".into()),
        9,
    );
    audit.append(&anonymous).await.unwrap();

    assert_eq!(
        audit.query(&all(1)).await.unwrap(),
        std::slice::from_ref(&anonymous)
    );
    let by_actor = AuditQuery {
        actor: Some(admin),
        limit: 2,
        ..all(0)
    };
    let page = audit.query(&by_actor).await.unwrap();
    assert_eq!(page, [written[3].clone(), written[2].clone()]);
    let next = AuditQuery {
        before: Some(page[1].id),
        ..by_actor
    };
    assert_eq!(
        audit.query(&next).await.unwrap(),
        [written[1].clone(), written[0].clone()]
    );

    let deleted = AuditQuery {
        action: Some(EventKind::UserDeleted),
        ..all(10)
    };
    assert_eq!(audit.query(&deleted).await.unwrap().len(), 2);
    let subject = AuditQuery {
        subject: Some(anonymous.subject.clone()),
        ..all(10)
    };
    assert_eq!(audit.query(&subject).await.unwrap(), [anonymous]);
}
