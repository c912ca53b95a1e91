//! Search in the lines held: plain text (case-insensitive) unless the user asks for a regular
//! expression, which is the browser's own `RegExp` (no regex engine in the app). A pattern the
//! browser refuses is an error message, never a panic.

use js_sys::{Array, Function, JsString, Reflect, RegExp};
use wasm_bindgen::{JsCast, JsValue};

/// What the user searches for. Checked (`check`) when it changes; `compile` makes the matcher a
/// pass over the lines uses (the browser's `RegExp` stays out of reactive state).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Query {
    pub text: String,
    pub regex: bool,
}

pub enum Matcher {
    Plain(String),
    Regex(RegExp),
}

impl Query {
    /// None when there is nothing to search for; Err with the browser's message for a bad
    /// pattern.
    pub fn compile(&self) -> Result<Option<Matcher>, String> {
        if self.text.is_empty() {
            return Ok(None);
        }
        if !self.regex {
            return Ok(Some(Matcher::Plain(self.text.to_ascii_lowercase())));
        }
        // `new RegExp(..)` throws on a bad pattern; `Reflect.construct` turns that into an Err.
        let constructor: Function = Reflect::get(&js_sys::global(), &JsValue::from_str("RegExp"))
            .map_err(|_| "This browser has no regular expressions.".to_string())?
            .unchecked_into();
        let args = Array::of2(&JsValue::from_str(&self.text), &JsValue::from_str("gi"));
        match Reflect::construct(&constructor, &args) {
            Ok(regexp) => Ok(Some(Matcher::Regex(regexp.unchecked_into()))),
            Err(error) => Err(error
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .unwrap_or_else(|| "Not a valid regular expression.".to_string())),
        }
    }
}

/// At most this many matches are marked in one line (a pattern that matches everywhere).
const MAX_MATCHES: usize = 1000;

impl Matcher {
    /// The byte ranges of `text` that match, in order, not overlapping.
    pub fn find(&self, text: &str) -> Vec<(usize, usize)> {
        match self {
            Matcher::Plain(needle) => find_plain(text, needle),
            Matcher::Regex(regexp) => find_regex(regexp, text),
        }
    }

    pub fn is_match(&self, text: &str) -> bool {
        match self {
            Matcher::Plain(needle) => !find_plain(text, needle).is_empty(),
            Matcher::Regex(regexp) => {
                regexp.set_last_index(0);
                regexp.test(text)
            }
        }
    }
}

/// ASCII letters in any case; other characters as they are (byte offsets stay the text's).
pub fn find_plain(text: &str, needle: &str) -> Vec<(usize, usize)> {
    let (hay, needle) = (text.as_bytes(), needle.as_bytes());
    let mut found = Vec::new();
    if needle.is_empty() || needle.len() > hay.len() {
        return found;
    }
    let mut at = 0;
    while at + needle.len() <= hay.len() && found.len() < MAX_MATCHES {
        if hay[at..at + needle.len()].eq_ignore_ascii_case(needle) {
            found.push((at, at + needle.len()));
            at += needle.len();
        } else {
            at += 1;
        }
    }
    // A match that starts or ends inside a character is not a match of whole characters.
    found.retain(|&(start, end)| text.is_char_boundary(start) && text.is_char_boundary(end));
    found
}

fn find_regex(regexp: &RegExp, text: &str) -> Vec<(usize, usize)> {
    let js_text = JsString::from(text);
    let Ok(exec) = Reflect::get(regexp, &JsValue::from_str("exec")) else {
        return Vec::new();
    };
    let exec: Function = exec.unchecked_into();
    let mut found = Vec::new();
    regexp.set_last_index(0);
    while found.len() < MAX_MATCHES {
        // One JavaScript string for every call (`RegExp::exec` would copy the text each time).
        let Some(result) = exec
            .call1(regexp, &js_text)
            .ok()
            .and_then(|r| r.dyn_into::<Array>().ok())
        else {
            break;
        };
        let start = Reflect::get(&result, &JsValue::from_str("index"))
            .ok()
            .and_then(|i| i.as_f64())
            .unwrap_or(0.0) as usize;
        let length = result
            .get(0)
            .as_string()
            .map_or(0, |m| m.encode_utf16().count());
        if length == 0 {
            // An empty match would be found again at the same place: step past it.
            regexp.set_last_index(regexp.last_index() + 1);
            if start as u32 >= js_text.length() {
                break;
            }
            continue;
        }
        found.push((
            utf16_to_byte(text, start),
            utf16_to_byte(text, start + length),
        ));
    }
    found
}

/// Splits styled pieces (`start`, `end`, style) at the edges of `matches`: each piece says
/// whether it is part of a match.
pub fn mark<S: Copy>(
    pieces: &[(usize, usize, S)],
    matches: &[(usize, usize)],
) -> Vec<(usize, usize, S, bool)> {
    let mut out = Vec::new();
    let mut next_match = matches.iter().peekable();
    for &(start, end, style) in pieces {
        let mut at = start;
        while at < end {
            while next_match.peek().is_some_and(|m| m.1 <= at) {
                next_match.next();
            }
            let (until, marked) = match next_match.peek() {
                Some(&&(m_start, m_end)) if m_start <= at => (m_end.min(end), true),
                Some(&&(m_start, _)) => (m_start.min(end), false),
                None => (end, false),
            };
            out.push((at, until, style, marked));
            at = until;
        }
    }
    out
}

/// The byte offset in `text` of a UTF-16 offset (what JavaScript's indices count).
pub fn utf16_to_byte(text: &str, utf16: usize) -> usize {
    if text.is_ascii() {
        return utf16.min(text.len());
    }
    let mut units = 0;
    for (at, c) in text.char_indices() {
        if units >= utf16 {
            return at;
        }
        units += c.len_utf16();
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_search_ignores_ascii_case_and_finds_every_match() {
        assert_eq!(
            find_plain("Error: error ERROR", "error"),
            [(0, 5), (7, 12), (13, 18)]
        );
        assert_eq!(find_plain("aaaa", "aa"), [(0, 2), (2, 4)]);
        assert!(find_plain("abc", "").is_empty());
        assert_eq!(find_plain("héllo héllo", "llo"), [(3, 6), (10, 13)]);
    }

    #[test]
    fn plain_text_is_not_a_pattern() {
        assert!(find_plain("a.b", "a*").is_empty());
        assert_eq!(find_plain("x [(", "[("), [(2, 4)]);
    }

    #[test]
    fn matches_split_the_styled_pieces() {
        let pieces = [(0, 4, 'a'), (4, 10, 'b')];
        assert_eq!(
            mark(&pieces, &[(2, 6), (8, 9)]),
            [
                (0, 2, 'a', false),
                (2, 4, 'a', true),
                (4, 6, 'b', true),
                (6, 8, 'b', false),
                (8, 9, 'b', true),
                (9, 10, 'b', false),
            ]
        );
        assert_eq!(
            mark(&pieces, &[]),
            [(0, 4, 'a', false), (4, 10, 'b', false)]
        );
    }

    #[test]
    fn utf16_offsets_become_byte_offsets() {
        assert_eq!(utf16_to_byte("abc", 2), 2);
        // "é" is 1 UTF-16 unit and 2 bytes; "😀" 2 units and 4 bytes.
        assert_eq!(utf16_to_byte("é😀x", 1), 2);
        assert_eq!(utf16_to_byte("é😀x", 3), 6);
        assert_eq!(utf16_to_byte("é😀x", 9), 7);
    }
}
