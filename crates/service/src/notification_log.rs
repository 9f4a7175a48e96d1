//! A tracking's notification log as a shop may read it: what was sent, when, on which channel,
//! in which state, after how many attempts, and the mail or SMS server's last answer.
//!
//! The customer's address is the shop's own data, but the log is read by API clients, support
//! tools and whoever they paste it to; it shows the address masked (`a***@example.com`,
//! `+*******678`), also inside the server's answer, which often repeats it ("550 <ada@…>:
//! mailbox unavailable"). Enough to tell two customers apart, not to write to them.

use parceld_store::notifications::{recipient_key, Channel, NotificationInfo};
use parceld_store::{AccountId, Store};

use crate::validate::tracking_id;
use crate::{ServiceError, ServiceResult};

/// An address or number shown without giving it away: an email's first character and domain
/// (`a***@example.com`), a number's `+` and last three digits (`+*******678`).
pub fn mask(channel: Channel, address: &str) -> String {
    let address = address.trim();
    match channel {
        Channel::Email => match address.rsplit_once('@') {
            Some((local, domain)) => {
                let first: String = local.chars().take(1).collect();
                format!("{first}***@{domain}")
            }
            None => "***".into(),
        },
        Channel::Sms => {
            let digits: Vec<char> = address.chars().filter(char::is_ascii_digit).collect();
            let hidden = if digits.len() > 3 {
                digits.len() - 3
            } else {
                digits.len()
            };
            let plus = if address.starts_with('+') { "+" } else { "" };
            let tail: String = digits[hidden..].iter().collect();
            format!("{plus}{}{tail}", "*".repeat(hidden))
        }
    }
}

/// `text` with every spelling of `address` in it masked (case-blind for an email; a number as
/// given and as compared).
fn masked_in(text: &str, channel: Channel, address: &str) -> String {
    let shown = mask(channel, address);
    let mut out = text.to_string();
    for spelling in [address.trim().to_string(), recipient_key(channel, address)] {
        let wanted = spelling.to_ascii_lowercase();
        if wanted.is_empty() || shown.to_ascii_lowercase().contains(&wanted) {
            continue;
        }
        // ASCII lower case keeps every byte offset, so a match is at the same place in `out`.
        while let Some(at) = out.to_ascii_lowercase().find(&wanted) {
            out.replace_range(at..at + wanted.len(), &shown);
        }
    }
    out
}

/// A notification with its recipient masked, in the address and in the server's answer.
pub fn masked(info: NotificationInfo) -> NotificationInfo {
    NotificationInfo {
        recipient: mask(info.channel, &info.recipient),
        response: info
            .response
            .map(|text| masked_in(&text, info.channel, &info.recipient)),
        ..info
    }
}

/// The notifications of the account's tracking `id` (as create returned it), oldest first.
pub async fn notification_log(
    store: &dyn Store,
    account: AccountId,
    id: &str,
) -> ServiceResult<Vec<NotificationInfo>> {
    let id = tracking_id(id)?;
    let log = store
        .notifications_of(account, &id)
        .await?
        .ok_or_else(ServiceError::tracking_not_found)?;
    Ok(log.into_iter().map(masked).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_masked_in_the_recipient_and_in_the_answer() {
        assert_eq!(mask(Channel::Email, "ada@example.com"), "a***@example.com");
        assert_eq!(mask(Channel::Sms, "+31 6 1234 5678"), "+********678");
        assert_eq!(mask(Channel::Sms, "123"), "***");
        let answer = "550 5.1.1 <Ada@Example.com>: mailbox unavailable";
        let shown = masked_in(answer, Channel::Email, "ada@example.com");
        assert_eq!(shown, "550 5.1.1 <a***@example.com>: mailbox unavailable");
        let sms = masked_in(
            "invalid number +31612345678",
            Channel::Sms,
            "+31 6 1234 5678",
        );
        assert_eq!(sms, "invalid number +********678");
    }
}
