//! The stored enumerations of the outbox and the SMS gateway: what a message is, where it stands,
//! what each provider call came to, what became of a reply, and the provider names. The repo reads
//! them loudly (`repo::stored`); they serialize as their wire names, so JSON answers are unchanged.
use crate::domain::values::str_enum;

str_enum!(
    /// Outbox `kind` (API.md "Contract details"): which template a message uses and who gets it.
    OutboxKind {
        Assignment => "assignment", "派单通知";
        Confirmation => "confirmation", "受理回执";
        Otp => "otp", "验证码";
        Reminder => "reminder", "时限提醒";
        Urge => "urge", "催办督办";
        Escalation => "escalation", "提级通知";
        RatingRequest => "rating_request", "评价邀请";
        WeeklyReport => "weekly_report", "周报";
        Recall => "recall", "改派撤回通知";
        ProactiveDone => "proactive_done", "未诉先办办结告知";
        UpstreamStatus => "upstream_status", "12345平台状态回传";
        Accepted => "accepted", "签收告知";
        Pause => "pause", "挂起通知";
        StatusReply => "status_reply", "进度查询答复";
        Assist => "assist", "协办通知";
        CouncilNotice => "council_notice", "合议决定告知";
    }
);

str_enum!(
    /// Where an outbox message stands.
    OutboxStatus {
        Pending => "pending", "待发送";
        Sent => "sent", "已发送";
        Delivered => "delivered", "已送达";
        Failed => "failed", "发送失败";
        Dead => "dead", "已放弃";
        Suppressed => "suppressed", "已退订未发";
    }
);

str_enum!(
    /// How an outbox message goes out: SMS through the gateway's providers, e-mail through SMTP
    /// (`workers::email`), status changes of a 12345 order to the city platform (`workers::upstream`),
    /// WeChat subscribe messages to a mini-program user (`workers::wechat`).
    /// Each channel has its own sender, which claims only its own rows.
    OutboxChannel {
        Sms => "sms", "短信";
        Email => "email", "邮件";
        Upstream => "upstream", "12345平台";
        Wechat => "wechat", "微信订阅消息";
    }
);

str_enum!(
    /// What one provider call came to (`sms_attempts.outcome`): accepted, or the class of its error;
    /// for a status query asked before sending again (`found`, `not_found`, `query_failed`), what it said.
    AttemptOutcome {
        Sent => "sent", "已受理";
        Rejected => "rejected", "被拒收";
        Transient => "transient", "暂时失败";
        Deferred => "deferred", "限流顺延";
        ProviderFault => "provider_fault", "服务商配置或账户故障";
        Unknown => "unknown", "结果未知";
        Found => "found", "查询：服务商已受理";
        NotFound => "not_found", "查询：服务商无此短信";
        QueryFailed => "query_failed", "查询失败";
    }
);

str_enum!(
    /// What became of a reply (`sms_replies.outcome`): `received` until it is handled.
    ReplyOutcome {
        Received => "received", "已收到";
        Unsubscribed => "unsubscribed", "已退订";
        Accepted => "accepted", "已签收";
        Rating => "rating", "已评价";
        Noop => "noop", "无需处理";
        Queued => "queued", "转人工";
        Filed => "filed", "已立案";
        Status => "status", "已答复进度";
    }
);

str_enum!(
    /// A reply's place in the operators' queue (`sms_replies.queue_status`; none when no one need act).
    ReplyQueueStatus {
        Open => "open", "待处理";
        Done => "done", "已处理";
    }
);

str_enum!(
    /// How an operator took a reply off the queue: with a note only, by linking it to an existing
    /// ticket, or by filing a new ticket from it.
    ReplyHandling {
        Noted => "noted", "已处理";
        Linked => "linked", "已关联工单";
        Filed => "filed", "已转为新工单";
    }
);

str_enum!(
    /// SMS providers, as named in configuration, in `/hooks/sms/{provider}/…` (API.md) and in the
    /// outbox, attempts, replies and opt-outs.
    ProviderName {
        Aliyun => "aliyun", "阿里云";
        Tencent => "tencent", "腾讯云";
        Http => "http", "通用网关";
        Console => "console", "控制台";
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant reads back as itself and serializes as its wire name; anything else is refused.
    macro_rules! round_trips {
        ($($t:ident),+) => {$(
            for v in $t::ALL {
                assert_eq!($t::parse(v.as_str()), Some(*v), "{}", stringify!($t));
                assert_eq!(serde_json::to_value(v).unwrap(), v.as_str());
                assert!(!v.label().is_empty());
            }
            for raw in ["", "bogus", "PENDING", " sms", "Aliyun"] {
                assert_eq!($t::parse(raw), None, "{}: {raw:?}", stringify!($t));
            }
        )+};
    }

    #[test]
    fn every_variant_round_trips_and_an_unknown_value_is_refused() {
        round_trips!(
            OutboxKind,
            OutboxStatus,
            OutboxChannel,
            AttemptOutcome,
            ReplyOutcome,
            ReplyQueueStatus,
            ReplyHandling,
            ProviderName
        );
    }

    #[test]
    fn the_wire_names_are_the_contract() {
        assert_eq!(
            OutboxKind::names(),
            "assignment, confirmation, otp, reminder, urge, escalation, rating_request, weekly_report, recall, \
             proactive_done, upstream_status, accepted, pause, status_reply, assist, council_notice"
        );
        assert_eq!(OutboxStatus::names(), "pending, sent, delivered, failed, dead, suppressed");
        assert_eq!(OutboxChannel::names(), "sms, email, upstream, wechat");
        assert_eq!(ProviderName::names(), "aliyun, tencent, http, console");
        assert_eq!(
            AttemptOutcome::names(),
            "sent, rejected, transient, deferred, provider_fault, unknown, found, not_found, query_failed"
        );
    }

    #[test]
    fn a_stored_unknown_value_is_an_error_naming_table_column_and_row() {
        let e = crate::repo::stored("outbox", "status", 7, "lost", OutboxStatus::parse).unwrap_err();
        assert!(e.to_string().contains("outbox.status of row 7 holds \"lost\""), "{e}");
        assert_eq!(crate::repo::stored("outbox", "kind", 7, "otp", OutboxKind::parse).unwrap(), OutboxKind::Otp);
    }
}
