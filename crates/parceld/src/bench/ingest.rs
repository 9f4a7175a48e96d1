//! The ingest scenario: batch creates through `POST /v4/trackings/batch`, 40 trackings a call
//! from 16 clients, against the API scenario's server.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::Options;

/// Batch create through the API, 40 a call, for the scenario's time.
pub(super) async fn run(base: &str, key: &str, options: &Options) -> anyhow::Result<f64> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..16usize {
        let client = client.clone();
        let url = format!("{base}/v4/trackings/batch");
        let key = key.to_string();
        tasks.push(tokio::spawn(async move {
            let mut created = 0u64;
            let mut call = 0usize;
            while Instant::now() < deadline {
                let body: Vec<Value> = (0..40)
                    .map(|i| {
                        json!({
                            "tracking_number": format!("SANDBOX-DELIVERED-I{worker:02}{call:08}{i:02}"),
                            "courier_code": "sandbox",
                            "order_number": format!("#{call}-{i}"),
                        })
                    })
                    .collect();
                call += 1;
                let Ok(response) = client
                    .post(&url)
                    .header("Tracking-Api-Key", &key)
                    .json(&body)
                    .send()
                    .await
                else {
                    continue;
                };
                let Ok(value) = response.json::<Value>().await else {
                    continue;
                };
                created += value["data"]["success"]
                    .as_array()
                    .map(|a| a.len() as u64)
                    .unwrap_or(0);
            }
            created
        }));
    }
    let mut created = 0;
    for task in tasks {
        created += task.await.unwrap_or(0);
    }
    Ok(created as f64 / started.elapsed().as_secs_f64())
}
