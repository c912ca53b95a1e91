pub mod body_limit;
pub mod no_store;
pub mod request_trace;
pub mod same_origin;
pub mod security_headers;
