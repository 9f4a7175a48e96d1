//! The dashboard's users and sessions (`parceld_store::UserStore`): unique addresses in any
//! case, lock-outs counted in the store, sessions found only by their token's hash and until
//! they expire, a password change or "sign out everywhere" ending every session of a user, and
//! role changes and removals that never leave an account without an admin.

use chrono::{Duration, SubsecRound, Utc};
use parceld_store::{
    AccountId, Entity, LockOut, NewSession, NewUser, Role, StoreError, UserChange,
};

use crate::{Factory, StoreUnderTest};

fn new_user<'a>(account: AccountId, email: &'a str, role: Role, hash: &'a str) -> NewUser<'a> {
    NewUser {
        account,
        email,
        role,
        password_hash: hash,
    }
}

fn session(token: &str, user_id: i64, minutes: i64) -> NewSession {
    NewSession {
        token_hash: format!("hash-{token}"),
        user_id,
        csrf_token: format!("csrf-{token}"),
        expires_at: Utc::now() + Duration::minutes(minutes),
    }
}

async fn with_user(store: &StoreUnderTest, email: &str) -> parceld_store::User {
    let account = store.create_account("shop").await.unwrap();
    store
        .create_user(&new_user(account.id, email, Role::Agent, "$argon2id$first"))
        .await
        .unwrap()
        .expect("a new address")
}

pub async fn users_are_unique_by_address_in_any_case_and_per_account(fresh: impl Factory) {
    let store = fresh().await;
    let shop = store.create_account("shop").await.unwrap();
    let other = store.create_account("other").await.unwrap();
    let ann = store
        .create_user(&new_user(
            shop.id,
            "Ann@Example.com",
            Role::Admin,
            "$argon2id$a",
        ))
        .await
        .unwrap()
        .expect("created");
    assert_eq!(
        (ann.email.as_str(), ann.role, ann.account_id),
        ("ann@example.com", Role::Admin, shop.id)
    );
    assert_eq!(ann.failed_sign_ins, 0);
    assert_eq!(ann.locked_until, None);
    let taken = store
        .create_user(&new_user(
            other.id,
            "ANN@example.com",
            Role::Viewer,
            "$argon2id$b",
        ))
        .await
        .unwrap();
    assert!(taken.is_none(), "an address is one user on the server");
    let bob = store
        .create_user(&new_user(
            other.id,
            "bob@example.com",
            Role::Viewer,
            "$argon2id$b",
        ))
        .await
        .unwrap()
        .unwrap();
    let missing = store
        .create_user(&new_user(9_999, "x@example.com", Role::Viewer, "h"))
        .await;
    assert!(matches!(
        missing,
        Err(StoreError::NotFound(Entity::Account))
    ));

    assert_eq!(
        store.user_by_email("ann@EXAMPLE.com").await.unwrap(),
        Some(ann.clone())
    );
    assert_eq!(
        store.user_by_email("nobody@example.com").await.unwrap(),
        None
    );
    assert_eq!(store.users(Some(shop.id)).await.unwrap(), vec![ann.clone()]);
    assert_eq!(store.users(None).await.unwrap(), vec![ann, bob]);
}

pub async fn failed_sign_ins_lock_a_user_out_and_a_sign_in_clears_the_count(fresh: impl Factory) {
    let store = fresh().await;
    let user = with_user(&store, "ann@example.com").await;
    let now = Utc::now().trunc_subsecs(0);
    let lock = LockOut {
        after: 3,
        until: now + Duration::minutes(15),
    };
    let first = store.sign_in_failed(user.id, lock).await.unwrap().unwrap();
    assert_eq!((first.failed_sign_ins, first.locked_until), (1, None));
    // A successful sign-in (a session) starts the count again.
    store
        .create_session(&session("a", user.id, 60))
        .await
        .unwrap();
    let read = store.user_by_email(&user.email).await.unwrap().unwrap();
    assert_eq!(read.failed_sign_ins, 0);
    for expected in [1, 2] {
        let user = store.sign_in_failed(user.id, lock).await.unwrap().unwrap();
        assert_eq!((user.failed_sign_ins, user.locked_until), (expected, None));
    }
    let locked = store.sign_in_failed(user.id, lock).await.unwrap().unwrap();
    assert_eq!(locked.locked_until, Some(now + Duration::minutes(15)));
    assert_eq!(
        locked.failed_sign_ins, 0,
        "the count starts again after a lock-out"
    );
    assert_eq!(store.sign_in_failed(999_999, lock).await.unwrap(), None);
    // A new password lifts the lock and ends every session.
    let reset = store
        .set_password("ANN@example.com", "$argon2id$second")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (reset.password_hash.as_str(), reset.locked_until),
        ("$argon2id$second", None)
    );
    assert_eq!(store.session("hash-a", Utc::now()).await.unwrap(), None);
    assert_eq!(
        store.set_password("nobody@example.com", "h").await.unwrap(),
        None
    );
}

pub async fn sessions_are_found_by_token_hash_until_they_expire_or_end(fresh: impl Factory) {
    let store = fresh().await;
    let user = with_user(&store, "ann@example.com").await;
    let other = store
        .create_user(&new_user(
            user.account_id,
            "bob@example.com",
            Role::Viewer,
            "h",
        ))
        .await
        .unwrap()
        .unwrap();
    for (token, user_id, minutes) in [
        ("a", user.id, 60),
        ("b", user.id, 60),
        ("old", user.id, -1),
        ("bob", other.id, 60),
    ] {
        store
            .create_session(&session(token, user_id, minutes))
            .await
            .unwrap();
    }
    let found = store.session("hash-a", Utc::now()).await.unwrap().unwrap();
    assert_eq!(found.csrf_token, "csrf-a");
    assert_eq!(found.user.email, "ann@example.com");
    assert!(found.expires_at > Utc::now());
    assert_eq!(
        store.session("a", Utc::now()).await.unwrap(),
        None,
        "the token is no key"
    );
    assert_eq!(store.session("hash-old", Utc::now()).await.unwrap(), None);

    assert!(store.delete_session("hash-a").await.unwrap());
    assert!(!store.delete_session("hash-a").await.unwrap());
    assert_eq!(store.session("hash-a", Utc::now()).await.unwrap(), None);
    // Everywhere: the user's other sessions (the expired one too), not another user's.
    assert_eq!(store.delete_user_sessions(user.id).await.unwrap(), 2);
    assert_eq!(store.session("hash-b", Utc::now()).await.unwrap(), None);
    assert!(store
        .session("hash-bob", Utc::now())
        .await
        .unwrap()
        .is_some());
    store
        .create_session(&session("late", other.id, -5))
        .await
        .unwrap();
    assert_eq!(store.prune_sessions(Utc::now()).await.unwrap(), 1);
    assert!(store
        .session("hash-bob", Utc::now())
        .await
        .unwrap()
        .is_some());
}

pub async fn roles_change_and_users_go_but_an_account_keeps_an_admin(fresh: impl Factory) {
    let store = fresh().await;
    let shop = store.create_account("shop").await.unwrap();
    let other = store.create_account("other").await.unwrap();
    let mut made = Vec::new();
    for (account, email, role) in [
        (shop.id, "ann@example.com", Role::Admin),
        (shop.id, "bob@example.com", Role::Agent),
        (other.id, "eve@example.com", Role::Admin),
    ] {
        let new = new_user(account, email, role, "h");
        made.push(store.create_user(&new).await.unwrap().unwrap());
    }
    let (ann, bob, eve) = (&made[0], &made[1], &made[2]);
    // The last admin can neither be demoted nor removed.
    for outcome in [
        store.set_user_role(shop.id, ann.id, Role::Viewer).await,
        store.delete_user(shop.id, ann.id).await,
    ] {
        assert_eq!(outcome.unwrap(), UserChange::LastAdmin);
    }
    // Another account's user, and no user at all, are not found (and unchanged).
    assert_eq!(
        store
            .set_user_role(shop.id, eve.id, Role::Viewer)
            .await
            .unwrap(),
        UserChange::NotFound
    );
    assert_eq!(
        store.delete_user(shop.id, 999_999).await.unwrap(),
        UserChange::NotFound
    );
    let promoted = store.set_user_role(shop.id, bob.id, Role::Admin).await;
    match promoted.unwrap() {
        UserChange::Done(user) => assert_eq!((user.id, user.role), (bob.id, Role::Admin)),
        outcome => panic!("{outcome:?}"),
    }
    // With a second admin, the first may step down; then bob is the last one.
    let demoted = store.set_user_role(shop.id, ann.id, Role::Viewer).await;
    assert!(matches!(demoted.unwrap(), UserChange::Done(u) if u.role == Role::Viewer));
    assert_eq!(
        store.delete_user(shop.id, bob.id).await.unwrap(),
        UserChange::LastAdmin
    );
    // Removing a user ends their sessions and frees the address.
    store
        .create_session(&session("ann", ann.id, 60))
        .await
        .unwrap();
    let removed = store.delete_user(shop.id, ann.id).await.unwrap();
    assert!(matches!(removed, UserChange::Done(u) if u.email == "ann@example.com"));
    assert_eq!(store.session("hash-ann", Utc::now()).await.unwrap(), None);
    assert_eq!(store.user_by_email("ann@example.com").await.unwrap(), None);
    let users = store.users(None).await.unwrap();
    let left: Vec<(&str, Role)> = users.iter().map(|u| (u.email.as_str(), u.role)).collect();
    assert_eq!(
        left,
        [
            ("bob@example.com", Role::Admin),
            ("eve@example.com", Role::Admin)
        ]
    );
    let again = new_user(other.id, "ann@example.com", Role::Agent, "h");
    assert!(store.create_user(&again).await.unwrap().is_some());
}
