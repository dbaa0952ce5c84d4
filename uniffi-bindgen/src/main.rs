//! The bindgen binary, built from the same pinned uniffi as `idflow-ffi` so the
//! generated code and the scaffolding can never drift apart. Generated Swift
//! gets a faster buffer reader (see `swift_reader.rs`).

mod swift_reader;

fn main() {
    // Exits with uniffi's error when generation fails.
    uniffi::uniffi_bindgen_main();
    let args: Vec<String> = std::env::args().collect();
    if let Err(e) = swift_reader::after_generate(&args) {
        eprintln!("uniffi-bindgen: {e}");
        std::process::exit(1);
    }
}
