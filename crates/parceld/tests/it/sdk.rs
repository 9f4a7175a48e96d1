//! TrackingMore's official Python SDK (`trackingmore-sdk-python` on PyPI) against parceld, with
//! only its base URL changed. `.ci/run` installs the SDK into a virtual environment and points
//! `TRACKINGMORE_SDK_PYTHON` at its interpreter; the script is `examples/sdk/python_sdk.py`.

use crate::support::Server;

#[tokio::test]
async fn the_official_python_sdk_works_by_changing_the_base_url() {
    let Ok(python) = std::env::var("TRACKINGMORE_SDK_PYTHON") else {
        assert!(
            std::env::var("CI").is_err(),
            "CI must set TRACKINGMORE_SDK_PYTHON (see .ci/run)"
        );
        eprintln!("TRACKINGMORE_SDK_PYTHON is not set: run .ci/run or examples/sdk/README.md to exercise the SDK");
        return;
    };
    let server = Server::start();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/sdk/python_sdk.py"
    );
    let output = tokio::process::Command::new(python)
        .arg(script)
        .arg(&server.base)
        .arg(server.key())
        .output()
        .await
        .expect("run the SDK script");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("all SDK calls behaved as documented"),
        "{stdout}"
    );
}
