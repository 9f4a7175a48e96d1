//! Webhook operations: registering, changing and removing an account's endpoints, the delivery
//! log, redelivery and test events.
//!
//! The rules (a URL parceld may call, a status filter, a payload version) are checked here for
//! both the API and `parceld webhook create`. A test event goes through the engine's one
//! [`attempt`] function, so it is rendered, signed, sent and logged exactly like a delivery the
//! dispatcher makes. An endpoint of another account is "no such webhook", the same as one that
//! never existed.

use chrono::{DateTime, Utc};
use parceld_engine::webhooks::{
    attempt, check_url, signing, Outgoing, UrlError, WebhookSender, WebhookSettings, TEST_EVENT,
};
use parceld_model::{
    Checkpoint, DeliveryStatus, Leg, ShipmentInfo, SubStatus, Tracking, TrackingFields, TrackingId,
};
use parceld_store::{
    AccountId, CreateWebhook, DeliveryInfo, NewWebhook, WebhookEndpoint, WebhookPatch,
    WebhookVersion,
};

use crate::error::{ServiceError, ServiceResult};

/// What a client sends to create or change an endpoint; on a change, absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct WebhookInput {
    pub url: Option<String>,
    pub description: Option<String>,
    /// `"all"`, a comma-separated text or a list of status names.
    pub statuses: Option<serde_json::Value>,
    pub version: Option<String>,
    pub enabled: Option<bool>,
}

/// The nine statuses, for messages.
fn status_list() -> String {
    DeliveryStatus::ALL
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses a status filter as JSON gives it: `"all"`, `["all"]`, or a list of the nine statuses.
/// A bare text other than `"all"` is refused rather than read as a list: `"delivered"` may be
/// meant as a list of one or as a typo of a list, and guessing would subscribe the endpoint to
/// something the client did not say.
pub fn parse_statuses(value: &serde_json::Value) -> ServiceResult<Vec<DeliveryStatus>> {
    let bad = ServiceError::WebhookStatusInvalid;
    let names: Vec<&str> = match value {
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("all") => return Ok(Vec::new()),
        serde_json::Value::String(s) => {
            let list: Vec<String> = s.split(',').map(|n| format!("\"{}\"", n.trim())).collect();
            return Err(bad(format!(
                "`statuses` must be \"all\" or a list of status names; got the text {value}. For a list send [{}].",
                list.join(", ")
            )));
        }
        serde_json::Value::Array(items) => items
            .iter()
            .map(|v| {
                v.as_str().ok_or_else(|| {
                    bad(format!(
                        "`statuses` must be a list of status names; got {v}."
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
        other => {
            return Err(bad(format!(
                "`statuses` must be \"all\" or a list of status names; got {other}."
            )))
        }
    };
    status_names(&names)
}

/// Parses the command line's status filter: `all`, or status names separated by commas.
pub fn parse_status_text(text: &str) -> ServiceResult<Vec<DeliveryStatus>> {
    let names: Vec<&str> = text.split(',').map(str::trim).collect();
    status_names(&names)
}

/// Status names onto statuses: `all` among them means every status (an empty filter).
fn status_names(names: &[&str]) -> ServiceResult<Vec<DeliveryStatus>> {
    let bad = ServiceError::WebhookStatusInvalid;
    if names.iter().any(|n| n.eq_ignore_ascii_case("all")) {
        return Ok(Vec::new());
    }
    if names.is_empty() || names.iter().all(|n| n.is_empty()) {
        return Err(bad(format!(
            "`statuses` is empty; send \"all\" or some of: {}.",
            status_list()
        )));
    }
    let mut statuses = Vec::new();
    for name in names {
        let status = name
            .to_ascii_lowercase()
            .parse::<DeliveryStatus>()
            .map_err(|_| {
                bad(format!(
                    "`{name}` is not a status; use \"all\" or some of: {}.",
                    status_list()
                ))
            })?;
        if !statuses.contains(&status) {
            statuses.push(status);
        }
    }
    Ok(statuses)
}

/// Parses a payload version: `v4` or `v2`.
pub fn parse_version(raw: &str) -> ServiceResult<WebhookVersion> {
    WebhookVersion::parse(raw).ok_or_else(|| {
        ServiceError::InvalidField(format!("`version` must be \"v4\" or \"v2\"; got `{raw}`."))
    })
}

fn url_error(error: UrlError) -> ServiceError {
    ServiceError::WebhookUrlInvalid(format!("{error}."))
}

fn not_found(id: &str) -> ServiceError {
    ServiceError::WebhookNotFound(format!(
        "No webhook `{id}` belongs to your account; GET /v4/webhooks lists them."
    ))
}

/// The webhook endpoints of every account, and the client test events are sent with.
pub struct WebhookService {
    sender: WebhookSender,
}

/// The endpoint a store call found, or the answer that `id` names none of the account's.
fn found(endpoint: Option<WebhookEndpoint>, id: &str) -> ServiceResult<WebhookEndpoint> {
    endpoint.ok_or_else(|| not_found(id))
}

impl WebhookService {
    pub fn new(sender: WebhookSender) -> Self {
        WebhookService { sender }
    }

    pub fn settings(&self) -> &WebhookSettings {
        &self.sender.settings
    }

    /// A URL parceld may call. Spaces around it and control characters anywhere are refused
    /// rather than dropped (a URL parser drops them silently), so the address stored is the one
    /// the client sent.
    fn checked_url(&self, url: &str) -> ServiceResult<String> {
        if let Some(at) = url.chars().position(char::is_control) {
            return Err(ServiceError::WebhookUrlInvalid(format!(
                "`url` contains a control character (at character {}); send the address alone.",
                at + 1
            )));
        }
        if url.trim() != url {
            return Err(ServiceError::WebhookUrlInvalid(
                "`url` begins or ends with spaces; send the address alone.".into(),
            ));
        }
        check_url(url, self.sender.client.policy())
            .map(|url| url.to_string())
            .map_err(url_error)
    }

    /// Registers an endpoint with a new secret.
    pub async fn create(
        &self,
        account: AccountId,
        input: WebhookInput,
    ) -> ServiceResult<WebhookEndpoint> {
        let url = input.url.as_deref().ok_or_else(|| {
            ServiceError::WebhookUrlInvalid(
                "`url` is required: the address parceld POSTs events to.".into(),
            )
        })?;
        let url = self.checked_url(url)?;
        let statuses = match &input.statuses {
            Some(value) => parse_statuses(value)?,
            None => Vec::new(),
        };
        let version = match &input.version {
            Some(raw) => parse_version(raw)?,
            None => WebhookVersion::V4,
        };
        let new = NewWebhook {
            url,
            description: input.description.unwrap_or_default(),
            statuses,
            version,
            enabled: input.enabled.unwrap_or(true),
            secret: signing::generate_secret(),
        };
        let max = self.sender.settings.max_per_account;
        match self.sender.store.create_webhook(account, &new, max).await? {
            CreateWebhook::Created(endpoint) => Ok(*endpoint),
            CreateWebhook::LimitReached { max } => Err(ServiceError::WebhookLimitReached(format!(
                "An account may have {max} webhooks; delete one (DELETE /v4/webhooks/{{id}}) first."
            ))),
        }
    }

    pub async fn list(&self, account: AccountId) -> ServiceResult<Vec<WebhookEndpoint>> {
        Ok(self.sender.store.webhooks(Some(account)).await?)
    }

    /// One of the account's endpoints.
    pub async fn endpoint(&self, account: AccountId, id: &str) -> ServiceResult<WebhookEndpoint> {
        found(self.sender.store.webhook(Some(account), id).await?, id)
    }

    /// Changes an endpoint; absent fields stay as they are.
    pub async fn update(
        &self,
        account: AccountId,
        id: &str,
        input: WebhookInput,
    ) -> ServiceResult<WebhookEndpoint> {
        let patch = WebhookPatch {
            url: input
                .url
                .as_deref()
                .map(|url| self.checked_url(url))
                .transpose()?,
            description: input.description,
            statuses: input.statuses.as_ref().map(parse_statuses).transpose()?,
            version: input.version.as_deref().map(parse_version).transpose()?,
            enabled: input.enabled,
            secret: None,
        };
        self.patch(account, id, &patch).await
    }

    /// Replaces the endpoint's secret.
    pub async fn rotate_secret(
        &self,
        account: AccountId,
        id: &str,
    ) -> ServiceResult<WebhookEndpoint> {
        let patch = WebhookPatch {
            secret: Some(signing::generate_secret()),
            ..WebhookPatch::default()
        };
        self.patch(account, id, &patch).await
    }

    async fn patch(
        &self,
        account: AccountId,
        id: &str,
        patch: &WebhookPatch,
    ) -> ServiceResult<WebhookEndpoint> {
        found(
            self.sender
                .store
                .update_webhook(Some(account), id, patch)
                .await?,
            id,
        )
    }

    /// Deletes an endpoint, its pending deliveries and its log.
    pub async fn remove(&self, account: AccountId, id: &str) -> ServiceResult<WebhookEndpoint> {
        found(
            self.sender.store.delete_webhook(Some(account), id).await?,
            id,
        )
    }

    /// The endpoint's deliveries, newest first.
    pub async fn deliveries(
        &self,
        account: AccountId,
        id: &str,
        limit: u32,
    ) -> ServiceResult<Vec<DeliveryInfo>> {
        let endpoint = self.endpoint(account, id).await?;
        Ok(self
            .sender
            .store
            .deliveries(endpoint.pk, limit, None)
            .await?)
    }

    /// Queues a delivery again, now, with the same event id and body.
    pub async fn redeliver(
        &self,
        account: AccountId,
        id: &str,
        delivery_id: &str,
    ) -> ServiceResult<DeliveryInfo> {
        let endpoint = self.endpoint(account, id).await?;
        let missing = || {
            ServiceError::WebhookDeliveryNotFound(format!(
                "Webhook `{id}` has no delivery `{delivery_id}`; GET /v4/webhooks/{id}/deliveries lists them."
            ))
        };
        let queued = async {
            if !self
                .sender
                .store
                .redeliver(endpoint.pk, delivery_id)
                .await?
            {
                return Err(missing());
            }
            self.sender
                .store
                .deliveries(endpoint.pk, 1, Some(delivery_id))
                .await?
                .pop()
                .ok_or_else(missing)
        };
        match queued.await {
            Ok(delivery) => Ok(delivery),
            Err(error) => Err(self.unless_deleted(account, id, error).await),
        }
    }

    /// Sends a sample event to the endpoint now, once (never retried), logs the attempt as a
    /// `TEST` delivery and returns it.
    pub async fn send_test(&self, account: AccountId, id: &str) -> ServiceResult<DeliveryInfo> {
        let endpoint = self.endpoint(account, id).await?;
        let sent = async {
            let now = Utc::now();
            let event_id = parceld_store::webhooks::new_event_id();
            let (pk, delivery_id) = self
                .sender
                .store
                .insert_delivery(&endpoint, TEST_EVENT, &event_id, None, false)
                .await?;
            let outgoing = Outgoing::once(&endpoint, pk, &delivery_id, TEST_EVENT, &event_id, now);
            let body = outgoing.render(self.sender.renderer, &sample_tracking(now));
            let record = attempt(
                &self.sender.client,
                &self.sender.settings,
                &outgoing,
                Some(body),
            )
            .await;
            let disable_after =
                chrono::Duration::seconds(self.sender.settings.disable_after_secs as i64);
            self.sender
                .store
                .record_attempts("api", &[record], disable_after, Utc::now())
                .await?;
            self.sender
                .store
                .deliveries(endpoint.pk, 1, Some(&delivery_id))
                .await?
                .pop()
                .ok_or_else(|| ServiceError::Internal("the test delivery vanished".into()))
        };
        match sent.await {
            Ok(delivery) => Ok(delivery),
            Err(error) => Err(self.unless_deleted(account, id, error).await),
        }
    }

    /// The endpoint can be deleted between the look-up that found it and a later store call
    /// (a test send waits for the receiver; the receiver may be what deletes it). Whatever that
    /// later call then reported — a delivery row gone with its endpoint, a foreign key refused —
    /// the answer is "no such webhook", as if the delete had come first; an error is kept only
    /// while the endpoint still exists.
    async fn unless_deleted(
        &self,
        account: AccountId,
        id: &str,
        error: ServiceError,
    ) -> ServiceError {
        match self.sender.store.webhook(Some(account), id).await {
            Ok(None) => not_found(id),
            _ => error,
        }
    }
}

/// The wire's time format (RFC 3339, whole seconds), for the sample's texts.
fn iso(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// The tracking a test event carries: a made-up parcel in transit.
pub fn sample_tracking(now: DateTime<Utc>) -> Tracking {
    let picked = now - chrono::Duration::hours(20);
    let hub = now - chrono::Duration::hours(2);
    let checkpoint =
        |time: DateTime<Utc>, status, substatus, detail: &str, city: &str| Checkpoint {
            leg: Leg::Origin,
            time,
            checkpoint_date: iso(time),
            status,
            substatus: Some(substatus),
            detail: detail.to_string(),
            location: format!("{city}, NL"),
            country_iso2: "NL".into(),
            state: String::new(),
            city: city.to_string(),
            zip: String::new(),
            raw_status: "TEST".into(),
            raw_time: iso(time),
        };
    Tracking {
        id: TrackingId::generate(),
        tracking_number: "PARCELD-TEST-0001".into(),
        courier_code: "sandbox".into(),
        courier_detected: false,
        fields: TrackingFields {
            order_number: Some("#TEST".into()),
            title: Some("A test event from parceld".into()),
            ..TrackingFields::default()
        },
        shipment: ShipmentInfo::default(),
        delivery_status: DeliveryStatus::Transit,
        substatus: Some(SubStatus::Transit002),
        status_info: Some("This is a test event; no tracking changed.".into()),
        latest_event: Some("Arrived at the sorting center, Utrecht, NL".into()),
        latest_checkpoint_time: Some(hub),
        archived: false,
        created_at: picked,
        updated_at: hub,
        last_checked_at: Some(hub),
        next_check_at: None,
        check_error: None,
        checkpoints: vec![
            checkpoint(
                hub,
                DeliveryStatus::Transit,
                SubStatus::Transit002,
                "Arrived at the sorting center",
                "Utrecht",
            ),
            checkpoint(
                picked,
                DeliveryStatus::Transit,
                SubStatus::Transit001,
                "Picked up",
                "Amsterdam",
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn status_filters_parse() {
        assert_eq!(parse_statuses(&json!("all")).unwrap(), vec![]);
        assert_eq!(parse_statuses(&json!(["ALL"])).unwrap(), vec![]);
        assert_eq!(
            parse_statuses(&json!(["delivered", "exception", "delivered"])).unwrap(),
            vec![DeliveryStatus::Delivered, DeliveryStatus::Exception]
        );
        assert_eq!(
            parse_status_text("pickup, transit").unwrap(),
            vec![DeliveryStatus::Pickup, DeliveryStatus::Transit]
        );
        assert_eq!(parse_status_text("all").unwrap(), vec![]);
        let text = parse_statuses(&json!("pickup, transit")).unwrap_err();
        assert!(
            text.to_string().contains(r#"send ["pickup", "transit"]"#),
            "{text}"
        );
        for bad in [
            json!(["delivred"]),
            json!([]),
            json!(7),
            json!([1]),
            json!("delivered"),
            json!(""),
        ] {
            let error = parse_statuses(&bad).unwrap_err();
            assert!(
                matches!(error, ServiceError::WebhookStatusInvalid(_)),
                "{bad}"
            );
        }
    }

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("v2").unwrap(), WebhookVersion::V2);
        let error = parse_version("v3").unwrap_err();
        assert!(matches!(error, ServiceError::InvalidField(_)));
        assert!(error.to_string().contains("`v3`"));
    }
}
