//! Building checkpoints from carrier events: the one place that fills the location fields the
//! same way for every carrier.

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use chrono_tz::Tz;
use parceld_model::{Checkpoint, DeliveryStatus, Leg, ShipmentInfo, SubStatus};
use serde_json::Value;

use crate::json::text_or_empty;
use crate::tables::CodeTable;
use crate::time::{parse_stamp, resolve_with_neighbours, zone_for, Zone};
use crate::TrackResult;

/// A status with its optional sub-status, as the code tables map them.
pub type Mapped = (DeliveryStatus, Option<SubStatus>);

/// Where an event happened, as far as the carrier says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Place {
    pub city: String,
    pub state: String,
    pub zip: String,
    pub country: String,
}

impl Place {
    pub fn new(city: &str, state: &str, zip: &str, country: &str) -> Self {
        Place {
            city: city.trim().to_string(),
            state: state.trim().to_string(),
            zip: zip.trim().to_string(),
            country: country.trim().to_ascii_uppercase(),
        }
    }

    /// `Puurs (BE)`, `CHICAGO (US)`: a city with its two-letter country in parentheses.
    pub fn city_and_country(text: &str) -> Option<Place> {
        let (city, country) = text.trim().strip_suffix(')')?.rsplit_once(" (")?;
        (country.len() == 2).then(|| Place::new(city, "", "", country))
    }

    /// `City, ST, ZIP, CC`, leaving out what is empty.
    pub fn location(&self) -> String {
        [&self.city, &self.state, &self.zip, &self.country]
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One checkpoint on the origin leg.
pub fn checkpoint(
    at: DateTime<FixedOffset>,
    mapped: Mapped,
    raw_status: &str,
    detail: &str,
    place: &Place,
    raw_time: &str,
) -> Checkpoint {
    Checkpoint {
        leg: Leg::Origin,
        time: at.with_timezone(&Utc),
        checkpoint_date: crate::time::display(&at),
        status: mapped.0,
        substatus: mapped.1,
        detail: detail.trim().to_string(),
        location: place.location(),
        country_iso2: place.country.clone(),
        state: place.state.clone(),
        city: place.city.clone(),
        zip: place.zip.clone(),
        raw_status: raw_status.trim().to_string(),
        raw_time: raw_time.trim().to_string(),
    }
}

/// An event as read from a carrier whose times may come without a zone: its wall-clock time,
/// the zone the carrier gave (if any), and what its checkpoint will say.
#[derive(Debug, Clone)]
pub struct LocalEvent {
    pub local: NaiveDateTime,
    pub zone: Option<Zone>,
    pub mapped: Mapped,
    pub raw_status: String,
    pub detail: String,
    pub place: Place,
    pub raw_time: String,
}

/// The checkpoints of `events`, in their order; an event without a zone borrows the zone of its
/// nearest neighbour that has one ([`resolve_with_neighbours`]).
pub fn resolve_events(events: &[LocalEvent]) -> Vec<Checkpoint> {
    let zones: Vec<_> = events.iter().map(|e| (e.local, e.zone)).collect();
    events
        .iter()
        .zip(resolve_with_neighbours(&zones))
        .map(|(e, at)| {
            checkpoint(
                at,
                e.mapped,
                &e.raw_status,
                &e.detail,
                &e.place,
                &e.raw_time,
            )
        })
        .collect()
}

/// A shipment's events as an adapter reads them, mapped by the carrier's code table and turned
/// into a [`TrackResult`] at the end: the one path every table-driven adapter takes from a
/// carrier's events to checkpoints.
#[derive(Debug)]
pub struct EventList {
    table: &'static CodeTable,
    home: Option<Tz>,
    events: Vec<LocalEvent>,
}

impl EventList {
    /// Events mapped by `table`; `home` is the zone of times that carry no offset and whose
    /// place names no country with one zone (the carrier's home zone, if it has one).
    pub fn new(table: &'static CodeTable, home: Option<Tz>) -> Self {
        EventList {
            table,
            home,
            events: Vec::new(),
        }
    }

    /// Adds an event: its time as the carrier wrote it ([`parse_stamp`]), its code and text
    /// (mapped by the table, kept as `raw_status` and `detail`; without a code the text is the
    /// raw status) and where it happened. An event whose time cannot be read is left out.
    pub fn add(&mut self, time: &str, code: &str, text: &str, place: Place) {
        if let Some((local, offset)) = parse_stamp(time) {
            self.add_local(local, offset.map(Zone::Fixed), time, code, text, place);
        }
    }

    /// Adds a JSON event from its fields named `time`, `code` and `text` (a code field that
    /// does not exist reads as no code).
    pub fn add_json(&mut self, event: &Value, [time, code, text]: [&str; 3], place: Place) {
        let field = |name| text_or_empty(event, name);
        self.add(&field(time), &field(code), &field(text), place);
    }

    /// Adds an event whose wall-clock time the adapter read itself (a carrier that splits date
    /// and time), with the zone it gave, if any.
    pub fn add_local(
        &mut self,
        local: NaiveDateTime,
        zone: Option<Zone>,
        raw_time: &str,
        code: &str,
        text: &str,
        place: Place,
    ) {
        let zone = zone.or_else(|| {
            zone_for(&place.country, &place.state)
                .or(self.home)
                .map(Zone::Named)
        });
        let raw_status = if code.trim().is_empty() { text } else { code };
        self.events.push(LocalEvent {
            local,
            zone,
            mapped: self.table.map(code, text),
            raw_status: raw_status.trim().to_string(),
            detail: text.trim().to_string(),
            place,
            raw_time: raw_time.trim().to_string(),
        });
    }

    /// The shipment with `info`, or `NotFound` when no event was read.
    pub fn finish(self, info: impl FnOnce() -> ShipmentInfo) -> TrackResult {
        TrackResult::unless_empty(resolve_events(&self.events), info)
    }
}

/// Empty strings as `None`, trimmed.
pub fn non_empty(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}
