//! Progress bars for long work (`ingest`, `reprice`): drawn on stderr when
//! it is a terminal, never when it is piped or with `--quiet`.

use std::io::IsTerminal as _;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// `--quiet`.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct QuietArgs {
    /// Show no progress bar (none is shown either when stderr is not a terminal).
    #[arg(long, short)]
    pub quiet: bool,
}

/// What a bar counts.
#[derive(Debug, Clone, Copy)]
pub enum Unit {
    /// Bytes of a file.
    Bytes,
    /// Spans.
    Spans,
}

impl QuietArgs {
    /// A bar of `len` units with `message` before it; hidden (and free)
    /// when quiet or when stderr is not a terminal.
    pub fn bar(&self, len: u64, unit: Unit, message: String) -> ProgressBar {
        if self.quiet || !std::io::stderr().is_terminal() {
            return ProgressBar::hidden();
        }
        let template = match unit {
            Unit::Bytes => "{msg} {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
            Unit::Spans => "{msg} {wide_bar} {human_pos}/{human_len} spans ({eta})",
        };
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr())
            .with_style(style)
            .with_message(message)
    }
}
