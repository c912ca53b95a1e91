//! The app's wasm keeps its relocations (`--emit-relocs`): the post-link step that splits the
//! lazily loaded pages into chunks of their own (`cargo xtask split-wasm`, trunk's post-build
//! hook) reads them to tell which code each chunk needs.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_FAMILY").is_ok_and(|family| family == "wasm") {
        println!("cargo::rustc-link-arg-bins=--emit-relocs");
    }
}
