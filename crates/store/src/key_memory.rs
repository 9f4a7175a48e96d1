//! Remembered API-key checks: the part both backends share.
//!
//! Every authenticated request checks its key, and keys and accounts change rarely, so each
//! backend remembers the checks it found valid. What makes that safe is a *stamp* that changes
//! whenever a key or an account changes anywhere: a check is remembered under the stamp read
//! before the database was asked, and a stamp other than the remembered one forgets everything.
//! A check that raced with a change is therefore remembered under the old stamp and forgotten on
//! the next request. How the stamp is kept is the backend's business: SQLite rewrites a file
//! beside its database (processes on one machine), PostgreSQL counts the notifications every
//! node receives through `LISTEN`/`NOTIFY` (nodes on many machines).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::{keys, Account, KeyCheck};

/// A stored key the database found for a look-up part: its hash, whether it was deleted, and
/// its account.
pub struct StoredKey<A> {
    pub hash: Vec<u8>,
    pub deleted: bool,
    pub account: A,
}

/// Checks remembered at most; beyond that the memory is cleared and refilled.
const MAX_REMEMBERED: usize = 10_000;

/// Valid key checks, remembered under the stamp `S` they were made under.
pub struct RememberedKeys<S> {
    state: Mutex<Remembered<S>>,
    /// How long one check is trusted even while the stamp stays the same (`None`: as long as the
    /// stamp stays). A bound for what a lost stamp change could cost.
    max_age: Option<Duration>,
}

struct Remembered<S> {
    stamp: Option<S>,
    valid: HashMap<String, (Account, Instant)>,
}

impl<S: Copy + Eq> RememberedKeys<S> {
    pub fn new(max_age: Option<Duration>) -> Self {
        RememberedKeys {
            state: Mutex::new(Remembered {
                stamp: None,
                valid: HashMap::new(),
            }),
            max_age,
        }
    }

    /// The account of `presented` if it was found valid under `stamp` (and not longer ago than
    /// the maximum age). A stamp other than the remembered one forgets every check.
    pub fn get(&self, stamp: S, presented: &str) -> Option<Account> {
        self.get_at(stamp, presented, Instant::now())
    }

    fn get_at(&self, stamp: S, presented: &str, now: Instant) -> Option<Account> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.stamp != Some(stamp) {
            state.stamp = Some(stamp);
            state.valid.clear();
            return None;
        }
        let (account, checked_at) = state.valid.get(presented)?;
        match self.max_age {
            Some(max_age) if now.saturating_duration_since(*checked_at) >= max_age => None,
            _ => Some(account.clone()),
        }
    }

    /// Remembers that `presented` was valid when checked after reading `stamp`; nothing when the
    /// stamp has changed since.
    pub fn remember(&self, stamp: S, presented: &str, account: &Account) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.stamp != Some(stamp) {
            return;
        }
        if state.valid.len() >= MAX_REMEMBERED {
            state.valid.clear();
        }
        state
            .valid
            .insert(presented.to_string(), (account.clone(), Instant::now()));
    }

    /// Checks `presented`: at once when it is malformed or remembered under `stamp` (`None`:
    /// nothing may be remembered now), else with the keys `look_up` finds for its look-up part
    /// (unique per account, so in practice one), remembering a valid check under `stamp`.
    /// `read` turns the database's account into an [`Account`].
    pub async fn check<A, E, Found>(
        &self,
        stamp: Option<S>,
        presented: &str,
        look_up: impl FnOnce(String) -> Found,
        read: impl FnOnce(A) -> Result<Account, E>,
    ) -> Result<KeyCheck, E>
    where
        Found: Future<Output = Result<Vec<StoredKey<A>>, E>>,
    {
        let Some(lookup) = keys::lookup_part(presented) else {
            return Ok(KeyCheck::Invalid);
        };
        if let Some(account) = stamp.and_then(|stamp| self.get(stamp, presented)) {
            return Ok(KeyCheck::Valid(account));
        }
        let found = look_up(lookup.to_string()).await?;
        let Some(key) = found
            .into_iter()
            .find(|key| keys::matches(presented, &key.hash))
        else {
            return Ok(KeyCheck::Invalid);
        };
        if key.deleted {
            return Ok(KeyCheck::Deleted);
        }
        let account = read(key.account)?;
        if let Some(stamp) = stamp {
            self.remember(stamp, presented, &account);
        }
        Ok(KeyCheck::Valid(account))
    }

    /// Forgets every check (this process changed a key or an account).
    pub fn forget_all(&self) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.stamp = None;
        state.valid.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> Account {
        Account {
            id: 1,
            name: "a".into(),
            disabled: false,
            created_at: chrono::Utc::now(),
            rate_limits: Default::default(),
        }
    }

    #[test]
    fn a_check_is_remembered_under_its_stamp_and_forgotten_when_the_stamp_changes() {
        let keys = RememberedKeys::<u64>::new(None);
        assert!(keys.get(1, "pk_x").is_none());
        keys.remember(1, "pk_x", &account());
        assert_eq!(keys.get(1, "pk_x").map(|a| a.id), Some(1));
        assert!(keys.get(2, "pk_x").is_none());
        // A check made under the old stamp is not remembered under the new one.
        keys.remember(1, "pk_x", &account());
        assert!(keys.get(2, "pk_x").is_none());
        keys.remember(2, "pk_x", &account());
        assert!(keys.get(2, "pk_x").is_some());
        keys.forget_all();
        assert!(keys.get(2, "pk_x").is_none());
    }

    #[test]
    fn a_check_older_than_the_maximum_age_is_asked_again() {
        let keys = RememberedKeys::<u64>::new(Some(Duration::from_secs(1)));
        keys.get(7, "pk_x");
        keys.remember(7, "pk_x", &account());
        let now = Instant::now();
        assert!(keys.get_at(7, "pk_x", now).is_some());
        assert!(keys
            .get_at(7, "pk_x", now + Duration::from_millis(1500))
            .is_none());
    }
}
