//! DPD Web Services (SOAP): a login (`LoginService` `getAuth` with the delisId and password)
//! gives an `authToken`, which `ParcelLifeCycleService` `getTrackingData` takes in its SOAP
//! header, one parcel label number a call. Courier code `dpd`.
//!
//! These services are DPD's public API across the most DPD countries (karrio speaks them to DPD
//! Benelux, whose host is the default). A token lasts a day; parceld logs in again after 12
//! hours, and at once when DPD answers a tracking call with an authentication fault. Only the
//! `statusInfo` entries DPD has reached are events; their times are local without offset, placed
//! in the zone of the country their location names (`Mechelen (BE)`).

use std::time::Duration;

use parceld_model::ShipmentInfo;

use crate::event::{EventList, Place};
use crate::http::{KeyedApi, Reply};
use crate::oauth::TokenCache;
use crate::settings::{required, CarrierSettings, ConfigError};
use crate::tables::code_table;
use crate::xml::{escape, parse_xml, Element};
use crate::{carrier_api, CarrierError, OneNumberPerCall, TrackOutcome, TrackRequest, TrackResult};

const CODE: &str = "dpd";

// DPD publishes no rate for its web services.
carrier_api!(Dpd, CODE, 2.0, 2);

const LOGIN: &str = "/soap/services/LoginService/V2_1";
const TRACK: &str = "/soap/services/ParcelLifeCycleService/V2_0";

/// How long a login token is kept (DPD's last a day).
const TOKEN_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// The DPD adapter.
pub struct Dpd {
    api: KeyedApi,
    delis_id: String,
    password: String,
    language: String,
    tokens: TokenCache,
}

impl Dpd {
    pub fn new(settings: &CarrierSettings) -> Result<Self, ConfigError> {
        Ok(Dpd {
            api: KeyedApi::of::<Self>(settings)?,
            delis_id: required(CODE, "username", &settings.username)?,
            password: required(CODE, "password", &settings.password)?,
            language: settings.language.clone().unwrap_or_else(|| "en_EN".into()),
            tokens: TokenCache::default(),
        })
    }

    async fn soap(&self, path: &str, header: &str, body: &str) -> Result<Reply, CarrierError> {
        let envelope = format!(
            "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" \
             xmlns:auth=\"http://dpd.com/common/service/types/Authentication/2.0\" \
             xmlns:login=\"http://dpd.com/common/service/types/LoginService/2.1\" \
             xmlns:plc=\"http://dpd.com/common/service/types/ParcelLifeCycleService/2.0\">\
             <soapenv:Header>{header}</soapenv:Header><soapenv:Body>{body}</soapenv:Body>\
             </soapenv:Envelope>"
        );
        let xml = "text/xml; charset=utf-8";
        self.api
            .post(path, xml, envelope, &[("SOAPAction", "\"\"")])
            .await
    }

    /// Logs in: a new token and how long to keep it.
    async fn login(&self) -> Result<(String, Duration), CarrierError> {
        let body = format!(
            "<login:getAuth><delisId>{}</delisId><password>{}</password>\
             <messageLanguage>{}</messageLanguage></login:getAuth>",
            escape(&self.delis_id),
            escape(&self.password),
            escape(&self.language)
        );
        let reply = self.soap(LOGIN, "", &body).await?;
        let document = soap_document(&reply)?;
        if let Some((code, message)) = document.soap_fault() {
            return Err(CarrierError::credentials(format!(
                "{CODE} refused the login ({code}: {message}); check username (the delisId) and \
                 password in [carriers.{CODE}]"
            )));
        }
        match document.find("authToken").map(|t| t.text.trim()) {
            Some(token) if !token.is_empty() => Ok((token.to_string(), TOKEN_LIFETIME)),
            _ => Err(CarrierError::malformed(
                CODE,
                "a login answer without authToken",
            )),
        }
    }
}

impl OneNumberPerCall for Dpd {
    async fn track_one(&self, number: &str, _request: &TrackRequest) -> TrackOutcome {
        let body = format!(
            "<plc:getTrackingData><parcelLabelNumber>{}</parcelLabelNumber></plc:getTrackingData>",
            escape(number)
        );
        let mut retried = false;
        loop {
            let token = self.tokens.get_or_fetch(|| self.login()).await?;
            let header = format!(
                "<auth:authentication><delisId>{}</delisId><authToken>{}</authToken>\
                 <messageLanguage>{}</messageLanguage></auth:authentication>",
                escape(&self.delis_id),
                escape(&token),
                escape(&self.language)
            );
            let reply = self.soap(TRACK, &header, &body).await?;
            let outcome = soap_document(&reply).and_then(|document| read(&document));
            match outcome {
                // The token expired or was revoked: log in again, once.
                Err(CarrierError::Credentials { .. }) if !retried => {
                    self.tokens.invalidate(&token).await;
                    retried = true;
                }
                other => return other,
            }
        }
    }
}

/// A SOAP answer's document: the XML of a success or of a fault (DPD sends faults with a 500);
/// any other failure is the reply's classified error.
fn soap_document(reply: &Reply) -> Result<Element, CarrierError> {
    match parse_xml(CODE, &reply.body) {
        Ok(document) if reply.status.is_success() || document.soap_fault().is_some() => {
            Ok(document)
        }
        Ok(_) => Err(reply.error(CODE)),
        Err(_) if !reply.status.is_success() => Err(reply.error(CODE)),
        Err(malformed) => Err(malformed),
    }
}

/// Parses a `getTrackingData` answer (or its fault).
pub fn parse_response(body: &[u8]) -> TrackOutcome {
    read(&parse_xml(CODE, body)?)
}

fn read(document: &Element) -> TrackOutcome {
    if let Some((code, message)) = document.soap_fault() {
        let error = format!("{CODE} answered a fault: {code}: {message}");
        return if code.contains("AUTHENTICATION") || code.starts_with("LOGIN") {
            Err(CarrierError::credentials(format!(
                "{error}; check username (the delisId) and password in [carriers.{CODE}]"
            )))
        } else if code.contains("NOT_FOUND") {
            Ok(TrackResult::NotFound)
        } else {
            Err(CarrierError::retryable(error))
        };
    }
    let Some(result) = document.find("trackingresult") else {
        return Err(CarrierError::malformed(CODE, "no trackingresult"));
    };
    let mut events = EventList::new(code_table!("dpd"), Some(chrono_tz::Europe::Brussels));
    let reached = result
        .all("statusInfo")
        .filter(|info| info.text_of("statusHasBeenReached") == "true");
    for info in reached {
        let location = info.text_at(&["location", "content"]);
        let place =
            Place::city_and_country(&location).unwrap_or_else(|| Place::new(&location, "", "", ""));
        events.add(
            &info.text_at(&["date", "content"]),
            &info.text_of("status"),
            &info.text_at(&["description", "content", "content"]),
            place,
        );
    }
    Ok(events.finish(|| {
        let service = ["shipmentInfo", "serviceDescription", "content", "content"];
        let service = result.text_at(&service);
        ShipmentInfo {
            service_code: (!service.is_empty()).then_some(service),
            ..ShipmentInfo::default()
        }
    }))
}
