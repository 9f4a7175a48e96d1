//! What a shipment page shows, worked out from a stored tracking: the status in words, the
//! milestones reached, the timeline in the reader's language, the courier, and — only after
//! the second factor — the order's own fields.
//!
//! The HTML page, the embeddable widget and the JSON endpoint all render this one
//! [`ShipmentView`], so they can never disagree about what a visitor may see.

use chrono::{DateTime, FixedOffset, NaiveDate};
use parceld_model::{milestones, DeliveryStatus, Milestones, SubStatus, Tracking};
use parceld_store::PageSettings;
use serde::Serialize;

use crate::i18n::Texts;

/// One step of the progress bar.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub label: String,
    /// `done`, `current`, `todo` or `problem`.
    pub state: &'static str,
    /// The words a screen reader says for the state.
    pub state_words: String,
    pub date: Option<String>,
}

/// One carrier event, as the carrier wrote it, at the place's local time.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub date: String,
    pub time: String,
    /// The instant, for `<time datetime>`.
    pub datetime: String,
    pub place: String,
    pub detail: String,
}

/// The courier as the page names it.
#[derive(Debug, Clone, Serialize)]
pub struct CourierView {
    pub code: String,
    pub name: String,
    pub url: Option<String>,
    pub phone: Option<String>,
}

/// Everything one parcel's section shows.
#[derive(Debug, Clone, Serialize)]
pub struct ShipmentView {
    pub tracking_number: String,
    pub status: &'static str,
    pub substatus: Option<&'static str>,
    /// The status in words, e.g. "Out for delivery".
    pub headline: String,
    /// The sub-status in a sentence, when there is one.
    pub explanation: Option<String>,
    /// `ok`, `done` or `problem`: how the headline is coloured.
    pub tone: &'static str,
    pub steps: Vec<Step>,
    pub latest: Option<Event>,
    pub estimated_delivery: Option<String>,
    pub courier: CourierView,
    pub events: Vec<Event>,
    /// Only after the second factor, and only when the shop shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_number: Option<String>,
    /// What is shipped (the merchant's title), only after the second factor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contents: Option<String>,
}

/// Whether the visitor proved they are the customer (order number plus email, phone or
/// postal code). A tracking number alone never shows the order's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Journey,
    Order,
}

const STEP_KEYS: [&str; 5] = [
    "milestone-ordered",
    "milestone-inforeceived",
    "milestone-transit",
    "milestone-pickup",
    "milestone-delivered",
];

fn place(c: &parceld_model::Checkpoint) -> String {
    let parts: Vec<&str> = [c.city.as_str(), c.state.as_str(), c.country_iso2.as_str()]
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .collect();
    if parts.is_empty() {
        c.location.trim().to_string()
    } else {
        parts.join(", ")
    }
}

/// The event's local time (the offset the carrier gave in `checkpoint_date`, else UTC) and
/// that instant written for `<time datetime>`: the carrier's own text when it is RFC 3339.
fn local_time(c: &parceld_model::Checkpoint) -> (DateTime<FixedOffset>, String) {
    match DateTime::parse_from_rfc3339(&c.checkpoint_date) {
        Ok(local) => (local, c.checkpoint_date.clone()),
        Err(_) => (c.time.fixed_offset(), c.time.to_rfc3339()),
    }
}

fn event(texts: &Texts, c: &parceld_model::Checkpoint) -> Event {
    let (local, datetime) = local_time(c);
    let (date, time) = texts.local(local);
    Event {
        date,
        time,
        datetime,
        place: place(c),
        detail: c.detail.clone(),
    }
}

/// The estimated delivery date a carrier gave (a date or an instant), in the reader's format;
/// a value parceld cannot read is shown as written.
fn estimated_delivery(texts: &Texts, raw: &str) -> String {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return texts.date(at.date_naive());
    }
    match NaiveDate::parse_from_str(raw.get(..10).unwrap_or(raw), "%Y-%m-%d") {
        Ok(date) => texts.date(date),
        Err(_) => raw.to_string(),
    }
}

/// How far along the five milestones a status is, and whether it stopped on a problem.
fn position(tracking: &Tracking, m: &Milestones) -> (usize, bool) {
    let reached = if m.delivered.is_some() {
        4
    } else if m.out_for_delivery.is_some() {
        3
    } else if m.pickup.is_some() {
        2
    } else if m.inforeceived.is_some() {
        1
    } else {
        0
    };
    match tracking.delivery_status {
        DeliveryStatus::Delivered => (4, false),
        DeliveryStatus::Pickup => (reached.max(3), false),
        DeliveryStatus::Transit => (reached.max(2), false),
        DeliveryStatus::Inforeceived => (reached.max(1), false),
        DeliveryStatus::Pending | DeliveryStatus::Notfound => (reached, false),
        DeliveryStatus::Undelivered => (reached.max(3), true),
        DeliveryStatus::Exception | DeliveryStatus::Expired => (reached, true),
    }
}

fn steps(texts: &Texts, tracking: &Tracking) -> Vec<Step> {
    let m = milestones(&tracking.checkpoints);
    let dates = [
        Some(tracking.created_at),
        m.inforeceived,
        m.pickup,
        m.out_for_delivery,
        m.delivered,
    ];
    let (reached, problem) = position(tracking, &m);
    STEP_KEYS
        .iter()
        .zip(dates)
        .enumerate()
        .map(|(i, (key, date))| {
            let state = if problem && i == (reached + 1).min(4) {
                "problem"
            } else if i < reached || (i == reached && (i == 4 || problem)) {
                "done"
            } else if i == reached {
                "current"
            } else {
                "todo"
            };
            let state_words = match state {
                "done" => texts.get("step-done"),
                "current" => texts.get("step-current"),
                "problem" => texts.get("step-problem"),
                _ => "",
            };
            // The step where it went wrong is named by what went wrong, not by the milestone
            // it did not reach ("Delivery attempt failed", not "Delivered").
            let label = if state == "problem" {
                texts.get(&format!("status-{}", tracking.delivery_status.as_str()))
            } else {
                texts.get(key)
            };
            Step {
                label: label.to_string(),
                state,
                state_words: state_words.to_string(),
                date: (i <= reached)
                    .then_some(date)
                    .flatten()
                    .map(|d| texts.date(d.date_naive())),
            }
        })
        .collect()
}

fn tone(status: DeliveryStatus) -> &'static str {
    match status {
        DeliveryStatus::Delivered => "done",
        DeliveryStatus::Undelivered | DeliveryStatus::Exception | DeliveryStatus::Expired => {
            "problem"
        }
        _ => "ok",
    }
}

/// Whether an estimated delivery date still means something: not once delivered, and not for
/// a parcel that is lost, returned or silent.
fn still_expected(status: DeliveryStatus) -> bool {
    !matches!(
        status,
        DeliveryStatus::Delivered | DeliveryStatus::Exception | DeliveryStatus::Expired
    )
}

fn courier(code: &str, settings: &PageSettings) -> CourierView {
    let known = parceld_detect::courier(code);
    let contact = |text: Option<&'static str>| {
        text.filter(|t| !t.is_empty() && settings.show_courier_contact)
            .map(str::to_string)
    };
    CourierView {
        code: code.to_string(),
        name: known.map_or_else(|| code.to_string(), |c| c.name.to_string()),
        url: contact(known.map(|c| c.url)),
        phone: contact(known.map(|c| c.phone)),
    }
}

/// The view of one tracking for a visitor with `access`, in `texts`' language.
pub fn shipment(
    texts: &Texts,
    tracking: &Tracking,
    settings: &PageSettings,
    access: Access,
) -> ShipmentView {
    let substatus: Option<SubStatus> = tracking.substatus;
    let events: Vec<Event> = tracking
        .checkpoints
        .iter()
        .map(|c| event(texts, c))
        .collect();
    let order = access == Access::Order;
    ShipmentView {
        tracking_number: tracking.tracking_number.clone(),
        status: tracking.delivery_status.as_str(),
        substatus: substatus.map(SubStatus::as_str),
        headline: texts
            .get(&format!("status-{}", tracking.delivery_status.as_str()))
            .to_string(),
        explanation: substatus.map(|s| texts.get(&format!("substatus-{}", s.as_str())).to_string()),
        tone: tone(tracking.delivery_status),
        steps: steps(texts, tracking),
        latest: events.first().cloned(),
        estimated_delivery: tracking
            .shipment
            .scheduled_delivery_date
            .as_deref()
            .filter(|_| {
                settings.show_estimated_delivery && still_expected(tracking.delivery_status)
            })
            .map(|raw| estimated_delivery(texts, raw)),
        courier: courier(&tracking.courier_code, settings),
        events,
        order_number: tracking
            .fields
            .order_number
            .clone()
            .filter(|_| order && settings.show_order_number),
        contents: tracking.fields.title.clone().filter(|_| order),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use parceld_model::{Checkpoint, Language, TrackingFields};

    fn tracking(status: DeliveryStatus, events: &[(DeliveryStatus, &str)]) -> Tracking {
        let checkpoints = events
            .iter()
            .rev()
            .map(|(s, at)| Checkpoint {
                checkpoint_date: at.to_string(),
                detail: format!("{s:?} here"),
                city: "Utrecht".into(),
                country_iso2: "NL".into(),
                ..Checkpoint::at(DateTime::parse_from_rfc3339(at).unwrap().to_utc(), *s)
            })
            .collect();
        Tracking {
            id: parceld_model::TrackingId::generate(),
            tracking_number: "PAGE-TEST-1".into(),
            courier_code: "dhl".into(),
            courier_detected: false,
            fields: TrackingFields {
                order_number: Some("#1001".into()),
                title: Some("Blue shoes".into()),
                ..TrackingFields::default()
            },
            shipment: Default::default(),
            delivery_status: status,
            substatus: None,
            status_info: None,
            latest_event: None,
            latest_checkpoint_time: None,
            archived: false,
            created_at: Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap(),
            updated_at: Utc::now(),
            last_checked_at: None,
            next_check_at: None,
            check_error: None,
            checkpoints,
        }
    }

    fn states(view: &ShipmentView) -> Vec<&'static str> {
        view.steps.iter().map(|s| s.state).collect()
    }

    #[test]
    fn progress_follows_the_status_and_shows_problems_honestly() {
        let en = crate::i18n::texts(Language::En);
        let settings = PageSettings::default();
        let transit = tracking(
            DeliveryStatus::Transit,
            &[
                (DeliveryStatus::Inforeceived, "2025-03-01T10:00:00+01:00"),
                (DeliveryStatus::Transit, "2025-03-02T08:30:00+01:00"),
            ],
        );
        let view = shipment(en, &transit, &settings, Access::Journey);
        assert_eq!(states(&view), ["done", "done", "current", "todo", "todo"]);
        assert_eq!(view.headline, "In transit");
        assert_eq!(
            view.latest.as_ref().unwrap().time,
            "8:30 AM",
            "the place's local time"
        );
        assert_eq!(view.latest.as_ref().unwrap().place, "Utrecht, NL");

        let failed = tracking(
            DeliveryStatus::Undelivered,
            &[(DeliveryStatus::Pickup, "2025-03-03T08:00:00+01:00")],
        );
        let view = shipment(en, &failed, &settings, Access::Journey);
        assert_eq!(states(&view), ["done", "done", "done", "done", "problem"]);
        assert_eq!(view.tone, "problem");
        assert_eq!(
            view.steps[4].label, "Delivery attempt failed",
            "named by what went wrong"
        );

        for (status, reached, expected) in [
            (
                DeliveryStatus::Exception,
                DeliveryStatus::Transit,
                ["done", "done", "done", "problem", "todo"],
            ),
            (
                DeliveryStatus::Delivered,
                DeliveryStatus::Delivered,
                ["done", "done", "done", "done", "done"],
            ),
        ] {
            let t = tracking(status, &[(reached, "2025-03-04T12:00:00+01:00")]);
            let view = shipment(en, &t, &settings, Access::Journey);
            assert_eq!(states(&view), expected, "{status:?}");
        }
    }

    #[test]
    fn order_fields_need_the_second_factor_and_the_shops_consent() {
        let en = crate::i18n::texts(Language::En);
        let t = tracking(DeliveryStatus::Transit, &[]);
        let journey = shipment(en, &t, &PageSettings::default(), Access::Journey);
        assert_eq!(journey.order_number, None);
        assert_eq!(journey.contents, None);
        let order = shipment(en, &t, &PageSettings::default(), Access::Order);
        assert_eq!(order.order_number.as_deref(), Some("#1001"));
        assert_eq!(order.contents.as_deref(), Some("Blue shoes"));
        let hidden = PageSettings {
            show_order_number: false,
            ..PageSettings::default()
        };
        assert_eq!(shipment(en, &t, &hidden, Access::Order).order_number, None);
    }
}
