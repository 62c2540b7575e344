//! Charts drawn on the server as SVG: nothing to build, nothing to load in
//! the browser, and a page that prints.
//!
//! One chart type covers the dashboard's needs: days along the x axis, bars
//! for a count (calls a day) and lines for figures (shares, scores), with
//! optional dashed reference lines (a cap, a profile's limit). Missing
//! values (`None`: nothing to measure that day) break a line rather than
//! drawing a false zero.

use std::fmt::Write;

use super::esc;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 40.0;

/// One series of a chart.
pub struct Series {
    pub name: String,
    pub color: &'static str,
    pub values: Vec<Option<f64>>,
    pub kind: Kind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bars,
    Line,
}

/// A horizontal reference line.
pub struct Rule {
    pub name: String,
    pub value: f64,
    pub color: &'static str,
}

/// A chart of one value per day.
pub struct Chart {
    pub id: String,
    pub title: String,
    /// One label per day (`03-02`).
    pub days: Vec<String>,
    pub series: Vec<Series>,
    pub rules: Vec<Rule>,
    /// The top of the y axis; the data's maximum (with room) when `None`.
    pub y_max: Option<f64>,
    /// Values are shares (0..1), shown as percentages.
    pub percent: bool,
}

impl Chart {
    fn top(&self) -> f64 {
        if let Some(max) = self.y_max {
            return max;
        }
        let data = self
            .series
            .iter()
            .flat_map(|s| s.values.iter().flatten().copied())
            .chain(self.rules.iter().map(|r| r.value))
            .fold(0.0_f64, f64::max);
        nice_ceiling(data.max(1.0))
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let n = self.days.len().max(1);
        let plot_w = WIDTH - LEFT - RIGHT;
        let plot_h = HEIGHT - TOP - BOTTOM;
        let step = plot_w / n as f64;
        let top = self.top();
        let x = |i: usize| LEFT + step * (i as f64 + 0.5);
        let y = |v: f64| TOP + plot_h - (v.clamp(0.0, top) / top) * plot_h;
        let fmt_y = |v: f64| {
            if self.percent {
                format!("{:.0}%", v * 100.0)
            } else if v.fract() == 0.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            }
        };
        let _ = write!(
            out,
            r#"<svg class="chart" id="{id}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{id}-title"><title id="{id}-title">{title}</title>"#,
            id = self.id,
            title = esc(&self.title),
        );
        let _ = write!(
            out,
            r##"<text x="{LEFT}" y="16" class="chart-title" font-size="13" font-weight="600" fill="#222">{}</text>"##,
            esc(&self.title)
        );
        for i in 0..=4 {
            let v = top * f64::from(i) / 4.0;
            let _ = write!(
                out,
                r##"<line x1="{LEFT}" x2="{x2}" y1="{yy:.1}" y2="{yy:.1}" stroke="#e3e3e3"/><text x="{tx}" y="{ty:.1}" font-size="10" text-anchor="end" fill="#666">{label}</text>"##,
                x2 = WIDTH - RIGHT,
                yy = y(v),
                tx = LEFT - 4.0,
                ty = y(v) + 3.0,
                label = fmt_y(v),
            );
        }
        let label_every = n.div_ceil(10).max(1);
        for (i, day) in self.days.iter().enumerate() {
            if i % label_every == 0 || i + 1 == n {
                let _ = write!(
                    out,
                    r##"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="#666">{}</text>"##,
                    x(i),
                    TOP + plot_h + 14.0,
                    esc(day)
                );
            }
        }
        let bar_series: Vec<&Series> = self.series.iter().filter(|s| s.kind == Kind::Bars).collect();
        let bar_w = (step * 0.8) / bar_series.len().max(1) as f64;
        for (k, series) in bar_series.iter().enumerate() {
            for (i, v) in series.values.iter().enumerate() {
                let Some(v) = v else { continue };
                let bx = x(i) - step * 0.4 + bar_w * k as f64;
                let _ = write!(
                    out,
                    r#"<rect class="bar" x="{bx:.1}" y="{by:.1}" width="{bar_w:.1}" height="{bh:.1}" fill="{c}"><title>{name} {day}: {val}</title></rect>"#,
                    by = y(*v),
                    bh = (TOP + plot_h - y(*v)).max(0.0),
                    c = series.color,
                    name = esc(&series.name),
                    day = esc(&self.days[i]),
                    val = fmt_y(*v),
                );
            }
        }
        for rule in &self.rules {
            let _ = write!(
                out,
                r#"<line class="rule" x1="{LEFT}" x2="{x2}" y1="{yy:.1}" y2="{yy:.1}" stroke="{c}" stroke-dasharray="5 4"><title>{name}: {val}</title></line>"#,
                x2 = WIDTH - RIGHT,
                yy = y(rule.value),
                c = rule.color,
                name = esc(&rule.name),
                val = fmt_y(rule.value),
            );
        }
        for series in self.series.iter().filter(|s| s.kind == Kind::Line) {
            let mut path = String::new();
            let mut pen_down = false;
            for (i, v) in series.values.iter().enumerate() {
                match v {
                    Some(v) => {
                        let _ = write!(path, "{}{:.1},{:.1} ", if pen_down { "L" } else { "M" }, x(i), y(*v));
                        pen_down = true;
                    }
                    None => pen_down = false,
                }
            }
            if !path.is_empty() {
                let _ = write!(
                    out,
                    r#"<path class="line" d="{}" fill="none" stroke="{}" stroke-width="2"><title>{}</title></path>"#,
                    path.trim_end(),
                    series.color,
                    esc(&series.name)
                );
            }
        }
        // Legend along the bottom.
        let mut lx = LEFT;
        let ly = HEIGHT - 8.0;
        let legend = self
            .series
            .iter()
            .map(|s| (s.name.as_str(), s.color, false))
            .chain(self.rules.iter().map(|r| (r.name.as_str(), r.color, true)));
        for (name, color, dashed) in legend {
            let dash = if dashed { r#" stroke-dasharray="5 4""# } else { "" };
            let _ = write!(
                out,
                r##"<line x1="{lx:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{color}" stroke-width="3"{dash}/><text x="{:.1}" y="{ly:.1}" font-size="10" fill="#333">{}</text>"##,
                lx + 14.0,
                ly - 3.0,
                ly - 3.0,
                lx + 18.0,
                esc(name)
            );
            lx += 26.0 + 6.0 * name.chars().count() as f64;
        }
        out.push_str("</svg>");
        out
    }
}

/// The smallest of 4, 8, 20, 40, 80, 200, … at or above `v`: each divides
/// into the axis's four steps as whole numbers.
fn nice_ceiling(v: f64) -> f64 {
    if !v.is_finite() {
        return 4.0;
    }
    let mut magnitude = 1.0;
    loop {
        for m in [4.0, 8.0, 20.0] {
            if m * magnitude >= v {
                return m * magnitude;
            }
        }
        magnitude *= 10.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(values: Vec<Option<f64>>) -> Chart {
        Chart {
            id: "calls".into(),
            title: "Calls <a day>".into(),
            days: (1..=values.len()).map(|d| format!("03-{d:02}")).collect(),
            series: vec![
                Series {
                    name: "calls".into(),
                    color: "#4a7bd0",
                    values: values.clone(),
                    kind: Kind::Bars,
                },
                Series {
                    name: "answer rate".into(),
                    color: "#2a9d55",
                    values,
                    kind: Kind::Line,
                },
            ],
            rules: vec![Rule {
                name: "cap".into(),
                value: 40.0,
                color: "#c0392b",
            }],
            y_max: None,
            percent: false,
        }
    }

    #[test]
    fn draws_a_bar_per_measured_day_and_breaks_lines_at_gaps() {
        let svg = chart(vec![Some(10.0), None, Some(30.0), Some(20.0)]).render();
        assert_eq!(svg.matches(r#"class="bar""#).count(), 3);
        let path = svg
            .split(r#"class="line" d=""#)
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(path.matches('M').count(), 2, "the missing day lifts the pen: {path}");
        assert!(svg.contains(r#"class="rule""#));
        assert!(svg.contains("Calls &lt;a day&gt;"), "titles are escaped");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }

    #[test]
    fn the_axis_tops_out_at_a_round_number_above_data_and_rules() {
        assert_eq!(chart(vec![Some(10.0)]).top(), 40.0, "the cap rule at 40 sets the scale");
        assert_eq!(chart(vec![Some(130.0)]).top(), 200.0);
        for (data, top) in [
            (0.0, 4.0),
            (3.0, 4.0),
            (5.0, 8.0),
            (9.0, 20.0),
            (41.0, 80.0),
            (150.0, 200.0),
            (201.0, 400.0),
        ] {
            assert_eq!(nice_ceiling(data), top, "{data}");
            assert_eq!((top / 4.0).fract(), 0.0, "whole-number steps for {data}");
        }
    }
}
