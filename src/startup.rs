//! Building and running the application: state, HTTP server on its own listener (port 0 in tests),
//! middleware (request id, tracing, metrics) and the worker loops.
use crate::auth::{keys::KeyRing, password};
use crate::configuration::Settings;
use crate::db::Db;
use crate::error::{form_error_handler, json_error_handler, path_error_handler, query_error_handler};
use crate::kv::KvStore;
use crate::kv::limiter::Limiter;
use crate::kv::memory::MemoryStore;
use crate::kv::redis_store::RedisStore;
use crate::state::{AppState, TimeSource};
use crate::{middleware, routes, sms, workers};
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{Compress, Next, from_fn};
use actix_web::{App, HttpMessage, HttpServer, web};
use anyhow::Context;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use secrecy::{ExposeSecret, SecretString};
use std::net::TcpListener;
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use tracing_actix_web::{RequestId, TracingLogger};

pub struct Application {
    port: u16,
    server: Server,
    pub state: AppState,
}

/// The process-wide Prometheus recorder (a recorder can be installed only once per process).
fn prometheus() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE.get_or_init(|| PrometheusBuilder::new().install_recorder().ok()).clone()
}

/// Connects to the database (and runs migrations when configured).
pub async fn connect(settings: &Settings) -> anyhow::Result<Db> {
    let db = Db::connect(settings.database.url.expose_secret(), settings.database.max_connections).await?;
    if settings.application.run_migrations {
        db.migrate().await.context("running migrations")?;
    }
    Ok(db)
}

/// Everything the handlers and workers share.
/// Working-day deadlines need this year's holiday arrangement, and next year's from December (the
/// State Council publishes it in November): a missing year is worth a warning at every start.
async fn warn_about_the_calendar(db: &Db, settings: &Settings) {
    use chrono::Datelike;
    let tz: chrono_tz::Tz = settings.application.timezone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let Ok(cal) = crate::repo::calendar::load(&db.conn).await else { return };
    let mut needed = vec![today.year()];
    if today.month() == 12 {
        needed.push(today.year() + 1);
    }
    for year in needed.into_iter().filter(|y| !cal.knows_year(*y)) {
        tracing::warn!(
            year,
            "no holiday calendar for this year: working-day deadlines count Monday to Friday; enter it with PUT /api/v1/calendar/{year}"
        );
    }
}

pub async fn build_state(settings: Settings, db: Db) -> anyhow::Result<AppState> {
    let redis = match settings.redis.url() {
        None => None,
        Some(url) => {
            let client = redis::Client::open(url).context("parsing the Redis URL")?;
            let conn = redis::aio::ConnectionManager::new(client.clone()).await.context("connecting to Redis")?;
            Some((client, conn))
        }
    };
    // Live updates travel through Redis when it is configured (a change on one instance reaches the
    // screens on every other), in process otherwise.
    let bus: Arc<dyn crate::live::LiveBus> = match &redis {
        Some((client, conn)) => {
            Arc::new(crate::live::redis_bus::RedisBus::new(client.clone(), conn.clone(), &settings.redis.key_prefix))
        }
        None => Arc::new(crate::live::memory::MemoryBus::new(1024)),
    };
    let live = crate::live::Hub::start(bus, settings.live.replay, settings.live.max_streams).await?;
    let redis = redis.map(|(_, conn)| conn);
    let params = password::HashParams {
        memory_kib: settings.auth.argon2_memory_kib,
        iterations: settings.auth.argon2_iterations,
    };
    let dummy_hash = password::hash(SecretString::from("minsheng-no-such-user"), params).await?;
    let store: Arc<dyn KvStore> = match &redis {
        // Behind a breaker: a dead Redis costs three timeouts, then nothing until it answers again.
        Some(conn) => Arc::new(crate::kv::breaker::BreakerStore::new(
            Arc::new(RedisStore::new(conn.clone(), settings.redis.key_prefix.clone())),
            3,
            std::time::Duration::from_secs(5),
        )),
        None => Arc::new(MemoryStore::new()),
    };
    warn_about_the_calendar(&db, &settings).await;
    let started = std::time::Instant::now();
    if crate::repo::rollups::ensure_built(&db, settings.rollup_offset(), chrono::Utc::now()).await? {
        tracing::info!(ms = started.elapsed().as_millis() as u64, "statistics roll-ups built");
    }
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .context("building the HTTP client")?;
    let limiter = Limiter::new(store);
    Ok(AppState {
        sms: Arc::new(sms::Gateway::from_settings(&settings, limiter.clone())?),
        limiter,
        http,
        keys: KeyRing::load(&settings, &db).await?,
        db,
        redis,
        time: TimeSource::default(),
        dummy_hash: Arc::new(dummy_hash),
        prometheus: prometheus(),
        card_scans: Default::default(),
        photo_decodes: Arc::new(tokio::sync::Semaphore::new(settings.uploads.decode_slots())),
        live,
        screen_cache: Default::default(),
        wechat_token_refresh: Default::default(),
        reference: Default::default(),
        settings: Arc::new(settings),
    })
}

impl Application {
    /// Builds the application from settings: database, state, listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let db = connect(&settings).await?;
        let state = build_state(settings, db).await?;
        Self::with_state(state)
    }

    /// Binds `application.host:port` (port 0 picks a free port) and prepares the server.
    pub fn with_state(state: AppState) -> anyhow::Result<Application> {
        Self::with_state_and_routes(state, None)
    }

    /// The same, with `extra` routes added under the same middleware (tests add a route that
    /// panics; production adds none).
    pub fn with_state_and_routes(state: AppState, extra: Option<ExtraRoutes>) -> anyhow::Result<Application> {
        let addr = format!("{}:{}", state.settings.application.host, state.settings.application.port);
        let listener = TcpListener::bind(&addr).with_context(|| format!("binding {addr}"))?;
        let port = listener.local_addr()?.port();
        let server = run_with_routes(listener, state.clone(), extra)?;
        Ok(Application { port, server, state })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the process is stopped, with the workers running beside it (see `workers`).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let workers = workers::spawn_all(self.state.clone());
        let result = self.server.await;
        for w in workers {
            w.abort();
        }
        // Card scans counted since the last flush live only in memory: write them before exiting.
        if let Err(e) = workers::card_scans::run_once(&self.state, self.state.now()).await {
            tracing::warn!(error = ?e, "card scans could not be written at shutdown");
        }
        result
    }
}

async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let method = req.method().to_string();
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let request_id = req.extensions().get::<RequestId>().map(|r| r.to_string());
    // The handler runs with its request id at hand, so an internal error names the same id the
    // response header and the log lines carry.
    let call = next.call(req);
    let result = match &request_id {
        Some(id) => crate::error::REQUEST_ID.scope(id.clone(), call).await,
        None => call.await,
    };
    let header = request_id.as_deref().and_then(|id| HeaderValue::from_str(id).ok());
    let (result, status) = match result {
        Ok(mut res) => {
            if let Some(v) = header {
                res.headers_mut().insert(HeaderName::from_static("x-request-id"), v);
            }
            let status = res.status();
            (Ok(res), status)
        }
        // An answer made below without a request to carry it (a caught panic): the same header and
        // the same count as any other answer.
        Err(e) => {
            let e = middleware::edit_error_answer(e, |answer| {
                if let Some(v) = header {
                    answer.headers_mut().insert(HeaderName::from_static("x-request-id"), v);
                }
            });
            let status = e.as_response_error().status_code();
            (Err(e), status)
        }
    };
    let status = status.as_u16().to_string();
    metrics::counter!("minsheng_http_requests_total", "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("minsheng_http_request_duration_seconds", "route" => route)
        .record(start.elapsed().as_secs_f64());
    result
}

/// Routes added to the application by its caller (see `Application::with_state_and_routes`).
pub type ExtraRoutes = fn(&mut web::ServiceConfig);

pub fn run(listener: TcpListener, state: AppState) -> anyhow::Result<Server> {
    run_with_routes(listener, state, None)
}

pub fn run_with_routes(listener: TcpListener, state: AppState, extra: Option<ExtraRoutes>) -> anyhow::Result<Server> {
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::JsonConfig::default().limit(256 * 1024).error_handler(json_error_handler))
            .app_data(web::QueryConfig::default().error_handler(query_error_handler))
            .app_data(web::FormConfig::default().limit(64 * 1024).error_handler(form_error_handler))
            .app_data(web::PathConfig::default().error_handler(path_error_handler))
            // Raw bodies (`Bytes`, `String`: action bodies, provider callbacks); PayloadConfig has no
            // error handler, its 413 is answered by `middleware::contract_errors`.
            .app_data(web::PayloadConfig::new(256 * 1024))
            // Innermost first: panics are caught inside the request id's scope (`observe`), errors
            // are made contract answers before the security headers and compression see them.
            .wrap(from_fn(middleware::catch_panics))
            .wrap(from_fn(middleware::database_breaker))
            .wrap(from_fn(routes::refuse_malformed_requests))
            .wrap(from_fn(middleware::contract_errors))
            .wrap(from_fn(middleware::security_headers))
            .wrap(Compress::default())
            .wrap(from_fn(observe))
            .wrap(TracingLogger::default())
            .configure(|cfg| routes::configure(&mut utoipa_actix_web::service_config::ServiceConfig::new(cfg)))
            .configure(move |cfg| {
                if let Some(routes) = extra {
                    routes(cfg);
                }
            })
            .default_service(web::to(middleware::no_route))
    })
    .listen(listener)?
    .run();
    Ok(server)
}
