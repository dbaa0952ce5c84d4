//! Nothing to call: this library target exists so that `idflow-ffi` can list
//! this package as a build dependency (never built there: it has no build
//! script). That listing is what puts the bindgen into the Python source
//! distribution (maturin packs the library's non-dev path dependencies),
//! where maturin runs `cargo run --bin uniffi-bindgen` to generate the Python
//! module, so `pip install idflow-*.tar.gz` needs only a Rust toolchain.
