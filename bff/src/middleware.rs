pub mod security_headers;
