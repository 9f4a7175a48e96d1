//! A stored tracking: the merchant's fields, what the carrier told us, and its checkpoints.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Checkpoint, DeliveryStatus, SubStatus, TrackingId};

/// Declares [`TrackingFields`] from the list in [`merchant_fields!`](crate::merchant_fields).
macro_rules! tracking_fields {
    ({} $( $field:ident { doc: [$($doc:tt)*], $($info:tt)* } )*) => {
        /// The optional fields a merchant may set on a tracking (TrackingMore's create fields
        /// besides the number and the courier). Kept together because they travel together:
        /// create, update and the tracking object all carry the same set.
        ///
        /// Serialized (the store keeps them as one JSON value), only the fields that are set
        /// are written: a tracking carries a few of the 21, and a `null` spelt out for each of the
        /// others was most of a stored tracking's bytes. Reading takes either form, so values
        /// written with every key, nulls included, read the same. The API's views are their own
        /// types and show every field, set or not.
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(default)]
        pub struct TrackingFields {
            $(
                $($doc)*
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $field: Option<String>,
            )*
        }

        impl TrackingFields {
            /// Every field's (v4) wire name, in the list's order.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($field)),*];

            /// Overwrites every field that `patch` sets, keeping the rest.
            pub fn apply(&mut self, patch: &TrackingFields) {
                $(
                    if patch.$field.is_some() {
                        self.$field = patch.$field.clone();
                    }
                )*
            }

            /// The value of a field by its (v4) wire name, for couriers' required-field checks;
            /// `None` when it is unset or blank, or no merchant field has that name.
            pub fn get(&self, name: &str) -> Option<&str> {
                let value = match name {
                    $( stringify!($field) => &self.$field, )*
                    _ => return None,
                };
                value.as_deref().filter(|v| !v.trim().is_empty())
            }
        }
    };
}

crate::merchant_fields!(tracking_fields);

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

#[cfg(test)]
mod tests {
    use super::*;

    /// Fields with these wire names set, read as the sparse stored form.
    fn set(pairs: &[(&str, &str)]) -> TrackingFields {
        let object: serde_json::Map<String, serde_json::Value> = pairs
            .iter()
            .map(|(name, value)| (name.to_string(), (*value).into()))
            .collect();
        serde_json::from_value(object.into()).unwrap()
    }

    #[test]
    fn apply_overwrites_only_what_the_patch_sets() {
        let mut fields = set(&[("title", "shoes"), ("note", "fragile")]);
        fields.apply(&set(&[
            ("note", "leave at the door"),
            ("auto_correct", "true"),
        ]));
        assert_eq!(fields.title.as_deref(), Some("shoes"));
        assert_eq!(fields.note.as_deref(), Some("leave at the door"));
        assert_eq!(fields.auto_correct.as_deref(), Some("true"));
        assert_eq!(
            fields,
            set(&[
                ("title", "shoes"),
                ("note", "leave at the door"),
                ("auto_correct", "true")
            ])
        );
    }

    #[test]
    fn only_the_set_fields_are_serialized() {
        let fields = TrackingFields {
            order_number: Some("#1".into()),
            customer_email: Some("ada@example.com".into()),
            ..TrackingFields::default()
        };
        let json = serde_json::to_string(&fields).unwrap();
        assert_eq!(
            json,
            r##"{"order_number":"#1","customer_email":"ada@example.com"}"##
        );
        assert_eq!(
            serde_json::from_str::<TrackingFields>(&json).unwrap(),
            fields
        );
        assert_eq!(
            serde_json::to_string(&TrackingFields::default()).unwrap(),
            "{}"
        );
    }

    #[test]
    fn the_form_with_every_key_and_nulls_still_reads() {
        let old = r##"{"order_number":"#1","order_id":null,"order_date":null,"origin_country_iso2":null,"destination_country_iso2":null,"customer_name":null,"customer_email":"ada@example.com","customer_sms":null,"recipient_postcode":null,"title":null,"logistics_channel":null,"note":null,"label":null,"tracking_courier_account":null,"tracking_postal_code":null,"tracking_origin_country":null,"tracking_destination_country":null,"tracking_ship_date":null,"tracking_key":null,"language":null,"auto_correct":null}"##;
        let fields: TrackingFields = serde_json::from_str(old).unwrap();
        assert_eq!(
            fields,
            TrackingFields {
                order_number: Some("#1".into()),
                customer_email: Some("ada@example.com".into()),
                ..TrackingFields::default()
            }
        );
    }

    #[test]
    fn get_finds_a_set_field_by_its_wire_name() {
        let fields = set(&[
            ("tracking_postal_code", "10001"),
            ("tracking_ship_date", "  "),
        ]);
        assert_eq!(fields.tracking_ship_date.as_deref(), Some("  "));
        assert_eq!(fields.get("tracking_postal_code"), Some("10001"));
        assert_eq!(fields.get("tracking_ship_date"), None, "blank is unset");
        assert_eq!(fields.get("tracking_key"), None);
        assert_eq!(fields.get("no_such_field"), None);
    }
}
