//! Integration tests: the real server over real HTTP, each test on its own PostgreSQL database.
//! One test binary, so the crate links once.

mod auth;
mod cases;
mod casework;
mod configuration;
mod contract;
mod errors;
mod family;
mod handovers;
mod health;
mod idempotency;
mod integration;
mod support;
mod tools;
