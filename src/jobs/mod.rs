//! Work that runs beside the requests or instead of them: the senders of notifications and webhooks, the
//! retention purge, the erasure of inquiries
//! about another family's child, and the `import` command's client. (The access log's monthly partitions
//! and the listener through which instances wake each other are the database's: `crate::db`.)

pub mod delivery;
pub mod import;
pub mod inquiry_erasure;
pub mod retention;
