//! Remembered API-key checks on PostgreSQL, forgotten by every node at once.
//!
//! Asking the database to check the key of every request is a round trip per request, a good
//! part of what one `GET /v4/trackings/get` costs a node. Keys and accounts change rarely, so a
//! node remembers the checks it found valid (`parceld_store::key_memory`), under a stamp that
//! every change anywhere must move — here the count of notifications on the channel
//! [`CHANNEL`]:
//! - every change to a key or an account made through the store sends `NOTIFY parceld_keys` in
//!   the change's own transaction, so it arrives when (and only when) the change is committed;
//! - a node that checks keys listens on that channel on a connection of its own (started at its
//!   first check) and moves its stamp on each notification, which forgets what it remembered;
//! - while that connection is down nothing is remembered (every check asks the database), and
//!   coming back forgets everything, since notifications sent meanwhile were lost;
//! - a check is trusted for at most [`MAX_AGE`] even so, which bounds what a change made around
//!   the store (SQL by hand, a restore) or a notification lost without the connection noticing
//!   could cost.
//!
//! So a key deleted or an account disabled on any node is refused by every node as soon as the
//! notification arrives (milliseconds), and within a second at worst.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use parceld_store::backend::BackendResult;
use parceld_store::key_memory::{RememberedKeys, StoredKey};
use parceld_store::{Account, KeyCheck};
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::PgConnection;
use tokio::sync::oneshot;

/// The channel on which changes to keys and accounts are announced.
pub(crate) const CHANNEL: &str = "parceld_keys";

/// How long a remembered check is trusted without asking the database again.
pub(crate) const MAX_AGE: Duration = Duration::from_secs(1);

/// How long the listener waits before connecting again after losing its connection.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// Announces, in `tx`'s transaction, that a key or an account changed.
pub(crate) async fn announce_change(tx: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(CHANNEL)
        .execute(tx)
        .await?;
    Ok(())
}

pub(crate) struct KeyCache {
    options: PgConnectOptions,
    shared: Arc<Shared>,
    /// Set when the listener is started; dropping it (with the store) stops the listener.
    listener: OnceLock<oneshot::Sender<()>>,
}

struct Shared {
    /// The stamp and whether the listener is connected: `generation << 1 | listening`.
    stamp: AtomicU64,
    remembered: RememberedKeys<u64>,
}

impl Shared {
    /// Moves the stamp (forgetting every remembered check) and says whether the listener is
    /// connected.
    fn moved(&self, listening: bool) {
        let _ = self
            .stamp
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |stamp| {
                Some((((stamp >> 1) + 1) << 1) | u64::from(listening))
            });
    }
}

impl KeyCache {
    /// A cache whose listener will connect with `options`.
    pub(crate) fn new(options: PgConnectOptions) -> KeyCache {
        KeyCache {
            options,
            shared: Arc::new(Shared {
                stamp: AtomicU64::new(0),
                remembered: RememberedKeys::new(Some(MAX_AGE)),
            }),
            listener: OnceLock::new(),
        }
    }

    /// The stamp to check a key under, `None` while the listener is not connected (then the
    /// check asks the database and remembers nothing). Starts the listener on first use.
    pub(crate) fn stamp(&self) -> Option<u64> {
        self.listener.get_or_init(|| {
            let (stop, stopped) = oneshot::channel();
            tokio::spawn(listen(
                Arc::clone(&self.shared),
                self.options.clone(),
                stopped,
            ));
            stop
        });
        let stamp = self.shared.stamp.load(Ordering::Acquire);
        (stamp & 1 == 1).then_some(stamp)
    }

    /// Checks `presented` as [`RememberedKeys::check`] does, under this node's stamp.
    pub(crate) async fn check<A, Found>(
        &self,
        presented: &str,
        look_up: impl FnOnce(String) -> Found,
        read: impl FnOnce(A) -> BackendResult<Account>,
    ) -> BackendResult<KeyCheck>
    where
        Found: std::future::Future<Output = BackendResult<Vec<StoredKey<A>>>>,
    {
        let stamp = self.stamp();
        self.shared
            .remembered
            .check(stamp, presented, look_up, read)
            .await
    }

    /// This node changed a key or an account: forget at once, before its own notification
    /// comes back.
    pub(crate) fn changed_here(&self) {
        self.shared.remembered.forget_all();
    }
}

/// Listens on [`CHANNEL`] until `stopped`, connecting again whenever the connection is lost.
async fn listen(
    shared: Arc<Shared>,
    options: PgConnectOptions,
    mut stopped: oneshot::Receiver<()>,
) {
    loop {
        let error = tokio::select! {
            _ = &mut stopped => return,
            error = listen_once(&shared, &options) => error,
        };
        shared.moved(false);
        tracing::warn!(
            %error,
            "lost the connection that hears of key changes; every API key is checked in the \
             database until it is back"
        );
        tokio::select! {
            _ = &mut stopped => return,
            _ = tokio::time::sleep(RECONNECT_AFTER) => {}
        }
    }
}

/// One listening connection, until it fails; what failed.
async fn listen_once(shared: &Shared, options: &PgConnectOptions) -> sqlx::Error {
    // A pool of one connection of its own, which the listener uses to reconnect; the store's
    // pool is not made smaller by it.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_lazy_with(options.clone());
    let mut listener = match PgListener::connect_with(&pool).await {
        Ok(listener) => listener,
        Err(error) => return error,
    };
    if let Err(error) = listener.listen(CHANNEL).await {
        return error;
    }
    shared.moved(true);
    loop {
        match listener.try_recv().await {
            // A change, or the connection was lost and made again (what was sent meanwhile is
            // lost): either way, forget.
            Ok(_) => shared.moved(true),
            Err(error) => return error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stamp_moves_on_every_event_and_carries_whether_the_listener_is_connected() {
        let shared = Shared {
            stamp: AtomicU64::new(0),
            remembered: RememberedKeys::new(None),
        };
        shared.moved(true);
        let first = shared.stamp.load(Ordering::Acquire);
        assert_eq!(first & 1, 1);
        shared.moved(true);
        let second = shared.stamp.load(Ordering::Acquire);
        assert_ne!(first, second);
        assert_eq!(second & 1, 1);
        shared.moved(false);
        assert_eq!(shared.stamp.load(Ordering::Acquire) & 1, 0);
    }
}
