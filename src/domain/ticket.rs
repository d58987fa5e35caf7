//! The ticket state machine: the only place that decides which action may move a ticket from which
//! state to which. Pure: no I/O, no clock.
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Submitted,
    Registered,
    Dispatched,
    Accepted,
    InProgress,
    Resolved,
    Visited,
    Closed,
    Reopened,
    Referred,
    Merged,
    Invalid,
    /// 挂起: a leader approved the unit's request to pause the order; its deadlines stand still.
    Paused,
}

pub const ALL_STATUSES: [Status; 13] = [
    Status::Submitted,
    Status::Registered,
    Status::Dispatched,
    Status::Accepted,
    Status::InProgress,
    Status::Resolved,
    Status::Visited,
    Status::Closed,
    Status::Reopened,
    Status::Referred,
    Status::Merged,
    Status::Invalid,
    Status::Paused,
];

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::Registered => "registered",
            Status::Dispatched => "dispatched",
            Status::Accepted => "accepted",
            Status::InProgress => "in_progress",
            Status::Resolved => "resolved",
            Status::Visited => "visited",
            Status::Closed => "closed",
            Status::Reopened => "reopened",
            Status::Referred => "referred",
            Status::Merged => "merged",
            Status::Invalid => "invalid",
            Status::Paused => "paused",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        ALL_STATUSES.iter().copied().find(|st| st.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Submitted => "已提交",
            Status::Registered => "已登记",
            Status::Dispatched => "已派单",
            Status::Accepted => "已签收",
            Status::InProgress => "办理中",
            Status::Resolved => "已办结",
            Status::Visited => "已回访",
            Status::Closed => "已归档",
            Status::Reopened => "重办",
            Status::Referred => "已下交",
            Status::Merged => "已合并",
            Status::Invalid => "无效",
            Status::Paused => "已挂起",
        }
    }

    /// States in which the request still awaits handling (the "open states" of DESIGN.md).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Status::Submitted
                | Status::Registered
                | Status::Dispatched
                | Status::Accepted
                | Status::InProgress
                | Status::Reopened
                | Status::Paused
        )
    }

    /// States in which a unit may hold the order (an assignment is active). A reopened ticket goes
    /// straight back to the unit that resolved it (重办), so it can be held too.
    pub fn is_assigned(self) -> bool {
        matches!(self, Status::Dispatched | Status::Accepted | Status::InProgress | Status::Reopened)
    }

    /// States in which a unit holds the order, a paused one included (its clock stands still, so
    /// it is not urged, escalated or resolved until it is resumed).
    pub fn holds_order(self) -> bool {
        self.is_assigned() || self == Status::Paused
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a return visit found, as far as the ticket's state is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VisitOutcome {
    /// Satisfied or basically satisfied, and solved or partly solved.
    Satisfied,
    /// Dissatisfied, or not solved: the order is handled again.
    Unsatisfied,
    /// The requester could not be reached: the try is recorded, the ticket stays resolved.
    Unreached,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Register,
    Dispatch,
    Accept,
    Return,
    Progress,
    Resolve,
    Escalate,
    Urge,
    Reopen,
    Close,
    Signoff,
    Refer,
    CouncilDecision,
    Merge,
    Invalid,
    ReturnVisit(VisitOutcome),
    /// A unit appeals (申诉) a dissatisfied visit; ledger only, the status does not change.
    Appeal,
    /// A leader decides the appeal; ledger only.
    AppealDecision,
    /// A cadre asks for escalation; the dispatcher decides (approve = `Escalate`, or refuse).
    EscalateRequest,
    EscalateRefuse,
    /// A reply by SMS noted on the ledger (from the requester or a cadre); the status does not change.
    SmsReply,
    /// 改派: before the unit signs for it, the dispatcher gives the order to another unit (or cadre).
    Redirect,
    /// 撤回: before the unit signs for it, the dispatcher takes the order back to dispatch it again.
    Withdraw,
    /// 核查: a requester-less (未诉先办) ticket has nobody to visit; the dispatcher or an inspector
    /// checks the result on the spot in place of the return visit (resolved → visited).
    Verify,
    /// A request was taken into a proactive ticket (未诉先办); noted on the request's ledger in any
    /// state, changing nothing.
    ProactiveLink,
    /// 申请挂起: the unit holding a signed-for order asks to pause its clock (reason, resume date);
    /// ledger only until a leader decides.
    PauseRequest,
    /// A leader approves the pause: the order is `paused`, its open deadlines stand still.
    PauseApprove,
    /// A leader refuses the pause; ledger only.
    PauseRefuse,
    /// 恢复办理: the unit, a leader or the sweeper (on the resume date) restarts the clock.
    Resume,
    /// 联合办理: a cadre of an assisting unit signs for its part of the order; ledger only.
    AssistAccept,
    /// An assisting unit reports its part done (协办反馈); ledger only, but the lead unit may
    /// resolve only once every assisting part is reported or released (`joint_guard`).
    AssistReport,
    /// The dispatcher releases an assisting unit from its part (解除协办); ledger only.
    AssistRelease,
    /// 下交签批: a leader approves the desk's request to refer: the ticket goes to the village council.
    ReferApprove,
    /// A leader refuses the request to refer; ledger only.
    ReferRefuse,
    /// 三老合议: one council member's signature on a referred ticket; ledger only.
    CouncilSign,
}

/// The actions that `POST /api/v1/tickets/{no}/{action}` accepts, by path name.
pub const PATH_ACTIONS: [Action; 29] = [
    Action::Register,
    Action::Dispatch,
    Action::Accept,
    Action::Return,
    Action::Progress,
    Action::Resolve,
    Action::Escalate,
    Action::Urge,
    Action::Reopen,
    Action::Close,
    Action::Signoff,
    Action::Refer,
    Action::CouncilDecision,
    Action::Merge,
    Action::Invalid,
    Action::EscalateRefuse,
    Action::Redirect,
    Action::Withdraw,
    Action::Verify,
    Action::PauseRequest,
    Action::PauseApprove,
    Action::PauseRefuse,
    Action::Resume,
    Action::AssistAccept,
    Action::AssistReport,
    Action::AssistRelease,
    Action::ReferApprove,
    Action::ReferRefuse,
    Action::CouncilSign,
];

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Register => "register",
            Action::Dispatch => "dispatch",
            Action::Accept => "accept",
            Action::Return => "return",
            Action::Progress => "progress",
            Action::Resolve => "resolve",
            Action::Escalate => "escalate",
            Action::Urge => "urge",
            Action::Reopen => "reopen",
            Action::Close => "close",
            Action::Signoff => "signoff",
            Action::Refer => "refer",
            Action::CouncilDecision => "council_decision",
            Action::Merge => "merge",
            Action::Invalid => "invalid",
            Action::ReturnVisit(_) => "return_visit",
            Action::Appeal => "appeal",
            Action::AppealDecision => "appeal_decision",
            Action::EscalateRequest => "escalate_request",
            Action::EscalateRefuse => "escalate_refuse",
            Action::SmsReply => "sms_reply",
            Action::Redirect => "redirect",
            Action::Withdraw => "withdraw",
            Action::Verify => "verify",
            Action::ProactiveLink => "proactive_link",
            Action::PauseRequest => "pause_request",
            Action::PauseApprove => "pause_approve",
            Action::PauseRefuse => "pause_refuse",
            Action::Resume => "resume",
            Action::AssistAccept => "assist_accept",
            Action::AssistReport => "assist_report",
            Action::AssistRelease => "assist_release",
            Action::ReferApprove => "refer_approve",
            Action::ReferRefuse => "refer_refuse",
            Action::CouncilSign => "council_sign",
        }
    }

    /// Parses an action named in a URL path (return visits have their own endpoint).
    pub fn from_path(s: &str) -> Option<Action> {
        PATH_ACTIONS.iter().copied().find(|a| a.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Action::Register => "登记",
            Action::Dispatch => "派单",
            Action::Accept => "签收",
            Action::Return => "退单",
            Action::Progress => "反馈进展",
            Action::Resolve => "办结",
            Action::Escalate => "提级办理",
            Action::Urge => "催办",
            Action::Reopen => "重办",
            Action::Close => "归档",
            Action::Signoff => "会签",
            Action::Refer => "下交",
            Action::CouncilDecision => "合议决定",
            Action::Merge => "合并",
            Action::Invalid => "作废",
            Action::ReturnVisit(_) => "回访",
            Action::Appeal => "申诉",
            Action::AppealDecision => "申诉裁定",
            Action::EscalateRequest => "申请提级",
            Action::EscalateRefuse => "驳回提级申请",
            Action::SmsReply => "短信回复",
            Action::Redirect => "改派",
            Action::Withdraw => "撤回",
            Action::Verify => "核查办结",
            Action::ProactiveLink => "纳入未诉先办",
            Action::PauseRequest => "申请挂起",
            Action::PauseApprove => "批准挂起",
            Action::PauseRefuse => "驳回挂起申请",
            Action::Resume => "恢复办理",
            Action::AssistAccept => "签收协办",
            Action::AssistReport => "协办反馈",
            Action::AssistRelease => "解除协办",
            Action::ReferApprove => "批准下交",
            Action::ReferRefuse => "驳回下交申请",
            Action::CouncilSign => "合议签字",
        }
    }
}

/// An action that the current state does not allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Illegal {
    pub from: Status,
    pub action: Action,
}

impl Illegal {
    pub fn message(&self) -> String {
        let base = format!("工单当前状态为「{}」，不能{}", self.from.label(), self.action.label());
        match (self.action, self.from) {
            // Once signed for, the order is the unit's (首办负责): it can only give it back or ask up.
            (Action::Redirect | Action::Withdraw, Status::Accepted | Status::InProgress) => {
                format!("{base}：承办单位已签收，只能由承办单位退单或申请提级")
            }
            _ => base,
        }
    }
}

/// The whole life of a ticket (DESIGN.md "Ticket life"): the state after `action`, or why not.
/// Actions that leave the state unchanged (urge, signoff, an unreached visit) still return it, so
/// that the caller writes their ledger event like any other.
pub fn transition(from: Status, action: Action) -> Result<Status, Illegal> {
    use Action as A;
    use Status as S;
    let to = match (action, from) {
        (A::Register, S::Submitted) => S::Registered,
        (A::Dispatch, S::Registered | S::Reopened) => S::Dispatched,
        (A::Accept, S::Dispatched | S::Reopened) => S::Accepted,
        (A::Return, S::Dispatched | S::Accepted | S::Reopened) => S::Registered,
        (A::Progress, S::Accepted | S::InProgress) => S::InProgress,
        (A::Resolve, S::Accepted | S::InProgress) => S::Resolved,
        (A::Escalate, S::Dispatched | S::Accepted | S::InProgress | S::Reopened) => S::Dispatched,
        // Before acceptance only: after it, the unit returns the order or asks to escalate.
        (A::Redirect, S::Dispatched) => S::Dispatched,
        (A::Withdraw, S::Dispatched) => S::Registered,
        (A::Urge | A::EscalateRequest | A::EscalateRefuse, s) if s.is_assigned() => s,
        // A pause is asked for and decided on an order the unit has signed for; while paused,
        // only resuming (or the desk's refer) moves it.
        (A::PauseRequest | A::PauseRefuse, S::Accepted | S::InProgress) => from,
        (A::PauseApprove, S::Accepted | S::InProgress) => S::Paused,
        (A::Resume, S::Paused) => S::InProgress,
        // 联合办理: the assisting parts are signed for, reported and released while a unit holds
        // the order (paused included: a part may be done while the lead's clock stands still).
        (A::AssistAccept | A::AssistReport | A::AssistRelease, s) if s.holds_order() => s,
        (A::Reopen, S::Resolved | S::Visited | S::Closed) => S::Reopened,
        (A::Close, S::Visited) => S::Closed,
        (A::Signoff, S::Resolved | S::Visited) => from,
        // 下交 is asked for by the desk (ledger only) and takes effect when a leader approves it.
        (A::Refer | A::ReferRefuse, s) if s.is_open() => s,
        (A::ReferApprove, s) if s.is_open() => S::Referred,
        (A::CouncilSign, S::Referred) => S::Referred,
        (A::CouncilDecision, S::Referred) => S::Resolved,
        (A::Merge, S::Submitted | S::Registered) => S::Merged,
        (A::Invalid, S::Submitted | S::Registered) => S::Invalid,
        (A::ReturnVisit(VisitOutcome::Satisfied), S::Resolved) => S::Visited,
        (A::ReturnVisit(VisitOutcome::Unsatisfied), S::Resolved) => S::Reopened,
        (A::ReturnVisit(VisitOutcome::Unreached), S::Resolved) => S::Resolved,
        // The on-the-spot check stands where the return visit would (the service allows it only on
        // a ticket without a requester); a failed check is a `reopen`.
        (A::Verify, S::Resolved) => S::Visited,
        // Appeals concern a past visit, whatever happened to the ticket since; they leave it as it is.
        (A::Appeal | A::AppealDecision, s) if !matches!(s, S::Submitted | S::Registered | S::Merged | S::Invalid) => s,
        // What a phone says about a ticket is noted whatever its state, and changes nothing.
        (A::SmsReply, s) => s,
        // So is a request's being taken into a proactive ticket, whatever became of the request.
        (A::ProactiveLink, s) => s,
        _ => return Err(Illegal { from, action }),
    };
    Ok(to)
}

/// 联合办理: the lead unit may not resolve while an assisting part is neither reported nor
/// released. `open_parts` counts the ticket's active assisting assignments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartsOpen(pub usize);

impl PartsOpen {
    pub fn message(&self) -> String {
        format!("还有{}个协办单位未反馈协办情况，主办单位暂不能办结；请督促协办单位反馈，或由派单员解除协办", self.0)
    }
}

/// The rule of joint handling, beside `transition`: which actions wait for the assisting parts.
pub fn joint_guard(action: Action, open_parts: usize) -> Result<(), PartsOpen> {
    match action {
        Action::Resolve if open_parts > 0 => Err(PartsOpen(open_parts)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ALL_ACTIONS: [Action; 37] = [
        Action::Register,
        Action::Dispatch,
        Action::Accept,
        Action::Return,
        Action::Progress,
        Action::Resolve,
        Action::Escalate,
        Action::Urge,
        Action::Reopen,
        Action::Close,
        Action::Signoff,
        Action::Refer,
        Action::CouncilDecision,
        Action::Merge,
        Action::Invalid,
        Action::ReturnVisit(VisitOutcome::Satisfied),
        Action::ReturnVisit(VisitOutcome::Unsatisfied),
        Action::ReturnVisit(VisitOutcome::Unreached),
        Action::Appeal,
        Action::AppealDecision,
        Action::EscalateRequest,
        Action::EscalateRefuse,
        Action::SmsReply,
        Action::Redirect,
        Action::Withdraw,
        Action::Verify,
        Action::ProactiveLink,
        Action::PauseRequest,
        Action::PauseApprove,
        Action::PauseRefuse,
        Action::Resume,
        Action::AssistAccept,
        Action::AssistReport,
        Action::AssistRelease,
        Action::ReferApprove,
        Action::ReferRefuse,
        Action::CouncilSign,
    ];

    #[test]
    fn the_happy_path_of_design_md_runs() {
        let mut s = Status::Submitted;
        for a in [
            Action::Register,
            Action::Dispatch,
            Action::Accept,
            Action::Progress,
            Action::Resolve,
            Action::ReturnVisit(VisitOutcome::Satisfied),
            Action::Close,
        ] {
            s = transition(s, a).unwrap();
        }
        assert_eq!(s, Status::Closed);
    }

    #[test]
    fn dissatisfied_visit_reopens_and_reopened_can_be_dispatched() {
        let s = transition(Status::Resolved, Action::ReturnVisit(VisitOutcome::Unsatisfied)).unwrap();
        assert_eq!(s, Status::Reopened);
        assert_eq!(transition(s, Action::Dispatch), Ok(Status::Dispatched));
    }

    #[test]
    fn illegal_action_names_state_and_action_in_chinese() {
        let e = transition(Status::Closed, Action::Dispatch).unwrap_err();
        assert_eq!(e.message(), "工单当前状态为「已归档」，不能派单");
    }

    #[test]
    fn terminal_states_allow_nothing_but_reopen_from_closed() {
        for a in ALL_ACTIONS {
            // A noted SMS reply and a link to a proactive ticket are the entries a finished ticket
            // still takes; they change nothing.
            if matches!(a, Action::SmsReply | Action::ProactiveLink) {
                assert_eq!(transition(Status::Merged, a), Ok(Status::Merged));
                assert_eq!(transition(Status::Invalid, a), Ok(Status::Invalid));
                continue;
            }
            assert!(transition(Status::Merged, a).is_err());
            assert!(transition(Status::Invalid, a).is_err());
            // Out of closed only by reopening; appeals are ledger entries that leave it closed.
            match transition(Status::Closed, a) {
                Ok(next) => assert!(a == Action::Reopen || next == Status::Closed, "{a:?}"),
                Err(_) => assert!(!matches!(a, Action::Reopen | Action::Appeal | Action::AppealDecision)),
            }
        }
    }

    #[test]
    fn redirect_and_withdraw_only_before_the_unit_signs_for_the_order() {
        assert_eq!(transition(Status::Dispatched, Action::Redirect), Ok(Status::Dispatched));
        assert_eq!(transition(Status::Dispatched, Action::Withdraw), Ok(Status::Registered));
        for from in ALL_STATUSES.into_iter().filter(|s| *s != Status::Dispatched) {
            assert!(transition(from, Action::Redirect).is_err(), "{from:?}");
            assert!(transition(from, Action::Withdraw).is_err(), "{from:?}");
        }
        let e = transition(Status::Accepted, Action::Redirect).unwrap_err();
        assert_eq!(e.message(), "工单当前状态为「已签收」，不能改派：承办单位已签收，只能由承办单位退单或申请提级");
        // After acceptance the unit's own ways out remain.
        assert_eq!(transition(Status::Accepted, Action::Return), Ok(Status::Registered));
        assert_eq!(transition(Status::Accepted, Action::Escalate), Ok(Status::Dispatched));
    }

    #[test]
    fn a_signed_for_order_pauses_and_only_resuming_or_referring_moves_it_on() {
        for from in [Status::Accepted, Status::InProgress] {
            assert_eq!(transition(from, Action::PauseRequest), Ok(from));
            assert_eq!(transition(from, Action::PauseRefuse), Ok(from));
            assert_eq!(transition(from, Action::PauseApprove), Ok(Status::Paused));
        }
        for from in [Status::Dispatched, Status::Reopened, Status::Resolved, Status::Registered, Status::Paused] {
            assert!(transition(from, Action::PauseRequest).is_err(), "{from:?}");
            assert!(transition(from, Action::PauseApprove).is_err(), "{from:?}");
        }
        assert_eq!(transition(Status::Paused, Action::Resume), Ok(Status::InProgress));
        // While paused the clock stands still: nothing that presumes a running order applies.
        for a in
            [Action::Urge, Action::Escalate, Action::EscalateRequest, Action::Resolve, Action::Progress, Action::Accept]
        {
            assert!(transition(Status::Paused, a).is_err(), "{a:?}");
        }
        assert_eq!(transition(Status::Paused, Action::ReferApprove), Ok(Status::Referred));
        assert!(Status::Paused.is_open() && Status::Paused.holds_order() && !Status::Paused.is_assigned());
        assert_eq!(
            transition(Status::Paused, Action::Resolve).unwrap_err().message(),
            "工单当前状态为「已挂起」，不能办结"
        );
    }

    #[test]
    fn assisting_parts_move_nothing_and_hold_back_the_leads_resolution() {
        for a in [Action::AssistAccept, Action::AssistReport, Action::AssistRelease] {
            for from in ALL_STATUSES {
                match transition(from, a) {
                    Ok(to) => assert!(to == from && from.holds_order(), "{a:?} {from:?}"),
                    Err(_) => assert!(!from.holds_order(), "{a:?} {from:?}"),
                }
            }
        }
        assert_eq!(joint_guard(Action::Resolve, 0), Ok(()));
        assert_eq!(joint_guard(Action::Resolve, 2), Err(PartsOpen(2)));
        assert!(PartsOpen(2).message().starts_with("还有2个协办单位未反馈"));
        // Only resolving waits: progress, a pause or a refer do not.
        for a in [Action::Progress, Action::PauseApprove, Action::Refer, Action::Return, Action::Escalate] {
            assert_eq!(joint_guard(a, 3), Ok(()), "{a:?}");
        }
    }

    #[test]
    fn refer_is_a_request_that_takes_effect_only_when_a_leader_approves_it() {
        for from in ALL_STATUSES.into_iter().filter(|s| s.is_open()) {
            assert_eq!(transition(from, Action::Refer), Ok(from), "{from:?}");
            assert_eq!(transition(from, Action::ReferRefuse), Ok(from), "{from:?}");
            assert_eq!(transition(from, Action::ReferApprove), Ok(Status::Referred), "{from:?}");
        }
        for from in ALL_STATUSES.into_iter().filter(|s| !s.is_open()) {
            for a in [Action::Refer, Action::ReferApprove, Action::ReferRefuse] {
                assert!(transition(from, a).is_err(), "{from:?} {a:?}");
            }
        }
        // The council signs and decides only a referred ticket; signing changes nothing.
        assert_eq!(transition(Status::Referred, Action::CouncilSign), Ok(Status::Referred));
        assert_eq!(transition(Status::Referred, Action::CouncilDecision), Ok(Status::Resolved));
        for from in ALL_STATUSES.into_iter().filter(|s| *s != Status::Referred) {
            assert!(transition(from, Action::CouncilSign).is_err(), "{from:?}");
            assert!(transition(from, Action::CouncilDecision).is_err(), "{from:?}");
        }
        assert_eq!(
            transition(Status::Closed, Action::ReferApprove).unwrap_err().message(),
            "工单当前状态为「已归档」，不能批准下交"
        );
    }

    #[test]
    fn path_names_round_trip() {
        for a in PATH_ACTIONS {
            assert_eq!(Action::from_path(a.as_str()), Some(a));
        }
        assert_eq!(Action::from_path("return_visit"), None);
        for s in ALL_STATUSES {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }

    proptest! {
        /// Any sequence of actions: each legal step moves to a state the table allows, nothing leaves
        /// merged/invalid, and closed is only ever left by reopen.
        #[test]
        fn random_sequences_keep_the_invariants(seq in proptest::collection::vec(0usize..ALL_ACTIONS.len(), 0..60)) {
            let mut s = Status::Submitted;
            for i in seq {
                let a = ALL_ACTIONS[i];
                match transition(s, a) {
                    Ok(next) => {
                        prop_assert!((s != Status::Merged && s != Status::Invalid)
                            || (matches!(a, Action::SmsReply | Action::ProactiveLink) && next == s));
                        if s == Status::Closed && next != Status::Closed { prop_assert_eq!(a, Action::Reopen); }
                        if next == Status::Closed && s != Status::Closed { prop_assert_eq!(a, Action::Close); }
                        if matches!(a, Action::Urge | Action::Signoff | Action::EscalateRequest | Action::EscalateRefuse | Action::PauseRequest | Action::PauseRefuse
                            | Action::AssistAccept | Action::AssistReport | Action::AssistRelease
                            | Action::Refer | Action::ReferRefuse | Action::CouncilSign
                            | Action::Appeal | Action::AppealDecision | Action::SmsReply | Action::ProactiveLink) {
                            prop_assert_eq!(next, s);
                        }
                        // Redirect and withdraw act only on an order no unit has signed for yet.
                        if matches!(a, Action::Redirect | Action::Withdraw) {
                            prop_assert_eq!(s, Status::Dispatched);
                            prop_assert!(next == Status::Dispatched || (a == Action::Withdraw && next == Status::Registered));
                        }
                        // Only an assigned order can be urged, escalated or asked to escalate.
                        if matches!(a, Action::Urge | Action::Escalate | Action::EscalateRequest | Action::EscalateRefuse) {
                            prop_assert!(s.is_assigned());
                        }
                        // Only an approved pause stops the clock, and only resuming (or refer) leaves it.
                        if next == Status::Paused && s != Status::Paused { prop_assert_eq!(a, Action::PauseApprove); }
                        if s == Status::Paused && next != Status::Paused {
                            prop_assert!(matches!(a, Action::Resume | Action::ReferApprove));
                        }
                        // Only a leader's approval refers a ticket to the council, and only from an open state.
                        if next == Status::Referred && s != Status::Referred {
                            prop_assert_eq!(a, Action::ReferApprove);
                            prop_assert!(s.is_open());
                        }
                        // Out of referred only by the council's decision.
                        if s == Status::Referred && next != Status::Referred {
                            prop_assert_eq!(a, Action::CouncilDecision);
                            prop_assert_eq!(next, Status::Resolved);
                        }
                        // Only reopen and a dissatisfied visit send a handled order back for handling.
                        if next == Status::Reopened && s != Status::Reopened {
                            prop_assert!(matches!(a, Action::Reopen | Action::ReturnVisit(VisitOutcome::Unsatisfied)));
                        }
                        s = next;
                    }
                    Err(e) => prop_assert_eq!(e.from, s),
                }
            }
        }
    }
}
