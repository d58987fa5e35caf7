//! The text of every message kind. The body is what the console provider shows and what the generic
//! provider sends; `params` are the variables a provider template (Alibaba/Tencent) receives.
use super::values::OutboxKind;
use serde_json::{Value, json};

#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub kind: OutboxKind,
    pub body: String,
    pub params: Value,
    /// Urgent messages ignore quiet hours.
    pub urgent: bool,
}

fn sign(sign_name: &str, text: String) -> String {
    format!("【{sign_name}】{text}")
}

/// To the cadre: a new order for their unit.
pub fn assignment(sign_name: &str, no: &str, category: &str, village: &str, respond_by: &str, link: &str) -> Message {
    Message {
        kind: OutboxKind::Assignment,
        body: sign(
            sign_name,
            format!("新工单{no}（{category}，{village}），请于{respond_by}前签收并联系群众。办理：{link} 回复1签收"),
        ),
        params: json!({"no": no, "category": category, "village": village, "deadline": respond_by, "token": link_token(link)}),

        urgent: true,
    }
}

/// To an assisting unit (联合办理): its part of an order led by another unit.
pub fn assist(
    sign_name: &str,
    no: &str,
    category: &str,
    village: &str,
    lead: &str,
    respond_by: &str,
    link: &str,
) -> Message {
    Message {
        kind: OutboxKind::Assist,
        body: sign(
            sign_name,
            format!(
                "协办工单{no}（{category}，{village}）由{lead}主办，请于{respond_by}前签收并反馈协办情况。办理：{link}"
            ),
        ),
        params: json!({"no": no, "category": category, "village": village, "lead": lead, "deadline": respond_by,
                       "token": link_token(link)}),
        urgent: true,
    }
}

/// To the villager: the request was received.
pub fn confirmation(sign_name: &str, no: &str, link: &str) -> Message {
    Message {
        kind: OutboxKind::Confirmation,
        body: sign(sign_name, format!("您的诉求已受理，编号{no}。查看进度：{link}")),
        params: json!({"no": no}),
        urgent: false,
    }
}

/// To the villager: the responsible unit signed for the order (sent by SMS only as the fallback of
/// a WeChat subscribe message that did not go).
pub fn accepted(sign_name: &str, no: &str, link: &str) -> Message {
    Message {
        kind: OutboxKind::Accepted,
        body: sign(sign_name, format!("您的诉求{no}已由承办单位签收，正在办理。查看进度：{link}")),
        params: json!({"no": no}),
        urgent: false,
    }
}

/// To the cadre: urged (催办).
pub fn urge(sign_name: &str, no: &str, note: &str) -> Message {
    let extra = if note.is_empty() { String::new() } else { format!("：{note}") };
    Message {
        kind: OutboxKind::Urge,
        body: sign(sign_name, format!("催办：工单{no}请尽快办理{extra}")),
        params: json!({"no": no}),
        urgent: true,
    }
}

/// To the cadre (or unit) that was sent an order the dispatcher then redirected (改派) or withdrew
/// (撤回) before it was signed for: the order and its link are no longer theirs to work.
pub fn recall(sign_name: &str, no: &str, what: &str) -> Message {
    Message {
        kind: OutboxKind::Recall,
        body: sign(sign_name, format!("工单{no}已{what}，贵单位无需再办理，原办理链接已失效。")),
        params: json!({"no": no, "action": what}),
        urgent: true,
    }
}

/// To the unit holding an order: what became of its pause (挂起) — approved until a date, refused,
/// or over with the clock running again. `what` is the whole clause, e.g. "挂起申请已批准，计时暂停至12月20日".
pub fn pause(sign_name: &str, no: &str, what: &str) -> Message {
    Message {
        kind: OutboxKind::Pause,
        body: sign(sign_name, format!("工单{no}{what}。")),
        params: json!({"no": no, "what": what}),
        urgent: false,
    }
}

/// To a village's cadres: the village council (三老合议) decided a referred request; `decision` is
/// the (masked, shortened) text of the decision, so the cadres can see it carried out.
pub fn council_notice(sign_name: &str, village: &str, category: &str, decision: &str) -> Message {
    Message {
        kind: OutboxKind::CouncilNotice,
        body: sign(sign_name, format!("{village}村民议事会就{category}诉求作出合议决定：{decision}。请按决定落实。")),
        params: json!({"village": village, "category": category, "decision": decision}),
        urgent: false,
    }
}

/// To a phone that texted a ticket number: where that request stands (`status` is the whole clause,
/// e.g. "办理中，承办单位：李家庄村村民委员会"), or that no request of this phone has that number.
/// Urgent: it answers a question just asked.
pub fn status_reply(sign_name: &str, no: &str, status: &str) -> Message {
    Message {
        kind: OutboxKind::StatusReply,
        body: sign(sign_name, format!("您查询的工单{no}：{status}。")),
        params: json!({"no": no, "status": status}),
        urgent: true,
    }
}

/// To a villager signing in: the one-time code. Urgent: it must go out at any hour.
pub fn otp(sign_name: &str, code: &str, minutes: i64) -> Message {
    Message {
        kind: OutboxKind::Otp,
        body: sign(sign_name, format!("您的验证码是{code}，{minutes}分钟内有效。如非本人操作，请忽略本短信。")),
        params: json!({"code": code}),
        urgent: true,
    }
}

/// The last path segment of an SMS link (`…/w/{token}`): providers refuse URLs inside template
/// variables, so registered templates hold the address and only the token varies.
pub fn link_token(link: &str) -> &str {
    link.rsplit('/').next().unwrap_or("")
}

/// SMS length in billed segments: ≤70 characters is one, beyond that 67 per segment (the signature
/// with its brackets counts).
pub fn segments(body: &str) -> usize {
    let n = body.chars().count();
    if n <= 70 { 1 } else { n.div_ceil(67) }
}

/// To the villager: the order is resolved; rate by replying or with one tap on the signed link.
pub fn rating_request_with_link(sign_name: &str, no: &str, link: &str) -> Message {
    Message {
        kind: OutboxKind::RatingRequest,
        body: sign(sign_name, format!("您的诉求{no}已办结，请评价：{link} 或回复1满意 2基本满意 3不满意")),
        // Providers refuse URLs inside template variables: the registered template holds the
        // address and only the token varies.
        params: json!({"no": no, "token": link.rsplit("/r/").next().unwrap_or("")}),

        urgent: false,
    }
}

/// To the unit receiving an escalated order, with the cadre's order link.
pub fn escalation_with_link(sign_name: &str, no: &str, category: &str, respond_by: &str, link: &str) -> Message {
    Message {
        kind: OutboxKind::Escalation,
        body: sign(
            sign_name,
            format!("提级工单{no}（{category}）转由贵单位办理，请于{respond_by}前签收。办理：{link}"),
        ),
        params: json!({"no": no, "category": category, "deadline": respond_by, "token": link_token(link)}),
        urgent: true,
    }
}

/// To the cadre: 80 % of a step's time has passed (the sweeper).
pub fn reminder(sign_name: &str, no: &str, step: &str, deadline: &str, link: &str) -> Message {
    Message {
        kind: OutboxKind::Reminder,
        body: sign(sign_name, format!("提醒：工单{no}须于{deadline}前{step}，请及时办理。{link}")),
        params: json!({"no": no, "step": step, "deadline": deadline, "token": link_token(link)}),
        urgent: false,
    }
}

/// To the cadre: a step's deadline has passed (催办 by the sweeper).
pub fn overdue(sign_name: &str, no: &str, step: &str, deadline: &str, link: &str) -> Message {
    Message {
        kind: OutboxKind::Urge,
        body: sign(sign_name, format!("催办：工单{no}已超过{step}时限（{deadline}），请立即办理。{link}")),
        // Every `urge` carries the variables of the one registered urge template.
        params: json!({"no": no}),
        urgent: true,
    }
}

/// To the supervising unit: an order of a unit below it is overdue (督办).
pub fn supervise(sign_name: &str, no: &str, unit: &str, step: &str, deadline: &str) -> Message {
    Message {
        kind: OutboxKind::Urge,
        body: sign(sign_name, format!("督办：{unit}承办的工单{no}已超过{step}时限（{deadline}），请督促办理。")),
        params: json!({"no": no}),
        urgent: true,
    }
}

/// To a leader or a unit: the weekly figures (red/black list week). `rank` is the unit's place in
/// the county's composite ranking, `score` its composite score; `link` the public list.
pub fn weekly_report(sign_name: &str, week: &str, unit: &str, rank: u32, units: u32, score: &str) -> Message {
    Message {
        kind: OutboxKind::WeeklyReport,
        body: sign(
            sign_name,
            format!("{week}接诉即办周报：{unit}综合得分{score}，全县第{rank}名（共{units}个单位）。"),
        ),
        params: json!({"week": week, "unit": unit, "score": score, "rank": rank.to_string(), "units": units.to_string()}),
        urgent: false,
    }
}

/// To a villager whose request raised a proactive ticket (未诉先办): the problem was handled for the
/// whole village. `no` is the villager's own request, `category` its category, `unit` who handled it.
pub fn proactive_done(sign_name: &str, no: &str, category: &str, unit: &str) -> Message {
    Message {
        kind: OutboxKind::ProactiveDone,
        body: sign(sign_name, format!("您反映的{category}问题（工单{no}）已由{unit}统一办理完成，感谢您的反映。")),
        params: json!({"no": no, "category": category, "unit": unit}),
        urgent: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_counts_follow_the_70_67_rule() {
        for (n, segs) in [(70, 1), (71, 2), (134, 2), (135, 3), (160, 3)] {
            assert_eq!(segments(&"字".repeat(n)), segs, "{n}");
        }
    }

    #[test]
    fn bodies_carry_the_signature_and_number() {
        let m = confirmation("民声直达", "20261122-000001", "http://x/t/20261122-000001");
        assert!(m.body.starts_with("【民声直达】"));
        assert!(m.body.contains("20261122-000001"));
        assert!(OutboxKind::ALL.contains(&m.kind));
    }

    #[test]
    fn the_proactive_notice_fits_one_segment_with_a_long_unit_name() {
        let m = proactive_done("民声直达", "20261122-000001", "环境卫生", "城关镇人民政府农业农村办公室");
        assert_eq!(segments(&m.body), 1, "{}", m.body);
        assert!(m.body.contains("20261122-000001") && m.body.contains("环境卫生"));
    }

    #[test]
    fn every_kind_has_a_template_whose_variables_fit_the_positional_order() {
        let link = "http://x/w/AbCdEf0123456789";
        let all = [
            assignment("民声直达", "20261122-000001", "饮水", "李家庄村", "11月22日 12:00", link),
            confirmation("民声直达", "20261122-000001", "http://x/t/20261122-000001"),
            rating_request_with_link("民声直达", "20261122-000001", "http://x/r/abc"),
            urge("民声直达", "20261122-000001", ""),
            overdue("民声直达", "20261122-000001", "签收", "11月22日 12:00", link),
            supervise("民声直达", "20261122-000001", "李家庄村村民委员会", "签收", "11月22日 12:00"),
            escalation_with_link("民声直达", "20261122-000001", "饮水", "11月22日 12:00", link),
            reminder("民声直达", "20261122-000001", "签收", "11月22日 12:00", link),
            otp("民声直达", "123456", 5),
            weekly_report("民声直达", "第48周", "李家庄村村民委员会", 3, 15, "92.5"),
            recall("民声直达", "20261122-000001", "改派"),
            proactive_done("民声直达", "20261122-000001", "饮水", "李家庄村村民委员会"),
            accepted("民声直达", "20261122-000001", "http://x/t/20261122-000001"),
            pause("民声直达", "20261122-000001", "挂起申请已批准，计时暂停至12月20日"),
            status_reply("民声直达", "20261122-000001", "办理中，承办单位：李家庄村村民委员会"),
            assist("民声直达", "20261122-000001", "道路", "李家庄村", "城关镇人民政府", "11月22日 12:00", link),
            council_notice("民声直达", "李家庄村", "饮水", "由村集体出资维修水泵"),
        ];
        let mut kinds: Vec<&str> = all.iter().map(|m| m.kind.as_str()).collect();
        kinds.sort();
        kinds.dedup();
        // Every kind a person receives; a status change for the city platform is JSON, not a text.
        let mut expected: Vec<&str> =
            OutboxKind::ALL.iter().filter(|k| **k != OutboxKind::UpstreamStatus).map(|k| k.as_str()).collect();
        expected.sort();
        assert_eq!(kinds, expected, "a template for every outbox kind");
        for m in &all {
            let order = crate::sms::kinds::param_names(m.kind.as_str(), &m.params);
            let mut names: Vec<String> = m.params.as_object().unwrap().keys().cloned().collect();
            names.sort();
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(sorted, names, "{}: positional order names exactly its variables", m.kind.as_str());
            assert!(
                m.params.as_object().unwrap().values().all(|v| v.is_string()),
                "{}: string variables",
                m.kind.as_str()
            );
            assert!(!m.params.to_string().contains("http"), "{}: no links in variables", m.kind.as_str());
        }
    }
}
