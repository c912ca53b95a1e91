pub mod body_limit;
pub mod request_trace;
pub mod security_headers;
