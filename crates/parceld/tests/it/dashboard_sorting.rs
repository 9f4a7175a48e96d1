//! The shipments table's order and cursor paging over real HTTP: column headers that link to
//! each order with the filters kept and `aria-sort` on the sorted column, "next" and "previous"
//! links that continue from a row (shipments arriving meanwhile neither repeat nor push rows
//! along), and a bad order or cursor refused as a bad request.

use reqwest::StatusCode;

use crate::dashboard::admin_browser;
use crate::support::Server;

/// The tracking numbers a page of the table lists, in order.
fn listed(page: &str) -> Vec<String> {
    page.split("aria-label=\"Select ")
        .skip(1)
        .map(|row| row.split_once('"').unwrap().0.to_string())
        .collect()
}

/// The pager's link `rel` (`next` or `prev`), if the page has one.
fn pager(page: &str, rel: &str) -> Option<String> {
    let end = format!("\" rel=\"{rel}\"");
    page.split("href=\"").find_map(|s| {
        s.split_once(end.as_str())
            .map(|(link, _)| link.replace("&#38;", "&"))
    })
}

/// The header cell of the column `label`: its `aria-sort` and its link.
fn header(page: &str, label: &str) -> (Option<String>, String) {
    let cell = page
        .split("<th ")
        .find(|cell| cell.contains(&format!(">{label}<span")))
        .unwrap_or_else(|| panic!("a sortable {label} column in {page}"));
    let aria = cell
        .split_once("aria-sort=\"")
        .map(|(_, rest)| rest.split_once('"').unwrap().0.to_string());
    let href = cell
        .split_once("href=\"")
        .unwrap()
        .1
        .split_once('"')
        .unwrap()
        .0;
    (aria, href.replace("&#38;", "&"))
}

#[tokio::test]
async fn the_table_sorts_by_its_headers_and_pages_by_cursor() {
    let server = Server::start();
    let key = server.key().to_string();
    server.create(&key, "OTHER1", "ups").await;
    let sandbox = |i| format!("SRT{i:03}");
    server
        .create_numbers(&key, &(0..55).map(sandbox).collect::<Vec<_>>(), "sandbox")
        .await;
    let mut admin = admin_browser(&server).await;

    // The default order: newest first, the Created column marked.
    let (status, _, newest) = admin.get("/dashboard/shipments?courier=sandbox").await;
    assert_eq!(status, StatusCode::OK, "{newest}");
    assert_eq!(header(&newest, "Created").0.as_deref(), Some("descending"));
    assert_eq!(listed(&newest)[0], "SRT054");
    // Each header keeps the filters; the number's sorts A to Z first.
    let (aria, by_number) = header(&newest, "Number");
    assert_eq!(aria, None);
    assert_eq!(
        by_number,
        "/dashboard/shipments?courier=sandbox&sort=number"
    );

    let (status, _, first) = admin.get(&by_number).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(header(&first, "Number").0.as_deref(), Some("ascending"));
    assert_eq!(header(&first, "Created").0, None);
    assert_eq!(
        header(&first, "Number").1,
        "/dashboard/shipments?courier=sandbox&sort=number&dir=desc"
    );
    let page_one = listed(&first);
    assert_eq!(page_one.len(), 50);
    assert_eq!(
        (page_one[0].as_str(), page_one[49].as_str()),
        ("SRT000", "SRT049")
    );
    assert!(pager(&first, "prev").is_none());
    let next = pager(&first, "next").expect("a next page");
    assert!(next.contains("after=") && !next.contains("page="), "{next}");

    // Shipments arriving now: one sorts before the position (never shown on the next page),
    // one after it (shown once).
    server.create(&key, "SRT0005", "sandbox").await;
    server.create(&key, "SRT999", "sandbox").await;
    let (status, _, second) = admin.get(&next).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let expected: Vec<&str> = vec!["SRT050", "SRT051", "SRT052", "SRT053", "SRT054", "SRT999"];
    assert_eq!(listed(&second), expected);
    assert!(pager(&second, "next").is_none());
    let previous = pager(&second, "prev").expect("a previous page");
    assert!(previous.contains("before="), "{previous}");
    let (_, _, back) = admin.get(&previous).await;
    // Back from SRT050: the 50 rows before it, the arrival among them.
    let back = listed(&back);
    assert_eq!(back.len(), 50);
    assert_eq!((back[0].as_str(), back[49].as_str()), ("SRT0005", "SRT049"));

    // Descending by last update, every page through the cursor, each shipment once.
    let mut seen = Vec::new();
    let mut at = Some("/dashboard/shipments?courier=sandbox&sort=updated".to_string());
    while let Some(url) = at {
        let (status, _, page) = admin.get(&url).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(listed(&page));
        at = pager(&page, "next");
    }
    let count = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!((count, seen.len()), (57, 57));

    // The export takes the table's query, order and all.
    let (status, _, csv) = admin
        .get("/dashboard/shipments.csv?courier=sandbox&sort=event&dir=asc")
        .await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    assert_eq!(csv.lines().count(), 58);
}

#[tokio::test]
async fn a_bad_order_or_cursor_is_a_bad_request() {
    let server = Server::start();
    let mut admin = admin_browser(&server).await;
    // base64url of `not a cursor`, of a time past i64, of i64::MIN, and of `.1` (key 1).
    let (words, too_late, too_early, key) = (
        "bm90IGEgY3Vyc29y",
        "OTk5OTk5OTk5OTk5OTk5OTk5OTkuMQ",
        "LTkyMjMzNzIwMzY4NTQ3NzU4MDguMQ",
        "LjE",
    );
    let bad = [
        "sort=pk".to_string(),
        "sort=created&dir=up".to_string(),
        "after=%21%21".to_string(),
        format!("after={words}"),
        format!("sort=updated&after={too_late}"),
        format!("sort=event&before={too_early}"),
        format!("sort=number&after={}", "A".repeat(300)),
        format!("after={key}&before={key}"),
    ];
    for query in bad {
        let (status, _, page) = admin.get(&format!("/dashboard/shipments?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {page}");
        let (status, _, _) = admin
            .get(&format!("/dashboard/shipments.csv?{query}"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query} (export)");
    }
    let (status, _, _) = admin
        .get(&format!("/dashboard/shipments?after={key}"))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a cursor of creation order is its key"
    );
}
