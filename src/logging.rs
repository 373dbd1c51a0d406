//! Log set-up: one line per event, `time level [thread] message`, so tmux panes show which
//! thread did what. `RUST_LOG` selects the level (default `info` for the long-running
//! processes, `warn` for one-shot commands whose output is their result).

use std::io::Write;

/// Installs the logger once, at `default` unless `RUST_LOG` says otherwise; later calls (tests)
/// are ignored.
pub fn init(default: &str) {
    let env = env_logger::Env::default().default_filter_or(default);
    let _ = env_logger::Builder::from_env(env)
        .format(|buf, record| {
            let now = buf.timestamp_millis();
            let thread = std::thread::current();
            let name = thread.name().unwrap_or("?");
            writeln!(buf, "{now} {:5} [{name}] {}", record.level(), record.args())
        })
        .try_init();
}
