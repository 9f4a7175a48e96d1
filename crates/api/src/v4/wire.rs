//! The v4 wire format: request bodies and response objects with TrackingMore's exact field
//! names (including its `update_at` spelling), kept apart from the domain types so the domain can
//! change without breaking clients.

use chrono::{DateTime, SecondsFormat, Utc};
use parceld_detect::Courier;
use parceld_engine::RealtimeResult;
use parceld_model::{
    merchant_fields, Checkpoint, DeliveryStatus, Leg, Milestones, Tracking, TrackingFields,
};
use parceld_service::{validate, ServiceResult};
use parceld_store::NewTracking;
use serde::Serialize;
use utoipa::ToSchema;

/// Declares a request body: its own leading fields, then every merchant field (the list in
/// [`parceld_model::merchant_fields!`], with each field's v4 description), refusing unknown fields.
macro_rules! with_merchant_fields {
    (
        {
            $(#[$meta:meta])* $name:ident {
                $( $(#[$lead_meta:meta])* $lead:ident : $lead_ty:ty, )*
            }
        }
        $( $field:ident { doc: $doc:tt, v4: [$($v4_doc:tt)*], v2: $($v2:tt)* } )*
    ) => {
        merchant_body! {
            $(#[$meta])* $name { $( $(#[$lead_meta])* $lead: $lead_ty, )* }
            $( [$($v4_doc)*] $field )*
        }

        impl $name {
            /// The merchant fields of this body.
            pub fn merchant_fields(&self) -> TrackingFields {
                TrackingFields {
                    $( $field: self.$field.clone(), )*
                }
            }
        }
    };
}

merchant_fields!(with_merchant_fields {
    /// Body of `POST /v4/trackings/create` and one item of `POST /v4/trackings/batch`.
    CreateTrackingRequest {
        /// Required.
        tracking_number: Option<String>,
        /// Required until courier detection is available; see `GET /v4/couriers/all`.
        courier_code: Option<String>,
    }
});

impl CreateTrackingRequest {
    /// The tracking this body asks for, checked with the service's rules.
    pub fn new_tracking(&self) -> ServiceResult<NewTracking> {
        let (number, courier) = (&self.tracking_number, &self.courier_code);
        validate::new_tracking(
            number.as_deref(),
            courier.as_deref(),
            self.merchant_fields(),
        )
    }
}

merchant_fields!(with_merchant_fields {
    /// Body of `PUT /v4/trackings/update/{id}`.
    UpdateTrackingRequest {
        /// Moves the tracking to another courier.
        courier_code_new: Option<String>,
        /// `"true"` archives the tracking, `"false"` brings it back.
        archived_status: Option<String>,
    }
});

/// The `{meta, data}` envelope of every v4 response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Envelope<T> {
    pub meta: Meta,
    pub data: T,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Meta {
    pub code: u32,
    pub message: String,
}

impl Meta {
    /// The `meta` of every success.
    pub fn ok() -> Self {
        Meta {
            code: 200,
            message: "Request response is successful".to_string(),
        }
    }
}

impl<T> Envelope<T> {
    pub fn ok(data: T) -> Self {
        Envelope {
            meta: Meta::ok(),
            data,
        }
    }
}

/// Declares [`TrackingView`] with the merchant fields the v4 tracking object shows (the
/// `v4_tracking` selection of [`parceld_model::merchant_fields!`]).
macro_rules! tracking_view {
    ({} $( $field:ident $info:tt )*) => {
        /// A tracking as v4 returns it.
        #[derive(Debug, Serialize, ToSchema)]
        pub struct TrackingView<'a> {
            /// 32 lowercase hex characters.
            pub id: &'a str,
            pub tracking_number: &'a str,
            pub courier_code: &'a str,
            $( pub $field: Option<&'a str>, )*
            /// ISO-8601, UTC.
            pub created_at: String,
            /// ISO-8601, UTC (TrackingMore's spelling).
            pub update_at: String,
            /// One of the nine statuses.
            pub delivery_status: &'a str,
            pub substatus: Option<&'a str>,
            pub status_info: Option<&'a str>,
            pub latest_event: Option<&'a str>,
            pub latest_checkpoint_time: Option<String>,
            /// Days from the first checkpoint to delivery (or to now while undelivered).
            pub transit_time: i64,
            /// `"true"` or `"false"`.
            pub archived: &'a str,
            pub updating: bool,
            pub origin_country: Option<&'a str>,
            pub origin_state: Option<&'a str>,
            pub origin_city: Option<&'a str>,
            pub destination_country: Option<&'a str>,
            pub destination_state: Option<&'a str>,
            pub destination_city: Option<&'a str>,
            pub signed_by: Option<&'a str>,
            pub service_code: Option<&'a str>,
            pub weight: Option<&'a str>,
            pub weight_kg: Option<&'a str>,
            pub product_type: Option<&'a str>,
            pub pieces: Option<&'a str>,
            pub dimension: Option<&'a str>,
            pub previously: Option<&'a str>,
            pub destination_track_number: Option<&'a str>,
            pub exchange_number: Option<&'a str>,
            pub scheduled_delivery_date: Option<&'a str>,
            pub scheduled_address: Option<&'a str>,
            pub origin_info: CarrierLegView<'a>,
            pub destination_info: CarrierLegView<'a>,
            /// parceld extension: the courier was detected from the number, not given on create.
            pub courier_detected: bool,
            /// parceld extension: when parceld last asked the courier.
            pub last_checked_at: Option<String>,
            /// parceld extension: when parceld will next ask the courier.
            pub next_check_at: Option<String>,
            /// parceld extension: the last error the courier gave, if the last check failed.
            pub check_error: Option<&'a str>,
        }

        impl<'a> TrackingView<'a> {
            /// The view of `t`, borrowing its text: a 2000-tracking page copied every string once more
            /// when the view owned them.
            pub fn new(t: &'a Tracking, now: DateTime<Utc>) -> Self {
                let (origin, destination) = legs(t);
                let f = &t.fields;
                let s = &t.shipment;
                TrackingView {
                    id: t.id.as_str(),
                    tracking_number: &t.tracking_number,
                    courier_code: &t.courier_code,
                    $( $field: f.$field.as_deref(), )*
                    created_at: iso(t.created_at),
                    update_at: iso(t.updated_at),
                    delivery_status: t.delivery_status.as_str(),
                    substatus: t.substatus.map(|s| s.as_str()),
                    status_info: t.status_info.as_deref(),
                    latest_event: t.latest_event.as_deref(),
                    latest_checkpoint_time: opt_iso(t.latest_checkpoint_time),
                    transit_time: parceld_model::transit_days(&t.checkpoints, now),
                    archived: if t.archived { "true" } else { "false" },
                    updating: false,
                    origin_country: s
                        .origin_country
                        .as_deref()
                        .or(f.origin_country_iso2.as_deref()),
                    origin_state: s.origin_state.as_deref(),
                    origin_city: s.origin_city.as_deref(),
                    destination_country: s
                        .destination_country
                        .as_deref()
                        .or(f.destination_country_iso2.as_deref()),
                    destination_state: s.destination_state.as_deref(),
                    destination_city: s.destination_city.as_deref(),
                    signed_by: s.signed_by.as_deref(),
                    service_code: s.service_code.as_deref(),
                    weight: s.weight.as_deref(),
                    weight_kg: s.weight_kg.as_deref(),
                    product_type: s.product_type.as_deref(),
                    pieces: s.pieces.as_deref(),
                    dimension: s.dimension.as_deref(),
                    previously: s.previously.as_deref(),
                    destination_track_number: s.destination_track_number.as_deref(),
                    exchange_number: s.exchange_number.as_deref(),
                    scheduled_delivery_date: s.scheduled_delivery_date.as_deref(),
                    scheduled_address: s.scheduled_address.as_deref(),
                    origin_info: CarrierLegView::from((Some(t.courier_code.as_str()), origin)),
                    destination_info: CarrierLegView::from((s.destination_courier_code.as_deref(), destination)),
                    courier_detected: t.courier_detected,
                    last_checked_at: opt_iso(t.last_checked_at),
                    next_check_at: opt_iso(t.next_check_at),
                    check_error: t.check_error.as_deref(),
                }
            }
        }
    };
}

merchant_fields!(v4_tracking => tracking_view);

view_from! {
    /// One carrier leg (first mile or last mile).
    CarrierLegView<'a> from leg: (Option<&'a str>, Vec<&'a Checkpoint>);
    let (courier_code, checkpoints) = leg;
    let m = parceld_model::milestones(checkpoints.iter().copied());
    let courier = courier_code.and_then(parceld_detect::courier);
    {
        courier_code: Option<&'a str> = courier_code,
        courier_phone: Option<&'a str> = courier.map(|c| c.phone).filter(|p| !p.is_empty()),
        weblink: Option<&'a str> = courier.map(|c| c.url).filter(|u| !u.is_empty()),
        reference_number: Option<&'a str> = None,
        milestone_date: MilestoneView = MilestoneView::from(&m),
        pickup_date: Option<String> = opt_iso(m.pickup),
        departed_airport_date: Option<String> = None,
        arrived_abroad_date: Option<String> = None,
        customs_received_date: Option<String> = None,
        arrived_destination_date: Option<String> = None,
        /// Newest first.
        trackinfo: Vec<CheckpointView<'a>> = checkpoints.into_iter().map(CheckpointView::from).collect(),
    }
}

/// Declares [`MilestoneView`] from one list: each v4 milestone date beside the milestone of
/// [`parceld_model::Milestones`] it shows.
macro_rules! milestone_view {
    ($( $date:ident <- $milestone:ident, )*) => {
        #[derive(Debug, Serialize, ToSchema)]
        pub struct MilestoneView {
            $( pub $date: Option<String>, )*
        }

        impl From<&Milestones> for MilestoneView {
            fn from(m: &Milestones) -> Self {
                MilestoneView {
                    $( $date: opt_iso(m.$milestone), )*
                }
            }
        }
    };
}

milestone_view! {
    inforeceived_date <- inforeceived,
    pickup_date <- pickup,
    outfordelivery_date <- out_for_delivery,
    delivery_date <- delivered,
    returning_date <- returning,
    returned_date <- returned,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointView<'a> {
    /// Carrier-local time with its offset.
    pub checkpoint_date: &'a str,
    pub checkpoint_delivery_status: &'a str,
    pub checkpoint_delivery_substatus: Option<&'a str>,
    pub tracking_detail: &'a str,
    pub location: &'a str,
    pub country_iso2: &'a str,
    pub state: &'a str,
    pub city: &'a str,
    pub zip: &'a str,
    /// The carrier's own code.
    pub raw_status: &'a str,
    /// parceld extension: the carrier's timestamp text as it sent it.
    pub raw_time: &'a str,
}

/// A tracking's checkpoints of the first mile and of the last mile (both faces show them apart).
pub fn legs(t: &Tracking) -> (Vec<&Checkpoint>, Vec<&Checkpoint>) {
    t.checkpoints.iter().partition(|c| c.leg == Leg::Origin)
}

/// ISO-8601 with an explicit `+00:00`, as TrackingMore writes times.
pub fn iso(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, false)
}

fn opt_iso(time: Option<DateTime<Utc>>) -> Option<String> {
    time.map(iso)
}

impl<'a> From<&'a Checkpoint> for CheckpointView<'a> {
    fn from(c: &'a Checkpoint) -> Self {
        CheckpointView {
            checkpoint_date: &c.checkpoint_date,
            checkpoint_delivery_status: c.status.as_str(),
            checkpoint_delivery_substatus: c.substatus.map(|s| s.as_str()),
            tracking_detail: &c.detail,
            location: &c.location,
            country_iso2: &c.country_iso2,
            state: &c.state,
            city: &c.city,
            zip: &c.zip,
            raw_status: &c.raw_status,
            raw_time: &c.raw_time,
        }
    }
}

text_bodies! {
    /// Body of `POST /v4/trackings/realtime`: one shipment, by id or by number and courier.
    RealtimeRequest {
        /// The tracking id; or give `tracking_number` (and `courier_code`).
        id,
        tracking_number,
        /// Detected from the number when missing.
        courier_code,
        /// Needed by some couriers (see `tracking_required_fields` of the courier).
        tracking_postal_code,
        tracking_ship_date,
        tracking_destination_country,
        lang,
    }

    /// Body of `POST /v4/couriers/detect`.
    DetectRequest { tracking_number }
}

view_from! {
    /// `data` of `POST /v4/trackings/realtime`: the tracking plus where the data came from.
    RealtimeView<'a> from result: &'a RealtimeResult;
    let (fetched_at, fetched_from, carrier_error) = realtime_extras(result);
    {
        #[serde(flatten)]
        tracking: TrackingView<'a> = TrackingView::new(&result.tracking, Utc::now()),
        /// parceld extension: when the data was fetched from the courier.
        fetched_at: Option<String> = fetched_at,
        /// parceld extension: `carrier` (fetched now) or `store` (fetched less than 2 hours ago,
        /// or the courier has no adapter, or a refresh of it is already running).
        fetched_from: String = fetched_from,
        /// parceld extension: the courier's error when this fetch failed; stored data is unchanged.
        carrier_error: Option<String> = carrier_error,
    }
}

/// Declares [`UpdateResultView`] with the merchant fields the v4 update result echoes (the
/// `v4_update` selection of [`parceld_model::merchant_fields!`]).
macro_rules! update_result_view {
    ({} $( $field:ident $info:tt )*) => {
        /// `data` of `PUT /v4/trackings/update/{id}`.
        #[derive(Debug, Serialize, ToSchema)]
        pub struct UpdateResultView {
            pub id: String,
            pub tracking_number: String,
            pub courier_code: String,
            $( pub $field: Option<String>, )*
            /// `"true"` or `"false"`.
            pub archived_status: String,
        }

        impl From<&Tracking> for UpdateResultView {
            fn from(t: &Tracking) -> Self {
                let f = &t.fields;
                UpdateResultView {
                    id: t.id.to_string(),
                    tracking_number: t.tracking_number.clone(),
                    courier_code: t.courier_code.clone(),
                    $( $field: f.$field.clone(), )*
                    archived_status: t.archived.to_string(),
                }
            }
        }
    };
}

merchant_fields!(v4_update => update_result_view);

/// `data` of `POST /v4/trackings/batch`.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct BatchResultView {
    pub success: Vec<BatchItemView>,
    pub error: Vec<BatchItemView>,
}

/// One batch item; `errorCode`/`errorMessage` only on failures (TrackingMore's camelCase).
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchItemView {
    pub id: Option<String>,
    pub tracking_number: Option<String>,
    pub courier_code: Option<String>,
    #[serde(rename = "errorCode", skip_serializing_if = "Option::is_none")]
    pub error_code: Option<u32>,
    #[serde(rename = "errorMessage", skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// What both faces add to a real-time answer's tracking (parceld extensions): when the courier
/// was asked, whether the data came from the `store` or the `carrier`, and the courier's error.
pub fn realtime_extras(result: &RealtimeResult) -> (Option<String>, String, Option<String>) {
    let from = if result.from_store {
        "store"
    } else {
        "carrier"
    };
    let error = result.carrier_error.clone();
    (result.fetched_at.map(iso), from.to_string(), error)
}

view_from! {
    /// A courier as `GET /v4/couriers/all` lists it.
    CourierView from c: &Courier;
    {
        courier_name: String = c.name.to_string(),
        courier_code: String = c.code.to_string(),
        courier_country_iso2: String = c.country_iso2.to_string(),
        courier_url: String = c.url.to_string(),
        courier_phone: String = c.phone.to_string(),
        /// `express` or `postal`.
        courier_type: String = c.courier_type.as_str().to_string(),
        tracking_required_fields: Vec<String> = c.tracking_required_fields.iter().map(|f| f.to_string()).collect(),
        optional_fields: Vec<String> = Vec::new(),
        default_language: String = "en".to_string(),
        support_language: Vec<String> = vec!["en".to_string()],
        courier_logo: String = String::new(),
        /// parceld extension: whether parceld has an adapter for this courier's tracking API.
        supported: bool = c.has_adapter,
        /// parceld extension: whether this server is configured to fetch tracking from this courier
        /// (its `[carriers.<code>]` credentials are set and were not refused, or an
        /// `[upstreams.<name>]` routes it).
        configured: bool = false,
        /// parceld extension: how parceld can reach this courier: `own_api` (an adapter of its
        /// own) or `upstream` (only through an aggregator: 17TRACK, AfterShip, TrackingMore).
        reached_by: String = if c.has_adapter { "own_api" } else { "upstream" }.to_string(),
        /// parceld extension: the upstream this server routes the courier through (`17track`,
        /// `aftership`, `trackingmore`), null when none does.
        upstream: Option<String> = None,
        /// parceld extension: how this server learns of the courier's changes: `push` (a push
        /// source covers it, `/hooks/<source>`: the carrier's own or its upstream's webhook; polls
        /// are only a slow safety net) or `poll`.
        updates: String = "poll".to_string(),
        /// parceld extension: that upstream's quota as this process sees it.
        upstream_quota: Option<super::reach::UpstreamQuota> = None,
        /// parceld extension: the courier's recent health on this server, null before any call.
        health: Option<super::reach::CourierHealth> = None,
    }
}

/// A detected courier: the courier object plus parceld's confidence and reason.
#[derive(Debug, Serialize, ToSchema)]
pub struct DetectedCourierView {
    #[serde(flatten)]
    pub courier: CourierView,
    /// parceld extension: 0 to 1, higher is more certain.
    pub confidence: f32,
    /// parceld extension: the number format that matched.
    pub format: String,
    /// parceld extension: whether the format's check digit was verified.
    pub check_digit_valid: bool,
    /// parceld extension: why this courier, in words.
    pub reason: String,
}

impl From<&parceld_detect::Candidate> for DetectedCourierView {
    fn from(c: &parceld_detect::Candidate) -> Self {
        DetectedCourierView {
            courier: CourierView::from(c.courier),
            confidence: c.confidence,
            format: c.format.to_string(),
            check_digit_valid: c.check_digit == parceld_detect::CheckDigit::Valid,
            reason: c.reason.clone(),
        }
    }
}

/// The statuses accepted by filters, for error messages.
pub fn status_list() -> String {
    DeliveryStatus::ALL
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// Every merchant field by its v4 name.
    const ALL: &[&str] = TrackingFields::NAMES;

    /// A tracking whose every merchant field is set to `<name>-value`.
    fn tracking_with_every_field() -> Tracking {
        let values: serde_json::Map<String, Value> = ALL
            .iter()
            .map(|name| (name.to_string(), json!(format!("{name}-value"))))
            .collect();
        let mut t = crate::webhook_payload::sample_tracking(Utc::now());
        t.fields = serde_json::from_value(Value::Object(values)).unwrap();
        t
    }

    #[test]
    fn a_create_body_takes_every_merchant_field() {
        let body: Value = ALL
            .iter()
            .map(|name| (name.to_string(), json!(format!("{name}-value"))))
            .chain([("tracking_number".to_string(), json!("1Z"))])
            .collect::<serde_json::Map<_, _>>()
            .into();
        let request: CreateTrackingRequest = serde_json::from_value(body).unwrap();
        assert_eq!(
            request.merchant_fields(),
            tracking_with_every_field().fields
        );
        let update: UpdateTrackingRequest =
            serde_json::from_value(json!({"auto_correct": "true", "note": "n"})).unwrap();
        assert_eq!(
            update.merchant_fields().auto_correct.as_deref(),
            Some("true")
        );
        assert_eq!(update.merchant_fields().note.as_deref(), Some("n"));
        assert!(serde_json::from_value::<CreateTrackingRequest>(json!({"comment": "x"})).is_err());
    }

    #[test]
    fn the_tracking_view_shows_its_merchant_fields_and_folds_the_countries() {
        let t = tracking_with_every_field();
        let view = serde_json::to_value(TrackingView::new(&t, Utc::now())).unwrap();
        for &name in ALL {
            match name {
                "origin_country_iso2"
                | "destination_country_iso2"
                | "language"
                | "auto_correct" => assert!(view.get(name).is_none(), "{name} is not shown"),
                _ => assert_eq!(view[name], format!("{name}-value"), "{name}"),
            }
        }
        assert_eq!(view["origin_country"], "origin_country_iso2-value");
        assert_eq!(
            view["destination_country"],
            "destination_country_iso2-value"
        );

        let mut bare = t.clone();
        bare.fields = TrackingFields::default();
        let view = serde_json::to_value(TrackingView::new(&bare, Utc::now())).unwrap();
        assert_eq!(view["title"], Value::Null, "unset fields are shown as null");
        assert!(view.as_object().unwrap().contains_key("title"));
    }

    #[test]
    fn the_update_result_echoes_every_field_but_auto_correct() {
        let t = tracking_with_every_field();
        let view = serde_json::to_value(UpdateResultView::from(&t)).unwrap();
        for &name in ALL {
            if name == "auto_correct" {
                assert!(view.get(name).is_none());
            } else {
                assert_eq!(view[name], format!("{name}-value"), "{name}");
            }
        }
        assert_eq!(view["archived_status"], "false");
    }
}
