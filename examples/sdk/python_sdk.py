"""TrackingMore's official Python SDK (trackingmore-sdk-python) against parceld.

Only the SDK's base URL is changed; every call below is the SDK's own. Run:

    python3 -m venv .venv && .venv/bin/pip install trackingmore-sdk-python==0.1.4
    .venv/bin/python examples/sdk/python_sdk.py http://127.0.0.1:8080 pk_yourkey
"""

import sys
from urllib.parse import urlparse

import trackingmore
import trackingmore.request as sdk_request


def check(condition, what, response):
    if not condition:
        print("FAILED:", what, "->", response)
        sys.exit(1)
    print("ok:", what)


def main():
    base, key = sys.argv[1], sys.argv[2]
    url = urlparse(base)
    # The one change: point the SDK at parceld instead of api.trackingmore.com.
    sdk_request.apiBaseUrl = url.netloc
    sdk_request.apiPort = url.port or (443 if url.scheme == "https" else 80)
    trackingmore.api_key = key

    couriers = trackingmore.courier.get_all_couriers()
    codes = [c["courier_code"] for c in couriers["data"]]
    check(couriers["meta"]["code"] == 200 and "ups" in codes, "courier.get_all_couriers", couriers)

    created = trackingmore.tracking.create_tracking(
        {"tracking_number": "SDK-PY-0001", "courier_code": "ups", "order_number": "#1001"}
    )
    check(created["meta"]["code"] == 200, "tracking.create_tracking", created)
    tracking_id = created["data"]["id"]

    duplicate = trackingmore.tracking.create_tracking(
        {"tracking_number": "SDK-PY-0001", "courier_code": "ups"}
    )
    check(duplicate["meta"]["code"] == 4101, "create_tracking twice -> 4101", duplicate)

    batch = trackingmore.tracking.batch_create_trackings(
        [
            {"tracking_number": "SDK-PY-0002", "courier_code": "fedex"},
            {"tracking_number": "SDK-PY-0003", "courier_code": "no-such-courier"},
        ]
    )
    check(
        len(batch["data"]["success"]) == 1
        and batch["data"]["error"][0]["errorCode"] == 4120,
        "tracking.batch_create_trackings (partial success)",
        batch,
    )

    results = trackingmore.tracking.get_tracking_results(
        {"tracking_numbers": "SDK-PY-0001,SDK-PY-0002", "courier_code": "ups"}
    )
    # parceld stores a number without its separators (docs/carriers.md), as it detects it.
    check(
        [t["tracking_number"] for t in results["data"]] == ["SDKPY0001"],
        "tracking.get_tracking_results with filters",
        results,
    )

    updated = trackingmore.tracking.update_tracking_by_id(
        tracking_id, {"title": "Blue shoes", "archived_status": "true"}
    )
    check(
        updated["data"]["title"] == "Blue shoes" and updated["data"]["archived_status"] == "true",
        "tracking.update_tracking_by_id",
        updated,
    )

    retrack = trackingmore.tracking.retrack_tracking_by_id(tracking_id)
    check(retrack["meta"]["code"] == 4113, "tracking.retrack_tracking_by_id on a live tracking -> 4113", retrack)

    deleted = trackingmore.tracking.delete_tracking_by_id(tracking_id)
    check(deleted["data"]["id"] == tracking_id, "tracking.delete_tracking_by_id", deleted)
    gone = trackingmore.tracking.delete_tracking_by_id(tracking_id)
    check(gone["meta"]["code"] == 4102, "delete again -> 4102", gone)

    trackingmore.api_key = "pk_" + "0" * 40
    refused = trackingmore.tracking.get_tracking_results({})
    check(refused["meta"]["code"] == 401, "a wrong key -> 401", refused)

    print("all SDK calls behaved as documented")


if __name__ == "__main__":
    main()
