//! La Poste Suivi v2 ("Okapi"): the `X-Okapi-Key` header, a GET of one id (an object, or a 404
//! when unknown) or of several comma-separated ids (an array, 207, each with its own
//! `returnCode`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodFilter;
use axum::Json;
use serde_json::{json, Value};

use super::{code_of, comma_list, iso_local, rendered, Call, Door, Protocol};
use crate::journey::EventKind;
use crate::Simulator;

pub(super) static PROTOCOL: Protocol = Protocol {
    method: MethodFilter::GET,
    answer: idships,
    door: Door::faulted(
        "laposte",
        "/suivi/v2/idships/{idships}",
        "{\"lang\":\"fr_FR\",\"returnCode\":200,\"shipment\":{\"event\":[",
    ),
    presented: |_, call| call.has_headers(&["X-Okapi-Key"]),
    refused: || {
        // (composed) the gateway's answer to a wrong key is not in the sources read.
        let body = json!({"code": "UNAUTHORIZED", "message": "Invalid apiKey"});
        (StatusCode::UNAUTHORIZED, Json(body)).into_response()
    },
};

fn idships(sim: &Simulator, call: &Call) -> Response {
    let ids = comma_list(&call.param);
    let answers: Vec<Value> = ids.iter().map(|id| answer(sim, id)).collect();
    match &answers[..] {
        [one] => {
            let status = StatusCode::from_u16(one["returnCode"].as_u64().unwrap_or(200) as u16)
                .unwrap_or(StatusCode::OK);
            (status, Json(one.clone())).into_response()
        }
        _ => (StatusCode::MULTI_STATUS, Json(answers)).into_response(),
    }
}

fn answer(sim: &Simulator, id: &str) -> Value {
    let Some(events) = PROTOCOL.events(sim, id) else {
        return json!({"lang": "fr_FR", "scope": "open", "returnCode": 404, "idShip": id,
                      "returnMessage": "Votre numéro de suivi n'a pas été trouvé."});
    };
    let rendered = rendered(&events, |event, _, local, hours| {
        let (code, label) = code_of("laposte", event.kind);
        json!({"code": code, "label": label, "date": iso_local(local, hours)})
    });
    let delivered = events[0].0.kind == EventKind::Delivered;
    let shipment = json!({"idShip": id, "holder": 4, "product": "colissimo",
        "isFinal": delivered, "entryDate": rendered[rendered.len() - 1]["date"],
        "event": rendered, "contextData": {"originCountry": "FR", "arrivalCountry": "FR"},
        "url": format!("https://www.laposte.fr/outils/suivre-vos-envois?code={id}")});
    json!({"lang": "fr_FR", "scope": "open", "returnCode": 200, "shipment": shipment})
}
