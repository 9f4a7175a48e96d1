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
    pub fn render(&self, renderer: RenderPayload, tracking: &Tracking) -> String {
        renderer(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(attempts: i64) -> ClaimedDelivery {
        ClaimedDelivery {
            pk: 7,
            id: "dlv_1".into(),
            event: "TRACKING_UPDATED".into(),
            event_id: "evt_1".into(),
            tracking_pk: Some(3),
            attempts,
            payload: None,
            created_at: Utc::now(),
            endpoint_pk: 2,
            endpoint_id: "wh_1".into(),
            // Loopback is refused by the default address policy: the attempt fails at once.
            url: "http://127.0.0.1:9/hook".into(),
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
            version: WebhookVersion::V4,
        }
    }

    #[tokio::test]
    async fn a_failed_delivery_is_retried_but_a_test_event_is_given_up() {
        let settings = WebhookSettings::default();
        let client = WebhookClient::new(&settings).unwrap();
        let claimed = delivery(0);
        let body = Some("{}".to_string());
        let record = attempt(
            &client,
            &settings,
            &Outgoing::claimed(&claimed),
            body.clone(),
        )
        .await;
        assert!(
            matches!(record.outcome, AttemptOutcome::Retry { .. }),
            "{record:?}"
        );
        assert_eq!((record.delivery_pk, record.endpoint_pk), (7, 2));
        assert!(record.error.is_some());
        assert_eq!(record.payload, body);

        let once = Outgoing {
            retries: false,
            ..Outgoing::claimed(&claimed)
        };
        let record = attempt(&client, &settings, &once, body).await;
        assert_eq!(record.outcome, AttemptOutcome::GiveUp);
    }

    #[tokio::test]
    async fn a_delivery_whose_tracking_is_gone_is_given_up_unsent() {
        let settings = WebhookSettings::default();
        let client = WebhookClient::new(&settings).unwrap();
        let claimed = delivery(3);
        let record = attempt(&client, &settings, &Outgoing::claimed(&claimed), None).await;
        assert_eq!(record.outcome, AttemptOutcome::GiveUp);
        assert_eq!(record.payload, None);
        assert!(record.error.unwrap().contains("deleted"));
    }
}
