//! The legacy v2 wire format: TrackingMore's v2 field names (`carrier_code`, `status`,
//! `lastEvent`, `lastUpdateTime`, `origin_info.trackinfo[{Date, StatusDescription, Details}]`,
//! even its `singed_by` spelling), kept apart from the domain types and from the v4 wire so that
//! neither face's clients notice when the other changes.

use chrono::{DateTime, Utc};
use parceld_detect::Courier;
use parceld_engine::RealtimeResult;
use parceld_model::{merchant_fields, Checkpoint, DeliveryStatus, Tracking, TrackingFields};
use parceld_service::{validate, ServiceResult};
use parceld_store::NewTracking;
use serde::Serialize;
use utoipa::ToSchema;

use crate::v4::wire::{legs, realtime_extras};

/// The `{meta, data}` envelope of every v2 response.
#[derive(Debug, Serialize, ToSchema)]
pub struct V2Envelope<T> {
    pub meta: V2Meta,
    pub data: T,
}

/// `meta` of a v2 response: the code, its type (`Success`, `Bad Request` …) and a message.
#[derive(Debug, Serialize, ToSchema)]
pub struct V2Meta {
    pub code: u32,
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
}

impl<T> V2Envelope<T> {
    pub fn ok(data: T) -> Self {
        V2Envelope {
            meta: V2Meta {
                code: 200,
                kind: "Success".to_string(),
                message: "Success".to_string(),
            },
            data,
        }
    }
}

/// Declares a v2 request body: its own leading fields, then the merchant fields v2 knows (the
/// `v2_request` selection of [`parceld_model::merchant_fields!`], under their v2 names and with
/// their v2 descriptions), refusing unknown fields, and the mapping onto parceld's fields.
macro_rules! with_v2_merchant_fields {
    (
        {
            $(#[$meta:meta])* $name:ident {
                $( $(#[$lead_meta:meta])* $lead:ident : $lead_ty:ty, )*
            }
        }
        $( $field:ident { doc: $doc:tt, v4: $v4:tt, v2: [$v2_name:tt] [$($v2_doc:tt)*] } )*
    ) => {
        merchant_body! {
            $(#[$meta])* $name { $( $(#[$lead_meta])* $lead: $lead_ty, )* }
            $( [$($v2_doc)* #[serde(rename = $v2_name)]] $field )*
        }

        impl $name {
            /// The merchant fields, in parceld's (v4) names.
            pub fn merchant_fields(&self) -> TrackingFields {
                TrackingFields {
                    $( $field: self.$field.clone(), )*
                    ..TrackingFields::default()
                }
            }
        }
    };
}

merchant_fields!(v2_request => with_v2_merchant_fields {
    /// Body of `POST /v2/trackings/post`, `POST /v2/trackings/realtime` and one item of
    /// `POST /v2/trackings/batch`.
    V2CreateRequest {
        /// Required.
        tracking_number: Option<String>,
        /// Detected from the number when missing; `GET /v2/carriers` lists the codes.
        carrier_code: Option<String>,
    }
});

impl V2CreateRequest {
    /// The tracking this body asks for, checked with the service's rules.
    pub fn new_tracking(&self) -> ServiceResult<NewTracking> {
        let (number, carrier) = (&self.tracking_number, &self.carrier_code);
        validate::new_tracking(
            number.as_deref(),
            carrier.as_deref(),
            self.merchant_fields(),
        )
    }
}

merchant_fields!(v2_request => with_v2_merchant_fields {
    /// Body of `PUT /v2/trackings/{carrier_code}/{tracking_number}`: the fields to change.
    V2UpdateRequest {
        /// `"true"` archives the tracking (it is no longer refreshed), `"false"` brings it back.
        archived: Option<String>,
        /// TrackingMore lets a merchant force a status here; parceld's statuses come only from the
        /// courier, so any value is refused with 4033.
        status: Option<serde_json::Value>,
    }
});

text_bodies! {
    /// One item of `POST /v2/trackings/notupdate` and `POST /v2/trackings/delete`.
    V2NumberRequest { tracking_number, carrier_code }

    /// Body of `POST /v2/trackings/update`: move a tracking to another courier.
    V2ChangeCarrierRequest {
        tracking_number,
        /// The courier the tracking has now.
        carrier_code,
        /// The courier it should have.
        update_carrier_code,
    }

    /// Body of `POST /v2/carriers/detect`.
    V2DetectRequest { tracking_number }
}

view_from! {
    /// One checkpoint as v2 shows it.
    V2Checkpoint from c: &Checkpoint;
    {
        /// Carrier-local time, `YYYY-MM-DD HH:MM:SS`.
        #[serde(rename = "Date")]
        date: String = local_time(c),
        #[serde(rename = "StatusDescription")]
        status_description: String = c.detail.clone(),
        /// Where it happened.
        #[serde(rename = "Details")]
        details: String = c.location.clone(),
        /// One of the nine statuses.
        checkpoint_status: String = c.status.as_str().to_string(),
        substatus: Option<String> = c.substatus.map(|s| s.as_str().to_string()),
    }
}

view_from! {
    /// One carrier leg (first mile or last mile) as v2 shows it.
    V2Leg from leg: (Option<&str>, Vec<&Checkpoint>);
    let (courier_code, checkpoints) = leg;
    let m = parceld_model::milestones(checkpoints.iter().copied());
    let courier = courier_code.and_then(parceld_detect::courier);
    {
        #[serde(rename = "ItemReceived")]
        item_received: Option<String> = m.inforeceived.map(plain_time),
        #[serde(rename = "ItemDispatched")]
        item_dispatched: Option<String> = m.pickup.map(plain_time),
        #[serde(rename = "DepartfromAirport")]
        depart_from_airport: Option<String> = None,
        #[serde(rename = "ArrivalfromAbroad")]
        arrival_from_abroad: Option<String> = None,
        #[serde(rename = "CustomsClearance")]
        customs_clearance: Option<String> = None,
        #[serde(rename = "DestinationArrived")]
        destination_arrived: Option<String> = None,
        weblink: Option<String> = courier.map(|c| c.url.to_string()).filter(|u| !u.is_empty()),
        phone: Option<String> = courier.map(|c| c.phone.to_string()).filter(|p| !p.is_empty()),
        carrier_code: Option<String> = courier_code.map(str::to_string),
        /// Newest first.
        trackinfo: Vec<V2Checkpoint> = checkpoints.into_iter().map(V2Checkpoint::from).collect(),
    }
}

/// Declares [`V2Tracking`] with the merchant fields the v2 tracking object shows (the
/// `v2_tracking` selection of [`parceld_model::merchant_fields!`], under their v2 names).
macro_rules! v2_tracking {
    ({} $( $field:ident { doc: $doc:tt, v4: $v4:tt, v2: [$v2_name:tt] $v2_doc:tt } )*) => {
        /// A tracking as v2 returns it.
        #[derive(Debug, Serialize, ToSchema)]
        pub struct V2Tracking {
            pub id: String,
            pub tracking_number: String,
            pub carrier_code: String,
            /// One of the nine statuses.
            pub status: String,
            pub substatus: Option<String>,
            /// ISO-8601, UTC.
            pub created_at: String,
            /// ISO-8601, UTC.
            pub updated_at: String,
            $(
                #[serde(rename = $v2_name)]
                pub $field: Option<String>,
            )*
            pub original_country: Option<String>,
            pub destination_country: Option<String>,
            /// Who signed for it (TrackingMore's v2 spelling).
            pub singed_by: Option<String>,
            /// `"true"` or `"false"`; archived trackings are not refreshed.
            pub archived: String,
            #[serde(rename = "lastEvent")]
            pub last_event: Option<String>,
            /// `YYYY-MM-DD HH:MM:SS`, UTC.
            #[serde(rename = "lastUpdateTime")]
            pub last_update_time: Option<String>,
            /// Days in transit.
            #[serde(rename = "itemTimeLength")]
            pub item_time_length: i64,
            /// Days since the last checkpoint.
            #[serde(rename = "stayTimeLength")]
            pub stay_time_length: i64,
            pub origin_info: V2Leg,
            pub destination_info: V2Leg,
        }

        impl V2Tracking {
            pub fn new(t: &Tracking, now: DateTime<Utc>) -> Self {
                let (origin, destination) = legs(t);
                let f = &t.fields;
                let s = &t.shipment;
                V2Tracking {
                    id: t.id.to_string(),
                    tracking_number: t.tracking_number.clone(),
                    carrier_code: t.courier_code.clone(),
                    status: t.delivery_status.as_str().to_string(),
                    substatus: t.substatus.map(|s| s.as_str().to_string()),
                    created_at: crate::v4::wire::iso(t.created_at),
                    updated_at: crate::v4::wire::iso(t.updated_at),
                    $( $field: f.$field.clone(), )*
                    original_country: s
                        .origin_country
                        .clone()
                        .or_else(|| f.origin_country_iso2.clone()),
                    destination_country: s
                        .destination_country
                        .clone()
                        .or_else(|| f.destination_country_iso2.clone()),
                    singed_by: s.signed_by.clone(),
                    archived: t.archived.to_string(),
                    last_event: t.latest_event.clone(),
                    last_update_time: t.latest_checkpoint_time.map(plain_time),
                    item_time_length: parceld_model::transit_days(&t.checkpoints, now),
                    stay_time_length: t
                        .latest_checkpoint_time
                        .map(|at| (now - at).num_days().max(0))
                        .unwrap_or(0),
                    origin_info: V2Leg::from((Some(t.courier_code.as_str()), origin)),
                    destination_info: V2Leg::from((s.destination_courier_code.as_deref(), destination)),
                }
            }
        }
    };
}

merchant_fields!(v2_tracking => v2_tracking);

/// TrackingMore v2's wall-clock format (UTC, no offset), also in v2 webhook bodies.
pub(crate) fn plain_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A checkpoint's carrier-local time without its offset, as v2 writes it (or its text as
/// stored), also in v2 webhook bodies.
pub(crate) fn local_time(checkpoint: &Checkpoint) -> String {
    DateTime::parse_from_rfc3339(&checkpoint.checkpoint_date)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|_| checkpoint.checkpoint_date.clone())
}

/// Declares [`V2Created`] with the merchant fields the v2 create result echoes when set (the
/// `v2_created` selection of [`parceld_model::merchant_fields!`], under their v2 names).
macro_rules! v2_created {
    ({} $( $field:ident { doc: $doc:tt, v4: $v4:tt, v2: [$v2_name:tt] $v2_doc:tt } )*) => {
        /// `data` of `POST /v2/trackings/post`: the new tracking's id, status and the fields given.
        #[derive(Debug, Serialize, ToSchema)]
        pub struct V2Created {
            pub id: String,
            pub tracking_number: String,
            pub carrier_code: String,
            pub status: String,
            pub created_at: String,
            $(
                #[serde(rename = $v2_name, skip_serializing_if = "Option::is_none")]
                pub $field: Option<String>,
            )*
        }

        impl From<&Tracking> for V2Created {
            fn from(t: &Tracking) -> Self {
                V2Created {
                    id: t.id.to_string(),
                    tracking_number: t.tracking_number.clone(),
                    carrier_code: t.courier_code.clone(),
                    status: t.delivery_status.as_str().to_string(),
                    created_at: crate::v4::wire::iso(t.created_at),
                    $( $field: t.fields.$field.clone(), )*
                }
            }
        }
    };
}

merchant_fields!(v2_created => v2_created);

/// The outcome of one item of a many-tracking call, with its own `meta`.
#[derive(Debug, Serialize, ToSchema)]
pub struct V2ItemResult {
    pub tracking_number: Option<String>,
    pub carrier_code: Option<String>,
    pub meta: V2Meta,
}

/// `data` of `POST /v2/trackings/batch`.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct V2BatchResult {
    pub submitted: usize,
    pub added: usize,
    pub trackings: Vec<V2Created>,
    pub errors: Vec<V2ItemResult>,
}

/// `data` of `POST /v2/trackings/notupdate`.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct V2NotUpdateResult {
    pub submitted: usize,
    /// Trackings that are now archived (and no longer refreshed).
    pub change: usize,
    /// The items that could not be archived, each with its error.
    pub trackings: Vec<V2ItemResult>,
}

/// `data` of `POST /v2/trackings/delete`.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct V2DeleteResult {
    pub submitted: usize,
    pub delete: usize,
    /// The items that could not be deleted, each with its error.
    pub trackings: Vec<V2ItemResult>,
}

/// `data` of `GET /v2/trackings/get`.
#[derive(Debug, Serialize, ToSchema)]
pub struct V2Page {
    pub page: u32,
    pub limit: u32,
    /// Trackings matching the filters, on all pages.
    pub total: u64,
    pub items: Vec<V2Tracking>,
}

view_from! {
    /// One item of `data.items` of `POST /v2/trackings/realtime`.
    V2RealtimeItem from result: &RealtimeResult;
    let (fetched_at, fetched_from, carrier_error) = realtime_extras(result);
    {
        #[serde(flatten)]
        tracking: V2Tracking = V2Tracking::new(&result.tracking, Utc::now()),
        /// parceld extension: when the data was fetched from the courier.
        fetched_at: Option<String> = fetched_at,
        /// parceld extension: `carrier` (fetched now) or `store` (fetched less than 2 hours ago,
        /// or the courier has no adapter, or a refresh of it is already running).
        fetched_from: String = fetched_from,
        /// parceld extension: the courier's error when this fetch failed; stored data is unchanged.
        carrier_error: Option<String> = carrier_error,
    }
}

/// `data` of `POST /v2/trackings/realtime`.
#[derive(Debug, Serialize, ToSchema)]
pub struct V2RealtimeResult {
    pub items: Vec<V2RealtimeItem>,
}

/// `data` of `GET /v2/trackings/getstatusnumber`: trackings per status.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct V2StatusNumbers {
    pub pending: u64,
    pub notfound: u64,
    pub inforeceived: u64,
    pub transit: u64,
    pub pickup: u64,
    pub undelivered: u64,
    pub delivered: u64,
    pub exception: u64,
    pub expired: u64,
    pub total: u64,
}

impl V2StatusNumbers {
    pub fn from_counts(counts: &[(DeliveryStatus, u64)]) -> Self {
        let mut n = V2StatusNumbers::default();
        for (status, count) in counts {
            let slot = match status {
                DeliveryStatus::Pending => &mut n.pending,
                DeliveryStatus::Notfound => &mut n.notfound,
                DeliveryStatus::Inforeceived => &mut n.inforeceived,
                DeliveryStatus::Transit => &mut n.transit,
                DeliveryStatus::Pickup => &mut n.pickup,
                DeliveryStatus::Undelivered => &mut n.undelivered,
                DeliveryStatus::Delivered => &mut n.delivered,
                DeliveryStatus::Exception => &mut n.exception,
                DeliveryStatus::Expired => &mut n.expired,
            };
            *slot += count;
            n.total += count;
        }
        n
    }
}

/// A courier as `GET /v2/carriers` lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct V2Carrier {
    pub name: String,
    pub code: String,
    pub phone: String,
    pub homepage: String,
    /// `express` or `postal`.
    #[serde(rename = "type")]
    pub kind: String,
    pub picture: String,
    pub country_code: String,
    /// parceld extension: whether parceld can fetch tracking from this courier.
    pub supported: bool,
    /// parceld extension: how this server learns of the courier's changes: `push` (a push
    /// source covers it, `/hooks/<source>`; polls are only a slow safety net) or `poll`, as
    /// `GET /v4/couriers/all` says.
    pub updates: String,
}

impl From<&Courier> for V2Carrier {
    fn from(c: &Courier) -> Self {
        V2Carrier {
            name: c.name.to_string(),
            code: c.code.to_string(),
            phone: c.phone.to_string(),
            homepage: c.url.to_string(),
            kind: c.courier_type.as_str().to_string(),
            picture: String::new(),
            country_code: c.country_iso2.to_string(),
            supported: c.has_adapter,
            updates: "poll".to_string(),
        }
    }
}

/// A detected courier, best first.
#[derive(Debug, Serialize, ToSchema)]
pub struct V2DetectedCarrier {
    pub name: String,
    pub code: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// The merchant fields v2 knows: (v2 name, v4 name).
    const V2_NAMES: [(&str, &str); 14] = [
        ("destination_code", "destination_country_iso2"),
        ("title", "title"),
        ("logistics_channel", "logistics_channel"),
        ("customer_name", "customer_name"),
        ("customer_email", "customer_email"),
        ("customer_phone", "customer_sms"),
        ("order_id", "order_id"),
        ("order_create_time", "order_date"),
        ("comment", "note"),
        ("tracking_ship_date", "tracking_ship_date"),
        ("tracking_postal_code", "tracking_postal_code"),
        ("tracking_account_number", "tracking_courier_account"),
        ("specialNumberDestination", "tracking_destination_country"),
        ("lang", "language"),
    ];

    fn every_v2_field() -> serde_json::Map<String, Value> {
        V2_NAMES
            .iter()
            .map(|(v2, _)| (v2.to_string(), json!(format!("{v2}-value"))))
            .collect()
    }

    #[test]
    fn a_v2_body_maps_its_names_onto_parceld_fields() {
        let request: V2CreateRequest =
            serde_json::from_value(Value::Object(every_v2_field())).unwrap();
        let fields = serde_json::to_value(request.merchant_fields()).unwrap();
        for (v2, v4) in V2_NAMES {
            assert_eq!(fields[v4], format!("{v2}-value"), "{v2} → {v4}");
        }
        for v4_only in ["order_number", "note", "customer_sms", "language", "label"] {
            let body = json!({ v4_only: "x" });
            assert!(
                serde_json::from_value::<V2UpdateRequest>(body).is_err(),
                "{v4_only} is refused on v2"
            );
        }
    }

    #[test]
    fn the_v2_views_use_v2_names() {
        let request: V2CreateRequest =
            serde_json::from_value(Value::Object(every_v2_field())).unwrap();
        let mut t = crate::webhook_payload::sample_tracking(Utc::now());
        t.fields = request.merchant_fields();
        let shown = [
            "order_create_time",
            "title",
            "order_id",
            "comment",
            "customer_name",
            "customer_email",
            "customer_phone",
            "logistics_channel",
        ];
        let tracking = serde_json::to_value(V2Tracking::new(&t, Utc::now())).unwrap();
        let created = serde_json::to_value(V2Created::from(&t)).unwrap();
        for v2 in shown {
            assert_eq!(tracking[v2], format!("{v2}-value"), "{v2}");
            assert_eq!(created[v2], format!("{v2}-value"), "{v2}");
        }
        assert_eq!(tracking["destination_country"], "destination_code-value");
        assert_eq!(created["destination_code"], "destination_code-value");
        for hidden in [
            "lang",
            "tracking_postal_code",
            "specialNumberDestination",
            "note",
        ] {
            assert!(tracking.get(hidden).is_none(), "{hidden}");
            assert!(created.get(hidden).is_none(), "{hidden}");
        }

        t.fields = TrackingFields {
            title: Some("shoes".into()),
            ..TrackingFields::default()
        };
        let tracking = serde_json::to_value(V2Tracking::new(&t, Utc::now())).unwrap();
        assert!(tracking["comment"].is_null() && tracking.get("comment").is_some());
        let created = serde_json::to_value(V2Created::from(&t)).unwrap();
        assert_eq!(created["title"], "shoes");
        assert!(
            created.get("comment").is_none(),
            "v2 create echoes only what is set"
        );
    }
}
