//! The TrackingMore v4 face of the API.

pub mod couriers;
pub mod tracking_page;
pub mod trackings;
pub mod webhooks;
pub mod wire;
