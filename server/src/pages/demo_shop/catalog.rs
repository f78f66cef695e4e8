//! The demo shop's catalogue. Prices are the server's: the browser sends SKUs and quantities.

pub struct Product {
    pub sku: &'static str,
    pub name: &'static str,
    /// USD, as a decimal string (what the checkout session's line items take).
    pub price: &'static str,
}

pub const PRODUCTS: &[Product] = &[
    Product {
        sku: "tee",
        name: "Organic cotton T-shirt",
        price: "19.99",
    },
    Product {
        sku: "mug",
        name: "Stoneware mug",
        price: "8.10",
    },
    Product {
        sku: "tea",
        name: "Sencha green tea, 100 g",
        price: "0.29",
    },
];

pub fn find(sku: &str) -> Option<&'static Product> {
    PRODUCTS.iter().find(|p| p.sku == sku)
}
