//! The OpenAPI document, generated from the same route registration the router is built from
//! (`routes!` in each resource module) and the handlers' annotations, so it cannot drift from the
//! code. A committed copy (`openapi.json` at the repository root) is checked against it by a
//! test.
//!
//! What the annotations cannot say is added after the routes are merged, once for the whole
//! document: the error responses every authenticated operation shares ([`responses`]), the
//! limits parceld enforces, taken from the constants the checks use ([`bounds`]), and the key
//! headers each face's operations require.

mod bounds;
mod responses;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::{Modify, OpenApi};

use utoipa_axum::router::OpenApiRouter;

use crate::extract::{Face, API_KEY_HEADER, V2_API_KEY_HEADER};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "parceld",
        description = "Self-hostable shipment tracking, wire-compatible with the TrackingMore v4 API (and its legacy v2 API under /v2). Every response is an envelope {\"meta\":{\"code\",\"message\"},\"data\"}; errors carry TrackingMore's codes (4101, 4102, 4103, 4110–4113, 4120–4122, 4130, 401, 403, 404, 405, 413, 429, 511, 513), 4170–4174 for webhooks, 4180–4181 for the tracking page and 4190–4192 for notifications (parceld extensions).",
    ),
    modifiers(&ApiKeyAuth),
    tags(
        (name = "trackings", description = "Register, list, change and delete trackings"),
        (name = "couriers", description = "The couriers parceld knows"),
        (name = "v2", description = "The legacy TrackingMore v2 API: key in Trackingmore-Api-Key (or Tracking-Api-Key), envelope {\"meta\":{\"code\",\"type\",\"message\"},\"data\"}, v2 codes (4001, 4002, 4012–4017, 4020, 4031–4033, 429). docs/faq.md answers the v2 FAQ."),
        (name = "webhooks", description = "parceld extension: signed webhook endpoints, their delivery log, redelivery and test events"),
        (name = "tracking-page", description = "parceld extension: the branding of the account's public tracking page (served at /track/<account>)"),
        (name = "notifications", description = "parceld extension: email and text-message notifications to the shop's customers: settings, templates with a preview, each tracking's notification log"),
    )
)]
struct ApiDoc;

struct ApiKeyAuth;

impl Modify for ApiKeyAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new(API_KEY_HEADER))),
        );
        components.add_security_scheme(
            "legacy_api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new(V2_API_KEY_HEADER))),
        );
    }
}

/// Every API route is behind its face's `authenticate` middleware, so every operation of a face
/// requires its key headers ([`Face::key_headers`]): `Tracking-Api-Key` on v4; on v2
/// `Trackingmore-Api-Key`, or `Tracking-Api-Key` as the alternative.
fn require_the_key_headers_of(face: Face, routes: &mut OpenApiRouter<crate::AppState>) {
    let requirements: Vec<SecurityRequirement> = face
        .key_headers()
        .iter()
        .map(|&header| {
            let scheme = if header == V2_API_KEY_HEADER {
                "legacy_api_key"
            } else {
                "api_key"
            };
            SecurityRequirement::new(scheme, Vec::<String>::new())
        })
        .collect();
    for item in routes.get_openapi_mut().paths.paths.values_mut() {
        for operation in responses::operations(item) {
            operation.security = Some(requirements.clone());
        }
    }
}

/// A resource module's operations all carry its tag, named once where its routes are listed.
fn tag_every_operation(tag: &str, routes: &mut OpenApiRouter<crate::AppState>) {
    for item in routes.get_openapi_mut().paths.paths.values_mut() {
        for operation in responses::operations(item) {
            operation.tags = Some(vec![tag.to_string()]);
        }
    }
}

/// The OpenAPI document, built from the routes and completed.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut document = OpenApiRouter::<crate::AppState>::with_openapi(ApiDoc::openapi());
    for (face, tag, classed) in crate::api_routes() {
        for (_, mut routes) in classed {
            require_the_key_headers_of(face, &mut routes);
            tag_every_operation(tag, &mut routes);
            document = document.merge(routes);
        }
    }
    // Carrier pushes: no API key (each source proves itself its own way).
    let mut hooks = crate::hooks::routes();
    tag_every_operation("push", &mut hooks);
    document = document.merge(hooks);
    let mut openapi = document.into_openapi();
    responses::add(&mut openapi);
    bounds::add(&mut openapi);
    openapi
}

/// The OpenAPI document as pretty-printed JSON with a trailing newline.
pub fn document() -> String {
    let mut text = openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::{json, Value};

    fn served() -> Value {
        serde_json::from_str(&super::document()).unwrap()
    }

    /// Every operation of the document, as (path, method, operation).
    fn operations(document: &Value) -> Vec<(String, String, Value)> {
        let mut all = Vec::new();
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                all.push((path.clone(), method.clone(), operation.clone()));
            }
        }
        all
    }

    /// A response, following a `$ref` to a shared component.
    fn resolve<'a>(document: &'a Value, response: &'a Value) -> &'a Value {
        match response["$ref"].as_str() {
            Some(reference) => {
                let name = reference.strip_prefix("#/components/responses/").unwrap();
                &document["components"]["responses"][name]
            }
            None => response,
        }
    }

    #[test]
    fn every_operation_id_is_unique() {
        let document = served();
        let mut seen = BTreeSet::new();
        for (path, method, operation) in operations(&document) {
            let id = operation["operationId"].as_str().unwrap().to_string();
            assert!(
                seen.insert(id.clone()),
                "{method} {path}: `{id}` is used twice"
            );
        }
    }

    #[test]
    fn webhook_statuses_are_all_or_a_list_of_the_nine_statuses() {
        let document = served();
        let statuses =
            &document["components"]["schemas"]["WebhookRequest"]["properties"]["statuses"];
        let names: Vec<&str> = parceld_model::DeliveryStatus::ALL
            .iter()
            .map(|status| status.as_str())
            .collect();
        assert_eq!(
            statuses["oneOf"],
            json!([
                {"type": "string", "enum": ["all"]},
                {"type": "array", "items": {"type": "string", "enum": names}},
            ])
        );
    }

    #[test]
    fn every_error_response_has_the_envelope_as_its_body() {
        let document = served();
        for (path, method, operation) in operations(&document) {
            let envelope = if path.starts_with("/v2/") {
                "#/components/schemas/V2ErrorEnvelope"
            } else {
                "#/components/schemas/ErrorEnvelope"
            };
            for (status, response) in operation["responses"].as_object().unwrap() {
                if status.starts_with('2') {
                    continue;
                }
                let response = resolve(&document, response);
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"], envelope,
                    "{method} {path} {status}"
                );
            }
        }
        for (name, meta) in [("ErrorEnvelope", "Meta"), ("V2ErrorEnvelope", "V2Meta")] {
            let schema = &document["components"]["schemas"][name];
            assert_eq!(
                schema["properties"]["meta"]["$ref"],
                format!("#/components/schemas/{meta}")
            );
            assert_eq!(schema["properties"]["data"]["type"], "null");
        }
    }

    #[test]
    fn authenticated_routes_declare_401_403_and_429_with_its_headers() {
        let document = served();
        for (path, method, operation) in operations(&document) {
            assert!(
                !operation["security"].as_array().unwrap().is_empty(),
                "{method} {path} is authenticated"
            );
            let responses = &operation["responses"];
            for status in ["401", "403", "429"] {
                assert!(responses.get(status).is_some(), "{method} {path} {status}");
            }
            assert_eq!(
                responses.get("413").is_some(),
                operation.get("requestBody").is_some(),
                "{method} {path}: 413 exactly when there is a body"
            );
            let too_many = resolve(&document, &responses["429"]);
            for header in [
                "Retry-After",
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
            ] {
                assert!(
                    too_many["headers"].get(header).is_some(),
                    "{method} {path}: {header}"
                );
            }
        }
    }

    #[test]
    fn v2_accepts_either_key_header() {
        let document = served();
        let schemes = &document["components"]["securitySchemes"];
        assert_eq!(schemes["api_key"]["name"], "Tracking-Api-Key");
        assert_eq!(schemes["legacy_api_key"]["name"], "Trackingmore-Api-Key");
        let v2_list = &document["paths"]["/v2/trackings/get"]["get"];
        assert_eq!(
            v2_list["security"],
            json!([{"legacy_api_key": []}, {"api_key": []}])
        );
    }

    #[test]
    fn the_enforced_limits_are_in_the_schemas() {
        use parceld_service::validate::{MAX_FIELD_CHARS, MAX_NOTE_CHARS};
        use parceld_service::{MAX_BATCH, MAX_PAGE_SIZE};
        let document = served();
        let schemas = &document["components"]["schemas"];
        let create = &schemas["CreateTrackingRequest"]["properties"];
        assert_eq!(create["title"]["maxLength"], MAX_FIELD_CHARS);
        assert_eq!(create["note"]["maxLength"], MAX_NOTE_CHARS);
        assert_eq!(create["tracking_number"]["minLength"], 4);
        assert_eq!(create["tracking_number"]["maxLength"], 50);
        let v2_update = &schemas["V2UpdateRequest"]["properties"];
        assert_eq!(v2_update["comment"]["maxLength"], MAX_NOTE_CHARS);
        assert_eq!(v2_update["customer_phone"]["maxLength"], MAX_FIELD_CHARS);
        let batch = &document["paths"]["/v4/trackings/batch"]["post"]["requestBody"];
        assert_eq!(
            batch["content"]["application/json"]["schema"]["maxItems"],
            MAX_BATCH
        );
        let list = document["paths"]["/v4/trackings/get"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|parameter| parameter["name"] == "items_amount")
            .unwrap()
            .clone();
        assert_eq!(list["schema"]["maximum"], MAX_PAGE_SIZE);
        assert_eq!(list["schema"]["minimum"], 1);
    }
}
