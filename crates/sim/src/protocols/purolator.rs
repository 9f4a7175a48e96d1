//! Purolator TrackingService: SOAP `TrackPackagesByPin` behind HTTP Basic, any number of PINs a
//! call, a `TrackingInformation` with `Scans` for each known PIN, IIS's plain 401 for refused
//! credentials.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodFilter;

use super::{code_of, elements, xml_escape, xml_reply, Call, Door, Protocol};
use crate::Simulator;

pub(super) static PROTOCOL: Protocol = Protocol {
    method: MethodFilter::POST,
    answer: track_packages_by_pin,
    door: Door::faulted(
        "purolator",
        "/PWS/V1/Tracking/TrackingService.asmx",
        "<s:Envelope><s:Body><TrackPackagesByPinResponse><TrackingInformationList>",
    ),
    presented: |_, call| call.has_basic(),
    refused: || {
        let page = "<html><head><title>401 - Unauthorized: Access is denied due to invalid credentials.</title></head></html>";
        (
            StatusCode::UNAUTHORIZED,
            [(header::CONTENT_TYPE, "text/html")],
            page,
        )
            .into_response()
    },
};

fn track_packages_by_pin(sim: &Simulator, call: &Call) -> Response {
    let mut found = String::new();
    let mut errors = String::new();
    for pin in elements(&call.body, "Value") {
        let Some(events) = PROTOCOL.events(sim, pin) else {
            // (composed) Purolator's words for an unknown PIN are not in the sources read.
            errors.push_str(&format!(
                "<Error><Code>3001</Code><Description>No tracking information for PIN {}</Description></Error>",
                xml_escape(pin)
            ));
            continue;
        };
        let mut scans = String::new();
        for (event, place) in &events {
            let (scan_type, description) = code_of("purolator", event.kind);
            let (local, _) = super::local(event, place);
            scans.push_str(&format!(
                "<Scan><ScanType>{scan_type}</ScanType><Depot><Name>{}, {}</Name></Depot>\
                 <ScanDate>{}</ScanDate><ScanTime>{}</ScanTime><Description>{}</Description></Scan>",
                xml_escape(&place.city),
                place.state,
                local.format("%Y-%m-%d"),
                local.format("%H%M%S"),
                xml_escape(description)
            ));
        }
        found.push_str(&format!(
            "<TrackingInformation><PIN><Value>{}</Value></PIN><Scans>{scans}</Scans></TrackingInformation>",
            xml_escape(pin)
        ));
    }
    let body = format!(
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>\
         <TrackPackagesByPinResponse xmlns=\"http://purolator.com/pws/datatypes/v1\">\
         <ResponseInformation><Errors>{errors}</Errors></ResponseInformation>\
         <TrackingInformationList>{found}</TrackingInformationList>\
         </TrackPackagesByPinResponse></s:Body></s:Envelope>"
    );
    xml_reply(StatusCode::OK, "text/xml; charset=utf-8", &body)
}
