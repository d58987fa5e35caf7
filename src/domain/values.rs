//! Small enumerations of the contract (API.md "Enumerations"), each with its wire name and Chinese label.

/// Declares an enum whose variants have a wire name and a Chinese label, with `parse`/`as_str`/`label`.
macro_rules! str_enum {
    ($(#[$m:meta])* $name:ident { $($var:ident => $wire:literal, $label:literal;)+ }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($var),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$var),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$var => $wire),+ }
            }

            pub fn label(self) -> &'static str {
                match self { $($name::$var => $label),+ }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s { $($wire => Some($name::$var),)+ _ => None }
            }

            /// The wire names, for error messages listing what is allowed.
            pub fn names() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        // In the OpenAPI document: a string with exactly the wire names.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($wire),+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

/// Other modules declare their stored enumerations with the same macro (`sms::values`, `domain::sla`).
pub(crate) use str_enum;

str_enum!(
    /// 诉求类型
    Kind {
        Consultation => "consultation", "咨询";
        Help => "help", "求助";
        Complaint => "complaint", "投诉";
        Report => "report", "举报";
        Suggestion => "suggestion", "建议";
        Praise => "praise", "表扬";
    }
);

str_enum!(
    /// How an urge (催办) was made: by phone, a written notice (催办单, printable), on site, or by
    /// summoning the unit's head for a talk (约谈).
    UrgeType {
        Phone => "phone", "电话催办";
        Written => "written", "书面催办";
        Onsite => "onsite", "现场督办";
        Interview => "interview", "约谈";
    }
);

/// Levels of an urge, 1 to 3: 一般催办, 重点催办, 挂牌督办.
pub const URGE_LEVELS: [(i32, &str); 3] = [(1, "一般催办"), (2, "重点催办"), (3, "挂牌督办")];

/// The label of an urge level, None outside 1..=3.
pub fn urge_level_label(level: i32) -> Option<&'static str> {
    URGE_LEVELS.iter().find(|(l, _)| *l == level).map(|(_, label)| *label)
}

str_enum!(
    /// 来源渠道 (`proactive`: 未诉先办, raised by staff from a hotspot, without a requester)
    Channel {
        Qr => "qr", "扫码";
        Hotline => "hotline", "热线";
        Wechat => "wechat", "微信";
        Sms => "sms", "短信";
        Visit => "visit", "干部下访";
        Mailbox => "mailbox", "信箱";
        Open311 => "open311", "Open311";
        Proactive => "proactive", "未诉先办";
    }
);

str_enum!(
    Priority {
        Normal => "normal", "普通";
        Urgent => "urgent", "紧急";
    }
);

str_enum!(
    Satisfaction {
        Satisfied => "satisfied", "满意";
        BasicallySatisfied => "basically_satisfied", "基本满意";
        Dissatisfied => "dissatisfied", "不满意";
    }
);

str_enum!(
    Solved {
        Yes => "yes", "已解决";
        Partly => "partly", "部分解决";
        No => "no", "未解决";
    }
);

impl Satisfaction {
    /// What a one-question rating (the villager's link page, an SMS reply 1/2/3) says about "solved":
    /// satisfied → yes, basically satisfied → partly, dissatisfied → no (the order is redone). One
    /// mapping for every one-question channel, so the resolution rate does not depend on the channel.
    pub fn implied_solved(self) -> Solved {
        match self {
            Satisfaction::Satisfied => Solved::Yes,
            Satisfaction::BasicallySatisfied => Solved::Partly,
            Satisfaction::Dissatisfied => Solved::No,
        }
    }
}

str_enum!(
    /// How a return visit reached the requester.
    VisitChannel {
        Phone => "phone", "电话";
        Sms => "sms", "短信";
        Wechat => "wechat", "微信";
        Visit => "visit", "上门";
    }
);

str_enum!(
    /// Level of a region in the administrative tree.
    RegionLevel {
        County => "county", "县";
        Township => "township", "乡镇";
        Village => "village", "村";
        Grid => "grid", "网格";
    }
);

str_enum!(
    /// Where an assignment (派单) stands: held by its unit, or ended and why.
    AssignmentStatus {
        Active => "active", "办理中";
        Completed => "completed", "已办结";
        Returned => "returned", "已退单";
        Escalated => "escalated", "已提级";
        Superseded => "superseded", "已收回";
        Released => "released", "已解除协办";
    }
);

str_enum!(
    /// 联合办理: the unit leading the order (主办) or one assisting it with its own part (协办).
    AssignmentRole {
        Lead => "lead", "主办";
        Assist => "assist", "协办";
    }
);

str_enum!(
    /// A leader's answer to a unit's request to pause an order (挂起).
    PauseDecision {
        Approved => "approved", "批准挂起";
        Refused => "refused", "驳回";
    }
);

str_enum!(
    /// The dispatcher's answer to a unit's request to escalate.
    EscalationDecision {
        Approved => "approved", "同意提级";
        Refused => "refused", "驳回";
    }
);

str_enum!(
    /// A unit's appeal (申诉) against a visit, and the leader's decision on it.
    AppealStatus {
        Pending => "pending", "待裁定";
        Upheld => "upheld", "申诉成立";
        Rejected => "rejected", "申诉驳回";
    }
);

str_enum!(
    /// What an upload holds.
    UploadKind {
        Image => "image", "照片";
        Audio => "audio", "语音";
    }
);

str_enum!(
    /// Who uploaded a file (the reference names them: a staff id, a villager's subject or address).
    UploaderKind {
        Staff => "staff", "工作人员";
        Villager => "villager", "群众";
    }
);

str_enum!(
    /// The level that handles an order (小事村办、难事乡镇担、大事县管): a unit's level and a
    /// category's default.
    HandlingLevel {
        Village => "village", "村级";
        Township => "township", "乡镇级";
        County => "county", "县级";
    }
);

str_enum!(
    /// What kind of unit handles orders. `outside` (公共服务企业) is a company outside government —
    /// the power supply station, the water company, a carrier: it has no console accounts, its
    /// orders reach its duty phone by SMS link, and it is ranked on a line of its own.
    UnitKind {
        Committee => "committee", "村民委员会";
        Office => "office", "乡镇政府";
        Department => "department", "县直部门";
        Center => "center", "民生服务中心";
        Outside => "outside", "公共服务企业";
    }
);

str_enum!(
    /// The line a unit is ranked on: government units by their level, companies outside
    /// government (`UnitKind::Outside`) on their own.
    Tier {
        Village => "village", "村委会";
        Township => "township", "乡镇";
        County => "county", "县直部门";
        Outside => "outside", "公共服务企业";
    }
);

impl Tier {
    pub fn of(kind: UnitKind, level: HandlingLevel) -> Tier {
        match (kind, level) {
            (UnitKind::Outside, _) => Tier::Outside,
            (_, HandlingLevel::Village) => Tier::Village,
            (_, HandlingLevel::Township) => Tier::Township,
            (_, HandlingLevel::County) => Tier::County,
        }
    }
}

str_enum!(
    /// A village contact card's state: in use, replaced by a newer version, or withdrawn.
    CardStatus {
        Active => "active", "使用中";
        Rotated => "rotated", "已更换";
        Revoked => "revoked", "已停用";
    }
);

str_enum!(
    /// The calling task of a resolved ticket's return visit.
    VisitTaskStatus {
        Due => "due", "待回访";
        Done => "done", "已回访";
        Unreachable => "unreachable", "无法联系";
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(*k));
        }
        assert_eq!(Satisfaction::parse("basically_satisfied"), Some(Satisfaction::BasicallySatisfied));
        assert_eq!(Channel::parse("fax"), None);
        assert_eq!(serde_json::to_string(&Solved::Partly).unwrap(), "\"partly\"");
        assert!(Priority::names().contains("urgent"));
        for v in CardStatus::ALL {
            assert_eq!(CardStatus::parse(v.as_str()), Some(*v));
        }
        for v in VisitTaskStatus::ALL {
            assert_eq!(VisitTaskStatus::parse(v.as_str()), Some(*v));
        }
        for v in HandlingLevel::ALL {
            assert_eq!(HandlingLevel::parse(v.as_str()), Some(*v));
        }
        for v in UnitKind::ALL {
            assert_eq!(UnitKind::parse(v.as_str()), Some(*v));
        }
        for v in AssignmentStatus::ALL {
            assert_eq!(AssignmentStatus::parse(v.as_str()), Some(*v));
        }
        for v in AppealStatus::ALL {
            assert_eq!(AppealStatus::parse(v.as_str()), Some(*v));
        }
        assert_eq!(CardStatus::parse("Active"), None, "names are exact");
    }
}
