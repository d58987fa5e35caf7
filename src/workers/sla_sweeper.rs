//! The SLA sweeper: for every active assignment whose next notice is due it sends, through the
//! outbox, a reminder at 80 % of each step's time and an urge (催办) at breach to the assignee and the
//! supervising unit (ledgered, system actor), and escalates a missed response to the lead unit of
//! the parent region. Each notice goes out once: the assignment's `*_reminded_at` / `*_urged_at`
//! marks and `next_check_at` are written with a guard in the same transaction as the messages.
//! Safe with several sweepers at once: PostgreSQL rows are claimed `FOR UPDATE SKIP LOCKED`, tickets
//! are locked without waiting; SQLite has one writer (`state.db.begin()`). A batch's urges and
//! escalations are written set-wise (`change::Batch`); what that path does not take goes one by one.
use crate::domain::ledger::ledger_time;
use crate::domain::sweep::{self, Decision, Notice, Step};
use crate::domain::ticket::{Action, Status, transition};
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::assignments::Assignment;
use crate::repo::sweep::Mark;
use crate::repo::tickets::{Actor, Ticket};
use crate::services::actions::{ActionBody, escalation, pause};
use crate::services::change::{self, Batch, Effects, worklink_url};
use crate::services::orders::{fmt_local, unit_recipients};
use crate::services::tickets::Loaded;
use crate::sms::templates;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::json;
use std::collections::HashMap;

/// Assignments per transaction: small enough that SQLite's single writer is not held for long.
pub const BATCH: u64 = 100;
/// Upper bound of batches in one pass, so one pass always ends.
const MAX_BATCHES: usize = 10_000;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Assignments looked at.
    pub examined: usize,
    pub reminders: usize,
    pub urges: usize,
    pub escalations: usize,
    /// Of the urges, those written set-wise with the others of their batch (`change::Batch`); the
    /// rest went one by one.
    pub batched: usize,
    /// Paused orders (挂起) whose resume date came: their clock runs again.
    pub resumed: usize,
    /// Left for the next pass: their ticket was locked by someone acting on it right now.
    pub deferred: usize,
    pub failed: usize,
}

impl std::ops::AddAssign for SweepReport {
    fn add_assign(&mut self, o: Self) {
        self.examined += o.examined;
        self.reminders += o.reminders;
        self.urges += o.urges;
        self.escalations += o.escalations;
        self.batched += o.batched;
        self.resumed += o.resumed;
        self.deferred += o.deferred;
        self.failed += o.failed;
    }
}

/// One pass at `now`: batches until nothing more is due (or only deferred rows are left).
pub async fn run_once(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<SweepReport> {
    let now = ledger_time(now);
    let mut total = SweepReport::default();
    // What the batches look up (units, recipients, policies, names) is read once per pass.
    let mut cache = Cache::default();
    for _ in 0..MAX_BATCHES {
        let r = run_batch(state, now, &mut cache).await?;
        total += r;
        let progressed = r.examined > r.deferred + r.failed;
        if r.examined < BATCH as usize || !progressed {
            break;
        }
    }
    // Housekeeping: logins whose refresh tokens have all expired.
    crate::repo::sessions::delete_expired(&state.db.conn, now).await?;
    if total.reminders + total.urges + total.escalations + total.resumed > 0 {
        tracing::info!(?total, "sla sweep");
        metrics::counter!("minsheng_sla_reminders_total").increment(total.reminders as u64);
        metrics::counter!("minsheng_sla_urges_total").increment(total.urges as u64);
        metrics::counter!("minsheng_sla_escalations_total").increment(total.escalations as u64);
    }
    Ok(total)
}

pub async fn run_loop(state: AppState, every: std::time::Duration) {
    loop {
        if let Err(e) = run_once(&state, state.now()).await {
            tracing::error!(error = ?e, "sla sweeper pass failed");
        }
        tokio::time::sleep(every).await;
    }
}

/// Who receives a unit's notices: (phone, staff id the order link acts for).
type Recipients = Vec<(String, Option<i64>)>;

/// Lookups shared by the assignments of a pass (most orders sit with a few units): read at most
/// once per pass, which lasts seconds; the next pass reads them afresh.
#[derive(Default)]
struct Cache {
    recipients: HashMap<(i64, Option<i64>), Recipients>,
    supervisors: HashMap<i64, Option<repo::regions::Unit>>,
    targets: HashMap<i64, Option<repo::regions::Unit>>,
    /// What escalations read (policies, calendar, names, recipients), once per pass.
    escalations: escalation::Lookups,
    /// Tickets changed in this batch: their derived deadlines and roll-ups are recomputed once,
    /// for all of them, before the batch commits (`change::refresh_derived`).
    changed: Vec<i64>,
}

impl Cache {
    async fn recipients(&mut self, state: &AppState, unit: i64, assignee: Option<i64>) -> ApiResult<Recipients> {
        if let Some(r) = self.recipients.get(&(unit, assignee)) {
            return Ok(r.clone());
        }
        let r = unit_recipients(&state.db.conn, unit, assignee).await?;
        self.recipients.insert((unit, assignee), r.clone());
        Ok(r)
    }

    async fn supervisor(&mut self, state: &AppState, unit: i64) -> ApiResult<Option<repo::regions::Unit>> {
        if let Some(s) = self.supervisors.get(&unit) {
            return Ok(s.clone());
        }
        let s = escalation::supervising_unit(&state.db.conn, unit).await?;
        self.supervisors.insert(unit, s.clone());
        Ok(s)
    }

    /// Where a missed response of `unit` escalates to (none: it cannot go up).
    async fn target(&mut self, state: &AppState, unit: i64) -> Option<repo::regions::Unit> {
        if let Some(t) = self.targets.get(&unit) {
            return t.clone();
        }
        let t = escalation::default_target(&state.db.conn, unit).await.ok();
        self.targets.insert(unit, t.clone());
        t
    }
}

async fn run_batch(state: &AppState, now: DateTime<Utc>, cache: &mut Cache) -> anyhow::Result<SweepReport> {
    let tx = state.db.begin().await?;
    let due = repo::sweep::claim_due(&*tx, now, BATCH).await?;
    let mut report = SweepReport { examined: due.len(), ..Default::default() };
    let ids: Vec<i64> = due.iter().map(|a| a.ticket_id).collect();
    let nos = repo::lookup::ticket_nos(&*tx, &ids).await?;
    cache.changed.clear();
    // The urges (and escalations) are written set-wise first; what that path leaves, or all of
    // them if it fails, go one by one below, each in its own savepoint.
    // What each assignment owes now, decided once for both paths.
    let planned: Vec<Planned> = due.iter().map(|a| (a, sweep::plan(&a.steps(), now))).collect();
    let (urgent, mut rest): (Vec<&Planned>, Vec<&Planned>) =
        planned.iter().partition(|(a, plan)| a.paused_at.is_none() && urges(plan));
    if !urgent.is_empty() {
        let sp = (*tx).begin().await?;
        match urge_batch(state, &sp, &urgent, now, cache).await {
            Ok((r, changed, left)) => {
                sp.commit().await?;
                report += r;
                cache.changed.extend(changed);
                rest.extend(left);
            }
            Err(e) => {
                tracing::warn!(error = %e, "batched urges failed: urging one by one");
                sp.rollback().await?;
                rest.extend(urgent);
            }
        }
    }
    for &(a, ref plan) in rest {
        if a.paused_at.is_some() {
            // The end of a pause changes the ticket: a savepoint of its own, like an urge.
            let sp = (*tx).begin().await?;
            match resume(state, &sp, a, now).await {
                Ok(r) => {
                    sp.commit().await?;
                    if r.resumed > 0 {
                        cache.changed.push(a.ticket_id);
                    }
                    report += r;
                }
                Err(e) => {
                    tracing::error!(assignment_id = a.id, error = %e, "resuming a paused order failed");
                    sp.rollback().await?;
                    report.failed += 1;
                }
            }
            continue;
        }
        let no = nos.get(&a.ticket_id).cloned().unwrap_or_default();
        if !plan.decisions.iter().any(|d| d.send == Some(Notice::Urge)) {
            // Reminders (or nothing): two small writes, straight in the batch.
            report += remind(state, &*tx, a, plan, &no, now, cache).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            continue;
        }
        // An urge touches the ticket and its ledger: a savepoint, so that one that fails is rolled
        // back alone and tried again next pass.
        let sp = (*tx).begin().await?;
        match urge(state, &sp, a, plan, now, cache).await {
            Ok(r) => {
                sp.commit().await?;
                if r.urges > 0 {
                    cache.changed.push(a.ticket_id);
                }
                report += r;
            }
            Err(e) => {
                tracing::error!(assignment_id = a.id, error = %e, "sla sweep of an assignment failed");
                sp.rollback().await?;
                report.failed += 1;
            }
        }
    }
    // Every change of the batch, in its transaction: the derived state follows in one pass.
    change::refresh_derived(state, &*tx, &cache.changed, now).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    tx.commit().await?;
    Ok(report)
}

fn marks(decisions: &[Decision]) -> Vec<Mark> {
    let mut out = vec![];
    for d in decisions {
        if d.mark_reminded {
            out.push(Mark { step: d.step, urge: false });
        }
        if d.mark_urged {
            out.push(Mark { step: d.step, urge: true });
        }
    }
    out
}

fn deadline_of(a: &Assignment, step: Step) -> DateTime<Utc> {
    match step {
        Step::Respond => a.respond_by,
        Step::Progress => a.progress_by,
        Step::Resolve => a.resolve_by,
    }
}

/// Reminders only: marks and messages, no ledger event (a reminder is a notice, not an act on the
/// order).
async fn remind<C: ConnectionTrait>(
    state: &AppState,
    db: &C,
    a: &Assignment,
    plan: &sweep::Plan,
    no: &str,
    now: DateTime<Utc>,
    cache: &mut Cache,
) -> ApiResult<SweepReport> {
    let mut report = SweepReport { examined: 0, ..Default::default() };
    if !repo::sweep::record(db, a, &marks(&plan.decisions), now, plan.next_check).await? {
        return Ok(report); // another sweeper took care of it
    }
    let sign = &state.settings.county.sms_sign;
    for d in plan.decisions.iter().filter(|d| d.send == Some(Notice::Reminder)) {
        let deadline = fmt_local(state, deadline_of(a, d.step));
        for (phone, staff) in cache.recipients(state, a.unit_id, a.assignee_id).await? {
            let link = worklink_url(state, a.id, staff, a.resolve_by);
            let msg = templates::reminder(sign, no, d.step.label(), &deadline, &link);
            repo::outbox::enqueue(db, &msg, &phone, Some(a.ticket_id), now).await?;
        }
        report.reminders += 1;
    }
    Ok(report)
}

/// A paused order whose resume instant came: resumed by the system, its deadlines moved by the
/// pause as it was (`pause::resume`). The ticket's conditional update makes it happen once.
async fn resume<C: ConnectionTrait>(
    state: &AppState,
    db: &C,
    a: &Assignment,
    now: DateTime<Utc>,
) -> ApiResult<SweepReport> {
    let mut report = SweepReport::default();
    let Some(ticket) = repo::sweep::lock_ticket_nowait(db, a.ticket_id).await? else {
        report.deferred = 1;
        return Ok(report);
    };
    let until = a.pause_until.unwrap_or(now);
    if ticket.status != Status::Paused || now < until {
        // Not (or not yet) a pause to end: look again when it ends, or stop looking.
        let next = (ticket.status == Status::Paused).then_some(until);
        repo::sweep::record(db, a, &[], now, next).await?;
        return Ok(report);
    }
    let l = Loaded::with(ticket.clone(), vec![a.clone()]);
    let fx = pause::resume(state, db, &l, &ActionBody::default(), None, now).await?;
    change::commit_in_deferred(state, db, &ticket, Action::Resume, Actor::system(), fx, now).await?;
    report.resumed = 1;
    Ok(report)
}

/// A due assignment with the notices it owes now.
type Planned<'a> = (&'a Assignment, sweep::Plan);

/// Whether any notice of `plan` is an urge (a breach), not only reminders.
fn urges(plan: &sweep::Plan) -> bool {
    plan.decisions.iter().any(|d| d.send == Some(Notice::Urge))
}

/// The urges of a batch written set-wise (`change::Batch`): the tickets locked in one statement,
/// the marks in one per shape, every urge and escalation staged and written together. Answers the
/// report, the tickets changed and the assignments left for the one-by-one path (an order the city
/// platform follows, an assisting part of a paused order, a second assignment of one ticket).
async fn urge_batch<'a, 'p, C: ConnectionTrait>(
    state: &AppState,
    db: &C,
    due: &[&'p Planned<'a>],
    now: DateTime<Utc>,
    cache: &mut Cache,
) -> ApiResult<(SweepReport, Vec<i64>, Vec<&'p Planned<'a>>)> {
    let mut ids: Vec<i64> = due.iter().map(|(a, _)| a.ticket_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let locked: HashMap<i64, Ticket> =
        repo::sweep::lock_tickets_nowait(db, &ids).await?.into_iter().map(|t| (t.id, t)).collect();
    let mut report = SweepReport::default();
    let (mut left, mut take, mut seen) = (vec![], vec![], std::collections::HashSet::new());
    for &planned in due {
        let (a, ref plan) = *planned;
        let Some(ticket) = locked.get(&a.ticket_id) else {
            report.deferred += 1; // someone is acting on it right now: next pass
            continue;
        };
        if !seen.insert(a.ticket_id) || !Batch::takes(ticket, ticket.status, Action::Urge, &Effects::new(false)) {
            left.push(planned);
            continue;
        }
        take.push((a, plan, ticket));
    }
    let marks: Vec<_> = take.iter().map(|(a, plan, _)| (*a, marks(&plan.decisions), plan.next_check)).collect();
    if repo::sweep::record_all(db, &marks, now).await? != marks.len() as u64 {
        return Err(ApiError::internal(anyhow::anyhow!("an assignment changed under the sweeper")));
    }
    let mut batch = Batch::default();
    for (a, plan, ticket) in take {
        let u = urge_effects(state, a, plan, ticket, cache).await?;
        report += u.report;
        report.batched += 1;
        let mut changes = vec![(Action::Urge, Actor::system(), u.fx)];
        if let Some(target) = u.target {
            changes.push((
                Action::Escalate,
                Actor::system(),
                escalate_effects(state, ticket, a, &target, now, cache).await?,
            ));
            report.escalations += 1;
        }
        batch.stage(ticket.clone(), changes)?;
    }
    let changed = batch.commit(state, db, now).await?;
    Ok((report, changed, left))
}

/// What an urge sends and records, and where a missed response escalates to.
struct Urge {
    report: SweepReport,
    fx: Effects,
    target: Option<repo::regions::Unit>,
}

/// A breach: urge the assignee and the supervising unit (one ledger event, system actor) and, for a
/// missed response, escalate to the lead unit of the parent region.
async fn urge<C: ConnectionTrait>(
    state: &AppState,
    db: &C,
    a: &Assignment,
    plan: &sweep::Plan,
    now: DateTime<Utc>,
    cache: &mut Cache,
) -> ApiResult<SweepReport> {
    // Take the ticket's row lock first, without waiting.
    let Some(ticket) = repo::sweep::lock_ticket_nowait(db, a.ticket_id).await? else {
        return Ok(SweepReport { deferred: 1, ..Default::default() });
    };
    if !repo::sweep::record(db, a, &marks(&plan.decisions), now, plan.next_check).await? {
        return Ok(SweepReport::default()); // another sweeper took care of it
    }
    let Urge { mut report, fx, target } = urge_effects(state, a, plan, &ticket, cache).await?;
    if transition(ticket.status, Action::Urge).is_err() {
        // An assisting part of an order the lead has paused: its unit is still told, but the
        // ticket takes no urge in this state, so no ledger event.
        for (msg, phone) in &fx.sms {
            repo::outbox::enqueue(db, msg, phone, Some(a.ticket_id), now).await?;
        }
        return Ok(report);
    }
    let fresh = change::commit_in_deferred(state, db, &ticket, Action::Urge, Actor::system(), fx, now).await?;
    if let Some(target) = target {
        let fx = escalate_effects(state, &fresh, a, &target, now, cache).await?;
        change::commit_in_deferred(state, db, &fresh, Action::Escalate, Actor::system(), fx, now).await?;
        report.escalations += 1;
    }
    Ok(report)
}

/// The urge's messages and ledger entry (both paths build it here).
async fn urge_effects(
    state: &AppState,
    a: &Assignment,
    plan: &sweep::Plan,
    ticket: &Ticket,
    cache: &mut Cache,
) -> ApiResult<Urge> {
    let urges: Vec<Step> = plan.decisions.iter().filter(|d| d.send == Some(Notice::Urge)).map(|d| d.step).collect();
    let mut report = SweepReport::default();
    let sign = &state.settings.county.sms_sign;
    let status = ticket.status;
    // An order nobody signed for — first dispatched or sent back for a redo — goes up a level.
    // An assisting part (联合办理) is urged like any order but never escalates the ticket: the
    // order itself is the lead's.
    let lead = ticket.current_assignment_id == Some(a.id);
    let respond_missed =
        lead && urges.contains(&Step::Respond) && matches!(status, Status::Dispatched | Status::Reopened);
    let target = if respond_missed { cache.target(state, a.unit_id).await } else { None };
    let supervisor = cache.supervisor(state, a.unit_id).await?;
    let unit_name = cache.escalations.unit_name(state, a.unit_id).await?;
    let mut fx = Effects::new(false);
    for d in &plan.decisions {
        let deadline = fmt_local(state, deadline_of(a, d.step));
        let recipients = cache.recipients(state, a.unit_id, a.assignee_id).await?;
        for (phone, staff) in recipients {
            let link = worklink_url(state, a.id, staff, a.resolve_by);
            let msg = match d.send {
                Some(Notice::Reminder) => templates::reminder(sign, &ticket.no, d.step.label(), &deadline, &link),
                _ => templates::overdue(sign, &ticket.no, d.step.label(), &deadline, &link),
            };
            fx.sms.push((msg, phone));
        }
        match d.send {
            Some(Notice::Reminder) => report.reminders += 1,
            _ => {
                report.urges += 1;
                // The supervisor that receives the escalated order is told by the escalation notice.
                if let Some(s) = supervisor.as_ref().filter(|s| target.as_ref().is_none_or(|t| t.id != s.id)) {
                    for (phone, _) in cache.recipients(state, s.id, None).await? {
                        fx.sms.push((
                            templates::supervise(sign, &ticket.no, &unit_name, d.step.label(), &deadline),
                            phone,
                        ));
                    }
                }
            }
        }
    }
    let steps_urged: Vec<&str> = urges.iter().map(|s| s.as_str()).collect();
    let labels: Vec<&str> = urges.iter().map(|s| s.label()).collect();
    fx.note = Some(format!("超过{}时限，系统催办", labels.join("、")));
    fx.data = json!({"auto": true, "assignment_id": a.id, "unit_id": a.unit_id, "unit_name": unit_name, "steps": steps_urged,
                     "supervisor_unit_id": supervisor.as_ref().map(|s| s.id)});
    Ok(Urge { report, fx, target })
}

/// The automatic escalation of a missed response to `target`.
async fn escalate_effects(
    state: &AppState,
    ticket: &Ticket,
    a: &Assignment,
    target: &repo::regions::Unit,
    now: DateTime<Utc>,
    cache: &mut Cache,
) -> ApiResult<Effects> {
    let l = Loaded::with(ticket.clone(), vec![a.clone()]);
    let reason = format!("超过签收时限（{}）未签收，系统自动提级", fmt_local(state, a.respond_by));
    escalation::effects_with(state, &l, a, target, reason, None, now, &mut cache.escalations).await
}
