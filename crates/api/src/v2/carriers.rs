//! `GET /v2/carriers` (the courier registry) and `POST /v2/carriers/detect`.

use parceld_service::validate;

use super::wire::{V2Carrier, V2DetectRequest, V2DetectedCarrier, V2Envelope};
use super::{ok, parse_object, V2Body, V2Result};
use crate::error::{V2Code, V2Error};
use crate::ClassedRoutes;

route! {
    /// List every courier parceld knows (v2), each saying whether this server learns of its
    /// changes by push or by poll.
    get "/v2/carriers" "v2_all",
    responses(200 "All couriers" => V2Envelope<Vec<V2Carrier>>),
    async fn all(state, _) -> V2Result<Vec<V2Carrier>> {
        let couriers = parceld_detect::couriers();
        let mut carriers: Vec<V2Carrier> = couriers.iter().map(V2Carrier::from).collect();
        for (carrier, courier) in carriers.iter_mut().zip(couriers) {
            carrier.updates = crate::v4::reach::updates(state.push.as_deref(), courier.code);
        }
        ok(carriers)
    }
}

route! {
    /// Which couriers a tracking number may belong to, best first (v2).
    post "/v2/carriers/detect" "v2_detect", body V2DetectRequest,
    responses(200 "Candidate couriers, best first" => V2Envelope<Vec<V2DetectedCarrier>>, 400 "4012, 4013, 4014, 4015 (body not JSON) or 4032 (no courier fits)"),
    async fn detect(_, _, V2Body(body): V2Body) -> V2Result<Vec<V2DetectedCarrier>> {
        let request: V2DetectRequest = parse_object(&body, "Detect takes one number")?;
        let number = validate::tracking_number(request.tracking_number.as_deref())?;
        let candidates = parceld_detect::detect(number.as_str());
        if candidates.is_empty() {
            return Err(V2Error::new(
                V2Code::CannotDetectCourier,
                format!("`{number}` matches no courier's number format; GET /v2/carriers lists the codes."),
            ));
        }
        let carrier = |c: &parceld_detect::Candidate| V2DetectedCarrier {
            name: c.courier.name.to_string(),
            code: c.courier.code.to_string(),
        };
        ok(candidates.iter().map(carrier).collect())
    }
}

/// This module's routes, all in the v2 "other" rate-limit class.
pub fn routes() -> ClassedRoutes {
    classed_routes!(V2Other: (all) (detect))
}
