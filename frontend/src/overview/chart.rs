//! The overview's pictures, drawn as inline SVG by the app itself: a ring of arcs (a donut) and a
//! bar. The geometry is in whole units so that no float is ever formatted (float formatting is
//! large in wasm): the ring's circumference is `RING` units (radius 159.155 in a 400-unit box),
//! a bar is 100 units long. Each picture is `role="img"` with its numbers as its accessible name.

use leptos::prelude::*;

/// The ring's circumference in SVG units.
pub const RING: u64 = 1000;

/// Each value's arc along the ring, as (start, length) in `RING` units, in order from the top,
/// clockwise. Ends are rounded from the running sum, so arcs meet without gaps and together make
/// the whole ring; all zeros (nothing to draw) give zero-length arcs.
pub fn arcs(values: &[u64]) -> Vec<(u64, u64)> {
    let total: u64 = values.iter().sum();
    let mut sum = 0;
    let mut start = 0;
    values
        .iter()
        .map(|value| {
            sum += value;
            let end = scaled(sum, total, RING);
            let arc = (start, end - start);
            start = end;
            arc
        })
        .collect()
}

/// `part` of `whole` as a share of `scale`, rounded to the nearest unit (0 when `whole` is 0).
pub fn scaled(part: u64, whole: u64, scale: u64) -> u64 {
    if whole == 0 {
        return 0;
    }
    (part.min(whole) * scale + whole / 2) / whole
}

/// A donut of `values` (one arc each, coloured by the class beside it), the total in its middle.
/// `label` is what a screen reader says instead of the picture: the same numbers in words.
pub fn donut(values: Vec<(&'static str, u64)>, label: String, testid: &'static str) -> AnyView {
    let total: u64 = values.iter().map(|(_, v)| v).sum();
    let lengths: Vec<u64> = values.iter().map(|(_, v)| *v).collect();
    let segments = values
        .iter()
        .zip(arcs(&lengths))
        .filter(|(_, (_, length))| *length > 0)
        .map(|((class, _), (start, length))| {
            view! {
                <circle class=*class cx="200" cy="200" r="159.155"
                    stroke-dasharray=format!("{length} {}", RING - length)
                    stroke-dashoffset=(RING - start) % RING />
            }
        })
        .collect_view();
    view! {
        <svg class="donut" viewBox="0 0 400 400" role="img" aria-label=label data-testid=testid>
            <circle class="track" cx="200" cy="200" r="159.155" />
            <g transform="rotate(-90 200 200)">{segments}</g>
            <text class="total" x="200" y="200" text-anchor="middle" dominant-baseline="central">{total}</text>
        </svg>
    }
    .into_any()
}

/// A bar `part` of `whole` long, in the colour `class` gives it, over a track for the whole.
pub fn bar(part: u64, whole: u64, class: &'static str, label: String) -> AnyView {
    view! {
        <svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label=label>
            <rect class="track" width="100" height="10" />
            <rect class=class width=scaled(part, whole, 100) height="10" />
        </svg>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arcs_meet_and_fill_the_ring() {
        let arcs = arcs(&[1, 1, 1]);
        assert_eq!(arcs, [(0, 333), (333, 334), (667, 333)]);
        assert_eq!(arcs.iter().map(|(_, l)| l).sum::<u64>(), RING);
        for pair in arcs.windows(2) {
            assert_eq!(pair[0].0 + pair[0].1, pair[1].0);
        }
    }

    #[test]
    fn zeros_take_no_room_and_nothing_draws_nothing() {
        assert_eq!(
            arcs(&[0, 3, 0, 1]),
            [(0, 0), (0, 750), (750, 0), (750, 250)]
        );
        assert_eq!(arcs(&[0, 0]), [(0, 0), (0, 0)]);
        assert_eq!(arcs(&[7]), [(0, RING)]);
    }

    #[test]
    fn bars_are_rounded_shares_and_never_overflow() {
        assert_eq!(scaled(1, 3, 100), 33);
        assert_eq!(scaled(2, 3, 100), 67);
        assert_eq!(scaled(0, 0, 100), 0);
        assert_eq!(scaled(5, 2, 100), 100);
    }
}
