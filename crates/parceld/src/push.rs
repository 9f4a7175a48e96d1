//! The wiring of carrier push and air cargo for `parceld serve`: the push hub of the enabled
//! sources, the UPS Track Alert subscriber on worker nodes, and the air-cargo upstream. A bad
//! `[push]` or `[air_cargo]` table stops the start with what to fix.

use std::sync::Arc;

use anyhow::anyhow;
use parceld_carriers::air_cargo::AirCargo;
use parceld_carriers::ups_alert::TrackAlert;
use parceld_engine::push::{subscribe, PushHub};
use parceld_store::Store;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;

/// The push hub, when any source is enabled.
pub fn hub(store: &Arc<dyn Store>, config: &Config) -> anyhow::Result<Option<Arc<PushHub>>> {
    if !config.push.sources.values().any(|s| s.enabled) {
        return Ok(None);
    }
    let hub = PushHub::from_settings(store.clone(), &config.push, &config.engine)
        .map_err(|e| anyhow!("invalid configuration: {e}"))?;
    Ok(Some(Arc::new(hub)))
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
