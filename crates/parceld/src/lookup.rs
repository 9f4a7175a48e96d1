//! `parceld track` and `parceld detect`: looking numbers up without a database, through a
//! carrier adapter or the courier registry's formats.

use anyhow::{bail, Context};

use crate::config::Config;
use crate::serve::carriers;

pub async fn track(config: &Config, courier: &str, number: &str, raw: bool) -> anyhow::Result<()> {
    let carriers = carriers(config)?;
    let Some(carrier) = carriers.get(courier) else {
        bail!(
            "no adapter is configured for `{courier}`; configured: {} (add a [carriers.{courier}] table, see docs/carriers.md)",
            carriers.codes().join(", ")
        );
    };
    let request = parceld_carriers::TrackRequest {
        created_at: Some(chrono::Utc::now()),
        ..parceld_carriers::TrackRequest::new(number)
    };
    let mut answers = carrier.track(std::slice::from_ref(&request)).await;
    let (_, outcome) = answers.pop().context("the adapter gave no answer")?;
    match outcome {
        Ok(parceld_carriers::TrackResult::NotFound) => {
            say!("{courier} {number}: not found");
        }
        Ok(parceld_carriers::TrackResult::Found(shipment)) => {
            if raw {
                say!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "status": shipment.status.as_str(),
                        "substatus": shipment.substatus.map(|s| s.as_str()),
                        "info": shipment.info,
                        "checkpoints": shipment.checkpoints,
                    }))?
                );
            } else {
                say!(
                    "{courier} {number}: {}{}",
                    shipment.status,
                    shipment
                        .substatus
                        .map(|s| format!(" ({s}: {})", s.description()))
                        .unwrap_or_default()
                );
                for c in &shipment.checkpoints {
                    say!(
                        "  {}  {:<13} {:<15} {}  {}",
                        c.checkpoint_date,
                        c.status.as_str(),
                        c.substatus.map(|s| s.as_str()).unwrap_or(""),
                        c.detail,
                        c.location
                    );
                }
            }
        }
        Err(error) => bail!("{courier} {number}: {error}"),
    }
    Ok(())
}

fn print_candidates(number: &str, candidates: &[parceld_detect::Candidate]) {
    if candidates.is_empty() {
        say!("{number}: no courier's format fits");
        return;
    }
    say!("{number}:");
    for c in candidates {
        say!(
            "  {:<18} {:>4.0}%  {}",
            c.courier.code,
            c.confidence * 100.0,
            c.reason
        );
    }
}

pub fn detect(numbers: &[String], text: Option<&std::path::Path>) -> anyhow::Result<()> {
    if let Some(path) = text {
        let content = if path == std::path::Path::new("-") {
            std::io::read_to_string(std::io::stdin())?
        } else {
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?
        };
        let found = parceld_detect::find_in_text(&content);
        if found.is_empty() {
            say!("no tracking numbers found");
        }
        for f in found {
            print_candidates(&f.number, &f.candidates);
        }
        return Ok(());
    }
    if numbers.is_empty() {
        bail!("give tracking numbers, or --text FILE");
    }
    let mut any = false;
    for number in numbers {
        let candidates = parceld_detect::detect(number);
        any |= !candidates.is_empty();
        print_candidates(number, &candidates);
    }
    if !any {
        std::process::exit(1);
    }
    Ok(())
}
