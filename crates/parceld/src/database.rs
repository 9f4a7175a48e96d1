//! Opening the store the configuration names: the one place that knows which backends exist.
//!
//! The rest of the binary (serve, the admin commands, import) sees only `Arc<dyn Store>`. A
//! backend is a crate `parceld-store-<name>` implementing `parceld_store::Store`; it is chosen
//! here by the scheme of `database.url`, so adding one (PostgreSQL next) is one more arm below.

use std::sync::Arc;

use anyhow::{bail, Context};
use parceld_store::Store;
use parceld_store_sqlite::SqliteStore;

/// The URL schemes this build can open, for the error message.
const SUPPORTED: &str = "sqlite://PATH";

/// Opens (creating if needed) the database at `url` and brings its schema up to date.
pub async fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    match url.split_once("://").map(|(scheme, _)| scheme) {
        Some(parceld_store_sqlite::URL_SCHEME) => {
            let path = parceld_store_sqlite::path_of_url(url)?;
            if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| {
                    format!("cannot create the data directory {}", dir.display())
                })?;
            }
            let store = SqliteStore::open(&path)
                .await
                .with_context(|| format!("cannot open the database {}", path.display()))?;
            Ok(Arc::new(store))
        }
        _ => bail!(
            "cannot open the database `{url}`: unsupported URL; this parceld supports {SUPPORTED}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unknown_scheme_names_the_supported_ones() {
        let error = open_store("postgres://localhost/parceld")
            .await
            .err()
            .expect("postgres is not supported yet")
            .to_string();
        assert!(error.contains("postgres://localhost/parceld"), "{error}");
        assert!(error.contains("sqlite://"), "{error}");
        let error = open_store("data/parceld.db")
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("sqlite://"), "{error}");
    }

    #[tokio::test]
    async fn a_sqlite_url_opens_a_migrated_store_and_creates_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nested").join("parceld.db");
        let store = open_store(&format!("sqlite://{}", file.display()))
            .await
            .unwrap();
        assert!(file.exists());
        assert!(store.migrate().await.unwrap() > 0);
        assert!(store.accounts().await.unwrap().is_empty());
    }
}
