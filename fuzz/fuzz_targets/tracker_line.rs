#![no_main]
//! libFuzzer entry point; the checks are in `fuzz/src/lib.rs` (`fuzz_checks::tracker_line`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::tracker_line(data));
