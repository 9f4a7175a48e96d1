//! The v4 tracking endpoints: create, batch, list with every filter, paging, update, delete,
//! retrack, couriers.

use std::collections::HashSet;

use chrono::{TimeZone, Utc};
use parceld_model::{DeliveryStatus, SubStatus};
use parceld_store::test_support::ForcedState;
use parceld_store_conformance::{checkpoint_at, claim_sandbox, update};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{assert_error, tracking_id, Server};

#[tokio::test]
async fn create_stores_every_field_and_returns_the_v4_tracking_object() {
    let server = Server::start();
    let key = server.key();
    let body = json!({
        "tracking_number": "1Z999AA10123456784",
        "courier_code": "ups",
        "order_number": "ORD-1",
        "order_id": "1001",
        "order_date": "2024-05-01",
        "origin_country_iso2": "US",
        "destination_country_iso2": "CA",
        "customer_name": "Ada Lovelace",
        "customer_email": "ada@example.com",
        "customer_sms": "+15550100",
        "recipient_postcode": "K1A0B1",
        "title": "Blue shoes",
        "logistics_channel": "Ground",
        "note": "fragile",
        "label": "vip",
        "tracking_courier_account": "ACC1",
        "tracking_postal_code": "10001",
        "tracking_origin_country": "US",
        "tracking_destination_country": "CA",
        "tracking_ship_date": "20240501",
        "tracking_key": "K",
        "language": "en",
        "auto_correct": "false"
    });
    let (status, created) = server.post("/v4/trackings/create", key, body).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["meta"]["code"], 200);
    let t = &created["data"];
    let id = t["id"].as_str().unwrap();
    assert_eq!(id.len(), 32);
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    assert_eq!(t["tracking_number"], "1Z999AA10123456784");
    assert_eq!(t["courier_code"], "ups");
    assert_eq!(t["delivery_status"], "pending");
    assert_eq!(t["archived"], "false");
    for (field, value) in [
        ("order_number", "ORD-1"),
        ("order_id", "1001"),
        ("order_date", "2024-05-01"),
        ("customer_name", "Ada Lovelace"),
        ("customer_email", "ada@example.com"),
        ("customer_sms", "+15550100"),
        ("recipient_postcode", "K1A0B1"),
        ("title", "Blue shoes"),
        ("logistics_channel", "Ground"),
        ("note", "fragile"),
        ("label", "vip"),
        ("tracking_courier_account", "ACC1"),
        ("tracking_postal_code", "10001"),
        ("tracking_origin_country", "US"),
        ("tracking_destination_country", "CA"),
        ("tracking_ship_date", "20240501"),
        ("tracking_key", "K"),
        ("origin_country", "US"),
        ("destination_country", "CA"),
    ] {
        assert_eq!(t[field], value, "{field}");
    }
    for field in ["created_at", "update_at", "next_check_at"] {
        let text = t[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field} missing"));
        assert!(
            chrono::DateTime::parse_from_rfc3339(text).is_ok(),
            "{field}: {text}"
        );
    }
    for leg in ["origin_info", "destination_info"] {
        assert!(t[leg]["trackinfo"].as_array().unwrap().is_empty());
        assert!(t[leg]["milestone_date"].is_object());
    }
    assert_eq!(t["origin_info"]["courier_code"], "ups");
    assert_eq!(t["transit_time"], 0);

    // The stored copy has the same fields; language and auto_correct are kept too (update shows them).
    let (_, listed) = server
        .get("/v4/trackings/get?tracking_numbers=1Z999AA10123456784", key)
        .await;
    assert_eq!(listed["data"][0]["id"], id);
    assert_eq!(listed["data"][0]["customer_email"], "ada@example.com");
    let (_, updated) = server.update(key, id, json!({})).await;
    assert_eq!(updated["data"]["language"], "en");
}

#[tokio::test]
async fn a_courier_without_an_adapter_is_stored_and_says_so() {
    let server = Server::start();
    let (number, courier) = ("RB123456785IT", "poste-italiane");
    let (status, body) = server
        .post_number("/v4/trackings/create", server.key(), number, courier)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let info = body["data"]["status_info"].as_str().unwrap();
    assert!(
        info.contains("does not fetch tracking from Poste Italiane yet"),
        "{info}"
    );
}

#[tokio::test]
async fn batch_creates_each_item_on_its_own() {
    let server = Server::start();
    let key = server.key();
    server.create(key, "EXISTING-0001", "sandbox").await;
    let (status, body) = server
        .post(
            "/v4/trackings/batch",
            key,
            json!([
                {"tracking_number": "BATCH-0001", "courier_code": "sandbox"},
                {"tracking_number": "BATCH-0002", "courier_code": "ups", "title": "two"},
                {"tracking_number": "EXISTING-0001", "courier_code": "sandbox"},
                {"tracking_number": "BATCH-0001", "courier_code": "sandbox"},
                {"tracking_number": "bad number!", "courier_code": "sandbox"},
                {"tracking_number": "BATCH-0003", "courier_code": "no-such-courier"},
                {"tracking_number": "BATCH-0004", "carrier_code": "ups"},
                {"courier_code": "ups"},
                {"tracking_number": "BATCH-0005", "courier_code": "postnl-3s"},
                42
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["meta"]["code"], 200);
    let success = body["data"]["success"].as_array().unwrap();
    let numbers: Vec<&str> = success
        .iter()
        .map(|s| s["tracking_number"].as_str().unwrap())
        .collect();
    // Stored in their normalized form (separators removed).
    assert_eq!(numbers, ["BATCH0001", "BATCH0002"]);
    assert!(success
        .iter()
        .all(|s| s["id"].as_str().unwrap().len() == 32));
    assert!(success.iter().all(|s| s.get("errorCode").is_none()));
    let errors: Vec<(Value, u64)> = body["data"]["error"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["tracking_number"].clone(),
                e["errorCode"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected = [
        (json!("bad number!"), 4110),
        (json!("BATCH-0003"), 4120),
        (json!("BATCH-0004"), 4130),
        (Value::Null, 4111),
        (json!("BATCH-0005"), 4122),
        (Value::Null, 400),
        // Duplicates passed validation, so they are named by their normalized number.
        (json!("EXISTING0001"), 4101),
        (json!("BATCH0001"), 4101),
    ];
    assert_eq!(errors.len(), expected.len(), "{body}");
    for pair in expected {
        assert!(errors.contains(&pair), "missing {pair:?} in {errors:?}");
    }
    assert!(
        body["data"]["error"][0]["errorMessage"]
            .as_str()
            .unwrap()
            .len()
            > 10
    );
    assert_eq!(server.list_all(key).await.len(), 3);
}

/// Batch items of `n` sandbox numbers `MANY-0000`, `MANY-0001`, …
fn sandbox_items(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"tracking_number": format!("MANY-{i:04}"), "courier_code": "sandbox"}))
        .collect()
}

#[tokio::test]
async fn batch_refuses_more_than_40_and_non_arrays_and_stores_nothing() {
    let server = Server::start();
    let key = server.key();
    let (status, body) = server.batch(key, sandbox_items(41)).await;
    assert_error(status, &body, 400, 4103, "at most 40");
    let (status, body) = server
        .post(
            "/v4/trackings/batch",
            key,
            json!({"trackings": [{"tracking_number": "X-0001", "courier_code": "ups"}]}),
        )
        .await;
    assert_error(status, &body, 400, 400, "JSON array");
    assert!(server.list_all(key).await.is_empty());
    let (status, body) = server.batch(key, sandbox_items(40)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["success"].as_array().unwrap().len(), 40);
}

/// Page `number` of the account's trackings, `size` to a page.
async fn list_page(server: &Server, key: &str, size: u32, number: u32) -> (StatusCode, Value) {
    let path = format!("/v4/trackings/get?items_amount={size}&pages_amount={number}");
    server.get(&path, key).await
}

#[tokio::test]
async fn paging_through_2100_trackings_has_no_gaps_or_repeats_and_carries_checkpoints() {
    let server = Server::start();
    let key = server.key();
    let numbers: Vec<String> = (0..2100).map(|i| format!("PAGE-{i:05}")).collect();
    server.create_numbers(key, &numbers, "sandbox").await;

    // Give every tracking two checkpoints, the way the refresh engine does: claimed, then
    // applied (the server's own engine is off).
    let store = server.store().await;
    let now = Utc::now() + chrono::Duration::seconds(1);
    let claimed = claim_sandbox(&*store, "test", now, 5000).await;
    assert_eq!(claimed.len(), 2100);
    let mut delivered = checkpoint_at(
        "2024-05-02T10:00:00+00:00",
        DeliveryStatus::Delivered,
        "Delivered",
    );
    (delivered.substatus, delivered.location) = (Some(SubStatus::Delivered001), "Toronto".into());
    let mut picked_up = checkpoint_at(
        "2024-05-01T10:00:00+00:00",
        DeliveryStatus::Transit,
        "Picked up",
    );
    (picked_up.substatus, picked_up.location) = (Some(SubStatus::Transit001), "Memphis".into());
    let checkpoints = vec![delivered, picked_up];
    let updates = claimed
        .iter()
        .map(|c| update(c.pk, checkpoints.clone(), DeliveryStatus::Pending))
        .collect();
    let report = store.apply_refresh("test", updates).await.unwrap();
    assert_eq!(report.applied, 2100);

    let mut seen = Vec::new();
    for page in 1..=5 {
        let (status, body) = list_page(&server, key, 500, page).await;
        assert_eq!(status, StatusCode::OK);
        let data = body["data"].as_array().unwrap();
        assert_eq!(data.len(), if page == 5 { 100 } else { 500 });
        for t in data {
            let trackinfo = t["origin_info"]["trackinfo"].as_array().unwrap();
            assert_eq!(trackinfo.len(), 2);
            assert_eq!(trackinfo[0]["tracking_detail"], "Delivered", "newest first");
            assert_eq!(
                trackinfo[0]["checkpoint_delivery_substatus"],
                "delivered001"
            );
            assert_eq!(
                t["origin_info"]["milestone_date"]["delivery_date"],
                "2024-05-02T10:00:00+00:00"
            );
            seen.push(t["tracking_number"].as_str().unwrap().to_string());
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 2100, "no repeats");
    assert_eq!(seen.first().unwrap(), "PAGE02099", "newest first");
    assert_eq!(seen.last().unwrap(), "PAGE00000");
    let (_, empty) = list_page(&server, key, 500, 6).await;
    assert_eq!(empty["data"].as_array().unwrap().len(), 0);

    let (status, body) = server.get("/v4/trackings/get?items_amount=2000", key).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"].as_array().unwrap().len(), 2000);
    // Large pages are rendered while they are read, small ones after: both give the same
    // trackings, in the same order, with the same content.
    let mut small_pages = Vec::new();
    for page in 1..=20 {
        let (_, small) = list_page(&server, key, 100, page).await;
        small_pages.extend(small["data"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(body["data"].as_array().unwrap(), &small_pages);
    assert_eq!(body["meta"]["code"], 200);
    let (_, body) = server.get("/v4/trackings/get", key).await;
    assert_eq!(
        body["data"].as_array().unwrap().len(),
        100,
        "default page size"
    );
}

#[tokio::test]
async fn every_list_filter_selects_exactly_its_trackings() {
    let server = Server::start();
    let key = server.key();
    let store = server.store().await;
    let a = server.create(key, "FILTER-A001", "sandbox").await;
    let b = server.create(key, "FILTER-B001", "ups").await;
    let c = server.create(key, "FILTER-C001", "fedex").await;
    // (tracking, status, created at, updated at): a delivered in January, b in transit since
    // February.
    for (id, status, created, updated) in [
        (&a, DeliveryStatus::Delivered, 1704067200, 1704153600),
        (&b, DeliveryStatus::Transit, 1706745600, 1709251200),
    ] {
        let state = ForcedState {
            delivery_status: Some(status),
            created_at: Utc.timestamp_opt(created, 0).single(),
            updated_at: Utc.timestamp_opt(updated, 0).single(),
            ..ForcedState::default()
        };
        let forced = store.force_tracking_state(&tracking_id(id), &state).await;
        assert!(forced.unwrap());
    }
    let (status, _) = server
        .update(key, &c, json!({"archived_status": "true"}))
        .await;
    assert_eq!(status, StatusCode::OK);

    async fn ids(server: &Server, key: &str, query: &str) -> Vec<String> {
        let (status, body) = server.get(&format!("/v4/trackings/get?{query}"), key).await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect()
    }
    let (a, b, c) = (a.as_str(), b.as_str(), c.as_str());
    let cases: [(&str, &[&str]); 11] = [
        ("courier_code=ups", &[b]),
        ("delivery_status=delivered", &[a]),
        ("delivery_status=pending", &[c]),
        ("archived_status=true", &[c]),
        ("archived_status=false", &[b, a]),
        ("tracking_numbers=FILTER-A001,FILTER-C001", &[c, a]),
        (
            "created_date_min=2024-01-15T00:00:00%2B00:00&created_date_max=2024-02-15T00:00:00%2B00:00",
            &[b],
        ),
        ("created_date_max=2024-01-01T00:00:00Z", &[a]),
        (
            "updated_date_min=2024-01-02T00:00:00%2B00:00&updated_date_max=2024-03-01T00:00:00%2B00:00",
            &[b, a],
        ),
        ("courier_code=sandbox&delivery_status=delivered&lang=en", &[a]),
        ("courier_code=sandbox&delivery_status=transit", &[]),
    ];
    for (query, expected) in cases {
        assert_eq!(ids(&server, key, query).await, expected, "{query}");
    }
}

#[tokio::test]
async fn update_changes_fields_courier_and_archive_state() {
    let server = Server::start();
    let key = server.key();
    let id = server.create(key, "UPDATE-0001", "ups").await;
    server.create(key, "UPDATE-0001", "fedex").await;
    let update = |body: Value| server.update(key, &id, body);
    let (status, body) =
        update(json!({"title": "new title", "customer_name": "Grace", "archived_status": "true"}))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["id"], id.as_str());
    assert_eq!(body["data"]["title"], "new title");
    assert_eq!(body["data"]["customer_name"], "Grace");
    assert_eq!(body["data"]["archived_status"], "true");

    // Moving to a courier the number is already tracked with is a conflict and changes nothing.
    let (status, body) = update(json!({"courier_code_new": "fedex"})).await;
    assert_error(status, &body, 400, 4101, "fedex");
    let (status, body) = update(json!({"courier_code_new": "dhl", "note": "moved"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["courier_code"], "dhl");
    let (_, listed) = server.get("/v4/trackings/get?courier_code=dhl", key).await;
    let t = &listed["data"][0];
    assert_eq!(t["id"], id.as_str());
    assert_eq!(t["title"], "new title", "untouched fields are kept");
    assert_eq!(t["note"], "moved");
    assert_eq!(t["archived"], "true");

    let (status, body) = update(json!({"courier_code_new": "postnl-3s"})).await;
    assert_error(status, &body, 400, 4122, "tracking_postal_code");
    let (status, body) =
        update(json!({"courier_code_new": "postnl-3s", "tracking_postal_code": "2511AA"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = update(json!({"archived_status": "maybe"})).await;
    assert_error(status, &body, 400, 4130, "archived_status");
}

#[tokio::test]
async fn delete_returns_the_tracking_and_removes_it() {
    let server = Server::start();
    let key = server.key();
    let id = server.create(key, "DELETE-0001", "sandbox").await;
    let keep = server.create(key, "DELETE-0002", "sandbox").await;
    let (status, body) = server
        .delete(&format!("/v4/trackings/delete/{id}"), key)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["id"], id.as_str());
    assert_eq!(body["data"]["tracking_number"], "DELETE0001");
    let (status, body) = server
        .delete(&format!("/v4/trackings/delete/{id}"), key)
        .await;
    assert_error(status, &body, 400, 4102, "");
    let remaining = server.list_all(key).await;
    assert_eq!(remaining.len(), 1);
    assert_eq!(remaining[0]["id"], keep.as_str());
    // The number can be registered again after deletion.
    server.create(key, "DELETE-0001", "sandbox").await;
}

#[tokio::test]
async fn retrack_only_reactivates_expired_trackings() {
    let server = Server::start();
    let key = server.key();
    let id = server.create(key, "RETRACK-0001", "sandbox").await;
    let (status, body) = server
        .post(&format!("/v4/trackings/retrack/{id}"), key, json!(null))
        .await;
    assert_error(status, &body, 400, 4113, "not expired");
    let expired = ForcedState {
        delivery_status: Some(DeliveryStatus::Expired),
        next_check_at: Some(None),
        ..ForcedState::default()
    };
    let store = server.store().await;
    assert!(store
        .force_tracking_state(&tracking_id(&id), &expired)
        .await
        .unwrap());
    // With no body at all, as the SDKs send it.
    let (status, _, body) = server
        .raw(
            reqwest::Method::POST,
            &format!("/v4/trackings/retrack/{id}"),
            Some(key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["delivery_status"], "pending");
    assert!(body["data"]["next_check_at"].is_string());
}

#[tokio::test]
async fn couriers_all_lists_the_registry() {
    let server = Server::start();
    let (status, body) = server.get("/v4/couriers/all", server.key()).await;
    assert_eq!(status, StatusCode::OK);
    let couriers = body["data"].as_array().unwrap();
    let codes: Vec<&str> = couriers
        .iter()
        .map(|c| c["courier_code"].as_str().unwrap())
        .collect();
    for code in [
        "sandbox",
        "ups",
        "fedex",
        "usps",
        "dhl",
        "postnl-3s",
        "canada-post",
    ] {
        assert!(codes.contains(&code), "{code}");
    }
    assert_eq!(codes.len(), parceld_detect::couriers().len());
    let postnl = couriers
        .iter()
        .find(|c| c["courier_code"] == "postnl-3s")
        .unwrap();
    assert_eq!(postnl["courier_type"], "postal");
    assert_eq!(
        postnl["tracking_required_fields"],
        json!(["tracking_postal_code"])
    );
    let ups = couriers
        .iter()
        .find(|c| c["courier_code"] == "ups")
        .unwrap();
    assert_eq!(ups["courier_type"], "express");
    assert_eq!(ups["courier_name"], "UPS");
    assert_eq!(ups["courier_country_iso2"], "US");
}
