//! How the overview orders what it lists, by text keys. Every ordering here is one sort of
//! `(String, String)` pairs, a sort the app already has (`resources/detail/pods.rs`): each
//! sort of another element type or comparator adds about 3 KB of wasm to the first load.

/// `items` in the order of their keys (ties keep their order).
pub fn by_key<T>(items: Vec<T>, key: impl Fn(&T) -> String) -> Vec<T> {
    let mut keyed: Vec<(String, String)> = items
        .iter()
        .enumerate()
        .map(|(i, item)| (key(item), format!("{i:020}")))
        .collect();
    keyed.sort();
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    keyed
        .iter()
        .filter_map(|(_, i)| slots.get_mut(i.parse::<usize>().ok()?)?.take())
        .collect()
}

/// A key part that puts larger numbers first.
pub fn descending(n: u64) -> String {
    format!("{:020}", u64::MAX - n)
}

/// A key that puts later times first, from a fixed-width time key (see `events::time_key`):
/// each digit becomes its complement, so the text order is reversed.
pub fn latest_first(time_key: &str) -> String {
    time_key
        .chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from(b'9' - d as u8),
            None => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_follow_their_keys_and_ties_keep_their_order() {
        let items = vec![(3, "c"), (1, "a"), (3, "b"), (2, "z")];
        let sorted = by_key(items, |(n, s)| format!("{}\0{s}", descending(*n)));
        assert_eq!(sorted, [(3, "b"), (3, "c"), (2, "z"), (1, "a")]);
        let tied = by_key(vec!["x", "y", "z"], |_| String::new());
        assert_eq!(tied, ["x", "y", "z"]);
    }

    #[test]
    fn later_times_come_first() {
        let mut keys = [
            "2026-12-02T10:00:05.000000000",
            "2026-12-02T10:00:04.999999000",
            "2026-12-02T11:00:00.000000000",
        ]
        .map(latest_first);
        keys.sort();
        assert_eq!(keys[0], latest_first("2026-12-02T11:00:00.000000000"));
        assert_eq!(keys[2], latest_first("2026-12-02T10:00:04.999999000"));
    }
}
