//! A few days of the demo county's work, so that the work list shows every state at once: requests
//! waiting for registration and dispatch (one of each late), orders with their units, two overdue
//! (result deadline missed) and one late for its first feedback, results waiting for the return
//! visit (one late) and a closed one, and a proactive ticket (未诉先办) raised from one village's
//! requests. Made through the same services as real work — intake, the staff actions, the return
//! visit — with the application's clock set back, so every deadline, ledger event and message is
//! what that history would have written.
use crate::auth::{Caller, StaffUser};
use crate::error::ApiError;
use crate::repo;
use crate::services::actions::{ActionBody, act};
use crate::services::{intake, return_visits};
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

/// One step of the history: how long before now, who, and what.
enum Step {
    /// A villager files from the village's card (ticket number `ticket` of the history).
    Card { ticket: usize, village: &'static str, category: &'static str, text: &'static str, phone: &'static str },
    /// The hotline desk registers a call (registered at once).
    Call { ticket: usize, village: &'static str, category: &'static str, text: &'static str, phone: &'static str },
    /// The dispatcher raises a proactive ticket (未诉先办) from requests of the history.
    Proactive {
        ticket: usize,
        village: &'static str,
        category: &'static str,
        text: &'static str,
        linked: &'static [usize],
    },
    /// A staff action on a ticket of the history.
    Act { ticket: usize, who: &'static str, action: &'static str, body: serde_json::Value },
    /// The caller records a satisfied visit.
    Visit { ticket: usize },
}

pub(super) fn err(e: ApiError) -> anyhow::Error {
    anyhow::anyhow!("demo history: {} ({})", e.message, e.code)
}

pub(super) async fn staff(state: &AppState, username: &str) -> anyhow::Result<StaffUser> {
    let s = repo::staff::by_username(&state.db.conn, username)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo staff {username} missing"))?;
    let path = repo::regions::get(&state.db.conn, s.region_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("region of {username} missing"))?
        .path;
    Ok(StaffUser::from_record(&s, &path))
}

pub(super) async fn region_id(state: &AppState, name: &str) -> anyhow::Result<i64> {
    let page = repo::Page { page: 1, per_page: 100 };
    let (rows, _) = repo::regions::list(&state.db.conn, "/", None, None, None, page).await?;
    rows.into_iter().find(|r| r.name == name).map(|r| r.id).ok_or_else(|| anyhow::anyhow!("region {name} missing"))
}

pub(super) async fn unit_id(state: &AppState, name: &str) -> anyhow::Result<i64> {
    let page = repo::Page { page: 1, per_page: 100 };
    let (rows, _) = repo::regions::list_units(&state.db.conn, "/", None, None, page).await?;
    rows.into_iter()
        .find(|(u, _)| u.name == name)
        .map(|(u, _)| u.id)
        .ok_or_else(|| anyhow::anyhow!("unit {name} missing"))
}

/// A company outside government (公共服务企业) of the demo: (name, township, duty phone). It has no
/// console account; its orders reach the duty phone by SMS link.
pub const OUTSIDE_UNIT: (&str, &str, &str) = ("东坝镇供电所", "东坝镇", "13900000501");

/// The history, ticket by ticket: (minutes before now, step); `seed` plays it in time order.
fn history() -> Vec<(i64, Step)> {
    use Step::*;
    let h = 60;
    let d = 24 * h;
    let accept = |ticket, who| Act { ticket, who, action: "accept", body: json!({}) };
    vec![
        // 0: overdue — the village signed for it four days ago and has not resolved it (72 h).
        (
            4 * d,
            Card {
                ticket: 0,
                village: "李家庄村",
                category: "water.supply",
                // A phone typed into the text: masked on the tracking page (`/t/{no}?phone_tail=0001`),
                // in lists and exports, shown in full only on the handling cadre's order page.
                text: "村东头自来水管爆裂，半条街停水，有情况请打我电话137-0000-0001",
                phone: "13700000001",
            },
        ),
        (4 * d - 10, Act { ticket: 0, who: "operator", action: "register", body: json!({}) }),
        (
            4 * d - 20,
            Act {
                ticket: 0, who: "dispatcher", action: "dispatch", body: json!({"unit": "李家庄村村民委员会"})
            },
        ),
        (4 * d - 80, accept(0, "lijiazhuang")),
        (
            3 * d,
            Act {
                ticket: 0, who: "lijiazhuang", action: "progress", body: json!({"note": "已联系施工队，等待配件"})
            },
        ),
        // 1: overdue — the township signed for a broken road and has given no news since.
        (
            3 * d + 5 * h,
            Call {
                ticket: 1,
                village: "王家湾村",
                category: "roads.damage",
                text: "村口到镇上的水泥路塌了一个大坑，车辆无法通行",
                phone: "13700000002",
            },
        ),
        (
            3 * d + 5 * h - 15,
            Act { ticket: 1, who: "dispatcher", action: "dispatch", body: json!({"unit": "东坝镇人民政府"}) },
        ),
        (3 * d + 4 * h, accept(1, "dongba")),
        // 2: resolved three days ago, the return visit is late (48 h).
        (
            3 * d + 2 * h,
            Call {
                ticket: 2,
                village: "柳树沟村",
                category: "roads.lights",
                text: "村委会门口两盏路灯不亮",
                phone: "13700000003",
            },
        ),
        (
            3 * d + 2 * h - 10,
            Act {
                ticket: 2, who: "dispatcher", action: "dispatch", body: json!({"unit": "柳树沟村村民委员会"})
            },
        ),
        (3 * d + h, accept(2, "liushugou")),
        (
            3 * d,
            Act {
                ticket: 2,
                who: "liushugou",
                action: "resolve",
                body: json!({"result": "已更换灯泡，两盏路灯恢复照明"}),
            },
        ),
        // 3: closed after a satisfied visit; 环境卫生 is dispatched by the system to the village committee.
        (
            2 * d + 6 * h,
            Card {
                ticket: 3,
                village: "杏花村",
                category: "sanitation.garbage",
                text: "垃圾桶满了三天没人清运",
                phone: "13700000004",
            },
        ),
        (2 * d + 5 * h, accept(3, "xinghua")),
        (
            2 * d,
            Act {
                ticket: 3,
                who: "xinghua",
                action: "resolve",
                body: json!({"result": "已安排保洁员清运，并增加每周清运次数"}),
            },
        ),
        (d + 20 * h, Visit { ticket: 3 }),
        // 4: late for its first feedback (24 h) though not yet overdue.
        (
            30 * h,
            Call {
                ticket: 4,
                village: "石桥村",
                category: "neighbours",
                text: "邻居在公共通道上堆放杂物，协商不成",
                phone: "13700000005",
            },
        ),
        (
            30 * h - 15,
            Act { ticket: 4, who: "dispatcher", action: "dispatch", body: json!({"unit": "石桥村村民委员会"}) },
        ),
        (29 * h, accept(4, "shiqiao")),
        // 5: in progress, on time.
        (
            20 * h,
            Card {
                ticket: 5,
                village: "河口村",
                category: "water.quality",
                text: "自来水发黄，有异味",
                phone: "13700000006",
            },
        ),
        (20 * h - 10, Act { ticket: 5, who: "operator", action: "register", body: json!({}) }),
        (
            20 * h - 20,
            Act { ticket: 5, who: "dispatcher", action: "dispatch", body: json!({"unit": "西河乡人民政府"}) },
        ),
        (19 * h, accept(5, "xihe")),
        (
            10 * h,
            Act {
                ticket: 5, who: "xihe", action: "progress", body: json!({"note": "已取水样送检，结果出来后处理"})
            },
        ),
        // 6: resolved an hour ago, waiting for its return visit.
        (
            6 * h,
            Call {
                ticket: 6,
                village: "王家湾村",
                category: "sanitation.garbage",
                text: "河边有人倾倒建筑垃圾",
                phone: "13700000007",
            },
        ),
        (
            6 * h - 10,
            Act {
                ticket: 6, who: "dispatcher", action: "dispatch", body: json!({"unit": "王家湾村村民委员会"})
            },
        ),
        (5 * h, accept(6, "wangjiawan")),
        (
            h,
            Act {
                ticket: 6,
                who: "wangjiawan",
                action: "resolve",
                body: json!({"result": "已清理建筑垃圾并设置警示牌"}),
            },
        ),
        // 7: registered an hour ago, the dispatch is late (20 min).
        (
            h,
            Call {
                ticket: 7,
                village: "杏花村",
                category: "wages",
                text: "在县城工地干了半年活，老板拖欠工资两万元",
                phone: "13700000008",
            },
        ),
        // 8: dispatched half an hour ago, the unit has not signed for it yet.
        (
            40,
            Call {
                ticket: 8,
                village: "李家庄村",
                category: "housing",
                text: "老房子墙体开裂，担心下雨倒塌",
                phone: "13700000009",
            },
        ),
        (
            30,
            Act {
                ticket: 8, who: "dispatcher", action: "dispatch", body: json!({"unit": "县住房和城乡建设局"})
            },
        ),
        // 9: filed from the card half an hour ago: registration is late (15 min).
        (
            30,
            Card {
                ticket: 9,
                village: "石桥村",
                category: "consult",
                text: "想咨询今年种粮补贴怎么申领",
                phone: "13700000010",
            },
        ),
        // 10: registered ten minutes ago, waiting for dispatch.
        (
            10,
            Call {
                ticket: 10,
                village: "河口村",
                category: "industry.market",
                text: "今年的梨卖不出去，希望帮忙联系销路",
                phone: "13700000011",
            },
        ),
        // 11: just filed from the card.
        (
            3,
            Card {
                ticket: 11,
                village: "柳树沟村",
                category: "social.pension",
                text: "养老保险缴费年限查询有误",
                phone: "13700000012",
            },
        ),
        // 12–14: three more households of 河口村 about their tap water (with 5, a hotspot); 15: the
        // dispatcher raises one proactive ticket (未诉先办) for the whole village from them, and the
        // township's office is already working on it.
        (
            40 * h,
            Card {
                ticket: 12,
                village: "河口村",
                category: "water.quality",
                text: "自来水有股怪味，烧开了也有",
                phone: "13700000013",
            },
        ),
        (
            30 * h,
            Card {
                ticket: 13,
                village: "河口村",
                category: "water.quality",
                text: "这两天水龙头放出来的水是黄的",
                phone: "13700000014",
            },
        ),
        (
            26 * h,
            Card {
                ticket: 14,
                village: "河口村",
                category: "water.quality",
                text: "村西头几户的自来水浑浊，不敢给孩子喝",
                phone: "13700000015",
            },
        ),
        (
            18 * h,
            Proactive {
                ticket: 15,
                village: "河口村",
                category: "water.quality",
                text: "河口村多户反映自来水浑浊有异味，排查全村供水管网和蓄水池，统一清洗消毒",
                linked: &[12, 13, 14],
            },
        ),
        (
            18 * h - 10,
            Act { ticket: 15, who: "dispatcher", action: "dispatch", body: json!({"unit": "西河乡人民政府"}) },
        ),
        (17 * h, accept(15, "xihe")),
        // 16: paused (挂起) — the machine road washed out in the rains can only be rebuilt after the
        // harvest; the township asked, the leader approved.
        (
            6 * d,
            Card {
                ticket: 16,
                village: "石桥村",
                category: "roads.damage",
                text: "村北机耕路被雨水冲毁一段，拖拉机过不去",
                phone: "13700000017",
            },
        ),
        (6 * d - 10, Act { ticket: 16, who: "operator", action: "register", body: json!({}) }),
        (
            6 * d - 20,
            Act { ticket: 16, who: "dispatcher", action: "dispatch", body: json!({"unit": "东坝镇人民政府"}) },
        ),
        (6 * d - 60, accept(16, "dongba")),
        (
            5 * d + 2 * h,
            Act {
                ticket: 16,
                who: "dongba",
                action: "pause_request",
                body: json!({"reason": "地里庄稼未收，大型机械无法进场铺设路基，需秋收后施工", "resume_in_days": 20}),
            },
        ),
        (5 * d, Act { ticket: 16, who: "leader", action: "pause_approve", body: json!({"note": "同意"}) }),
        // 18: a power cut for 东坝镇供电所, a company outside government: the order went to its duty
        // phone by SMS link and waits for its signature.
        (
            50,
            Call {
                ticket: 18,
                village: "王家湾村",
                category: "utilities.power",
                text: "村里这周停电三次，电压也不稳，冰箱烧坏了",
                phone: "13700000019",
            },
        ),
        (40, Act { ticket: 18, who: "dispatcher", action: "dispatch", body: json!({"unit": OUTSIDE_UNIT.0}) }),
        // 19: a repeated request (20 repeats it) that the village could not settle: the desk asked to
        // refer it, the leader approved (下交签批), three council members signed and the council's
        // decision was published on 王家湾村's notice page and texted to the village's cadres.
        (
            9 * d,
            Card {
                ticket: 19,
                village: "王家湾村",
                category: "water.supply",
                text: "村西水井的水泵老化，一个月里停了四次水，修了又坏",
                phone: "13700000020",
            },
        ),
        (9 * d - 10, Act { ticket: 19, who: "operator", action: "register", body: json!({}) }),
        (
            9 * d - 20,
            Act {
                ticket: 19, who: "dispatcher", action: "dispatch", body: json!({"unit": "王家湾村村民委员会"})
            },
        ),
        (9 * d - 60, accept(19, "wangjiawan")),
        (
            8 * d,
            Act {
                ticket: 19,
                who: "wangjiawan",
                action: "progress",
                body: json!({"note": "已临时维修，换泵需村集体出钱，村两委意见不一"}),
            },
        ),
        (
            4 * d + 2 * h,
            Card {
                ticket: 20,
                village: "王家湾村",
                category: "water.supply",
                text: "水泵又坏了，还是没人管，又停水两天",
                phone: "13700000020",
            },
        ),
        (
            4 * d - 30,
            Act {
                ticket: 19,
                who: "dispatcher",
                action: "refer",
                body: json!({"reason": "同一诉求一个月内反复反映，换泵出资需村民议事会合议"}),
            },
        ),
        (4 * d - 90, Act { ticket: 19, who: "leader", action: "refer_approve", body: json!({"note": "同意下交"}) }),
        (3 * d, Act { ticket: 19, who: "operator", action: "council_sign", body: json!({"member": "王守义"}) }),
        (3 * d - 1, Act { ticket: 19, who: "operator", action: "council_sign", body: json!({"member": "王桂芝"}) }),
        (
            3 * d - 2,
            Act {
                ticket: 19,
                who: "operator",
                action: "council_sign",
                body: json!({"member": "刘振华", "note": "同意，账目要张榜公布"}),
            },
        ),
        (
            3 * d - 10,
            Act {
                ticket: 19,
                who: "operator",
                action: "council_decision",
                body: json!({"decision": "经村民议事会合议：由村集体出资更换村西水井水泵，村委会一周内完成；费用从村集体收入中列支，账目张榜公布。",
                             "notify_cadres": true}),
            },
        ),
        // 21: a repeated request (22 repeats it) the desk asked to refer, waiting for the leader.
        (
            2 * d + 3 * h,
            Card {
                ticket: 21,
                village: "杏花村",
                category: "roads.lights",
                text: "村口到学校的路灯坏了半年，孩子晚上放学看不见路",
                phone: "13700000021",
            },
        ),
        (2 * d + 3 * h - 10, Act { ticket: 21, who: "operator", action: "register", body: json!({}) }),
        (
            2 * d + 3 * h - 20,
            Act {
                ticket: 21, who: "dispatcher", action: "dispatch", body: json!({"unit": "杏花村村民委员会"})
            },
        ),
        (2 * d + 2 * h, accept(21, "xinghua")),
        (
            d + 6 * h,
            Act {
                ticket: 21,
                who: "xinghua",
                action: "progress",
                body: json!({"note": "路灯归属说不清，村里和供电所互相推"}),
            },
        ),
        (
            d,
            Card {
                ticket: 22,
                village: "杏花村",
                category: "roads.lights",
                text: "路灯还是不亮，上次反映了没结果",
                phone: "13700000021",
            },
        ),
        (
            20 * h,
            Act {
                ticket: 21,
                who: "dispatcher",
                action: "refer",
                body: json!({"reason": "重复反映，路灯维护费用由谁承担需村民议事会合议"}),
            },
        ),
        // 30: joint handling (联合办理) — a bridge railing and the silted river under it: the township
        // leads, the housing bureau (bridges) has reported its part, the water bureau still owes its.
        (
            20 * h,
            Call {
                ticket: 30,
                village: "柳树沟村",
                category: "roads.damage",
                text: "村口小桥护栏断了两段，桥下河道也被垃圾和淤泥堵住，下雨就漫到路上",
                phone: "13700000020",
            },
        ),
        (
            20 * h - 10,
            Act {
                ticket: 30,
                who: "dispatcher",
                action: "dispatch",
                body: json!({"unit": "西河乡人民政府", "assisting": ["县住房和城乡建设局", "县水利局"],
                             "note": "护栏由住建局协办，河道清淤由水利局协办，乡政府牵头"}),
            },
        ),
        (19 * h, accept(30, "xihe")),
        (18 * h, Act { ticket: 30, who: "zhujian", action: "assist_accept", body: json!({}) }),
        (
            6 * h,
            Act {
                ticket: 30,
                who: "zhujian",
                action: "assist_report",
                body: json!({"note": "已更换两段桥梁护栏，并设置了警示桩"}),
            },
        ),
        // 17: a pause asked for and waiting for the leader — the land dispute went to court.
        (
            2 * d,
            Call {
                ticket: 17,
                village: "杏花村",
                category: "land.contract",
                text: "承包地边界被邻居占了两垄，协商不成",
                phone: "13700000018",
            },
        ),
        (
            2 * d - 15,
            Act { ticket: 17, who: "dispatcher", action: "dispatch", body: json!({"unit": "西河乡人民政府"}) },
        ),
        (2 * d - 2 * h, accept(17, "xihe")),
        (
            d + 2 * h,
            Act {
                ticket: 17,
                who: "xihe",
                action: "progress",
                body: json!({"note": "已约双方到乡司法所调解一次，未达成一致"}),
            },
        ),
        (
            d + h,
            Act {
                ticket: 17,
                who: "xihe",
                action: "pause_request",
                body: json!({"reason": "对方已向法院起诉，需等待判决后执行", "resume_in_days": 60}),
            },
        ),
        (
            8 * h,
            Act {
                ticket: 15,
                who: "xihe",
                action: "progress",
                body: json!({"note": "已联系水厂，明日对蓄水池清洗消毒"}),
            },
        ),
    ]
}

/// Writes the demo history through the services, the clock set back to each step's time and put
/// back afterwards. Returns how many tickets it filed.
pub async fn seed(state: &AppState) -> anyhow::Result<usize> {
    let start = state.now();
    let offset = start - Utc::now();
    let result = replay(state, start).await;
    // Whatever happened, the clock runs as before (real time plus the offset it had), however long
    // the replay took.
    state.time.advance(Utc::now() + offset - state.now());
    result
}

/// The demo's company outside government, created once (a year old, like the county's units).
async fn outside_unit(state: &AppState, start: DateTime<Utc>) -> anyhow::Result<()> {
    let (name, township, phone) = OUTSIDE_UNIT;
    if unit_id(state, name).await.is_ok() {
        return Ok(());
    }
    let region = region_id(state, township).await?;
    let new = repo::regions::NewUnit {
        name,
        level: crate::domain::values::HandlingLevel::Township,
        kind: crate::domain::values::UnitKind::Outside,
        region_id: region,
        is_lead: false,
        phone: Some(phone),
    };
    repo::regions::create_unit(&state.db.conn, new, start - Duration::days(365)).await?;
    Ok(())
}

/// The demo villages' councils (三老合议): (village, [(name, title)]).
const COUNCILS: [(&str, &[(&str, &str)]); 6] = [
    ("李家庄村", &[("李德福", "老党员"), ("王秀兰", "老教师"), ("李长贵", "老干部")]),
    ("王家湾村", &[("王守义", "老党员"), ("王桂芝", "老教师"), ("刘振华", "老干部"), ("王建军", "村民代表")]),
    ("石桥村", &[("石德荣", "老党员"), ("张淑英", "老教师"), ("石广田", "老干部")]),
    ("柳树沟村", &[("柳长青", "老党员"), ("刘玉梅", "老教师"), ("柳国强", "老干部")]),
    ("杏花村", &[("杜守仁", "老党员"), ("杏秀云", "老教师"), ("杜明山", "老干部"), ("杜小娟", "村民代表")]),
    ("河口村", &[("赵德胜", "老党员"), ("赵月英", "老教师"), ("孙河清", "老干部")]),
];

/// Seats each demo village's council once (a village that has members keeps them).
async fn councils(state: &AppState, start: DateTime<Utc>) -> anyhow::Result<()> {
    let db = &state.db.conn;
    for (village, members) in COUNCILS {
        let id = region_id(state, village).await?;
        if !repo::council::members(db, id, false).await?.is_empty() {
            continue;
        }
        for (name, title) in members {
            let m = repo::council::NewMember {
                region_id: id,
                name: name.to_string(),
                title: title.to_string(),
                phone: None,
                created_by: None,
            };
            repo::council::create_member(db, m, start - Duration::days(30)).await?;
        }
    }
    Ok(())
}

async fn council_member(state: &AppState, name: &str) -> anyhow::Result<i64> {
    let (village, _) = COUNCILS
        .iter()
        .find(|(_, ms)| ms.iter().any(|(n, _)| *n == name))
        .ok_or_else(|| anyhow::anyhow!("no demo council member {name}"))?;
    let id = region_id(state, village).await?;
    repo::council::members(&state.db.conn, id, true)
        .await?
        .into_iter()
        .find(|m| m.name == name)
        .map(|m| m.id)
        .ok_or_else(|| anyhow::anyhow!("council member {name} missing"))
}

async fn replay(state: &AppState, start: DateTime<Utc>) -> anyhow::Result<usize> {
    outside_unit(state, start).await?;
    councils(state, start).await?;
    let mut tickets: std::collections::HashMap<usize, String> = Default::default();
    let operator = staff(state, "operator").await?;
    let mut steps = history();
    // Oldest first; a stable sort keeps a ticket's steps of the same minute in their order.
    steps.sort_by_key(|(minutes_ago, _)| std::cmp::Reverse(*minutes_ago));
    for (minutes_ago, step) in steps {
        state.time.advance(start - Duration::minutes(minutes_ago) - state.now());
        match step {
            Step::Card { ticket, village, category, text, phone } => {
                let card = repo::cards::list(
                    &state.db.conn,
                    "/",
                    Some(crate::domain::values::CardStatus::Active),
                    repo::Page { page: 1, per_page: 100 },
                )
                .await?
                .0
                .into_iter()
                .find(|(_, r)| r.as_ref().is_some_and(|r| r.name == village))
                .map(|(c, _)| c.code)
                .ok_or_else(|| anyhow::anyhow!("card of {village} missing"))?;
                let body = json!({"card_code": card, "category": category, "kind": "help", "description": text, "phone": phone});
                let (_, answer) =
                    intake::file(state, &body, None, &Caller::Anonymous, "127.0.0.1").await.map_err(err)?;
                tickets.insert(ticket, answer.ticket_no);
            }
            Step::Call { ticket, village, category, text, phone } => {
                let body = json!({"region_id": region_id(state, village).await?, "channel": "hotline", "category": category,
                                  "kind": "help", "description": text, "phone": phone});
                let caller = Caller::Staff(operator.clone());
                let (_, answer) = intake::file(state, &body, None, &caller, "127.0.0.1").await.map_err(err)?;
                tickets.insert(ticket, answer.ticket_no);
            }
            Step::Proactive { ticket, village, category, text, linked } => {
                let mut nos = vec![];
                for l in linked {
                    nos.push(tickets.get(l).ok_or_else(|| anyhow::anyhow!("demo ticket {l} not filed"))?.clone());
                }
                let body = json!({"region_id": region_id(state, village).await?, "channel": "proactive",
                                  "category": category, "kind": "help", "description": text, "linked_tickets": nos});
                let caller = Caller::Staff(staff(state, "dispatcher").await?);
                let (_, answer) = intake::file(state, &body, None, &caller, "127.0.0.1").await.map_err(err)?;
                tickets.insert(ticket, answer.ticket_no);
            }
            Step::Act { ticket, who, action, body } => {
                let no = tickets.get(&ticket).ok_or_else(|| anyhow::anyhow!("demo ticket {ticket} not filed"))?;
                let action = crate::domain::ticket::Action::from_path(action)
                    .ok_or_else(|| anyhow::anyhow!("unknown action {action}"))?;
                let mut b = ActionBody {
                    note: body["note"].as_str().map(str::to_string),
                    result: body["result"].as_str().map(str::to_string),
                    reason: body["reason"].as_str().map(str::to_string),
                    ..Default::default()
                };
                if let Some(days) = body["resume_in_days"].as_i64() {
                    let today = state.now().with_timezone(&state.tz()).date_naive();
                    b.resume_on = Some((today + Duration::days(days)).to_string());
                }
                if let Some(unit) = body["unit"].as_str() {
                    b.unit_id = Some(unit_id(state, unit).await?);
                }
                if let Some(units) = body["assisting"].as_array() {
                    let mut ids = vec![];
                    for u in units.iter().filter_map(|u| u.as_str()) {
                        ids.push(unit_id(state, u).await?);
                    }
                    b.assisting_unit_ids = Some(ids);
                }
                b.decision = body["decision"].as_str().map(str::to_string);
                b.notify_cadres = body["notify_cadres"].as_bool();
                if let Some(name) = body["member"].as_str() {
                    b.member_id = Some(council_member(state, name).await?);
                }
                act(state, &staff(state, who).await?, no, action, &b).await.map_err(err)?;
            }
            Step::Visit { ticket } => {
                let no = tickets.get(&ticket).ok_or_else(|| anyhow::anyhow!("demo ticket {ticket} not filed"))?;
                let req = return_visits::VisitRequest {
                    reached: Some(true),
                    solved: Some("yes".into()),
                    satisfaction: Some("satisfied".into()),
                    scores: None,
                    comment: Some("清运及时，很满意".into()),
                    channel: Some("phone".into()),
                };
                return_visits::record(state, &staff(state, "caller").await?, no, &req).await.map_err(err)?;
            }
        }
    }
    Ok(tickets.len())
}
