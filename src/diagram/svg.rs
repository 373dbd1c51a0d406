//! Renders the selected messages as a self-contained SVG sequence diagram.
//!
//! Participants are labelled boxes at the top and bottom of dashed lifelines; each message is
//! one row, time flowing down, drawn as exactly one element of class `msg` (a `<line>`, or a
//! `<path>` for a message to oneself) with its label above it and its time, in seconds since
//! the first traced message, in the left margin. A lost message is a dashed red line ending in
//! a cross. The output is plain XML: an inline `<style>`, the generic `sans-serif` font, no
//! script, no external reference; every text is escaped. Widths are estimated from character
//! counts, since nothing here can measure a font.

use std::fmt::Write as _;

use super::label::label;
use super::select::Selected;

const TIME_W: usize = 64;
const TOP: usize = 10;
const BOX_H: usize = 28;
const ROW_H: usize = 30;
/// Estimated width of one character at 12 px, in tenths of a pixel.
const CHAR_W10: usize = 68;

const STYLE: &str = "\
.box { fill: #eef2fb; stroke: #3b4a6b; stroke-width: 1; }
.name { font-weight: bold; text-anchor: middle; }
.life { stroke: #9aa3b5; stroke-width: 1; stroke-dasharray: 3 4; }
.msg { stroke: #222; stroke-width: 1.3; fill: none; }
.label { text-anchor: middle; fill: #111; paint-order: stroke; stroke: #fff; stroke-width: 4px; stroke-linejoin: round; }
.self { text-anchor: start; fill: #111; }
.time { fill: #888; font-size: 10px; }
.note { fill: #a33; font-style: italic; }";

/// The whole SVG document.
pub fn render(participants: &[String], selected: &Selected) -> String {
    let labels: Vec<String> = selected.messages.iter().map(label).collect();
    let widest_label = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let widest_name = participants
        .iter()
        .map(|p| p.chars().count())
        .max()
        .unwrap_or(0);
    let gap = (widest_label.max(widest_name) * CHAR_W10 / 10 + 28).clamp(150, 480);
    let box_w = (widest_name * CHAR_W10 / 10 + 20).clamp(90, gap - 10);
    let x = |name: &str| {
        let column = participants.iter().position(|p| p == name).unwrap_or(0);
        TIME_W + gap / 2 + column * gap
    };
    let first_row = TOP + BOX_H + 34;
    let rows =
        selected.messages.len() + usize::from(selected.omitted > 0 || participants.is_empty());
    let bottom = first_row + rows * ROW_H;
    let width = TIME_W + gap * participants.len().max(1) + 10;
    let height = bottom + BOX_H + TOP;

    let mut out = open(width, height);
    let _ = writeln!(
        out,
        "<title>sequence diagram: {} arrows between {} participants</title>",
        selected.messages.len(),
        participants.len()
    );
    let _ = writeln!(out, "<style>\n{STYLE}\n</style>");
    out.push_str(
        "<defs>\n\
         <marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" \
         orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#222\"/></marker>\n\
         <marker id=\"cross\" viewBox=\"0 0 10 10\" refX=\"5\" refY=\"5\" markerWidth=\"10\" markerHeight=\"10\" \
         orient=\"auto\"><path d=\"M1,1 L9,9 M1,9 L9,1\" stroke=\"#c33\" stroke-width=\"2\"/></marker>\n\
         </defs>\n",
    );
    let _ = writeln!(
        out,
        "<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>"
    );

    for name in participants {
        let cx = x(name);
        let _ = writeln!(
            out,
            "<line class=\"life\" x1=\"{cx}\" y1=\"{}\" x2=\"{cx}\" y2=\"{bottom}\"/>",
            TOP + BOX_H
        );
        for top in [TOP, bottom] {
            let _ = writeln!(
                out,
                "<rect class=\"box\" x=\"{}\" y=\"{top}\" width=\"{box_w}\" height=\"{BOX_H}\" rx=\"4\"/>\
                 <text class=\"name\" x=\"{cx}\" y=\"{}\">{}</text>",
                cx - box_w / 2,
                top + BOX_H / 2 + 4,
                escape(name)
            );
        }
    }

    for (row, (message, text)) in selected.messages.iter().zip(&labels).enumerate() {
        let y = first_row + row * ROW_H;
        let (x1, x2) = (x(&message.from), x(&message.to));
        let _ = writeln!(
            out,
            "<text class=\"time\" x=\"6\" y=\"{y}\">{:.3} s</text>",
            message.time
        );
        let (style, marker) = if message.lost {
            (" style=\"stroke:#c33;stroke-dasharray:5 4\"", "cross")
        } else {
            ("", "head")
        };
        if x1 == x2 {
            let _ = writeln!(
                out,
                "<path class=\"msg\" d=\"M{x1},{} h36 v12 h-36\"{style} marker-end=\"url(#{marker})\"/>\
                 <text class=\"self\" x=\"{}\" y=\"{}\">{}</text>",
                y - 6,
                x1 + 42,
                y + 4,
                escape(text)
            );
        } else {
            let _ = writeln!(
                out,
                "<line class=\"msg\" x1=\"{x1}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\"{style} marker-end=\"url(#{marker})\"/>\
                 <text class=\"label\" x=\"{}\" y=\"{}\">{}</text>",
                (x1 + x2) / 2,
                y - 5,
                escape(text)
            );
        }
    }
    let note = if selected.omitted > 0 {
        Some(format!(
            "{} more messages not drawn (--max-messages)",
            selected.omitted
        ))
    } else if participants.is_empty() {
        Some("no messages".to_string())
    } else {
        None
    };
    if let Some(note) = note {
        let y = first_row + selected.messages.len() * ROW_H;
        let _ = writeln!(
            out,
            "<text class=\"note\" x=\"{}\" y=\"{y}\">{}</text>",
            TIME_W + 6,
            escape(&note)
        );
    }
    out.push_str("</svg>\n");
    out
}

/// The XML declaration and the opening `<svg>` tag of a `width` x `height` document.
pub(super) fn open(width: usize, height: usize) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n"
    )
}

/// Text safe in XML content and attribute values; characters XML 1.0 forbids become spaces.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\u{FFFE}' | '\u{FFFF}' => out.push(' '),
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a<b>&\"c'\u{1}"), "a&lt;b&gt;&amp;&quot;c&apos; ");
    }
}
