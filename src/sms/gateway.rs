//! The gateway: the primary and secondary providers, tried in order for each message with the
//! per-provider rate limit and a simple circuit breaker (a provider that keeps failing is tried last
//! for a while). It decides what becomes of one attempt; the outbox worker records it.
use super::ratelimit::SendRate;
use super::retry::resume_at;
use super::settings::SmsSettings;
use super::values::{AttemptOutcome, OutboxKind, ProviderName};
use super::{Found, Lookup, OutgoingSms, SendError, Sent, SmsProvider};
use crate::kv::limiter::Limiter;
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One provider call, as `sms_attempts` records it.
#[derive(Clone, Debug)]
pub struct Call {
    pub provider: ProviderName,
    pub outcome: AttemptOutcome,
    pub error: Option<String>,
    pub latency_ms: i64,
}

/// What one attempt at a message came to.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Sent {
        provider: ProviderName,
        provider_message_id: Option<String>,
    },
    /// Every provider tried refused the message itself: it will never go.
    Rejected(String),
    /// Worth another attempt after backoff (transient errors, provider faults).
    Retry(String),
    /// A provider may have accepted it (timed out after sending): another attempt, but not before
    /// its receipt had time to arrive, and no failover meanwhile.
    Unknown(String),
    /// A provider's rate limit for this number or account: try again at `until`, not an attempt.
    Deferred {
        reason: String,
        until: DateTime<Utc>,
    },
    /// Our own per-provider rate limit left no provider free this second.
    RateLimited {
        until: DateTime<Utc>,
    },
}

pub struct Delivery {
    pub verdict: Verdict,
    pub calls: Vec<Call>,
}

/// What the providers said when asked whether they took a message.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// This provider took it (and, when its records say so, delivered it or not).
    Found { provider: ProviderName, found: Found },
    /// Every provider asked has no record of it.
    NotFound,
    /// A provider could not be asked (its error): nothing is known, nothing may be sent.
    Failed(String),
    /// Our own query rate for a provider was spent this second.
    RateLimited { until: DateTime<Utc> },
}

pub struct Asked {
    pub answer: Answer,
    pub calls: Vec<Call>,
}

/// Status queries per second and provider (Tencent's per-number pull allows 20 by default).
const QUERY_RATE: u32 = 20;

#[derive(Default, Clone, Copy)]
struct Breaker {
    failures: u32,
    open_until: Option<DateTime<Utc>>,
}

pub struct Gateway {
    chain: Vec<Arc<dyn SmsProvider>>,
    settings: SmsSettings,
    rate: SendRate,
    breakers: Mutex<HashMap<ProviderName, Breaker>>,
}

impl Gateway {
    /// The providers named in configuration; credentials and URLs are checked now.
    /// The per-provider send rate is counted by `limiter` (the application's, so Redis or in-process
    /// and the key prefix are its).
    pub fn from_settings(settings: &crate::configuration::Settings, limiter: Limiter) -> anyhow::Result<Gateway> {
        settings.sms.validate()?;
        let mut chain = vec![super::providers::build(&settings.sms.provider, settings)?];
        if !settings.sms.secondary.is_empty() {
            chain.push(super::providers::build(&settings.sms.secondary, settings)?);
        }
        for p in &chain {
            warn_missing_templates(p.name(), &settings.sms);
        }
        Ok(Gateway::new(chain, settings.sms.clone(), limiter))
    }

    /// A gateway over given providers (tests and benchmarks bring their own).
    pub fn new(chain: Vec<Arc<dyn SmsProvider>>, settings: SmsSettings, limiter: Limiter) -> Gateway {
        Gateway { chain, settings, rate: SendRate::new(limiter), breakers: Mutex::new(HashMap::new()) }
    }

    pub fn settings(&self) -> &SmsSettings {
        &self.settings
    }

    /// The primary provider's name, if one is configured.
    pub fn name(&self) -> Option<ProviderName> {
        self.chain.first().map(|p| p.name())
    }

    /// (name, role) of each configured provider, primary first.
    pub fn providers(&self) -> Vec<(ProviderName, &'static str)> {
        self.chain.iter().enumerate().map(|(i, p)| (p.name(), if i == 0 { "primary" } else { "secondary" })).collect()
    }

    /// Whether a provider's breaker is open at `now` (it is tried last).
    pub fn breaker_open(&self, name: ProviderName, now: DateTime<Utc>) -> bool {
        let map = self.breakers.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&name).and_then(|b| b.open_until).is_some_and(|t| t > now)
    }

    /// Sends through the primary provider alone, outside the outbox (kept for callers that need a
    /// direct send; the outbox worker uses `deliver`).
    pub async fn send(&self, msg: &OutgoingSms) -> Result<Sent, SendError> {
        match self.chain.first() {
            Some(p) => p.send(msg).await,
            None => Err(SendError::ProviderFault("no SMS provider configured".into())),
        }
    }

    fn order(&self, now: DateTime<Utc>) -> Vec<Arc<dyn SmsProvider>> {
        let mut order = self.chain.clone();
        // Stable: healthy providers keep their configured order, tripped ones go to the back.
        order.sort_by_key(|p| self.breaker_open(p.name(), now));
        order
    }

    fn record(&self, name: ProviderName, failed: bool, now: DateTime<Utc>) {
        let mut map = self.breakers.lock().unwrap_or_else(|p| p.into_inner());
        let b = map.entry(name).or_default();
        if failed {
            b.failures += 1;
            if b.failures >= self.settings.breaker_failures.max(1) {
                b.open_until = Some(now + Duration::seconds(self.settings.breaker_seconds));
                b.failures = 0;
            }
        } else {
            *b = Breaker::default();
        }
    }

    /// Asks the providers that may have taken `msg` (`provider`, or every one that can be asked)
    /// whether they did, since `since`. `None` when none of them can be asked (console, the generic
    /// gateway): the caller sends again as before.
    pub async fn ask(
        &self,
        msg: &OutgoingSms,
        provider: Option<ProviderName>,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<Asked> {
        let asked: Vec<&Arc<dyn SmsProvider>> =
            self.chain.iter().filter(|p| p.can_query() && provider.is_none_or(|n| n == p.name())).collect();
        if asked.is_empty() {
            return None;
        }
        let mut calls = Vec::new();
        let mut failures = Vec::new();
        for p in asked {
            let name = p.name();
            if !self.rate.acquire(&format!("{}-query", name.as_str()), QUERY_RATE, now).await {
                return Some(Asked { answer: Answer::RateLimited { until: now + Duration::seconds(1) }, calls });
            }
            let started = Instant::now();
            let result = p.query(&Lookup { msg, since, until: now }).await;
            let latency_ms = started.elapsed().as_millis() as i64;
            let (outcome, error) = match &result {
                Ok(Some(_)) => (AttemptOutcome::Found, None),
                Ok(None) => (AttemptOutcome::NotFound, None),
                Err(e) => (AttemptOutcome::QueryFailed, Some(super::scrub(&e.to_string()))),
            };
            calls.push(Call { provider: name, outcome, error: error.clone(), latency_ms });
            match result {
                Ok(Some(found)) => return Some(Asked { answer: Answer::Found { provider: name, found }, calls }),
                Ok(None) => {}
                Err(_) => failures.push(format!("{}: {}", name.as_str(), error.unwrap_or_default())),
            }
        }
        let answer = if failures.is_empty() { Answer::NotFound } else { Answer::Failed(failures.join("; ")) };
        Some(Asked { answer, calls })
    }

    /// One attempt at a message: providers in order until one accepts. A provider at its rate limit
    /// is skipped; a provider's rate-limit answer stops here for ordinary messages (another provider
    /// would only get around the recipient's protection) but fails over for urgent ones.
    pub async fn deliver(&self, msg: &OutgoingSms, urgent: bool, now: DateTime<Utc>, tz: Tz) -> Delivery {
        let mut calls = Vec::new();
        let mut errors: Vec<SendError> = Vec::new();
        for p in self.order(now) {
            let name = p.name();
            if !self.rate.acquire(name.as_str(), self.settings.rate_per_second(name), now).await {
                continue;
            }
            let started = Instant::now();
            let result = p.send(msg).await;
            let latency_ms = started.elapsed().as_millis() as i64;
            let outcome = match &result {
                Ok(_) => AttemptOutcome::Sent,
                Err(e) => e.outcome(),
            };
            calls.push(Call {
                provider: name,
                outcome,
                error: result.as_ref().err().map(|e| super::scrub(&e.to_string())),
                latency_ms,
            });
            match result {
                Ok(sent) => {
                    self.record(name, false, now);
                    return Delivery {
                        verdict: Verdict::Sent { provider: name, provider_message_id: sent.provider_message_id },
                        calls,
                    };
                }
                Err(SendError::Deferred { reason, window }) if !urgent => {
                    self.record(name, false, now);
                    return Delivery {
                        verdict: Verdict::Deferred { reason: super::scrub(&reason), until: resume_at(now, tz, window) },
                        calls,
                    };
                }
                Err(SendError::Unknown(reason)) => {
                    self.record(name, true, now);
                    return Delivery { verdict: Verdict::Unknown(super::scrub(&reason)), calls };
                }
                Err(e) => {
                    self.record(name, matches!(e, SendError::Transient(_) | SendError::ProviderFault(_)), now);
                    errors.push(e);
                }
            }
        }
        let verdict = if errors.is_empty() {
            Verdict::RateLimited { until: now + Duration::seconds(1) }
        } else if errors.iter().all(|e| matches!(e, SendError::Rejected(_))) {
            Verdict::Rejected(join(&errors))
        } else if let [SendError::Deferred { reason, window }] = errors.as_slice() {
            // An urgent message with nowhere else to go waits for the window like any other.
            Verdict::Deferred { reason: super::scrub(reason), until: resume_at(now, tz, *window) }
        } else {
            Verdict::Retry(join(&errors))
        };
        Delivery { verdict, calls }
    }
}

/// Alibaba and Tencent send only what has a registered template; say at start-up which kinds will
/// have to go through the other provider (or not at all).
fn warn_missing_templates(provider: ProviderName, sms: &SmsSettings) {
    let templates = match provider {
        ProviderName::Aliyun => &sms.aliyun.common.templates,
        ProviderName::Tencent => &sms.tencent.common.templates,
        ProviderName::Http | ProviderName::Console => return,
    };
    let missing: Vec<&str> =
        OutboxKind::ALL.iter().map(|k| k.as_str()).filter(|k| templates.get(*k).is_none_or(|t| t.is_empty())).collect();
    if !missing.is_empty() {
        let provider = provider.as_str();
        tracing::warn!(provider, kinds = ?missing, "no SMS template configured for these message kinds");
    }
}

fn join(errors: &[SendError]) -> String {
    errors.iter().map(|e| super::scrub(&e.to_string())).collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProviderName::{Aliyun, Console, Tencent};
    use async_trait::async_trait;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A provider that answers from a fixed class and counts its calls.
    struct Stub {
        name: ProviderName,
        error: Option<SendError>,
        calls: AtomicUsize,
    }

    #[async_trait]
    impl SmsProvider for Stub {
        fn name(&self) -> ProviderName {
            self.name
        }
        async fn send(&self, _: &OutgoingSms) -> Result<Sent, SendError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            match &self.error {
                Some(e) => Err(e.clone()),
                None => Ok(Sent { provider_message_id: Some(format!("{}-1", self.name.as_str())) }),
            }
        }
    }

    fn stub(name: ProviderName, error: Option<SendError>) -> Arc<Stub> {
        Arc::new(Stub { name, error, calls: AtomicUsize::new(0) })
    }

    fn msg() -> OutgoingSms {
        OutgoingSms {
            id: 1,
            phone: "13800138000".into(),
            body: "【县】测试".into(),
            template: "confirmation".into(),
            params: serde_json::json!({"no": "1"}),
        }
    }

    #[tokio::test]
    async fn a_provider_that_keeps_failing_is_tried_last_until_its_breaker_closes() {
        let down = stub(Aliyun, Some(SendError::Transient("HTTP 503".into())));
        let up = stub(Tencent, None);
        let settings = SmsSettings { breaker_failures: 2, breaker_seconds: 60, ..SmsSettings::default() };
        let g = Gateway::new(vec![down.clone(), up.clone()], settings, Limiter::in_process());
        let tz = chrono_tz::Asia::Shanghai;
        let t0 = Utc::now();
        for _ in 0..2 {
            let d = g.deliver(&msg(), false, t0, tz).await;
            assert!(matches!(d.verdict, Verdict::Sent { provider: Tencent, .. }));
            assert_eq!(d.calls.len(), 2);
        }
        assert!(g.breaker_open(Aliyun, t0));
        let d = g.deliver(&msg(), false, t0, tz).await;
        assert_eq!(d.calls.len(), 1, "the healthy provider goes first while the breaker is open");
        assert_eq!(down.calls.load(Ordering::SeqCst), 2);
        assert!(!g.breaker_open(Aliyun, t0 + Duration::seconds(61)));
        g.deliver(&msg(), false, t0 + Duration::seconds(61), tz).await;
        assert_eq!(down.calls.load(Ordering::SeqCst), 3, "tried first again once the breaker closed");
    }

    #[tokio::test]
    async fn verdicts_follow_the_error_classes() {
        let tz = chrono_tz::Asia::Shanghai;
        let now = Utc::now();
        let rejected = || stub(Aliyun, Some(SendError::Rejected("bad number".into())));
        let g = Gateway::new(vec![rejected()], SmsSettings::default(), Limiter::in_process());
        assert!(matches!(g.deliver(&msg(), false, now, tz).await.verdict, Verdict::Rejected(_)));
        let fault = stub(Aliyun, Some(SendError::ProviderFault("balance".into())));
        let g = Gateway::new(vec![fault, rejected()], SmsSettings::default(), Limiter::in_process());
        assert!(matches!(g.deliver(&msg(), false, now, tz).await.verdict, Verdict::Retry(_)));
        let limited =
            stub(Aliyun, Some(SendError::Deferred { reason: "limit".into(), window: crate::sms::Window::Seconds(30) }));
        let g = Gateway::new(vec![limited], SmsSettings::default(), Limiter::in_process());
        match g.deliver(&msg(), true, now, tz).await.verdict {
            Verdict::Deferred { until, .. } => assert_eq!(until, now + Duration::seconds(35)),
            other => panic!("{other:?}"),
        }
        let mut settings = SmsSettings::default();
        settings.console.rate_per_second = 1;
        let g = Gateway::new(vec![stub(Console, None)], settings, Limiter::in_process());
        assert!(matches!(g.deliver(&msg(), false, now, tz).await.verdict, Verdict::Sent { .. }));
        assert_eq!(
            g.deliver(&msg(), false, now, tz).await.verdict,
            Verdict::RateLimited { until: now + Duration::seconds(1) }
        );
    }

    #[test]
    fn a_real_provider_without_credentials_stops_the_start() {
        let mut s = crate::configuration::load(crate::configuration::AppEnvironment::Local).unwrap();
        s.sms.provider = "aliyun".into();
        let e = Gateway::from_settings(&s, Limiter::in_process()).err().unwrap().to_string();
        assert!(e.contains("access_key_id"), "{e}");
        s.sms.provider = "console".into();
        s.sms.secondary = "carrier-pigeon".into();
        assert!(Gateway::from_settings(&s, Limiter::in_process()).is_err());
        s.sms.secondary = String::new();
        assert_eq!(Gateway::from_settings(&s, Limiter::in_process()).unwrap().providers(), [(Console, "primary")]);
    }
}
