//! The admin console bundle (`frontend/console.html`).

fn main() {
    leptos::mount::mount_to_body(paygate_frontend::ConsoleApp);
}
