//! The Kubernetes API as the app sees it: through the BFF's `/api/k8s` prefix, with the user's
//! token. Discovery, typed requests, and list-then-watch that stays current.

pub mod client;
pub mod discovery;
pub mod reflector;
pub mod resource_type;
pub mod stream;

pub use resource_type::ResourceType;
