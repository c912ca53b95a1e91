//! A table that renders only the rows in view (plus a margin), so that 10,000 rows scroll as
//! fast as 50. Rows have a fixed height (see `.vtable` in the CSS).

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::components::A;

use crate::{
    keyed_rows::KeyedRows,
    kube::{
        ResourceType,
        reflector::{Column, Item},
    },
    page::Page,
    util,
};

/// Must match `.vtable tbody tr { height }` in style/main.css.
const ROW_HEIGHT: usize = 33;
/// Rows rendered around the visible ones.
const OVERSCAN: usize = 20;

/// The filtered, sorted rows. Equal when they are the same objects in the same order, which
/// is cheap to compare (pointers), unlike the rows themselves.
#[derive(Clone, Default)]
pub struct Rows(pub Vec<Arc<Item>>);

impl PartialEq for Rows {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && self.0.iter().zip(&other.0).all(|(a, b)| Arc::ptr_eq(a, b))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SortKey {
    /// The column index; None sorts by name.
    pub column: Option<usize>,
    pub descending: bool,
}

impl SortKey {
    pub fn sort(&self, rows: &mut [Arc<Item>], columns: &[Column]) {
        let by_age = self
            .column
            .and_then(|c| columns.get(c))
            .is_some_and(|c| c.name == "Age");
        match self.column {
            _ if by_age => rows.sort_by(|a, b| b.created.cmp(&a.created)),
            Some(index) if index > 0 => rows.sort_by(|a, b| {
                let (x, y) = (a.cells.get(index), b.cells.get(index));
                natural(x.map(String::as_str), y.map(String::as_str)).then(a.name.cmp(&b.name))
            }),
            _ => rows.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name))),
        }
        if self.descending {
            rows.reverse();
        }
    }
}

/// Whole numbers as numbers ("9" before "10"), everything else as text.
fn natural(a: Option<&str>, b: Option<&str>) -> std::cmp::Ordering {
    match (
        a.and_then(|a| a.parse::<i64>().ok()),
        b.and_then(|b| b.parse::<i64>().ok()),
    ) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => a.cmp(&b),
    }
}

#[component]
pub fn VirtualTable(
    ty: ResourceType,
    /// The namespace listed; None for cluster-scoped kinds and across namespaces.
    namespace: Option<String>,
    /// Rows from every namespace: each shows and links to its own.
    across: bool,
    /// Also the columns kubectl shows with `-o wide` (priority above 0).
    wide: RwSignal<bool>,
    columns: Memo<Vec<Column>>,
    rows: Memo<Rows>,
    sort: RwSignal<SortKey>,
) -> impl IntoView {
    // Whole pixels: integer formatting keeps float printing out of the wasm.
    let scroll_top = RwSignal::new(0usize);
    let viewport = RwSignal::new(800usize);
    let shown_columns = Memo::new(move |_| {
        let wide = wide.get();
        columns.with(|all| {
            all.iter()
                .enumerate()
                .filter(|(_, c)| c.priority == 0 || wide)
                .map(|(i, c)| (i, c.clone()))
                .collect::<Vec<_>>()
        })
    });
    let window = Memo::new(move |_| {
        let total = rows.with(|r| r.0.len());
        let first = (scroll_top.get() / ROW_HEIGHT).saturating_sub(OVERSCAN);
        let count = viewport.get() / ROW_HEIGHT + 2 * OVERSCAN;
        let first = first.min(total);
        let last = (first + count).min(total);
        (first, last, total)
    });
    let visible = move || {
        let (first, last, _) = window.get();
        rows.with(|r| r.0[first..last].to_vec())
    };
    let on_scroll = move |ev: leptos::ev::Event| {
        let element: web_sys::Element = event_target(&ev);
        scroll_top.set(element.scroll_top().max(0) as usize);
        viewport.set(element.client_height().max(0) as usize);
    };
    let header = move |(index, column): (usize, Column)| {
        let sorted = move || sort.get().column.unwrap_or(0) == index;
        let aria = move || match (sorted(), sort.get().descending) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        };
        let click = move |_| {
            sort.update(|key| {
                if key.column.unwrap_or(0) == index {
                    key.descending = !key.descending;
                } else {
                    *key = SortKey {
                        column: Some(index),
                        descending: false,
                    };
                }
            })
        };
        view! {
            <th scope="col" aria-sort=aria title=column.description.clone()>
                <button type="button" class="sort" on:click=click>{column.name.clone()}</button>
            </th>
        }
    };
    let render_row = move |item: Arc<Item>| {
        let row_namespace = match &namespace {
            Some(ns) => Some(ns.as_str()),
            None => (!item.namespace.is_empty()).then_some(item.namespace.as_str()),
        };
        let href = Page::detail(&ty, row_namespace, &item.name).path();
        let cells = shown_columns.get_untracked();
        view! {
            <tr data-testid="resource-row" data-name=item.name.clone() data-namespace=item.namespace.clone()>
                {across.then(|| view! { <td>{item.namespace.clone()}</td> })}
                {cells.into_iter().map(|(index, column)| {
                    let text = if column.name == "Age" {
                        util::age(&item.created)
                    } else {
                        item.cells.get(index).cloned().unwrap_or_default()
                    };
                    if index == 0 {
                        view! { <td><A href=href.clone()>{text}</A></td> }.into_any()
                    } else {
                        view! { <td>{text}</td> }.into_any()
                    }
                }).collect_view()}
            </tr>
        }
    };
    view! {
        <div class="vtable" tabindex="0" role="region" aria-label="Items" on:scroll=on_scroll>
            <table aria-rowcount=move || window.get().2 + 1>
                <thead><tr>
                    {across.then(|| view! { <th scope="col">"Namespace"</th> })}
                    {move || shown_columns.get().into_iter().map(header).collect_view()}
                </tr></thead>
                <tbody>
                    <tr class="spacer" aria-hidden="true"
                        style:height=move || format!("{}px", window.get().0 * ROW_HEIGHT)></tr>
                    // Rows render their cells once; another set of columns renders them anew.
                    // (Not the Arc's address as the key: a freed one is soon reused.)
                    {move || {
                        shown_columns.track();
                        let render_row = render_row.clone();
                        view! { <KeyedRows each=visible key=|item| (item.uid.clone(), item.resource_version.clone()) children=render_row /> }
                    }}
                    <tr class="spacer" aria-hidden="true"
                        style:height=move || { let (_, last, total) = window.get(); format!("{}px", (total - last) * ROW_HEIGHT) }></tr>
                </tbody>
            </table>
        </div>
    }
}
