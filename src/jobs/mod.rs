//! Work that runs beside the requests or instead of them: the retention purge, the access log's monthly
//! partitions, the erasure of inquiries about another family's child, the `import` command's client, and
//! the listener through which instances wake each other.

pub mod import;
pub mod inquiry_erasure;
pub mod listen;
pub mod partitions;
pub mod retention;
