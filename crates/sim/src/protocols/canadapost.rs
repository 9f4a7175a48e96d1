//! Canada Post tracking: HTTP Basic credentials, a GET per PIN answering XML, and XML
//! `messages` errors.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{basic_auth, header_text, local, newest_first, xml_escape, Door};
use crate::journey::EventKind;
use crate::Simulator;

/// The tracking-detail endpoint, one PIN a call.
pub(super) const TRACK: Door = Door::faulted(
    "canada-post",
    "/vis/track/pin/{pin}/detail",
    "<tracking-detail xmlns=\"http://www.canadapost.ca/ws/track-v2\"><pin>",
);

fn codes(kind: EventKind) -> (&'static str, &'static str) {
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

fn messages(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/vnd.cpc.track-v2+xml")],
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><messages xmlns=\"http://www.canadapost.ca/ws/messages\"><message><code>{code}</code><description>{}</description></message></messages>", xml_escape(description)),
    )
        .into_response()
}

pub(super) async fn track(
    State(sim): State<Simulator>,
    Path(pin): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !basic_auth(&headers) {
        return messages(
            StatusCode::UNAUTHORIZED,
            "E002",
            "AAA Authentication Failure",
        );
    }
    let accept = header_text(&headers, header::ACCEPT).unwrap_or("");
    if !accept.contains("vnd.cpc.track") {
        return messages(
            StatusCode::NOT_ACCEPTABLE,
            "E100",
            "Accept header must be application/vnd.cpc.track-v2+xml",
        );
    }
    let Some(events) = newest_first(&sim, "canada-post", &pin) else {
        return messages(StatusCode::NOT_FOUND, "004", "No Pin History");
    };
    let mut occurrences = String::new();
    for (event, place) in &events {
        let (code, text) = codes(event.kind);
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
