//! The `zonewise` binary: parses the command line, then opens the window or runs
//! one headless command (`zonewise::commands`). Everything else lives in the library.

use clap::Parser as _;
use zonewise::commands::Cli;

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", zonewise::format::describe_error(&error));
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if cli.command.is_some() {
        exit_quietly_on_closed_pipe();
    }
    cli.run()
}

/// Lets a headless command stop quietly when its reader goes away (`zonewise quality | head`),
/// as command-line tools do, instead of panicking on the broken pipe. Not done for the
/// window, whose display connections handle their own sockets.
fn exit_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
