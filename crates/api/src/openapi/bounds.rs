//! The limits parceld enforces, written into the document's schemas from the constants the
//! checks use (`parceld_service::validate`, `parceld_model::TrackingNumber`), so the document
//! states the same numbers the server refuses past. utoipa's `maximum` / `max_length` /
//! `max_items` attributes take only literals, hence a pass over the built document instead.

use parceld_model::{merchant_fields, TrackingNumber};
use parceld_service::validate::{max_chars, MAX_BATCH, MAX_PAGE_SIZE};
use utoipa::openapi::schema::{Schema, SchemaType, Type};
use utoipa::openapi::{OpenApi, RefOr};
use utoipa::Number;

use super::responses::operations;
use crate::v4::webhooks::MAX_DELIVERIES_PAGE;

/// Each merchant field's v4 name and, where v2 knows it, its v2 name.
macro_rules! merchant_names {
    ({} $( $field:ident { doc: $doc:tt, v4: $v4:tt, v2: [$($v2_name:tt)?] $v2_doc:tt } )*) => {
        [$( (stringify!($field), [$($v2_name)?].first().copied()) ),*]
    };
}

/// The request bodies built from the merchant-field list, by face.
const V4_MERCHANT_BODIES: [&str; 2] = ["CreateTrackingRequest", "UpdateTrackingRequest"];
const V2_MERCHANT_BODIES: [&str; 2] = ["V2CreateRequest", "V2UpdateRequest"];
/// The request bodies whose `tracking_number` is refused outright when it is not a tracking
/// number (the length is counted on the normalized number: spaces, `-` and `.` between groups
/// are removed and do not count).
const NUMBER_BODIES: [&str; 6] = [
    "CreateTrackingRequest",
    "DetectRequest",
    "RealtimeRequest",
    "V2CreateRequest",
    "V2DetectRequest",
    "V2ChangeCarrierRequest",
];

/// The page-size query parameters and their largest value.
const PAGE_SIZES: [(&str, &str, u32); 3] = [
    ("/v4/trackings/get", "items_amount", MAX_PAGE_SIZE),
    ("/v2/trackings/get", "limit", MAX_PAGE_SIZE),
    ("/v4/webhooks/{id}/deliveries", "limit", MAX_DELIVERIES_PAGE),
];
/// The page-number query parameters (from 1).
const PAGE_NUMBERS: [(&str, &str); 2] = [
    ("/v4/trackings/get", "pages_amount"),
    ("/v2/trackings/get", "page"),
];

pub(super) fn add(openapi: &mut OpenApi) {
    merchant_text_lengths(openapi);
    number_lengths(openapi);
    parameter_bounds(openapi);
    batch_sizes(openapi);
}

/// The object schema of a component, if it is one.
fn object<'a>(
    openapi: &'a mut OpenApi,
    name: &str,
) -> Option<&'a mut utoipa::openapi::schema::Object> {
    let components = openapi.components.as_mut()?;
    match components.schemas.get_mut(name)? {
        RefOr::T(Schema::Object(object)) => Some(object),
        _ => None,
    }
}

/// The string schema of an object's property (`Option<String>` fields are `["string", "null"]`).
fn string_property<'a>(
    object: &'a mut utoipa::openapi::schema::Object,
    property: &str,
) -> Option<&'a mut utoipa::openapi::schema::Object> {
    match object.properties.get_mut(property)? {
        RefOr::T(Schema::Object(property)) if is_string(&property.schema_type) => Some(property),
        _ => None,
    }
}

fn is_string(schema_type: &SchemaType) -> bool {
    match schema_type {
        SchemaType::Type(Type::String) => true,
        SchemaType::Array(types) => types.contains(&Type::String),
        _ => false,
    }
}

fn merchant_text_lengths(openapi: &mut OpenApi) {
    let names = merchant_fields!(merchant_names);
    for (bodies, v2) in [(V4_MERCHANT_BODIES, false), (V2_MERCHANT_BODIES, true)] {
        for body in bodies {
            let object = object(openapi, body).expect("a merchant-field request body");
            for (v4_name, v2_name) in names {
                let wire_name = if v2 { v2_name } else { Some(v4_name) };
                let Some(wire_name) = wire_name else { continue };
                let property = string_property(object, wire_name)
                    .unwrap_or_else(|| panic!("`{body}.{wire_name}` is a text"));
                property.max_length = Some(max_chars(v4_name));
            }
        }
    }
}

fn number_lengths(openapi: &mut OpenApi) {
    for body in NUMBER_BODIES {
        let object = object(openapi, body).expect("a request body with a tracking number");
        let property =
            string_property(object, "tracking_number").expect("`tracking_number` is a text");
        property.min_length = Some(TrackingNumber::MIN_LEN);
        property.max_length = Some(TrackingNumber::MAX_LEN);
    }
    for item in openapi.paths.paths.values_mut() {
        for operation in operations(item) {
            for parameter in operation.parameters.iter_mut().flatten() {
                if parameter.name != "tracking_number" {
                    continue;
                }
                if let Some(RefOr::T(Schema::Object(schema))) = parameter.schema.as_mut() {
                    schema.min_length = Some(TrackingNumber::MIN_LEN);
                    schema.max_length = Some(TrackingNumber::MAX_LEN);
                }
            }
        }
    }
}

fn parameter_bounds(openapi: &mut OpenApi) {
    let mut set = |path: &str, name: &str, maximum: Option<u32>| {
        let item = openapi.paths.paths.get_mut(path).expect("a listed path");
        let parameter = operations(item)
            .flat_map(|operation| operation.parameters.iter_mut().flatten())
            .find(|parameter| parameter.name == name)
            .unwrap_or_else(|| panic!("`{path}` has a parameter `{name}`"));
        if let Some(RefOr::T(Schema::Object(schema))) = parameter.schema.as_mut() {
            schema.minimum = Some(Number::UInt(1));
            schema.maximum = maximum.map(|max| Number::UInt(max as usize));
        }
    };
    for (path, name, maximum) in PAGE_SIZES {
        set(path, name, Some(maximum));
    }
    for (path, name) in PAGE_NUMBERS {
        set(path, name, None);
    }
}

/// Every array request body is a batch of at most [`MAX_BATCH`] items.
fn batch_sizes(openapi: &mut OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        for operation in operations(item) {
            let Some(body) = operation.request_body.as_mut() else {
                continue;
            };
            for content in body.content.values_mut() {
                if let Some(RefOr::T(Schema::Array(array))) = content.schema.as_mut() {
                    array.max_items = Some(MAX_BATCH);
                }
            }
        }
    }
}
