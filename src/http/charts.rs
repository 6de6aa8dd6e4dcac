//! Charts the pages draw, as inline SVG (presentation attributes only: the pages' CSP allows no
//! inline style): columns for days, bars for categories. Each chart is an image with a title and
//! a description; the figures are always also given as a table and as CSV.

use std::fmt::Write;

use crate::mail::html_escape;

/// DSFR's "bleu France".
const BLUE: &str = "#000091";
const GREY: &str = "#666666";
const INK: &str = "#161616";

/// Vertical columns, one per point (e.g. a day), labels under every `step`-th.
pub fn columns(id: &str, title: &str, points: &[(String, u64)]) -> String {
    let (w, h, left, bottom, top) = (720.0, 220.0, 40.0, 40.0, 10.0);
    let max = points.iter().map(|p| p.1).max().unwrap_or(0).max(1) as f64;
    let n = points.len().max(1) as f64;
    let slot = (w - left) / n;
    let mut svg = String::new();
    let desc = points
        .iter()
        .map(|(l, v)| format!("{l} : {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" role="img" aria-labelledby="{id}-t {id}-d"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        html_escape(title),
        html_escape(&desc)
    );
    let base = h - bottom;
    let _ = write!(
        svg,
        r#"<line x1="{left}" y1="{base}" x2="{w}" y2="{base}" stroke="{GREY}" stroke-width="1"/><text x="{}" y="{}" font-size="11" text-anchor="end" fill="{GREY}">{}</text><text x="{}" y="{base}" font-size="11" text-anchor="end" fill="{GREY}">0</text>"#,
        left - 4.0,
        top + 10.0,
        max as u64,
        left - 4.0
    );
    let step = (points.len() / 8).max(1);
    for (i, (label, v)) in points.iter().enumerate() {
        let bh = (*v as f64 / max) * (base - top);
        let x = left + i as f64 * slot;
        let _ = write!(
            svg,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{BLUE}"/>"#,
            x + slot * 0.15,
            base - bh,
            slot * 0.7,
            bh
        );
        if i % step == 0 {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{}" font-size="11" text-anchor="middle" fill="{GREY}">{}</text>"#,
                x + slot / 2.0,
                base + 16.0,
                html_escape(label)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars, one per category, labelled with their name and figure.
pub fn bars(id: &str, title: &str, rows: &[(String, u64)]) -> String {
    let (w, row, label_w) = (720.0, 24.0, 300.0);
    let h = row * rows.len().max(1) as f64 + 8.0;
    let max = rows.iter().map(|p| p.1).max().unwrap_or(0).max(1) as f64;
    let desc = rows
        .iter()
        .map(|(l, v)| format!("{l} : {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" role="img" aria-labelledby="{id}-t {id}-d"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        html_escape(title),
        html_escape(&desc)
    );
    for (i, (label, v)) in rows.iter().enumerate() {
        let y = 4.0 + i as f64 * row;
        let bw = (*v as f64 / max) * (w - label_w - 60.0);
        let shown: String = label.chars().take(42).collect();
        let _ = write!(
            svg,
            r#"<text x="{}" y="{:.1}" font-size="12" text-anchor="end" fill="{INK}">{}</text><rect x="{label_w}" y="{:.1}" width="{bw:.1}" height="{:.1}" fill="{BLUE}"/><text x="{:.1}" y="{:.1}" font-size="12" fill="{INK}">{v}</text>"#,
            label_w - 6.0,
            y + row * 0.65,
            html_escape(&shown),
            y + 3.0,
            row - 6.0,
            label_w + bw + 6.0,
            y + row * 0.65
        );
    }
    svg.push_str("</svg>");
    svg
}

/// One CSV field, quoted when it must be (RFC 4180).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r', ';']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_titled_images_with_their_figures() {
        let svg = bars(
            "c",
            "Par contrat",
            &[("Stage".into(), 3), ("Apprentissage <A&B>".into(), 1)],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(
            svg.contains(r#"role="img""#) && svg.contains("<title id=\"c-t\">Par contrat</title>")
        );
        assert!(svg.contains("Stage : 3, Apprentissage &lt;A&amp;B&gt; : 1"));
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(!svg.contains("style="));
        let svg = columns("d", "Vues", &[("01/12".into(), 0), ("02/12".into(), 5)]);
        assert_eq!(svg.matches("<rect").count(), 2);
        assert_eq!(csv_field("a,b \"c\""), "\"a,b \"\"c\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}
