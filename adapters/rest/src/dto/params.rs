//! Schemas of query parameters whose values the server checks against a closed list: built from
//! the domain's own lists, so the document cannot drift from what the parsers accept.

use arcana_domain::event::EventKind;
use arcana_domain::jobs::JobState;
use arcana_domain::{Role, Status};
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

fn one_of(names: impl IntoIterator<Item = &'static str>) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names))
        .build()
}

pub(crate) fn role() -> Object {
    one_of(Role::ALL.map(Role::as_str))
}

pub(crate) fn user_status() -> Object {
    one_of(Status::ALL.map(Status::as_str))
}

/// What `PUT /users/{id}/status` accepts: every status but `deleted`.
pub(crate) fn settable_status() -> Object {
    one_of(
        Status::ALL
            .into_iter()
            .filter(|status| *status != Status::Deleted)
            .map(Status::as_str),
    )
}

pub(crate) fn job_state() -> Object {
    one_of(JobState::ALL.map(JobState::as_str))
}

pub(crate) fn event_kind() -> Object {
    one_of(EventKind::ALL.map(EventKind::name))
}
