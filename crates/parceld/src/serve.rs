//! `parceld serve` and `parceld sim`: the long-running servers, their wiring and shutdown.
//!
//! Serve opens the store, starts the refresh worker and the webhook dispatcher on worker nodes,
//! and the HTTP API on API nodes, and on SIGINT/SIGTERM lets in-flight work finish within
//! `server.shutdown_grace_seconds`.
//!
//! The order of the start matters to an operator: first the serving lock of the database (a
//! second `serve` on the same SQLite file stops here), then the listening port (a port already in
//! use stops here), and only then the database, the first key and the workers, so a start that
//! cannot serve changes nothing and says why at once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use parceld_api::{ApiSettings, AppState};
use parceld_carriers::Carriers;
use parceld_engine::webhooks::{Dispatcher, WebhookSender};
use parceld_engine::Engine;
use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};
use crate::database::{lock_for_serving, open_store, Database, OpenMode};
use crate::retention;
use tokio::net::TcpListener;

fn init_logging(config: &Config) {
    let filter = EnvFilter::new(&config.log.level);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour_on_stderr())
        .with_writer(std::io::stderr);
    match config.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// Colour codes only for a person at a terminal: never in a file, a pipe or a journal, and
/// never when `NO_COLOR` is set to anything but the empty string (<https://no-color.org>).
fn colour_on_stderr() -> bool {
    colour_wanted(
        std::env::var_os("NO_COLOR").as_deref(),
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
    )
}

fn colour_wanted(no_color: Option<&std::ffi::OsStr>, stderr_is_terminal: bool) -> bool {
    let no_color = no_color.is_some_and(|value| !value.is_empty());
    stderr_is_terminal && !no_color
}

/// Binds the API's port, or fails with a message saying what to do.
async fn listen(bind: SocketAddr) -> anyhow::Result<TcpListener> {
    match TcpListener::bind(bind).await {
        Ok(listener) => Ok(listener),
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => bail!(
            "cannot listen on {bind}: the address is already in use (another parceld, or \
             another program, is listening there); stop it or choose another address with \
             --bind or server.bind"
        ),
        Err(error) => Err(error).with_context(|| format!("cannot listen on {bind}")),
    }
}

pub async fn serve(mut config: Config, bind: Option<SocketAddr>) -> anyhow::Result<()> {
    if let Some(bind) = bind {
        config.server.bind = bind;
    }
    init_logging(&config);
    let carriers = carriers(&config)?;
    let upstream_push = crate::push::upstream_sources_checked(&config, &carriers);
    let database = Database::of(&config);
    let _serve_lock = lock_for_serving(&database.url)?;
    let shown = database.shown();
    let listener = if config.server.api {
        Some(listen(config.server.bind).await?)
    } else {
        None
    };
    let store = open_store(&database, OpenMode::Create).await?;
    if let Some(first) = store.bootstrap(&config.server.default_account).await? {
        say!(
            "Created account \"{}\" with its first API key (shown only this once, keep it):\n\n    {}\n\nSend it in the Tracking-Api-Key header. Create another key with\n`parceld key create --account {}` (and another account with `parceld account create NAME`).",
            first.info.account_name, first.key, first.info.account_name
        );
        crate::users::first_admin(store.as_ref(), &first.info, &config.dashboard).await?;
    }
    let engine = Engine::new(store.clone(), carriers, config.engine.clone());
    if parceld_store_postgres::is_postgres_url(&database.url) {
        config.push.batches_at_once = 2;
    }
    let (push, engine) = crate::push::hub(&store, &config, engine, upstream_push)?;
    let engine = Arc::new(engine);
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
        let dispatcher = WebhookSender::new(
            store.clone(),
            config.webhooks.clone(),
            parceld_api::webhook_payload::RENDERER,
        )
        .and_then(Dispatcher::new)
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        tracing::info!("webhook dispatcher started");
        Some(tokio::spawn(Arc::new(dispatcher).run(stop_rx.clone())))
    } else {
        None
    };
    let subscriber = config
        .server
        .worker
        .then(|| crate::push::spawn_subscriber(store.clone(), &config, stop_rx.clone()))
        .flatten();
    // So does the notification dispatcher, when enabled.
    let notifier = (config.server.worker && config.notifications.enabled).then(|| {
        let notifier = parceld_notify::Dispatcher::new(store.clone(), config.notifications.clone());
        tracing::info!("notification dispatcher started");
        tokio::spawn(Arc::new(notifier).run(stop_rx.clone()))
    });
    // Retention runs wherever the refresh does, and only when configured.
    let retention = config
        .server
        .worker
        .then(|| retention::spawn(store.clone(), config.retention.clone(), stop_rx.clone()))
        .flatten();
    if let Some(listener) = listener {
        let mut faces = if config.tracking_page.enabled {
            parceld_web::router(store.clone(), &config.tracking_page)
        } else {
            axum::Router::new()
        };
        if config.dashboard.enabled {
            let trackings = parceld_service::TrackingService::new(store.clone(), engine.clone());
            faces = faces.merge(parceld_dashboard::router(
                store.clone(),
                trackings,
                &config.dashboard,
            ));
        }
        // The unsubscribe links of notifications keep working wherever the API is served.
        let secret = config.notifications.unsubscribe_secret.as_bytes();
        if !secret.is_empty() {
            faces = faces.merge(parceld_notify::unsubscribe::router(store.clone(), secret));
        }
        let state = AppState::new(store, config.rate_limits, engine)
            .with_webhooks(config.webhooks.clone())
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?
            .with_extensions(push, crate::push::air_cargo(&config)?);
        let app = parceld_api::router_with(
            state,
            &ApiSettings {
                max_body_bytes: config.server.max_body_bytes,
            },
            faces,
        );
        let address = listener.local_addr()?;
        say!("parceld listening on http://{address}");
        tracing::info!(%address, database = %shown, "serving");
        let mut api_stop = stop_rx.clone();
        // The tracking page limits requests per client address, so it needs the peer's.
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = api_stop.wait_for(|stop| *stop).await;
        })
        .await?;
    } else {
        say!("parceld worker running (no API on this node)");
        tracing::info!(database = %shown, "working");
        let mut stop = stop_rx.clone();
        let _ = stop.wait_for(|stop| *stop).await;
    }
    if let Some(worker) = worker {
        let _ = worker.await;
    }
    if let Some(dispatcher) = dispatcher {
        let _ = dispatcher.await;
    }
    if let Some(notifier) = notifier {
        let _ = notifier.await;
    }
    if let Some(retention) = retention {
        let _ = retention.await;
    }
    if let Some(subscriber) = subscriber {
        let _ = subscriber.await;
    }
    tracing::info!("stopped");
    Ok(())
}

pub async fn shutdown_signal() {
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

/// Builds the configured carrier adapters and upstreams; a bad `[carriers.*]` or `[upstreams.*]`
/// table stops the start.
pub fn carriers(config: &Config) -> anyhow::Result<Carriers> {
    match Carriers::from_config(&config.carrier_settings(), &config.upstreams) {
        Ok(carriers) => Ok(carriers),
        Err(error) => {
            eprintln!("parceld: invalid configuration: {error}");
            std::process::exit(2);
        }
    }
}

pub async fn sim(bind: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    let address = listener.local_addr()?;
    say!("parceld simulator listening on http://{address} (carriers under /<courier_code>/, an SMS provider under /twilio/, control under /_control/)");
    tokio::select! {
        result = parceld_sim::serve(listener, parceld_sim::Simulator::new()) => result?,
        _ = shutdown_signal() => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_and_never_with_no_color() {
        use std::ffi::OsStr;
        assert!(colour_wanted(None, true));
        assert!(!colour_wanted(None, false));
        assert!(!colour_wanted(Some(OsStr::new("1")), true));
        assert!(!colour_wanted(Some(OsStr::new("1")), false));
        // An empty NO_COLOR does not count (no-color.org).
        assert!(colour_wanted(Some(OsStr::new("")), true));
    }
}
