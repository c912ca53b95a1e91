mod api;
mod app;
mod kube;
mod kubeconfig;
mod layout;
mod pages;
mod permissions;
mod resources;
mod session;
mod util;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
