//! Fault injection: rules that answer matching requests with a failure
//! instead of the emulated platform's normal answer — the rules as data,
//! their application, the bodies that fail mid-way, and named presets.

pub mod apply;
pub mod bodies;
pub mod presets;
pub mod rules;
