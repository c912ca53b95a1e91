//! Types that the browser app and the servers exchange. Kept to serde and thiserror so that it
//! compiles for wasm32 and native alike.

pub mod api_error;
pub mod config;
pub mod kubeconfig;
pub mod login;
pub mod permissions;
pub mod session;
pub mod status;

pub use api_error::{ApiError, ErrorCode};
pub use config::ConsoleConfig;
pub use login::LoginFailure;
pub use permissions::{AccessAnswer, AccessCheck, AccessDecision, AccessQuery, NamespaceChoices};
pub use session::{SessionToken, TokenHandoff, UserInfo};
pub use status::{Status, StatusCause, StatusDetails};
