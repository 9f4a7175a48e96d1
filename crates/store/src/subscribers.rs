//! Email updates a shopper asks for on a tracking's public page, as the store keeps them.
//!
//! The tracking's own recipients come from its merchant fields; anyone else who follows the
//! parcel (the buyer of a gift, a colleague) subscribes on the page. Each subscriber is a row
//! beside the tracking (deleted with it), and the refresh's one enqueue statement joins those
//! rows, so a subscriber's notification is written in the same transaction as the change, one
//! per tracking, trigger, channel and recipient, exactly like the customer's.
//!
//! The page is anonymous, so what it can write is bounded here: at most [`MAX_SUBSCRIBERS`]
//! addresses per tracking, the same address once (by [`recipient_key`], the form the opt-outs
//! and the unsubscribe link use). Email only: a phone number typed into a public page is not
//! proof of anything, and texts cost the shop money.

use chrono::{DateTime, Utc};
use parceld_model::{Language, TrackingId};

use crate::notifications::{recipient_key, Channel};
use crate::AccountId;

/// Subscribers one tracking can have at most.
pub const MAX_SUBSCRIBERS: i64 = 5;

/// A subscription to write.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSubscriber {
    pub account_id: AccountId,
    pub tracking: TrackingId,
    /// Normalised by [`recipient_key`] (see [`NewSubscriber::new`]).
    pub address: String,
    /// The page's language when they subscribed: their emails are written in it.
    pub language: Language,
    pub at: DateTime<Utc>,
}

impl NewSubscriber {
    /// A subscription of `address` (as typed; normalised here) to the account's tracking.
    pub fn new(
        account_id: AccountId,
        tracking: TrackingId,
        address: &str,
        language: Language,
        at: DateTime<Utc>,
    ) -> NewSubscriber {
        NewSubscriber {
            account_id,
            tracking,
            address: recipient_key(Channel::Email, address),
            language,
            at,
        }
    }
}

/// What a subscription came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscribeOutcome {
    /// A new subscriber.
    Added,
    /// The address was already subscribed to this tracking: nothing changed.
    AlreadySubscribed,
    /// The tracking has [`MAX_SUBSCRIBERS`] already: nothing changed.
    Full,
}

impl SubscribeOutcome {
    /// What to do for an address that is (`already`) or is not subscribed, on a tracking with
    /// `count` subscribers: `Added` means "write it". The same rule for every backend, which
    /// reads both under a lock on the tracking.
    pub fn decide(already: bool, count: i64) -> SubscribeOutcome {
        if already {
            SubscribeOutcome::AlreadySubscribed
        } else if count >= MAX_SUBSCRIBERS {
            SubscribeOutcome::Full
        } else {
            SubscribeOutcome::Added
        }
    }
}

/// Whether `text` is plausibly one email address: a local part and a domain of at least two
/// dot-separated labels around one `@`, no spaces, quotes, brackets, commas or semicolons (so no
/// display name and no list of addresses), at most 254 characters. The API's check of
/// `customer_email` and the page's of a subscriber's address.
pub fn is_email_address(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    let plain = |c: char| !c.is_whitespace() && !c.is_control() && !"@\"<>()[],;:\\".contains(c);
    text.chars().count() <= 254
        && !local.is_empty()
        && local.chars().count() <= 64
        && local.chars().all(plain)
        && domain.split('.').count() >= 2
        && domain
            .split('.')
            .all(|label| !label.is_empty() && !label.starts_with('-') && label.chars().all(plain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_counts_once_and_a_full_tracking_takes_no_more() {
        assert_eq!(SubscribeOutcome::decide(false, 0), SubscribeOutcome::Added);
        assert_eq!(
            SubscribeOutcome::decide(false, MAX_SUBSCRIBERS - 1),
            SubscribeOutcome::Added
        );
        assert_eq!(
            SubscribeOutcome::decide(false, MAX_SUBSCRIBERS),
            SubscribeOutcome::Full
        );
        assert_eq!(
            SubscribeOutcome::decide(true, MAX_SUBSCRIBERS),
            SubscribeOutcome::AlreadySubscribed
        );
    }

    #[test]
    fn subscribers_are_kept_in_the_opt_outs_form() {
        let id = TrackingId::generate();
        let new = NewSubscriber::new(1, id, " Ada@Example.COM ", Language::De, Utc::now());
        assert_eq!(new.address, "ada@example.com");
    }
}
