//! A tiny SVG line chart: axes with round ticks, one polyline per series (straight or in
//! steps), optional dots, a legend when the series are few. Pure: data in, SVG text out, no
//! file and no crate. Browsers open the result; the scenario runner writes three of them.

use std::fmt::Write as _;

/// One line of the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// What to draw.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Hold each value until the next point (a count over time), instead of a straight line.
    pub steps: bool,
    /// A dot on every point (few points, such as one per peer).
    pub dots: bool,
}

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 440.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 56.0;
const COLOURS: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];
/// More series than this and the legend gives only their number.
const LEGEND_MAX: usize = 14;

/// A round step for about `count` ticks over `0..max`: 1, 2 or 5 times a power of ten.
fn tick_step(max: f64, count: f64) -> f64 {
    let raw = (max / count).max(f64::MIN_POSITIVE);
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power)
}

fn number(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

/// Escapes text for XML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Chart {
    /// The SVG document.
    pub fn to_svg(&self) -> String {
        let points = self.series.iter().flat_map(|s| s.points.iter());
        let (x_max, y_max) = points.fold((0.0f64, 0.0f64), |(x, y), p| (x.max(p.0), y.max(p.1)));
        let x_step = tick_step(if x_max > 0.0 { x_max } else { 1.0 }, 8.0);
        let y_step = tick_step(if y_max > 0.0 { y_max } else { 1.0 }, 6.0);
        let x_top = (x_max / x_step).ceil().max(1.0) * x_step;
        let y_top = (y_max / y_step).ceil().max(1.0) * y_step;
        let plot_w = WIDTH - LEFT - RIGHT;
        let plot_h = HEIGHT - TOP - BOTTOM;
        let sx = |x: f64| LEFT + x / x_top * plot_w;
        let sy = |y: f64| TOP + plot_h - y / y_top * plot_h;

        let mut svg = String::new();
        let _ = writeln!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="22" text-anchor="middle" font-size="15" font-weight="bold">{}</text>"#,
            LEFT + plot_w / 2.0,
            escape(&self.title)
        );
        // Grid and ticks.
        let mut x = 0.0;
        while x <= x_top + x_step / 2.0 {
            let px = sx(x);
            let _ = writeln!(
                svg,
                r##"<line x1="{px:.1}" y1="{TOP}" x2="{px:.1}" y2="{:.1}" stroke="#eee"/><text x="{px:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
                TOP + plot_h,
                TOP + plot_h + 16.0,
                number(x)
            );
            x += x_step;
        }
        let mut y = 0.0;
        while y <= y_top + y_step / 2.0 {
            let py = sy(y);
            let _ = writeln!(
                svg,
                r##"<line x1="{LEFT}" y1="{py:.1}" x2="{:.1}" y2="{py:.1}" stroke="#eee"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
                LEFT + plot_w,
                LEFT - 6.0,
                py + 4.0,
                number(y)
            );
            y += y_step;
        }
        let _ = writeln!(
            svg,
            r##"<path d="M{LEFT},{TOP} V{:.1} H{:.1}" fill="none" stroke="#333"/>"##,
            TOP + plot_h,
            LEFT + plot_w
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            LEFT + plot_w / 2.0,
            HEIGHT - 16.0,
            escape(&self.x_label)
        );
        let _ = writeln!(
            svg,
            r#"<text transform="translate(16,{:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
            TOP + plot_h / 2.0,
            escape(&self.y_label)
        );
        // The series.
        for (i, series) in self.series.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let mut d = String::new();
            let mut last: Option<(f64, f64)> = None;
            for &(x, y) in &series.points {
                match last {
                    None => {
                        let _ = write!(d, "M{:.1},{:.1}", sx(x), sy(y));
                    }
                    Some((_, ly)) if self.steps => {
                        let _ =
                            write!(d, " L{:.1},{:.1} L{:.1},{:.1}", sx(x), sy(ly), sx(x), sy(y));
                    }
                    Some(_) => {
                        let _ = write!(d, " L{:.1},{:.1}", sx(x), sy(y));
                    }
                }
                last = Some((x, y));
            }
            let _ = writeln!(
                svg,
                r#"<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.8"><title>{}</title></path>"#,
                escape(&series.name)
            );
            if self.dots {
                for &(x, y) in &series.points {
                    let _ = writeln!(
                        svg,
                        r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"/>"#,
                        sx(x),
                        sy(y)
                    );
                }
            }
        }
        // The legend.
        let lx = LEFT + plot_w + 14.0;
        if self.series.len() <= LEGEND_MAX {
            for (i, series) in self.series.iter().enumerate() {
                let ly = TOP + 8.0 + i as f64 * 18.0;
                let _ = writeln!(
                    svg,
                    r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{}" stroke-width="3"/><text x="{}" y="{}">{}</text>"#,
                    lx + 18.0,
                    COLOURS[i % COLOURS.len()],
                    lx + 24.0,
                    ly + 4.0,
                    escape(&series.name)
                );
            }
        } else {
            let _ = writeln!(
                svg,
                r#"<text x="{lx}" y="{}">{} lines (hover for names)</text>"#,
                TOP + 12.0,
                self.series.len()
            );
        }
        svg.push_str("</svg>\n");
        svg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(10.0, 5.0), 2.0);
        assert_eq!(tick_step(73.0, 8.0), 10.0);
        assert_eq!(tick_step(0.7, 6.0), 0.2);
    }

    #[test]
    fn a_chart_has_one_path_per_series_steps_and_escaped_names() {
        let chart = Chart {
            title: "pieces <held>".into(),
            x_label: "s".into(),
            y_label: "pieces".into(),
            series: vec![
                Series {
                    name: "a&b".into(),
                    points: vec![(0.0, 0.0), (1.0, 2.0), (2.0, 4.0)],
                },
                Series {
                    name: "c".into(),
                    points: vec![(0.5, 1.0)],
                },
            ],
            steps: true,
            dots: true,
        };
        let svg = chart.to_svg();
        assert_eq!(
            svg.matches("<path d=\"M").count(),
            3,
            "two series and the axes"
        );
        assert!(svg.contains("pieces &lt;held&gt;") && svg.contains("a&amp;b"));
        assert_eq!(svg.matches("<circle").count(), 4);
        // A step: horizontal to the new x at the old y, then up.
        let first = svg
            .lines()
            .find(|l| l.contains("<title>a&amp;b"))
            .expect("series a");
        assert!(first.matches(" L").count() == 4, "{first}");
        assert!(svg.ends_with("</svg>\n"));
    }
}
