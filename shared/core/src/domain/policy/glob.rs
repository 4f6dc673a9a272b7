//! Tool-name globs: `*` (any run of characters, possibly empty) and `?` (exactly one character),
//! matched case-insensitively (ASCII, as tool names are ASCII). Compiled once at parse time;
//! matching allocates nothing.

/// Longest glob accepted (tool names are at most 64 characters).
pub const MAX_GLOB_LEN: usize = 128;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    /// An ASCII character, lowercased.
    Lit(u8),
    /// `?`
    One,
    /// `*`
    Star,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Shape {
    /// No wildcard: a case-insensitive comparison.
    Exact(String),
    /// `prefix*` with no other wildcard.
    Prefix(String),
    /// `*` (or `**`...): everything.
    All,
    General(Vec<Tok>),
}

/// A compiled glob; [`Glob::source`] is the text it was compiled from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glob {
    source: String,
    shape: Shape,
}

impl Glob {
    /// Compiles `pattern`: 1 to [`MAX_GLOB_LEN`] characters among letters, digits, `_` (the
    /// characters of tool names), `*` and `?`. Anything else (character classes, braces,
    /// escapes, other punctuation) is refused, since such a glob could never match a tool name.
    pub fn compile(pattern: &str) -> Result<Self, String> {
        if pattern.is_empty() {
            return Err("a glob must not be empty".into());
        }
        if pattern.len() > MAX_GLOB_LEN {
            return Err(format!("a glob is at most {MAX_GLOB_LEN} characters long"));
        }
        if let Some(c) = pattern
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '*' | '?')))
        {
            let hint = match c {
                '[' | ']' => " (character classes are not supported)",
                '{' | '}' => " (alternatives are not supported: list several globs)",
                '\\' => " (escapes are not supported)",
                _ => " (tool names hold only letters, digits and _)",
            };
            return Err(format!(
                "invalid character {c:?} in glob {pattern:?}: only letters, digits, _, * and ? are allowed{hint}"
            ));
        }
        let mut toks: Vec<Tok> = Vec::with_capacity(pattern.len());
        for b in pattern.bytes() {
            let t = match b {
                b'*' => Tok::Star,
                b'?' => Tok::One,
                b => Tok::Lit(b.to_ascii_lowercase()),
            };
            // `**` is `*`.
            if !(t == Tok::Star && toks.last() == Some(&Tok::Star)) {
                toks.push(t);
            }
        }
        let lits = |ts: &[Tok]| -> Option<String> {
            ts.iter()
                .map(|t| match t {
                    Tok::Lit(b) => Some(*b as char),
                    _ => None,
                })
                .collect()
        };
        let shape = if toks == [Tok::Star] {
            Shape::All
        } else if let Some(s) = lits(&toks) {
            Shape::Exact(s)
        } else if toks.last() == Some(&Tok::Star) {
            match lits(&toks[..toks.len() - 1]) {
                Some(p) => Shape::Prefix(p),
                None => Shape::General(toks),
            }
        } else {
            Shape::General(toks)
        };
        Ok(Self {
            source: pattern.to_owned(),
            shape,
        })
    }

    /// The pattern as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the glob matches every name.
    pub fn is_all(&self) -> bool {
        self.shape == Shape::All
    }

    /// The lowercased literal when the glob has no wildcard.
    pub(super) fn literal(&self) -> Option<&str> {
        match &self.shape {
            Shape::Exact(s) => Some(s),
            _ => None,
        }
    }

    /// Whether `name` matches, ignoring ASCII case.
    pub fn matches(&self, name: &str) -> bool {
        match &self.shape {
            Shape::All => true,
            Shape::Exact(s) => name.eq_ignore_ascii_case(s),
            Shape::Prefix(p) => {
                name.len() >= p.len()
                    && name.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
            }
            Shape::General(toks) => general(toks, name),
        }
    }
}

/// The classic linear-space wildcard match with one backtracking point (the last `*`).
/// `?` consumes one character (not one byte), so non-ASCII input is handled correctly.
fn general(toks: &[Tok], name: &str) -> bool {
    let s = name.as_bytes();
    let (mut p, mut i) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    let char_len = |i: usize| -> usize { name[i..].chars().next().map_or(1, char::len_utf8) };
    loop {
        if p < toks.len() {
            match toks[p] {
                Tok::Star => {
                    star = Some((p + 1, i));
                    p += 1;
                    continue;
                }
                Tok::One if i < s.len() => {
                    i += char_len(i);
                    p += 1;
                    continue;
                }
                Tok::Lit(c) if i < s.len() && s[i].to_ascii_lowercase() == c => {
                    i += 1;
                    p += 1;
                    continue;
                }
                _ => {}
            }
        } else if i == s.len() {
            return true;
        }
        match star {
            Some((sp, si)) if si < s.len() => {
                let ni = si + char_len(si);
                star = Some((sp, ni));
                p = sp;
                i = ni;
            }
            _ => return false,
        }
    }
}
