//! Migrating a store, accounts, API keys and per-account rate limits.

use parceld_model::RateLimits;
use parceld_store::{Entity, KeyCheck, StoreError};

use crate::Factory;

pub async fn migrating_an_up_to_date_store_again_changes_nothing(fresh: impl Factory) {
    let store = fresh().await;
    let migrations = store.migrate().await.unwrap();
    assert!(migrations > 0, "a store has a schema to migrate");
    let account = store.create_account("alpha").await.unwrap();
    assert_eq!(
        store.migrate().await.unwrap(),
        migrations,
        "the same schema"
    );
    assert_eq!(store.accounts().await.unwrap(), vec![account], "data kept");
}

pub async fn accounts_are_created_listed_and_unique(fresh: impl Factory) {
    let store = fresh().await;
    let a = store.create_account("alpha").await.unwrap();
    let b = store.create_account("beta").await.unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!(a.name, "alpha");
    assert!(!a.disabled);
    assert_eq!(a.rate_limits, RateLimits::default());
    let accounts = store.accounts().await.unwrap();
    let names: Vec<&str> = accounts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["alpha", "beta"], "in creation order");
    let again = store.create_account("alpha").await.unwrap_err();
    assert!(
        matches!(again, StoreError::Conflict(Entity::Account, _)),
        "{again:?}"
    );
    assert_eq!(store.accounts().await.unwrap().len(), 2);
    store.ping().await.unwrap();
}

pub async fn bootstrap_creates_the_first_account_and_key_only_once(fresh: impl Factory) {
    let store = fresh().await;
    let first = store
        .bootstrap("default")
        .await
        .unwrap()
        .expect("a first key");
    assert_eq!(first.info.account_name, "default");
    match store.check_api_key(&first.key).await.unwrap() {
        KeyCheck::Valid(account) => assert_eq!(account.name, "default"),
        other => panic!("{other:?}"),
    }
    assert!(store.bootstrap("default").await.unwrap().is_none());
    assert!(store.bootstrap("other").await.unwrap().is_none());
    assert_eq!(store.accounts().await.unwrap().len(), 1);

    let other = fresh().await;
    other.create_account("existing").await.unwrap();
    assert!(
        other.bootstrap("default").await.unwrap().is_none(),
        "only an empty database is bootstrapped"
    );
}

pub async fn keys_are_valid_then_deleted_and_unknown_keys_are_invalid(fresh: impl Factory) {
    let store = fresh().await;
    let account = store.create_account("a").await.unwrap();
    let one = store.create_api_key("a").await.unwrap();
    let two = store.create_api_key("a").await.unwrap();
    assert_ne!(one.key, two.key);
    assert_ne!(one.info.id, two.info.id);
    assert_eq!(one.info.account_id, account.id);
    assert!(one.info.deleted_at.is_none());
    match store.check_api_key(&one.key).await.unwrap() {
        KeyCheck::Valid(found) => assert_eq!(found, account),
        other => panic!("{other:?}"),
    }
    let keys = store.api_keys().await.unwrap();
    let listed: Vec<&String> = keys.iter().map(|k| &k.id).collect();
    assert!(listed.contains(&&one.info.id) && listed.contains(&&two.info.id));
    // The prefix shown in lists is the key's start, the same as when it was created.
    for new in [&one, &two] {
        let shown = keys.iter().find(|k| k.id == new.info.id).unwrap();
        assert_eq!(shown.prefix, new.info.prefix);
        assert_eq!(shown.prefix.len(), 15, "{}", shown.prefix);
        assert!(new.key.starts_with(&shown.prefix), "{}", shown.prefix);
    }
    assert_ne!(one.info.prefix, two.info.prefix);

    assert!(store.delete_api_key(&one.info.id).await.unwrap());
    assert!(
        !store.delete_api_key(&one.info.id).await.unwrap(),
        "a deleted key is not live"
    );
    assert!(!store.delete_api_key("no-such-key").await.unwrap());
    assert!(matches!(
        store.check_api_key(&one.key).await.unwrap(),
        KeyCheck::Deleted
    ));
    let deleted = store
        .api_keys()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.id == one.info.id)
        .unwrap();
    assert!(deleted.deleted_at.is_some());
    assert!(matches!(
        store.check_api_key(&two.key).await.unwrap(),
        KeyCheck::Valid(_)
    ));

    // A key of the right shape that was never issued, one off by a character, and garbage.
    let mut forged = two.key.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'a' { 'b' } else { 'a' });
    for presented in [forged.as_str(), "pk_nothing", "", "not a key"] {
        assert!(
            matches!(
                store.check_api_key(presented).await.unwrap(),
                KeyCheck::Invalid
            ),
            "{presented:?}"
        );
    }
}

pub async fn disabled_accounts_are_reported_with_their_key(fresh: impl Factory) {
    let store = fresh().await;
    store.create_account("a").await.unwrap();
    let key = store.create_api_key("a").await.unwrap();
    let disabled = store.set_account_disabled("a", true).await.unwrap();
    assert!(disabled.disabled);
    match store.check_api_key(&key.key).await.unwrap() {
        KeyCheck::Valid(account) => assert!(account.disabled, "the caller refuses it"),
        other => panic!("{other:?}"),
    }
    let enabled = store.set_account_disabled("a", false).await.unwrap();
    assert!(!enabled.disabled);
    match store.check_api_key(&key.key).await.unwrap() {
        KeyCheck::Valid(account) => assert!(!account.disabled),
        other => panic!("{other:?}"),
    }
}

pub async fn rate_limits_are_stored_per_account(fresh: impl Factory) {
    let store = fresh().await;
    store.create_account("a").await.unwrap();
    store.create_account("b").await.unwrap();
    let key = store.create_api_key("a").await.unwrap();
    let limits = RateLimits {
        v4_create: Some(1.5),
        v2_list: Some(20.0),
        ..RateLimits::default()
    };
    let a = store.set_account_rate_limits("a", &limits).await.unwrap();
    assert_eq!(a.rate_limits, limits);
    let accounts = store.accounts().await.unwrap();
    assert_eq!(accounts[0].rate_limits, limits);
    assert_eq!(
        accounts[1].rate_limits,
        RateLimits::default(),
        "b is untouched"
    );
    match store.check_api_key(&key.key).await.unwrap() {
        KeyCheck::Valid(account) => assert_eq!(account.rate_limits, limits),
        other => panic!("{other:?}"),
    }
    let cleared = store
        .set_account_rate_limits("a", &RateLimits::default())
        .await
        .unwrap();
    assert_eq!(cleared.rate_limits, RateLimits::default());
}

pub async fn unknown_accounts_are_not_found(fresh: impl Factory) {
    let store = fresh().await;
    let err = store.set_account_disabled("ghost", true).await.unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound(Entity::Account)),
        "{err:?}"
    );
    let err = store
        .set_account_rate_limits("ghost", &RateLimits::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound(Entity::Account)),
        "{err:?}"
    );
    let err = store.create_api_key("ghost").await.unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound(Entity::Account)),
        "{err:?}"
    );
}
