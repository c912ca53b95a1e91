//! The pages that are not needed on a first visit load with wasm chunks of their own, fetched
//! when a page is first opened (cut out of the app's wasm after linking: xtask/src/split.rs).
//! `lazy_route!` makes a page's route of that kind; when its chunk cannot be fetched (the
//! network, or a console updated since the tab opened, whose old chunks are gone) the page says
//! so and offers a reload, instead of the app stopping (which a failed load otherwise does).
//! Opening the page again tries the fetch again.
//!
//! A chunk is fetched while the page being left still holds its watches open: it gets through
//! because the BFF serves HTTP/2 (over HTTP/1.1 a page's six watches take every connection the
//! browser allows the origin, and the fetch, and so the navigation, would wait for ever).

use leptos::{prelude::*, wasm_split::SplitLoaderError};

/// `lazy_route!(LogsRoute, logs_page, LogsPage)`: `LogsRoute` is the route's view
/// (`Lazy::<LogsRoute>::new()`), `logs_page` names its chunk, `LogsPage` is the page.
macro_rules! lazy_route {
    ($route:ident, $chunk:ident, $page:ident) => {
        pub struct $route;

        impl ::leptos_router::LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            async fn view(_this: Self) -> ::leptos::prelude::AnyView {
                $crate::lazy_route::shown($chunk().await)
            }
        }

        #[leptos::wasm_split::wasm_split($chunk, fallible, wasm_split_path = leptos::wasm_split)]
        fn $chunk()
        -> ::std::result::Result<::leptos::prelude::AnyView, ::leptos::wasm_split::SplitLoaderError>
        {
            use ::leptos::prelude::*;
            Ok(view! { <$page /> }.into_any())
        }
    };
}
pub(crate) use lazy_route;

/// The page, or why it is missing.
pub fn shown(page: Result<AnyView, SplitLoaderError>) -> AnyView {
    match page {
        Ok(page) => page,
        Err(_) => view! {
            <h1>"This page could not be loaded"</h1>
            <p class="error" role="alert" data-testid="page-not-loaded">
                "Its code could not be fetched: the network failed, or the console was updated \
                 since this tab was opened."
            </p>
            <button
                type="button"
                data-testid="page-reload"
                on:click=|_| {
                    let _ = window().location().reload();
                }
            >
                "Reload the console"
            </button>
        }
        .into_any(),
    }
}
