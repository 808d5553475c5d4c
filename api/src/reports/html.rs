//! Self-contained report pages: plotly.js embedded once (no CDN, no
//! MathJax), the chart, and the data as a table under it.

use super::{DepartmentsAboveMean, HiresByQuarter};
use plotly::common::{Mode, Title};
use plotly::layout::{Axis, Margin};
use plotly::{Bar, HeatMap, Layout, Plot, Scatter};
use std::fmt::Write as _;
use std::sync::LazyLock;

/// plotly.js alone: the first script of plotly's offline sources (the second
/// is MathJax, which these charts do not use).
static PLOTLY_JS: LazyLock<String> = LazyLock::new(|| {
    let sources = Plot::offline_js_sources();
    let end = sources
        .find("</script>")
        .map_or(sources.len(), |i| i + "</script>".len());
    sources[..end].to_owned()
});

pub fn hires_by_quarter_html(report: &HiresByQuarter) -> String {
    // Plotly draws a heatmap's first row at the bottom: reverse, so the page
    // reads top-down in the table's order.
    let labels: Vec<String> = report
        .rows
        .iter()
        .rev()
        .map(|r| format!("{} · {}", r.department, r.job))
        .collect();
    let z: Vec<Vec<i64>> = report
        .rows
        .iter()
        .rev()
        .map(|r| vec![r.q1, r.q2, r.q3, r.q4])
        .collect();
    let quarters = vec!["Q1", "Q2", "Q3", "Q4"];
    let mut plot = Plot::new();
    plot.add_trace(HeatMap::new(quarters, labels, z).name("hires"));
    let height = 160 + 22 * report.rows.len().max(8);
    plot.set_layout(
        Layout::new()
            .title(Title::with_text(format!(
                "Hires per department and job by quarter, {}",
                report.year
            )))
            .x_axis(
                Axis::new()
                    .title(Title::with_text("Quarter (UTC)"))
                    .side(plotly::common::AxisSide::Top),
            )
            .y_axis(Axis::new().title(Title::with_text("Department · job")))
            .height(height)
            .margin(Margin::new().left(320).top(140)),
    );
    let mut table = String::from(
        "<table><thead><tr><th>Department</th><th>Job</th><th>Q1</th><th>Q2</th><th>Q3</th><th>Q4</th></tr></thead><tbody>",
    );
    for r in &report.rows {
        let _ = write!(
            table,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&r.department),
            escape(&r.job),
            r.q1,
            r.q2,
            r.q3,
            r.q4
        );
    }
    table.push_str("</tbody></table>");
    page(
        &format!("Hires by quarter, {}", report.year),
        &format!(
            "Employees hired in {} per department and job, in each quarter by UTC hiring date; \
             only pairs with at least one hire.",
            report.year
        ),
        &plot.to_inline_html(Some("req1-chart")),
        report.rows.is_empty(),
        &table,
    )
}

pub fn departments_above_mean_html(report: &DepartmentsAboveMean) -> String {
    let names: Vec<String> = report.rows.iter().map(|r| r.department.clone()).collect();
    let hired: Vec<i64> = report.rows.iter().map(|r| r.hired).collect();
    let mut plot = Plot::new();
    plot.add_trace(Bar::new(names.clone(), hired).name("hired"));
    plot.add_trace(
        Scatter::new(names.clone(), vec![report.mean; names.len()])
            .mode(Mode::Lines)
            .name(format!("mean ({:.2})", report.mean)),
    );
    plot.set_layout(
        Layout::new()
            .title(Title::with_text(format!(
                "Departments hiring above the mean, {}",
                report.year
            )))
            .x_axis(Axis::new().title(Title::with_text("Department")))
            .y_axis(Axis::new().title(Title::with_text("Employees hired"))),
    );
    let mut table = String::from(
        "<table><thead><tr><th>Id</th><th>Department</th><th>Hired</th></tr></thead><tbody>",
    );
    for r in &report.rows {
        let _ = write!(
            table,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            r.id,
            escape(&r.department),
            r.hired
        );
    }
    table.push_str("</tbody></table>");
    page(
        &format!("Departments above the mean, {}", report.year),
        &format!(
            "Departments that hired more than the mean of {:.2} employees per department in {} \
             (the mean is over every department, those with no hires included).",
            report.mean, report.year
        ),
        &plot.to_inline_html(Some("req2-chart")),
        report.rows.is_empty(),
        &table,
    )
}

fn page(title: &str, summary: &str, chart: &str, empty: bool, table: &str) -> String {
    let note = if empty {
        "<p><em>No rows for this year.</em></p>"
    } else {
        ""
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n\
         <style>body{{font-family:system-ui,sans-serif;margin:2rem;color:#222}}\
         table{{border-collapse:collapse;margin-top:1.5rem}}td,th{{border:1px solid #ccc;padding:.3rem .6rem}}\
         td:nth-child(n+3),th:nth-child(n+3){{text-align:right}}</style>\n{js}\n</head>\n<body>\n\
         <h1>{title}</h1>\n<p>{summary}</p>\n{chart}\n{note}{table}\n</body>\n</html>\n",
        title = escape(title),
        summary = escape(summary),
        js = *PLOTLY_JS,
        chart = guard_script(chart),
    )
}

/// Keeps data inside the chart's `<script>`: a `</` in a name would
/// otherwise end the script early. `<\/` means the same in JavaScript.
fn guard_script(chart: &str) -> String {
    let Some(open) = chart.find("<script") else {
        return chart.to_owned();
    };
    let Some(close) = chart.rfind("</script>") else {
        return chart.to_owned();
    };
    let body_start = chart[open..].find('>').map_or(open, |i| open + i + 1);
    if body_start > close {
        return chart.to_owned();
    }
    format!(
        "{}{}{}",
        &chart[..body_start],
        chart[body_start..close].replace("</", "<\\/"),
        &chart[close..]
    )
}

/// `text` safe inside HTML text and quoted attributes.
pub(crate) fn escape(text: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::{DepartmentHires, QuarterHires};

    #[test]
    fn pages_embed_plotly_once_without_cdn_or_mathjax_and_escape_names() {
        let report = HiresByQuarter {
            year: 2021,
            rows: vec![QuarterHires {
                department: "</script><b>x".to_owned(),
                job: "A & B".to_owned(),
                q1: 1,
                q2: 0,
                q3: 0,
                q4: 2,
            }],
        };
        let html = hires_by_quarter_html(&report);
        assert_eq!(
            html.matches("<script").count(),
            2,
            "plotly.js and the chart"
        );
        for tag in html.split("<script").skip(1) {
            let opening = &tag[..tag.find('>').unwrap()];
            assert!(
                !opening.contains("src"),
                "a script loads from elsewhere: {opening}"
            );
        }
        assert!(
            !html.contains("SVGWrapper") && !html.contains("TeXFont"),
            "no MathJax"
        );
        assert!(
            html.len() < 5_000_000,
            "plotly.js once: {} bytes",
            html.len()
        );
        assert!(html.contains("&lt;/script&gt;&lt;b&gt;x"));
        assert!(html.contains("A &amp; B"));
        assert!(html.contains("2021"));
        let chart_script = &html[html.rfind("<script").unwrap()..];
        assert_eq!(
            chart_script.matches("</script>").count(),
            1,
            "{chart_script}"
        );

        let page2 = departments_above_mean_html(&DepartmentsAboveMean {
            year: 2021,
            mean: 1.5,
            rows: vec![DepartmentHires {
                id: 1,
                department: "Sales".to_owned(),
                hired: 3,
            }],
        });
        assert!(page2.contains("mean (1.50)"));
        assert!(page2.contains("<td>Sales</td>"));
    }
}
