//! Purolator TrackingService (SOAP `TrackPackagesByPin` at `/PWS/V1/Tracking/TrackingService.asmx`),
//! HTTP Basic with the activation key and password, and a `RequestContext` SOAP header (with the
//! `UserToken` when one is configured as `api_key`). Courier code `purolator`.
//!
//! One call takes many PINs; each known PIN comes back as a `TrackingInformation` with its
//! `Scans`. Scans carry a coarse `ScanType` refined by their description
//! (`tables/purolator.tsv`), a date and an `HHMMSS` time without zone, placed in the zone of the
//! depot's province (`MONTREAL SORT CTR/CTR TRIE, PQ`). A PIN Purolator leaves out is unknown.

use chrono::{NaiveDate, NaiveTime};
use parceld_model::ShipmentInfo;

use crate::event::{EventList, Place};
use crate::http::KeyedApi;
use crate::settings::{CarrierSettings, ConfigError};
use crate::tables::code_table;
use crate::xml::{escape, parse_xml, Element};
use crate::{answer_key, carrier_api, Answers, CarrierError, ManyNumbersPerCall, TrackResult};

const CODE: &str = "purolator";

// Purolator documents neither a rate nor a limit on the PINs of one call: calls stay moderate.
carrier_api!(Purolator, CODE, 2.0, 2, 25);

const SERVICE: &str = "/PWS/V1/Tracking/TrackingService.asmx";
const ACTION: &str = "http://purolator.com/pws/service/v1/TrackPackagesByPin";

/// The Purolator adapter.
pub struct Purolator {
    api: KeyedApi,
    user_token: String,
    language: String,
}

impl Purolator {
    pub fn new(settings: &CarrierSettings) -> Result<Self, ConfigError> {
        Ok(Purolator {
            api: KeyedApi::basic_from_settings::<Self>(settings)?,
            user_token: settings.api_key.clone().unwrap_or_default(),
            language: settings.language.clone().unwrap_or_else(|| "en".into()),
        })
    }
}

impl ManyNumbersPerCall for Purolator {
    async fn track_many(&self, numbers: &[&str]) -> Result<Answers, CarrierError> {
        let pins: String = numbers
            .iter()
            .map(|n| format!("<v1:PIN><v1:Value>{}</v1:Value></v1:PIN>", escape(n)))
            .collect();
        let envelope = format!(
            "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" \
             xmlns:v1=\"http://purolator.com/pws/datatypes/v1\"><soap:Header><v1:RequestContext>\
             <v1:Version>1.2</v1:Version><v1:Language>{}</v1:Language><v1:GroupID/>\
             <v1:RequestReference>parceld</v1:RequestReference><v1:UserToken>{}</v1:UserToken>\
             </v1:RequestContext></soap:Header><soap:Body><v1:TrackPackagesByPinRequest>\
             <v1:PINs>{pins}</v1:PINs></v1:TrackPackagesByPinRequest></soap:Body></soap:Envelope>",
            escape(&self.language),
            escape(&self.user_token)
        );
        let xml = "text/xml; charset=utf-8";
        let reply = self
            .api
            .post(SERVICE, xml, envelope, &[("SOAPAction", ACTION)])
            .await?;
        let mut answers = reply.parsed(CODE, parse_response)?;
        for number in numbers {
            answers
                .entry(answer_key(number))
                .or_insert(Ok(TrackResult::NotFound));
        }
        Ok(answers)
    }
}

/// Parses a `TrackPackagesByPinResponse` into outcomes of the PINs it answers for.
pub fn parse_response(body: &[u8]) -> Result<Answers, CarrierError> {
    let document = parse_xml(CODE, body)?;
    if let Some((code, message)) = document.soap_fault() {
        return Err(CarrierError::permanent(format!(
            "{CODE} answered a fault: {code}: {message}"
        )));
    }
    let Some(response) = document.find("TrackPackagesByPinResponse") else {
        return Err(CarrierError::malformed(
            CODE,
            "no TrackPackagesByPinResponse",
        ));
    };
    let answers: Answers = response
        .find("TrackingInformationList")
        .map(|list| list.all("TrackingInformation").collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|info| {
            (
                answer_key(&info.text_at(&["PIN", "Value"])),
                Ok(scans(info)),
            )
        })
        .collect();
    // Errors about PINs (unknown, invalid) leave those PINs out; others refuse the whole call.
    let errors: Vec<String> = response
        .find("Errors")
        .map(|e| e.all("Error").collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|e| format!("{} {}", e.text_of("Code"), e.text_of("Description")))
        .collect();
    let about_pins = errors.iter().all(|e| e.to_lowercase().contains("pin"));
    if answers.is_empty() && !about_pins {
        return Err(CarrierError::permanent(format!(
            "{CODE}: {}",
            errors.join("; ")
        )));
    }
    Ok(answers)
}

fn scans(info: &Element) -> TrackResult {
    let mut events = EventList::new(code_table!("purolator"), Some(chrono_tz::America::Toronto));
    let scans = info
        .child("Scans")
        .map(|s| s.all("Scan").collect::<Vec<_>>());
    for scan in scans.unwrap_or_default() {
        let (date, time) = (scan.text_of("ScanDate"), scan.text_of("ScanTime"));
        let Ok(day) = NaiveDate::parse_from_str(&date, "%Y-%m-%d") else {
            continue;
        };
        let time = NaiveTime::parse_from_str(&time, "%H%M%S").unwrap_or(NaiveTime::MIN);
        let depot = scan.text_at(&["Depot", "Name"]);
        // `MONTREAL SORT CTR/CTR TRIE, PQ`: the depot, then its province.
        let place = match depot.rsplit_once(", ") {
            Some((city, province)) if province.len() == 2 => Place::new(city, province, "", "CA"),
            _ => Place::new(&depot, "", "", "CA"),
        };
        let raw_time = format!("{date} {}", scan.text_of("ScanTime"));
        let (code, text) = (scan.text_of("ScanType"), scan.text_of("Description"));
        events.add_local(day.and_time(time), None, &raw_time, &code, &text, place);
    }
    events.finish(ShipmentInfo::default)
}
