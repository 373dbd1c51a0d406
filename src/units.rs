//! Parsing of the command line's durations (`10s`, `250ms`, `0`), sizes (`256KiB`) and rates
//! (`500KiB/s`).
//!
//! Pure functions, no I/O. Used as clap `value_parser`s.

use std::time::Duration;

/// Parses `500ms`, `10s`, `2m`, `1.5s` or a bare `0`. A bare number other than 0 is refused:
/// a timer written without its unit is ambiguous.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let (number, scale_ms) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1_000.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60_000.0)
    } else if let Some(n) = text.strip_suffix('h') {
        (n, 3_600_000.0)
    } else {
        return Err(format!(
            "`{text}` needs a unit: ms, s, m or h (for example 10s or 250ms)"
        ));
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (for example 10s or 250ms)"))?;
    if !value.is_finite() || value < 0.0 || value * scale_ms > 1e12 {
        return Err(format!("`{text}` is out of range"));
    }
    Ok(Duration::from_micros(
        (value * scale_ms * 1_000.0).round() as u64
    ))
}

/// Parses a byte size: a whole number with its unit, `B`, `KiB`, `MiB` or `GiB` (powers of two):
/// `16384B`, `16KiB`, `1MiB`. A bare number is refused, as scripts/lib/size.sh refuses it in
/// the scripts: `4` meant 4 MiB to one script and 4 bytes to another.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let forms = "give a whole number with its unit: B, KiB, MiB or GiB (for example 256KiB)";
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let scale: u64 = match unit {
        "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "" if !number.is_empty() => {
            return Err(format!(
                "`{text}`: a bare number is ambiguous (bytes? MiB?); {forms}"
            ));
        }
        _ => return Err(format!("`{text}` is not a size; {forms}")),
    };
    let value: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size; {forms}"))?;
    value
        .checked_mul(scale)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// Parses a rate in bytes per second: `500KiB/s`, `2MiB/s` (powers of two), `1MB/s`, `800kB/s`
/// (powers of ten), `1.5MiB/s`, or a plain number of bytes per second (`/s` optional). `0`
/// means unlimited.
pub fn parse_rate(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let body = trimmed.strip_suffix("/s").unwrap_or(trimmed).trim();
    let units: [(&str, f64); 8] = [
        ("KiB", 1024.0),
        ("MiB", 1_048_576.0),
        ("GiB", 1_073_741_824.0),
        ("kB", 1e3),
        ("KB", 1e3),
        ("MB", 1e6),
        ("GB", 1e9),
        ("B", 1.0),
    ];
    let (number, scale) = units
        .iter()
        .find_map(|(suffix, scale)| body.strip_suffix(suffix).map(|n| (n.trim(), *scale)))
        .unwrap_or((body, 1.0));
    let bad = || {
        format!(
            "`{text}` is not a rate: give bytes per second, for example 500KiB/s, 2MiB/s, 1MB/s, 65536 or 0 (unlimited)"
        )
    };
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(bad());
    }
    let value: f64 = number.parse().map_err(|_| bad())?;
    let bytes = value * scale;
    if !bytes.is_finite() || bytes >= 1e15 {
        return Err(format!("`{text}` is out of range"));
    }
    Ok(bytes.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_ms_s_and_zero() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("fast").is_err());
    }

    #[test]
    fn sizes_need_one_of_the_binary_units() {
        assert_eq!(parse_size("16384B"), Ok(16384));
        assert_eq!(parse_size("256KiB"), Ok(262_144));
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        let bare = parse_size("16384").unwrap_err();
        assert!(
            bare.contains("bare number") && bare.contains("KiB"),
            "{bare}"
        );
        for bad in [
            "lots",
            "1m",
            "16k",
            "1.5MiB",
            "KiB",
            "-1B",
            "4 MiB",
            "99999999999999GiB",
        ] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rates_accept_binary_and_decimal_units_per_second() {
        assert_eq!(parse_rate("500KiB/s"), Ok(512_000));
        assert_eq!(parse_rate("2MiB/s"), Ok(2 << 20));
        assert_eq!(parse_rate("1MB/s"), Ok(1_000_000));
        assert_eq!(parse_rate("800kB/s"), Ok(800_000));
        assert_eq!(parse_rate("1.5MiB/s"), Ok(1_572_864));
        assert_eq!(parse_rate("65536"), Ok(65_536));
        assert_eq!(parse_rate("65536/s"), Ok(65_536));
        assert_eq!(parse_rate("100B/s"), Ok(100));
        assert_eq!(parse_rate(" 1 MiB/s "), Ok(1 << 20));
        assert_eq!(parse_rate("0"), Ok(0));
    }

    #[test]
    fn bad_rates_are_refused_with_an_example() {
        for bad in [
            "",
            "fast",
            "-1MiB/s",
            "1Mbit/s",
            "MiB/s",
            "1e3",
            "2 MiB/h",
            "1..2KiB/s",
            "1e99MB/s",
        ] {
            let error = parse_rate(bad).expect_err(bad);
            assert!(
                error.contains("for example") || error.contains("out of range"),
                "{bad}: {error}"
            );
        }
    }
}
