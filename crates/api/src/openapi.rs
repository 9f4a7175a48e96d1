//! The OpenAPI document, generated from the same route registration the router is built from
//! (`routes!` in each resource module) and the handlers' annotations, so it cannot drift from the
//! code. A committed copy (`openapi.json` at the repository root) is checked against it by a
//! test.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "parceld",
        description = "Self-hostable shipment tracking, wire-compatible with the TrackingMore v4 API (and its legacy v2 API under /v2). Every response is an envelope {\"meta\":{\"code\",\"message\"},\"data\"}; errors carry TrackingMore's codes (4101, 4102, 4103, 4110–4113, 4120–4122, 4130, 401, 403, 404, 405, 413, 429, 511, 513), and 4170–4174 for webhooks (a parceld extension).",
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
    let mut document = OpenApiRouter::<crate::AppState>::with_openapi(ApiDoc::openapi());
    for (_, classed) in crate::api_routes() {
        for (_, routes) in classed {
            document = document.merge(routes);
        }
    }
    let mut text = document
        .into_openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    text.push('\n');
    text
}
