//! Renders the selected messages as a Mermaid `sequenceDiagram`, and the Markdown file that
//! holds it in a ```` ```mermaid ```` fence (GitHub and GitLab draw it).
//!
//! Participants get identifiers made of letters, digits and `_` (`peer_7001`, `a127_0_0_1_6881`)
//! with the readable name as alias. A lost message is drawn `-x`, every other one `->>`. Label
//! text is escaped with Mermaid's entity codes (`#` is `#35;`, `;` `#59;`, `<` `#60;`, `>`
//! `#62;`): Mermaid's sequence grammar reads `#` to the end of the line as a comment (so
//! `request #3` would show as `request`), `;` ends a statement and `<` opens a tag such as `<br>`.
//! `tests/mermaid_render.rs` checks the text Mermaid itself draws. No layout here: Mermaid does it.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::label::label;
use super::select::Selected;

/// Words Mermaid reads as keywords, never used as identifiers.
const KEYWORDS: [&str; 16] = [
    "end",
    "loop",
    "alt",
    "else",
    "opt",
    "par",
    "and",
    "rect",
    "note",
    "participant",
    "actor",
    "activate",
    "deactivate",
    "critical",
    "break",
    "box",
];

/// The `sequenceDiagram` text (no fence).
pub fn diagram(participants: &[String], selected: &Selected) -> String {
    let mut ids: HashMap<&str, String> = HashMap::new();
    let mut out = String::from("sequenceDiagram\n");
    for name in participants {
        let mut id = identifier(name);
        while ids.values().any(|taken| *taken == id) {
            id.push('_');
        }
        if id == *name {
            let _ = writeln!(out, "    participant {id}");
        } else {
            let _ = writeln!(out, "    participant {id} as {}", escape(name));
        }
        ids.insert(name, id);
    }
    let id = |name: &str| ids.get(name).cloned().unwrap_or_else(|| identifier(name));
    for message in &selected.messages {
        let arrow = if message.lost { "-x" } else { "->>" };
        let _ = writeln!(
            out,
            "    {}{arrow}{}: {}",
            id(&message.from),
            id(&message.to),
            escape(&label(message))
        );
    }
    if let (Some(first), Some(last)) = (participants.first(), participants.last())
        && selected.omitted > 0
    {
        let _ = writeln!(
            out,
            "    Note over {},{}: {} more messages not drawn (--max-messages)",
            id(first),
            id(last),
            selected.omitted
        );
    }
    out
}

/// The Markdown file: one line saying what it shows, then the fenced diagram.
pub fn markdown(participants: &[String], selected: &Selected) -> String {
    let drawn: usize = selected.messages.iter().map(|m| m.count).sum();
    let mut out = format!(
        "Sequence diagram of {drawn} messages between {} participants, drawn by `bittorrent-sim diagram`",
        participants.len()
    );
    if selected.omitted > 0 {
        let _ = write!(
            out,
            " ({} more arrows cut by --max-messages)",
            selected.omitted
        );
    }
    out.push_str(".\n\n```mermaid\n");
    out.push_str(&diagram(participants, selected));
    out.push_str("```\n");
    out
}

/// `peer-7001` as `peer_7001`, `127.0.0.1:6881` as `a127_0_0_1_6881`.
fn identifier(name: &str) -> String {
    let mut id: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !id.starts_with(|c: char| c.is_ascii_alphabetic()) {
        id.insert(0, 'a');
    }
    if KEYWORDS.contains(&id.to_ascii_lowercase().as_str()) {
        id.push('_');
    }
    id
}

/// Text safe after `:` or `as` on one Mermaid line.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '#' => out.push_str("#35;"),
            ';' => out.push_str("#59;"),
            '<' => out.push_str("#60;"),
            '>' => out.push_str("#62;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_text_are_safe() {
        assert_eq!(identifier("peer-7001"), "peer_7001");
        assert_eq!(identifier("127.0.0.1:6881"), "a127_0_0_1_6881");
        assert_eq!(identifier("end"), "end_");
        assert_eq!(escape("OK a;b <x>\n"), "OK a#59;b #60;x#62; ");
        assert_eq!(escape("request #3 x2"), "request #35;3 x2");
        assert_eq!(
            escape("#59;"),
            "#35;59#59;",
            "an entity in a field is shown, not read"
        );
    }
}
