//! What every backend decides alike when it applies a refresh: whether a tracking really
//! changed, and the change record it then writes (webhooks hang off those records).
//!
//! A change is a new checkpoint or a new status (or sub-status); a refresh that only confirms
//! what was stored changes nothing, records nothing and announces nothing.

use crate::stored::tracking_id;
use crate::webhooks::new_event_id;
use crate::{AccountId, RefreshUpdate, StoreResult, TrackingChange};

/// A claimed tracking as stored before the refresh applies to it.
#[derive(Debug, Clone, Copy)]
pub struct Before<'a> {
    /// The id as stored: its 16 bytes.
    pub id: &'a [u8],
    pub account_id: AccountId,
    pub delivery_status: &'a str,
    pub substatus: Option<&'a str>,
}

/// The change `update` makes to the tracking that was `before` and gained `added` checkpoints
/// in the same refresh, with a new event id; `None` when it changes nothing.
pub fn change_of(
    update: &RefreshUpdate,
    before: Before<'_>,
    added: usize,
) -> StoreResult<Option<TrackingChange>> {
    let status_changed = before.delivery_status != update.delivery_status.as_str()
        || before.substatus != update.substatus.map(|s| s.as_str());
    if added == 0 && !status_changed {
        return Ok(None);
    }
    Ok(Some(TrackingChange {
        event_id: new_event_id(),
        tracking_pk: update.pk,
        tracking_id: tracking_id(before.id)?,
        account_id: before.account_id,
        delivery_status: update.delivery_status,
        substatus: update.substatus,
        new_checkpoints: added,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use parceld_model::{DeliveryStatus, SubStatus, TrackingId};

    fn update(status: DeliveryStatus, substatus: Option<SubStatus>) -> RefreshUpdate {
        RefreshUpdate {
            pk: 7,
            checkpoints: Vec::new(),
            shipment: None,
            delivery_status: status,
            substatus,
            status_info: None,
            latest_event: None,
            latest_checkpoint_time: None,
            check_error: None,
            check_failures: 0,
            notfound_since: None,
            next_check_at: None,
            checked_at: Utc::now(),
        }
    }

    #[test]
    fn only_new_checkpoints_or_a_new_status_are_changes() {
        let id = TrackingId::generate();
        let bytes = id.to_bytes();
        let was = Before {
            id: &bytes,
            account_id: 3,
            delivery_status: "transit",
            substatus: Some("transit001"),
        };
        let same = update(DeliveryStatus::Transit, Some(SubStatus::Transit001));
        assert!(change_of(&same, was, 0).unwrap().is_none());
        let grown = change_of(&same, was, 2).unwrap().expect("new checkpoints");
        assert_eq!((grown.tracking_pk, grown.account_id), (7, 3));
        assert_eq!((grown.tracking_id, grown.new_checkpoints), (id, 2));
        assert!(grown.event_id.starts_with("evt_"));
        let sub = update(DeliveryStatus::Transit, Some(SubStatus::Transit002));
        assert!(
            change_of(&sub, was, 0).unwrap().is_some(),
            "a new sub-status"
        );
        let delivered = update(DeliveryStatus::Delivered, None);
        let change = change_of(&delivered, was, 0)
            .unwrap()
            .expect("a new status");
        assert_eq!(change.delivery_status, DeliveryStatus::Delivered);
    }
}
