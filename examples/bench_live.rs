//! Live-stream load: N open dashboard streams (`GET /api/v1/stream/dashboard`, Server-Sent Events,
//! one HTTP/1.1 connection each) on one running instance while public intakes arrive at a steady R
//! per second for S seconds; prints how long each `intake` event took to reach every stream and the
//! server's memory (VmRSS from /proc). Driven by `bash bench/live.sh`, which starts the server:
//!
//!     cargo run --release --example bench_live -- --base http://127.0.0.1:18091 --card CODE \
//!         [--streams 200 --rate 20 --seconds 60 --pid SERVER_PID --user leader --password minsheng-demo]
//!
//! Delivery latency is the instant a stream received the event minus the instant the intake's HTTP
//! answer was received (the server announces after its commit and before it answers, so this can be
//! negative), and, for information, minus the instant the request was sent. Figures are recorded in
//! bench/live.md. Not a test: nothing is asserted.
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

struct Args {
    base: String,
    card: String,
    streams: usize,
    rate: u64,
    seconds: u64,
    pid: Option<u32>,
    user: String,
    password: String,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        base: "http://127.0.0.1:18091".into(),
        card: String::new(),
        streams: 200,
        rate: 20,
        seconds: 60,
        pid: None,
        user: "leader".into(),
        password: "minsheng-demo".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))?;
        match flag.as_str() {
            "--base" => a.base = value.trim_end_matches('/').to_string(),
            "--card" => a.card = value,
            "--streams" => a.streams = value.parse()?,
            "--rate" => a.rate = value.parse()?,
            "--seconds" => a.seconds = value.parse()?,
            "--pid" => a.pid = Some(value.parse()?),
            "--user" => a.user = value,
            "--password" => a.password = value,
            _ => anyhow::bail!("unknown argument {flag}"),
        }
    }
    anyhow::ensure!(!a.card.is_empty(), "--card is required");
    anyhow::ensure!(a.rate > 0 && a.streams > 0, "--rate and --streams must be positive");
    Ok(a)
}

/// `(VmRSS, VmHWM)` of a process in KiB.
fn memory(pid: Option<u32>) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn open_fds(pid: Option<u32>) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{}/fd", pid?)).ok()?.count())
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// What one stream saw.
#[derive(Default)]
struct StreamLog {
    /// `(ticket_no, received)` of every `intake` event.
    intakes: Vec<(String, Instant)>,
    other_events: u64,
    resets: u64,
    heartbeats: u64,
    /// The server ended the stream (or the connection failed) before the benchmark did.
    ended_early: Option<String>,
}

enum Opened {
    Connected,
    Refused(String),
}

/// Opens one stream, says when it is connected (or refused), then reads frames until `stop`.
async fn run_stream(
    client: reqwest::Client,
    url: String,
    token: String,
    ready: tokio::sync::mpsc::UnboundedSender<Opened>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    received: Arc<AtomicU64>,
) -> StreamLog {
    let mut log = StreamLog::default();
    let mut resp = match client.get(&url).bearer_auth(&token).header("Accept", "text/event-stream").send().await {
        Ok(r) if r.status().is_success() => r,
        Ok(r) => {
            let _ = ready.send(Opened::Refused(format!("HTTP {}", r.status().as_u16())));
            return log;
        }
        Err(e) => {
            let _ = ready.send(Opened::Refused(format!("error: {e}")));
            return log;
        }
    };
    let mut buf: Vec<u8> = Vec::new();
    let mut connected = false;
    loop {
        let chunk = tokio::select! {
            c = resp.chunk() => c,
            _ = stop.changed() => break,
        };
        let at = Instant::now();
        let chunk = match chunk {
            Ok(Some(c)) => c,
            Ok(None) => {
                log.ended_early = Some("closed by the server".into());
                break;
            }
            Err(e) => {
                log.ended_early = Some(format!("error: {e}"));
                break;
            }
        };
        buf.extend_from_slice(&chunk);
        // Frames end with a blank line; the server writes "\n" line ends.
        while let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
            let frame: Vec<u8> = buf.drain(..end + 2).collect();
            let text = String::from_utf8_lossy(&frame);
            let mut event = "message";
            let mut data = String::new();
            for line in text.lines() {
                if line == ": connected" && !connected {
                    connected = true;
                    let _ = ready.send(Opened::Connected);
                } else if line == ": heartbeat" {
                    log.heartbeats += 1;
                } else if let Some(v) = line.strip_prefix("event:") {
                    event = if v.trim() == "reset" { "reset" } else { "other" };
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            match event {
                "reset" => log.resets += 1,
                "message" if !data.is_empty() => {
                    let v: serde_json::Value = serde_json::from_str(&data).unwrap_or_default();
                    match (v["kind"].as_str(), v["ticket_no"].as_str()) {
                        (Some("intake"), Some(no)) => {
                            log.intakes.push((no.to_string(), at));
                            received.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => log.other_events += 1,
                    }
                }
                "message" => {}
                _ => log.other_events += 1,
            }
        }
    }
    if !connected {
        let _ = ready.send(Opened::Refused(log.ended_early.clone().unwrap_or_else(|| "no `: connected`".into())));
    }
    log
}

/// The outcome of one intake.
struct Intake {
    sent: Instant,
    answered: Instant,
    result: Result<String, String>,
}

async fn intake(client: reqwest::Client, base: String, card: String, run: String, i: u64) -> Intake {
    let body = serde_json::json!({
        "card_code": card,
        "category": "water.supply",
        "kind": "help",
        "description": "压测：村里停水了，请尽快处理",
        "phone": format!("139{:08}", i % 100_000_000),
    });
    let sent = Instant::now();
    let answer = client
        .post(format!("{base}/api/v1/tickets"))
        .header("Idempotency-Key", format!("bench-live-{run}-{i}"))
        .json(&body)
        .send()
        .await;
    let result = match answer {
        Ok(r) => {
            let status = r.status();
            match r.json::<serde_json::Value>().await {
                Ok(v) if status.is_success() => v["ticket_no"]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("HTTP {status} without ticket_no")),
                Ok(v) => Err(format!("HTTP {} {}", status.as_u16(), v["error"]["code"].as_str().unwrap_or(""))),
                Err(e) => Err(format!("HTTP {} unreadable: {e}", status.as_u16())),
            }
        }
        Err(e) => Err(format!("request error: {}", if e.is_timeout() { "timeout" } else { "connection" })),
    };
    Intake { sent, answered: Instant::now(), result }
}

/// Nearest-rank percentile of sorted values.
fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(values: &mut [f64]) -> String {
    values.sort_by(|a, b| a.total_cmp(b));
    format!(
        "p50 {:.1} ms  p90 {:.1} ms  p99 {:.1} ms  max {:.1} ms  (min {:.1} ms, n {})",
        pct(values, 50.0),
        pct(values, 90.0),
        pct(values, 99.0),
        pct(values, 100.0),
        values.first().copied().unwrap_or(f64::NAN),
        values.len()
    )
}

fn ms(d: f64) -> f64 {
    d * 1000.0
}

/// `later - earlier` in seconds, negative when `later` came first.
fn signed(later: Instant, earlier: Instant) -> f64 {
    if later >= earlier { (later - earlier).as_secs_f64() } else { -(earlier - later).as_secs_f64() }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = parse_args()?;
    println!(
        "live stream benchmark: {} streams, {} intakes/s for {} s, against {} (server pid {})",
        a.streams,
        a.rate,
        a.seconds,
        a.base,
        a.pid.map(|p| p.to_string()).unwrap_or_else(|| "unknown".into())
    );

    // Login as a county leader: every intake of the county is in scope.
    let plain = reqwest::Client::builder().http1_only().timeout(Duration::from_secs(30)).build()?;
    let login: serde_json::Value = plain
        .post(format!("{}/api/v1/auth/login", a.base))
        .json(&serde_json::json!({"username": a.user, "password": a.password}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = login["access_token"].as_str().ok_or_else(|| anyhow::anyhow!("login answer without access_token"))?;
    // After the login: its password hashing takes memory of its own.
    let idle_before = memory(a.pid);

    // Streams: one client, HTTP/1.1 only; a streaming response keeps its connection busy, so every
    // stream holds a TCP connection of its own. No overall timeout (the streams last the whole run).
    let stream_client = reqwest::Client::builder().http1_only().connect_timeout(Duration::from_secs(10)).build()?;
    let received = Arc::new(AtomicU64::new(0));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel();
    let url = format!("{}/api/v1/stream/dashboard", a.base);
    let t_open = Instant::now();
    let mut streams = Vec::with_capacity(a.streams);
    for _ in 0..a.streams {
        streams.push(tokio::spawn(run_stream(
            stream_client.clone(),
            url.clone(),
            token.to_string(),
            ready_tx.clone(),
            stop_rx.clone(),
            received.clone(),
        )));
    }
    drop(ready_tx);
    let (mut opened, mut refused) = (0usize, HashMap::<String, usize>::new());
    while opened + refused.values().sum::<usize>() < a.streams {
        match tokio::time::timeout(Duration::from_secs(30), ready_rx.recv()).await {
            Ok(Some(Opened::Connected)) => opened += 1,
            Ok(Some(Opened::Refused(why))) => *refused.entry(why).or_default() += 1,
            Ok(None) | Err(_) => break,
        }
    }
    let refused_total: usize = refused.values().sum();
    println!(
        "streams: {opened} opened, {refused_total} refused {:?} in {:.2} s",
        refused,
        t_open.elapsed().as_secs_f64()
    );
    // Let the server settle before reading its idle memory.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_connected = memory(a.pid);
    if let Some(fds) = open_fds(a.pid) {
        println!("server open file descriptors with the streams connected: {fds}");
    }

    // Memory sampler: every second while intakes run.
    let sampling = Arc::new(AtomicU64::new(1));
    let sampler = {
        let sampling = sampling.clone();
        let pid = a.pid;
        tokio::spawn(async move {
            let mut max = 0u64;
            let mut samples = vec![];
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            while sampling.load(Ordering::Relaxed) == 1 {
                tick.tick().await;
                if let Some((rss, _)) = memory(pid) {
                    max = max.max(rss);
                    samples.push(rss);
                }
            }
            (max, samples)
        })
    };

    // Intakes at a steady pace; each runs on its own so a slow answer does not delay the next.
    let intake_client =
        reqwest::Client::builder().http1_only().pool_max_idle_per_host(64).timeout(Duration::from_secs(30)).build()?;
    let run = uuid::Uuid::new_v4().simple().to_string();
    let total = a.rate * a.seconds;
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / a.rate as f64));
    let t_load = Instant::now();
    let mut intakes = Vec::with_capacity(total as usize);
    for i in 0..total {
        tick.tick().await;
        intakes.push(tokio::spawn(intake(intake_client.clone(), a.base.clone(), a.card.clone(), run.clone(), i)));
    }
    let schedule = t_load.elapsed().as_secs_f64();
    let mut results = Vec::with_capacity(intakes.len());
    for h in intakes {
        results.push(h.await?);
    }
    let mut failures = HashMap::<String, usize>::new();
    let mut answered = HashMap::<String, (Instant, Instant)>::new();
    let mut http_ms = vec![];
    for r in &results {
        http_ms.push(ms((r.answered - r.sent).as_secs_f64()));
        match &r.result {
            Ok(no) => {
                answered.insert(no.clone(), (r.sent, r.answered));
            }
            Err(e) => *failures.entry(e.clone()).or_default() += 1,
        }
    }
    let ok = answered.len() as u64;
    let expected = ok * opened as u64;
    // Give the last events time to arrive (at most 10 s), then close the streams.
    let grace = Instant::now();
    while received.load(Ordering::Relaxed) < expected && grace.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let end_memory = memory(a.pid);
    sampling.store(0, Ordering::Relaxed);
    let (rss_max, samples) = sampler.await?;
    let _ = stop_tx.send(true);
    let mut logs = vec![];
    for s in streams {
        logs.push(s.await?);
    }

    // Delivery latencies: every intake event of our tickets on every stream.
    let mut from_answer = vec![];
    let mut from_sent = vec![];
    let (mut foreign, mut duplicates, mut resets, mut others, mut heartbeats) = (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut early = HashMap::<String, usize>::new();
    let mut per_stream_missing = vec![];
    for log in &logs {
        let mut seen = std::collections::HashSet::new();
        for (no, at) in &log.intakes {
            let Some((sent, done)) = answered.get(no) else {
                foreign += 1;
                continue;
            };
            if !seen.insert(no.as_str()) {
                duplicates += 1;
                continue;
            }
            from_answer.push(ms(signed(*at, *done)));
            from_sent.push(ms(signed(*at, *sent)));
        }
        resets += log.resets;
        others += log.other_events;
        heartbeats += log.heartbeats;
        if let Some(why) = &log.ended_early {
            *early.entry(why.clone()).or_default() += 1;
        }
        per_stream_missing.push(answered.len() - seen.len());
    }
    let delivered = from_answer.len() as u64;
    let before_answer = from_answer.iter().filter(|v| **v < 0.0).count();

    println!(
        "intakes: {} sent in {:.2} s ({:.1}/s), {} ok, {} failed {:?}",
        results.len(),
        schedule,
        results.len() as f64 / schedule.max(f64::EPSILON),
        ok,
        results.len() as u64 - ok,
        failures
    );
    println!("intake HTTP latency: {}", summary(&mut http_ms));
    println!(
        "deliveries: {} expected ({} ok intakes x {} streams), {} received, {} missing; {} duplicates, {} foreign intake events",
        expected,
        ok,
        opened,
        delivered,
        expected.saturating_sub(delivered),
        duplicates,
        foreign
    );
    let streams_missing = per_stream_missing.iter().filter(|m| **m > 0).count();
    println!(
        "streams: {} ended early {:?}, {} with missing events, {} resets, {} other events, {} heartbeats",
        early.values().sum::<usize>(),
        early,
        streams_missing,
        resets,
        others,
        heartbeats
    );
    println!("delivery latency from the intake's answer: {}", summary(&mut from_answer));
    println!("  ({before_answer} deliveries arrived before the intake's answer: the server announces, then answers)");
    println!("delivery latency from the intake's request: {}", summary(&mut from_sent));
    let show = |label: &str, m: Option<(u64, u64)>| {
        if let Some((rss, _)) = m {
            println!("server VmRSS {label}: {}", mib(rss));
        }
    };
    show("idle before the streams (after the login)", idle_before);
    show("idle with the streams connected", idle_connected);
    if !samples.is_empty() {
        println!("server VmRSS during the load: max {} ({} samples, 1 s apart)", mib(rss_max), samples.len());
        let first = samples.first().copied().unwrap_or(0);
        let last = samples.last().copied().unwrap_or(0);
        println!("  first sample {}, last sample {}", mib(first), mib(last));
        let every: Vec<String> = samples.iter().step_by(10).map(|k| format!("{:.1}", *k as f64 / 1024.0)).collect();
        println!("  every 10th sample (MiB): {}", every.join(" "));
    }
    show("at the end", end_memory);
    if let Some((_, hwm)) = memory(a.pid) {
        println!("server VmHWM (peak since start): {}", mib(hwm));
    }
    Ok(())
}
