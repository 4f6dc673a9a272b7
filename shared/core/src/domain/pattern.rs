//! The regular expressions inside a tool's input schema (`pattern`, `patternProperties`).
//!
//! toolreg hands these schemas on to agents, whose validators run them with ECMA-262 engines (the
//! dialect JSON Schema specifies), most of them backtracking. So a pattern is accepted only if it
//! parses as ECMA-262 (with the `u` flag), is short, is one of few, and has no nested unbounded
//! quantifier such as `(a+)+` (exponential backtracking on a near-miss input). The count and
//! length bounds also bound the work of compiling the schema here.

use super::error::Invalid;
use serde_json::Value;

/// Patterns per schema.
pub const MAX_PATTERNS: usize = 32;
/// Characters per pattern.
pub const MAX_PATTERN_CHARS: usize = 512;

/// Keywords whose values are data, not schemas: a `pattern` key inside them is not a regex.
const DATA_KEYWORDS: &[&str] = &["const", "enum", "default", "examples"];

/// A pattern found in a schema and the JSON pointer (relative to the schema) that names it.
#[derive(Debug, PartialEq)]
pub struct Found {
    pub pointer: String,
    pub pattern: String,
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Every pattern in `schema`, in document order, stopping after `limit`.
pub fn collect(schema: &Value, limit: usize) -> Vec<Found> {
    fn walk(v: &Value, at: &str, out: &mut Vec<Found>, limit: usize) {
        if out.len() >= limit {
            return;
        }
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let here = format!("{at}/{}", escape(k));
                    match (k.as_str(), child) {
                        ("pattern", Value::String(p)) => out.push(Found {
                            pointer: here,
                            pattern: p.clone(),
                        }),
                        ("patternProperties", Value::Object(props)) => {
                            for (p, sub) in props {
                                let pp = format!("{here}/{}", escape(p));
                                if out.len() < limit {
                                    out.push(Found {
                                        pointer: pp.clone(),
                                        pattern: p.clone(),
                                    });
                                }
                                walk(sub, &pp, out, limit);
                            }
                        }
                        (k, _) if DATA_KEYWORDS.contains(&k) => {}
                        _ => walk(child, &here, out, limit),
                    }
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, &format!("{at}/{i}"), out, limit);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(schema, "", &mut out, limit);
    out
}

/// Why `pattern` is refused, if it is.
pub fn check(pattern: &str) -> Result<(), Invalid> {
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err(Invalid(format!(
            "patterns are limited to {MAX_PATTERN_CHARS} characters"
        )));
    }
    if let Err(e) = regress::Regex::with_flags(pattern, "u") {
        return Err(Invalid(format!(
            "is not an ECMA-262 regular expression: {e}"
        )));
    }
    if has_nested_unbounded_quantifier(pattern) {
        return Err(Invalid::new(
            "repeats a group that itself repeats without bound (like (a+)+): ECMA-262 engines \
             backtrack exponentially on it; make the inner or outer repetition bounded",
        ));
    }
    Ok(())
}

/// True for `(…x+…)*`-like shapes: an unbounded quantifier applied to a group that contains an
/// unbounded quantifier. Escapes and character classes are skipped; the pattern has already
/// parsed as ECMA-262.
fn has_nested_unbounded_quantifier(pattern: &str) -> bool {
    let chars: Vec<char> = pattern.chars().collect();
    // One flag per open group: does it contain an unbounded quantifier?
    let mut stack: Vec<bool> = vec![false];
    // The group that just closed (and whether it held an unbounded quantifier), if the last
    // atom was a group.
    let mut last_group: Option<bool> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let quantifier = match c {
            '*' | '+' => Some((true, 1)),
            '?' => Some((false, 1)),
            '{' => braces(&chars[i..]),
            _ => None,
        };
        if let Some((unbounded, len)) = quantifier {
            if unbounded {
                if last_group == Some(true) {
                    return true;
                }
                if let Some(top) = stack.last_mut() {
                    *top = true;
                }
            }
            last_group = None;
            i += len;
            // A lazy quantifier's `?` is part of the quantifier.
            if chars.get(i) == Some(&'?') {
                i += 1;
            }
            continue;
        }
        last_group = None;
        match c {
            '\\' => i += 1,
            '[' => {
                i += 1;
                while i < chars.len() && chars[i] != ']' {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            '(' => {
                stack.push(false);
                // Skip a group's kind (`?:`, `?=`, `?!`, `?<=`, `?<!`, `?<name>`).
                if chars.get(i + 1) == Some(&'?') {
                    i += 2;
                    if chars.get(i) == Some(&'<') {
                        while i < chars.len() && !matches!(chars[i], '>' | '=' | '!') {
                            i += 1;
                        }
                    }
                }
            }
            ')' => {
                let inner = stack.pop().unwrap_or(false);
                if stack.is_empty() {
                    stack.push(false);
                }
                // The enclosing group contains whatever its children contain.
                if inner {
                    if let Some(top) = stack.last_mut() {
                        *top = true;
                    }
                }
                last_group = Some(inner);
            }
            _ => {}
        }
        i += 1;
    }
    false
}

/// A `{n}`, `{n,}` or `{n,m}` quantifier at the start of `s`: (unbounded, length).
fn braces(s: &[char]) -> Option<(bool, usize)> {
    let end = s.iter().position(|&c| c == '}')?;
    let body: String = s[1..end].iter().collect();
    let (lo, hi) = match body.split_once(',') {
        Some((lo, hi)) => (lo, Some(hi)),
        None => (body.as_str(), None),
    };
    let digits = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit());
    if !digits(lo) || hi.is_some_and(|h| !h.is_empty() && !digits(h)) {
        return None;
    }
    Some((hi == Some(""), end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patterns_are_found_where_schemas_hold_them_and_nowhere_else() {
        let s = json!({
            "type": "object",
            "properties": {
                "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
                "pattern": {"type": "string"},
                "tags": {"items": {"pattern": "^t"}}
            },
            "patternProperties": {"^x-": {"pattern": "a/b"}},
            "const": {"pattern": "not a schema"}
        });
        let found: Vec<_> = collect(&s, 100).into_iter().map(|f| f.pointer).collect();
        assert_eq!(
            found,
            [
                "/patternProperties/^x-",
                "/patternProperties/^x-/pattern",
                "/properties/code/pattern",
                "/properties/tags/items/pattern",
            ]
        );
        assert_eq!(collect(&s, 2).len(), 2);
    }

    #[test]
    fn ecma_patterns_pass_and_other_dialects_do_not() {
        for ok in [
            "^[a-z0-9_]+$",
            r"^\d{4}-\d{2}-\d{2}$",
            r"(?<year>\d{4})",
            r"(?<=x)y",
            r"\p{L}+",
            "^(ab|cd){1,3}$",
            "(a+){2,5}",
            "(?:a|b)*c",
            "[(+*)]+",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        for bad in [r"(?i)abc", r"\Z", "(unclosed", r"\", "a**"] {
            assert!(check(bad).is_err(), "{bad}");
        }
        assert!(check(&"a".repeat(MAX_PATTERN_CHARS + 1)).is_err());
    }

    #[test]
    fn nested_unbounded_quantifiers_are_refused() {
        for bad in [
            "(a+)+$",
            "^(a*)*b",
            "((ab)*)+",
            "(x+x+)+y",
            r"^(\w+\s?)*$",
            "(a{2,})*",
            "(?:a+)+?",
        ] {
            assert!(has_nested_unbounded_quantifier(bad), "{bad}");
            assert!(check(bad).is_err(), "{bad}");
        }
        for fine in ["(a+)?", "(a+){3}", "(ab)+", "[a+]+", r"\(a+\)+", "(a+)b+"] {
            assert!(!has_nested_unbounded_quantifier(fine), "{fine}");
        }
    }
}
