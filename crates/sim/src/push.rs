//! The simulator as a push sender: it posts a number's newest visible event to a URL it is
//! given, in a source's push format and with its proof (UPS's `x-api-key`, FedEx's
//! `fdx-signature`), and remembers which numbers were subscribed with it.

use std::collections::BTreeSet;

use crate::protocols::{fedex_push, ups_push};
use crate::Simulator;

/// How a push was answered: the HTTP status and the body.
pub type PushAnswer = (u16, String);

impl Simulator {
    pub(crate) fn record_subscriptions(&self, carrier: &str, numbers: &[String]) {
        let mut state = self.lock();
        let set = state.subscriptions.entry(carrier.to_string()).or_default();
        set.extend(numbers.iter().cloned());
    }

    /// The numbers subscribed with `carrier`'s push (`ups`), sorted.
    pub fn subscribed(&self, carrier: &str) -> Vec<String> {
        self.lock()
            .subscriptions
            .get(carrier)
            .cloned()
            .unwrap_or_else(BTreeSet::new)
            .into_iter()
            .collect()
    }

    /// The body `source` (`ups`, `fedex`) would push for `number`'s newest visible event.
    pub fn push_body(&self, source: &str, number: &str) -> Option<Vec<u8>> {
        let body = match source {
            "ups" => ups_push::body(self, number)?,
            "fedex" => fedex_push::body(self, number)?,
            _ => return None,
        };
        Some(body.to_string().into_bytes())
    }

    /// Posts `body` to `url` as `source` would, proven with `secret`.
    pub async fn send_push(
        &self,
        source: &str,
        url: &str,
        secret: &str,
        body: Vec<u8>,
    ) -> Result<PushAnswer, String> {
        let client = reqwest::Client::new();
        let mut request = client
            .post(url)
            .header("content-type", "application/json")
            .header("user-agent", "UPSPubSubTrackingService");
        request = match source {
            "ups" => request.header("x-api-key", secret),
            "fedex" => request.header("fdx-signature", fedex_push::signature(secret, &body)),
            other => return Err(format!("no push source `{other}`")),
        };
        let reply = request.body(body).send().await.map_err(|e| e.to_string())?;
        let status = reply.status().as_u16();
        Ok((status, reply.text().await.unwrap_or_default()))
    }

    /// Pushes `number`'s newest visible event to `url` as `source`, signed with `secret`.
    pub async fn push(
        &self,
        source: &str,
        url: &str,
        secret: &str,
        number: &str,
    ) -> Result<PushAnswer, String> {
        let body = self
            .push_body(source, number)
            .ok_or_else(|| format!("{number} has no visible event to push"))?;
        self.send_push(source, url, secret, body).await
    }
}
