//! The tamper-evident ledger: each event's hash is SHA-256 over a canonical encoding of the event and
//! the previous event's hash, so rewriting any event breaks every hash after it.
use chrono::{DateTime, SubsecRound, Utc};
use sha2::{Digest, Sha256};

/// The `prev_hash` of a ticket's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Everything an event asserts. `data` is the canonical JSON text stored with the event.
#[derive(Clone, Debug, PartialEq)]
pub struct EventContent<'a> {
    pub ticket_no: &'a str,
    pub seq: i32,
    pub action: &'a str,
    pub from_status: &'a str,
    pub to_status: &'a str,
    pub actor_kind: &'a str,
    pub actor_id: Option<i64>,
    pub actor_name: &'a str,
    pub note: Option<&'a str>,
    pub data: &'a str,
    pub public: bool,
    pub at: DateTime<Utc>,
}

/// Ledger times are kept to the microsecond, the precision both databases store exactly.
pub fn ledger_time(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// The canonical bytes: a JSON array in a fixed order, led by a version tag. JSON's string escaping
/// makes the encoding unambiguous whatever the note contains.
pub fn canonical(e: &EventContent<'_>, prev_hash: &str) -> Vec<u8> {
    let v = serde_json::json!([
        "minsheng-ledger-v1",
        e.ticket_no,
        e.seq,
        e.action,
        e.from_status,
        e.to_status,
        e.actor_kind,
        e.actor_id,
        e.actor_name,
        e.note,
        e.data,
        e.public,
        ledger_time(e.at).format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        prev_hash,
    ]);
    serde_json::to_vec(&v).unwrap_or_default()
}

pub fn hash(e: &EventContent<'_>, prev_hash: &str) -> String {
    hex::encode(Sha256::digest(canonical(e, prev_hash)))
}

/// A stored event as the verifier sees it.
pub struct StoredEvent<'a> {
    pub content: EventContent<'a>,
    pub prev_hash: &'a str,
    pub hash: &'a str,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Verification {
    pub ok: bool,
    pub events: usize,
    /// Sequence number of the first event whose link or hash does not hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broken_at: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Walks the chain in sequence order and reports the first event that does not hold.
pub fn verify(events: &[StoredEvent<'_>], head_hash: Option<&str>) -> Verification {
    let mut prev = GENESIS.to_string();
    let broken = |seq: i32, reason: &str| Verification {
        ok: false,
        events: events.len(),
        broken_at: Some(seq),
        reason: Some(reason.to_string()),
    };
    for (i, ev) in events.iter().enumerate() {
        let expected_seq = i as i32 + 1;
        if ev.content.seq != expected_seq {
            return broken(expected_seq, "事件序号不连续（有记录被删除或插入）");
        }
        if ev.prev_hash != prev {
            return broken(ev.content.seq, "前序哈希与上一条记录不符");
        }
        if hash(&ev.content, ev.prev_hash) != ev.hash {
            return broken(ev.content.seq, "记录内容与其哈希不符（记录被改写）");
        }
        prev = ev.hash.to_string();
    }
    if let Some(head) = head_hash
        && head != prev
    {
        return broken(events.len() as i32 + 1, "工单记录的最新哈希与台账末尾不符（末尾记录被删除）");
    }
    Verification { ok: true, events: events.len(), broken_at: None, reason: None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn content(seq: i32, note: Option<&'static str>) -> EventContent<'static> {
        EventContent {
            ticket_no: "20261122-000001",
            seq,
            action: "register",
            from_status: "submitted",
            to_status: "registered",
            actor_kind: "staff",
            actor_id: Some(3),
            actor_name: "张三",
            note,
            data: "{}",
            public: true,
            at: Utc.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap(),
        }
    }

    #[test]
    fn hash_is_stable_and_covers_every_field() {
        let a = hash(&content(1, Some("备注")), GENESIS);
        assert_eq!(a.len(), 64);
        assert_eq!(a, hash(&content(1, Some("备注")), GENESIS));
        assert_ne!(a, hash(&content(1, Some("备注 ")), GENESIS));
        assert_ne!(a, hash(&content(1, None), GENESIS));
        assert_ne!(a, hash(&content(2, Some("备注")), GENESIS));
        let mut c = content(1, Some("备注"));
        c.at += chrono::Duration::microseconds(1);
        assert_ne!(a, hash(&c, GENESIS));
    }

    #[test]
    fn verify_finds_the_first_rewritten_event() {
        let c1 = content(1, Some("a"));
        let h1 = hash(&c1, GENESIS);
        let c2 = content(2, Some("b"));
        let h2 = hash(&c2, &h1);
        let chain = |n2: Option<&'static str>| {
            vec![
                StoredEvent { content: c1.clone(), prev_hash: GENESIS, hash: &h1 },
                StoredEvent { content: content(2, n2), prev_hash: &h1, hash: &h2 },
            ]
        };
        assert!(verify(&chain(Some("b")), Some(&h2)).ok);
        let v = verify(&chain(Some("改过")), Some(&h2));
        assert_eq!((v.ok, v.broken_at), (false, Some(2)));
        // Truncating the chain is caught by the head hash kept on the ticket.
        let v = verify(&chain(Some("b"))[..1], Some(&h2));
        assert_eq!((v.ok, v.broken_at), (false, Some(2)));
    }
}
