//! The OpenAPI document, generated from the handlers' annotations and the wire types, so it
//! cannot drift from the code. A committed copy (`openapi.json` at the repository root) is
//! checked against it by a test.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{v2, v4};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "parceld",
        description = "Self-hostable shipment tracking, wire-compatible with the TrackingMore v4 API (and its legacy v2 API under /v2). Every response is an envelope {\"meta\":{\"code\",\"message\"},\"data\"}; errors carry TrackingMore's codes (4101, 4102, 4103, 4110–4113, 4120–4122, 4130, 401, 403, 404, 405, 413, 429, 511, 513), and 4170–4174 for webhooks (a parceld extension).",
    ),
    paths(
        v4::trackings::create,
        v4::trackings::batch,
        v4::trackings::list,
        v4::trackings::update,
        v4::trackings::delete,
        v4::trackings::retrack,
        v4::trackings::realtime,
        v4::couriers::all,
        v4::couriers::detect,
        v2::trackings::post,
        v2::trackings::batch,
        v2::trackings::list,
        v2::trackings::get_one,
        v2::trackings::get_one_lang,
        v2::trackings::update,
        v2::trackings::delete,
        v2::trackings::realtime,
        v2::trackings::status_numbers,
        v2::trackings::not_update,
        v2::trackings::change_carrier,
        v2::trackings::delete_many,
        v2::carriers::all,
        v2::carriers::detect,
        v4::webhooks::create,
        v4::webhooks::list,
        v4::webhooks::show,
        v4::webhooks::update,
        v4::webhooks::remove,
        v4::webhooks::rotate_secret,
        v4::webhooks::deliveries,
        v4::webhooks::redeliver,
        v4::webhooks::test,
    ),
    modifiers(&ApiKeyAuth),
    tags(
        (name = "trackings", description = "Register, list, change and delete trackings"),
        (name = "couriers", description = "The couriers parceld knows"),
        (name = "v2", description = "The legacy TrackingMore v2 API: key in Trackingmore-Api-Key, envelope {\"meta\":{\"code\",\"type\",\"message\"},\"data\"}, v2 codes (4001, 4002, 4012–4017, 4020, 4031–4033, 429). docs/faq.md answers the v2 FAQ."),
        (name = "webhooks", description = "parceld extension: signed webhook endpoints, their delivery log, redelivery and test events"),
    )
)]
struct ApiDoc;

struct ApiKeyAuth;

impl Modify for ApiKeyAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("Tracking-Api-Key"))),
        );
        components.add_security_scheme(
            "legacy_api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("Trackingmore-Api-Key"))),
        );
    }
}

/// The OpenAPI document as pretty-printed JSON with a trailing newline.
pub fn document() -> String {
    let mut text = ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    text.push('\n');
    text
}
