//! A create request as parceld receives it outside the API: one JSON object (a line of a
//! JSON-lines file, or a CSV row turned into one) with the v4 create fields. It is read with the
//! same rules as the body of `POST /v4/trackings/create` — the path of a wrong type, unknown
//! fields refused and named — and validated by the same function, so the import accepts and
//! refuses exactly what the API does, with the same codes and words.

use parceld_model::TrackingFields;
use parceld_store::NewTracking;
use serde::Deserialize;

use crate::error::{ServiceError, ServiceResult};
use crate::validate::new_tracking;

/// A create request before validation: the number, the courier (detected when absent) and the
/// merchant fields.
#[derive(Debug, Clone, Default)]
pub struct NewTrackingRequest {
    pub tracking_number: Option<String>,
    pub courier_code: Option<String>,
    pub fields: TrackingFields,
}

/// Declares the JSON shape of a create record from the merchant fields' names (the one list in
/// `parceld_model::merchant_fields!`).
macro_rules! create_record {
    ({} $( $field:ident $info:tt )*) => {
        /// The v4 create fields, refusing any other.
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct CreateRecord {
            tracking_number: Option<String>,
            courier_code: Option<String>,
            $( $field: Option<String>, )*
        }

        impl From<CreateRecord> for NewTrackingRequest {
            fn from(record: CreateRecord) -> Self {
                NewTrackingRequest {
                    tracking_number: record.tracking_number,
                    courier_code: record.courier_code,
                    fields: TrackingFields {
                        $( $field: record.$field, )*
                    },
                }
            }
        }
    };
}

parceld_model::merchant_fields!(create_record);

impl NewTrackingRequest {
    /// Reads one JSON object of create fields.
    pub fn from_json(value: serde_json::Value) -> ServiceResult<Self> {
        if !value.is_object() {
            return Err(ServiceError::MalformedRequest(
                "each record must be a JSON object of create fields".into(),
            ));
        }
        crate::json::from_value::<CreateRecord>(value).map(NewTrackingRequest::from)
    }

    /// The number, the courier (or its detection) and the courier's required fields, checked.
    pub fn validate(self) -> ServiceResult<NewTracking> {
        new_tracking(
            self.tracking_number.as_deref(),
            self.courier_code.as_deref(),
            self.fields,
        )
    }
}

/// Reads and validates one record (a JSON object of create fields): the tracking to store, or
/// why not, as the import and the dashboard's upload show it (the public code first when the
/// rules refused it).
pub fn record(object: serde_json::Value) -> Result<NewTracking, String> {
    let request = NewTrackingRequest::from_json(object).map_err(|e| e.message())?;
    request
        .validate()
        .map_err(|e| format!("{} {}", e.public_code(), e.message()))
}

/// Checks the header line of a CSV file of records, once, before any row is read: it names
/// `tracking_number` and only create fields. Otherwise every row would be refused for the same
/// reason, which a large file only shows at its end.
pub fn check_csv_header(headers: &[String]) -> Result<(), String> {
    if !headers.iter().any(|h| h == "tracking_number") {
        return Err(format!(
            "the CSV header line must name the create fields as columns, with at least `tracking_number` (got: {})",
            headers.join(",")
        ));
    }
    let names: serde_json::Map<String, serde_json::Value> = headers
        .iter()
        .map(|name| (name.clone(), serde_json::Value::String(String::new())))
        .collect();
    match NewTrackingRequest::from_json(serde_json::Value::Object(names)) {
        Ok(_) => Ok(()),
        Err(error) => Err(format!(
            "the CSV header line names a column that is not a create field: {}",
            error.message()
        )),
    }
}

/// A CSV row as a record: its non-empty cells under their column's name.
pub fn csv_record<'a>(
    headers: &[String],
    cells: impl IntoIterator<Item = &'a str>,
) -> serde_json::Value {
    let object = headers
        .iter()
        .zip(cells)
        .filter(|(_, cell)| !cell.trim().is_empty())
        .map(|(name, cell)| (name.clone(), serde_json::Value::String(cell.to_string())))
        .collect();
    serde_json::Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_record_reads_like_a_create_body() {
        let request = NewTrackingRequest::from_json(json!({
            "tracking_number": "1Z999AA10123456784",
            "courier_code": "ups",
            "order_number": "#1",
            "tracking_ship_date": "20240501"
        }))
        .unwrap();
        assert_eq!(request.courier_code.as_deref(), Some("ups"));
        assert_eq!(request.fields.order_number.as_deref(), Some("#1"));
        assert_eq!(
            request.fields.tracking_ship_date.as_deref(),
            Some("20240501")
        );
        let new = request.validate().unwrap();
        assert_eq!(new.tracking_number, "1Z999AA10123456784");
    }

    #[test]
    fn unknown_fields_wrong_types_and_non_objects_are_refused() {
        let unknown =
            NewTrackingRequest::from_json(json!({"tracking_number": "X1", "carrier_code": "ups"}))
                .unwrap_err();
        assert_eq!(
            unknown.to_string(),
            "Unknown field `carrier_code`. In v4 the field is `courier_code`."
        );
        let typed = NewTrackingRequest::from_json(json!({"tracking_number": "X1", "title": 7}))
            .unwrap_err();
        assert!(matches!(typed, ServiceError::MalformedRequest(_)));
        assert!(typed.to_string().contains("`title`"), "{typed}");
        assert!(NewTrackingRequest::from_json(json!([1])).is_err());
    }
}
