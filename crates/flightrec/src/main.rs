//! The `flightrec` command: a thin layer over the library crates.

mod cli;
mod client;
mod commands;
mod output;
mod player;
mod progress;
mod server_keys;
mod trust;

use clap::Parser;

/// glibc's allocator, with many threads freeing request-sized buffers,
/// spent about half of the server's request-handling CPU under batch
/// ingest; mimalloc does not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    flightrec_server::webhooks::install_tls_provider();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    };
    // A read of stdin still waiting (the MCP commands', when the session
    // ended from the other side) would hold a plain drop up for ever.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    code
}
