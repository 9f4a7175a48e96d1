//! The wiring of push and air cargo for `parceld serve`: the push hub of the enabled carrier
//! sources and of the upstreams with `push = true`, which couriers are pushed wholesale, the UPS
//! Track Alert subscriber on worker nodes, and the air-cargo upstream. A bad `[push]`,
//! `[upstreams.<name>]` or `[air_cargo]` table stops the start with what to fix.

use std::collections::HashSet;
use std::sync::Arc;

use anyhow::anyhow;
use parceld_carriers::air_cargo::AirCargo;
use parceld_carriers::ups_alert::TrackAlert;
use parceld_carriers::Carriers;
use parceld_engine::push::upstream::{Upstream, UpstreamPush};
use parceld_engine::push::{pushed_wholesale, subscribe, PushHub, PushSource};
use parceld_engine::Engine;
use parceld_store::Store;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;

/// The push sources of the upstreams with `push = true`, checked with `[push]` before serve
/// touches the database: a push that could not be verified or a source without its secret stops
/// the start (exit code 2) naming the table to fix.
pub fn upstream_sources_checked(config: &Config, carriers: &Carriers) -> Vec<Arc<dyn PushSource>> {
    match config
        .push
        .validate()
        .and_then(|()| upstream_sources(config, carriers))
    {
        Ok(sources) => sources,
        Err(message) => {
            eprintln!("parceld: invalid configuration: {message}");
            std::process::exit(2);
        }
    }
}

/// The push hub, when any source is enabled (`upstreams`: from [`upstream_sources_checked`]),
/// and `engine` polling what it covers as a safety net only.
pub fn hub(
    store: &Arc<dyn Store>,
    config: &Config,
    engine: Engine,
    upstreams: Vec<Arc<dyn PushSource>>,
) -> anyhow::Result<(Option<Arc<PushHub>>, Engine)> {
    if upstreams.is_empty() && !config.push.sources.values().any(|s| s.enabled) {
        return Ok((None, engine));
    }
    let names: Vec<&str> = upstreams.iter().map(|s| s.name()).collect();
    let wholesale = pushed_wholesale(&config.push, engine.carriers(), &names);
    let hub = PushHub::from_settings(store.clone(), &config.push, &config.engine, upstreams)
        .map_err(|e| anyhow!("invalid configuration: {e}"))?;
    Ok((
        Some(Arc::new(hub)),
        engine.with_push(&config.push, wholesale),
    ))
}

/// The push sources of the upstreams whose `[upstreams.<name>]` sets `push = true`, each
/// covering the couriers routed through it.
fn upstream_sources(
    config: &Config,
    carriers: &Carriers,
) -> Result<Vec<Arc<dyn PushSource>>, String> {
    let mut sources: Vec<Arc<dyn PushSource>> = Vec::new();
    for (name, settings) in config.upstreams.iter().filter(|(_, s)| s.push()) {
        let routed: HashSet<String> = carriers
            .codes()
            .into_iter()
            .filter(|code| carriers.upstream_of(code) == Some(name.as_str()))
            .collect();
        match name.as_str() {
            "17track" => {
                let key = settings.push_secret(true).ok_or_else(|| {
                    String::from("[upstreams.17track] push = true needs api_key or webhook_secret (the security key)")
                })?;
                sources.push(Arc::new(UpstreamPush::new(
                    Upstream::SeventeenTrack,
                    key,
                    routed,
                )));
            }
            "aftership" => {
                let secret = settings.push_secret(false).ok_or_else(|| {
                    String::from("[upstreams.aftership] push = true needs webhook_secret (AfterShip: Settings › Webhooks)")
                })?;
                sources.push(Arc::new(UpstreamPush::new(Upstream::AfterShip, secret, routed)));
            }
            // trackingmore-api.md §1.14: the v4 webhook signature is documented two ways (a
            // base64 HMAC of the body in prose, a hex HMAC of a timestamp in the sample) and its
            // header is not named, so a TrackingMore push cannot be verified.
            other => return Err(format!(
                "[upstreams.{other}] push = true: {other} publishes no webhook signature parceld can verify; its trackings are polled (remove `push`)"
            )),
        }
    }
    Ok(sources)
}

/// Starts the UPS Track Alert subscriber when `[push.sources.ups]` asks for subscriptions; it
/// needs `[carriers.ups]` for UPS's credentials.
pub fn spawn_subscriber(
    store: Arc<dyn Store>,
    config: &Config,
    stop: watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    config.push.enabled("ups").filter(|s| s.subscribe)?;
    let Some(settings) = config.carrier_settings().get("ups").cloned() else {
        tracing::error!("[push.sources.ups] subscribe = true needs [carriers.ups] (UPS's OAuth credentials); not subscribing");
        return None;
    };
    match TrackAlert::new(&settings) {
        Ok(alert) => {
            tracing::info!("UPS Track Alert subscriber started");
            Some(tokio::spawn(subscribe::run_ups(
                store,
                alert,
                config.push.clone(),
                stop,
            )))
        }
        Err(error) => {
            tracing::error!(%error, "UPS Track Alert cannot start; not subscribing");
            None
        }
    }
}

/// The air-cargo upstream, when `[air_cargo]` names one.
pub fn air_cargo(config: &Config) -> anyhow::Result<Option<AirCargo>> {
    AirCargo::from_settings(&config.air_cargo).map_err(|e| anyhow!("invalid configuration: {e}"))
}
