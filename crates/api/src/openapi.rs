//! The OpenAPI document, generated from the handlers' annotations and the wire types, so it
//! cannot drift from the code. A committed copy (`openapi.json` at the repository root) is
//! checked against it by a test.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::v4;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "parceld",
        description = "Self-hostable shipment tracking, wire-compatible with the TrackingMore v4 API. Every response is an envelope {\"meta\":{\"code\",\"message\"},\"data\"}; errors carry TrackingMore's codes (4101, 4102, 4103, 4110–4113, 4120–4122, 4130, 4170–4174 (webhooks), 401, 403, 404, 405, 413, 429, 511, 513).",
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
