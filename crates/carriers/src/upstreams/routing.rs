//! Which courier codes go through which upstream: the explicitly named ones first (an operator
//! naming `ups` under `[upstreams.aftership]` means it, even with a UPS adapter configured), then,
//! for an upstream with `couriers = ["*"]`, every courier of the registry this server has no
//! adapter of its own configured for. With two `*` upstreams, the first by name takes them.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Routed, Upstream, UpstreamSettings};
use crate::{Carrier, ConfigError};

/// Adds the routed couriers to `by_code` (and their rates to `rates`); returns the upstreams.
pub(crate) fn route(
    settings: &HashMap<String, UpstreamSettings>,
    by_code: &mut HashMap<String, Arc<dyn Carrier>>,
    rates: &mut HashMap<String, f64>,
) -> Result<Vec<Arc<Upstream>>, ConfigError> {
    let mut names: Vec<&String> = settings.keys().collect();
    names.sort();
    let mut built = Vec::new();
    for name in names {
        let s = &settings[name];
        let upstream = Upstream::from_settings(name, s)?;
        for code in s.couriers.iter().filter(|c| c.as_str() != "*") {
            if parceld_detect::courier(code).is_none() {
                return Err(ConfigError::UpstreamInvalid {
                    upstream: upstream.kind().name(),
                    message: format!("`{code}` in couriers is not a courier code parceld knows (GET /v4/couriers/all lists them)"),
                });
            }
        }
        built.push((upstream, s));
    }
    let own: Vec<String> = by_code.keys().cloned().collect();
    let mut add = |code: &str, upstream: &Arc<Upstream>, by_code: &mut HashMap<_, _>| {
        let routed: Arc<dyn Carrier> = Arc::new(Routed {
            upstream: upstream.clone(),
            courier: code.to_string(),
        });
        rates.insert(code.to_string(), routed.default_rate());
        by_code.insert(code.to_string(), routed);
    };
    for (upstream, s) in &built {
        for code in s.couriers.iter().filter(|c| c.as_str() != "*") {
            add(code, upstream, by_code);
        }
    }
    for (upstream, s) in &built {
        if !s.routes_all() {
            continue;
        }
        for courier in parceld_detect::couriers() {
            let code = courier.code;
            if code != "sandbox" && !by_code.contains_key(code) && !own.iter().any(|o| o == code) {
                add(code, upstream, by_code);
            }
        }
    }
    Ok(built.into_iter().map(|(u, _)| u).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CarrierSettings, Carriers};

    fn upstream(couriers: &[&str]) -> UpstreamSettings {
        UpstreamSettings {
            api_key: Some(crate::upstreams::settings::ApiKey("k".into())),
            couriers: couriers.iter().map(|c| c.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn named_couriers_and_the_rest_go_through_their_upstreams() {
        let mut carriers = HashMap::new();
        carriers.insert(
            "ups".to_string(),
            CarrierSettings::simulated("http://127.0.0.1:1/ups".into()),
        );
        let mut upstreams = HashMap::new();
        upstreams.insert("aftership".to_string(), upstream(&["yanwen"]));
        upstreams.insert("17track".to_string(), upstream(&["*"]));
        let routed = Carriers::from_config(&carriers, &upstreams).unwrap();
        assert_eq!(routed.upstream_of("yanwen"), Some("aftership"));
        assert_eq!(routed.upstream_of("4px"), Some("17track"));
        assert_eq!(
            routed.upstream_of("ups"),
            None,
            "its own adapter is configured"
        );
        assert_eq!(routed.upstream_of("sandbox"), None);
        assert!(routed.codes().len() > 500, "{}", routed.codes().len());
        assert_eq!(routed.upstream_reports().len(), 2);
    }

    #[test]
    fn unknown_upstreams_codes_and_missing_keys_are_refused() {
        let refused = |name: &str, s: UpstreamSettings| {
            let mut upstreams = HashMap::new();
            upstreams.insert(name.to_string(), s);
            Carriers::from_config(&HashMap::new(), &upstreams)
                .unwrap_err()
                .to_string()
        };
        assert!(refused("ship24", upstream(&["*"])).contains("[upstreams.ship24]"));
        assert!(refused("17track", upstream(&["no-such-courier"])).contains("no-such-courier"));
        let keyless = UpstreamSettings {
            couriers: vec!["*".into()],
            ..Default::default()
        };
        assert!(refused("trackingmore", keyless).contains("`api_key` is required"));
    }
}
