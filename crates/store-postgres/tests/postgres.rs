//! What the PostgreSQL backend promises beyond the shared contract: nodes starting together
//! migrate once, nodes claiming together never take the same tracking, every key of the schema
//! carries the account, rate-limit buckets are never overdrawn by two nodes, a key check a node
//! remembers is forgotten when another node changes the key or the account, checkpoint lists
//! written by its SQL read back exactly, and writers of the same analytics counters do not wait
//! for each other. Each test on a database of its own; skipped, saying why, without a server
//! (unless required).

use std::collections::HashSet;

use chrono::{Duration, TimeZone, Utc};
use parceld_model::{Checkpoint, DeliveryStatus, Leg, SubStatus};
use parceld_store::{KeyCheck, Store};
use parceld_store_conformance::{account_with, checkpoint_at, numbered, update};
use parceld_store_postgres::test_database::{available, TestDatabase};
use parceld_store_postgres::PostgresStore;

async fn fresh() -> (TestDatabase, PostgresStore) {
    let database = TestDatabase::create().await;
    let store = PostgresStore::connect(database.url(), 4).await.unwrap();
    (database, store)
}

/// A fresh database and two stores on it, as two nodes would have.
async fn two_nodes() -> (TestDatabase, PostgresStore, PostgresStore) {
    let (database, first) = fresh().await;
    let second = PostgresStore::connect(database.url(), 4).await.unwrap();
    (database, first, second)
}

#[tokio::test]
async fn nodes_opening_one_empty_database_together_migrate_it_once() {
    if !available() {
        return;
    }
    let database = TestDatabase::create().await;
    let opening = (0..4).map(|_| PostgresStore::connect(database.url(), 2));
    let stores: Vec<PostgresStore> = futures_util::future::try_join_all(opening).await.unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(stores[0].pool())
        .await
        .unwrap();
    let known = stores[0].migrate().await.unwrap();
    assert_eq!(applied, known as i64, "each migration applied once");
    for store in &stores {
        store.ping().await.unwrap();
    }
}

#[tokio::test]
async fn every_table_of_the_schema_is_copied_or_named_as_left_behind() {
    if !available() {
        return;
    }
    let (_database, store) = fresh().await;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    parceld_store::copy::check_schema(&tables).unwrap();
}

#[tokio::test]
async fn nodes_claiming_together_never_take_the_same_tracking() {
    if !available() {
        return;
    }
    let (_database, first, second) = two_nodes().await;
    numbered(&first, 300).await;
    let now = Utc::now() + Duration::seconds(1);
    let lease = now + Duration::minutes(5);
    let claim_all = |store: PostgresStore, owner: &'static str| async move {
        let mut pks = Vec::new();
        loop {
            let claimed = store
                .claim_due(owner, now, lease, 7, "sandbox")
                .await
                .unwrap();
            if claimed.is_empty() {
                return pks;
            }
            pks.extend(claimed.into_iter().map(|c| c.pk));
        }
    };
    let (a, b) = tokio::join!(
        tokio::spawn(claim_all(first.clone(), "node-a")),
        tokio::spawn(claim_all(second, "node-b")),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let all: HashSet<i64> = a.iter().chain(&b).copied().collect();
    assert_eq!(a.len() + b.len(), 300, "every tracking claimed once");
    assert_eq!(all.len(), 300, "none by both");
}

#[tokio::test]
async fn nodes_taking_from_one_rate_bucket_together_never_overdraw_it() {
    if !available() {
        return;
    }
    let (_database, first, second) = two_nodes().await;
    let (account, _) = account_with(&first, "limited", &[]).await;
    let (other, _) = account_with(&first, "other", &[]).await;
    // A bucket of 10 that refills too slowly to matter here: 40 requests from two nodes at
    // once find exactly 10 tokens.
    let (rate, capacity) = (0.001, 10.0);
    let take = |store: PostgresStore| async move {
        let mut allowed = 0;
        for _ in 0..20 {
            let bucket = store.take_rate_tokens(account, "v4_other", rate, capacity, 1);
            let bucket = bucket
                .await
                .unwrap()
                .expect("PostgreSQL keeps shared buckets");
            allowed += usize::from(bucket.allowed());
        }
        allowed
    };
    let (a, b) = tokio::join!(
        tokio::spawn(take(first.clone())),
        tokio::spawn(take(second.clone())),
    );
    assert_eq!(
        a.unwrap() + b.unwrap(),
        10,
        "the bucket's tokens, once each"
    );
    // Another class and another account have full buckets of their own.
    for (account, class) in [(account, "v4_create"), (other, "v4_other")] {
        let bucket = second.take_rate_tokens(account, class, rate, capacity, 1);
        let bucket = bucket.await.unwrap().unwrap();
        assert!(bucket.allowed(), "{account} {class}");
        assert!((bucket.tokens - 9.0).abs() < 0.01, "{bucket:?}");
    }
    // A bucket refills with time: at 20 a second, a token within 100 ms.
    for (store, allowed) in [(&first, true), (&second, false), (&first, true)] {
        let bucket = store
            .take_rate_tokens(other, "v4_create", 20.0, 1.0, 1)
            .await;
        assert_eq!(bucket.unwrap().unwrap().allowed(), allowed);
        if !allowed {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    // A node may take several at once: as many as the bucket holds, then none.
    let (third, _) = account_with(&first, "leasing", &[]).await;
    let granted = |store: PostgresStore, wanted: u32| async move {
        let bucket = store.take_rate_tokens(third, "v4_other", 0.001, 3.0, wanted);
        bucket.await.unwrap().unwrap().granted
    };
    assert_eq!(granted(first.clone(), 2).await, 2);
    assert_eq!(granted(second.clone(), 5).await, 1, "only one was left");
    assert_eq!(granted(first.clone(), 5).await, 0);
    sqlx::query("DELETE FROM rate_buckets WHERE account_id = $1")
        .bind(third)
        .execute(first.pool())
        .await
        .unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM rate_buckets")
        .fetch_one(first.pool())
        .await
        .unwrap();
    assert_eq!(rows, 4, "one row per account and class");
}

/// Asks `store` to check `key` every 10 ms until the answer is `wanted`; how long that took.
async fn until_check_is(
    store: &PostgresStore,
    key: &str,
    wanted: fn(&KeyCheck) -> bool,
) -> std::time::Duration {
    let started = std::time::Instant::now();
    while !wanted(&store.check_api_key(key).await.unwrap()) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "the check never changed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    started.elapsed()
}

#[tokio::test]
async fn a_key_check_a_node_remembers_is_forgotten_when_another_node_changes_the_key() {
    if !available() {
        return;
    }
    let (_database, first, second) = two_nodes().await;
    first.create_account("shop").await.unwrap();
    let new = first.create_api_key("shop").await.unwrap();
    let valid = |check: &KeyCheck| matches!(check, KeyCheck::Valid(account) if !account.disabled);
    let deleted = |check: &KeyCheck| *check == KeyCheck::Deleted;
    // The second node checks the key a few times: its listener connects, and it remembers.
    for _ in 0..5 {
        assert!(valid(&second.check_api_key(&new.key).await.unwrap()));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // A change made around the store announces nothing: the remembered check still answers,
    // for at most a second.
    let by_hand = |deleted_at: Option<i64>| {
        sqlx::query("UPDATE api_keys SET deleted_at = to_timestamp($1) WHERE id = $2")
            .bind(deleted_at.map(|at| at as f64))
            .bind(&new.info.id)
            .execute(first.pool())
    };
    by_hand(Some(1_700_000_000)).await.unwrap();
    assert!(
        valid(&second.check_api_key(&new.key).await.unwrap()),
        "remembered"
    );
    let waited = until_check_is(&second, &new.key, deleted).await;
    assert!(
        waited <= std::time::Duration::from_millis(1100),
        "{waited:?}"
    );
    // Through the store, the other node hears of it at once, though it had just remembered
    // the check afresh.
    by_hand(None).await.unwrap();
    until_check_is(&second, &new.key, valid).await;
    assert!(first.delete_api_key(&new.info.id).await.unwrap());
    let waited = until_check_is(&second, &new.key, deleted).await;
    assert!(waited < std::time::Duration::from_millis(500), "{waited:?}");
    // The same for an account disabled on another node.
    let other = first.create_api_key("shop").await.unwrap();
    until_check_is(&second, &other.key, valid).await;
    first.set_account_disabled("shop", true).await.unwrap();
    let disabled = |check: &KeyCheck| matches!(check, KeyCheck::Valid(account) if account.disabled);
    let waited = until_check_is(&second, &other.key, disabled).await;
    assert!(waited < std::time::Duration::from_millis(500), "{waited:?}");
}

#[tokio::test]
async fn every_primary_key_and_unique_index_includes_the_account() {
    if !available() {
        return;
    }
    let (_database, store) = fresh().await;
    // Keys and unique indexes of every table but `accounts` (whose key is the account),
    // `push_receipts` (a carrier's push is one message for every account tracking its number:
    // a reference table under Citus, docs/scaling.md) and sqlx's bookkeeping, without an
    // `account_id` column.
    let without: Vec<(String, String)> = sqlx::query_as(
        "SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text \
         FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid \
         WHERE (i.indisunique OR i.indisprimary) \
           AND t.relnamespace = 'public'::regnamespace \
           AND t.relname NOT IN ('accounts', 'push_receipts', '_sqlx_migrations') \
           AND NOT EXISTS (SELECT 1 FROM unnest(i.indkey) k \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k \
             WHERE a.attname = 'account_id') \
         ORDER BY 1, 2",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert!(without.is_empty(), "keys without the account: {without:?}");
    let tables_without: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c \
         WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace \
           AND c.relname NOT IN ('accounts', 'push_receipts', '_sqlx_migrations') \
           AND NOT EXISTS (SELECT 1 FROM pg_attribute a \
             WHERE a.attrelid = c.oid AND a.attname = 'account_id') \
         ORDER BY 1",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert!(
        tables_without.is_empty(),
        "tables without the account: {tables_without:?}"
    );
}

/// A checkpoint with every field set, in text PostgreSQL must carry byte for byte.
fn full() -> Checkpoint {
    Checkpoint {
        leg: Leg::Destination,
        substatus: Some(SubStatus::Delivered001),
        state: "IL".into(),
        city: "Chicago".into(),
        zip: "60601".into(),
        raw_time: "20260502 091400 -0500".into(),
        ..checkpoint_at(
            "2026-05-02T09:14:00-05:00",
            DeliveryStatus::Delivered,
            "Delivered, front door — signé 📦",
        )
    }
}

#[tokio::test]
async fn checkpoint_lists_written_by_sql_read_back_newest_first_ties_later_stored_first() {
    if !available() {
        return;
    }
    let (_database, store) = fresh().await;
    let (account, made) = account_with(&store, "a", &[("LIST-1", "sandbox")]).await;
    // Before 1970 the instant is negative; two share an instant; one is over 64 KiB.
    let old = checkpoint_at("1969-12-31T23:00:00+00:00", DeliveryStatus::Transit, "old");
    let tie_first = checkpoint_at(
        "2026-05-01T00:00:00+00:00",
        DeliveryStatus::Transit,
        "tie a",
    );
    let tie_second = checkpoint_at(
        "2026-05-01T00:00:00+00:00",
        DeliveryStatus::Transit,
        "tie b",
    );
    let mut long = full();
    long.detail = "x".repeat(70_000);
    long.time = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    let now = Utc::now() + Duration::seconds(1);
    let claimed = store
        .claim_due("w", now, now + Duration::minutes(5), 10, "sandbox")
        .await
        .unwrap();
    let stored = vec![
        tie_first.clone(),
        old.clone(),
        full(),
        tie_second.clone(),
        long.clone(),
    ];
    let report = store
        .apply_refresh(
            "w",
            vec![update(claimed[0].pk, stored, DeliveryStatus::Delivered)],
        )
        .await
        .unwrap();
    assert_eq!(report.changes[0].new_checkpoints, 5);
    let read = store.tracking(account, &made[0].id).await.unwrap().unwrap();
    // An update lists its checkpoints as an answer does, events of one instant newest first;
    // they are stored oldest first, so the later stored of a tie, shown first, is the one the
    // update listed first.
    assert_eq!(
        read.checkpoints,
        vec![full(), tie_first, tie_second, long, old]
    );
}

#[tokio::test]
async fn writers_of_the_same_analytics_counters_do_not_wait_for_each_other() {
    if !available() {
        return;
    }
    let (_database, store) = fresh().await;
    let (account, trackings) = account_with(
        &store,
        "shop",
        &[("NUM-1", "sandbox"), ("NUM-2", "sandbox")],
    )
    .await;
    let moved_to_transit = "UPDATE trackings SET delivery_status = 'transit' \
                            WHERE account_id = $1 AND tracking_number = $2";
    // The first writer moves one tracking's counted status and does not commit yet.
    let mut first = store.pool().begin().await.unwrap();
    sqlx::query(moved_to_transit)
        .bind(account)
        .bind(&trackings[0].tracking_number)
        .execute(&mut *first)
        .await
        .unwrap();
    // The second moves the other tracking between the same counters: same day, courier,
    // country and statuses. Before 0024 it queued on the first's counter rows.
    let mut second = store.pool().begin().await.unwrap();
    sqlx::query("SET LOCAL lock_timeout = '2s'")
        .execute(&mut *second)
        .await
        .unwrap();
    sqlx::query(moved_to_transit)
        .bind(account)
        .bind(&trackings[1].tracking_number)
        .execute(&mut *second)
        .await
        .expect("the second writer is not held by the first one's counters");
    second.commit().await.unwrap();
    first.commit().await.unwrap();

    // A read counts both, folded or not yet.
    let today = Utc::now().timestamp().div_euclid(86_400);
    let filter = parceld_store::AnalyticsFilter {
        days: today - 1..=today + 1,
        courier_code: None,
        country: None,
    };
    let counters = store.analytics(account, &filter).await.unwrap();
    let counted = |status: DeliveryStatus| -> u64 {
        counters
            .statuses
            .iter()
            .filter(|s| s.status == status)
            .map(|s| s.trackings)
            .sum()
    };
    assert_eq!(
        counted(DeliveryStatus::Transit),
        2,
        "{:?}",
        counters.statuses
    );
    assert_eq!(
        counted(DeliveryStatus::Pending),
        0,
        "{:?}",
        counters.statuses
    );
}

#[tokio::test]
async fn a_node_folds_the_pending_analytics_changes_by_itself() {
    if !available() {
        return;
    }
    let (_database, store) = fresh().await;
    numbered(&store, 5).await;
    let pending = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM analytics_status_pending")
            .fetch_one(store.pool())
            .await
            .unwrap()
    };
    let started = std::time::Instant::now();
    while pending().await > 0 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "still pending after 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let counted: i64 = sqlx::query_scalar("SELECT sum(trackings)::bigint FROM analytics_status")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(counted, 5);
}

#[tokio::test]
async fn the_sql_functions_of_hot_statements_are_inlined_and_count_days_from_1970() {
    if !available() {
        return;
    }
    let (_database, store) = fresh().await;
    // Over columns, so that no call is folded into a constant before the plan is shown.
    let explained = "EXPLAIN VERBOSE SELECT parceld_day(created_at), \
        parceld_list_text(tracking_number), parceld_country(fields) FROM trackings";
    let plan: Vec<String> = sqlx::query_scalar(explained)
        .fetch_all(store.pool())
        .await
        .unwrap();
    let plan = plan.join("\n");
    assert!(
        !plan.contains("parceld_"),
        "a function left as a call:\n{plan}"
    );
    for seconds in [
        -86_401,
        -86_400,
        -1,
        0,
        1,
        86_399,
        86_400,
        1_795_996_799,
        1_795_996_800,
    ] {
        let at = Utc.timestamp_opt(seconds, 500_000_000).unwrap();
        let day: i64 = sqlx::query_scalar("SELECT parceld_day($1)")
            .bind(at)
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(day, at.timestamp().div_euclid(86_400), "{at}");
    }
    let text: Vec<u8> = sqlx::query_scalar("SELECT parceld_list_text('signé 📦')")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let expected = [&11u32.to_be_bytes()[..], "signé 📦".as_bytes()].concat();
    assert_eq!(text, expected);
}
