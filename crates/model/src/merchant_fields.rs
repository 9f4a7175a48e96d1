//! The merchant fields, declared once.
//!
//! A merchant may set 21 optional fields on a tracking (order number, title, customer email …).
//! They appear in many shapes: the domain's [`TrackingFields`](crate::TrackingFields) with its
//! update and look-up by name, the v4 create and update bodies, the v4 tracking object and update
//! result, and the legacy v2 bodies and objects under v2's own names. Each shape used to spell
//! every field again, so adding one meant finding nine places and missing one went unnoticed.
//!
//! [`merchant_fields!`](crate::merchant_fields) holds the one list: each field's name, its
//! meaning, which v4 and v2 shapes show it, its v2 name and the documentation the wire schemas
//! give it. Every shape is generated from it by a *callback* macro that receives the list.
//!
//! **A new merchant field is one entry (plus its doc comment) in this list**; the domain struct,
//! the request bodies and the views follow.

/// Calls back a macro with the merchant fields, optionally only those a shape shows.
///
/// ```text
/// merchant_fields!(callback);                          // every field
/// merchant_fields!(callback { any tokens });           // every field, tokens passed through
/// merchant_fields!(v4_tracking => callback { … });     // only the fields a selection shows
/// ```
///
/// The callback is invoked as `callback! { { any tokens } entry entry … }` where each entry is
///
/// ```text
/// field_name { doc: [#[doc = "…"] …], v4: [#[doc = "…"]?], v2: ["v2_name"?] [#[doc = "…"]?] }
/// ```
///
/// `doc` is the field's meaning (for Rust documentation), `v4` the description the v4 request
/// schema gives it, `v2` its v2 name (empty when v2 does not know the field) and the description
/// the v2 request schema gives it. A callback that needs only the names matches
/// `$($field:ident $info:tt)*`. Match the v2 name as a `tt`, not a `literal`: a `literal`
/// fragment reaches derive macros wrapped in an invisible group, and utoipa then misses a
/// `#[serde(rename = …)]` made from it.
///
/// Selections (each entry of the list says how far each face shows the field):
///
/// | selection      | fields                                                                 |
/// |----------------|------------------------------------------------------------------------|
/// | `all`          | every field: the domain struct, the v4 create and update bodies        |
/// | `v4_update`    | v4 `update` and `tracking`: the v4 update result                       |
/// | `v4_tracking`  | v4 `tracking`: the v4 tracking object                                  |
/// | `v2_request`   | every field v2 knows: the v2 create and update bodies                  |
/// | `v2_created`   | v2 `created` and `tracking`: the v2 create result                      |
/// | `v2_tracking`  | v2 `tracking`: the v2 tracking object                                  |
///
/// A list entry reads `name: v4 <shown>, v2 <shown> "v2 name";` where `<shown>` is `tracking`
/// (in the tracking object and every smaller result), `update` / `created` (in the update or create
/// result only), `request` (accepted and stored, not echoed), or `-` for a field v2 lacks; a string
/// after `v4 <shown>` or after the v2 name is that face's schema description.
#[macro_export]
macro_rules! merchant_fields {
    ($callback:ident $({ $($args:tt)* })?) => {
        $crate::merchant_fields!{@list all $callback { $($($args)*)? }}
    };
    ($selection:ident => $callback:ident $({ $($args:tt)* })?) => {
        $crate::merchant_fields!{@list $selection $callback { $($($args)*)? }}
    };

    (@list $selection:ident $callback:ident $args:tt) => {
        $crate::merchant_fields!{@munch $selection $callback $args []
            /// The merchant's order number, as the buyer knows it.
            order_number: v4 tracking, v2 -;
            /// The merchant's own id of the order.
            order_id: v4 tracking, v2 tracking "order_id";
            /// When the order was placed, as the merchant writes it.
            order_date: v4 tracking,
                v2 tracking "order_create_time" "As the merchant writes it, e.g. `2017/8/27 16:51`.";
            /// Where the shipment starts (ISO 3166-1 alpha-2); the tracking's origin country
            /// until the carrier names one.
            origin_country_iso2: v4 update "ISO 3166-1 alpha-2.", v2 -;
            /// Where the shipment goes (ISO 3166-1 alpha-2); the tracking's destination country
            /// until the carrier names one, and the destination asked of couriers that need one.
            destination_country_iso2: v4 update "ISO 3166-1 alpha-2.",
                v2 created "destination_code" "Destination country, ISO 3166-1 alpha-2.";
            /// The buyer's name.
            customer_name: v4 tracking, v2 tracking "customer_name";
            /// The buyer's email address.
            customer_email: v4 tracking, v2 tracking "customer_email";
            /// The buyer's phone number for text messages.
            customer_sms: v4 tracking, v2 tracking "customer_phone";
            /// The recipient's postal code; asked of couriers that need one when
            /// `tracking_postal_code` is not set.
            recipient_postcode: v4 tracking, v2 -;
            /// What is shipped, in the merchant's words.
            title: v4 tracking, v2 tracking "title";
            /// The merchant's name for the shipping method.
            logistics_channel: v4 tracking, v2 tracking "logistics_channel";
            /// The merchant's free-text note.
            note: v4 tracking, v2 tracking "comment";
            /// The merchant's label, to group trackings.
            label: v4 tracking, v2 -;
            /// The merchant's account number with the courier, for couriers that need it.
            tracking_courier_account: v4 tracking, v2 request "tracking_account_number";
            /// The postal code a courier needs with the number.
            tracking_postal_code: v4 tracking, v2 request "tracking_postal_code";
            /// The origin country a courier needs with the number.
            tracking_origin_country: v4 tracking, v2 -;
            /// The destination country a courier needs with the number.
            tracking_destination_country: v4 tracking,
                v2 request "specialNumberDestination"
                    "Destination country for couriers that need it with the number.";
            /// The ship date (YYYYMMDD) a courier needs with the number.
            tracking_ship_date: v4 tracking "YYYYMMDD.",
                v2 request "tracking_ship_date" "YYYYMMDD, for couriers that need it.";
            /// A key a courier needs with the number.
            tracking_key: v4 tracking, v2 -;
            /// The language the merchant asked event texts in; stored, while parceld returns the
            /// courier's own texts.
            language: v4 update,
                v2 request "lang"
                    "Language of event texts; parceld stores it and returns the courier's own texts.";
            /// TrackingMore's switch for correcting the courier of a number; accepted and stored.
            auto_correct: v4 request, v2 -;
        }
    };

    // Every entry read: call back with the kept ones.
    (@munch $selection:ident $callback:ident $args:tt [$($kept:tt)*]) => {
        $callback! { $args $($kept)* }
    };
    // An entry v2 does not know.
    (@munch $selection:ident $callback:ident $args:tt [$($kept:tt)*]
        $(#[doc = $doc:literal])* $field:ident : v4 $v4:ident $($v4_doc:literal)?, v2 -;
        $($rest:tt)*
    ) => {
        $crate::merchant_fields!{@pick $selection [$v4] [] $callback $args [$($kept)*]
            [$field { doc: [$(#[doc = $doc])*], v4: [$(#[doc = $v4_doc])?], v2: [] [] }]
            $($rest)*
        }
    };
    // An entry v2 knows, by `v2_name`.
    (@munch $selection:ident $callback:ident $args:tt [$($kept:tt)*]
        $(#[doc = $doc:literal])* $field:ident : v4 $v4:ident $($v4_doc:literal)?,
        v2 $v2:ident $v2_name:tt $($v2_doc:literal)?;
        $($rest:tt)*
    ) => {
        $crate::merchant_fields!{@pick $selection [$v4] [$v2] $callback $args [$($kept)*]
            [$field {
                doc: [$(#[doc = $doc])*],
                v4: [$(#[doc = $v4_doc])?],
                v2: [$v2_name] [$(#[doc = $v2_doc])?]
            }]
            $($rest)*
        }
    };

    // Whether the selection shows the entry: `[v4 shown] [v2 shown]`, then the callback, its
    // tokens, the kept entries, this entry and the rest. Every pair of selection and visibility
    // is spelled out, so a misspelt word is a compile error rather than a field silently missing.
    (@pick all [$v4:ident] [$($v2:ident)?] $($tail:tt)*) => {
        $crate::merchant_fields!{@keep all $($tail)*}
    };
    (@pick v4_update [tracking] $v2:tt $($tail:tt)*) => {
        $crate::merchant_fields!{@keep v4_update $($tail)*}
    };
    (@pick v4_update [update] $v2:tt $($tail:tt)*) => {
        $crate::merchant_fields!{@keep v4_update $($tail)*}
    };
    (@pick v4_update [request] $v2:tt $($tail:tt)*) => {
        $crate::merchant_fields!{@skip v4_update $($tail)*}
    };
    (@pick v4_tracking [tracking] $v2:tt $($tail:tt)*) => {
        $crate::merchant_fields!{@keep v4_tracking $($tail)*}
    };
    (@pick v4_tracking [update] $v2:tt $($tail:tt)*) => {
        $crate::merchant_fields!{@skip v4_tracking $($tail)*}
    };
    (@pick v4_tracking [request] $v2:tt $($tail:tt)*) => {
        $crate::merchant_fields!{@skip v4_tracking $($tail)*}
    };
    (@pick v2_request $v4:tt [] $($tail:tt)*) => {
        $crate::merchant_fields!{@skip v2_request $($tail)*}
    };
    (@pick v2_request $v4:tt [$v2:ident] $($tail:tt)*) => {
        $crate::merchant_fields!{@keep v2_request $($tail)*}
    };
    (@pick v2_created $v4:tt [tracking] $($tail:tt)*) => {
        $crate::merchant_fields!{@keep v2_created $($tail)*}
    };
    (@pick v2_created $v4:tt [created] $($tail:tt)*) => {
        $crate::merchant_fields!{@keep v2_created $($tail)*}
    };
    (@pick v2_created $v4:tt [request] $($tail:tt)*) => {
        $crate::merchant_fields!{@skip v2_created $($tail)*}
    };
    (@pick v2_created $v4:tt [] $($tail:tt)*) => {
        $crate::merchant_fields!{@skip v2_created $($tail)*}
    };
    (@pick v2_tracking $v4:tt [tracking] $($tail:tt)*) => {
        $crate::merchant_fields!{@keep v2_tracking $($tail)*}
    };
    (@pick v2_tracking $v4:tt [created] $($tail:tt)*) => {
        $crate::merchant_fields!{@skip v2_tracking $($tail)*}
    };
    (@pick v2_tracking $v4:tt [request] $($tail:tt)*) => {
        $crate::merchant_fields!{@skip v2_tracking $($tail)*}
    };
    (@pick v2_tracking $v4:tt [] $($tail:tt)*) => {
        $crate::merchant_fields!{@skip v2_tracking $($tail)*}
    };
    (@pick $selection:ident $v4:tt $v2:tt $callback:ident $args:tt $kept:tt [$field:ident $info:tt] $($rest:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "merchant_fields!: unknown selection `", ::core::stringify!($selection),
            "` or visibility ", ::core::stringify!($v4 $v2), " of `", ::core::stringify!($field), "`"
        ));
    };

    (@keep $selection:ident $callback:ident $args:tt [$($kept:tt)*] [$($entry:tt)*] $($rest:tt)*) => {
        $crate::merchant_fields!{@munch $selection $callback $args [$($kept)* $($entry)*] $($rest)*}
    };
    (@skip $selection:ident $callback:ident $args:tt $kept:tt $entry:tt $($rest:tt)*) => {
        $crate::merchant_fields!{@munch $selection $callback $args $kept $($rest)*}
    };
}

#[cfg(test)]
mod tests {
    /// The names of a selection's fields, with their v2 names where v2 knows them.
    macro_rules! names {
        ({} $( $field:ident { doc: $doc:tt, v4: $v4:tt, v2: [$($v2_name:literal)?] $v2_doc:tt } )*) => {
            vec![$( (stringify!($field), [$($v2_name)?].first().copied()) ),*]
        };
    }

    fn v4_names(fields: Vec<(&'static str, Option<&'static str>)>) -> Vec<&'static str> {
        fields.into_iter().map(|(v4, _)| v4).collect()
    }

    fn v2_names(fields: Vec<(&'static str, Option<&'static str>)>) -> Vec<&'static str> {
        fields.into_iter().map(|(_, v2)| v2.unwrap()).collect()
    }

    #[test]
    fn every_field_is_in_the_full_list_in_order() {
        assert_eq!(
            v4_names(crate::merchant_fields!(names)),
            [
                "order_number",
                "order_id",
                "order_date",
                "origin_country_iso2",
                "destination_country_iso2",
                "customer_name",
                "customer_email",
                "customer_sms",
                "recipient_postcode",
                "title",
                "logistics_channel",
                "note",
                "label",
                "tracking_courier_account",
                "tracking_postal_code",
                "tracking_origin_country",
                "tracking_destination_country",
                "tracking_ship_date",
                "tracking_key",
                "language",
                "auto_correct",
            ]
        );
    }

    #[test]
    fn the_v4_views_show_what_trackingmore_v4_shows() {
        let tracking = v4_names(crate::merchant_fields!(v4_tracking => names));
        // The countries of origin and destination are shown folded into the tracking's
        // `origin_country` / `destination_country`; language and auto_correct are not shown.
        for hidden in [
            "origin_country_iso2",
            "destination_country_iso2",
            "language",
            "auto_correct",
        ] {
            assert!(!tracking.contains(&hidden), "{hidden}");
        }
        assert_eq!(tracking.len(), 17);
        let update = v4_names(crate::merchant_fields!(v4_update => names));
        let mut expected: Vec<&str> = v4_names(crate::merchant_fields!(names));
        expected.retain(|name| *name != "auto_correct");
        assert_eq!(update, expected);
    }

    #[test]
    fn the_v2_views_use_v2_names() {
        assert_eq!(
            v2_names(crate::merchant_fields!(v2_request => names)),
            [
                "order_id",
                "order_create_time",
                "destination_code",
                "customer_name",
                "customer_email",
                "customer_phone",
                "title",
                "logistics_channel",
                "comment",
                "tracking_account_number",
                "tracking_postal_code",
                "specialNumberDestination",
                "tracking_ship_date",
                "lang",
            ]
        );
        assert_eq!(
            v2_names(crate::merchant_fields!(v2_created => names)),
            [
                "order_id",
                "order_create_time",
                "destination_code",
                "customer_name",
                "customer_email",
                "customer_phone",
                "title",
                "logistics_channel",
                "comment",
            ]
        );
        assert_eq!(
            v2_names(crate::merchant_fields!(v2_tracking => names)),
            [
                "order_id",
                "order_create_time",
                "customer_name",
                "customer_email",
                "customer_phone",
                "title",
                "logistics_channel",
                "comment",
            ]
        );
    }

    #[test]
    fn tokens_reach_the_callback() {
        macro_rules! count {
            ({ $offset:literal } $( $field:ident $info:tt )*) => {
                $offset + [$(stringify!($field)),*].len()
            };
        }
        assert_eq!(crate::merchant_fields!(count { 100 }), 121);
        assert_eq!(crate::merchant_fields!(v2_tracking => count { 0 }), 8);
    }
}
