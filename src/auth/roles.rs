//! Roles and the one role -> permission table. Deny by default: a permission not listed for a
//! role is refused with 403.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A role a user holds (see README's roles table).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    UfwdStaff,
    OrgStaff,
    Leader,
    Department,
    Representative,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Admin,
        Role::UfwdStaff,
        Role::OrgStaff,
        Role::Leader,
        Role::Department,
        Role::Representative,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::UfwdStaff => "ufwd_staff",
            Role::OrgStaff => "org_staff",
            Role::Leader => "leader",
            Role::Department => "department",
            Role::Representative => "representative",
            Role::Auditor => "auditor",
        }
    }

    /// The simplified-Chinese label a client shows.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "系统管理员",
            Role::UfwdStaff => "区委统战部",
            Role::OrgStaff => "区委组织部",
            Role::Leader => "区领导",
            Role::Department => "承办部门",
            Role::Representative => "党外代表人士",
            Role::Auditor => "审计监督",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == value)
    }

    /// Admin and auditor are held alone (separation of duties): the one who manages accounts
    /// or reviews the record must not also act in the business.
    pub fn must_be_alone(self) -> bool {
        matches!(self, Role::Admin | Role::Auditor)
    }
}

/// Checks a set of roles a user is to hold: at least one, no duplicates, and admin or auditor
/// only alone. Returns the rule broken.
pub fn check_role_set(roles: &[Role]) -> Result<(), &'static str> {
    if roles.is_empty() {
        return Err("at_least_one_role");
    }
    let mut sorted = roles.to_vec();
    sorted.sort();
    sorted.dedup();
    if sorted.len() != roles.len() {
        return Err("duplicate_role");
    }
    if roles.len() > 1 && roles.iter().any(|r| r.must_be_alone()) {
        return Err("admin_and_auditor_must_be_held_alone");
    }
    Ok(())
}

/// Declares the permissions once: the `Permission` enum, and in `can` one marker type per
/// permission for `Authorized<P>`, so that a handler's signature names what it requires.
macro_rules! permissions {
    ($($(#[$doc:meta])* $name:ident,)+) => {
        /// What a role may do. Object scope (own records, own unit) is checked by the services.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Permission {
            $($(#[$doc])* $name,)+
        }

        impl Permission {
            pub const ALL: &'static [Permission] = &[$(Permission::$name,)+];

            /// The name handlers give in their OpenAPI annotation (see `openapi::name_roles`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Permission::$name => stringify!($name),)+
                }
            }

            pub fn from_name(name: &str) -> Option<Permission> {
                Permission::ALL.iter().copied().find(|p| p.name() == name)
            }
        }

        /// Permission markers for `Authorized<P>`, one per `Permission`.
        pub mod can {
            use super::Permission;
            use crate::auth::RequiredPermission;
            $(
                #[derive(Debug)]
                pub struct $name;
                impl RequiredPermission for $name {
                    const PERMISSION: Permission = Permission::$name;
                }
            )+
        }
    };
}

permissions! {
    /// List and read units (the organisation chart is not personal data).
    UnitsRead,
    UnitsManage,
    UsersRead,
    UsersManage,
    /// Read the audit log and verify its chain.
    AuditRead,
    /// Read one cadre profile and its history; a representative only their own (scope is
    /// checked by the handler: others answer 404).
    CadreView,
    /// List, search and count all cadres (masked).
    CadresRead,
    /// Create and change profiles and history records, archive and restore.
    CadresWrite,
    /// See ID numbers and phones unmasked, with a reason that is audited.
    CadresReveal,
    /// Import from and export to spreadsheets.
    CadresTransfer,
    /// A representative's own profile and correction requests.
    OwnProfile,
    /// Decide representatives' correction requests.
    CorrectionsReview,
    /// Read meetings, agendas, invitations, opinions and the participation reports.
    MeetingsRead,
    /// Schedule and run meetings: agenda, invitations, attendance, adoption, exemptions.
    MeetingsManage,
    /// A representative's own invitations and opinions.
    OwnParticipation,
    /// Record an opinion on an agenda item (a representative their own; staff on behalf).
    OpinionsRecord,
    /// Read terms, pairings, campaigns and talks (a leader: only its own pairings).
    ContactsRead,
    /// Read every pairing and talk, and the coverage report.
    ContactsReadAll,
    /// Manage terms, pairings and campaigns.
    ContactsManage,
    /// Record and correct talks under one's own pairings.
    TalksWrite,
    /// A representative's own talks (dates, forms, follow-ups).
    OwnTalks,
    /// Read suggestions within one's scope (staff all; others their own; see the handlers).
    SuggestionsRead,
    /// Read every suggestion, with every department's internal notes.
    SuggestionsReadAll,
    /// Submit, supplement, co-sign and rate suggestions.
    SuggestionsSubmit,
    /// Intake, present, close; decide extension and return requests.
    SuggestionsManage,
    /// Write instructions on suggestions presented to one.
    SuggestionsInstruct,
    /// Read assignments (a department: its own).
    AssignmentsRead,
    /// Acknowledge, report progress, request changes and reply, for one's own unit.
    AssignmentsHandle,
    /// The direct channel's figures.
    SuggestionsStats,
    /// Read the talent pool, cultivation records and recommendations.
    PoolRead,
    /// Enter cadres into the pool and move them between stages.
    PoolManage,
    /// Approve or reject a proposed move to inspection or decision (one per department).
    PoolApprove,
    /// Record cultivation and recommendations.
    CultivationWrite,
    /// Read every cadre's appointments, the history, targets and statistics.
    AppointmentsRead,
    /// Read appointments: staff any cadre's, a representative its own (others 404).
    AppointmentsView,
    /// Record and correct appointments; set targets.
    AppointmentsWrite,
    AssessmentsRead,
    AssessmentsWrite,
    /// See evaluation cycles and one's own ratings.
    EvaluationsView,
    /// Open and close evaluation cycles.
    EvaluationsManage,
    /// Rate cadres in an open cycle (a unit's user: only cadres of its unit).
    EvaluationsRate,
    /// See every rating and the results of closed cycles.
    EvaluationsReadAll,
}

pub fn permissions(role: Role) -> &'static [Permission] {
    use Permission::*;
    match role {
        // The administrator manages accounts and sees no personal data of cadres.
        Role::Admin => &[UnitsRead, UnitsManage, UsersRead, UsersManage],
        Role::Auditor => &[
            UnitsRead,
            AuditRead,
            CadreView,
            CadresRead,
            MeetingsRead,
            ContactsRead,
            ContactsReadAll,
            SuggestionsRead,
            SuggestionsReadAll,
            AssignmentsRead,
            SuggestionsStats,
            PoolRead,
            AppointmentsRead,
            AppointmentsView,
            AssessmentsRead,
            EvaluationsView,
            EvaluationsReadAll,
        ],
        Role::UfwdStaff => &[
            UnitsRead,
            CadreView,
            CadresRead,
            CadresWrite,
            CadresReveal,
            CadresTransfer,
            CorrectionsReview,
            MeetingsRead,
            MeetingsManage,
            OpinionsRecord,
            ContactsRead,
            ContactsReadAll,
            ContactsManage,
            SuggestionsRead,
            SuggestionsReadAll,
            SuggestionsManage,
            AssignmentsRead,
            SuggestionsStats,
            PoolRead,
            PoolApprove,
            CultivationWrite,
            AppointmentsRead,
            AppointmentsView,
            AssessmentsRead,
            EvaluationsView,
            EvaluationsManage,
            EvaluationsRate,
            EvaluationsReadAll,
        ],
        Role::OrgStaff => &[
            UnitsRead,
            CadreView,
            CadresRead,
            CadresWrite,
            CadresReveal,
            CadresTransfer,
            MeetingsRead,
            ContactsRead,
            ContactsReadAll,
            SuggestionsRead,
            SuggestionsReadAll,
            AssignmentsRead,
            SuggestionsStats,
            PoolRead,
            PoolManage,
            PoolApprove,
            CultivationWrite,
            AppointmentsRead,
            AppointmentsView,
            AppointmentsWrite,
            AssessmentsRead,
            AssessmentsWrite,
            EvaluationsView,
            EvaluationsManage,
            EvaluationsRate,
            EvaluationsReadAll,
        ],
        Role::Leader => &[
            UnitsRead,
            CadreView,
            CadresRead,
            MeetingsRead,
            ContactsRead,
            TalksWrite,
            SuggestionsRead,
            SuggestionsInstruct,
            SuggestionsStats,
            PoolRead,
            AppointmentsRead,
            AppointmentsView,
            AssessmentsRead,
            EvaluationsView,
            EvaluationsReadAll,
        ],
        Role::Representative => &[
            UnitsRead,
            CadreView,
            OwnProfile,
            OwnParticipation,
            OpinionsRecord,
            OwnTalks,
            SuggestionsRead,
            SuggestionsSubmit,
            AppointmentsView,
        ],
        // A department handles its assignments, and rates the cadres of its own unit in
        // evaluation cycles; it reads no cadre data.
        Role::Department => &[
            UnitsRead,
            SuggestionsRead,
            AssignmentsRead,
            AssignmentsHandle,
            EvaluationsView,
            EvaluationsRate,
        ],
    }
}

pub fn roles_allow(roles: &[Role], permission: Permission) -> bool {
    roles.iter().any(|r| permissions(*r).contains(&permission))
}

/// The roles holding a permission, in `Role::ALL` order.
pub fn roles_holding(permission: Permission) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|role| permissions(*role).contains(&permission))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_and_auditor_are_held_alone() {
        assert!(check_role_set(&[Role::Admin]).is_ok());
        assert!(check_role_set(&[Role::UfwdStaff, Role::Leader]).is_ok());
        assert!(check_role_set(&[Role::Admin, Role::Leader]).is_err());
        assert!(check_role_set(&[Role::Auditor, Role::OrgStaff]).is_err());
        assert!(check_role_set(&[]).is_err());
        assert!(check_role_set(&[Role::Leader, Role::Leader]).is_err());
    }

    #[test]
    fn only_the_auditor_reads_the_audit_log_and_only_admin_manages_accounts() {
        for role in Role::ALL {
            assert_eq!(
                roles_allow(&[role], Permission::AuditRead),
                role == Role::Auditor
            );
            assert_eq!(
                roles_allow(&[role], Permission::UsersManage),
                role == Role::Admin
            );
            assert!(roles_allow(&[role], Permission::UnitsRead));
            // Neither the administrator nor a department sees cadre data.
            let sees_cadres = roles_allow(&[role], Permission::CadreView);
            assert_eq!(sees_cadres, !matches!(role, Role::Admin | Role::Department));
            let reveals = roles_allow(&[role], Permission::CadresReveal);
            assert_eq!(reveals, matches!(role, Role::UfwdStaff | Role::OrgStaff));
        }
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
    }
}
