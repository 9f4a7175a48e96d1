//! Aramex Shipping Services API, tracking (`POST /ShippingAPI.V2/Tracking/Service_1_0.svc/json/
//! TrackShipments`, the JSON face of the SOAP service), the account's `ClientInfo` in the body.
//! Courier code `aramex`.
//!
//! One call takes several waybills: each known one comes back under `TrackingResults` with its
//! updates, each unknown one in `NonExistingWaybills`. Aramex publishes no list of update
//! codes, so updates are mapped by their description (`tables/aramex.tsv`). Times are WCF JSON
//! dates (`/Date(1706788140000+0300)/`: the instant and the local offset). Refusals come inside
//! a 200, as `HasErrors` with `Notifications`.

use parceld_model::ShipmentInfo;
use serde_json::{json, Value};

use crate::event::{EventList, Place};
use crate::http::KeyedApi;
use crate::json::{list, text, text_or_empty};
use crate::settings::{required, CarrierSettings, ConfigError};
use crate::tables::code_table;
use crate::{answer_key, carrier_api, Answers, CarrierError, ManyNumbersPerCall, TrackResult};

const CODE: &str = "aramex";

// Aramex documents neither a rate nor a limit on the waybills of one call: calls stay moderate.
carrier_api!(Aramex, CODE, 2.0, 2, 25);

const TRACK: &str = "/ShippingAPI.V2/Tracking/Service_1_0.svc/json/TrackShipments";

/// The Aramex adapter.
pub struct Aramex {
    api: KeyedApi,
    client_info: Value,
}

impl Aramex {
    pub fn new(settings: &CarrierSettings) -> Result<Self, ConfigError> {
        let field = |name, value: &Option<String>| required(CODE, name, value);
        let client_info = json!({
            "UserName": field("username", &settings.username)?,
            "Password": field("password", &settings.password)?,
            "Version": "v1.0",
            "AccountNumber": field("account_number", &settings.account_number)?,
            "AccountPin": field("account_pin", &settings.account_pin)?,
            "AccountEntity": field("account_entity", &settings.account_entity)?,
            "AccountCountryCode": field("account_country_code", &settings.account_country_code)?,
            "Source": 24,
        });
        Ok(Aramex {
            api: KeyedApi::of::<Self>(settings)?,
            client_info,
        })
    }
}

impl ManyNumbersPerCall for Aramex {
    async fn track_many(&self, numbers: &[&str]) -> Result<Answers, CarrierError> {
        let body = json!({
            "ClientInfo": self.client_info,
            "Transaction": {"Reference1": "parceld"},
            "Shipments": numbers,
            "GetLastTrackingUpdateOnly": false,
        });
        let json = "application/json";
        let accept = [("Accept", json)];
        let reply = self
            .api
            .post(TRACK, json, body.to_string(), &accept)
            .await?;
        reply.parsed(CODE, parse_response)
    }
}

/// Parses a `TrackShipments` answer into outcomes by waybill.
pub fn parse_response(body: &[u8]) -> Result<Answers, CarrierError> {
    let value = crate::json::parse(CODE, body)?;
    if value.get("HasErrors").and_then(Value::as_bool) == Some(true) {
        return Err(refusal(&list(&value, "Notifications")));
    }
    let Some(results) = value.get("TrackingResults").and_then(Value::as_array) else {
        return Err(CarrierError::malformed(CODE, "no TrackingResults"));
    };
    let mut answers: Answers = list(&value, "NonExistingWaybills")
        .into_iter()
        .filter_map(crate::json::as_text)
        .map(|waybill| (answer_key(&waybill), Ok(TrackResult::NotFound)))
        .collect();
    for result in results {
        let updates = list(result, "Value");
        let mut events = EventList::new(code_table!("aramex"), Some(chrono_tz::Asia::Dubai));
        for update in &updates {
            let place = Place::new(&text_or_empty(update, "UpdateLocation"), "", "", "");
            let fields = ["UpdateDateTime", "UpdateCode", "UpdateDescription"];
            events.add_json(update, fields, place);
        }
        let info = || weight(updates.first().copied());
        answers.insert(
            answer_key(&text_or_empty(result, "Key")),
            Ok(events.finish(info)),
        );
    }
    Ok(answers)
}

/// The weight the newest update gives.
fn weight(update: Option<&Value>) -> ShipmentInfo {
    let update = update.unwrap_or(&Value::Null);
    let (value, unit) = (
        text(update, "GrossWeight"),
        text_or_empty(update, "WeightUnit"),
    );
    ShipmentInfo {
        weight: value
            .as_ref()
            .map(|v| format!("{v} {unit}").trim().to_string()),
        weight_kg: value.filter(|_| unit.eq_ignore_ascii_case("kg")),
        ..ShipmentInfo::default()
    }
}

/// The error of an answer with `HasErrors`: refused credentials when the notifications say so
/// (`ERR01`, or words about the user name, password or account), else a bad request.
fn refusal(notifications: &[&Value]) -> CarrierError {
    let text: Vec<String> = notifications
        .iter()
        .map(|n| {
            format!(
                "{} {}",
                text_or_empty(n, "Code"),
                text_or_empty(n, "Message")
            )
        })
        .collect();
    let text = text.join("; ");
    let lower = text.to_lowercase();
    let words = [
        "err01",
        "username",
        "user name",
        "password",
        "account",
        "authenticat",
    ];
    if words.iter().any(|w| lower.contains(w)) {
        CarrierError::credentials(format!(
            "{CODE} refused the ClientInfo: {text}; check username, password and the account \
             fields in [carriers.{CODE}]"
        ))
    } else {
        CarrierError::permanent(format!("{CODE}: {text}"))
    }
}
