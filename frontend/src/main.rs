mod api;
mod app;
mod keyed_rows;
mod kinds;
mod kube;
mod kubeconfig;
mod layout;
mod lazy_route;
mod logs;
mod overview;
mod page;
mod pages;
mod permissions;
mod resources;
mod scope;
mod session;
mod terminal;
mod util;
mod yaml;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
