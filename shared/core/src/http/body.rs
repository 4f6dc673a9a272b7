//! JSON request bodies: size cap, content type, and serde errors turned into 400/422 with JSON
//! pointers.

use super::ApiRequest;
use crate::error::{AppError, FieldError};
use serde::de::DeserializeOwned;

/// Largest accepted request body. Tool input schemas are capped separately, below this.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Parses the request body as `T`, rejecting empty, oversize, non-JSON and mistyped bodies.
pub fn parse_json<T: DeserializeOwned>(req: &ApiRequest) -> Result<T, AppError> {
    if req.body.len() > MAX_BODY_BYTES {
        return Err(AppError::PayloadTooLarge(MAX_BODY_BYTES));
    }
    if let Some(ct) = req.header("content-type") {
        let mime = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !(mime == "application/json" || mime.ends_with("+json")) {
            return Err(AppError::UnsupportedMediaType);
        }
    }
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::BadRequest(
            "the request body is empty; send a JSON object".into(),
        ));
    }
    // Parse to a Value first so malformed JSON (400) is told apart from JSON of the wrong shape
    // (422 with a pointer to the field).
    let value: serde_json::Value = serde_json::from_slice(&req.body)
        .map_err(|e| AppError::BadRequest(format!("the request body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(AppError::field(
            "",
            "the request body must be a JSON object",
        ));
    }
    from_value(value)
}

/// Deserialises a JSON value, reporting where it failed as a JSON pointer.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, AppError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let pointer = pointer_of(e.path());
        let inner = e.into_inner().to_string();
        // serde names a missing or unknown field in its message; point at that field itself.
        let pointer = match field_in_message(&inner) {
            Some(field) if inner.starts_with("missing field") => {
                format!("{}/{}", pointer.trim_end_matches('/'), field)
            }
            Some(field)
                if inner.starts_with("unknown field")
                    && !pointer.ends_with(&format!("/{field}")) =>
            {
                format!("{}/{}", pointer.trim_end_matches('/'), field)
            }
            _ => pointer,
        };
        AppError::Validation(vec![FieldError::new(pointer, inner)])
    })
}

fn field_in_message(msg: &str) -> Option<&str> {
    let start = msg.find('`')? + 1;
    let len = msg[start..].find('`')?;
    Some(&msg[start..start + len])
}

fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => out.push_str(&format!("/{}", escape(key))),
            Segment::Enum { variant } => out.push_str(&format!("/{}", escape(variant))),
            Segment::Unknown => {}
        }
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// An optional field that, when present, must not be `null` (absent means "not given").
pub fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        count: u32,
    }

    fn req(body: &str) -> ApiRequest {
        ApiRequest {
            body: body.as_bytes().to_vec(),
            ..Default::default()
        }
    }

    fn pointer(err: AppError) -> String {
        match err {
            AppError::Validation(errors) => errors[0].pointer.clone(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        assert!(matches!(
            parse_json::<Body>(&req("{")),
            Err(AppError::BadRequest(_))
        ));
        assert!(matches!(
            parse_json::<Body>(&req("  ")),
            Err(AppError::BadRequest(_))
        ));
    }

    #[test]
    fn shape_errors_point_at_the_field() {
        assert_eq!(
            pointer(parse_json::<Body>(&req(r#"{"name":"a","count":"x"}"#)).unwrap_err()),
            "/count"
        );
        assert_eq!(
            pointer(parse_json::<Body>(&req(r#"{"name":"a"}"#)).unwrap_err()),
            "/count"
        );
        assert_eq!(
            pointer(parse_json::<Body>(&req(r#"{"name":"a","count":1,"extra":2}"#)).unwrap_err()),
            "/extra"
        );
        assert_eq!(pointer(parse_json::<Body>(&req("[1]")).unwrap_err()), "");
    }

    #[test]
    fn oversize_bodies_are_refused_before_parsing() {
        let big = format!(
            "{{\"name\":\"{}\",\"count\":1}}",
            "a".repeat(MAX_BODY_BYTES)
        );
        assert!(matches!(
            parse_json::<Body>(&req(&big)),
            Err(AppError::PayloadTooLarge(_))
        ));
    }
}
