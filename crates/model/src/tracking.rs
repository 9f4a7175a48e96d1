//! A stored tracking: the merchant's fields, what the carrier told us, and its checkpoints.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Checkpoint, DeliveryStatus, SubStatus, TrackingId};

/// The optional fields a merchant may set on a tracking (TrackingMore's create fields besides the
/// number and the courier). Kept together because they travel together: create, update and the
/// tracking object all carry the same set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrackingFields {
    pub order_number: Option<String>,
    pub order_id: Option<String>,
    pub order_date: Option<String>,
    pub origin_country_iso2: Option<String>,
    pub destination_country_iso2: Option<String>,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub customer_sms: Option<String>,
    pub recipient_postcode: Option<String>,
    pub title: Option<String>,
    pub logistics_channel: Option<String>,
    pub note: Option<String>,
    pub label: Option<String>,
    pub tracking_courier_account: Option<String>,
    pub tracking_postal_code: Option<String>,
    pub tracking_origin_country: Option<String>,
    pub tracking_destination_country: Option<String>,
    pub tracking_ship_date: Option<String>,
    pub tracking_key: Option<String>,
    pub language: Option<String>,
    pub auto_correct: Option<String>,
}

impl TrackingFields {
    /// Overwrites every field that `patch` sets, keeping the rest.
    pub fn apply(&mut self, patch: &TrackingFields) {
        macro_rules! take {
            ($($field:ident),*) => {
                $( if patch.$field.is_some() { self.$field = patch.$field.clone(); } )*
            };
        }
        take!(
            order_number,
            order_id,
            order_date,
            origin_country_iso2,
            destination_country_iso2,
            customer_name,
            customer_email,
            customer_sms,
            recipient_postcode,
            title,
            logistics_channel,
            note,
            label,
            tracking_courier_account,
            tracking_postal_code,
            tracking_origin_country,
            tracking_destination_country,
            tracking_ship_date,
            tracking_key,
            language,
            auto_correct
        );
    }

    /// The value of a field by its wire name, for couriers' required-field checks.
    pub fn get(&self, name: &str) -> Option<&str> {
        let value = match name {
            "tracking_courier_account" => &self.tracking_courier_account,
            "tracking_postal_code" => &self.tracking_postal_code,
            "tracking_origin_country" => &self.tracking_origin_country,
            "tracking_destination_country" => &self.tracking_destination_country,
            "tracking_ship_date" => &self.tracking_ship_date,
            "tracking_key" => &self.tracking_key,
            _ => return None,
        };
        value.as_deref().filter(|v| !v.trim().is_empty())
    }
}

/// What a carrier tells about a shipment beyond its events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShipmentInfo {
    pub signed_by: Option<String>,
    pub service_code: Option<String>,
    pub weight: Option<String>,
    pub weight_kg: Option<String>,
    pub product_type: Option<String>,
    pub pieces: Option<String>,
    pub dimension: Option<String>,
    pub scheduled_delivery_date: Option<String>,
    pub scheduled_address: Option<String>,
    pub origin_country: Option<String>,
    pub origin_state: Option<String>,
    pub origin_city: Option<String>,
    pub destination_country: Option<String>,
    pub destination_state: Option<String>,
    pub destination_city: Option<String>,
    pub previously: Option<String>,
    pub destination_track_number: Option<String>,
    pub exchange_number: Option<String>,
    /// The last-mile courier of a cross-border shipment, when it differs from the first-mile one.
    pub destination_courier_code: Option<String>,
}

/// One stored tracking with its checkpoints (newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracking {
    pub id: TrackingId,
    pub tracking_number: String,
    pub courier_code: String,
    /// The courier was detected from the number, not given by the client.
    pub courier_detected: bool,
    pub fields: TrackingFields,
    pub shipment: ShipmentInfo,
    pub delivery_status: DeliveryStatus,
    pub substatus: Option<SubStatus>,
    pub status_info: Option<String>,
    pub latest_event: Option<String>,
    pub latest_checkpoint_time: Option<DateTime<Utc>>,
    pub archived: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_checked_at: Option<DateTime<Utc>>,
    pub next_check_at: Option<DateTime<Utc>>,
    pub check_error: Option<String>,
    pub checkpoints: Vec<Checkpoint>,
}
