//! HTML renderings of analysis results: one self-contained file per
//! report (styles inline, charts as inline SVG, no script, no network),
//! so it opens offline and can be mailed or attached to a ticket.
//!
//! [`Page`] builds the document; every piece of text given to it is
//! escaped, so names that come from traces (models, requests, users,
//! collections) always show as text. Charts come from [`charts`] as
//! [`Figure`]s, whose SVG escapes its text in turn. The
//! page also forbids scripts and remote loads with a Content Security
//! Policy, as a second line of defence.
//!
//! ```
//! use ragtrace::analysis::html::{Page, Table};
//!
//! let mut page = Page::new("Cost report");
//! page.section("Models");
//! let mut table = Table::new(["Model", "Cost"]).numeric(1);
//! table.row(["<b>gpt</b>", "$0.0012"]);
//! page.table(&table);
//! let html = page.render();
//! assert!(html.contains("&lt;b&gt;gpt&lt;/b&gt;"));
//! ```

pub mod charts;
mod drift;
mod report;

use std::fmt::Write as _;

use charts::{Figure, Swatch};
pub use drift::drift_html;
pub use report::report_html;

/// `text` escaped for HTML text and for quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab and newline have no place
            // in a page; show them as the replacement character.
            c if c.is_control() && c != '\t' && c != '\n' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// How a notice is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Level {
    /// Neutral information.
    Info,
    /// Something to look at.
    Warn,
    /// Something wrong.
    Alert,
}

impl Level {
    fn class(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Alert => "alert",
        }
    }
}

/// A table of text cells; columns can be right-aligned numbers or
/// monospaced identifiers.
#[derive(Debug, Clone, Default)]
pub struct Table {
    headers: Vec<String>,
    numeric: Vec<bool>,
    mono: Vec<bool>,
    nowrap: Vec<bool>,
    rows: Vec<(Option<Level>, Vec<String>)>,
}

impl Table {
    /// A table with these column headers.
    pub fn new<I, S>(headers: I) -> Table
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let headers: Vec<String> = headers.into_iter().map(Into::into).collect();
        let n = headers.len();
        Table {
            headers,
            numeric: vec![false; n],
            mono: vec![false; n],
            nowrap: vec![false; n],
            rows: Vec::new(),
        }
    }

    /// Right-aligns column `index` (numbers, money).
    pub fn numeric(mut self, index: usize) -> Table {
        if let Some(flag) = self.numeric.get_mut(index) {
            *flag = true;
        }
        self
    }

    /// Shows column `index` in a monospaced font (trace ids).
    pub fn mono(mut self, index: usize) -> Table {
        if let Some(flag) = self.mono.get_mut(index) {
            *flag = true;
        }
        self
    }

    /// Keeps column `index` on one line (dates, times).
    pub fn nowrap(mut self, index: usize) -> Table {
        if let Some(flag) = self.nowrap.get_mut(index) {
            *flag = true;
        }
        self
    }

    /// Adds a row.
    pub fn row<I, S>(&mut self, cells: I) -> &mut Table
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows
            .push((None, cells.into_iter().map(Into::into).collect()));
        self
    }

    /// Adds a row highlighted at `level`.
    pub fn marked_row<I, S>(&mut self, level: Level, cells: I) -> &mut Table
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows
            .push((Some(level), cells.into_iter().map(Into::into).collect()));
        self
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// `true` if the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn write(&self, out: &mut String) {
        let classes: Vec<String> = (0..self.headers.len())
            .map(|i| {
                let names: Vec<&str> = [
                    (&self.numeric, "num"),
                    (&self.mono, "mono"),
                    (&self.nowrap, "nowrap"),
                ]
                .iter()
                .filter(|(flags, _)| flags.get(i).copied().unwrap_or(false))
                .map(|(_, name)| *name)
                .collect();
                if names.is_empty() {
                    String::new()
                } else {
                    format!(" class=\"{}\"", names.join(" "))
                }
            })
            .collect();
        let class = |i: usize| classes.get(i).map_or("", String::as_str);
        out.push_str("<div class=\"table\"><table>\n<thead><tr>");
        for (i, header) in self.headers.iter().enumerate() {
            let _ = write!(out, "<th{}>{}</th>", class(i), escape(header));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for (level, cells) in &self.rows {
            match level {
                Some(level) => {
                    let _ = write!(out, "<tr class=\"{}\">", level.class());
                }
                None => out.push_str("<tr>"),
            }
            for (i, cell) in cells.iter().enumerate() {
                let _ = write!(out, "<td{}>{}</td>", class(i), escape(cell));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody></table></div>\n");
    }
}

/// A self-contained HTML page, built in reading order.
#[derive(Debug, Clone)]
pub struct Page {
    title: String,
    subtitle: Vec<String>,
    body: String,
    open_section: bool,
}

impl Page {
    /// A page with this title (shown in the tab and as the heading).
    pub fn new(title: impl Into<String>) -> Page {
        Page {
            title: title.into(),
            subtitle: Vec::new(),
            body: String::new(),
            open_section: false,
        }
    }

    /// Adds a line under the heading (the store, the time range).
    pub fn subtitle(&mut self, text: impl AsRef<str>) -> &mut Page {
        self.subtitle.push(escape(text.as_ref()));
        self
    }

    /// Starts a section with this heading; what follows goes into it.
    pub fn section(&mut self, heading: impl AsRef<str>) -> &mut Page {
        self.close_section();
        let _ = write!(
            self.body,
            "<section>\n<h2>{}</h2>\n",
            escape(heading.as_ref())
        );
        self.open_section = true;
        self
    }

    /// A row of headline figures, each a label and a value.
    pub fn stats<I, L, V>(&mut self, stats: I) -> &mut Page
    where
        I: IntoIterator<Item = (L, V)>,
        L: AsRef<str>,
        V: AsRef<str>,
    {
        self.body.push_str("<dl class=\"stats\">\n");
        for (label, value) in stats {
            let _ = writeln!(
                self.body,
                "<div><dt>{}</dt><dd>{}</dd></div>",
                escape(label.as_ref()),
                escape(value.as_ref())
            );
        }
        self.body.push_str("</dl>\n");
        self
    }

    /// A paragraph of text.
    pub fn text(&mut self, text: impl AsRef<str>) -> &mut Page {
        let _ = writeln!(self.body, "<p>{}</p>", escape(text.as_ref()));
        self
    }

    /// A highlighted note (a verdict, a caveat).
    pub fn notice(&mut self, level: Level, text: impl AsRef<str>) -> &mut Page {
        let _ = writeln!(
            self.body,
            "<p class=\"notice {}\">{}</p>",
            level.class(),
            escape(text.as_ref())
        );
        self
    }

    /// A chart with a heading and its legend.
    pub fn figure(&mut self, heading: impl AsRef<str>, figure: &Figure) -> &mut Page {
        let _ = write!(
            self.body,
            "<figure>\n<figcaption>{}</figcaption>\n",
            escape(heading.as_ref())
        );
        if !figure.legend().is_empty() {
            self.body.push_str("<ul class=\"legend\">");
            for entry in figure.legend() {
                let (shape, paint) = match entry.swatch {
                    Swatch::Line => ("line", "background"),
                    Swatch::Dot => ("dot", "background"),
                    Swatch::Triangle => ("triangle", "border-bottom-color"),
                    _ => ("box", "background"),
                };
                let _ = write!(
                    self.body,
                    "<li><span class=\"swatch {shape}\" style=\"{paint}:{}\"></span>{}</li>",
                    escape(&entry.color),
                    escape(&entry.name)
                );
            }
            self.body.push_str("</ul>\n");
        }
        self.body.push_str(figure.svg());
        self.body.push_str("</figure>\n");
        self
    }

    /// A table.
    pub fn table(&mut self, table: &Table) -> &mut Page {
        table.write(&mut self.body);
        self
    }

    fn close_section(&mut self) {
        if self.open_section {
            self.body.push_str("</section>\n");
            self.open_section = false;
        }
    }

    /// The whole document.
    pub fn render(mut self) -> String {
        self.close_section();
        let mut out = String::with_capacity(self.body.len() + STYLE.len() + 1024);
        let title = escape(&self.title);
        out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        // No scripts, no remote anything: the page is data and styles.
        out.push_str(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n",
        );
        out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        let _ = writeln!(out, "<title>{title}</title>");
        let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
        let _ = writeln!(out, "<header>\n<h1>{title}</h1>");
        for line in &self.subtitle {
            let _ = writeln!(out, "<p class=\"sub\">{line}</p>");
        }
        out.push_str("</header>\n<main>\n");
        out.push_str(&self.body);
        let _ = write!(
            out,
            "</main>\n<footer>Generated by ragtrace {}. Money is exact; chart axes are rounded.</footer>\n</body>\n</html>\n",
            env!("CARGO_PKG_VERSION")
        );
        out
    }
}

const STYLE: &str = "
:root{color-scheme:light;--ink:#222;--muted:#666;--line:#e1e4e8;--bg:#f6f7f9}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif}
header{background:#fff;border-bottom:1px solid var(--line);padding:18px 28px}
h1{margin:0 0 4px;font-size:24px}
.sub{margin:0;color:var(--muted)}
main{max-width:1240px;margin:0 auto;padding:8px 16px 24px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:14px 20px;margin:16px 0}
h2{margin:0 0 10px;font-size:18px}
.stats{display:flex;flex-wrap:wrap;gap:12px;margin:0 0 6px}
.stats div{background:var(--bg);border-radius:6px;padding:8px 14px;min-width:130px}
.stats dt{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.stats dd{margin:0;font-size:19px;font-weight:600;font-variant-numeric:tabular-nums}
figure{margin:12px 0 18px}
figcaption{font-weight:600;margin-bottom:4px}
figure svg{display:block;width:100%;height:auto;max-width:980px}
.legend{list-style:none;margin:0 0 4px;padding:0;display:flex;flex-wrap:wrap;gap:4px 16px;font-size:13px;color:#444}
.legend li{display:flex;align-items:center;gap:6px;overflow-wrap:anywhere;min-width:0}
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;flex:none}
.swatch.line{height:3px;width:16px}
.swatch.dot{border-radius:50%}
.swatch.triangle{width:0;height:0;border-radius:0;border:6px solid transparent;border-top:0;border-bottom:11px solid}
.table{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:14px;margin:6px 0}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:break-word}
th{background:var(--bg);font-weight:600}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.nowrap{white-space:nowrap}
.mono{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:13px}
tr.info td{background:var(--bg);font-weight:600}
tr.warn td{background:#fff6e0}
tr.alert td{background:#fde8e8}
.notice{padding:8px 12px;border-radius:6px;border-left:4px solid}
.notice.info{background:#eef5fb;border-color:#0072b2}
.notice.warn{background:#fff6e0;border-color:#e69f00}
.notice.alert{background:#fde8e8;border-color:#cc2529}
.chart-error{color:#cc2529}
footer{color:var(--muted);font-size:12px;text-align:center;padding:0 0 20px}
";

#[cfg(test)]
mod tests {
    use super::*;

    const EVIL: &str = "<script>document.title='pwned'</script>\"><img src=x onerror=alert(1)>";

    #[test]
    fn escape_covers_text_and_attributes() {
        assert_eq!(
            escape("a<b>&\"c\"'d'"),
            "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;"
        );
        assert_eq!(escape("x\u{0}y\u{1b}z\n"), "x\u{FFFD}y\u{FFFD}z\n");
    }

    #[test]
    fn every_text_a_page_takes_is_escaped() {
        let mut page = Page::new(EVIL);
        page.subtitle(EVIL)
            .section(EVIL)
            .stats([(EVIL, EVIL)])
            .text(EVIL)
            .notice(Level::Alert, EVIL);
        let mut table = Table::new([EVIL, "n"]).numeric(1);
        table.row([EVIL, "1"]).marked_row(Level::Warn, [EVIL, "2"]);
        page.table(&table);
        let figure = charts::histogram(EVIL, EVIL, &[0.0, 1.0], &[1], charts::Unit::Count);
        page.figure(EVIL, &figure);
        let html = page.render();
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;document.title=&#39;pwned&#39;"));
    }

    #[test]
    fn a_page_is_one_document_with_no_remote_parts() {
        let mut page = Page::new("Report");
        page.section("A").text("one").section("B").text("two");
        let html = page.render();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert_eq!(html.matches("<section>").count(), 2);
        assert_eq!(html.matches("</section>").count(), 2);
        assert!(!html.contains("http://"));
        assert!(!html.contains("https://"));
        assert!(!html.contains("<script"));
    }
}
