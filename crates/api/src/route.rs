//! Each route declared once. A `route!` invocation holds a route's whole declaration: its
//! OpenAPI operation (method, path, operation id, parameters, request body, responses), its
//! handler, and the two extractors every API handler starts with (the shared state and the
//! authenticated account). A resource module then lists its handlers once, by rate-limit class,
//! with `classed_routes!`; that list builds both the router and the OpenAPI document
//! (`crate::api_routes`), so a route cannot be served without being documented or documented
//! without being served.
//!
//! Before these macros every handler spelled out the same `#[utoipa::path(...)]` skeleton and the
//! same `State(state): State<AppState>, Authenticated(account): Authenticated` lines; a new
//! route now writes only what is its own.

/// Declares one route's handler together with its OpenAPI operation.
///
/// ```text
/// route! {
///     /// Summary line of the operation (doc comments become its summary and description).
///     get "/v4/things/{id}" "getThing", params(ThingPath), body ThingRequest,
///     responses(200 "The thing" => Envelope<ThingView>, 400 "4173 no such thing"),
///     async fn show(state, account, Path(ThingPath { id }): Path<ThingPath>) -> ApiResult<ThingView> {
///         …
///     }
/// }
/// ```
///
/// `params(…)` and `body …` are optional; `state` and `account` are the patterns the shared
/// `crate::AppState` and the request's account are bound to (`_` where unused); further
/// extractors follow them as in any handler.
macro_rules! route {
    (
        $(#[$doc:meta])*
        $method:ident $path:tt $operation:tt
        $(, params($($params:tt)*))?
        $(, body $request:ty)?
        , responses($($status:tt $description:tt $(=> $response:ty)?),+ $(,)?)
        $(,)?
        async fn $name:ident($state:pat, $account:pat $(, $($arg:tt)*)?) -> $result:ty $body:block
    ) => {
        $(#[$doc])*
        #[utoipa::path(
            $method,
            path = $path,
            operation_id = $operation,
            $(params($($params)*),)?
            $(request_body = $request,)?
            responses($((status = $status, description = $description $(, body = $response)?)),+),
        )]
        pub async fn $name(
            axum::extract::State($state): axum::extract::State<crate::AppState>,
            crate::extract::Authenticated($account): crate::extract::Authenticated
            $(, $($arg)*)?
        ) -> $result $body
    };
}

/// A resource module's routes by rate-limit class (`crate::ClassedRoutes`): each class with
/// its groups of handlers, a group being the handlers of one path (`(show, update, remove)`).
///
/// ```text
/// classed_routes!(V4Create: (create); V4Other: (list) (show, update, remove))
/// ```
macro_rules! classed_routes {
    ($($class:ident: $(($($handler:ident),+))+);+ $(;)?) => {
        vec![$((
            parceld_model::LimitClass::$class,
            utoipa_axum::router::OpenApiRouter::default()
                $(.routes(utoipa_axum::routes!($($handler),+)))+,
        )),+]
    };
}
