//! Rebuilds the crate when a migration changes: `sqlx::migrate!` embeds the migrations at
//! compile time, and without this cargo does not see an edited or added `.sql` file.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
