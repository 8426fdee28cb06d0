//! Integration tests: the real server over real HTTP, each test on its own PostgreSQL database.
//! One test binary, so the crate links once.

mod archive;
mod auth;
mod cases;
mod casework;
mod cli;
mod configuration;
mod container;
mod contract;
mod errors;
mod failover;
mod family;
mod frontends;
mod fuzz;
mod guide;
mod handovers;
mod hardening;
mod health;
mod idempotency;
mod inquiries;
mod instances;
mod integration;
mod jwks;
mod leaders;
mod matrix;
mod operations;
mod partitions;
mod request_examples;
mod retention;
mod signatures;
mod statements;
mod statistics;
mod support;
mod tenancy;
mod tools;
mod world;
