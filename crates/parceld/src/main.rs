//! The parceld binary: the server and its administration commands.
//!
//! One binary does everything so an operator installs one file: `serve` runs the API, `migrate`
//! brings the database schema up to date, `account` and `key` manage tenants and their API keys,
//! and `openapi` prints the API's OpenAPI document.

/// `println!` for command output that ends the process quietly when standard output has been
/// closed (`parceld track … | head`), as Unix tools do, instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(error) = writeln!(std::io::stdout(), $($arg)*) {
            if error.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            eprintln!("parceld: cannot write to standard output: {error}");
            std::process::exit(1);
        }
    }};
}

mod bench;
mod config;
mod import;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use parceld_api::{ApiSettings, AppState};
use parceld_carriers::Carriers;
use parceld_engine::webhooks::{check_url, signing, AddressPolicy, Dispatcher};
use parceld_engine::Engine;
use parceld_model::{LimitClass, RateLimits};
use parceld_store::{
    CreateWebhook, Entity, NewWebhook, Store, StoreError, WebhookPatch, WebhookVersion,
};
use parceld_store_sqlite::SqliteStore;
use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};

/// A 2000-tracking page allocates and frees hundreds of thousands of small strings; with glibc's
/// allocator, allocation was about 30 % of such a request in `perf` (see docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "parceld",
    version,
    about = "Self-hostable shipment tracking, TrackingMore-compatible"
)]
struct Cli {
    /// Configuration file (default: ./parceld.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory of the database (overrides server.data_dir).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API server.
    Serve {
        /// Address to listen on (overrides server.bind); port 0 picks a free port.
        #[arg(long, value_name = "ADDR")]
        bind: Option<std::net::SocketAddr>,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Manage accounts.
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// Manage API keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Manage webhook endpoints (the same as /v4/webhooks).
    Webhook {
        #[command(subcommand)]
        command: WebhookCommand,
    },
    /// Print the OpenAPI document of the API.
    Openapi,
    /// Run the carrier simulator: one HTTP server speaking the six carriers' tracking protocols
    /// under /<courier_code>/…, for tests, benchmarks and demos without internet.
    Sim {
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9090")]
        bind: std::net::SocketAddr,
    },
    /// Look one number up through a carrier adapter (as configured) and print the result.
    Track {
        courier: String,
        number: String,
        /// Print the normalized result as JSON, with every checkpoint's raw carrier code.
        #[arg(long)]
        raw: bool,
    },
    /// Bulk-load trackings from a CSV file (create fields as columns) or JSON lines (one create
    /// body per line), validated like `POST /v4/trackings/create`.
    Import {
        file: PathBuf,
        /// The account the trackings belong to (default: `server.default_account`).
        #[arg(long, value_name = "NAME")]
        account: Option<String>,
        /// The file's format, when its name does not end in .csv or .jsonl.
        #[arg(long, value_enum)]
        format: Option<import::Format>,
        /// Records per insert transaction.
        #[arg(long, default_value_t = import::DEFAULT_BATCH)]
        batch: usize,
        /// Continue an interrupted import from where it stopped.
        #[arg(long, conflicts_with = "restart")]
        resume: bool,
        /// Forget an interrupted import's progress and begin again.
        #[arg(long)]
        restart: bool,
    },
    /// Measure parceld: API, ingest, refresh, detection, import and memory, each against a
    /// baseline from the same run. Starts its own server and carrier simulator; prints a table.
    Bench {
        /// Seconds per timed scenario.
        #[arg(long)]
        seconds: Option<u64>,
        /// Trackings stored for the import and memory scenario (default 1,000,000).
        #[arg(long)]
        trackings: Option<usize>,
        /// Trackings stored for the refresh scenario (default 100,000).
        #[arg(long)]
        refresh_trackings: Option<usize>,
        /// A small run of every scenario in seconds, to check the bench itself.
        #[arg(long)]
        quick: bool,
        /// Only these scenarios, e.g. `--only api,webhooks` (detection, api, refresh, webhooks,
        /// memory).
        #[arg(long, value_delimiter = ',', value_parser = ["detection", "api", "refresh", "webhooks", "memory"])]
        only: Vec<String>,
        /// Also write the figures as JSON to FILE.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Work in DIR and keep its databases afterwards (one per scenario), to reproduce a
        /// figure by hand; DIR is emptied first.
        #[arg(long, value_name = "DIR")]
        keep: Option<PathBuf>,
    },
    /// Name the courier of tracking numbers, from their format and check digit.
    Detect {
        /// Tracking numbers (spaces and dashes inside a number are fine if quoted).
        numbers: Vec<String>,
        /// Find tracking numbers inside a text file (an e-mail, say); `-` reads standard input.
        #[arg(long, value_name = "FILE", conflicts_with = "numbers")]
        text: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create an account (create a key for it with `key create --account NAME`).
    Create { name: String },
    /// List accounts.
    List,
    /// Refuse the account's requests (403) until it is enabled again.
    Disable { name: String },
    /// Accept the account's requests again.
    Enable { name: String },
    /// Set the account's own rate limits, in requests per second, e.g. `v4_other=20 v2_list=2`
    /// (classes: v4_create, v4_realtime, v4_other, v2_realtime, v2_list, v2_other);
    /// `CLASS=default` goes back to the server's configured limit.
    SetLimits {
        name: String,
        #[arg(required = true, value_name = "CLASS=RATE")]
        limits: Vec<String>,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Create an API key; it is printed once and stored only as a hash.
    Create {
        #[arg(long, value_name = "NAME")]
        account: String,
    },
    /// List keys (ids, accounts, dates; never the keys themselves).
    List,
    /// Delete a key: requests with it then get "API key has been deleted".
    Delete { key_id: String },
}

#[derive(Subcommand)]
enum WebhookCommand {
    /// Register an endpoint for an account; prints its id and signing secret.
    Create {
        #[arg(long, value_name = "NAME")]
        account: String,
        #[arg(long)]
        url: String,
        #[arg(long, default_value = "")]
        description: String,
        /// `all`, or statuses separated by commas (e.g. `delivered,exception`).
        #[arg(long, default_value = "all")]
        statuses: String,
        /// Payload format: v4 or v2 (legacy, with verifyInfo).
        #[arg(long, default_value = "v4")]
        version: String,
    },
    /// List endpoints (of one account, or all).
    List {
        #[arg(long, value_name = "NAME")]
        account: Option<String>,
    },
    /// Delete an endpoint with its deliveries.
    Delete { id: String },
    /// Enable an endpoint again (also one parceld disabled because it kept failing).
    Enable { id: String },
    /// Stop sending to an endpoint; new changes are not queued for it.
    Disable { id: String },
    /// Replace an endpoint's signing secret; prints the new one.
    RotateSecret { id: String },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match &cli.command {
        Command::Openapi => {
            say!("{}", parceld_api::openapi::document().trim_end());
            return Ok(());
        }
        Command::Detect { numbers, text } => return detect(numbers, text.as_deref()),
        _ => {}
    }
    let mut config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("parceld: invalid configuration: {message}");
            std::process::exit(2);
        }
    };
    if let Some(dir) = cli.data_dir {
        config.server.data_dir = dir;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(cli.command, config))
}

async fn open_store(config: &Config) -> anyhow::Result<SqliteStore> {
    std::fs::create_dir_all(&config.server.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            config.server.data_dir.display()
        )
    })?;
    let path = config.database_path();
    SqliteStore::open(&path)
        .await
        .with_context(|| format!("cannot open the database {}", path.display()))
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { bind } => serve(config, bind).await,
        Command::Migrate => {
            open_store(&config).await?;
            say!(
                "database {} is up to date ({} migrations)",
                config.database_path().display(),
                SqliteStore::known_migrations().len()
            );
            Ok(())
        }
        Command::Account { command } => account(&open_store(&config).await?, command).await,
        Command::Key { command } => key(&open_store(&config).await?, command).await,
        Command::Webhook { command } => {
            webhook(&open_store(&config).await?, &config, command).await
        }
        Command::Sim { bind } => sim(bind).await,
        Command::Bench {
            seconds,
            trackings,
            refresh_trackings,
            quick,
            only,
            json,
            keep,
        } => {
            let mut options = if quick {
                bench::Options::quick()
            } else {
                bench::Options::full()
            };
            options.seconds = seconds.unwrap_or(options.seconds);
            options.trackings = trackings.unwrap_or(options.trackings);
            options.refresh_trackings = refresh_trackings.unwrap_or(options.refresh_trackings);
            options.only = only;
            options.json = json;
            options.keep = keep.is_some();
            options.work_dir = keep;
            bench::run(options).await.map(|_| ())
        }
        Command::Import {
            file,
            account,
            format,
            batch,
            resume,
            restart,
        } => {
            let store = open_store(&config).await?;
            let name = account.unwrap_or_else(|| config.server.default_account.clone());
            let Some(found) = store.accounts().await?.into_iter().find(|a| a.name == name) else {
                bail!("no account named `{name}`; `parceld account list` shows them");
            };
            let options = import::Options {
                path: file.clone(),
                format,
                batch,
                resume,
                restart,
                progress_bar: std::io::IsTerminal::is_terminal(&std::io::stderr()),
            };
            let started = std::time::Instant::now();
            let summary = import::run(Arc::new(store), found.id, &options).await?;
            let seconds = started.elapsed().as_secs_f64();
            say!(
                "imported {}: {} read, {} created, {} already existed, {} rejected in {:.1} s ({:.0} records/s)",
                file.display(),
                summary.read,
                summary.created,
                summary.existed,
                summary.rejected,
                seconds,
                summary.read as f64 / seconds.max(1e-9)
            );
            if summary.rejected > 0 {
                say!(
                    "the rejected lines and their reasons are in {}",
                    import::rejected_file(&file).display()
                );
            }
            Ok(())
        }
        Command::Track {
            courier,
            number,
            raw,
        } => track(&config, &courier, &number, raw).await,
        Command::Openapi | Command::Detect { .. } => {
            unreachable!("handled before the runtime starts")
        }
    }
}

fn init_logging(config: &Config) {
    let filter = EnvFilter::new(&config.log.level);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

async fn serve(mut config: Config, bind: Option<std::net::SocketAddr>) -> anyhow::Result<()> {
    if let Some(bind) = bind {
        config.server.bind = bind;
    }
    init_logging(&config);
    let store = open_store(&config).await?;
    if let Some(first) = store.bootstrap(&config.server.default_account).await? {
        say!(
            "Created account \"{}\" with its first API key (shown only this once, keep it):\n\n    {}\n\nSend it in the Tracking-Api-Key header.",
            first.info.account_name, first.key
        );
    }
    let store: Arc<dyn Store> = Arc::new(store);
    let engine = Arc::new(Engine::new(
        store.clone(),
        carriers(&config)?,
        config.engine.clone(),
    ));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let grace = Duration::from_secs(config.server.shutdown_grace_seconds);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight work");
        let _ = stop_tx.send(true);
        tokio::time::sleep(grace).await;
        tracing::warn!("in-flight work did not finish within the grace period; exiting");
        std::process::exit(1);
    });

    let worker = config.server.worker.then(|| {
        tracing::info!("refresh worker started");
        tokio::spawn(engine.clone().run(stop_rx.clone()))
    });
    // The webhook dispatcher runs wherever the refresh does.
    let dispatcher = if config.server.worker {
        let dispatcher = Dispatcher::new(
            store.clone(),
            config.webhooks.clone(),
            Arc::new(parceld_api::webhook_payload::PayloadRenderer),
        )
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        tracing::info!("webhook dispatcher started");
        Some(tokio::spawn(Arc::new(dispatcher).run(stop_rx.clone())))
    } else {
        None
    };
    if config.server.api {
        let state = AppState::new(store, config.rate_limits, engine)
            .with_webhooks(config.webhooks.clone())
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        let app = parceld_api::router(
            state,
            &ApiSettings {
                max_body_bytes: config.server.max_body_bytes,
            },
        );
        let listener = tokio::net::TcpListener::bind(config.server.bind)
            .await
            .with_context(|| format!("cannot listen on {}", config.server.bind))?;
        let address = listener.local_addr()?;
        say!("parceld listening on http://{address}");
        tracing::info!(%address, data_dir = %config.server.data_dir.display(), "serving");
        let mut api_stop = stop_rx.clone();
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = api_stop.wait_for(|stop| *stop).await;
            })
            .await?;
    } else {
        say!("parceld worker running (no API on this node)");
        let mut stop = stop_rx.clone();
        let _ = stop.wait_for(|stop| *stop).await;
    }
    if let Some(worker) = worker {
        let _ = worker.await;
    }
    if let Some(dispatcher) = dispatcher {
        let _ = dispatcher.await;
    }
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

/// Builds the configured carrier adapters; a bad `[carriers.*]` table stops the start.
fn carriers(config: &Config) -> anyhow::Result<Carriers> {
    match Carriers::from_settings(&config.carrier_settings()) {
        Ok(carriers) => Ok(carriers),
        Err(error) => {
            eprintln!("parceld: invalid configuration: {error}");
            std::process::exit(2);
        }
    }
}

async fn sim(bind: std::net::SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    let address = listener.local_addr()?;
    say!("parceld simulator listening on http://{address} (carriers under /<courier_code>/, control under /_control/)");
    tokio::select! {
        result = parceld_sim::serve(listener, parceld_sim::Simulator::new()) => result?,
        _ = shutdown_signal() => {}
    }
    Ok(())
}

async fn track(config: &Config, courier: &str, number: &str, raw: bool) -> anyhow::Result<()> {
    let carriers = carriers(config)?;
    let Some(carrier) = carriers.get(courier) else {
        bail!(
            "no adapter is configured for `{courier}`; configured: {} (add a [carriers.{courier}] table, see docs/carriers.md)",
            carriers.codes().join(", ")
        );
    };
    let request = parceld_carriers::TrackRequest {
        created_at: Some(chrono::Utc::now()),
        ..parceld_carriers::TrackRequest::new(number)
    };
    let mut answers = carrier.track(std::slice::from_ref(&request)).await;
    let (_, outcome) = answers.pop().context("the adapter gave no answer")?;
    match outcome {
        Ok(parceld_carriers::TrackResult::NotFound) => {
            say!("{courier} {number}: not found");
        }
        Ok(parceld_carriers::TrackResult::Found(shipment)) => {
            if raw {
                say!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "status": shipment.status.as_str(),
                        "substatus": shipment.substatus.map(|s| s.as_str()),
                        "info": shipment.info,
                        "checkpoints": shipment.checkpoints,
                    }))?
                );
            } else {
                say!(
                    "{courier} {number}: {}{}",
                    shipment.status,
                    shipment
                        .substatus
                        .map(|s| format!(" ({s}: {})", s.description()))
                        .unwrap_or_default()
                );
                for c in &shipment.checkpoints {
                    say!(
                        "  {}  {:<13} {:<15} {}  {}",
                        c.checkpoint_date,
                        c.status.as_str(),
                        c.substatus.map(|s| s.as_str()).unwrap_or(""),
                        c.detail,
                        c.location
                    );
                }
            }
        }
        Err(error) => bail!("{courier} {number}: {error}"),
    }
    Ok(())
}

fn print_candidates(number: &str, candidates: &[parceld_detect::Candidate]) {
    if candidates.is_empty() {
        say!("{number}: no courier's format fits");
        return;
    }
    say!("{number}:");
    for c in candidates {
        say!(
            "  {:<18} {:>4.0}%  {}",
            c.courier.code,
            c.confidence * 100.0,
            c.reason
        );
    }
}

fn detect(numbers: &[String], text: Option<&std::path::Path>) -> anyhow::Result<()> {
    if let Some(path) = text {
        let content = if path == std::path::Path::new("-") {
            std::io::read_to_string(std::io::stdin())?
        } else {
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?
        };
        let found = parceld_detect::find_in_text(&content);
        if found.is_empty() {
            say!("no tracking numbers found");
        }
        for f in found {
            print_candidates(&f.number, &f.candidates);
        }
        return Ok(());
    }
    if numbers.is_empty() {
        bail!("give tracking numbers, or --text FILE");
    }
    let mut any = false;
    for number in numbers {
        let candidates = parceld_detect::detect(number);
        any |= !candidates.is_empty();
        print_candidates(number, &candidates);
    }
    if !any {
        std::process::exit(1);
    }
    Ok(())
}

fn describe_limits(limits: &RateLimits) -> String {
    if limits.is_empty() {
        return "server defaults".to_string();
    }
    LimitClass::ALL
        .iter()
        .filter_map(|c| limits.get(*c).map(|r| format!("{}={r}/s", c.key())))
        .collect::<Vec<_>>()
        .join(" ")
}

fn fmt_time(time: chrono::DateTime<chrono::Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

async fn account(store: &SqliteStore, command: AccountCommand) -> anyhow::Result<()> {
    match command {
        AccountCommand::Create { name } => {
            let name = name.trim();
            if name.is_empty() {
                bail!("the account name must not be empty");
            }
            let account = store.create_account(name).await?;
            say!(
                "created account \"{}\"; give it a key with: parceld key create --account {}",
                account.name,
                account.name
            );
        }
        AccountCommand::List => {
            say!(
                "{:<6} {:<24} {:<9} {:<24} LIMITS",
                "ID",
                "NAME",
                "STATE",
                "CREATED"
            );
            for a in store.accounts().await? {
                let state = if a.disabled { "disabled" } else { "active" };
                say!(
                    "{:<6} {:<24} {:<9} {:<24} {}",
                    a.id,
                    a.name,
                    state,
                    fmt_time(a.created_at),
                    describe_limits(&a.rate_limits)
                );
            }
        }
        AccountCommand::SetLimits { name, limits } => {
            let account = store
                .accounts()
                .await?
                .into_iter()
                .find(|a| a.name == name)
                .with_context(|| {
                    format!("no account named \"{name}\"; `parceld account list` shows them")
                })?;
            let mut overrides = account.rate_limits;
            for item in &limits {
                let (class, rate) = item
                    .split_once('=')
                    .with_context(|| format!("`{item}` is not CLASS=RATE"))?;
                let class = LimitClass::from_key(class.trim()).with_context(|| {
                    format!("`{class}` is not a limit class; use one of v4_create, v4_realtime, v4_other, v2_realtime, v2_list, v2_other")
                })?;
                let rate = match rate.trim() {
                    "default" => None,
                    number => match number.parse::<f64>() {
                        Ok(r) if r > 0.0 && r.is_finite() => Some(r),
                        _ => bail!(
                            "`{number}` is not a rate above 0 (requests per second) or `default`"
                        ),
                    },
                };
                overrides.set(class, rate);
            }
            store.set_account_rate_limits(&name, &overrides).await?;
            say!("account \"{name}\" limits: {}", describe_limits(&overrides));
        }
        AccountCommand::Disable { name } | AccountCommand::Enable { name } if name.is_empty() => {
            bail!("the account name must not be empty")
        }
        AccountCommand::Disable { name } => {
            store.set_account_disabled(&name, true).await?;
            say!("account \"{name}\" is disabled");
        }
        AccountCommand::Enable { name } => {
            store.set_account_disabled(&name, false).await?;
            say!("account \"{name}\" is enabled");
        }
    }
    Ok(())
}

async fn key(store: &SqliteStore, command: KeyCommand) -> anyhow::Result<()> {
    match command {
        KeyCommand::Create { account } => match store.create_api_key(&account).await {
            Ok(new) => say!(
                "created key {} for account \"{}\" (shown only this once, keep it):\n\n    {}",
                new.info.id,
                new.info.account_name,
                new.key
            ),
            Err(StoreError::NotFound(Entity::Account)) => {
                bail!("no account named \"{account}\"; `parceld account list` shows them")
            }
            Err(other) => return Err(other.into()),
        },
        KeyCommand::List => {
            say!("{:<22} {:<20} {:<24} STATE", "KEY ID", "ACCOUNT", "CREATED");
            for k in store.api_keys().await? {
                let state = match k.deleted_at {
                    Some(at) => format!("deleted {}", fmt_time(at)),
                    None => "active".to_string(),
                };
                say!(
                    "{:<22} {:<20} {:<24} {}",
                    k.id,
                    k.account_name,
                    fmt_time(k.created_at),
                    state
                );
            }
        }
        KeyCommand::Delete { key_id } => {
            if store.delete_api_key(&key_id).await? {
                say!("deleted key {key_id}; requests with it now get \"API key has been deleted\"");
            } else {
                bail!("no active key with id {key_id}; `parceld key list` shows them");
            }
        }
    }
    Ok(())
}

async fn account_named(store: &SqliteStore, name: &str) -> anyhow::Result<parceld_store::Account> {
    store
        .accounts()
        .await?
        .into_iter()
        .find(|a| a.name == name)
        .with_context(|| format!("no account named \"{name}\"; `parceld account list` shows them"))
}

fn print_webhook(w: &parceld_store::WebhookEndpoint, account: &str) {
    let statuses = if w.statuses.is_empty() {
        "all".to_string()
    } else {
        w.statuses
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    let state = match (w.enabled, &w.disabled_reason) {
        (true, _) => "enabled".to_string(),
        (false, Some(reason)) => format!("disabled: {reason}"),
        (false, None) => "disabled".to_string(),
    };
    say!(
        "{:<28} {:<16} {:<3} {:<40} {:<24} {}",
        w.id,
        account,
        w.version.as_str(),
        w.url,
        statuses,
        state
    );
}

async fn webhook(
    store: &SqliteStore,
    config: &Config,
    command: WebhookCommand,
) -> anyhow::Result<()> {
    let policy = AddressPolicy::new(
        config
            .webhooks
            .allowed_networks()
            .map_err(|e| anyhow::anyhow!(e))?,
    );
    let missing = |id: &str| anyhow::anyhow!("no webhook {id}; `parceld webhook list` shows them");
    match command {
        WebhookCommand::Create {
            account,
            url,
            description,
            statuses,
            version,
        } => {
            let account = account_named(store, &account).await?;
            let url = check_url(&url, &policy).map_err(|e| anyhow::anyhow!("{e}"))?;
            let statuses =
                parceld_api::v4::webhooks::parse_statuses(&serde_json::Value::String(statuses))
                    .map_err(|e| anyhow::anyhow!("{}", e.detail))?;
            let version = WebhookVersion::parse(&version)
                .with_context(|| format!("--version must be v4 or v2, not `{version}`"))?;
            let new = NewWebhook {
                url: url.to_string(),
                description,
                statuses,
                version,
                enabled: true,
                secret: signing::generate_secret(),
            };
            match store
                .create_webhook(account.id, &new, config.webhooks.max_per_account)
                .await?
            {
                CreateWebhook::Created(w) => say!(
                    "created webhook {} for account \"{}\"; its signing secret:\n\n    {}",
                    w.id, account.name, w.secret
                ),
                CreateWebhook::LimitReached { max } => bail!(
                    "account \"{}\" already has {max} webhooks (webhooks.max_per_account); delete one first",
                    account.name
                ),
            }
        }
        WebhookCommand::List { account } => {
            let accounts = store.accounts().await?;
            let filter = match account {
                Some(name) => Some(account_named(store, &name).await?.id),
                None => None,
            };
            say!(
                "{:<28} {:<16} {:<3} {:<40} {:<24} STATE",
                "WEBHOOK ID",
                "ACCOUNT",
                "VER",
                "URL",
                "STATUSES"
            );
            for w in store.webhooks(filter).await? {
                let name = accounts
                    .iter()
                    .find(|a| a.id == w.account_id)
                    .map(|a| a.name.as_str())
                    .unwrap_or("?");
                print_webhook(&w, name);
            }
        }
        WebhookCommand::Delete { id } => {
            store
                .delete_webhook(None, &id)
                .await?
                .ok_or_else(|| missing(&id))?;
            say!("deleted webhook {id} with its deliveries");
        }
        WebhookCommand::Enable { id } => {
            let patch = WebhookPatch {
                enabled: Some(true),
                ..WebhookPatch::default()
            };
            store
                .update_webhook(None, &id, &patch)
                .await?
                .ok_or_else(|| missing(&id))?;
            say!("webhook {id} is enabled");
        }
        WebhookCommand::Disable { id } => {
            let patch = WebhookPatch {
                enabled: Some(false),
                ..WebhookPatch::default()
            };
            store
                .update_webhook(None, &id, &patch)
                .await?
                .ok_or_else(|| missing(&id))?;
            say!("webhook {id} is disabled");
        }
        WebhookCommand::RotateSecret { id } => {
            let patch = WebhookPatch {
                secret: Some(signing::generate_secret()),
                ..WebhookPatch::default()
            };
            let w = store
                .update_webhook(None, &id, &patch)
                .await?
                .ok_or_else(|| missing(&id))?;
            say!("webhook {id} has a new signing secret:\n\n    {}", w.secret);
        }
    }
    Ok(())
}
