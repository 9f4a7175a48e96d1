//! The error responses every authenticated operation can give, declared once for the whole
//! document rather than in each handler's annotation.
//!
//! Every request of the v4 and v2 faces passes the same key check, rate limiter and body limit
//! (`api/src/lib.rs::router`), so each of their operations can answer 401, 403 and 429, and each
//! with a body 413. Handlers list only their own errors; this module adds the common ones as
//! shared response components, and gives every error response the face's envelope schema, so a
//! generated client can read `meta.code` and `meta.message` of any failure.

use serde_json::json;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::{Components, Content, OpenApi, Ref, RefOr, Response};

/// One face of the API, as the document sees it: by the path prefix of its operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Face {
    V4,
    V2,
}

impl Face {
    fn of_path(path: &str) -> Self {
        if path.starts_with("/v2/") {
            Face::V2
        } else {
            Face::V4
        }
    }

    /// The name of the face's error envelope schema.
    fn envelope(self) -> &'static str {
        match self {
            Face::V4 => "ErrorEnvelope",
            Face::V2 => "V2ErrorEnvelope",
        }
    }

    /// The prefix of the face's shared response components.
    fn prefix(self) -> &'static str {
        match self {
            Face::V4 => "",
            Face::V2 => "V2",
        }
    }
}

/// The statuses every authenticated operation may answer, the component name and description of
/// each, and whether only operations with a request body give it.
const COMMON: [(&str, &str, &str, bool); 4] = [
    (
        "401",
        "Unauthorized",
        "No API key, or an unknown or deleted one (v4 401; v2 401, 4001, 4002)",
        false,
    ),
    ("403", "Forbidden", "The key's account is disabled", false),
    (
        "413",
        "PayloadTooLarge",
        "The request body is larger than the server accepts (`max_body_bytes`)",
        true,
    ),
    (
        "429",
        "TooManyRequests",
        "The key's rate limit for this kind of call is used up; retry after `Retry-After` seconds",
        false,
    ),
];

/// Adds the envelope schemas, the shared error responses, and references to them on every
/// authenticated operation; fills in the envelope of errors the handlers declared.
pub(super) fn add(openapi: &mut OpenApi) {
    let components = openapi.components.get_or_insert_with(Components::new);
    add_components(components);
    for (path, item) in openapi.paths.paths.iter_mut() {
        let face = Face::of_path(path);
        for operation in operations(item) {
            let authenticated = operation
                .security
                .as_ref()
                .is_some_and(|requirements| !requirements.is_empty());
            if !authenticated {
                continue;
            }
            complete_operation(face, operation);
        }
    }
}

/// The operations of a path, whichever their method.
pub(super) fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

fn complete_operation(face: Face, operation: &mut Operation) {
    let has_body = operation.request_body.is_some();
    let responses = &mut operation.responses.responses;
    for (status, _, _, needs_body) in COMMON {
        if needs_body && !has_body {
            continue;
        }
        match responses.get_mut(status) {
            // The handler says more about this status (e.g. v2's one list call a second): keep
            // its words, with the shared body and headers.
            Some(RefOr::T(response)) => {
                let shared = common_response(face, status);
                response.content = shared.content;
                response.headers = shared.headers;
            }
            Some(RefOr::Ref(_)) => {}
            None => {
                let reference = RefOr::Ref(Ref::from_response_name(component_name(face, status)));
                responses.insert(status.to_string(), reference);
            }
        }
    }
    for (status, response) in responses.iter_mut() {
        let is_error = status.starts_with('4') || status.starts_with('5');
        if let RefOr::T(response) = response {
            if is_error && response.content.is_empty() {
                set_envelope(face, response);
            }
        }
    }
}

fn component_name(face: Face, status: &str) -> String {
    let (_, name, _, _) = COMMON
        .iter()
        .find(|(code, ..)| *code == status)
        .expect("a common status");
    format!("{}{name}", face.prefix())
}

fn add_components(components: &mut Components) {
    components
        .schemas
        .insert("ErrorEnvelope".to_string(), schema(error_envelope("Meta")));
    components.schemas.insert(
        "V2ErrorEnvelope".to_string(),
        schema(error_envelope("V2Meta")),
    );
    for face in [Face::V4, Face::V2] {
        for (status, ..) in COMMON {
            components.responses.insert(
                component_name(face, status),
                RefOr::T(common_response(face, status)),
            );
        }
    }
}

/// The envelope of an error: the face's `meta` and `data: null`.
fn error_envelope(meta: &str) -> serde_json::Value {
    json!({
        "type": "object",
        "description": "An error: `meta.code` is the API code, `meta.message` says what is wrong and how to fix it; `data` is null.",
        "required": ["meta", "data"],
        "properties": {
            "meta": { "$ref": format!("#/components/schemas/{meta}") },
            "data": { "type": "null" }
        }
    })
}

fn schema(value: serde_json::Value) -> RefOr<utoipa::openapi::schema::Schema> {
    serde_json::from_value(value).expect("a valid schema")
}

/// Gives a response the face's error envelope as its JSON body.
fn set_envelope(face: Face, response: &mut Response) {
    response.content.insert(
        "application/json".to_string(),
        Content::new(Some(Ref::from_schema_name(face.envelope()))),
    );
}

/// The headers of a 429 (the `X-RateLimit-*` ones are on every success too), each a whole number
/// from 0.
const RATE_LIMIT_HEADERS: [(&str, &str); 4] = [
    (
        "Retry-After",
        "Seconds until the next call of this kind is accepted",
    ),
    (
        "X-RateLimit-Limit",
        "Calls per second this key may make of this kind (also on every success)",
    ),
    (
        "X-RateLimit-Remaining",
        "Calls left now (also on every success)",
    ),
    (
        "X-RateLimit-Reset",
        "Unix seconds when the allowance is full again (also on every success)",
    ),
];

fn common_response(face: Face, status: &str) -> Response {
    let (_, _, description, _) = COMMON
        .iter()
        .find(|(code, ..)| *code == status)
        .expect("a common status");
    let mut response: Response =
        serde_json::from_value(json!({ "description": description })).expect("a valid response");
    set_envelope(face, &mut response);
    if status == "429" {
        let headers: serde_json::Map<String, serde_json::Value> = RATE_LIMIT_HEADERS
            .iter()
            .map(|(name, description)| {
                let schema = json!({ "type": "integer", "minimum": 0 });
                let header = json!({ "description": description, "schema": schema });
                (name.to_string(), header)
            })
            .collect();
        response.headers = serde_json::from_value(headers.into()).expect("valid headers");
    }
    response
}
