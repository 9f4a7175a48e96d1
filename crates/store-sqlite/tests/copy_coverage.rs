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
    parceld_store::copy::check_schema(&tables).unwrap();
}
