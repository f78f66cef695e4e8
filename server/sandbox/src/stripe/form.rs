//! Stripe's form encoding, decoded (docs.stripe.com/api (form-encoded requests)): bracket-nested
//! keys (`metadata[k]=v`, `items[0][price]=p`, `expand[]=x`) become a tree; lists are maps whose
//! keys are indexes, so `payment_method_types[]=card` and `payment_method_types[0]=card` are the
//! same parameters. Accessors report errors the way Stripe does (`parameter_missing`,
//! `parameter_unknown`, `Invalid integer: ...`), each naming its `param`.

use super::error::ApiError;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Str(String),
    Map(BTreeMap<String, Node>),
}

/// The decoded parameters of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    root: BTreeMap<String, Node>,
}

/// Splits `a[b][c]` into `["a", "b", "c"]`; `None` when the brackets are malformed.
fn split_key(key: &str) -> Option<Vec<String>> {
    let (head, mut rest) = match key.find('[') {
        Some(i) => (&key[..i], &key[i..]),
        None => return Some(vec![key.to_string()]),
    };
    if head.is_empty() {
        return None;
    }
    let mut out = vec![head.to_string()];
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[')?;
        let close = inner.find(']')?;
        out.push(inner[..close].to_string());
        rest = &inner[close + 1..];
    }
    Some(out)
}

fn next_index(map: &BTreeMap<String, Node>) -> String {
    map.keys()
        .filter_map(|k| k.parse::<u64>().ok())
        .max()
        .map_or(0, |m| m + 1)
        .to_string()
}

fn insert(map: &mut BTreeMap<String, Node>, segments: &[String], value: String) {
    let key = if segments[0].is_empty() {
        next_index(map)
    } else {
        segments[0].clone()
    };
    if segments.len() == 1 {
        map.insert(key, Node::Str(value));
        return;
    }
    let entry = map.entry(key).or_insert_with(|| Node::Map(BTreeMap::new()));
    if let Node::Str(_) = entry {
        *entry = Node::Map(BTreeMap::new());
    }
    if let Node::Map(inner) = entry {
        insert(inner, &segments[1..], value);
    }
}

/// `["items", "0", "price"]` → `items[0][price]`.
pub fn display_path(segments: &[&str]) -> String {
    let mut out = segments[0].to_string();
    for s in &segments[1..] {
        out.push('[');
        out.push_str(s);
        out.push(']');
    }
    out
}

fn flatten<'a>(prefix: &mut Vec<&'a str>, node: &'a Node, out: &mut Vec<(Vec<&'a str>, &'a Node)>) {
    match node {
        Node::Str(_) => out.push((prefix.clone(), node)),
        Node::Map(m) if m.is_empty() => out.push((prefix.clone(), node)),
        Node::Map(m) => {
            for (k, v) in m {
                prefix.push(k);
                flatten(prefix, v, out);
                prefix.pop();
            }
        }
    }
}

fn segment_matches(pattern: &str, segment: &str) -> bool {
    match pattern {
        "*" => true,
        "#" => !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()),
        p => p == segment,
    }
}

fn write_canonical(node: &Node, out: &mut String) {
    match node {
        Node::Str(s) => out.push_str(&serde_json::Value::from(s.as_str()).to_string()),
        Node::Map(m) => {
            out.push('{');
            for (k, v) in m {
                out.push_str(&serde_json::Value::from(k.as_str()).to_string());
                out.push(':');
                write_canonical(v, out);
                out.push(',');
            }
            out.push('}');
        }
    }
}

/// What a `metadata` parameter asks for: "Individual keys can be unset by posting an empty
/// value to them. All keys can be unset by posting an empty value to `metadata`."
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataUpdate {
    ClearAll,
    Set(BTreeMap<String, Option<String>>),
}

impl MetadataUpdate {
    pub fn apply(&self, target: &mut BTreeMap<String, String>) {
        match self {
            MetadataUpdate::ClearAll => target.clear(),
            MetadataUpdate::Set(changes) => {
                for (k, v) in changes {
                    match v {
                        Some(v) => {
                            target.insert(k.clone(), v.clone());
                        }
                        None => {
                            target.remove(k);
                        }
                    }
                }
            }
        }
    }
}

impl Params {
    /// Decodes a form body or query string. Undecodable input yields no parameters; the
    /// caller's `parameter_missing` checks then report what is absent.
    pub fn parse(raw: &str) -> Params {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw).unwrap_or_default();
        let mut root = BTreeMap::new();
        // A pair without a name (`=x`) names no parameter and is dropped. Before, it was taken
        // for a list item appended at the top level, so the parameters depended on the order of
        // the pairs (found by the fuzz target stripe_form).
        for (k, v) in pairs.into_iter().filter(|(k, _)| !k.is_empty()) {
            match split_key(&k) {
                Some(segments) => insert(&mut root, &segments, v),
                None => {
                    root.insert(k, Node::Str(v));
                }
            }
        }
        Params { root }
    }

    /// A canonical text of the parameters: equal for equal parameters, whatever their order in
    /// the body and whether lists were sent as `[]` or `[0]`.
    pub fn canonical(&self) -> String {
        let mut out = String::new();
        write_canonical(&Node::Map(self.root.clone()), &mut out);
        out
    }

    /// Refuses any parameter that no pattern of `allowed` covers, as Stripe does:
    /// `parameter_unknown` with `param` naming it. Patterns are dotted paths where `*` is any
    /// key and `#` a list index: `"metadata.*"`, `"items.#.price"`, `"expand.#"`. An empty value
    /// at a prefix of a pattern (`metadata=`) is the "unset" form and is allowed.
    pub fn check_allowed(&self, allowed: &[&str]) -> Result<(), ApiError> {
        let patterns: Vec<Vec<&str>> = allowed.iter().map(|p| p.split('.').collect()).collect();
        let mut leaves = Vec::new();
        let root = Node::Map(self.root.clone());
        flatten(&mut Vec::new(), &root, &mut leaves);
        for (path, node) in &leaves {
            if path.is_empty() {
                continue;
            }
            let exact = patterns.iter().any(|p| {
                p.len() == path.len() && p.iter().zip(path).all(|(a, b)| segment_matches(a, b))
            });
            let unset = matches!(node, Node::Str(s) if s.is_empty())
                && patterns.iter().any(|p| {
                    p.len() > path.len() && p.iter().zip(path).all(|(a, b)| segment_matches(a, b))
                });
            if !exact && !unset {
                // Name the first segment that no pattern knows, as Stripe does.
                let mut known = 1;
                while known < path.len()
                    && patterns.iter().any(|p| {
                        p.len() > known
                            && p.iter()
                                .zip(&path[..=known])
                                .all(|(a, b)| segment_matches(a, b))
                    })
                {
                    known += 1;
                }
                let shown = &path[..(known + 1).min(path.len())];
                return Err(ApiError::unknown_parameter(&display_path(shown)));
            }
        }
        Ok(())
    }

    fn node(&self, path: &str) -> Option<&Node> {
        let mut segments = path.split('.');
        let mut node = self.root.get(segments.next()?)?;
        for s in segments {
            match node {
                Node::Map(m) => node = m.get(s)?,
                Node::Str(_) => return None,
            }
        }
        Some(node)
    }

    fn param_name(path: &str) -> String {
        let segments: Vec<&str> = path.split('.').collect();
        display_path(&segments)
    }

    pub fn has(&self, path: &str) -> bool {
        self.node(path).is_some()
    }

    /// A string parameter; a nested value where a string was expected is refused.
    pub fn str(&self, path: &str) -> Result<Option<&str>, ApiError> {
        match self.node(path) {
            None => Ok(None),
            Some(Node::Str(s)) => Ok(Some(s.as_str())),
            Some(Node::Map(_)) => Err(ApiError::invalid_param(
                &Self::param_name(path),
                "Invalid string: {...}".to_string(),
            )),
        }
    }

    /// A string parameter where an empty value means "not given".
    pub fn nonempty(&self, path: &str) -> Result<Option<&str>, ApiError> {
        Ok(self.str(path)?.filter(|s| !s.is_empty()))
    }

    pub fn required(&self, path: &str) -> Result<&str, ApiError> {
        match self.str(path)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(ApiError::missing_parameter(&Self::param_name(path))),
        }
    }

    pub fn int(&self, path: &str) -> Result<Option<i64>, ApiError> {
        match self.str(path)? {
            None => Ok(None),
            Some(s) => s.parse::<i64>().map(Some).map_err(|_| {
                ApiError::invalid_param(&Self::param_name(path), format!("Invalid integer: {s}"))
                    .with_code("parameter_invalid_integer")
            }),
        }
    }

    pub fn required_int(&self, path: &str) -> Result<i64, ApiError> {
        self.int(path)?
            .ok_or_else(|| ApiError::missing_parameter(&Self::param_name(path)))
    }

    pub fn bool(&self, path: &str) -> Result<Option<bool>, ApiError> {
        match self.str(path)? {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(s) => Err(ApiError::invalid_param(
                &Self::param_name(path),
                format!("Invalid boolean: {s}"),
            )),
        }
    }

    /// A string that must be one of `allowed`; Stripe's message lists them.
    pub fn one_of(&self, path: &str, allowed: &[&str]) -> Result<Option<&str>, ApiError> {
        match self.str(path)? {
            None => Ok(None),
            Some(s) if allowed.contains(&s) => Ok(Some(s)),
            Some(_) => {
                let list = match allowed {
                    [] => String::new(),
                    [one] => (*one).to_string(),
                    [rest @ .., last] => format!("{}, or {last}", rest.join(", ")),
                };
                Err(ApiError::invalid_param(
                    &Self::param_name(path),
                    format!(
                        "Invalid {}: must be one of {list}",
                        path.rsplit('.').next().unwrap_or(path)
                    ),
                ))
            }
        }
    }

    /// The elements of a list parameter (`x[]=a&x[]=b`, `x[0]=a`), in index order.
    pub fn list(&self, path: &str) -> Result<Option<Vec<&Node>>, ApiError> {
        match self.node(path) {
            None => Ok(None),
            Some(Node::Str(s)) if s.is_empty() => Ok(Some(Vec::new())),
            Some(Node::Str(_)) => Err(ApiError::invalid_param(
                &Self::param_name(path),
                "Invalid array".to_string(),
            )),
            Some(Node::Map(m)) => {
                let mut items: Vec<(u64, &Node)> = Vec::new();
                for (k, v) in m {
                    let index = k.parse::<u64>().map_err(|_| {
                        ApiError::invalid_param(
                            &Self::param_name(path),
                            "Invalid array".to_string(),
                        )
                    })?;
                    items.push((index, v));
                }
                items.sort_by_key(|(i, _)| *i);
                Ok(Some(items.into_iter().map(|(_, v)| v).collect()))
            }
        }
    }

    /// A list of strings (`expand[]`, `payment_method_types[]`).
    pub fn strings(&self, path: &str) -> Result<Option<Vec<String>>, ApiError> {
        let Some(items) = self.list(path)? else {
            return Ok(None);
        };
        let mut out = Vec::new();
        for item in items {
            match item {
                Node::Str(s) => out.push(s.clone()),
                Node::Map(_) => {
                    return Err(ApiError::invalid_param(
                        &Self::param_name(path),
                        "Invalid array".to_string(),
                    ))
                }
            }
        }
        Ok(Some(out))
    }

    /// How many elements a list of maps has (`items[0][price]`, `items[1][price]`), with their
    /// index keys, so that `path.{key}.field` can be read.
    pub fn indexes(&self, path: &str) -> Result<Vec<String>, ApiError> {
        match self.node(path) {
            None => Ok(Vec::new()),
            Some(Node::Map(m)) => {
                let mut keys: Vec<(u64, String)> = m
                    .keys()
                    .filter_map(|k| k.parse::<u64>().ok().map(|i| (i, k.clone())))
                    .collect();
                keys.sort();
                Ok(keys.into_iter().map(|(_, k)| k).collect())
            }
            Some(Node::Str(_)) => Err(ApiError::invalid_param(
                &Self::param_name(path),
                "Invalid array".to_string(),
            )),
        }
    }

    /// A `metadata`-style map: at most 50 keys of at most 40 characters, values of at most 500.
    pub fn metadata(&self, path: &str) -> Result<Option<MetadataUpdate>, ApiError> {
        let name = Self::param_name(path);
        match self.node(path) {
            None => Ok(None),
            Some(Node::Str(s)) if s.is_empty() => Ok(Some(MetadataUpdate::ClearAll)),
            Some(Node::Str(_)) => Err(ApiError::invalid_param(&name, "Invalid object".to_string())),
            Some(Node::Map(m)) => {
                if m.len() > 50 {
                    return Err(ApiError::invalid_param(
                        &name,
                        "Invalid metadata: metadata can have up to 50 keys".to_string(),
                    ));
                }
                let mut out = BTreeMap::new();
                for (k, v) in m {
                    let Node::Str(v) = v else {
                        return Err(ApiError::invalid_param(
                            &format!("{name}[{k}]"),
                            "Invalid string: {...}".to_string(),
                        ));
                    };
                    if k.chars().count() > 40 {
                        return Err(ApiError::invalid_param(
                            &format!("{name}[{k}]"),
                            "Metadata keys can be at most 40 characters long".to_string(),
                        ));
                    }
                    if v.chars().count() > 500 {
                        return Err(ApiError::invalid_param(
                            &format!("{name}[{k}]"),
                            "Metadata values can be at most 500 characters long".to_string(),
                        ));
                    }
                    out.insert(k.clone(), (!v.is_empty()).then(|| v.clone()));
                }
                Ok(Some(MetadataUpdate::Set(out)))
            }
        }
    }

    /// `expand[]` paths.
    pub fn expand(&self) -> Result<Vec<String>, ApiError> {
        Ok(self.strings("expand")?.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_and_lists() {
        let p = Params::parse(
            "amount=100&metadata[order]=42&items[0][price]=p1&items[1][price]=p2&expand[]=a&expand[]=b&payment_method_types[0]=card",
        );
        assert_eq!(p.int("amount").unwrap(), Some(100));
        assert_eq!(p.str("metadata.order").unwrap(), Some("42"));
        assert_eq!(p.indexes("items").unwrap(), vec!["0", "1"]);
        assert_eq!(p.str("items.1.price").unwrap(), Some("p2"));
        assert_eq!(p.expand().unwrap(), vec!["a", "b"]);
        assert_eq!(
            p.strings("payment_method_types").unwrap(),
            Some(vec!["card".to_string()])
        );
        let q = Params::parse("payment_method_types[]=card&expand[0]=a&expand[1]=b&items[1][price]=p2&items[0][price]=p1&metadata[order]=42&amount=100");
        assert_eq!(p.canonical(), q.canonical());
        assert_ne!(p.canonical(), Params::parse("amount=101").canonical());
    }

    #[test]
    fn a_pair_without_a_name_is_dropped_whatever_the_order() {
        let a = Params::parse("999=x&=sd&amount=1");
        let b = Params::parse("amount=1&=sd&999=x");
        assert_eq!(a.canonical(), b.canonical());
        assert_eq!(a.canonical(), Params::parse("999=x&amount=1").canonical());
    }

    #[test]
    fn unknown_parameters_are_named() {
        let p = Params::parse("amount=1&automatic_payment_methods[foo]=1");
        let err = p
            .check_allowed(&["amount", "automatic_payment_methods.enabled"])
            .unwrap_err();
        assert_eq!(err.param(), Some("automatic_payment_methods[foo]"));
        let err = Params::parse("amuont=1")
            .check_allowed(&["amount"])
            .unwrap_err();
        assert_eq!(err.param(), Some("amuont"));
        Params::parse("metadata=&metadata[a]=")
            .check_allowed(&["metadata.*"])
            .unwrap();
        Params::parse("items[0][price]=x")
            .check_allowed(&["items.#.price"])
            .unwrap();
        assert!(Params::parse("items[x][price]=x")
            .check_allowed(&["items.#.price"])
            .is_err());
    }

    #[test]
    fn metadata_updates() {
        let mut m = BTreeMap::from([("a".to_string(), "1".to_string())]);
        Params::parse("metadata[a]=&metadata[b]=2")
            .metadata("metadata")
            .unwrap()
            .unwrap()
            .apply(&mut m);
        assert_eq!(m, BTreeMap::from([("b".to_string(), "2".to_string())]));
        Params::parse("metadata=")
            .metadata("metadata")
            .unwrap()
            .unwrap()
            .apply(&mut m);
        assert!(m.is_empty());
    }
}
