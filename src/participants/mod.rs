//! People in a case. Professionals, guardians, the subject youth and others; deactivated, never deleted.

pub mod model;
