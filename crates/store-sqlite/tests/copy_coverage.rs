//! `parceld db copy` copies every table of the SQLite schema or names why not.

mod common;

#[tokio::test]
async fn every_table_of_the_schema_is_copied_or_named_as_left_behind() {
    let (_dir, store) = common::fresh().await;
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert!(tables.iter().any(|t| t == "trackings"), "{tables:?}");
    let uncovered = parceld_store::copy::uncovered(tables.iter().map(String::as_str));
    assert!(
        uncovered.is_empty(),
        "add these to parceld_store::copy::TABLES, or to NOT_COPIED with the reason: {uncovered:?}"
    );
}
