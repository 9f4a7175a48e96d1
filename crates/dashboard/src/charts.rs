//! Charts drawn on the server as inline SVG: no script, no request, nothing a
//! Content-Security-Policy of `default-src 'none'` would stop (colours come from the
//! stylesheet's classes and presentation attributes, never a `style` attribute).
//!
//! Each chart is an image to assistive technology (`role="img"`) named by its `<title>` and
//! described by its `<desc>`, which says in words what the chart shows; every bar carries its
//! own `<title>` with its label and value. The page puts the chart's data table beside it, so
//! the numbers are readable by keyboard and screen reader without the picture.

use std::fmt::Write as _;

/// Drawing width and height of a chart, in SVG units (it scales to its box).
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 240.0;
/// Room for the axis labels.
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 12.0;

/// Text made safe inside SVG (HTML) elements and attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What names a chart: its element id (also the prefix of its title's and description's
/// ids), its title and its description in words.
pub struct Labels<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub desc: &'a str,
}

/// One series of a column chart: its name, the class that colours it, a value per column.
pub struct Series<'a> {
    pub name: &'a str,
    pub class: &'a str,
    pub values: Vec<u64>,
}

fn open(out: &mut String, labels: &Labels, height: f64) {
    let id = escape(labels.id);
    let _ = write!(
        out,
        "<svg id=\"{id}\" class=\"chart\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" \
         aria-labelledby=\"{id}-title {id}-desc\"><title id=\"{id}-title\">{}</title>\
         <desc id=\"{id}-desc\">{}</desc>",
        escape(labels.title),
        escape(labels.desc)
    );
}

/// A round top for an axis of values up to `max` (at least 1): 1, 2 or 5 times a power of ten.
fn axis_top(max: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [1, 2, 5] {
            if step.saturating_mul(m) >= max.max(1) {
                return step.saturating_mul(m);
            }
        }
        step = step.saturating_mul(10);
    }
}

/// Columns, one group per label, a column per series in each, with a value axis from 0 and
/// every `label_every`-th label written under its group.
pub fn columns(labels: &Labels, names: &[String], series: &[Series], label_every: usize) -> String {
    let mut out = String::new();
    open(&mut out, labels, HEIGHT);
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .max()
        .unwrap_or(0);
    let top = axis_top(max);
    let plot_h = HEIGHT - TOP - BOTTOM;
    let plot_w = WIDTH - LEFT - 8.0;
    let base = TOP + plot_h;
    // A middle line only where it falls on a whole number.
    let middle = top
        .is_multiple_of(2)
        .then_some((top / 2, TOP + plot_h / 2.0));
    for (value, y) in [Some((top, TOP)), middle, Some((0, base))]
        .into_iter()
        .flatten()
    {
        let _ = write!(
            out,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\"/>\
             <text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{value}</text>",
            WIDTH - 8.0,
            LEFT - 6.0,
            y + 4.0
        );
    }
    let groups = names.len().max(1) as f64;
    let group_w = plot_w / groups;
    let bar_w = (group_w * 0.8 / series.len().max(1) as f64).max(0.5);
    for (i, name) in names.iter().enumerate() {
        let x0 = LEFT + group_w * i as f64 + group_w * 0.1;
        for (k, s) in series.iter().enumerate() {
            let value = s.values.get(i).copied().unwrap_or(0);
            let h = plot_h * value as f64 / top as f64;
            let _ = write!(
                out,
                "<rect class=\"{}\" x=\"{:.2}\" y=\"{:.2}\" width=\"{bar_w:.2}\" height=\"{h:.2}\">\
                 <title>{}: {value} {}</title></rect>",
                escape(s.class),
                x0 + bar_w * k as f64,
                base - h,
                escape(name),
                escape(s.name)
            );
        }
        if label_every > 0 && i % label_every == 0 {
            let _ = write!(
                out,
                "<text class=\"axis\" x=\"{:.2}\" y=\"{}\">{}</text>",
                x0,
                HEIGHT - 8.0,
                escape(name)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// One bar of a bar chart: its label, its length as a share of the longest (0 to 1), and the
/// value written beside it.
pub struct Bar {
    pub label: String,
    pub share: f64,
    pub shown: String,
}

/// Horizontal bars, one per row, labelled on the left and valued on the right.
pub fn bars(labels: &Labels, rows: &[Bar], class: &str) -> String {
    let row_h = 24.0;
    let height = TOP + row_h * rows.len().max(1) as f64 + 4.0;
    let mut out = String::new();
    open(&mut out, labels, height);
    let label_w = 140.0;
    let plot_w = WIDTH - label_w - 90.0;
    for (i, bar) in rows.iter().enumerate() {
        let y = TOP + row_h * i as f64;
        let w = plot_w * bar.share.clamp(0.0, 1.0);
        let _ = write!(
            out,
            "<text class=\"axis\" x=\"{:.2}\" y=\"{:.2}\" text-anchor=\"end\">{}</text>\
             <rect class=\"{}\" x=\"{label_w}\" y=\"{y:.2}\" width=\"{w:.2}\" height=\"{:.2}\">\
             <title>{}: {}</title></rect>\
             <text class=\"axis\" x=\"{:.2}\" y=\"{:.2}\">{}</text>",
            label_w - 8.0,
            y + 15.0,
            escape(&bar.label),
            escape(class),
            row_h - 6.0,
            escape(&bar.label),
            escape(&bar.shown),
            label_w + w + 6.0,
            y + 15.0,
            escape(&bar.shown)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Labels<'static> {
        Labels {
            id: "c",
            title: "A <chart>",
            desc: "What \"it\" shows",
        }
    }

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(axis_top(0), 1);
        assert_eq!(axis_top(3), 5);
        assert_eq!(axis_top(7), 10);
        assert_eq!(axis_top(11), 20);
        assert_eq!(axis_top(499), 500);
    }

    #[test]
    fn charts_are_named_images_with_escaped_text_and_a_title_per_bar() {
        let svg = columns(
            &labels(),
            &["1 May".into(), "2 May".into()],
            &[Series {
                name: "created",
                class: "s1",
                values: vec![4, 0],
            }],
            1,
        );
        assert!(svg.starts_with("<svg id=\"c\""), "{svg}");
        assert!(svg.contains("role=\"img\" aria-labelledby=\"c-title c-desc\""));
        assert!(svg.contains("<title id=\"c-title\">A &lt;chart&gt;</title>"));
        assert!(svg.contains("What &quot;it&quot; shows"));
        assert!(svg.contains("<title>1 May: 4 created</title>"));
        assert!(!svg.contains("style="), "no style attributes under the CSP");
        let svg = bars(
            &labels(),
            &[Bar {
                label: "ups<".into(),
                share: 2.0,
                shown: "50%".into(),
            }],
            "s2",
        );
        assert!(svg.contains("<title>ups&lt;: 50%</title>"), "{svg}");
        assert!(
            svg.contains("width=\"490.00\""),
            "a share over 1 is a full bar: {svg}"
        );
    }
}
