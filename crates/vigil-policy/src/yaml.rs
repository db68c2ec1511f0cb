//! `data.yaml` → JSON, so a bundle may keep its data in either form.
//! YAML is read with yaml-rust2 (serde_yaml is unmaintained) and only the
//! JSON-compatible subset is accepted: one document, string keys, no NaN.

use serde_json::{Map, Number, Value};
use yaml_rust2::{Yaml, YamlLoader};

/// Parses one YAML document into a JSON value; `Err` says what is wrong.
pub(crate) fn to_json(text: &str) -> Result<Value, String> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| e.to_string())?;
    match docs.as_slice() {
        [] => Ok(Value::Object(Map::new())),
        [one] => convert(one),
        _ => Err("holds several YAML documents; use one".into()),
    }
}

fn convert(y: &Yaml) -> Result<Value, String> {
    Ok(match y {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Integer(i) => Value::Number((*i).into()),
        Yaml::Real(text) => {
            let f: f64 = text.parse().map_err(|_| format!("bad number {text}"))?;
            Value::Number(
                Number::from_f64(f).ok_or_else(|| format!("{text} is not a JSON number"))?,
            )
        }
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Array(items) => Value::Array(items.iter().map(convert).collect::<Result<_, _>>()?),
        Yaml::Hash(h) => {
            let mut out = Map::new();
            for (k, v) in h {
                let key = match k {
                    Yaml::String(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    other => return Err(format!("unsupported map key {other:?}")),
                };
                out.insert(key, convert(v)?);
            }
            Value::Object(out)
        }
        Yaml::Alias(_) | Yaml::BadValue => {
            return Err("unsupported YAML value (alias or bad value)".into())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_becomes_the_same_json() {
        let v = to_json("vigil:\n  sensitive_tables: [payments, public.api_keys]\n  review_timeout: 10m\n  n: 2\n")
            .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"vigil": {"sensitive_tables": ["payments", "public.api_keys"], "review_timeout": "10m", "n": 2}})
        );
    }

    #[test]
    fn several_documents_are_refused() {
        assert!(to_json("a: 1\n---\nb: 2\n").is_err());
        assert!(to_json("[1, 2").is_err());
    }
}
