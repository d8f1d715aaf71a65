//! Plain-text output: tables that fit the terminal, numbers people read
//! at a glance, and strings from traces made safe for a terminal.

use std::io::IsTerminal as _;
use std::time::Duration;

use ragtrace::pricing::Usd;

/// The width to fit: `COLUMNS` if set, else 80.
pub fn width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|w| (40..=1000).contains(w))
        .unwrap_or(80)
}

/// Whether to colour: stdout is a terminal and `NO_COLOR` is unset or empty.
pub fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

pub use ragtrace::analysis::text::terminal_safe as safe;

/// `text` cut to `max` characters, the cut marked with `…`.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

pub use ragtrace::analysis::text::thousands as count;

/// Exact dollars: `$0.0002275`.
pub fn money(usd: Usd) -> String {
    format!("${usd}")
}

/// `812 µs`, `12.1 ms`, `3.40 s`, `2m 05s`.
pub fn duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 0.001 {
        format!("{} µs", d.as_micros())
    } else if secs < 1.0 {
        format!("{:.1} ms", secs * 1000.0)
    } else if secs < 60.0 {
        format!("{secs:.2} s")
    } else {
        format!("{}m {:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

/// Alignment of a column.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A column: header, alignment, and whether it may shrink to fit.
pub struct Column {
    pub header: &'static str,
    pub align: Align,
    /// Shrinks (down to its header) when the table is too wide.
    pub flexible: bool,
}

impl Column {
    pub fn left(header: &'static str) -> Column {
        Column {
            header,
            align: Align::Left,
            flexible: false,
        }
    }
    pub fn right(header: &'static str) -> Column {
        Column {
            header,
            align: Align::Right,
            flexible: false,
        }
    }
    pub fn flex(header: &'static str) -> Column {
        Column {
            header,
            align: Align::Left,
            flexible: true,
        }
    }
}

/// Renders rows under `columns` in at most `width` characters where it
/// can: flexible columns shrink, their text cut with `…`.
pub fn table(columns: &[Column], rows: &[Vec<String>], width: usize) -> String {
    // A flexible column with nothing in it (every cell `-`) is left out.
    let keep: Vec<usize> = (0..columns.len())
        .filter(|&i| {
            !columns[i].flexible
                || rows.is_empty()
                || rows.iter().any(|r| r.get(i).is_some_and(|c| c != "-"))
        })
        .collect();
    let columns: Vec<&Column> = keep.iter().map(|&i| &columns[i]).collect();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            keep.iter()
                .map(|&i| r.get(i).cloned().unwrap_or_default())
                .collect()
        })
        .collect();
    let n = columns.len();
    let mut widths: Vec<usize> = columns.iter().map(|c| c.header.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate().take(n) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    // Two spaces between columns, one when that is what makes it fit.
    let natural: usize = widths.iter().sum();
    let gap = if natural + 2 * n.saturating_sub(1) > width {
        1
    } else {
        2
    };
    let total = |w: &[usize]| w.iter().sum::<usize>() + gap * n.saturating_sub(1);
    // Shrink the widest flexible column, one character at a time.
    while total(&widths) > width {
        let widest = (0..n)
            .filter(|&i| {
                columns[i].flexible && widths[i] > columns[i].header.chars().count().max(4)
            })
            .max_by_key(|&i| widths[i]);
        match widest {
            Some(i) => widths[i] -= 1,
            None => break,
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[String]| {
        let mut text = String::new();
        for (i, column) in columns.iter().enumerate() {
            let cell = cut(cells.get(i).map_or("", String::as_str), widths[i]);
            let pad = widths[i] - cell.chars().count();
            if i > 0 {
                text.push_str(&" ".repeat(gap));
            }
            match column.align {
                Align::Left => {
                    text.push_str(&cell);
                    text.extend(std::iter::repeat_n(' ', pad));
                }
                Align::Right => {
                    text.extend(std::iter::repeat_n(' ', pad));
                    text.push_str(&cell);
                }
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    let headers: Vec<String> = columns.iter().map(|c| c.header.to_owned()).collect();
    line(&mut out, &headers);
    for row in &rows {
        line(&mut out, row);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_text() {
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(safe("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(duration(Duration::from_micros(12_100)), "12.1 ms");
    }

    #[test]
    fn tables_fit_by_shrinking_flexible_columns() {
        let columns = [Column::flex("name"), Column::right("cost")];
        let rows = vec![vec!["x".repeat(100), "$1".to_owned()]];
        let text = table(&columns, &rows, 40);
        assert!(text.lines().all(|l| l.chars().count() <= 40), "{text}");
        assert!(text.contains('…'));
    }
}
