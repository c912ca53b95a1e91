pub mod namespace_page;
pub mod not_found_page;
pub mod overview_page;
