//! DPD Web Services (SOAP): `LoginService` `getAuth` answers an `authToken` for a delisId and
//! password; `ParcelLifeCycleService` `getTrackingData` takes it in the SOAP header and answers
//! the `statusInfo` of one parcel, local times in DPD's US style. A refused login or token is an
//! `authenticationFault` with HTTP 500.

use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::MethodFilter;

use super::{code_of, elements, xml_escape, xml_reply, Call, Door, Protocol};
use crate::Simulator;

const ENVELOPE: &str = "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">";

fn soap(status: StatusCode, body: String) -> Response {
    let envelope = format!("{ENVELOPE}<soap:Body>{body}</soap:Body></soap:Envelope>");
    xml_reply(status, "text/xml; charset=utf-8", &envelope)
}

/// DPD's answer to a refused login or token (karrio's DPD fixtures).
fn authentication_fault() -> Response {
    let fault = "<soap:Fault><faultcode>soap:Server</faultcode><faultstring>Fault occured</faultstring>\
        <detail><ns:authenticationFault xmlns:ns=\"http://dpd.com/common/service/types/Authentication/2.0\">\
        <errorCode>DELICOM_ERR_AUTHENTICATION</errorCode>\
        <errorMessage>Authentication failure, check delisId and password.</errorMessage>\
        </ns:authenticationFault></detail></soap:Fault>";
    soap(StatusCode::INTERNAL_SERVER_ERROR, fault.to_string())
}

pub(super) static LOGIN: Protocol = Protocol {
    method: MethodFilter::POST,
    answer: get_auth,
    door: Door::counted("dpd", "/soap/services/LoginService/V2_1"),
    presented: |_, call| {
        let given = |name| elements(&call.body, name).iter().any(|v| !v.is_empty());
        given("delisId") && given("password")
    },
    refused: authentication_fault,
};

pub(super) static TRACK: Protocol = Protocol {
    method: MethodFilter::POST,
    answer: get_tracking_data,
    door: Door::faulted(
        "dpd",
        "/soap/services/ParcelLifeCycleService/V2_0",
        "<soap:Envelope><soap:Body><getTrackingDataResponse><trackingresult><statusInfo>",
    ),
    presented: |sim, call| {
        let token = elements(&call.body, "authToken");
        token.first().is_some_and(|t| sim.token_valid(t))
    },
    refused: authentication_fault,
};

fn get_auth(sim: &Simulator, call: &Call) -> Response {
    let (token, _) = sim.issue_token("dpd");
    let delis_id = elements(&call.body, "delisId")
        .first()
        .map(|d| xml_escape(d));
    soap(
        StatusCode::OK,
        format!(
            "<getAuthResponse xmlns=\"http://dpd.com/common/service/types/LoginService/2.1\"><return>\
             <delisId>{}</delisId><customerUid>sim</customerUid><authToken>{token}</authToken>\
             <depot>0530</depot></return></getAuthResponse>",
            delis_id.unwrap_or_default()
        ),
    )
}

/// One `label` / `description` / `location` / `date` block as DPD writes them.
fn content(tag: &str, text: &str) -> String {
    format!(
        "<{tag}><content>{}</content><bold>true</bold><paragraph>false</paragraph></{tag}>",
        xml_escape(text)
    )
}

fn get_tracking_data(sim: &Simulator, call: &Call) -> Response {
    let number = elements(&call.body, "parcelLabelNumber")
        .first()
        .copied()
        .unwrap_or("");
    // (composed) an unknown parcel: DPD's answer is not in the sources read; a result without
    // reached statuses is what parceld reads as unknown.
    let mut infos = String::new();
    for (event, place) in TRACK.events(sim, number).unwrap_or_default().iter().rev() {
        let (status, description) = code_of("dpd", event.kind);
        let (local, _) = super::local(event, place);
        infos.push_str(&format!(
            "<statusInfo><status>{status}</status>{}<description>{}</description>\
             <statusHasBeenReached>true</statusHasBeenReached><isCurrentStatus>false</isCurrentStatus>{}{}</statusInfo>",
            content("label", status),
            content("content", description),
            content("location", &format!("{} ({})", place.city, place.country)),
            content("date", &local.format("%-m/%-d/%Y %-I:%M:%S %p").to_string()),
        ));
    }
    soap(
        StatusCode::OK,
        format!(
            "<getTrackingDataResponse xmlns=\"http://dpd.com/common/service/types/ParcelLifeCycleService/2.0\">\
             <trackingresult><shipmentInfo>{}<status>SHIPMENT</status>\
             <statusHasBeenReached>false</statusHasBeenReached></shipmentInfo>{infos}</trackingresult>\
             </getTrackingDataResponse>",
            format_args!("<serviceDescription>{}</serviceDescription>", content("content", "DPD CLASSIC"))
        ),
    )
}
