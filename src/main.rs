//! The `minsheng` command: serve, demo, migrate and admin tasks. All work happens in the library.
use anyhow::Context;
use clap::{Parser, Subcommand};
use minsheng::auth::password::{self, HashParams};
use minsheng::configuration::{Settings, get_configuration};
use minsheng::domain::roles::{Role, join_roles, parse_roles};
use minsheng::domain::values::RegionLevel;
use minsheng::startup::{Application, connect};
use minsheng::{demo, repo, telemetry};
use secrecy::SecretString;

#[derive(Parser)]
#[command(name = "minsheng", version, about = "民声直达：接诉即办的后台与网关")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone, Default)]
struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:8080
    #[arg(long)]
    listen: Option<String>,
    /// Database URL (sqlite://path?mode=rwc or postgres://user@host/db)
    #[arg(long)]
    database: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server and the workers.
    Serve(ServeArgs),
    /// Create ./data, migrate, seed a demo county (once) and serve it.
    Demo(ServeArgs),
    /// Apply database migrations and exit.
    Migrate {
        #[arg(long)]
        database: Option<String>,
    },
    /// Administrative tasks for a production install.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Print the OpenAPI 3.1 document of the HTTP API (the one served at /api/openapi.json).
    Openapi,
    /// Removes requesters' personal data from tickets past `retention.days` (what the server's worker
    /// does every `retention.interval_seconds`): --dry-run counts them, --apply does it.
    Retention {
        #[arg(long, conflicts_with = "apply", required_unless_present = "apply")]
        dry_run: bool,
        #[arg(long)]
        apply: bool,
        #[arg(long)]
        database: Option<String>,
    },
    /// Reports by hand.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// The weekly report of a published week (default the latest): printed as the plain text of the
    /// e-mail, or with --send queued through the outbox to every address in email.leaders (once per
    /// week and address) and sent at once.
    Weekly {
        /// ISO week, e.g. 2026-W49
        #[arg(long)]
        week: Option<String>,
        #[arg(long)]
        send: bool,
        #[arg(long)]
        database: Option<String>,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a region (the county first, with no parent).
    CreateRegion {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "county")]
        level: String,
        #[arg(long)]
        parent_id: Option<i64>,
        #[arg(long)]
        hotline: Option<String>,
        #[arg(long)]
        database: Option<String>,
    },
    /// Create a staff member. The password is read from MINSHENG_STAFF_PASSWORD or the first line of
    /// standard input; this is the only way to make the first admin.
    CreateStaff {
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        /// Comma-separated: admin, operator, dispatcher, cadre, caller, leader, inspector
        #[arg(long)]
        roles: String,
        #[arg(long)]
        region_id: i64,
        #[arg(long)]
        unit_id: Option<i64>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        database: Option<String>,
    },
    /// Import regions, units or staff from an XLSX or CSV file (the same columns and checks as
    /// `POST /api/v1/imports/{kind}`): every row or, with any error, none.
    Import {
        file: String,
        /// regions, units or staff
        #[arg(long)]
        kind: String,
        /// Check every row and write nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        database: Option<String>,
    },
    /// The catalogue of request categories.
    Catalogue {
        #[command(subcommand)]
        command: CatalogueCommand,
    },
    /// Change a staff member's roles or deactivate/reactivate them. Every token they hold stops
    /// working at once.
    SetStaff {
        #[arg(long)]
        username: String,
        /// Comma-separated roles, replacing the current ones
        #[arg(long)]
        roles: Option<String>,
        #[arg(long)]
        active: Option<bool>,
        #[arg(long)]
        database: Option<String>,
    },
}

#[derive(Subcommand)]
enum CatalogueCommand {
    /// Load a catalogue into a county that has no categories yet: `standard` (the shipped 17类28项,
    /// assets/catalogue/standard.yaml) or the path of a YAML file of the same shape.
    Load {
        source: String,
        #[arg(long)]
        database: Option<String>,
    },
}

fn apply_args(settings: &mut Settings, args: &ServeArgs) -> anyhow::Result<()> {
    if let Some(listen) = &args.listen {
        let (host, port) = listen.rsplit_once(':').context("--listen must look like HOST:PORT")?;
        settings.application.host = host.to_string();
        settings.application.port = port.parse().context("--listen port must be a number")?;
        if std::env::var("MINSHENG__APPLICATION__PUBLIC_URL").is_err() {
            settings.application.public_url = format!("http://{listen}");
        }
    }
    if let Some(db) = &args.database {
        settings.database.url = SecretString::from(db.clone());
    }
    Ok(())
}

fn with_database(mut settings: Settings, database: &Option<String>) -> Settings {
    if let Some(db) = database {
        settings.database.url = SecretString::from(db.clone());
    }
    settings
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut settings = get_configuration()?;
    let json = settings.log.format == "json";
    if matches!(cli.command, Command::Report { .. } | Command::Openapi) {
        // The report is the output: the log goes to standard error.
        telemetry::init("info,sqlx=warn,sea_orm=warn", json, std::io::stderr);
    } else {
        telemetry::init("info,sqlx=warn,sea_orm=warn", json, std::io::stdout);
    }
    match cli.command {
        Command::Serve(args) => {
            apply_args(&mut settings, &args)?;
            let app = Application::build(settings).await?;
            telemetry::return_free_memory();
            tracing::info!(port = app.port(), "minsheng serving");
            app.run_until_stopped().await?;
        }
        Command::Demo(args) => {
            apply_args(&mut settings, &args)?;
            std::fs::create_dir_all("data").context("creating ./data")?;
            run_demo(settings).await?;
        }
        Command::Migrate { database } => {
            let mut settings = with_database(settings, &database);
            settings.application.run_migrations = true;
            connect(&settings).await?;
            println!("migrations applied");
        }
        Command::Admin { command } => admin(settings, command).await?,
        Command::Openapi => println!("{}", minsheng::openapi::json()),
        Command::Retention { dry_run, apply, database } => {
            retention(with_database(settings, &database), dry_run && !apply).await?
        }
        Command::Report { command: ReportCommand::Weekly { week, send, database } } => {
            report_weekly(with_database(settings, &database), week.as_deref(), send).await?
        }
    }
    Ok(())
}

/// `minsheng report weekly`: prints the report, or queues it to the leaders and sends what is due.
async fn report_weekly(settings: Settings, week: Option<&str>, send: bool) -> anyhow::Result<()> {
    use minsheng::services::{redblack, weekly_report};
    let db = connect(&settings).await?;
    let state = minsheng::startup::build_state(settings, db).await?;
    let api = |e: minsheng::error::ApiError| anyhow::anyhow!("{}", e.message);
    if !send {
        let r = weekly_report::for_week(&state, week).await.map_err(api)?;
        println!("Subject: {}", r.subject);
        println!();
        println!("{}", r.text.trim_end());
        println!();
        println!("[attachment: {}, {} bytes]", r.filename, r.xlsx.len());
        return Ok(());
    }
    let list = redblack::find(&state, week).await.map_err(api)?;
    let rows = match weekly_report::queue(&state, &list, state.now()).await.map_err(api)? {
        weekly_report::Queued::Skipped(reason) => anyhow::bail!("{reason}"),
        weekly_report::Queued::Rows { written, rows } => {
            println!("{written} e-mail(s) queued for {} ({} leader(s) configured)", list.week, rows.len());
            rows
        }
    };
    // Send now rather than wait for a server's worker (the rows are leased: no worker sends twice).
    let pass = minsheng::workers::email::run_pass(&state, state.now()).await?;
    println!("sent now: {}, to retry: {}, dead: {}", pass.sent, pass.retried, pass.dead);
    let keys = rows.iter().filter_map(|m| m.dedup_key.clone()).collect();
    for m in repo::outbox::by_dedup_keys(&state.db.conn, keys).await? {
        let error = m.last_error.map(|e| format!(" ({e})")).unwrap_or_default();
        println!("  outbox #{} {} {}{error}", m.id, m.recipient, m.status.as_str());
    }
    Ok(())
}

/// `minsheng retention`: one pass of the retention job, or with --dry-run only its count.
async fn retention(settings: Settings, dry_run: bool) -> anyhow::Result<()> {
    let db = connect(&settings).await?;
    let state = minsheng::startup::build_state(settings, db).await?;
    let days = state.settings.retention.days;
    let report = minsheng::services::retention::run(&state, state.now(), dry_run).await?;
    if dry_run {
        println!(
            "{} ticket(s) ended more than {days} days ago still hold personal data (dry run: nothing changed)",
            report.due
        );
    } else {
        println!(
            "{} of {} ticket(s) past {days} days anonymised, {} upload(s) removed",
            report.anonymized, report.due, report.uploads_removed
        );
    }
    Ok(())
}

/// Who receives the demo's weekly report e-mail (written to a folder, never sent).
const DEMO_LEADER_EMAIL: &str = "leader@qinghe.example";

async fn run_demo(mut settings: Settings) -> anyhow::Result<()> {
    // The demo county is small (three requests per unit a week): it ranks units from three visits a
    // week so its rankings and red/black lists have names in them. A real county keeps the default.
    if std::env::var("MINSHENG__RANKING__MIN_VISITS").is_err() {
        settings.ranking.min_visits = 3;
    }
    // The demo has no mail server: unless e-mail is configured, the weekly report e-mail goes to a
    // demo leader through the console transport, which writes it to data/mail/ (.eml and .html).
    if settings.email.mode() == minsheng::email::Mode::Off {
        settings.email.smtp_url = SecretString::from("console");
        if settings.email.leaders.is_empty() {
            settings.email.leaders = vec![DEMO_LEADER_EMAIL.into()];
        }
    }
    let mail_dir = settings.email.console_dir.clone();
    let console_mail = settings.email.mode() == minsheng::email::Mode::Console;
    let db = connect(&settings).await?;
    let params =
        HashParams { memory_kib: settings.auth.argon2_memory_kib, iterations: settings.auth.argon2_iterations };
    let summary = demo::seed(&db, params, &settings.county.hotline, &settings.county.name, chrono::Utc::now()).await?;
    let public = settings.public_url().to_string();
    let state = minsheng::startup::build_state(settings, db).await?;
    // A few days of work, so the console shows waiting, overdue and late orders from the start.
    let (past, lists) = if summary.seeded_now { demo::seed_past(&state).await? } else { (0, 0) };
    let history = if summary.seeded_now { demo::seed_orders(&state).await? } else { 0 };
    let (breaches, _) = if summary.seeded_now { demo::seed_accountability(&state).await? } else { (0, 0) };
    let screen = demo::hall_screen(&state).await?;
    minsheng::telemetry::return_free_memory();
    let app = Application::with_state(state)?;
    println!();
    println!("民声直达 demo — {}", if summary.seeded_now { "demo county seeded" } else { "reusing existing data" });
    if past > 0 {
        println!(
            "{past} requests of the past twelve weeks, visited and rated; {lists} weekly red/black lists published"
        );
    }
    if history > 0 {
        println!("{history} requests of the last four days filed and worked (some overdue, some late)");
    }
    if breaches > 0 {
        println!("{breaches} accountability records (追责红线) for the inspector, the oldest closed as 问责");
    }
    if console_mail {
        println!(
            "Weekly report e-mail (Monday, after the red/black list): written to {mail_dir}/ as .eml and .html (no mail server in the demo); `minsheng report weekly` prints it"
        );
    }
    println!("Serving on {public}  (API under /api/v1, health at /healthz)");
    println!();
    println!("Village contact cards (open on a phone or in a browser):");
    for (village, code) in &summary.cards {
        println!("  {village:<8} {public}/c/{code}");
    }
    println!();
    println!(
        "Big screen for the county hall (1920×1080, read-only screen token; revoke it under 大屏 in the console):"
    );
    println!("  {screen}");
    println!("  Leaders and inspectors may also sign in at {public}/screen/");
    println!();
    println!("Staff logins (password: {}; demo only):", demo::DEMO_PASSWORD);
    for (username, name, roles) in &summary.logins {
        println!("  {username:<12} {roles:<12} {name}");
    }
    println!();
    println!(
        "Try: curl -s -X POST {public}/api/v1/auth/login -H 'content-type: application/json' -d '{{\"username\":\"dispatcher\",\"password\":\"{}\"}}'",
        demo::DEMO_PASSWORD
    );
    println!();
    println!("API for other systems:");
    println!("  OpenAPI 3.1   {public}/api/openapi.json   (Swagger UI: {public}/api/docs/)");
    println!("  Open311 v2    {public}/open311/v2/discovery.json   (API keys: admin, POST /api/v1/open311/keys)");
    println!();
    app.run_until_stopped().await?;
    Ok(())
}

/// `minsheng admin import`: as the county's administrator (the whole tree), with a progress line on a
/// terminal; the row errors are printed one per line and the exit status says whether it was written.
async fn import_file(settings: Settings, file: &str, kind: &str, dry_run: bool) -> anyhow::Result<()> {
    use minsheng::services::import::{self, Kind};
    use std::io::{IsTerminal, Write};
    let kind = Kind::parse(kind).context("--kind must be regions, units or staff")?;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {file}"))?;
    let db = connect(&settings).await?;
    let admin = minsheng::auth::StaffUser {
        id: 0,
        name: "命令行导入".into(),
        region_id: 0,
        scope: minsheng::domain::roles::Scope { roles: vec![Role::Admin], region_path: "/".into(), unit_id: None },
    };
    let terminal = std::io::stderr().is_terminal();
    let progress = |done: usize, total: usize| {
        if terminal && (done.is_multiple_of(50) || done == total) {
            let width = 30;
            let filled = done * width / total.max(1);
            eprint!("\r[{}{}] {done}/{total}", "#".repeat(filled), " ".repeat(width - filled));
            let _ = std::io::stderr().flush();
            if done == total {
                eprintln!();
            }
        }
    };
    let report = import::run(&db, chrono::Utc::now(), &admin, kind, &bytes, dry_run, progress)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    for e in &report.errors {
        println!("row {} [{}]: {}", e.row, e.column, e.message);
    }
    if !report.errors.is_empty() {
        anyhow::bail!("{} errors in {} rows: nothing written", report.errors.len(), report.rows);
    }
    if dry_run {
        println!("{} rows checked, no errors (dry run: nothing written)", report.rows);
    } else {
        println!("{} rows imported", report.created);
    }
    Ok(())
}

async fn admin(settings: Settings, command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::CreateRegion { name, level, parent_id, hotline, database } => {
            let settings = with_database(settings, &database);
            let db = connect(&settings).await?;
            let level = RegionLevel::parse(&level).context("level must be county, township, village or grid")?;
            let parent = match parent_id {
                Some(id) => Some(repo::regions::get(&db.conn, id).await?.context("parent region not found")?),
                None => None,
            };
            let r =
                repo::regions::create(&db.conn, parent.as_ref(), level, &name, hotline.as_deref(), chrono::Utc::now())
                    .await?;
            println!("region {} created: {} ({})", r.id, r.name, r.level.as_str());
        }
        AdminCommand::CreateStaff { username, name, roles, region_id, unit_id, phone, database } => {
            let settings = with_database(settings, &database);
            let parsed: Vec<Role> = parse_roles(&roles).with_context(|| format!("unknown role in {roles:?}"))?;
            let password = match std::env::var("MINSHENG_STAFF_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    eprintln!("password for {username}:");
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            anyhow::ensure!(password.chars().count() >= 10, "the password must have at least 10 characters");
            let db = connect(&settings).await?;
            repo::regions::get(&db.conn, region_id).await?.context("region not found")?;
            let params =
                HashParams { memory_kib: settings.auth.argon2_memory_kib, iterations: settings.auth.argon2_iterations };
            let hash = password::hash(SecretString::from(password), params).await?;
            let s = repo::staff::create(
                &db.conn,
                repo::staff::NewStaff {
                    username: &username,
                    name: &name,
                    password_hash: &hash,
                    roles: &join_roles(&parsed),
                    region_id,
                    unit_id,
                    phone: phone.as_deref(),
                    post: None,
                    must_change_password: false,
                },
                chrono::Utc::now(),
            )
            .await?;
            println!("staff {} created: {} ({})", s.id, s.username, join_roles(&s.roles));
        }
        AdminCommand::Import { file, kind, dry_run, database } => {
            import_file(with_database(settings, &database), &file, &kind, dry_run).await?;
        }
        AdminCommand::Catalogue { command: CatalogueCommand::Load { source, database } } => {
            let text = if source == "standard" {
                minsheng::services::catalogue::STANDARD.to_string()
            } else {
                std::fs::read_to_string(&source).with_context(|| format!("cannot read {source}"))?
            };
            let settings = with_database(settings, &database);
            let db = connect(&settings).await?;
            let tx = db.begin().await?;
            let loaded = minsheng::services::catalogue::load(&*tx, &text).await?;
            tx.commit().await?;
            println!(
                "catalogue loaded: {} categories with {} items, {} deadline policies",
                loaded.subjects, loaded.items, loaded.policies
            );
        }
        AdminCommand::SetStaff { username, roles, active, database } => {
            let settings = with_database(settings, &database);
            let roles = match roles {
                Some(r) => {
                    let parsed = parse_roles(&r).with_context(|| format!("unknown role in {r:?}"))?;
                    Some(join_roles(&parsed))
                }
                None => None,
            };
            anyhow::ensure!(roles.is_some() || active.is_some(), "nothing to change: give --roles and/or --active");
            let db = connect(&settings).await?;
            let s =
                repo::staff::by_username(&db.conn, &username).await?.context("no staff member with that username")?;
            repo::staff::update_access(&db.conn, s.id, roles.as_deref(), active).await?;
            println!("staff {} updated; their tokens no longer work", s.username);
        }
    }
    Ok(())
}
