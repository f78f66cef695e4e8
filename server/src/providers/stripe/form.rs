//! Stripe's form encoding with bracket nesting (`metadata[order]=42`, `items[0][price]=...`,
//! `expand[]=...`), docs.stripe.com/api (form-encoded requests). Written by hand because the general
//! crates either do not nest (serde_urlencoded) or pick their own list syntax; this builder states
//! each key exactly as Stripe documents it.

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn new() -> Form {
        Form::default()
    }

    pub fn set(mut self, key: impl Into<String>, value: impl ToString) -> Form {
        self.0.push((key.into(), value.to_string()));
        self
    }

    pub fn set_opt(self, key: &str, value: Option<impl ToString>) -> Form {
        match value {
            Some(v) => self.set(key, v),
            None => self,
        }
    }

    /// `metadata[k]=v` for every pair.
    pub fn map<'a>(
        mut self,
        key: &str,
        pairs: impl IntoIterator<Item = (&'a String, &'a String)>,
    ) -> Form {
        for (k, v) in pairs {
            self.0.push((format!("{key}[{k}]"), v.clone()));
        }
        self
    }

    /// `key[]=v` for every value (Stripe's un-indexed list form, e.g. `expand[]`).
    pub fn list<'a>(mut self, key: &str, values: impl IntoIterator<Item = &'a str>) -> Form {
        for v in values {
            self.0.push((format!("{key}[]"), v.to_string()));
        }
        self
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The `application/x-www-form-urlencoded` body. Brackets are left readable, as Stripe's
    /// own libraries send them ("This is fine by the server").
    pub fn encode(&self) -> String {
        let mut out = String::new();
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            out.push_str(&escape(k, true));
            out.push('=');
            out.push_str(&escape(v, false));
        }
        out
    }
}

fn escape(s: &str, key: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'[' | b']' if key => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn nested_keys_and_escaping() {
        let mut meta = BTreeMap::new();
        meta.insert("order id".to_string(), "42&x=1".to_string());
        let form = Form::new()
            .set("amount", 1999)
            .set("currency", "usd")
            .map("metadata", &meta)
            .set("items[0][price]", "price_1")
            .list("expand", ["latest_invoice.payment_intent"])
            .set_opt("customer", None::<String>);
        assert_eq!(
            form.encode(),
            "amount=1999&currency=usd&metadata[order+id]=42%26x%3D1&items[0][price]=price_1&expand[]=latest_invoice.payment_intent"
        );
    }
}
