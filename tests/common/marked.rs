//! The processes a test run started, found by a marker in their environment (`VAR=VALUE`, set
//! by the script that started them), so a test can check that nothing of its run is left
//! behind. Included with `#[path]` by the lab and Mininet tests, which use no other helper.

use std::fs;

/// Pids of the processes whose environment holds `var=value`.
pub fn processes_marked(var: &str, value: &str) -> Vec<u32> {
    let marker = format!("{var}={value}");
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|&b| b == 0).any(|var| var == marker.as_bytes()))
        })
        .collect()
}
