//! The lines a view holds: at most `capacity`, the oldest dropped first (and counted), in time
//! order when several streams feed one view (each line's `timestamps=true` prefix).

use std::{collections::VecDeque, sync::Arc};

use super::ansi::{self, Styled};

/// Which pod and container a line came from (shown on a workload's lines).
#[derive(Debug, PartialEq, Eq)]
pub struct Origin {
    pub pod: String,
    pub container: String,
}

#[derive(Debug, PartialEq)]
pub struct LogLine {
    /// Arrival order: ties in time keep it, and the view keys rows by it.
    pub seq: u64,
    /// Nanoseconds since the epoch (from the timestamp), for ordering.
    pub time: i64,
    /// The timestamp as the apiserver wrote it (shown on request).
    pub stamp: String,
    pub origin: Arc<Origin>,
    pub text: Styled,
}

/// Splits `<RFC 3339 timestamp> <text>` (what `timestamps=true` gives). A line without one
/// (a piece of a very long line) takes `previous` as its time.
pub fn split_timestamp(line: &str, previous: i64) -> (i64, &str, &str) {
    if let Some((stamp, text)) = line.split_once(' ')
        && let Some(time) = parse_rfc3339(stamp)
    {
        return (time, stamp, text);
    }
    (previous, "", line)
}

/// `2026-12-02T10:00:00.123456789Z` or with an offset (`+01:00`) as nanoseconds since the epoch.
pub fn parse_rfc3339(stamp: &str) -> Option<i64> {
    let b = stamp.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = stamp.get(range)?;
        digits
            .bytes()
            .all(|d| d.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b[13] != b':' || b[16] != b':' || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut at = 19;
    let mut nanos = 0i64;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            if at - start < 9 {
                nanos = nanos * 10 + i64::from(b[at] - b'0');
            }
            at += 1;
        }
        let digits = (at - start).min(9) as u32;
        if digits == 0 {
            return None;
        }
        nanos *= 10i64.pow(9 - digits);
    }
    let offset = match &stamp[at..] {
        "Z" | "z" => 0,
        zone if zone.len() == 6 && matches!(zone.as_bytes()[0], b'+' | b'-') => {
            let minutes = num(at + 1..at + 3)? * 60 + num(at + 4..at + 6)?;
            if zone.as_bytes()[0] == b'-' {
                -minutes
            } else {
                minutes
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset * 60;
    Some(seconds * 1_000_000_000 + nanos)
}

/// Days since 1970-01-01 of a date in the proleptic Gregorian calendar (Howard Hinnant's
/// algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Makes lines from one stream's text lines (each with its timestamp prefix).
pub struct LineMaker {
    pub origin: Arc<Origin>,
    last_time: i64,
}

impl LineMaker {
    pub fn new(origin: Arc<Origin>) -> Self {
        LineMaker {
            origin,
            last_time: 0,
        }
    }

    pub fn make(&mut self, seq: u64, raw: &[u8]) -> LogLine {
        let raw = String::from_utf8_lossy(raw);
        let (time, stamp, text) = split_timestamp(&raw, self.last_time);
        self.last_time = time;
        LogLine {
            seq,
            time,
            stamp: stamp.to_string(),
            origin: self.origin.clone(),
            text: ansi::parse(text),
        }
    }
}

/// How a batch changed the lines: appended at the end (the common case, so that a filter only
/// looks at the new ones), or merged among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Appended(usize),
    Merged,
}

pub struct LogBuffer {
    lines: VecDeque<Arc<LogLine>>,
    capacity: usize,
    /// Lines dropped from the front to stay within `capacity`.
    pub dropped: u64,
}

impl LogBuffer {
    pub fn new(capacity: usize) -> Self {
        LogBuffer {
            lines: VecDeque::new(),
            capacity: capacity.max(1),
            dropped: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn get(&self, index: usize) -> Option<&Arc<LogLine>> {
        self.lines.get(index)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<LogLine>> {
        self.lines.iter()
    }

    pub fn clear(&mut self) {
        self.lines.clear();
        self.dropped = 0;
    }

    /// Adds a batch, keeping time order, then drops the oldest lines beyond the capacity.
    /// Returns how the lines changed and how many were dropped from the front.
    pub fn add(&mut self, mut batch: Vec<LogLine>) -> (Change, usize) {
        batch.sort_by_key(|line| (line.time, line.seq));
        let appended = batch.len();
        let in_order = match (self.lines.back(), batch.first()) {
            (Some(last), Some(first)) => (last.time, last.seq) <= (first.time, first.seq),
            _ => true,
        };
        let change = if in_order {
            self.lines.extend(batch.into_iter().map(Arc::new));
            Change::Appended(appended)
        } else {
            let first = batch.first().map(|l| (l.time, l.seq)).unwrap_or_default();
            let from = self.lines.partition_point(|l| (l.time, l.seq) <= first);
            let tail: Vec<Arc<LogLine>> = self.lines.drain(from..).collect();
            let mut tail = tail.into_iter().peekable();
            let mut batch = batch.into_iter().map(Arc::new).peekable();
            loop {
                let take_tail = match (tail.peek(), batch.peek()) {
                    (Some(t), Some(b)) => (t.time, t.seq) <= (b.time, b.seq),
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    (None, None) => break,
                };
                let next = if take_tail { tail.next() } else { batch.next() };
                self.lines.extend(next);
            }
            Change::Merged
        };
        let over = self.lines.len().saturating_sub(self.capacity);
        self.lines.drain(..over);
        self.dropped += over as u64;
        (change, over)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(pod: &str) -> Arc<Origin> {
        Arc::new(Origin {
            pod: pod.into(),
            container: "c".into(),
        })
    }

    fn line(seq: u64, time: i64) -> LogLine {
        LogLine {
            seq,
            time,
            stamp: String::new(),
            origin: origin("p"),
            text: ansi::parse(&format!("line {seq}")),
        }
    }

    fn seqs(buffer: &LogBuffer) -> Vec<u64> {
        buffer.iter().map(|l| l.seq).collect()
    }

    #[test]
    fn timestamps_read_as_nanoseconds_since_the_epoch() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2026-12-02T10:00:00.123456789Z"),
            Some(1_796_205_600_123_456_789)
        );
        // Fewer digits are tenths, hundredths …; an offset is taken away.
        assert_eq!(parse_rfc3339("1970-01-01T00:00:01.5Z"), Some(1_500_000_000));
        assert_eq!(
            parse_rfc3339("1970-01-01T01:00:00.000000000+01:00"),
            Some(0)
        );
        for bad in [
            "",
            "chatty line 1",
            "2026-12-02 10:00:00Z",
            "2026-13-02T10:00:00Z",
            "2026-12-02T10:00:00.Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_line_is_split_from_its_timestamp() {
        let (time, stamp, text) = split_timestamp("1970-01-01T00:00:02Z hello world", 7);
        assert_eq!(
            (time, stamp, text),
            (2_000_000_000, "1970-01-01T00:00:02Z", "hello world")
        );
        assert_eq!(
            split_timestamp("no stamp here", 7),
            (7, "", "no stamp here")
        );
    }

    #[test]
    fn batches_in_order_are_appended_and_others_merged_by_time() {
        let mut buffer = LogBuffer::new(100);
        assert_eq!(
            buffer.add(vec![line(1, 10), line(2, 20)]),
            (Change::Appended(2), 0)
        );
        assert_eq!(
            buffer.add(vec![line(4, 40), line(3, 30)]),
            (Change::Appended(2), 0)
        );
        // Another pod's backlog: older lines among the ones held.
        assert_eq!(
            buffer.add(vec![line(5, 15), line(6, 35), line(7, 5)]),
            (Change::Merged, 0)
        );
        assert_eq!(seqs(&buffer), [7, 1, 5, 2, 3, 6, 4]);
    }

    #[test]
    fn the_oldest_lines_beyond_the_capacity_are_dropped_and_counted() {
        let mut buffer = LogBuffer::new(3);
        buffer.add((1..=5).map(|i| line(i, i as i64)).collect());
        assert_eq!(seqs(&buffer), [3, 4, 5]);
        assert_eq!(buffer.dropped, 2);
        let (_, dropped) = buffer.add(vec![line(6, 6)]);
        assert_eq!((dropped, buffer.dropped), (1, 3));
        assert_eq!(seqs(&buffer), [4, 5, 6]);
    }
}
