#![no_main]
//! libFuzzer entry point; the checks are in `fuzz/src/lib.rs` (`fuzz_checks::bencode`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::bencode(data));
