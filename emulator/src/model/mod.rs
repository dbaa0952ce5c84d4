//! What the emulator knows and remembers: the directory (clients, users,
//! APIs), scopes as it parses them, the grants it handed out, and the
//! request log.

pub mod directory;
pub mod log;
pub mod managed_identity;
pub mod scopes;
pub mod state;
