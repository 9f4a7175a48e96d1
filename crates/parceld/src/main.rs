//! The parceld binary: the server and its administration commands.
//!
//! One binary does everything so an operator installs one file: `serve` runs the API, `migrate`
//! brings the database schema up to date, `db copy` moves a whole database to another, `account` and `key` manage tenants and their API keys,
//! and `openapi` prints the API's OpenAPI document.
//!
//! This file only reads the configuration and dispatches: the command line is `cli.rs`, the
//! servers `serve.rs`, the database commands `admin.rs`, the number look-ups `lookup.rs`, and
//! which backend a database URL opens `database.rs`.

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

mod admin;
mod bench;
mod cli;
mod config;
mod database;
mod dbcopy;
mod import;
mod lookup;
mod notifications;
mod page;
mod push;
mod retention;
mod serve;
mod users;

use anyhow::bail;
use clap::Parser;

use crate::cli::{Cli, Command};
use crate::config::Config;
use crate::database::{
    open_existing_store, open_existing_store_for_import, open_store, Database, OpenMode,
};

/// A 2000-tracking page allocates and frees hundreds of thousands of small strings; with glibc's
/// allocator, allocation was about 30 % of such a request in `perf` (see docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match &cli.command {
        Command::Openapi => {
            say!("{}", parceld_api::openapi::document().trim_end());
            return Ok(());
        }
        Command::Detect { numbers, text } => return lookup::detect(numbers, text.as_deref()),
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
    if let Some(url) = cli.database_url {
        config.database.url = Some(url);
        if let Err(message) = config.validate_database() {
            eprintln!("parceld: invalid configuration: {message}");
            std::process::exit(2);
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(cli.command, config))
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { bind } => serve::serve(config, bind).await,
        Command::Migrate => {
            let database = Database::of(&config);
            admin::migrate(
                open_store(&database, OpenMode::Create).await?.as_ref(),
                &database.shown(),
            )
            .await
        }
        Command::Account { command } => {
            admin::account(
                open_existing_store(&Database::of(&config)).await?.as_ref(),
                command,
            )
            .await
        }
        Command::Key { command } => {
            admin::key(
                open_existing_store(&Database::of(&config)).await?.as_ref(),
                command,
            )
            .await
        }
        Command::User { command } => {
            let store = open_existing_store(&Database::of(&config)).await?;
            users::user(store.as_ref(), command).await
        }
        Command::Webhook { command } => {
            let store = open_existing_store(&Database::of(&config)).await?;
            admin::webhook(store.as_ref(), &config, command).await
        }
        Command::Page { command } => {
            let store = open_existing_store(&Database::of(&config)).await?;
            page::page(store.as_ref(), command).await
        }
        Command::Notifications { command } => {
            let store = open_existing_store(&Database::of(&config)).await?;
            notifications::notifications(store.as_ref(), command).await
        }
        Command::Backup { file } => database::backup(&config.database_url(), &file),
        Command::Restore { file } => database::restore(&config.database_url(), &file),
        Command::Sim { bind } => serve::sim(bind).await,
        Command::Db {
            command: cli::DbCommand::Copy { from, to, batch },
        } => {
            let max_connections = config.database.max_connections;
            let open = |url: String, mode: OpenMode| async move {
                let database = Database {
                    url,
                    max_connections,
                };
                let store = open_store(&database, mode).await?;
                anyhow::Ok((store, database.shown()))
            };
            let (source, from_shown) = open(from, OpenMode::MustExist).await?;
            let (destination, to_shown) = open(to, OpenMode::Create).await?;
            eprintln!("parceld: copying {from_shown} into {to_shown}");
            let report = dbcopy::copy(source, destination, batch).await?;
            let total: u64 = report.rows.iter().map(|(_, rows)| rows).sum();
            say!(
                "copied {from_shown} into {to_shown}: {} rows written by this run{} in {:.1} s \
                 ({:.0} rows/s), {total} rows in all",
                report.copied,
                if report.resumed { " (resumed)" } else { "" },
                report.seconds,
                report.copied as f64 / report.seconds.max(1e-9)
            );
            Ok(())
        }
        Command::Bench {
            seconds,
            trackings,
            refresh_trackings,
            quick,
            only,
            json,
            keep,
            soak,
            database,
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
            options.soak = soak;
            options.database = database;
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
            let store = open_existing_store_for_import(&Database::of(&config)).await?;
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
            // The import creates through the same service as the API, so a tracking of a courier
            // this configuration has no credentials for says so, as it would there.
            let engine = parceld_engine::Engine::new(
                store.clone(),
                serve::carriers(&config)?,
                config.engine.clone(),
            );
            let trackings =
                parceld_service::TrackingService::new(store, std::sync::Arc::new(engine));
            let started = std::time::Instant::now();
            let summary = import::run(&trackings, found.id, &options).await?;
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
            for (reason, count) in &summary.unfetchable {
                say!("{count} of the created trackings cannot be fetched yet: {reason}");
            }
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
        } => lookup::track(&config, &courier, &number, raw).await,
        Command::Openapi | Command::Detect { .. } => {
            unreachable!("handled before the runtime starts")
        }
    }
}
