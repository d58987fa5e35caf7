//! Roles and the permission rules: who may read a ticket and who may take which action on it.
//! Region-scoped roles see the tickets under their region; a cadre sees the tickets given to their
//! unit. Pure: the caller loads the facts about the ticket.
use super::ticket::Action;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Operator,
    Dispatcher,
    Cadre,
    Caller,
    Leader,
    Inspector,
}

pub const ALL_ROLES: [Role; 7] =
    [Role::Admin, Role::Operator, Role::Dispatcher, Role::Cadre, Role::Caller, Role::Leader, Role::Inspector];

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Dispatcher => "dispatcher",
            Role::Cadre => "cadre",
            Role::Caller => "caller",
            Role::Leader => "leader",
            Role::Inspector => "inspector",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        ALL_ROLES.iter().copied().find(|r| r.as_str() == s.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "管理员",
            Role::Operator => "首问登记员",
            Role::Dispatcher => "派单员",
            Role::Cadre => "承办干部",
            Role::Caller => "回访员",
            Role::Leader => "领导",
            Role::Inspector => "纪委监督",
        }
    }

    /// A cadre's scope is their unit; every other role's scope is their region subtree.
    pub fn is_unit_scoped(self) -> bool {
        self == Role::Cadre
    }
}

/// Parses a comma-separated role list (a staff row, a command line): every name must be a role,
/// or the whole list is refused — an unknown name never silently drops a permission.
pub fn parse_roles(s: &str) -> Option<Vec<Role>> {
    let roles: Option<Vec<Role>> = s.split(',').map(Role::parse).collect();
    roles.filter(|r| !r.is_empty())
}

pub fn join_roles(roles: &[Role]) -> String {
    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
}

/// Who is acting, as far as permissions go.
#[derive(Clone, Debug)]
pub struct Scope {
    pub roles: Vec<Role>,
    /// Materialised path of the staff member's region, e.g. "/1/2/".
    pub region_path: String,
    pub unit_id: Option<i64>,
}

/// The facts about a ticket that permissions depend on.
#[derive(Clone, Debug)]
pub struct TicketFacts<'a> {
    pub region_path: &'a str,
    /// Unit of the current (active) assignment.
    pub current_unit_id: Option<i64>,
    /// Every unit the ticket was ever given to, the current one included.
    pub unit_ids: &'a [i64],
    /// Units holding an open assisting part (联合办理) of the order.
    pub assisting_unit_ids: &'a [i64],
}

/// The party signing off before close (四方会签).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignoffParty {
    Requester,
    Handler,
    Leader,
    Principal,
}

impl SignoffParty {
    pub fn as_str(self) -> &'static str {
        match self {
            SignoffParty::Requester => "requester",
            SignoffParty::Handler => "handler",
            SignoffParty::Leader => "leader",
            SignoffParty::Principal => "principal",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Requester, Self::Handler, Self::Leader, Self::Principal].into_iter().find(|p| p.as_str() == s)
    }

    /// The party as the case file names it (四方会签: 群众、承办人、分管领导、主要领导).
    pub fn label(self) -> &'static str {
        match self {
            SignoffParty::Requester => "诉求人",
            SignoffParty::Handler => "承办人",
            SignoffParty::Leader => "分管领导",
            SignoffParty::Principal => "主要领导",
        }
    }
}

impl Scope {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    fn covers_region(&self, ticket_region_path: &str) -> bool {
        !self.region_path.is_empty() && ticket_region_path.starts_with(&self.region_path)
    }

    fn in_unit(&self, unit: Option<i64>) -> bool {
        self.unit_id.is_some() && unit == self.unit_id
    }

    /// Whether `role` of this person reaches the ticket at all.
    fn role_reaches(&self, role: Role, t: &TicketFacts<'_>) -> bool {
        if role.is_unit_scoped() {
            self.unit_id.is_some_and(|u| t.unit_ids.contains(&u))
        } else {
            self.covers_region(t.region_path)
        }
    }

    /// Staff may read a ticket if any of their roles reaches it.
    pub fn can_read(&self, t: &TicketFacts<'_>) -> bool {
        self.roles.iter().any(|r| self.role_reaches(*r, t))
    }

    /// Whether any of this person's roles may take `action` on the ticket (API.md "Actions").
    pub fn can_act(&self, action: Action, t: &TicketFacts<'_>, party: Option<SignoffParty>) -> bool {
        self.roles.iter().any(|&role| {
            self.role_reaches(role, t)
                && role_may(role, action, party, || match action {
                    // An assisting unit's own part: its cadre, whoever leads the order.
                    Action::AssistAccept | Action::AssistReport => {
                        self.unit_id.is_some_and(|u| t.assisting_unit_ids.contains(&u))
                    }
                    _ => self.in_unit(t.current_unit_id),
                })
        })
    }
}

/// The table of API.md: which role may take which action. `assigned` says whether the actor belongs
/// to the unit holding the order — for an assisting part, to a unit holding that part (only asked
/// for the cadre's actions).
fn role_may(role: Role, action: Action, party: Option<SignoffParty>, assigned: impl Fn() -> bool) -> bool {
    use Action as A;
    use Role as R;
    match (role, action) {
        (R::Admin, _) => true,
        (R::Operator | R::Dispatcher, A::Register | A::CouncilSign | A::CouncilDecision | A::Merge | A::Invalid) => {
            true
        }
        (
            R::Dispatcher,
            A::Dispatch
            | A::Redirect
            | A::Withdraw
            | A::Escalate
            | A::EscalateRefuse
            | A::Urge
            | A::Reopen
            | A::Close
            | A::Refer,
        ) => true,
        // A cadre's `escalate` is a request the dispatcher decides (首办负责: no shedding by oneself).
        (
            R::Cadre,
            A::Accept
            | A::Return
            | A::Progress
            | A::Resolve
            | A::EscalateRequest
            | A::PauseRequest
            | A::Resume
            | A::AssistAccept
            | A::AssistReport,
        ) => assigned(),
        // 解除协办: the dispatcher lets an assisting unit go (its part is not needed after all).
        (R::Dispatcher, A::AssistRelease) => true,
        // A pause (挂起) is a leader's decision in their region; a leader may also end it early.
        (R::Leader, A::PauseApprove | A::PauseRefuse | A::Resume) => true,
        // 下交 takes a leader's approval (签批): the desk asks, a leader of the region decides.
        (R::Leader, A::ReferApprove | A::ReferRefuse) => true,
        (R::Leader, A::Urge | A::Reopen) => true,
        (R::Caller, A::Reopen | A::Close | A::ReturnVisit(_)) => true,
        // The on-the-spot check of a requester-less ticket (未诉先办) in place of the return visit.
        (R::Dispatcher | R::Inspector, A::Verify) => true,
        // The appealing unit is checked by the appeal service (the visit's unit, not the current one).
        (R::Cadre, A::Appeal) => true,
        (R::Leader, A::AppealDecision) => true,

        (_, A::Signoff) => match party {
            Some(SignoffParty::Requester) => matches!(role, R::Caller | R::Operator),
            Some(SignoffParty::Handler) => role == R::Cadre && assigned(),
            Some(SignoffParty::Leader | SignoffParty::Principal) => role == R::Leader,
            None => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ticket::VisitOutcome;

    fn scope(roles: &[Role], path: &str, unit: Option<i64>) -> Scope {
        Scope { roles: roles.to_vec(), region_path: path.into(), unit_id: unit }
    }

    fn facts<'a>(path: &'a str, current: Option<i64>, units: &'a [i64]) -> TicketFacts<'a> {
        TicketFacts { region_path: path, current_unit_id: current, unit_ids: units, assisting_unit_ids: &[] }
    }

    #[test]
    fn an_assisting_units_cadre_acts_on_its_part_only() {
        let assist = scope(&[Role::Cadre], "/1/2/3/", Some(8));
        let lead = scope(&[Role::Cadre], "/1/2/3/", Some(7));
        let t = TicketFacts {
            region_path: "/1/2/3/",
            current_unit_id: Some(7),
            unit_ids: &[7, 8],
            assisting_unit_ids: &[8],
        };
        assert!(assist.can_read(&t));
        assert!(assist.can_act(Action::AssistReport, &t, None));
        assert!(assist.can_act(Action::AssistAccept, &t, None));
        // The order itself is the lead's: the assisting cadre neither resolves nor returns it.
        assert!(!assist.can_act(Action::Resolve, &t, None));
        assert!(!assist.can_act(Action::Return, &t, None));
        assert!(!lead.can_act(Action::AssistReport, &t, None));
        // Once its part is reported (no longer open) the assisting unit has nothing left to do.
        let done = TicketFacts { assisting_unit_ids: &[], ..t.clone() };
        assert!(!assist.can_act(Action::AssistReport, &done, None));
        let dispatcher = scope(&[Role::Dispatcher], "/1/", None);
        assert!(dispatcher.can_act(Action::AssistRelease, &t, None));
        assert!(!assist.can_act(Action::AssistRelease, &t, None));
        assert!(!scope(&[Role::Leader], "/1/", None).can_act(Action::AssistRelease, &t, None));
    }

    #[test]
    fn a_cadre_acts_only_on_their_units_current_order() {
        let cadre = scope(&[Role::Cadre], "/1/2/3/", Some(7));
        let mine = facts("/1/2/3/", Some(7), &[7]);
        let other = facts("/1/2/4/", Some(8), &[8]);
        let was_mine = facts("/1/2/3/", Some(9), &[7, 9]);
        assert!(cadre.can_act(Action::Accept, &mine, None));
        assert!(!cadre.can_act(Action::Accept, &other, None));
        assert!(!cadre.can_read(&other));
        assert!(cadre.can_read(&was_mine));
        assert!(!cadre.can_act(Action::Resolve, &was_mine, None));
        assert!(!cadre.can_act(Action::Dispatch, &mine, None));
    }

    #[test]
    fn region_roles_are_limited_to_their_subtree() {
        let township_dispatcher = scope(&[Role::Dispatcher], "/1/2/", None);
        assert!(township_dispatcher.can_act(Action::Dispatch, &facts("/1/2/5/", None, &[]), None));
        assert!(!township_dispatcher.can_act(Action::Dispatch, &facts("/1/3/5/", None, &[]), None));
        // "/1/2/" must not match "/1/20/".
        assert!(!township_dispatcher.can_read(&facts("/1/20/5/", None, &[])));
    }

    #[test]
    fn the_action_table_of_api_md() {
        let t = facts("/1/", Some(4), &[4]);
        let s = |r: Role| scope(&[r], "/1/", Some(4));
        assert!(s(Role::Operator).can_act(Action::Register, &t, None));
        assert!(!s(Role::Operator).can_act(Action::Dispatch, &t, None));
        assert!(s(Role::Leader).can_act(Action::Urge, &t, None));
        assert!(!s(Role::Leader).can_act(Action::Close, &t, None));
        assert!(s(Role::Caller).can_act(Action::ReturnVisit(VisitOutcome::Satisfied), &t, None));
        assert!(!s(Role::Inspector).can_act(Action::Urge, &t, None));
        assert!(s(Role::Inspector).can_read(&t));
        assert!(s(Role::Admin).can_act(Action::Merge, &t, None));
        assert!(s(Role::Leader).can_act(Action::Signoff, &t, Some(SignoffParty::Principal)));
        assert!(!s(Role::Leader).can_act(Action::Signoff, &t, Some(SignoffParty::Handler)));
        assert!(s(Role::Cadre).can_act(Action::Signoff, &t, Some(SignoffParty::Handler)));
        assert!(s(Role::Cadre).can_act(Action::EscalateRequest, &t, None));
        assert!(!s(Role::Cadre).can_act(Action::Escalate, &t, None));
        assert!(s(Role::Dispatcher).can_act(Action::EscalateRefuse, &t, None));
        assert!(!s(Role::Leader).can_act(Action::EscalateRefuse, &t, None));
        for a in [Action::Redirect, Action::Withdraw] {
            assert!(s(Role::Dispatcher).can_act(a, &t, None), "{a:?}");
            assert!(s(Role::Admin).can_act(a, &t, None), "{a:?}");
            for r in [Role::Operator, Role::Cadre, Role::Leader, Role::Caller, Role::Inspector] {
                assert!(!s(r).can_act(a, &t, None), "{r:?} {a:?}");
            }
        }
        // 挂起: the unit asks, a leader decides; the unit or a leader resumes.
        assert!(s(Role::Cadre).can_act(Action::PauseRequest, &t, None));
        assert!(!s(Role::Cadre).can_act(Action::PauseApprove, &t, None));
        assert!(s(Role::Leader).can_act(Action::PauseApprove, &t, None));
        assert!(s(Role::Leader).can_act(Action::PauseRefuse, &t, None));
        for r in [Role::Dispatcher, Role::Operator, Role::Caller, Role::Inspector] {
            assert!(!s(r).can_act(Action::PauseApprove, &t, None), "{r:?}");
            assert!(!s(r).can_act(Action::PauseRequest, &t, None), "{r:?}");
        }
        assert!(s(Role::Cadre).can_act(Action::Resume, &t, None) && s(Role::Leader).can_act(Action::Resume, &t, None));
        let other_unit = scope(&[Role::Cadre], "/1/", Some(5));
        assert!(!other_unit.can_act(Action::PauseRequest, &facts("/1/", Some(4), &[4, 5]), None));
        // 下交: the desk asks, a leader of the region approves or refuses; the desk records the council.
        assert!(s(Role::Dispatcher).can_act(Action::Refer, &t, None));
        for a in [Action::ReferApprove, Action::ReferRefuse] {
            assert!(s(Role::Leader).can_act(a, &t, None), "{a:?}");
            assert!(s(Role::Admin).can_act(a, &t, None), "{a:?}");
            for r in [Role::Dispatcher, Role::Operator, Role::Cadre, Role::Caller, Role::Inspector] {
                assert!(!s(r).can_act(a, &t, None), "{r:?} {a:?}");
            }
        }
        assert!(!scope(&[Role::Leader], "/2/", None).can_act(Action::ReferApprove, &t, None));
        for r in [Role::Operator, Role::Dispatcher] {
            assert!(s(r).can_act(Action::CouncilSign, &t, None) && s(r).can_act(Action::CouncilDecision, &t, None));
        }
        for r in [Role::Leader, Role::Cadre, Role::Caller, Role::Inspector] {
            assert!(!s(r).can_act(Action::CouncilSign, &t, None), "{r:?}");
        }
        // Outside the dispatcher's subtree: no.
        let elsewhere = scope(&[Role::Dispatcher], "/2/", None);
        assert!(!elsewhere.can_act(Action::Redirect, &t, None));
    }
}
