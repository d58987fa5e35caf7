//! Delivery receipts from the providers: each marks its outbox message delivered or failed. A
//! receipt we cannot match (or whose phone does not match the message) is logged and skipped — the
//! provider must not keep re-pushing it — but never applied to the wrong message.
use crate::domain::phone::{Phone, mask};
use crate::error::ApiResult;
use crate::repo;
use crate::sms::callbacks::Receipt;
use crate::sms::values::{OutboxStatus, ProviderName};
use crate::state::AppState;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    pub matched: usize,
    pub unmatched: usize,
}

pub async fn apply(state: &AppState, provider: ProviderName, receipts: &[Receipt]) -> ApiResult<Applied> {
    let now = state.now();
    let mut out = Applied::default();
    let tx = state.db.begin().await?;
    for r in receipts {
        let found = repo::outbox::for_receipt(&*tx, r.outbox_id, provider, r.provider_message_id.as_deref()).await?;
        let phone = r
            .phone
            .as_deref()
            .map(|p| Phone::parse(p).map(|p| p.as_str().to_string()).unwrap_or_else(|| p.to_string()));
        let Some(m) = found.filter(|m| phone.as_ref().is_none_or(|p| *p == m.recipient)) else {
            tracing::warn!(provider = provider.as_str(), outbox_id = ?r.outbox_id, message_id = ?r.provider_message_id,
                           to = %phone.as_deref().map(mask).unwrap_or_default(), "sms receipt matches no message");
            out.unmatched += 1;
            continue;
        };
        let code = if r.code.is_empty() { if r.delivered { "DELIVERED" } else { "FAILED" } } else { &r.code };
        repo::outbox::apply_receipt(&*tx, m.id, r.delivered, code, r.at.unwrap_or(now)).await?;
        let status = if r.delivered { OutboxStatus::Delivered } else { OutboxStatus::Failed };
        metrics::counter!("minsheng_sms_receipts_total", "provider" => provider.as_str(), "status" => status.as_str())
            .increment(1);
        out.matched += 1;
    }
    tx.commit().await?;
    Ok(out)
}
