//! The carriers' wire protocols: routes, token endpoints, payloads and error shapes.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{Duration, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::journey::{offset_hours, EventKind, Place, SimEvent};
use crate::{Fault, Faults, Simulator};

pub(crate) fn router(sim: Simulator) -> Router {
    Router::new()
        // UPS
        .route("/ups/security/v1/oauth/token", post(ups_token))
        .route("/ups/api/track/v1/details/{number}", get(ups_track))
        // FedEx
        .route("/fedex/oauth/token", post(fedex_token))
        .route("/fedex/track/v1/trackingnumbers", post(fedex_track))
        // USPS
        .route("/usps/oauth2/v3/token", post(usps_token))
        .route("/usps/tracking/v3/tracking/{number}", get(usps_track))
        .route("/usps/tracking/v3r2/tracking", post(usps_track_v3r2))
        // DHL
        .route("/dhl/track/shipments", get(dhl_track))
        // PostNL
        .route(
            "/postnl-3s/shipment/v2/status/barcode/{barcode}",
            get(postnl_track),
        )
        // Canada Post
        .route(
            "/canada-post/vis/track/pin/{pin}/detail",
            get(canadapost_track),
        )
        // control
        .route("/_control/numbers/{number}", put(control_script))
        .route("/_control/clock/advance", post(control_advance))
        .route(
            "/_control/faults",
            put(control_faults).delete(control_clear_faults),
        )
        .route("/_control/tokens/revoke", post(control_revoke))
        .route("/_control/counters", get(control_counters))
        .route("/_control/reset", post(control_reset))
        .with_state(sim)
}

// ---------------------------------------------------------------------------------------------
// Shared: counting, faults, tokens, times.

/// Counts the request and applies faults; `Err` carries the fault's response.
async fn gate(
    sim: &Simulator,
    carrier: &str,
    path: &str,
    malformed: &'static str,
) -> Result<(), Response> {
    sim.count(carrier, path);
    let (fault, latency) = sim.roll(carrier);
    if let Some(latency) = latency {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Fault::None => Ok(()),
        Fault::ServerError => Err((
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": "simulated outage", "status": 503})),
        )
            .into_response()),
        Fault::RateLimited(secs) => Err((
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, secs.to_string())],
            Json(json!({"error": "Too Many Requests", "status": 429})),
        )
            .into_response()),
        Fault::Hang(ms) => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            Err(StatusCode::GATEWAY_TIMEOUT.into_response())
        }
        Fault::Malformed => Err((
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            malformed,
        )
            .into_response()),
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

fn authorized(sim: &Simulator, headers: &HeaderMap) -> bool {
    bearer(headers).is_some_and(|t| sim.token_valid(t))
}

/// An event's local wall-clock time and offset (hours) at its place.
fn local(event: &SimEvent, place: &Place) -> (chrono::NaiveDateTime, i32) {
    let hours = offset_hours(place, event.at);
    (
        (event.at + Duration::hours(i64::from(hours))).naive_utc(),
        hours,
    )
}

fn offset_text(hours: i32) -> String {
    format!("{}{:02}:00", if hours < 0 { '-' } else { '+' }, hours.abs())
}

/// Visible events newest first, each with its place.
fn newest_first(sim: &Simulator, carrier: &str, number: &str) -> Option<Vec<(SimEvent, Place)>> {
    let mut out = sim.events(carrier, number)?;
    out.reverse();
    Some(out)
}

#[derive(Deserialize, Default)]
struct TokenForm {
    #[serde(default)]
    client_id: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// UPS

async fn ups_token(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    sim.count("ups", "/security/v1/oauth/token");
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Basic "));
    if !basic {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"response":{"errors":[{"code":"10401","message":"ClientId is Invalid"}]}})),
        )
            .into_response();
    }
    let (token, ttl) = sim.issue_token("ups");
    Json(json!({
        "token_type": "Bearer", "issued_at": Utc::now().timestamp_millis().to_string(),
        "client_id": "sim", "access_token": token, "scope": "",
        "expires_in": ttl.to_string(), "refresh_count": "0", "status": "approved"
    }))
    .into_response()
}

fn ups_codes(kind: EventKind) -> (&'static str, &'static str, &'static str, &'static str) {
    use EventKind::*;
    match kind {
        LabelCreated => ("M", "MP", "003", "Shipper created a label, UPS has not received the package yet."),
        PickedUp => ("P", "PU", "038", "Pickup Scan"),
        ArrivedFacility => ("I", "AR", "005", "Arrived at Facility"),
        DepartedFacility => ("I", "DP", "005", "Departed from Facility"),
        CustomsCleared => ("I", "CC", "014", "Your package has been released by the government agency."),
        OutForDelivery => ("I", "OT", "072", "Out For Delivery Today"),
        AvailableForPickup => ("I", "2Q", "017", "Delivered to UPS Access Point; awaiting customer pickup"),
        DeliveryAttempted => ("X", "48", "022", "The receiver was not available for delivery. We'll make a second attempt the next business day."),
        Delivered => ("D", "F4", "011", "DELIVERED"),
        Exception => ("X", "45", "013", "Exception: the package was damaged"),
        Refused => ("X", "RS", "034", "The receiver refused the delivery. Returning to sender."),
        ReturnToSender => ("X", "RS", "035", "Returning to Sender"),
    }
}

async fn ups_track(
    State(sim): State<Simulator>,
    Path(number): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = gate(
        &sim,
        "ups",
        "/api/track/v1/details/{inquiryNumber}",
        "{\"trackResponse\":{\"shipment\":[{\"package\":[",
    )
    .await
    {
        return response;
    }
    if !authorized(&sim, &headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"response":{"errors":[{"code":"250002","message":"Invalid Authentication Information."}]}})),
        )
            .into_response();
    }
    if headers.get("transId").is_none() || headers.get("transactionSrc").is_none() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"response":{"errors":[{"code":"VSS000","message":"Missing transId or transactionSrc header"}]}})),
        )
            .into_response();
    }
    if number.len() < 7 || number.len() > 34 {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"response":{"errors":[{"code":"TV1002","message":"Invalid inquiry number"}]}})),
        )
            .into_response();
    }
    let Some(events) = newest_first(&sim, "ups", &number) else {
        return Json(json!({"trackResponse":{"shipment":[{"inquiryNumber": number, "warnings":[{"code":"TW0001","message":"Tracking Information Not Found"}]}]}})).into_response();
    };
    let activity: Vec<Value> = events
        .iter()
        .map(|(event, place)| {
            let (type_, code, status_code, description) = ups_codes(event.kind);
            let (local, hours) = local(event, place);
            json!({
                "location": { "address": { "city": place.city, "stateProvince": place.state, "postalCode": place.zip, "countryCode": place.country, "country": place.country } },
                "status": { "type": type_, "description": description, "code": code, "statusCode": status_code },
                "date": local.format("%Y%m%d").to_string(),
                "time": local.format("%H%M%S").to_string(),
                "gmtDate": event.at.format("%Y%m%d").to_string(),
                "gmtTime": event.at.format("%H:%M:%S").to_string(),
                "gmtOffset": offset_text(hours),
            })
        })
        .collect();
    Json(
        json!({"trackResponse":{"shipment":[{"inquiryNumber": number, "package":[{
            "trackingNumber": number, "activity": activity, "packageCount": 1,
            "service": {"code": "003", "description": "UPS Ground"}
        }]}]}}),
    )
    .into_response()
}

// ---------------------------------------------------------------------------------------------
// FedEx

async fn fedex_token(State(sim): State<Simulator>, body: String) -> Response {
    sim.count("fedex", "/oauth/token");
    let form: TokenForm = serde_urlencoded_lite(&body);
    if form.client_id.as_deref().unwrap_or("").is_empty() {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"transactionId": "sim", "errors":[{"code":"NOT.AUTHORIZED.ERROR","message":"The given client credentials were not valid. Please modify your request and try again."}]})),
        )
            .into_response();
    }
    let (token, ttl) = sim.issue_token("fedex");
    Json(json!({"access_token": token, "token_type": "bearer", "expires_in": ttl, "scope": "CXS-TP"})).into_response()
}

/// Reads `client_id` from a form body without another dependency.
fn serde_urlencoded_lite(body: &str) -> TokenForm {
    let client_id = body
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "client_id")
        .map(|(_, v)| v.to_string());
    TokenForm { client_id }
}

fn fedex_codes(kind: EventKind) -> (&'static str, &'static str, &'static str, &'static str) {
    use EventKind::*;
    match kind {
        LabelCreated => ("OC", "Shipment information sent to FedEx", "", "IN"),
        PickedUp => ("PU", "Picked up", "", "PU"),
        ArrivedFacility => ("AR", "Arrived at FedEx location", "", "IT"),
        DepartedFacility => ("DP", "Departed FedEx location", "", "IT"),
        CustomsCleared => ("CC", "International shipment release - Import", "", "IT"),
        OutForDelivery => ("OD", "On FedEx vehicle for delivery", "", "IT"),
        AvailableForPickup => ("HP", "Ready for recipient pickup", "", "IT"),
        DeliveryAttempted => (
            "DE",
            "Delivery exception",
            "Customer not available or business closed",
            "DE",
        ),
        Delivered => ("DL", "Delivered", "", "DL"),
        Exception => ("SE", "Shipment exception", "Package damaged", "SE"),
        Refused => ("DE", "Delivery exception", "Customer refused package", "DE"),
        ReturnToSender => ("RS", "Return to shipper", "", "RS"),
    }
}

async fn fedex_track(State(sim): State<Simulator>, headers: HeaderMap, body: String) -> Response {
    if let Err(response) = gate(
        &sim,
        "fedex",
        "/track/v1/trackingnumbers",
        "{\"transactionId\":\"sim\",\"output\":{\"completeTrackResults\":[{",
    )
    .await
    {
        return response;
    }
    if !authorized(&sim, &headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"transactionId":"sim","errors":[{"code":"NOT.AUTHORIZED.ERROR","message":"The given JWT is invalid. Please modify your request and try again."}]})),
        )
            .into_response();
    }
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let numbers: Vec<String> = request["trackingInfo"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| {
            i["trackingNumberInfo"]["trackingNumber"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    if numbers.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"transactionId":"sim","errors":[{"code":"TRACKING.TRACKINGNUMBER.EMPTY","message":"Please provide tracking number."}]})),
        )
            .into_response();
    }
    if numbers.len() > 30 {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"transactionId":"sim","errors":[{"code":"TRACKING.TRACKINGNUMBER.LIMIT.EXCEEDED","message":"Please limit your request to 30 tracking numbers."}]})),
        )
            .into_response();
    }
    let results: Vec<Value> = numbers
        .iter()
        .map(|number| match newest_first(&sim, "fedex", number) {
            None => json!({"trackingNumber": number, "trackResults": [{
                "trackingNumberInfo": {"trackingNumber": number, "trackingNumberUniqueId": "", "carrierCode": ""},
                "error": {"code": "TRACKING.TRACKINGNUMBER.NOTFOUND", "message": "Tracking number cannot be found. Please correct the tracking number and try again."}}]}),
            Some(events) => {
                let scans: Vec<Value> = events
                    .iter()
                    .map(|(event, place)| {
                        let (code, description, exception, derived) = fedex_codes(event.kind);
                        let (local, hours) = local(event, place);
                        json!({
                            "date": format!("{}{}", local.format("%Y-%m-%dT%H:%M:%S"), offset_text(hours)),
                            "eventType": code, "eventDescription": description,
                            "exceptionCode": "", "exceptionDescription": exception,
                            "scanLocation": {"streetLines": [""], "city": place.city, "stateOrProvinceCode": place.state, "postalCode": place.zip, "countryCode": place.country, "residential": false},
                            "derivedStatusCode": derived
                        })
                    })
                    .collect();
                json!({"trackingNumber": number, "trackResults": [{
                    "trackingNumberInfo": {"trackingNumber": number, "trackingNumberUniqueId": format!("12028~{number}~FDEG"), "carrierCode": "FDXG"},
                    "scanEvents": scans,
                    "serviceDetail": {"type": "FEDEX_GROUND", "description": "FedEx Ground", "shortDescription": "FG"}
                }]})
            }
        })
        .collect();
    Json(json!({"transactionId": "sim", "output": {"completeTrackResults": results}}))
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// USPS

async fn usps_token(State(sim): State<Simulator>, headers: HeaderMap, body: String) -> Response {
    sim.count("usps", "/oauth2/v3/token");
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let client_id = if json_body {
        serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v["client_id"].as_str().map(str::to_string))
    } else {
        serde_urlencoded_lite(&body).client_id
    };
    if client_id.unwrap_or_default().is_empty() {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error":"invalid_client","error_description":"Client authentication failed.","error_uri":"https://datatracker.ietf.org/doc/html/rfc6749#page-45"})),
        )
            .into_response();
    }
    let (token, ttl) = sim.issue_token("usps");
    Json(json!({"access_token": token, "token_type": "Bearer", "issued_at": Utc::now().timestamp_millis().to_string(),
        "expires_in": ttl.to_string(), "status": "approved", "scope": "tracking", "issuer": "api.usps.com"}))
    .into_response()
}

fn usps_codes(kind: EventKind) -> (&'static str, &'static str) {
    use EventKind::*;
    match kind {
        LabelCreated => ("GX", "Shipping Label Created, USPS Awaiting Item"),
        PickedUp => ("03", "USPS in possession of item"),
        ArrivedFacility => ("10", "Arrived at USPS Regional Facility"),
        DepartedFacility => ("EF", "Departed USPS Regional Facility"),
        CustomsCleared => ("PC", "Processed Through Facility"),
        OutForDelivery => ("OF", "Out for Delivery"),
        AvailableForPickup => ("16", "Available for Pickup"),
        DeliveryAttempted => ("02", "Notice Left (No Authorized Recipient Available)"),
        Delivered => ("01", "Delivered, In/At Mailbox"),
        Exception => ("05", "Undeliverable as Addressed"),
        Refused => ("04", "Refused"),
        ReturnToSender => ("21", "Return to Sender"),
    }
}

fn usps_detail(sim: &Simulator, number: &str, zip_key: &str) -> Option<Value> {
    let events = newest_first(sim, "usps", number)?;
    let rendered: Vec<Value> = events
        .iter()
        .map(|(event, place)| {
            let (code, text) = usps_codes(event.kind);
            let (local, hours) = local(event, place);
            json!({
                "eventType": text,
                "eventTimestamp": local.format("%Y-%m-%dT%H:%M:%S").to_string(),
                "GMTTimestamp": event.at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "GMTOffset": offset_text(hours),
                "eventCountry": null, "eventCity": place.city, "eventState": place.state, zip_key: place.zip,
                "firm": null, "name": null, "authorizedAgent": "false", "eventCode": code, "additionalProp": null
            })
        })
        .collect();
    let (latest, _) = &events[0];
    Some(json!({
        "trackingNumber": number, "mailClass": "USPS Ground Advantage<SUP>&#153;</SUP>",
        "status": usps_codes(latest.kind).1, "destinationCity": "DENVER", "destinationState": "CO", "destinationZIP": "80202",
        "originCity": "NEW YORK", "originState": "NY", "originZIP": "10001",
        "trackingEvents": rendered
    }))
}

fn usps_not_found(number: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"apiVersion": "3.0", "error": {"code": "404", "message": "Resource Not Found",
            "errors": [{"status": "404", "code": "404", "title": "Resource Not Found", "detail": format!("The tracking number {number} could not be found.")}]}})),
    )
        .into_response()
}

fn usps_unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"apiVersion": "3.0", "error": {"code": "401", "message": "Unauthorized", "errors": [{"status": "401", "code": "401", "title": "Unauthorized"}]}})),
    )
        .into_response()
}

#[derive(Deserialize)]
struct UspsQuery {
    #[serde(default)]
    expand: Option<String>,
}

async fn usps_track(
    State(sim): State<Simulator>,
    Path(number): Path<String>,
    Query(query): Query<UspsQuery>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = gate(
        &sim,
        "usps",
        "/tracking/v3/tracking/{trackingNumber}",
        "{\"trackingNumber\":\"",
    )
    .await
    {
        return response;
    }
    if !authorized(&sim, &headers) {
        return usps_unauthorized();
    }
    match usps_detail(&sim, &number, "eventZIP") {
        None => usps_not_found(&number),
        Some(mut detail) => {
            if query
                .expand
                .as_deref()
                .is_none_or(|e| e.eq_ignore_ascii_case("SUMMARY"))
            {
                detail["trackingEvents"] = json!([]);
            }
            Json(detail).into_response()
        }
    }
}

async fn usps_track_v3r2(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if let Err(response) = gate(
        &sim,
        "usps",
        "/tracking/v3r2/tracking",
        "[{\"trackingNumber\":",
    )
    .await
    {
        return response;
    }
    if !authorized(&sim, &headers) {
        return usps_unauthorized();
    }
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let items: Vec<Value> = request
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["trackingNumber"].as_str())
        .map(|n| usps_detail(&sim, n, "eventZIPCode").unwrap_or_else(|| json!({"trackingNumber": n, "error": {"code": "404", "message": "The tracking number could not be found."}})))
        .collect();
    Json(Value::Array(items)).into_response()
}

// ---------------------------------------------------------------------------------------------
// DHL

fn dhl_codes(kind: EventKind) -> (&'static str, &'static str) {
    use EventKind::*;
    match kind {
        LabelCreated => (
            "pre-transit",
            "The shipment has been electronically announced.",
        ),
        PickedUp => ("transit", "The shipment has been picked up."),
        ArrivedFacility => ("transit", "The shipment arrived at the parcel center."),
        DepartedFacility => ("transit", "The shipment left the parcel center."),
        CustomsCleared => ("transit", "Customs clearance completed."),
        OutForDelivery => ("transit", "The shipment is out for delivery."),
        AvailableForPickup => (
            "transit",
            "The shipment is ready for pickup at the parcel shop.",
        ),
        DeliveryAttempted => ("failure", "Delivery attempt failed: recipient not home."),
        Delivered => ("delivered", "The shipment has been delivered."),
        Exception => ("failure", "The shipment was damaged."),
        Refused => ("failure", "Delivery refused by the recipient."),
        ReturnToSender => ("failure", "The shipment is being returned to the shipper."),
    }
}

fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        json!({"title": title, "detail": detail, "status": status.as_u16()}).to_string(),
    )
        .into_response()
}

#[derive(Deserialize)]
struct DhlQuery {
    #[serde(rename = "trackingNumber", default)]
    tracking_number: Option<String>,
}

async fn dhl_track(
    State(sim): State<Simulator>,
    Query(query): Query<DhlQuery>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = gate(&sim, "dhl", "/track/shipments", "{\"shipments\":[{\"id\":").await {
        return response;
    }
    if headers.get("DHL-API-Key").is_none() {
        return problem(StatusCode::UNAUTHORIZED, "Unauthorized", "Invalid API key.");
    }
    let Some(number) = query.tracking_number.filter(|n| !n.trim().is_empty()) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "trackingNumber is required.",
        );
    };
    let Some(events) = newest_first(&sim, "dhl", &number) else {
        return problem(
            StatusCode::NOT_FOUND,
            "No result found",
            "No shipment with given tracking number found.",
        );
    };
    let rendered: Vec<Value> = events
        .iter()
        .map(|(event, place)| {
            let (code, text) = dhl_codes(event.kind);
            let (local, hours) = local(event, place);
            json!({
                "timestamp": format!("{}{}", local.format("%Y-%m-%dT%H:%M:%S"), offset_text(hours)),
                "location": {"address": {"countryCode": place.country, "postalCode": place.zip, "addressLocality": place.city}},
                "statusCode": code, "status": text, "description": text
            })
        })
        .collect();
    Json(json!({"shipments": [{
        "id": number, "service": "express",
        "status": rendered[0].clone(),
        "details": {"product": {"productName": "DHL PAKET"}, "totalNumberOfPieces": 1, "weight": {"value": 1.5, "unitText": "kg"}},
        "events": rendered
    }]}))
    .into_response()
}

// ---------------------------------------------------------------------------------------------
// PostNL

fn postnl_codes(kind: EventKind) -> (&'static str, &'static str) {
    use EventKind::*;
    match kind {
        LabelCreated => ("A01", "Shipment expected, but not yet arrived at PostNL"),
        PickedUp => ("B01", "Shipment received by PostNL"),
        ArrivedFacility => ("J01", "Shipment has been sorted"),
        DepartedFacility | CustomsCleared => ("J06", "Shipment is in transit"),
        OutForDelivery => ("J05", "Driver is en route"),
        AvailableForPickup => ("I08", "Shipment is available at the pick-up point"),
        DeliveryAttempted => ("K14", "We missed you"),
        Delivered => ("I01", "Shipment delivered"),
        Exception => ("Y04", "Shipment damaged"),
        Refused => ("H02", "Shipment refused by recipient"),
        ReturnToSender => ("H01", "Shipment returned to sender"),
    }
}

async fn postnl_track(
    State(sim): State<Simulator>,
    Path(barcode): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = gate(
        &sim,
        "postnl-3s",
        "/shipment/v2/status/barcode/{barcode}",
        "{\"CompleteStatus\":{\"Shipment\":",
    )
    .await
    {
        return response;
    }
    if headers.get("apikey").is_none() {
        return (StatusCode::UNAUTHORIZED, Json(json!({"fault": {"faultstring": "Invalid ApiKey", "detail": {"errorcode": "steps.oauth.v2.FailedToResolveAPIKey"}}}))).into_response();
    }
    let Some(events) = newest_first(&sim, "postnl-3s", &barcode) else {
        return Json(json!({"CompleteStatus": {}, "Warnings": [{"Message": "No shipment found", "Code": "2"}]})).into_response();
    };
    let rendered: Vec<Value> = events
        .iter()
        .map(|(event, place)| {
            let (code, text) = postnl_codes(event.kind);
            let (local, _) = local(event, place);
            json!({"Code": code, "Description": text, "DestinationLocationCode": {}, "LocationCode": "171966", "RouteCode": {}, "RouteName": {},
                   "TimeStamp": local.format("%d-%m-%Y %H:%M:%S").to_string()})
        })
        .collect();
    Json(json!({"CompleteStatus": {"Shipment": {
        "MainBarcode": barcode, "Barcode": barcode, "ShipmentAmount": "1", "ShipmentCounter": "1",
        "ProductDescription": "Parcels, domestic &lt;= 10 kg", "Dimension": {"Weight": "1200"},
        "Event": rendered
    }}}))
    .into_response()
}

// ---------------------------------------------------------------------------------------------
// Canada Post

fn canadapost_codes(kind: EventKind) -> (&'static str, &'static str) {
    use EventKind::*;
    match kind {
        LabelCreated => ("3000", "Electronic information submitted by shipper"),
        PickedUp => ("0101", "Item picked up by Canada Post"),
        ArrivedFacility | DepartedFacility => ("0100", "Item processed at postal facility"),
        CustomsCleared => ("1411", "Item released by customs"),
        OutForDelivery => ("0174", "Item out for delivery"),
        AvailableForPickup => ("1410", "Item available for pickup at Post Office"),
        DeliveryAttempted => ("0168", "Delivery attempted; notice card left"),
        Delivered => ("1496", "Item successfully delivered"),
        Exception => ("1100", "Item damaged"),
        Refused => ("1450", "Item refused by recipient"),
        ReturnToSender => ("1481", "Item being returned to sender"),
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn cp_messages(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/vnd.cpc.track-v2+xml")],
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><messages xmlns=\"http://www.canadapost.ca/ws/messages\"><message><code>{code}</code><description>{}</description></message></messages>", xml_escape(description)),
    )
        .into_response()
}

async fn canadapost_track(
    State(sim): State<Simulator>,
    Path(pin): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = gate(
        &sim,
        "canada-post",
        "/vis/track/pin/{pin}/detail",
        "<tracking-detail xmlns=\"http://www.canadapost.ca/ws/track-v2\"><pin>",
    )
    .await
    {
        return response;
    }
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Basic "));
    if !basic {
        return cp_messages(
            StatusCode::UNAUTHORIZED,
            "E002",
            "AAA Authentication Failure",
        );
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !accept.contains("vnd.cpc.track") {
        return cp_messages(
            StatusCode::NOT_ACCEPTABLE,
            "E100",
            "Accept header must be application/vnd.cpc.track-v2+xml",
        );
    }
    let Some(events) = newest_first(&sim, "canada-post", &pin) else {
        return cp_messages(StatusCode::NOT_FOUND, "004", "No Pin History");
    };
    let mut occurrences = String::new();
    for (event, place) in &events {
        let (code, text) = canadapost_codes(event.kind);
        let (local, hours) = local(event, place);
        let zone = match hours {
            -3 => "ADT",
            -4 => "EDT",
            -5 => "EST",
            -6 => "CST",
            -7 => "MST",
            -8 => "PST",
            _ => "UTC",
        };
        let signatory = if event.kind == EventKind::Delivered {
            "J TREMBLAY"
        } else {
            ""
        };
        occurrences.push_str(&format!(
            "<occurrence><event-identifier>{code}</event-identifier><event-date>{}</event-date><event-time>{}</event-time><event-time-zone>{zone}</event-time-zone><event-description>{}</event-description><signatory-name>{signatory}</signatory-name><event-site>{}</event-site><event-province>{}</event-province><event-retail-location-id/><event-retail-name/></occurrence>",
            local.format("%Y-%m-%d"), local.format("%H:%M:%S"), xml_escape(text), xml_escape(&place.city), xml_escape(&place.state)
        ));
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/vnd.cpc.track-v2+xml")],
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><tracking-detail xmlns=\"http://www.canadapost.ca/ws/track-v2\"><pin>{}</pin><service-name>Expedited Parcels</service-name><significant-events>{occurrences}</significant-events></tracking-detail>", xml_escape(&pin)),
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// Control

#[derive(Deserialize)]
struct ScriptBody {
    events: Vec<SimEvent>,
}

async fn control_script(
    State(sim): State<Simulator>,
    Path(number): Path<String>,
    Json(body): Json<ScriptBody>,
) -> Response {
    let count = body.events.len();
    sim.script(&number, body.events);
    Json(json!({"number": number, "events": count})).into_response()
}

#[derive(Deserialize)]
struct AdvanceBody {
    seconds: u64,
    #[serde(default)]
    number: Option<String>,
}

async fn control_advance(State(sim): State<Simulator>, Json(body): Json<AdvanceBody>) -> Response {
    let by = std::time::Duration::from_secs(body.seconds);
    match &body.number {
        Some(number) => sim.advance_number(number, by),
        None => sim.advance(by),
    }
    Json(json!({"advanced_seconds": body.seconds, "number": body.number})).into_response()
}

#[derive(Deserialize)]
struct FaultsBody {
    #[serde(default)]
    carrier: Option<String>,
    #[serde(flatten)]
    faults: Faults,
}

async fn control_faults(State(sim): State<Simulator>, Json(body): Json<FaultsBody>) -> Response {
    sim.set_faults(body.carrier.as_deref(), body.faults.clone());
    Json(json!({"carrier": body.carrier.unwrap_or_else(|| "*".into()), "faults": body.faults}))
        .into_response()
}

async fn control_clear_faults(State(sim): State<Simulator>) -> Response {
    sim.clear_faults();
    StatusCode::NO_CONTENT.into_response()
}

async fn control_revoke(State(sim): State<Simulator>) -> Response {
    sim.revoke_tokens();
    StatusCode::NO_CONTENT.into_response()
}

async fn control_counters(State(sim): State<Simulator>) -> Response {
    Json(sim.counters()).into_response()
}

async fn control_reset(State(sim): State<Simulator>) -> Response {
    sim.reset();
    StatusCode::NO_CONTENT.into_response()
}
