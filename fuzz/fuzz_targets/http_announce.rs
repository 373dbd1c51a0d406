#![no_main]
//! libFuzzer entry point; the checks are in `fuzz/src/lib.rs` (`fuzz_checks::http_announce`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::http_announce(data));
