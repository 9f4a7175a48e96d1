//! Embeds the detection corpus (`corpus/*.txt`) in the crate, so `parceld bench` scores the same
//! numbers the tests check without reading the source tree at run time.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("crates/detect/corpus exists")
        .map(|entry| entry.expect("a readable corpus directory").file_name())
        .filter_map(|name| name.into_string().ok())
        .filter(|name| name.ends_with(".txt"))
        .collect();
    names.sort();
    let mut out = String::from("/// The corpus files, by name, in name order.\n");
    out.push_str("pub(crate) const FILES: &[(&str, &str)] = &[\n");
    for name in &names {
        let path = dir.join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    let target =
        Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR is set")).join("corpus_files.rs");
    std::fs::write(target, out).expect("OUT_DIR is writable");
}
