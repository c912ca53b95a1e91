//! A keyed list whose rows' reactive owners go with the rows: leptos's `For` (0.8) makes each
//! row's owner a child of the list's own, and reactive_graph 0.2 keeps a child's allocation
//! (through the parent's list of children) until the parent is cleaned up, that is for as long
//! as the list is shown. A Logs view following 10,000 lines a second makes some 100 rows a
//! frame, and its wasm memory grew by 150 KB a second that way (45.8 MiB after 5 minutes,
//! 89.8 MiB after 10). Here rows are children of a generation owner that is replaced every
//! `GENERATION` rows and lives only as long as one of its rows does: what stays with the list is
//! one small entry per generation.

use std::{
    hash::Hash,
    sync::{Arc, Mutex, PoisonError},
};

use leptos::{
    prelude::*,
    tachys::{
        reactive_graph::OwnedView,
        view::keyed::{SerializableKey, keyed},
    },
};

/// Rows per generation owner: what the list keeps after the rows are gone is one owner entry
/// (about 100 bytes) per this many rows made.
const GENERATION: usize = 1024;

/// Makes the rows' owners: each a child of the current generation (so that a row sees the
/// list's context), holding that generation for as long as it lives.
struct RowOwners {
    list: Owner,
    generation: Owner,
    rows: usize,
}

impl RowOwners {
    fn new(list: Owner) -> Self {
        RowOwners {
            generation: list.child(),
            list,
            rows: 0,
        }
    }

    fn make(&mut self) -> Owner {
        if self.rows == GENERATION {
            self.generation = self.list.child();
            self.rows = 0;
        }
        self.rows += 1;
        let generation = self.generation.clone();
        let row = generation.with(Owner::new);
        // The generation goes when its last row does; when the list goes, it cleans up the rows
        // still shown through their generations, as it does `For`'s rows.
        row.with(|| on_cleanup(move || drop(generation)));
        row
    }
}

/// Like `For`: `each` gives the items, `key` identifies an item's row across updates (a row is
/// made only for a new key), `children` makes a row.
#[component]
pub fn KeyedRows<IF, I, T, EF, N, KF, K>(each: IF, key: KF, children: EF) -> impl IntoView
where
    IF: Fn() -> I + Send + 'static,
    I: IntoIterator<Item = T> + Send + 'static,
    EF: Fn(T) -> N + Send + Clone + 'static,
    N: IntoView + 'static,
    KF: Fn(&T) -> K + Send + Clone + 'static,
    K: Eq + Hash + SerializableKey + 'static,
    T: Send + 'static,
{
    let list = Owner::current().expect("a reactive owner");
    // Held by the row maker itself (not an arena value the list's cleanup could dispose first).
    let owners = Arc::new(Mutex::new(RowOwners::new(list)));
    let children = move |_, item| {
        let owner = owners.lock().unwrap_or_else(PoisonError::into_inner).make();
        let view = owner.with(|| children(item));
        (drop, OwnedView::new_with_owner(view, owner))
    };
    move || keyed(each(), key.clone(), children.clone())
}

// A counting allocator (the one way to see what stays allocated) needs `unsafe`: tests only.
#[cfg(test)]
#[allow(unsafe_code)]
mod tests {
    use std::{
        alloc::{GlobalAlloc, Layout, System},
        cell::Cell,
    };

    use super::*;

    /// Counts the bytes this thread holds (tests run on several threads at once).
    struct Counting;

    thread_local! {
        static HELD: Cell<isize> = const { Cell::new(0) };
    }

    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let _ = HELD.try_with(|h| h.set(h.get() + layout.size() as isize));
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            let _ = HELD.try_with(|h| h.set(h.get() - layout.size() as isize));
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[global_allocator]
    static ALLOCATOR: Counting = Counting;

    fn held() -> isize {
        HELD.with(Cell::get)
    }

    /// Makes and drops `rows` rows (each with a cleanup, as a row with an effect has), returning
    /// the bytes still held after.
    fn churn(rows: usize, mut make: impl FnMut() -> Owner) -> isize {
        let before = held();
        for _ in 0..rows {
            let row = make();
            row.with(|| on_cleanup(|| {}));
            drop(row);
        }
        held() - before
    }

    #[test]
    fn rows_that_are_gone_leave_next_to_nothing_with_the_list() {
        let list = Owner::new();
        let mut owners = RowOwners::new(list.clone());
        // The first generations grow the list's own vectors once.
        churn(4 * GENERATION, || owners.make());
        let rows = 100 * GENERATION;
        let kept = churn(rows, || owners.make());
        // About 100 bytes per generation of 1,024 rows.
        assert!(
            kept < 64 * 1024,
            "{kept} bytes kept after {rows} rows were made and dropped"
        );
        // What `For` does, for comparison: every row's owner stays with the list.
        let kept_by_for = churn(rows, || list.with(Owner::new));
        assert!(
            kept_by_for > rows as isize * 16,
            "{kept_by_for} bytes kept by For's rows"
        );
    }

    #[test]
    fn a_row_sees_the_list_context_and_is_cleaned_up_with_the_list() {
        let list = Owner::new();
        list.with(|| provide_context(7u8));
        let mut owners = RowOwners::new(list.clone());
        let row = owners.make();
        assert_eq!(row.with(use_context::<u8>), Some(7));
        let cleaned = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = cleaned.clone();
        row.with(|| on_cleanup(move || flag.store(true, std::sync::atomic::Ordering::SeqCst)));
        list.cleanup();
        assert!(cleaned.load(std::sync::atomic::Ordering::SeqCst));
    }
}
