//! TrackingMore's air waybill route, `POST /v4/awb` (`{"awb_number"}` behind
//! `Tracking-Api-Key`), as an air-cargo upstream answers it: the waybill's status, route and
//! airline, in TrackingMore's envelope.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{header_text, Door};

/// The air waybill endpoint.
pub(super) const AWB: Door = Door::counted("trackingmore", "/v4/awb");

pub(super) async fn awb(headers: HeaderMap, body: String) -> Response {
    let key = header_text(
        &headers,
        axum::http::HeaderName::from_static("tracking-api-key"),
    );
    if key.unwrap_or("").is_empty() {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"meta": {"code": 401, "message": "Authentication failed or has no permission. Please check and ensure your API Key is correct."}, "data": []})),
        )
            .into_response();
    }
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let Some(number) = request["awb_number"].as_str() else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"meta": {"code": 4160, "message": "The awb_number is required or invaild format."}, "data": []})),
        )
            .into_response();
    };
    Json(json!({"meta": {"code": 200, "message": "Request response is successful"}, "data": {
        "awb_number": number, "awb_status": "transit", "awb_substatus": "transit001",
        "status_number": 2, "weight": "120.5", "piece": "3",
        "origin": "IST", "destination": "AMS", "flight_way_station": ["IST", "AMS"],
        "last_event": "Departed IST on TK1951",
        "flight_info_new": [{"flight_number": "TK1951", "depart_station": "IST", "arrival_station": "AMS",
            "plan_depart_time": "2024-05-01 08:10", "depart_time": "2024-05-01 08:25",
            "plan_arrival_time": "2024-05-01 10:40", "arrival_time": "", "piece": "3", "weight": "120.5", "status": "DEP"}],
        "track_info": [{"plan_date": "2024-05-01 08:10", "actual_date": "2024-05-01 08:25", "event": "Departed",
            "station": "IST", "flight_number": "TK1951", "status": "DEP", "piece": "3", "weight": "120.5",
            "checkpoint_status": "transit", "checkpoint_substatus": "transit001"}],
        "airline_info": {"name": "Turkish Cargo", "url": "https://www.turkishcargo.com", "track_url": "", "trackpage_url": ""}
    }}))
    .into_response()
}
