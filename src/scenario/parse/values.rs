//! The values of a scenario file's keys: sizes (a unit required), durations, numbers, yes/no,
//! one of a list, and the `start:` forms. Pure.

use std::time::Duration;

use super::{FileSpec, Start};
use crate::units::{parse_duration, parse_size};

pub(super) fn file_spec(v: &str) -> FileSpec {
    match parse_size(v) {
        Ok(bytes) => FileSpec::Size(bytes),
        Err(_) => FileSpec::Path(v.to_string()),
    }
}

pub(super) fn size(v: &str) -> Result<u64, String> {
    parse_size(v)
}

pub(super) fn duration(v: &str) -> Result<Duration, String> {
    parse_duration(v)
}

pub(super) fn number(v: &str) -> Result<usize, String> {
    v.parse()
        .map_err(|_| format!("`{v}` is not a whole number"))
}

pub(super) fn yes_no(v: &str) -> Result<bool, String> {
    match v {
        "yes" | "true" => Ok(true),
        "no" | "false" => Ok(false),
        _ => Err(format!("`{v}`: yes or no")),
    }
}

pub(super) fn one_of(v: &str, allowed: &[&str]) -> Result<String, String> {
    if allowed.contains(&v) {
        Ok(v.to_string())
    } else {
        Err(format!("`{v}`: one of {}", allowed.join(", ")))
    }
}

pub(super) fn percent(v: &str) -> Result<u32, String> {
    let n = v
        .trim()
        .strip_suffix('%')
        .and_then(|n| n.trim().parse::<u32>().ok())
        .filter(|n| *n <= 100)
        .ok_or_else(|| format!("`{v}` is not a percentage from 0% to 100%"))?;
    Ok(n)
}

pub(super) fn start(v: &str) -> Result<Start, String> {
    Ok(match v {
        "none" => Start::None,
        "all" => Start::All,
        _ if v.starts_with("first ") => Start::First(percent(&v[6..])?),
        _ if v.starts_with("last ") => Start::Last(percent(&v[5..])?),
        _ if v.ends_with('%') => Start::Random(percent(v)?),
        _ if !v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_digit() || c == '-' || c == ',') =>
        {
            Start::Ranges(v.to_string())
        }
        _ => {
            return Err(format!(
                "start `{v}`: none, all, a range like 0-9,12, a fraction like 50%, or first 60% / last 40%"
            ));
        }
    })
}
