//! Twelve weeks of the demo county's past (issue 17 point 8): every week, three hotline requests for
//! each village committee and each township office, dispatched, signed for (some late), resolved and
//! visited — each unit with its own share of satisfied villagers, a dissatisfied visit sending the
//! order back for a redo that is then put right — and each week's red/black list published on its
//! Monday, so that rates, rankings and lists show real numbers on the first start. Made through the
//! services with the application's clock set back, like the recent history in `orders`.
use super::orders::{err, region_id, staff, unit_id};
use crate::auth::Caller;
use crate::services::actions::{ActionBody, act};
use crate::services::redblack::{Week, publish};
use crate::services::{intake, return_visits};
use crate::state::AppState;
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;

pub const WEEKS: i64 = 12;
const PER_UNIT_AND_WEEK: i64 = 3;

/// (village the request comes from, unit, its cadre, category, the share of satisfied visits).
const UNITS: [(&str, &str, &str, &str, f64); 8] = [
    ("李家庄村", "李家庄村村民委员会", "lijiazhuang", "water.supply", 0.95),
    ("王家湾村", "王家湾村村民委员会", "wangjiawan", "sanitation.garbage", 0.8),
    ("石桥村", "石桥村村民委员会", "shiqiao", "roads.lights", 0.55),
    ("柳树沟村", "柳树沟村村民委员会", "liushugou", "water.supply", 0.9),
    ("杏花村", "杏花村村民委员会", "xinghua", "neighbours", 0.7),
    ("河口村", "河口村村民委员会", "hekou", "roads.lights", 0.85),
    ("石桥村", "东坝镇人民政府", "dongba", "roads.damage", 0.88),
    ("河口村", "西河乡人民政府", "xihe", "water.quality", 0.6),
];

/// A number in [0, 1) fixed by its inputs (the demo is the same every time).
fn draw(a: i64, b: i64, c: i64) -> f64 {
    let x = (a * 7919 + b * 104_729 + c * 15_485_863).unsigned_abs().wrapping_mul(2_654_435_761) % 10_000;
    x as f64 / 10_000.0
}

/// Seeds the past and publishes its lists; returns (requests, lists). The clock is put back after.
pub async fn seed(state: &AppState) -> anyhow::Result<(usize, usize)> {
    let start = state.now();
    let offset = start - chrono::Utc::now();
    let result = replay(state, start).await;
    // The clock runs as before (real time plus its offset), however long the replay took.
    state.time.advance(chrono::Utc::now() + offset - state.now());
    result
}

fn at(state: &AppState, t: DateTime<Utc>) {
    state.time.advance(t - state.now());
}

async fn replay(state: &AppState, start: DateTime<Utc>) -> anyhow::Result<(usize, usize)> {
    let tz = state.tz();
    let this_week = Week::of(start.with_timezone(&tz).date_naive());
    let (operator, dispatcher, caller) =
        (staff(state, "operator").await?, staff(state, "dispatcher").await?, staff(state, "caller").await?);
    let mut filed = 0;
    let mut lists = 0;
    for w in (1..=WEEKS).rev() {
        let week = Week { monday: this_week.monday - Duration::days(7 * w) };
        for (ui, (village, unit, cadre, category, quality)) in UNITS.iter().enumerate() {
            let cadre = staff(state, cadre).await?;
            let unit = unit_id(state, unit).await?;
            let region = region_id(state, village).await?;
            for k in 0..PER_UNIT_AND_WEEK {
                let day = week.monday + Duration::days(k * 2 + (ui as i64 % 2));
                let nine = tz.from_local_datetime(&day.and_hms_opt(9, 0, 0).unwrap_or_default()).earliest();
                let Some(received) = nine.map(|t| t.with_timezone(&Utc) + Duration::minutes(ui as i64 * 7)) else {
                    continue;
                };
                at(state, received);
                let phone = format!("136{:08}", 10_000 + w * 1000 + ui as i64 * 10 + k);
                let body = json!({"region_id": region, "channel": "hotline", "category": category, "kind": "help",
                                  "description": "往期诉求（演示数据）", "phone": phone});
                let (_, answer) = intake::file(state, &body, None, &Caller::Staff(operator.clone()), "127.0.0.1")
                    .await
                    .map_err(err)?;
                let no = answer.ticket_no;
                filed += 1;
                let dispatch = ActionBody { unit_id: Some(unit), ..Default::default() };
                at(state, received + Duration::minutes(10));
                act(state, &dispatcher, &no, crate::domain::ticket::Action::Dispatch, &dispatch).await.map_err(err)?;
                // One order in six is signed for after its two-hour deadline.
                let late = draw(w, ui as i64, k) < 0.17;
                at(state, received + Duration::minutes(if late { 190 } else { 40 }));
                act(state, &cadre, &no, crate::domain::ticket::Action::Accept, &ActionBody::default())
                    .await
                    .map_err(err)?;
                let resolved =
                    ActionBody { result: Some("已处理完毕（演示数据）".into()), ..Default::default() };
                at(state, received + Duration::hours(26));
                act(state, &cadre, &no, crate::domain::ticket::Action::Resolve, &resolved).await.map_err(err)?;
                let roll = draw(k + 3, w, ui as i64);
                let (solved, satisfaction) = if roll < *quality {
                    ("yes", "satisfied")
                } else if roll < quality + 0.1 {
                    ("partly", "basically_satisfied")
                } else {
                    ("no", "dissatisfied")
                };
                at(state, received + Duration::hours(30));
                visit(state, &caller, &no, solved, satisfaction).await?;
                if satisfaction == "dissatisfied" {
                    // The redo: back with the unit, put right the next day, visited again.
                    at(state, received + Duration::hours(31));
                    act(state, &cadre, &no, crate::domain::ticket::Action::Accept, &ActionBody::default())
                        .await
                        .map_err(err)?;
                    at(state, received + Duration::hours(50));
                    act(state, &cadre, &no, crate::domain::ticket::Action::Resolve, &resolved).await.map_err(err)?;
                    at(state, received + Duration::hours(54));
                    visit(state, &caller, &no, "yes", "satisfied").await?;
                }
            }
        }
        // Published on the following Monday at 08:00.
        let monday = week.monday + Duration::days(7);
        if let Some(eight) = tz.from_local_datetime(&monday.and_hms_opt(8, 0, 0).unwrap_or_default()).earliest() {
            let eight = eight.with_timezone(&Utc);
            if eight <= start {
                at(state, eight);
                if publish(state, week, eight).await.map_err(err)? {
                    lists += 1;
                }
            }
        }
    }
    Ok((filed, lists))
}

async fn visit(
    state: &AppState,
    caller: &crate::auth::StaffUser,
    no: &str,
    solved: &str,
    satisfaction: &str,
) -> anyhow::Result<()> {
    let req = return_visits::VisitRequest {
        reached: Some(true),
        solved: Some(solved.into()),
        satisfaction: Some(satisfaction.into()),
        // The four scores (态度、能力、便利、效率) follow the answer: what the leaders' numbers show.
        scores: Some(match satisfaction {
            "satisfied" => return_visits::Scores {
                attitude: Some(5),
                capability: Some(5),
                convenience: Some(4 + i32::from(no.ends_with(['1', '3', '5', '7', '9']))),
                efficiency: Some(4 + i32::from(no.ends_with(['0', '2', '4']))),
            },
            "basically_satisfied" => return_visits::Scores {
                attitude: Some(4),
                capability: Some(4),
                convenience: Some(3),
                efficiency: Some(3),
            },
            _ => return_visits::Scores {
                attitude: Some(3),
                capability: Some(2),
                convenience: Some(3),
                efficiency: Some(1),
            },
        }),
        comment: None,
        channel: Some("phone".into()),
    };
    return_visits::record(state, caller, no, &req).await.map_err(err)?;
    Ok(())
}
