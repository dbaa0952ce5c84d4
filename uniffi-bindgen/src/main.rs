//! The bindgen binary, built from the same pinned uniffi as `idflow-ffi` so the
//! generated code and the scaffolding can never drift apart.
fn main() {
    uniffi::uniffi_bindgen_main()
}
