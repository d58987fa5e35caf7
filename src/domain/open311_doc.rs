//! One answer of the Open311 facade, written once and rendered as either of the standard's two
//! formats: JSON (objects and arrays) or XML (an element per field, a list as repeated elements
//! inside its wrapper, e.g. `services` › `service`). The XML writer is our own and small: element
//! names are fixed identifiers from this code, and every text is escaped here, in one place.
use serde_json::{Map, Number, Value};

#[derive(Clone, Debug, PartialEq)]
pub enum Doc {
    /// Fields in the order the standard lists them.
    Object(Vec<(&'static str, Doc)>),
    /// Items, each written in XML as an element named by the tag.
    List(&'static str, Vec<Doc>),
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// JSON `null`; an empty element in XML.
    Null,
}

impl Doc {
    pub fn text(s: impl Into<String>) -> Doc {
        Doc::Text(s.into())
    }

    pub fn opt_text(s: Option<impl Into<String>>) -> Doc {
        s.map(|s| Doc::Text(s.into())).unwrap_or(Doc::Null)
    }

    pub fn to_json(&self) -> Value {
        match self {
            Doc::Object(fields) => {
                Value::Object(fields.iter().map(|(k, v)| (k.to_string(), v.to_json())).collect::<Map<_, _>>())
            }
            Doc::List(_, items) => Value::Array(items.iter().map(Doc::to_json).collect()),
            Doc::Text(s) => Value::String(s.clone()),
            Doc::Int(n) => Value::Number((*n).into()),
            Doc::Float(f) => Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null),
            Doc::Bool(b) => Value::Bool(*b),
            Doc::Null => Value::Null,
        }
    }

    /// The document as XML with its declaration, the whole under the element `root`.
    pub fn to_xml(&self, root: &str) -> String {
        let mut out = String::new();
        out.push('<');
        out.push_str("?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        self.write(root, &mut out);
        out
    }

    fn write(&self, name: &str, out: &mut String) {
        let open = |out: &mut String| {
            out.push('<');
            out.push_str(name);
            out.push('>');
        };
        let close = |out: &mut String| {
            out.push('<');
            out.push('/');
            out.push_str(name);
            out.push('>');
        };
        match self {
            Doc::Null => {
                out.push('<');
                out.push_str(name);
                out.push_str("/>");
            }
            Doc::Object(fields) => {
                open(out);
                for (k, v) in fields {
                    v.write(k, out);
                }
                close(out);
            }
            Doc::List(tag, items) => {
                open(out);
                for item in items {
                    item.write(tag, out);
                }
                close(out);
            }
            Doc::Text(s) => {
                open(out);
                crate::domain::text::escape_xml_into(s, out);
                close(out);
            }
            Doc::Int(n) => {
                open(out);
                out.push_str(&n.to_string());
                close(out);
            }
            Doc::Float(f) => {
                open(out);
                out.push_str(&f.to_string());
                close(out);
            }
            Doc::Bool(b) => {
                open(out);
                out.push_str(if *b { "true" } else { "false" });
                close(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Doc {
        Doc::List(
            "service",
            vec![Doc::Object(vec![
                ("service_code", Doc::text("water.supply")),
                ("service_name", Doc::text("饮水 & <供水> \"故障\"")),
                ("metadata", Doc::Bool(true)),
                ("lat", Doc::Float(30.5)),
                ("count", Doc::Int(3)),
                ("group", Doc::Null),
            ])],
        )
    }

    #[test]
    fn json_keeps_types_and_nulls() {
        let v = sample().to_json();
        assert_eq!(v[0]["service_code"], "water.supply");
        assert_eq!(v[0]["metadata"], true);
        assert_eq!(v[0]["lat"], 30.5);
        assert_eq!(v[0]["count"], 3);
        assert!(v[0]["group"].is_null());
    }

    #[test]
    fn xml_nests_lists_in_their_wrapper_and_escapes_text() {
        let x = sample().to_xml("services");
        let expected = concat!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n",
            "<services><service><service_code>water.supply</service_code>",
            "<service_name>饮水 &amp; &lt;供水&gt; &quot;故障&quot;</service_name>",
            "<metadata>true</metadata><lat>30.5</lat><count>3</count>",
            "<group/></service></services>"
        );
        assert_eq!(x, expected);
    }

    #[test]
    fn characters_xml_cannot_carry_are_dropped() {
        let x = Doc::text("a\u{1}b\u{b}c\nd").to_xml("t");
        assert!(x.ends_with("<t>abc\nd</t>"), "{x}");
    }
}
