//! The checkout widget bundle (`frontend/widget.html`).

fn main() {
    leptos::mount::mount_to_body(paygate_frontend::CheckoutPage);
}
