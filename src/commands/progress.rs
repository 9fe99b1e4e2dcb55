//! The progress bars and spinners the commands show on standard error.

use indicatif::{ProgressBar, ProgressStyle};

use crate::pipeline::Progress;

/// A spinner for a stage whose length is not known in advance.
pub fn spinner(message: String) -> ProgressBar {
    let spinner = ProgressBar::new_spinner();
    spinner.set_message(message);
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    spinner
}

/// A bar for the pipeline's stages: what runs now, and how far where it can tell.
pub fn stage_bar() -> ProgressBar {
    let bar = progress_bar(1000, "");
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:<24} [{bar:40}] {percent:>3}% {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// Shows a pipeline stage's progress on `bar`.
pub fn show_stage(bar: &ProgressBar, progress: &Progress) {
    bar.set_message(progress.stage.to_string());
    bar.set_position((progress.fraction * 1000.0) as u64);
}

/// A bar counting `length` things called `unit`.
pub fn progress_bar(length: u64, unit: &str) -> ProgressBar {
    let bar = ProgressBar::new(length);
    let template = format!("[{{bar:40}}] {{pos}}/{{len}} {unit} {{elapsed}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}
