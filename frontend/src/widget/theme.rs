//! The merchant's theme: `Paygate.mount(el, {session, theme: {colorPrimary: '#0a7d5a', ...}})`
//! reaches the widget as `?theme=<JSON object>` on the frame's URL. Only the keys of
//! [`THEME_KEYS`] are read, and only values that are plainly a colour, a length or a list of
//! font names ([`valid`]); everything else is ignored. Accepted values are set on the document
//! element's own custom properties (CSSOM, which `style-src 'self'` allows), so the widget's
//! stylesheet and Stripe's `appearance.variables` (read from the computed properties) follow.

use js_sys::{JsString, Object};
use wasm_bindgen::JsCast;

/// What a theme value must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Color,
    Length,
    Font,
}

/// Theme key → custom property of style/widget.css, and the kind of value it takes.
pub const THEME_KEYS: [(&str, &str, Kind); 12] = [
    ("colorPrimary", "--pg-color-primary", Kind::Color),
    ("colorOnPrimary", "--pg-color-on-primary", Kind::Color),
    ("colorText", "--pg-color-text", Kind::Color),
    ("colorMuted", "--pg-color-muted", Kind::Color),
    ("colorBackground", "--pg-color-background", Kind::Color),
    ("colorSurface", "--pg-color-surface", Kind::Color),
    ("colorBorder", "--pg-color-border", Kind::Color),
    ("colorError", "--pg-color-error", Kind::Color),
    ("colorErrorBackground", "--pg-color-error-bg", Kind::Color),
    ("radius", "--pg-radius", Kind::Length),
    ("fontFamily", "--pg-font-family", Kind::Font),
    ("fontSize", "--pg-font-size", Kind::Length),
];

/// Whether `value` is a plain value of `kind`: nothing that could end the declaration (`;`),
/// load anything (`url(`) or escape (`\`).
///
/// - colour: `#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa`, `rgb()`/`rgba()`/`hsl()`/`hsla()` of
///   numbers, or a colour keyword (letters only);
/// - length: `0`, or a number with `px`, `rem`, `em` or `%`;
/// - font: names separated by commas, each letters (of any script), digits, spaces, `-`,
///   `_`, `.`, optionally quoted.
pub fn valid(kind: Kind, value: &str) -> bool {
    if value.is_empty() || value.len() > 200 || value.trim() != value {
        return false;
    }
    match kind {
        Kind::Color => valid_color(value),
        Kind::Length => valid_length(value),
        Kind::Font => valid_font(value),
    }
}

fn valid_color(value: &str) -> bool {
    if let Some(hex) = value.strip_prefix('#') {
        return matches!(hex.len(), 3 | 4 | 6 | 8) && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    let lower = value.to_ascii_lowercase();
    for function in ["rgb(", "rgba(", "hsl(", "hsla("] {
        if let Some(inner) = lower.strip_prefix(function) {
            let Some(inner) = inner.strip_suffix(')') else {
                return false;
            };
            let inner = inner.replace("deg", "");
            return !inner.trim().is_empty()
                && inner
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b" .,%/-".contains(&b));
        }
    }
    value.len() <= 30 && value.bytes().all(|b| b.is_ascii_alphabetic())
}

fn valid_length(value: &str) -> bool {
    if value == "0" {
        return true;
    }
    let number = ["px", "rem", "em", "%"]
        .iter()
        .find_map(|unit| value.strip_suffix(unit));
    let Some(number) = number else {
        return false;
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    number.len() <= 8
        && !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && !(number.contains('.') && fraction.is_empty())
}

fn valid_font(value: &str) -> bool {
    value.split(',').all(|name| {
        let name = name.trim();
        let bare = match (name.chars().next(), name.chars().last()) {
            (Some(q @ ('"' | '\'')), Some(end)) if end == q && name.len() >= 2 => {
                &name[1..name.len() - 1]
            }
            _ => name,
        };
        // Every character with a meaning in CSS is ASCII: other scripts' letters are fine.
        !bare.trim().is_empty()
            && bare.chars().all(|c| {
                !c.is_ascii() || c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.')
            })
    })
}

/// The accepted `(custom property, value)` pairs of a theme given as a JSON object.
pub fn parse(json: &str) -> Vec<(&'static str, String)> {
    let Ok(value) = js_sys::JSON::parse(json) else {
        return Vec::new();
    };
    let Some(object) = value.dyn_ref::<Object>().filter(|_| value.is_object()) else {
        return Vec::new();
    };
    THEME_KEYS
        .iter()
        .filter(|(key, _, _)| Object::has_own(object, &(*key).into()))
        .filter_map(|(key, property, kind)| {
            let value = js_sys::Reflect::get(object, &(*key).into()).ok()?;
            let value = value.dyn_into::<JsString>().ok().map(String::from)?;
            valid(*kind, &value).then_some((*property, value))
        })
        .collect()
}

/// Applies `?theme=` of the page's URL to the document element.
pub fn apply_from_location() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let search = window.location().search().unwrap_or_default();
    let Some(json) = web_sys::UrlSearchParams::new_with_str(&search)
        .ok()
        .and_then(|params| params.get("theme"))
    else {
        return;
    };
    let Some(root) = window
        .document()
        .and_then(|d| d.document_element())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    else {
        return;
    };
    let style = root.style();
    for (property, value) in parse(&json) {
        let _ = style.set_property(property, &value);
    }
}

/// In the browser (`cargo test -p paygate-frontend --target wasm32-unknown-unknown`), where
/// `parse` has JavaScript to read.
#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::{parse, valid, Kind};
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn theme_takes_known_keys_with_plain_values_only() {
        let accepted = parse(
            r##"{"colorPrimary": "#0a7d5a", "radius": "2px", "fontFamily": "Georgia, serif",
                "colorText": "red;background:url(https://x.example/)", "colorSurface": 7,
                "__proto__": {"colorMuted": "#000"}, "--pg-max-width": "1px", "evil": "#fff"}"##,
        );
        assert_eq!(
            accepted,
            vec![
                ("--pg-color-primary", "#0a7d5a".to_owned()),
                ("--pg-radius", "2px".to_owned()),
                ("--pg-font-family", "Georgia, serif".to_owned()),
            ]
        );
        assert!(parse("not json").is_empty());
        assert!(parse("[\"#fff\"]").is_empty());
    }

    #[wasm_bindgen_test]
    fn plain_values_only() {
        for ok in [
            "#0a7d5a",
            "#FFF",
            "#11223344",
            "rgb(10, 20, 30)",
            "hsl(120deg 50% 40% / 0.5)",
            "rebeccapurple",
        ] {
            assert!(valid(Kind::Color, ok), "{ok}");
        }
        for bad in [
            "red;background:url(x)",
            "url(https://x.example/a.png)",
            "#12345",
            "rgb(1,2,3",
            "var(--x)",
            "expression(alert(1))",
            "red ",
            "",
            "\\72 ed",
        ] {
            assert!(!valid(Kind::Color, bad), "{bad}");
        }
        for ok in ["0", "4px", "0.75rem", "1.5em", "50%"] {
            assert!(valid(Kind::Length, ok), "{ok}");
        }
        for bad in [
            "4",
            "4 px",
            "-1px",
            "1.px",
            "calc(1px + 2px)",
            "4px;x:y",
            "1e3px",
        ] {
            assert!(!valid(Kind::Length, bad), "{bad}");
        }
        for ok in [
            "Georgia, serif",
            "\"Helvetica Neue\", Arial, sans-serif",
            "'IBM Plex Sans'",
            "Noto Sans JP",
            "游ゴシック, sans-serif",
        ] {
            assert!(valid(Kind::Font, ok), "{ok}");
        }
        for bad in [
            "Georgia; color: red",
            "url(x)",
            "a,,b",
            "\"unterminated",
            "x\\y",
            "a{b}",
        ] {
            assert!(!valid(Kind::Font, bad), "{bad}");
        }
    }
}
