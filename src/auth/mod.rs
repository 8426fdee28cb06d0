//! Who is calling: bearer JWT verification, the `Caller` extractor, and minting development tokens.

pub mod caller;
pub mod jwks;
pub mod jwt;

pub use caller::{Caller, Role};
