//! Reading a `WWW-Authenticate` challenge (RFC 9110 §11.6.1) for its `resource_metadata`
//! parameter (RFC 9728), which tells a client where to learn how to authenticate.

/// The value of auth-param `name` in a challenge, unquoted.
pub fn param(header: &str, name: &str) -> Option<String> {
    let mut rest = header;
    while let Some(i) = find_ci(rest, name) {
        let before_ok = i == 0 || matches!(rest.as_bytes()[i - 1], b' ' | b',' | b'\t');
        let after = rest[i + name.len()..].trim_start();
        if before_ok {
            if let Some(v) = after.strip_prefix('=') {
                let v = v.trim_start();
                return Some(if let Some(q) = v.strip_prefix('"') {
                    let mut out = String::new();
                    let mut chars = q.chars();
                    while let Some(c) = chars.next() {
                        match c {
                            '\\' => out.extend(chars.next()),
                            '"' => break,
                            c => out.push(c),
                        }
                    }
                    out
                } else {
                    v.split([',', ' ']).next().unwrap_or("").to_owned()
                });
            }
        }
        rest = &rest[i + name.len()..];
    }
    None
}

fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    hay.to_ascii_lowercase().find(&needle.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_and_bare_parameters() {
        let h = r#"Bearer error="invalid_token", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource""#;
        assert_eq!(
            param(h, "resource_metadata").as_deref(),
            Some("https://api.example.com/.well-known/oauth-protected-resource")
        );
        assert_eq!(param(h, "error").as_deref(), Some("invalid_token"));
        assert_eq!(
            param("Bearer realm=mcp, scope=\"a b\"", "realm").as_deref(),
            Some("mcp")
        );
        assert_eq!(
            param("Bearer realm=mcp, scope=\"a b\"", "scope").as_deref(),
            Some("a b")
        );
        assert_eq!(param("Bearer", "resource_metadata"), None);
        assert_eq!(
            param("Bearer xresource_metadata=1", "resource_metadata"),
            None
        );
    }
}
