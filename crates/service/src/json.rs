//! Reading JSON input with errors a client can act on: a body that is not JSON or has a wrong
//! type says where ([`ServiceError::MalformedRequest`], with the path such as `[3].title`), an
//! unknown field is named ([`ServiceError::InvalidField`], with the v4 spelling for a legacy
//! name). The API's v4 face and the import read their create requests this way, so both refuse
//! the same records with the same words.

use serde::de::DeserializeOwned;

use crate::error::{ServiceError, ServiceResult};

/// Parses JSON bytes as `T`.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ServiceResult<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ServiceError::MalformedRequest(
            "The request body is empty; it must be JSON.".into(),
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| json_error(&e.path().to_string(), e.inner()))?;
    deserializer.end().map_err(|e| json_error("", &e))?;
    Ok(value)
}

/// Deserialises an already-parsed JSON value (a batch item, an import record) the same way.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> ServiceResult<T> {
    serde_path_to_error::deserialize(value)
        .map_err(|e| json_error(&e.path().to_string(), e.inner()))
}

/// `path` is where in the document the error is (`tracking_number`, `[3].title`).
fn json_error(path: &str, inner: &serde_json::Error) -> ServiceError {
    use serde_json::error::Category;
    let text = inner.to_string();
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            ServiceError::MalformedRequest(format!("The request body must be valid JSON: {text}."))
        }
        Category::Data => {
            if let Some(field) = unknown_field(&text) {
                let hint = match field {
                    "carrier_code" => " In v4 the field is `courier_code`.",
                    _ => " Remove it; the API documentation lists the accepted fields.",
                };
                ServiceError::InvalidField(format!("Unknown field `{field}`.{hint}"))
            } else if path.is_empty() || path == "." {
                ServiceError::MalformedRequest(format!(
                    "The JSON does not have the expected shape: {text}."
                ))
            } else {
                ServiceError::MalformedRequest(format!(
                    "Field `{path}` has the wrong type: {text}."
                ))
            }
        }
    }
}

fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        title: Option<String>,
    }

    #[test]
    fn errors_say_what_and_where() {
        let empty = parse_json::<Item>(b"  ").unwrap_err();
        assert!(matches!(empty, ServiceError::MalformedRequest(_)));
        let syntax = parse_json::<Item>(b"{").unwrap_err();
        assert!(syntax
            .to_string()
            .starts_with("The request body must be valid JSON"));
        let trailing = parse_json::<Item>(b"{} x").unwrap_err();
        assert!(matches!(trailing, ServiceError::MalformedRequest(_)));
        let typed = parse_json::<Vec<Item>>(br#"[{"title":1}]"#).unwrap_err();
        assert!(typed.to_string().contains("`[0].title`"), "{typed}");
        let unknown = from_value::<Item>(serde_json::json!({"carrier_code": "ups"})).unwrap_err();
        assert!(matches!(unknown, ServiceError::InvalidField(_)));
        assert_eq!(
            unknown.to_string(),
            "Unknown field `carrier_code`. In v4 the field is `courier_code`."
        );
    }
}
