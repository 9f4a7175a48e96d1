//! bpost tracked mail: HTTP Basic, a GET of one item answering an `itemTracking` XML document
//! with its `stateInfo` entries, a `businessException` for unknown items.

use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::MethodFilter;

use super::{code_of, iso_local, xml_escape, xml_reply, Call, Door, Protocol};
use crate::Simulator;

const TRACK: &str = "/services/trackedmail/item/{itemCode}/trackingInfo";

fn xml(status: StatusCode, document: String) -> Response {
    xml_reply(status, "application/xml", &document)
}

pub(super) static PROTOCOL: Protocol = Protocol {
    method: MethodFilter::GET,
    answer: tracking_info,
    door: Door::faulted(
        "bpost",
        TRACK,
        "<itemTracking xmlns=\"http://schema.post.be/tracking/v1/\"><stateInfo>",
    ),
    presented: |_, call| call.has_basic(),
    refused: || {
        // (composed) bpost's 401 body is not in the sources read.
        let message = "<businessException xmlns=\"http://schema.post.be/api/shm/common/v2/\"><message>Invalid credentials</message></businessException>";
        xml(StatusCode::UNAUTHORIZED, message.into())
    },
};

fn tracking_info(sim: &Simulator, call: &Call) -> Response {
    let item = xml_escape(&call.param);
    let Some(events) = PROTOCOL.events(sim, &call.param) else {
        // (composed) the words of bpost's answer for an unknown item are not in the sources read.
        let message = format!("<businessException xmlns=\"http://schema.post.be/api/shm/common/v2/\"><message>Item {item} not found</message></businessException>");
        return xml(StatusCode::NOT_FOUND, message);
    };
    let states: String = events
        .iter()
        .rev()
        .map(|(event, place)| {
            let (code, description) = code_of("bpost", event.kind);
            let (local, hours) = super::local(event, place);
            format!(
                "<stateInfo><time>{}</time><stateCode>{code}</stateCode><stateDescription>{}</stateDescription></stateInfo>",
                iso_local(local, hours),
                xml_escape(description)
            )
        })
        .collect();
    xml(
        StatusCode::OK,
        format!(
            "<itemTracking xmlns=\"http://schema.post.be/tracking/v1/\" xmlns:ns2=\"http://schema.post.be/announcement/common/v1/\">\
             <itemCode>{item}</itemCode><addressee><ns2:address><ns2:city>BRUSSELS</ns2:city>\
             <ns2:countryCode>BE</ns2:countryCode></ns2:address></addressee>\
             <itemDetail><weightInGrams>380</weightInGrams></itemDetail>{states}</itemTracking>"
        ),
    )
}
