//! JSON values written as block YAML, for reading (an object's page) and for sending back (the
//! editor, the kubeconfig). Writing is all the app does with YAML: the apiserver parses what the
//! editor sends. A YAML library would cost the first load far more than this file.
//!
//! What it writes must read back as the same value under YAML 1.1 too (the apiserver's and
//! kubectl's parser), so a string is quoted whenever a parser might take it for anything else:
//! a number of any form, a boolean or null of any spelling, an indicator, a comment.

use serde_json::{Map, Value};

/// `value` as a YAML document (without `---`), ending in a newline.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        scalar => {
            write_inline(&mut out, scalar, 0);
            out.push('\n');
        }
    }
    out
}

fn write_map(out: &mut String, map: &Map<String, Value>, indent: usize) {
    for (key, value) in map {
        push_indent(out, indent);
        write_string(out, key, indent, false);
        out.push(':');
        write_child(out, value, indent, true);
    }
}

fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        push_indent(out, indent);
        out.push('-');
        write_child(out, item, indent, false);
    }
}

/// What follows a key's `:` or an item's `-`, at `indent` (that of the key or dash).
fn write_child(out: &mut String, value: &Value, indent: usize, in_map: bool) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            if in_map {
                out.push('\n');
                write_map(out, map, indent + 2);
            } else {
                // The first key on the dash's line, the others under it.
                out.push(' ');
                let mut nested = String::new();
                write_map(&mut nested, map, indent + 2);
                out.push_str(nested.trim_start_matches(' '));
            }
        }
        Value::Array(items) if !items.is_empty() => {
            if in_map {
                // A sequence in a mapping is not indented (as kubectl writes it).
                out.push('\n');
                write_seq(out, items, indent);
            } else {
                out.push(' ');
                let mut nested = String::new();
                write_seq(&mut nested, items, indent + 2);
                out.push_str(nested.trim_start_matches(' '));
            }
        }
        scalar => {
            out.push(' ');
            write_inline(out, scalar, indent);
            out.push('\n');
        }
    }
}

/// A scalar or an empty collection, on the current line (a block string continues below it).
fn write_inline(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s, indent, true),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

/// YAML 1.1 reads a float only with a dot and a signed exponent (`1.0e+20`, not `1e20`).
fn write_number(out: &mut String, n: &serde_json::Number) {
    let text = n.to_string();
    if n.is_f64()
        && let Some((mantissa, exponent)) = text.split_once(['e', 'E'])
    {
        out.push_str(mantissa);
        if !mantissa.contains('.') {
            out.push_str(".0");
        }
        out.push('e');
        if !exponent.starts_with(['+', '-']) {
            out.push('+');
        }
        out.push_str(exponent);
    } else {
        out.push_str(&text);
    }
}

fn write_string(out: &mut String, s: &str, indent: usize, block_allowed: bool) {
    if s.chars().any(needs_escape) || (s.contains('\n') && !block_allowed) {
        write_double_quoted(out, s);
    } else if s.contains('\n') {
        write_literal(out, s, indent);
    } else if is_plain_safe(s) {
        out.push_str(s);
    } else {
        out.push('\'');
        out.push_str(&s.replace('\'', "''"));
        out.push('\'');
    }
}

/// Characters only a double-quoted string can hold: controls (but line feeds), the Unicode line
/// separators YAML 1.1 breaks lines at, the byte order mark, and non-characters.
fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        )
}

/// Lines of text as a literal block (`|`), kept exactly: the chomping indicator says how many
/// line feeds end it. A first line that begins with a space would be taken for indentation, and
/// a block of line feeds alone reads as empty, so such text is double-quoted instead.
fn write_literal(out: &mut String, s: &str, indent: usize) {
    let first_content = s.split('\n').find(|line| !line.is_empty()).unwrap_or("");
    let body = s.trim_end_matches('\n');
    if body.is_empty() || first_content.starts_with([' ', '\t']) {
        write_double_quoted(out, s);
        return;
    }
    let chomp = match s.len() - body.len() {
        0 => "-",
        1 => "",
        _ => "+",
    };
    out.push('|');
    out.push_str(chomp);
    let lines: Vec<&str> = if chomp == "+" {
        // Keep every final line feed: each one past the body's last is an empty line.
        s[..s.len() - 1].split('\n').collect()
    } else {
        body.split('\n').collect()
    };
    for line in lines {
        out.push('\n');
        if !line.is_empty() {
            push_indent(out, indent + 2);
            out.push_str(line);
        }
    }
}

fn write_double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => {
                let code = u32::from(c);
                let hex = if code > 0xffff {
                    format!("\\U{code:08x}")
                } else {
                    format!("\\u{code:04x}")
                };
                out.push_str(&hex);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Whether `s` reads back as this string when written bare. Anything that could be a number
/// (it starts with a digit, a sign or a dot), YAML 1.1's booleans and nulls, a merge key,
/// indicators, comments and surrounding space are quoted.
fn is_plain_safe(s: &str) -> bool {
    const RESERVED: [&str; 14] = [
        "y", "n", "yes", "no", "true", "false", "on", "off", "null", "~", "<<", "=", ".inf", ".nan",
    ];
    let Some(first) = s.chars().next() else {
        return false;
    };
    !(first.is_ascii_digit()
        || "-+.?:,[]{}#&*!|>'\"%@` \t".contains(first)
        || RESERVED.iter().any(|word| word.eq_ignore_ascii_case(s))
        || s.ends_with([' ', '\t', ':'])
        || s.contains(": ")
        || s.contains(":\t")
        || s.contains(" #")
        || s.contains("\t#"))
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

#[cfg(test)]
mod tests;
