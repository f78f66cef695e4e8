//! ISO 4217 currencies: the code, the number of minor units (exponent) and a display symbol.

use super::MoneyError;
use std::fmt;
use std::str::FromStr;

/// Builds the [`Currency`] enum and its parallel lookup tables from one list, so a code can never
/// be added to one table and forgotten in another.
macro_rules! currencies {
    ($($code:ident $exponent:literal $name:literal,)*) => {
        /// An active ISO 4217 currency (see the table below for which codes count as active).
        ///
        /// Ordered by code, so `Ord` is alphabetical. Serialized as the upper-case code (`"USD"`);
        /// parsing (`from_code`, `FromStr`, `Deserialize`) accepts any letter case.
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[allow(clippy::upper_case_acronyms)] // the variants are the ISO codes themselves
        #[repr(u8)]
        pub enum Currency {
            $(#[doc = $name] $code,)*
        }

        /// Every currency, in code order (the enum's discriminant indexes all three tables).
        const ALL: &[Currency] = &[$(Currency::$code,)*];
        const CODES: &[&str] = &[$(stringify!($code),)*];
        const EXPONENTS: &[u8] = &[$($exponent,)*];
    };
}

// Source: ISO 4217 List One ("Current currency & funds code list"), published by SIX Group as the
// ISO 4217 maintenance agency, edition Pblshd="2026-01-01" (the newest edition available when this
// table was written; it no longer lists BGN, which became the euro on 2026-01-01, nor ANG,
// replaced by XCG).
//
// Included: every entry with numeric minor units, funds codes among them (BOV, CHE, CHW, CLF,
// COU, MXV, USN, UYI, marked "(fund)"), because they are active codes and the exponent is all
// this type claims about them; whether a provider takes one is the provider module's decision.
// Excluded: the 13 entries whose minor units are "N.A." (XAG, XAU, XPD, XPT precious metals;
// XBA, XBB, XBC, XBD bond-market units; XDR, XSU, XUA; XTS for testing; XXX for "no currency"),
// since an amount in minor units means nothing for them.
//
// Format: CODE exponent "ISO name". Keep the list sorted by code: `from_code` binary-searches it
// (a unit test checks the order).
currencies! {
    AED 2 "UAE Dirham",
    AFN 2 "Afghani",
    ALL 2 "Lek",
    AMD 2 "Armenian Dram",
    AOA 2 "Kwanza",
    ARS 2 "Argentine Peso",
    AUD 2 "Australian Dollar",
    AWG 2 "Aruban Florin",
    AZN 2 "Azerbaijan Manat",
    BAM 2 "Convertible Mark",
    BBD 2 "Barbados Dollar",
    BDT 2 "Taka",
    BHD 3 "Bahraini Dinar",
    BIF 0 "Burundi Franc",
    BMD 2 "Bermudian Dollar",
    BND 2 "Brunei Dollar",
    BOB 2 "Boliviano",
    BOV 2 "Mvdol (fund)",
    BRL 2 "Brazilian Real",
    BSD 2 "Bahamian Dollar",
    BTN 2 "Ngultrum",
    BWP 2 "Pula",
    BYN 2 "Belarusian Ruble",
    BZD 2 "Belize Dollar",
    CAD 2 "Canadian Dollar",
    CDF 2 "Congolese Franc",
    CHE 2 "WIR Euro (fund)",
    CHF 2 "Swiss Franc",
    CHW 2 "WIR Franc (fund)",
    CLF 4 "Unidad de Fomento (fund)",
    CLP 0 "Chilean Peso",
    CNY 2 "Yuan Renminbi",
    COP 2 "Colombian Peso",
    COU 2 "Unidad de Valor Real (fund)",
    CRC 2 "Costa Rican Colon",
    CUP 2 "Cuban Peso",
    CVE 2 "Cabo Verde Escudo",
    CZK 2 "Czech Koruna",
    DJF 0 "Djibouti Franc",
    DKK 2 "Danish Krone",
    DOP 2 "Dominican Peso",
    DZD 2 "Algerian Dinar",
    EGP 2 "Egyptian Pound",
    ERN 2 "Nakfa",
    ETB 2 "Ethiopian Birr",
    EUR 2 "Euro",
    FJD 2 "Fiji Dollar",
    FKP 2 "Falkland Islands Pound",
    GBP 2 "Pound Sterling",
    GEL 2 "Lari",
    GHS 2 "Ghana Cedi",
    GIP 2 "Gibraltar Pound",
    GMD 2 "Dalasi",
    GNF 0 "Guinean Franc",
    GTQ 2 "Quetzal",
    GYD 2 "Guyana Dollar",
    HKD 2 "Hong Kong Dollar",
    HNL 2 "Lempira",
    HTG 2 "Gourde",
    HUF 2 "Forint",
    IDR 2 "Rupiah",
    ILS 2 "New Israeli Sheqel",
    INR 2 "Indian Rupee",
    IQD 3 "Iraqi Dinar",
    IRR 2 "Iranian Rial",
    ISK 0 "Iceland Krona",
    JMD 2 "Jamaican Dollar",
    JOD 3 "Jordanian Dinar",
    JPY 0 "Yen",
    KES 2 "Kenyan Shilling",
    KGS 2 "Som",
    KHR 2 "Riel",
    KMF 0 "Comorian Franc",
    KPW 2 "North Korean Won",
    KRW 0 "Won",
    KWD 3 "Kuwaiti Dinar",
    KYD 2 "Cayman Islands Dollar",
    KZT 2 "Tenge",
    LAK 2 "Lao Kip",
    LBP 2 "Lebanese Pound",
    LKR 2 "Sri Lanka Rupee",
    LRD 2 "Liberian Dollar",
    LSL 2 "Loti",
    LYD 3 "Libyan Dinar",
    MAD 2 "Moroccan Dirham",
    MDL 2 "Moldovan Leu",
    MGA 2 "Malagasy Ariary",
    MKD 2 "Denar",
    MMK 2 "Kyat",
    MNT 2 "Tugrik",
    MOP 2 "Pataca",
    MRU 2 "Ouguiya",
    MUR 2 "Mauritius Rupee",
    MVR 2 "Rufiyaa",
    MWK 2 "Malawi Kwacha",
    MXN 2 "Mexican Peso",
    MXV 2 "Mexican Unidad de Inversion (UDI) (fund)",
    MYR 2 "Malaysian Ringgit",
    MZN 2 "Mozambique Metical",
    NAD 2 "Namibia Dollar",
    NGN 2 "Naira",
    NIO 2 "Cordoba Oro",
    NOK 2 "Norwegian Krone",
    NPR 2 "Nepalese Rupee",
    NZD 2 "New Zealand Dollar",
    OMR 3 "Rial Omani",
    PAB 2 "Balboa",
    PEN 2 "Sol",
    PGK 2 "Kina",
    PHP 2 "Philippine Peso",
    PKR 2 "Pakistan Rupee",
    PLN 2 "Zloty",
    PYG 0 "Guarani",
    QAR 2 "Qatari Rial",
    RON 2 "Romanian Leu",
    RSD 2 "Serbian Dinar",
    RUB 2 "Russian Ruble",
    RWF 0 "Rwanda Franc",
    SAR 2 "Saudi Riyal",
    SBD 2 "Solomon Islands Dollar",
    SCR 2 "Seychelles Rupee",
    SDG 2 "Sudanese Pound",
    SEK 2 "Swedish Krona",
    SGD 2 "Singapore Dollar",
    SHP 2 "Saint Helena Pound",
    SLE 2 "Leone",
    SOS 2 "Somali Shilling",
    SRD 2 "Surinam Dollar",
    SSP 2 "South Sudanese Pound",
    STN 2 "Dobra",
    SVC 2 "El Salvador Colon",
    SYP 2 "Syrian Pound",
    SZL 2 "Lilangeni",
    THB 2 "Baht",
    TJS 2 "Somoni",
    TMT 2 "Turkmenistan New Manat",
    TND 3 "Tunisian Dinar",
    TOP 2 "Pa'anga",
    TRY 2 "Turkish Lira",
    TTD 2 "Trinidad and Tobago Dollar",
    TWD 2 "New Taiwan Dollar",
    TZS 2 "Tanzanian Shilling",
    UAH 2 "Hryvnia",
    UGX 0 "Uganda Shilling",
    USD 2 "US Dollar",
    USN 2 "US Dollar (Next day) (fund)",
    UYI 0 "Uruguay Peso en Unidades Indexadas (UI) (fund)",
    UYU 2 "Peso Uruguayo",
    UYW 4 "Unidad Previsional",
    UZS 2 "Uzbekistan Sum",
    VED 2 "Bolívar Soberano",
    VES 2 "Bolívar Soberano",
    VND 0 "Dong",
    VUV 0 "Vatu",
    WST 2 "Tala",
    XAD 2 "Arab Accounting Dinar",
    XAF 0 "CFA Franc BEAC",
    XCD 2 "East Caribbean Dollar",
    XCG 2 "Caribbean Guilder",
    XOF 0 "CFA Franc BCEAO",
    XPF 0 "CFP Franc",
    YER 2 "Yemeni Rial",
    ZAR 2 "Rand",
    ZMW 2 "Zambian Kwacha",
    ZWG 2 "Zimbabwe Gold",
}

impl Currency {
    /// Looks up an active ISO 4217 code, in any letter case (`"usd"` works).
    pub fn from_code(code: &str) -> Result<Currency, MoneyError> {
        let bytes = code.as_bytes();
        if let [a, b, c] = *bytes {
            let upper = [
                a.to_ascii_uppercase(),
                b.to_ascii_uppercase(),
                c.to_ascii_uppercase(),
            ];
            if let Ok(i) = CODES.binary_search_by(|probe| probe.as_bytes().cmp(&upper[..])) {
                return Ok(ALL[i]);
            }
        }
        Err(MoneyError::UnknownCurrency(super::error::clip(code)))
    }

    /// The upper-case ISO code, e.g. `"USD"`.
    pub fn code(self) -> &'static str {
        CODES[self as usize]
    }

    /// The ISO 4217 minor units: USD 2, JPY 0, KWD 3, CLF 4. Providers may differ (see
    /// `providers`): this is ISO's number, which is what `Money` counts in.
    pub fn exponent(self) -> u8 {
        EXPONENTS[self as usize]
    }

    /// A display symbol: the English (CLDR "en") symbol where it is a common and unambiguous
    /// one (`"$"` is US dollars only; other dollars get a prefix, as `"CA$"`), else the code.
    pub fn symbol(self) -> &'static str {
        use Currency::*;
        match self {
            USD => "$",
            EUR => "€",
            GBP => "£",
            JPY => "¥",
            CNY => "CN¥",
            INR => "₹",
            KRW => "₩",
            ILS => "₪",
            VND => "₫",
            PHP => "₱",
            AUD => "A$",
            BRL => "R$",
            CAD => "CA$",
            HKD => "HK$",
            MXN => "MX$",
            NZD => "NZ$",
            TWD => "NT$",
            XCD => "EC$",
            _ => self.code(),
        }
    }

    /// Every currency of the table, in code order.
    pub fn all() -> &'static [Currency] {
        ALL
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::from_code(s)
    }
}

impl serde::Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A visitor (rather than deserializing a `&str`) also accepts owned and escaped strings.
        struct CodeVisitor;
        impl serde::de::Visitor<'_> for CodeVisitor {
            type Value = Currency;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ISO 4217 currency code such as \"USD\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Currency, E> {
                Currency::from_code(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(CodeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_unique_and_parallel() {
        assert!(
            CODES.windows(2).all(|w| w[0] < w[1]),
            "CODES must stay sorted"
        );
        assert_eq!(ALL.len(), CODES.len());
        assert_eq!(ALL.len(), EXPONENTS.len());
        for (i, c) in ALL.iter().enumerate() {
            assert_eq!(*c as usize, i);
            assert_eq!(c.code().len(), 3);
            assert!(c.code().bytes().all(|b| b.is_ascii_uppercase()));
        }
        // 178 codes in the 2026-01-01 edition, less the 13 without minor units.
        assert_eq!(Currency::all().len(), 165);
    }

    #[test]
    fn exponents_match_iso() {
        let expected = [
            ("USD", 2),
            ("EUR", 2),
            ("BHD", 3),
            ("IQD", 3),
            ("JOD", 3),
            ("KWD", 3),
            ("LYD", 3),
            ("OMR", 3),
            ("TND", 3),
            ("CLF", 4),
            ("UYW", 4),
            ("ISK", 0),
            ("UGX", 0),
            ("VND", 0),
            ("KRW", 0),
            ("JPY", 0),
            ("XAF", 0),
            ("XOF", 0),
            ("XPF", 0),
            ("PYG", 0),
            ("CLP", 0),
            ("VUV", 0),
            ("BIF", 0),
            ("DJF", 0),
            ("GNF", 0),
            ("KMF", 0),
            ("RWF", 0),
            ("UYI", 0),
            ("MGA", 2),
            ("VES", 2),
            ("SLE", 2),
            ("ZWG", 2),
            ("HUF", 2),
            ("TWD", 2),
            ("XCG", 2),
        ];
        for (code, exp) in expected {
            assert_eq!(Currency::from_code(code).unwrap().exponent(), exp, "{code}");
        }
        // Exactly these have an exponent other than 2.
        let odd: Vec<&str> = Currency::all()
            .iter()
            .filter(|c| c.exponent() != 2)
            .map(|c| c.code())
            .collect();
        assert_eq!(
            odd,
            [
                "BHD", "BIF", "CLF", "CLP", "DJF", "GNF", "IQD", "ISK", "JOD", "JPY", "KMF", "KRW",
                "KWD", "LYD", "OMR", "PYG", "RWF", "TND", "UGX", "UYI", "UYW", "VND", "VUV", "XAF",
                "XOF", "XPF"
            ]
        );
    }

    #[test]
    fn from_code_is_case_insensitive_and_strict() {
        assert_eq!(Currency::from_code("usd"), Ok(Currency::USD));
        assert_eq!(Currency::from_code("Jpy"), Ok(Currency::JPY));
        assert_eq!("KWD".parse::<Currency>(), Ok(Currency::KWD));
        for bad in [
            "", "US", "USDD", " USD", "XXX", "XTS", "XAU", "BGN", "ANG", "123", "U$D", "ÜSD",
        ] {
            assert_eq!(
                Currency::from_code(bad),
                Err(MoneyError::UnknownCurrency(bad.to_string())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn code_symbol_display() {
        assert_eq!(Currency::USD.code(), "USD");
        assert_eq!(Currency::USD.symbol(), "$");
        assert_eq!(Currency::EUR.symbol(), "€");
        assert_eq!(Currency::GBP.symbol(), "£");
        assert_eq!(Currency::JPY.symbol(), "¥");
        assert_eq!(Currency::KWD.symbol(), "KWD");
        assert_eq!(Currency::CAD.symbol(), "CA$");
        assert_eq!(Currency::HUF.to_string(), "HUF");
        assert_eq!(format!("[{:>5}]", Currency::ISK), "[  ISK]");
    }

    #[test]
    fn serde_uses_the_code() {
        assert_eq!(serde_json::to_string(&Currency::UGX).unwrap(), "\"UGX\"");
        let c: Currency = serde_json::from_str("\"twd\"").unwrap();
        assert_eq!(c, Currency::TWD);
        // An escaped string is not borrowable: the visitor still handles it.
        let c: Currency = serde_json::from_str("\"\\u0045UR\"").unwrap();
        assert_eq!(c, Currency::EUR);
        let c: Currency = serde_json::from_value(serde_json::json!("GBP")).unwrap();
        assert_eq!(c, Currency::GBP);
        let err = serde_json::from_str::<Currency>("\"ABC\"").unwrap_err();
        assert!(err.to_string().contains("ABC"), "{err}");
        assert!(serde_json::from_str::<Currency>("840").is_err());
    }

    #[cfg(feature = "openapi")]
    #[test]
    fn schema_is_a_string() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(Currency::schema()).unwrap();
        assert_eq!(schema["type"], "string", "{schema}");
        let codes = schema["enum"].as_array().unwrap();
        assert_eq!(codes.len(), Currency::all().len());
        assert_eq!(codes[0], "AED");
    }
}
