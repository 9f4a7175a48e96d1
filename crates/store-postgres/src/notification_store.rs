//! `NotificationStore` for [`PostgresStore`]: each call handed to `notifications.rs`. Apart from that
//! module so that it, which the refresh path uses, does not import the store on top.

use crate::notifications;
use crate::store::PostgresStore;

parceld_store::notification_store_calls!(PostgresStore, |this| this.pool(), notifications);
