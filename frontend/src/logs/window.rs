//! Which lines are drawn: those in view plus a margin, as `resources/virtual_table.rs` does for
//! rows, so that 10,000 lines cost as much to draw as 100. Unwrapped lines are one row high;
//! wrapped ones take as many rows as their length needs at the view's width (an estimate from
//! the monospace character width, exact for ASCII).

use std::sync::Arc;

use super::buffer::{LogBuffer, LogLine};

/// Must match `.log-line { height / line-height }` in style/main.css.
pub const ROW: usize = 18;
/// Rows drawn above and below the visible ones.
const OVERSCAN: usize = 30;

/// The lines a view can show: all it holds, or those that match the search.
pub trait Rows {
    fn count(&self) -> usize;
    fn at(&self, index: usize) -> Option<&Arc<LogLine>>;
}

impl Rows for LogBuffer {
    fn count(&self) -> usize {
        self.len()
    }
    fn at(&self, index: usize) -> Option<&Arc<LogLine>> {
        self.get(index)
    }
}

impl Rows for Vec<Arc<LogLine>> {
    fn count(&self) -> usize {
        self.len()
    }
    fn at(&self, index: usize) -> Option<&Arc<LogLine>> {
        self.get(index)
    }
}

/// The lines drawn, and the space (pixels) standing in for those above and below them.
#[derive(Clone, Default)]
pub struct Window {
    pub lines: Vec<Arc<LogLine>>,
    pub above: usize,
    pub below: usize,
    pub total: usize,
}

impl PartialEq for Window {
    fn eq(&self, other: &Self) -> bool {
        (self.above, self.below, self.total) == (other.above, other.below, other.total)
            && self.lines.len() == other.lines.len()
            && self
                .lines
                .iter()
                .zip(&other.lines)
                .all(|(a, b)| a.seq == b.seq)
    }
}

/// How many rows a line takes: 1, or wrapped at `columns` characters (`extra` of them taken by
/// what precedes the text: tag, timestamp).
pub fn rows_of(line: &LogLine, wrap: Option<(usize, usize)>) -> usize {
    match wrap {
        None => 1,
        Some((columns, extra)) => {
            let chars = line.text.text.len() + extra;
            1 + chars.saturating_sub(1) / columns.max(1)
        }
    }
}

/// The window of `rows` for a scroll position and viewport height (pixels).
pub fn window(
    rows: &impl Rows,
    wrap: Option<(usize, usize)>,
    scroll_top: usize,
    viewport: usize,
) -> Window {
    let total = rows.count();
    let first_row = (scroll_top / ROW).saturating_sub(OVERSCAN);
    let wanted = viewport / ROW + 2 * OVERSCAN;
    if wrap.is_none() {
        let first = first_row.min(total);
        let last = (first + wanted).min(total);
        return Window {
            lines: (first..last).filter_map(|i| rows.at(i).cloned()).collect(),
            above: first * ROW,
            below: (total - last) * ROW,
            total,
        };
    }
    let (mut above, mut drawn, mut below) = (0, 0, 0);
    let mut lines = Vec::new();
    for index in 0..total {
        let Some(line) = rows.at(index) else { break };
        let height = rows_of(line, wrap);
        if above + height <= first_row && lines.is_empty() {
            above += height;
        } else if drawn < wanted {
            drawn += height;
            lines.push(line.clone());
        } else {
            below += height;
        }
    }
    Window {
        lines,
        above: above * ROW,
        below: below * ROW,
        total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::{
        ansi,
        buffer::{LogLine, Origin},
    };

    fn lines(lengths: &[usize]) -> Vec<Arc<LogLine>> {
        let origin = Arc::new(Origin {
            pod: "p".into(),
            container: "c".into(),
        });
        lengths
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                Arc::new(LogLine {
                    seq: i as u64,
                    time: i as i64,
                    stamp: String::new(),
                    origin: origin.clone(),
                    text: ansi::parse(&"x".repeat(n)),
                })
            })
            .collect()
    }

    #[test]
    fn only_the_lines_in_view_and_a_margin_are_drawn() {
        let all = lines(&vec![10; 10_000]);
        let top = window(&all, None, 5000 * ROW, 40 * ROW);
        assert_eq!(
            top.lines.first().map(|l| l.seq),
            Some(5000 - OVERSCAN as u64)
        );
        assert_eq!(top.lines.len(), 40 + 2 * OVERSCAN);
        assert_eq!(top.above + top.lines.len() * ROW + top.below, 10_000 * ROW);
        let end = window(&all, None, 20_000 * ROW, 40 * ROW);
        assert!(end.lines.len() <= 40 + 2 * OVERSCAN);
        assert_eq!(end.below, 0);
    }

    #[test]
    fn wrapped_lines_take_the_rows_their_length_needs() {
        let all = lines(&[100, 1, 250, 0]);
        assert_eq!(rows_of(&all[0], Some((100, 0))), 1);
        assert_eq!(rows_of(&all[0], Some((100, 1))), 2);
        assert_eq!(rows_of(&all[2], Some((100, 0))), 3);
        assert_eq!(rows_of(&all[3], Some((100, 0))), 1);
        let long = lines(&vec![1000; 200]);
        let w = window(&long, Some((100, 0)), 1000 * ROW, 20 * ROW);
        // Each line is 10 rows: the window starts (scroll / 10) lines in, less the margin.
        assert_eq!(w.lines.first().map(|l| l.seq), Some(97));
        assert_eq!(w.above + w.lines.len() * 10 * ROW + w.below, 2000 * ROW);
    }
}
