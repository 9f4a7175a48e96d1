//! One attempt of one delivery: render the body, sign and send it, decide what follows, and say
//! it as the [`AttemptRecord`] the store writes. The dispatcher runs this for the outbox (and
//! records the results in batches); the API's test send runs it once for a sample event (and
//! records it at once), so a test event is signed, sent and logged exactly like a real one.

use chrono::{DateTime, Utc};
use parceld_model::Tracking;
use parceld_store::{
    AttemptOutcome, AttemptRecord, ClaimedDelivery, WebhookEndpoint, WebhookVersion,
};

use super::{after_attempt, EventContext, RenderPayload, WebhookClient, WebhookSettings};

/// A delivery about to be attempted: where it goes, what it is, and how many attempts came before.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    pub delivery_pk: i64,
    pub delivery_id: &'a str,
    pub endpoint_pk: i64,
    pub endpoint_id: &'a str,
    pub url: &'a str,
    pub secret: &'a str,
    pub version: WebhookVersion,
    pub event: &'a str,
    pub event_id: &'a str,
    /// When the event happened (the delivery was queued).
    pub created_at: DateTime<Utc>,
    pub attempts_before: i64,
    /// Whether a failure is retried on the usual schedule; a test event is sent once.
    pub retries: bool,
}

impl<'a> Outgoing<'a> {
    /// A delivery the dispatcher claimed.
    pub fn claimed(delivery: &'a ClaimedDelivery) -> Self {
        Outgoing {
            delivery_pk: delivery.pk,
            delivery_id: &delivery.id,
            endpoint_pk: delivery.endpoint_pk,
            endpoint_id: &delivery.endpoint_id,
            url: &delivery.url,
            secret: &delivery.secret,
            version: delivery.version,
            event: &delivery.event,
            event_id: &delivery.event_id,
            created_at: delivery.created_at,
            attempts_before: delivery.attempts,
            retries: true,
        }
    }

    /// A single attempt of a delivery just queued for `endpoint`, never retried (a test event).
    pub fn once(
        endpoint: &'a WebhookEndpoint,
        delivery_pk: i64,
        delivery_id: &'a str,
        event: &'a str,
        event_id: &'a str,
        created_at: DateTime<Utc>,
    ) -> Self {
        Outgoing {
            delivery_pk,
            delivery_id,
            endpoint_pk: endpoint.pk,
            endpoint_id: &endpoint.id,
            url: &endpoint.url,
            secret: &endpoint.secret,
            version: endpoint.version,
            event,
            event_id,
            created_at,
            attempts_before: 0,
            retries: false,
        }
    }

    /// The body for `tracking`, in the endpoint's payload version.
    pub fn render(&self, renderer: &dyn RenderPayload, tracking: &Tracking) -> String {
        renderer.render(
            &EventContext {
                event: self.event,
                event_id: self.event_id,
                created_at: self.created_at,
                webhook_id: self.endpoint_id,
                delivery_id: self.delivery_id,
            },
            tracking,
            self.version,
            self.secret,
        )
    }
}

/// Sends `body` (signed with the endpoint's secret; `None` when the tracking is gone, which gives
/// the delivery up) and says what follows.
pub async fn attempt(
    client: &WebhookClient,
    settings: &WebhookSettings,
    outgoing: &Outgoing<'_>,
    body: Option<String>,
) -> AttemptRecord {
    let attempted_at = Utc::now();
    let Some(body) = body else {
        return AttemptRecord {
            delivery_pk: outgoing.delivery_pk,
            endpoint_pk: outgoing.endpoint_pk,
            attempted_at,
            http_status: None,
            latency_ms: 0,
            error: Some("the tracking was deleted before this delivery was sent".into()),
            response_snippet: None,
            outcome: AttemptOutcome::GiveUp,
            payload: None,
        };
    };
    let result = client
        .send(outgoing.url, outgoing.secret, outgoing.event_id, &body)
        .await;
    let outcome = match after_attempt(outgoing.attempts_before, &result, settings, Utc::now()) {
        AttemptOutcome::Retry { .. } if !outgoing.retries => AttemptOutcome::GiveUp,
        outcome => outcome,
    };
    if outcome == AttemptOutcome::GiveUp && outgoing.retries {
        tracing::warn!(delivery = %outgoing.delivery_id, webhook = %outgoing.endpoint_id, "webhook delivery failed for good");
    }
    AttemptRecord {
        delivery_pk: outgoing.delivery_pk,
        endpoint_pk: outgoing.endpoint_pk,
        attempted_at,
        http_status: result.http_status,
        latency_ms: result.latency_ms,
        error: result.error,
        response_snippet: result.response_snippet,
        outcome,
        payload: Some(body),
    }
}
