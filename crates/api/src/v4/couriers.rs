//! `GET /v4/couriers/all` (the courier registry) and `POST /v4/couriers/detect` (which
//! couriers a number may belong to).

use parceld_service::validate;

use super::wire::{CourierView, DetectRequest, DetectedCourierView, Envelope};
use super::{ok, ApiResult};
use crate::extract::{parse_json, RawBody};
use crate::ClassedRoutes;

route! {
    /// List every courier parceld knows: TrackingMore's codes, each with how this server reaches
    /// it (its own adapter or an aggregator upstream), whether it is configured, whether its
    /// changes come by push or by poll, and its recent health.
    get "/v4/couriers/all" "listCouriers",
    responses(200 "All couriers" => Envelope<Vec<CourierView>>),
    async fn all(state, _) -> ApiResult<Vec<CourierView>> {
        let carriers = state.engine.carriers();
        let reports = carriers.upstream_reports();
        let configured = |courier: &parceld_detect::Courier| CourierView {
            configured: state.engine.can_track(courier.code),
            upstream: carriers.upstream_of(courier.code).map(str::to_string),
            updates: super::reach::updates(state.push.as_deref(), courier.code),
            upstream_quota: super::reach::upstream_quota(carriers, &reports, courier.code),
            health: carriers.health(courier.code).map(Into::into),
            ..CourierView::from(courier)
        };
        ok(parceld_detect::couriers().iter().map(configured).collect())
    }
}

route! {
    /// Which couriers a tracking number may belong to, best first (empty when none fits).
    post "/v4/couriers/detect" "detectCourier", body DetectRequest,
    responses(200 "Candidate couriers, best first" => Envelope<Vec<DetectedCourierView>>, 400 "4110, 4111, 4130 or 400"),
    async fn detect(_, _, RawBody(body): RawBody) -> ApiResult<Vec<DetectedCourierView>> {
        let request: DetectRequest = parse_json(&body)?;
        let number = validate::tracking_number(request.tracking_number.as_deref())?;
        let candidates = parceld_detect::detect(number.as_str());
        ok(candidates.iter().map(DetectedCourierView::from).collect())
    }
}

/// This module's routes, all in the v4 "other" rate-limit class.
pub fn routes() -> ClassedRoutes {
    classed_routes!(V4Other: (all) (detect))
}
