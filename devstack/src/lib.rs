//! The one implementation of "start the stack", used by `cargo xtask demo`, `cargo xtask test`
//! and the e2e fixture. Everything listens on 127.0.0.1; every child is stopped when the `Stack`
//! is dropped, and dies with the process that started it even if that process is killed.

pub mod cache;
mod components;
pub mod description;
pub mod gobuild;
pub mod images;
pub mod node;
pub mod oci;
pub mod pki;
pub mod poll;
pub mod process;
mod random;
pub mod release;
pub mod seed;
pub mod stack;
mod users;

pub use components::dex;
pub use description::{ClaimTestUser, DemoUser, Role, StackDescription};
pub use stack::{Binaries, Console, Ports, ProxyIdentity, Stack, StackOptions};
