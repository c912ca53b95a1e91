//! What frames every page of the console: the namespace switcher, the sidebar of kinds, themes.

pub mod namespace;
pub mod sidebar;
pub mod theme;
