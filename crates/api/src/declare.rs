//! Wire types declared by one list each. A request body of optional texts is only its field
//! names (`text_bodies!`: every one refuses a field it does not know, so a typo is a 4130 or 4012
//! instead of a silently ignored value); a response object is its fields beside the expressions
//! that fill them (`view_from!`), so a field cannot be declared without being filled, or filled
//! in a second place that drifts from the first.

/// Declares request bodies whose fields are all optional texts, refusing unknown fields.
///
/// ```text
/// text_bodies! {
///     /// Body of `POST /v4/things/detect`.
///     DetectRequest { tracking_number }
/// }
/// ```
macro_rules! text_bodies {
    ($( $(#[$meta:meta])* $name:ident { $( $(#[$field_meta:meta])* $field:ident ),* $(,)? } )*) => {
        $(
            $(#[$meta])*
            #[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
            #[serde(deny_unknown_fields)]
            pub struct $name {
                $( $(#[$field_meta])* pub $field: Option<String>, )*
            }
        )*
    };
}

/// Declares a request body of both faces' create and update calls: its own leading fields, then
/// the merchant fields (optional texts), each with its attributes in brackets (its description
/// and, on v2, its wire name), refusing unknown fields. `with_merchant_fields!` (v4) and
/// `with_v2_merchant_fields!` call it with their selection of the merchant-field list.
macro_rules! merchant_body {
    (
        $(#[$meta:meta])* $name:ident { $( $(#[$lead_meta:meta])* $lead:ident : $lead_ty:ty, )* }
        $( [$($field_meta:tt)*] $field:ident )*
    ) => {
        $(#[$meta])*
        #[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $( $(#[$lead_meta])* pub $lead: $lead_ty, )*
            $( $($field_meta)* pub $field: Option<String>, )*
        }
    };
}

/// Declares a response object and its `From` conversion: each field with its type and the
/// expression that fills it from the source value, which the expressions call `$source`; `let`
/// bindings before the fields compute what several fields share.
///
/// ```text
/// view_from! {
///     /// A thing as the API shows it.
///     ThingView<'a> from thing: &'a Thing;
///     let parts = thing.parts();
///     {
///         name: &'a str = &thing.name,
///         parts: usize = parts.len(),
///     }
/// }
/// ```
macro_rules! view_from {
    (
        $(#[$meta:meta])*
        $name:ident $(<$lifetime:lifetime>)? from $source:ident: $source_type:ty;
        $( let $binding:pat = $init:expr; )*
        {
            $( $(#[$field_meta:meta])* $field:ident: $type:ty = $value:expr, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $name $(<$lifetime>)? {
            $( $(#[$field_meta])* pub $field: $type, )*
        }

        impl $(<$lifetime>)? From<$source_type> for $name $(<$lifetime>)? {
            fn from($source: $source_type) -> Self {
                $( let $binding = $init; )*
                $name {
                    $( $field: $value, )*
                }
            }
        }
    };
}
