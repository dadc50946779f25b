//! The rank rule: who may act on whom.
//!
//! An actor may change role, status or existence only of users of strictly lower rank, and may
//! grant only roles below its own — except a superadmin, who may grant any role (including
//! superadmin) but still cannot act on another superadmin.

use crate::Role;

/// Whether `actor` may change the role, status, profile or existence of a user holding `target`.
pub fn may_manage(actor: Role, target: Role) -> bool {
    actor > target
}

/// Whether `actor` may hand out `role`.
pub fn may_grant(actor: Role, role: Role) -> bool {
    actor == Role::Superadmin || role < actor
}

#[cfg(test)]
mod tests {
    use super::*;
    use Role::{Admin, Moderator, Superadmin, User};

    const ALL: [Role; 4] = [User, Moderator, Admin, Superadmin];

    #[test]
    fn managing_requires_strictly_higher_rank_for_every_pair() {
        for (i, actor) in ALL.iter().enumerate() {
            for (j, target) in ALL.iter().enumerate() {
                assert_eq!(
                    may_manage(*actor, *target),
                    i > j,
                    "{actor:?} on {target:?}"
                );
            }
        }
    }

    #[test]
    fn granting_is_limited_to_lower_roles_except_for_superadmin() {
        let expected = [
            (User, [false, false, false, false]),
            (Moderator, [true, false, false, false]),
            (Admin, [true, true, false, false]),
            (Superadmin, [true, true, true, true]),
        ];
        for (actor, row) in expected {
            for (role, allowed) in ALL.iter().zip(row) {
                assert_eq!(
                    may_grant(actor, *role),
                    allowed,
                    "{actor:?} grants {role:?}"
                );
            }
        }
    }
}
