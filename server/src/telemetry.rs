//! Logging through `tracing`, redacted twice before anything is written:
//! - by field name ([`RedactingFields`]): the value of a field named like a card number, a
//!   security code, an expiry, a PIN, a bank account or a government id
//!   (`shared::sanitize::is_sensitive_field`) is replaced by `[REDACTED]`, and a field whose
//!   value is a JSON object has the same rule applied inside it (`sanitize_json`);
//! - by content ([`Redacting`]): every formatted line passes through the card-number redaction
//!   of `shared::card`, so a card number that slipped into a message never reaches the log.

use shared::sanitize::{is_sensitive_field, sanitize_json, REDACTED};
use std::fmt;
use std::io::Write;
use tracing::field::{Field, Visit};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::{FormatFields, Writer};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// Formats event and span fields as `tracing_subscriber`'s default does (`message` first and
/// bare, then `name=value`), with sensitive fields' values redacted by name. Written here
/// because `tracing_subscriber` formats fields by their `Debug` text and offers no hook to
/// redact by field name.
pub struct RedactingFields;

impl<'writer> FormatFields<'writer> for RedactingFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> fmt::Result {
        let mut visitor = FieldWriter {
            writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct FieldWriter<'writer> {
    writer: Writer<'writer>,
    first: bool,
    result: fmt::Result,
}

impl FieldWriter<'_> {
    fn write(&mut self, field: &Field, value: fmt::Arguments<'_>) {
        if self.result.is_err() {
            return;
        }
        let separator = if self.first { "" } else { " " };
        self.first = false;
        self.result = if field.name() == "message" {
            write!(self.writer, "{separator}{value}")
        } else {
            write!(self.writer, "{separator}{}={value}", field.name())
        };
    }
}

impl Visit for FieldWriter<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if is_sensitive_field(field.name()) {
            return self.write(field, format_args!("{REDACTED}"));
        }
        // A JSON object in a field (a provider's body, say) is redacted by name inside.
        if value.trim_start().starts_with('{') {
            if let Ok(mut json) = serde_json::from_str::<serde_json::Value>(value) {
                sanitize_json(&mut json);
                return self.write(field, format_args!("{json}"));
            }
        }
        if field.name() == "message" {
            self.write(field, format_args!("{value}"))
        } else {
            self.write(field, format_args!("{value:?}"))
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if is_sensitive_field(field.name()) {
            self.write(field, format_args!("{REDACTED}"))
        } else {
            self.write(field, format_args!("{value:?}"))
        }
    }
}

/// Buffers one formatted event and writes it redacted when dropped.
pub struct RedactingWriter<W: Write> {
    buffer: Vec<u8>,
    inner: W,
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buffer.is_empty() {
            let text = String::from_utf8_lossy(&self.buffer);
            let clean = shared::card::redact_card_numbers(&text);
            self.inner.write_all(clean.as_bytes())?;
            self.buffer.clear();
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for RedactingWriter<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// A `MakeWriter` producing redacting writers around another `MakeWriter`.
pub struct Redacting<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacting<M> {
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter {
            buffer: Vec::with_capacity(256),
            inner: self.0.make_writer(),
        }
    }
}

/// Installs the global subscriber (once; later calls are ignored, which suits tests).
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .fmt_fields(RedactingFields)
        .with_writer(Redacting(std::io::stderr))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Sink {
        type Writer = Sink;
        fn make_writer(&'a self) -> Sink {
            self.clone()
        }
    }

    /// Every sensitive kind of field, under the spellings callers use, in events and in spans,
    /// as strings, numbers and JSON: none of the values reaches the output, and the other
    /// fields are written as before.
    #[test]
    fn sensitive_fields_are_redacted_by_name() {
        let sink = Sink::default();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(RedactingFields)
            .with_writer(Redacting(sink.clone()))
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("checkout", cvc = "SPAN-CVC-731", order = "ord_1");
            let _entered = span.enter();
            tracing::info!(
                card_number = "SECRET-PAN-1",
                cardNumber = "SECRET-PAN-2",
                pan = "SECRET-PAN-3",
                cvc = "SECRET-CVC-1",
                cvv2 = 987,
                security_code = "SECRET-CVC-2",
                exp_month = 12,
                exp_year = 2031,
                expiry = "SECRET-EXP-1",
                pin = "SECRET-PIN-1",
                track2 = "SECRET-TRACK-1",
                iban = "SECRET-IBAN-1",
                account_number = "SECRET-ACCT-1",
                routing_number = "SECRET-ROUTING-1",
                ssn = "SECRET-SSN-1",
                tax_id = "SECRET-TAX-1",
                amount = 1299,
                "paying"
            );
            tracing::warn!(
                body = r#"{"payer":{"name":"Ada"},"card":{"cvc":"SECRET-CVC-3","exp_year":2031,"last4":"4242"}}"#,
                "provider answer"
            );
            tracing::info!(pan = ?vec![4, 2], "debug values");
        });
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        for secret in [
            "SECRET-",
            "SPAN-CVC-731",
            "=987",
            "=2031",
            ":2031",
            "[4, 2]",
        ] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        for redacted in ["cvv2", "exp_month", "exp_year", "pan", "cardNumber"] {
            assert!(
                text.contains(&format!("{redacted}=[REDACTED]")),
                "{redacted}: {text}"
            );
        }
        assert!(
            text.contains("cvc=[REDACTED]") && text.contains("iban=[REDACTED]"),
            "{text}"
        );
        assert!(
            text.contains("amount=1299") && text.contains("order=\"ord_1\""),
            "{text}"
        );
        assert!(
            text.contains("paying") && text.contains(r#""last4":"4242""#),
            "{text}"
        );
        assert!(text.contains(r#""name":"Ada""#), "{text}");
    }

    #[test]
    fn card_numbers_never_reach_the_log() {
        let sink = Sink::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(Redacting(sink.clone()))
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(
                card = "4242 4242 4242 4242",
                "customer typed 4000-0000-0000-0002 into the notes"
            );
            tracing::info!(order = "4242424242424241", "not a card number");
            // Cards with more digits pasted on (CVC, expiry), in fields, messages and JSON.
            tracing::info!(
                note = "4242424242424242123",
                body = r#"{"memo":"5555555555554444 1226","ref":"37828224631000512"}"#,
                "pasted 40000000000000000061234 and x6011111111111117999y"
            );
        });
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert!(!text.contains("4242 4242 4242 4242"), "{text}");
        assert!(!text.contains("4000-0000-0000-0002"), "{text}");
        for card in [
            "4242424242424242",
            "5555555555554444",
            "378282246310005",
            "4000000000000000006",
            "6011111111111117",
        ] {
            assert!(!text.contains(card), "{card} leaked: {text}");
        }
        assert!(
            text.contains("4242424242424241"),
            "Luhn-invalid numbers stay: {text}"
        );
        assert_eq!(text.lines().count(), 3);
    }
}
