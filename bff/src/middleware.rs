pub mod no_store;
pub mod same_origin;
pub mod security_headers;
