pub mod api;
pub mod health;
pub mod https_redirect;
pub mod kube_proxy;
pub mod permissions;
pub mod pod_socket;
pub mod spa;
