pub mod auth_complete_page;
pub mod auth_error_page;
pub mod logged_out_page;
pub mod not_found_page;
