//! Terminal escapes in log lines: SGR colours and weights (16, 256 and 24-bit colours, bold,
//! dim, italic, underline) become styled runs; every other escape and control character is
//! removed. The result is text and styles only: nothing in a line is ever markup.

/// A colour as the program asked for it: one of the 256 palette entries, or 24-bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Palette(u8),
    Rgb(u8, u8, u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    pub fg: Option<Color>,
    pub bg: Option<Color>,
    pub bold: bool,
    pub dim: bool,
    pub italic: bool,
    pub underline: bool,
}

impl Style {
    pub fn is_plain(&self) -> bool {
        *self == Style::default()
    }

    /// The CSS classes of the 16 themed colours and the weights (see `.log-view` in the CSS).
    pub fn classes(&self) -> String {
        let mut classes = Vec::new();
        if let Some(Color::Palette(n @ 0..=15)) = self.fg {
            classes.push(format!("ansi-fg{n}"));
        }
        if let Some(Color::Palette(n @ 0..=15)) = self.bg {
            classes.push(format!("ansi-bg{n}"));
        }
        for (on, class) in [
            (self.bold, "ansi-bold"),
            (self.dim, "ansi-dim"),
            (self.italic, "ansi-italic"),
            (self.underline, "ansi-underline"),
        ] {
            if on {
                classes.push(class.to_string());
            }
        }
        classes.join(" ")
    }

    /// The colours beyond the themed 16, as CSS colours (set through the style object, never
    /// as markup).
    pub fn inline_colors(&self) -> (Option<String>, Option<String>) {
        (self.fg.and_then(css_color), self.bg.and_then(css_color))
    }
}

/// `#rrggbb` for palette entries 16–255 (xterm's cube and grey ramp) and 24-bit colours.
fn css_color(color: Color) -> Option<String> {
    let (r, g, b) = match color {
        Color::Palette(0..=15) => return None,
        Color::Palette(n @ 16..=231) => {
            let n = n - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            (level(n / 36), level((n / 6) % 6), level(n % 6))
        }
        Color::Palette(n) => {
            let grey = 8 + (n - 232) * 10;
            (grey, grey, grey)
        }
        Color::Rgb(r, g, b) => (r, g, b),
    };
    Some(format!("#{r:02x}{g:02x}{b:02x}"))
}

/// A line's text without escapes, and its styles: each run covers `text[previous end..end]`.
/// No runs: all of it is plain.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Styled {
    pub text: String,
    pub runs: Vec<(usize, Style)>,
}

impl Styled {
    /// The pieces of the text with their styles, in order.
    pub fn pieces(&self) -> Vec<(usize, usize, Style)> {
        if self.runs.is_empty() {
            return vec![(0, self.text.len(), Style::default())];
        }
        let mut start = 0;
        self.runs
            .iter()
            .filter_map(|&(end, style)| {
                let piece = (start < end).then_some((start, end, style));
                start = end;
                piece
            })
            .collect()
    }
}

const ESC: char = '\u{1b}';
const BEL: char = '\u{7}';

/// Reads a line (already without its newline) that may hold escapes.
pub fn parse(line: &str) -> Styled {
    if !line.chars().any(|c| c.is_control() && c != '\t') {
        return Styled {
            text: line.to_string(),
            runs: Vec::new(),
        };
    }
    let mut text = String::with_capacity(line.len());
    let mut runs: Vec<(usize, Style)> = Vec::new();
    let mut style = Style::default();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != ESC {
            if !c.is_control() || c == '\t' {
                text.push(c);
            }
            continue;
        }
        match chars.next() {
            Some('[') => {
                let mut params = String::new();
                let mut intermediate = false;
                let mut end = None;
                for c in chars.by_ref() {
                    match c {
                        '\u{30}'..='\u{3f}' => params.push(c),
                        '\u{20}'..='\u{2f}' => intermediate = true,
                        '\u{40}'..='\u{7e}' => {
                            end = Some(c);
                            break;
                        }
                        // Not a well-formed sequence: it ends here, and so does what it held.
                        _ => break,
                    }
                }
                if end == Some('m') && !intermediate {
                    let next = apply_sgr(style, &params);
                    if next != style {
                        if !text.is_empty() || !runs.is_empty() {
                            close_run(&mut runs, text.len(), style);
                        }
                        style = next;
                    }
                }
            }
            // Strings: OSC (titles, hyperlinks), DCS, SOS, PM, APC, ended by BEL or ESC \.
            Some(']' | 'P' | 'X' | '^' | '_') => {
                while let Some(c) = chars.next() {
                    if c == BEL {
                        break;
                    }
                    if c == ESC {
                        if chars.peek() == Some(&'\\') {
                            chars.next();
                        }
                        break;
                    }
                }
            }
            // ESC, intermediates, a final character (charset selections, keypad modes …).
            Some('\u{20}'..='\u{2f}') => {
                while let Some(&c) = chars.peek() {
                    chars.next();
                    if !('\u{20}'..='\u{2f}').contains(&c) {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    if !runs.is_empty() || !style.is_plain() {
        close_run(&mut runs, text.len(), style);
    }
    if runs.iter().all(|(_, s)| s.is_plain()) {
        runs.clear();
    }
    Styled { text, runs }
}

fn close_run(runs: &mut Vec<(usize, Style)>, end: usize, style: Style) {
    match runs.last_mut() {
        Some(last) if last.1 == style => last.0 = end,
        _ => runs.push((end, style)),
    }
}

fn apply_sgr(mut style: Style, params: &str) -> Style {
    // `38:2::r:g:b` (colon sub-parameters) reads like `38;2;r;g;b` here.
    let codes: Vec<u32> = params
        .split([';', ':'])
        .map(|p| p.parse().unwrap_or(0))
        .collect();
    let mut codes = codes.iter().copied().peekable();
    while let Some(code) = codes.next() {
        match code {
            0 => style = Style::default(),
            1 => style.bold = true,
            2 => style.dim = true,
            3 => style.italic = true,
            4 => style.underline = true,
            22 => (style.bold, style.dim) = (false, false),
            23 => style.italic = false,
            24 => style.underline = false,
            30..=37 => style.fg = Some(Color::Palette((code - 30) as u8)),
            39 => style.fg = None,
            40..=47 => style.bg = Some(Color::Palette((code - 40) as u8)),
            49 => style.bg = None,
            90..=97 => style.fg = Some(Color::Palette((code - 90 + 8) as u8)),
            100..=107 => style.bg = Some(Color::Palette((code - 100 + 8) as u8)),
            38 | 48 => {
                let color = match codes.next() {
                    Some(5) => codes.next().map(|n| Color::Palette(n.min(255) as u8)),
                    Some(2) => {
                        let mut channel = || codes.next().unwrap_or(0).min(255) as u8;
                        Some(Color::Rgb(channel(), channel(), channel()))
                    }
                    _ => None,
                };
                if code == 38 {
                    style.fg = color.or(style.fg);
                } else {
                    style.bg = color.or(style.bg);
                }
            }
            _ => {}
        }
    }
    style
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fg(n: u8) -> Style {
        Style {
            fg: Some(Color::Palette(n)),
            ..Style::default()
        }
    }

    #[test]
    fn plain_lines_have_no_runs() {
        let styled = parse("chatty line 1 <b>bold</b>");
        assert_eq!(styled.text, "chatty line 1 <b>bold</b>");
        assert!(styled.runs.is_empty());
    }

    #[test]
    fn sgr_colours_become_runs() {
        let styled = parse("a \u{1b}[31mred\u{1b}[0m and \u{1b}[1;92mbright\u{1b}[m.");
        assert_eq!(styled.text, "a red and bright.");
        let bright = Style {
            bold: true,
            ..fg(10)
        };
        assert_eq!(
            styled.pieces(),
            [
                (0, 2, Style::default()),
                (2, 5, fg(1)),
                (5, 10, Style::default()),
                (10, 16, bright),
                (16, 17, Style::default()),
            ]
        );
        assert_eq!(bright.classes(), "ansi-fg10 ansi-bold");
    }

    #[test]
    fn extended_colours_are_inline_css_colours() {
        let styled = parse("\u{1b}[38;5;196mx\u{1b}[48;2;1;2;3my");
        assert_eq!(styled.text, "xy");
        let pieces = styled.pieces();
        assert_eq!(pieces[0].2.inline_colors(), (Some("#ff0000".into()), None));
        assert_eq!(
            pieces[1].2.inline_colors(),
            (Some("#ff0000".into()), Some("#010203".into()))
        );
        assert_eq!(
            parse("\u{1b}[38;5;244mg").pieces()[0].2.inline_colors().0,
            Some("#808080".into())
        );
    }

    #[test]
    fn every_other_escape_and_control_is_removed() {
        let line = "\u{1b}]0;title\u{7}\u{1b}[2J\u{1b}[1;1H\u{1b}(Bok\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\\r\u{8}\t!";
        let styled = parse(line);
        assert_eq!(styled.text, "oklink\t!");
        assert!(styled.runs.is_empty());
    }

    #[test]
    fn a_cut_sequence_does_not_swallow_the_line() {
        assert_eq!(parse("a\u{1b}[31").text, "a");
        assert_eq!(parse("\u{1b}[31;é text").text, " text");
    }
}
