//! The binary: parse the command line, then hand over to the library (`stafettlogg::cli`).

use clap::Parser;

fn main() -> std::process::ExitCode {
    stafettlogg::cli::run(stafettlogg::cli::Cli::parse())
}
