//! The docs name real code (issue 17, item 11): every `path.rs::name` (or
//! `path.rs::Type::name`) in README.md, PROTOCOL.md and docs/*.md must point at a file under
//! src/ whose path ends with `path.rs` and which defines `fn name` (or a type `name`), and
//! mentions `Type`. Code moves; this test makes the docs move with it. And every log line
//! quoted in docs/socket-flow.md and README.md (`2026-...Z LEVEL [thread] message`) must be
//! one the program can print: its message matches a string literal of src/ whose `{...}`
//! placeholders stand for anything (a reworded log line fails; the values do not matter).

use std::fs;
use std::path::{Path, PathBuf};

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry"))
    {
        let path = entry.path();
        if path.is_dir() {
            files(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

/// Every `a/b.rs::X::y` in `text`.
fn references(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices(".rs::") {
        let start = text[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '/'))
            .map_or(0, |i| i + 1);
        let rest = &text[at + 5..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let item = rest[..end].trim_end_matches(':');
        if start < at && !item.is_empty() {
            found.push(format!("{}.rs::{item}", &text[start..at]));
        }
    }
    found
}

fn defines(source: &str, name: &str) -> bool {
    ["fn ", "struct ", "enum ", "trait ", "type ", "mod "]
        .iter()
        .any(|kind| {
            source
                .match_indices(&format!("{kind}{name}"))
                .any(|(at, m)| {
                    let next = source[at + m.len()..].chars().next();
                    !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                })
        })
}

#[test]
fn every_code_path_named_in_the_docs_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sources = Vec::new();
    files(&root.join("src"), "rs", &mut sources);
    let mut docs = vec![root.join("README.md"), root.join("PROTOCOL.md")];
    files(&root.join("docs"), "md", &mut docs);
    let mut missing = Vec::new();
    let mut checked = 0;
    for doc in &docs {
        let text = fs::read_to_string(doc).expect("read doc");
        for reference in references(&text) {
            let (path, item) = reference.split_once(".rs::").expect("a reference");
            let path = format!("{path}.rs");
            let mut parts: Vec<&str> = item.split("::").collect();
            let name = parts.pop().expect("a name");
            let found = sources.iter().any(|file| {
                let relative = file.strip_prefix(root.join("src")).expect("under src");
                let relative = relative.to_string_lossy();
                let matches = relative == path.as_str() || relative.ends_with(&format!("/{path}"));
                matches
                    && fs::read_to_string(file).is_ok_and(|source| {
                        defines(&source, name) && parts.iter().all(|t| source.contains(t))
                    })
            });
            checked += 1;
            if !found {
                let doc = doc.strip_prefix(root).expect("in the repo").display();
                missing.push(format!("{doc}: {reference}"));
            }
        }
    }
    assert!(
        checked > 20,
        "only {checked} references found: is the pattern right?"
    );
    assert!(
        missing.is_empty(),
        "named in the docs, not found in src/:\n{}",
        missing.join("\n")
    );
}

#[test]
fn references_are_read_whole() {
    assert_eq!(
        references("see `tracker/proto.rs::Reply::write_to`, and net.rs::listen."),
        ["tracker/proto.rs::Reply::write_to", "net.rs::listen"]
    );
}

/// The string literals of a Rust source (plain `"..."`; escapes kept as written, a `\` line
/// continuation and the blanks after it dropped).
fn literals(source: &str) -> Vec<String> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\'' if chars.get(i + 1) == Some(&'"') && chars.get(i + 2) == Some(&'\'') => i += 3,
            '\'' if chars.get(i + 1) == Some(&'\\') => i += 4,
            '"' => {
                let mut text = String::new();
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && chars.get(i + 1) == Some(&'\n') {
                        i += 2;
                        while i < chars.len() && chars[i].is_whitespace() {
                            i += 1;
                        }
                        continue;
                    }
                    if chars[i] == '\\' {
                        text.push(chars[i]);
                        i += 1;
                    }
                    if let Some(&c) = chars.get(i) {
                        text.push(c);
                    }
                    i += 1;
                }
                out.push(text);
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// Whether `message` is what the format string `literal` prints for some values.
fn produces(literal: &str, message: &str) -> bool {
    let mut fragments = Vec::new();
    let mut rest = literal;
    while let Some(open) = rest.find('{') {
        fragments.push(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            return false;
        };
        rest = &rest[open + close + 1..];
    }
    fragments.push(rest);
    if fragments.iter().map(|f| f.trim().len()).sum::<usize>() < 4 {
        return false; // `{}: {}` says nothing
    }
    let (first, last) = (fragments[0], fragments[fragments.len() - 1]);
    // A line the docs cut short (`... ; log ...`): the fragments it shows, in order.
    if let Some(shown) = message.strip_suffix("...") {
        if !shown.starts_with(first) {
            return false;
        }
        let mut at = first.len();
        let mut matched = 0;
        for fragment in &fragments[1..] {
            let Some(found) = shown[at..].find(fragment) else {
                break;
            };
            at += found + fragment.len();
            matched += 1;
        }
        return matched >= 2;
    }
    if !message.starts_with(first) || !message.ends_with(last) {
        return false;
    }
    let mut at = first.len();
    let inner = &fragments[1..fragments.len().saturating_sub(1).max(1)];
    for fragment in inner {
        match message[at..].find(fragment) {
            Some(found) => at += found + fragment.len(),
            None => return false,
        }
    }
    fragments.len() == 1 && message == first || at <= message.len() - last.len()
}

/// The message of a quoted log line: what follows `LEVEL [thread] `.
fn quoted_message(line: &str) -> Option<&str> {
    let line = line.trim();
    let date = line.get(..11)?;
    if !(date.as_bytes()[4] == b'-' && date.as_bytes()[10] == b'T') {
        return None;
    }
    let close = line.find("] ")?;
    Some(&line[close + 2..])
}

#[test]
fn every_log_line_quoted_in_the_docs_is_one_the_program_prints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sources = Vec::new();
    files(&root.join("src"), "rs", &mut sources);
    let formats: Vec<String> = sources
        .iter()
        .flat_map(|file| literals(&fs::read_to_string(file).expect("read source")))
        .filter(|l| l.chars().any(|c| c == ' '))
        .collect();
    let mut unknown = Vec::new();
    let mut checked = 0;
    for doc in ["docs/socket-flow.md", "README.md"] {
        let text = fs::read_to_string(root.join(doc)).expect("read doc");
        for message in text.lines().filter_map(quoted_message) {
            checked += 1;
            if !formats.iter().any(|f| produces(f, message)) {
                unknown.push(format!("{doc}: {message}"));
            }
        }
    }
    assert!(checked > 50, "only {checked} quoted log lines found");
    assert!(
        unknown.is_empty(),
        "quoted log lines no format string in src/ prints:\n{}",
        unknown.join("\n")
    );
}

#[test]
fn a_format_string_matches_what_it_prints_only() {
    assert!(produces(
        "{remote}: accepted ({pending} pending, {n} of {max} established)",
        "127.0.0.1:1: accepted (0 pending, 0 of 32 established)"
    ));
    assert!(!produces(
        "{remote}: accepted ({pending} pending, {n} of {max} established)",
        "127.0.0.1:1: accepted (0 of 32 connection threads busy)"
    ));
    assert!(produces(
        "listening on {} for uploads",
        "listening on 127.0.0.1:7002 for uploads"
    ));
    assert_eq!(
        literals("info!(\"a {x} \\\n     b\"); let c = '\"';"),
        ["a {x} b"]
    );
}
