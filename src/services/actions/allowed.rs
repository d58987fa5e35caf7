//! The actions a staff member may take on a ticket right now — role, scope, state and the
//! action's own preconditions — so that the console offers exactly those buttons.
use super::closing::{PARTIES, signed_parties};
use super::escalation::pending;
use crate::auth::StaffUser;
use crate::domain::roles::SignoffParty;
use crate::domain::ticket::{Action, PATH_ACTIONS, VisitOutcome, joint_guard, transition};
use crate::error::ApiResult;
use crate::services::proactive::has_no_requester;
use crate::services::tickets::Loaded;
use sea_orm::ConnectionTrait;
use serde::Serialize;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Allowed {
    pub action: &'static str,
    pub label: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party: Option<&'static str>,
}

fn item(action: Action, label: &'static str) -> Allowed {
    Allowed { action: action.as_str(), label, party: None }
}

pub async fn allowed<C: ConnectionTrait>(db: &C, user: &StaffUser, l: &Loaded) -> ApiResult<Vec<Allowed>> {
    let facts = l.facts();
    let from = l.status();
    let legal = |a: Action| transition(from, a).is_ok();
    let may = |a: Action| user.scope.can_act(a, &facts, None);
    let t = &l.ticket;
    let pending_request = l.active().is_some_and(pending);
    let pause_pending = l.active().is_some_and(|a| a.pause_pending());
    let refer_pending = crate::repo::council::pending_refer(db, t.id).await?.is_some();
    let mut out = vec![];
    for action in PATH_ACTIONS {
        match action {
            Action::Signoff => {
                if !(t.signoff_required && legal(Action::Signoff)) {
                    continue;
                }
                let signed = signed_parties(db, t).await?;
                if signed.iter().any(|(_, by)| *by == Some(user.id)) {
                    continue;
                }
                for (name, label) in PARTIES {
                    let party = SignoffParty::parse(name);
                    if !signed.iter().any(|(p, _)| p == name) && user.scope.can_act(Action::Signoff, &facts, party) {
                        out.push(Allowed { action: "signoff", label, party: Some(name) });
                    }
                }
            }
            Action::Escalate if legal(action) => {
                if may(Action::Escalate) {
                    out.push(item(action, if pending_request { "批准提级" } else { "提级办理" }));
                } else if may(Action::EscalateRequest) && !pending_request {
                    out.push(item(action, "申请提级"));
                }
            }
            Action::EscalateRefuse if pending_request && legal(action) && may(action) => {
                out.push(item(action, action.label()));
            }
            Action::EscalateRefuse => {}
            // 挂起: one request at a time; a leader decides only a pending one.
            Action::PauseRequest if legal(action) && may(action) && !pause_pending => {
                out.push(item(action, action.label()));
            }
            Action::PauseApprove | Action::PauseRefuse if legal(action) && may(action) && pause_pending => {
                out.push(item(action, action.label()));
            }
            Action::PauseRequest | Action::PauseApprove | Action::PauseRefuse => {}
            // 联合办理: an assisting cadre's own part; the dispatcher releases only an open one.
            Action::AssistAccept | Action::AssistReport if legal(action) && may(action) => {
                let mine = l.part_of(user.scope.unit_id);
                if action == Action::AssistReport || mine.is_some_and(|p| p.accepted_at.is_none()) {
                    out.push(item(action, action.label()));
                }
            }
            // 联合办理: the lead's resolve waits for every assisting part (`joint_guard`).
            Action::Resolve if legal(action) && may(action) && joint_guard(action, l.open_parts().count()).is_ok() => {
                out.push(item(action, action.label()));
            }
            Action::Resolve => {}
            Action::AssistRelease if legal(action) && may(action) && l.open_parts().next().is_some() => {
                out.push(item(action, action.label()));
            }
            Action::AssistAccept | Action::AssistReport | Action::AssistRelease => {}
            Action::Refer
                if legal(action)
                    && may(action)
                    && !refer_pending
                    && (t.repeat_of_id.is_some() || t.repeat_count > 0) =>
            {
                out.push(item(action, "申请下交"));
            }
            Action::Refer => {}
            // 下交签批: a leader decides only a pending request.
            Action::ReferApprove | Action::ReferRefuse if legal(action) && may(action) && refer_pending => {
                out.push(item(action, action.label()));
            }
            Action::ReferApprove | Action::ReferRefuse => {}
            // 合议签字 while a member of the village council has yet to sign this referral.
            Action::CouncilSign if legal(action) && may(action) => {
                let someone_left = crate::services::council::unsigned_member_left(db, t).await?;
                if someone_left {
                    out.push(item(action, action.label()));
                }
            }
            Action::CouncilSign => {}
            // The on-the-spot check stands in for the return visit of a ticket without a requester.
            Action::Verify if legal(action) && may(action) && has_no_requester(t) => {
                out.push(item(action, action.label()));
            }
            Action::Verify => {}
            Action::Close if legal(action) && may(action) => {
                let missing = super::closing::missing_signoffs(db, t).await?;
                if !t.signoff_required || missing.is_empty() {
                    out.push(item(action, action.label()));
                }
            }
            a if legal(a) && may(a) => out.push(item(a, a.label())),
            _ => {}
        }
    }
    let visit = Action::ReturnVisit(VisitOutcome::Satisfied);
    if legal(visit) && may(visit) && !has_no_requester(t) {
        out.push(item(visit, "回访"));
    }
    Ok(out)
}
