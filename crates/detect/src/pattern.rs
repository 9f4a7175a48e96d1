//! The shapes of tracking-number formats, written as short patterns and matched byte by byte.
//!
//! Why a pattern language of our own rather than regular expressions: a format table that reads
//! like the carriers' documentation (`1Z{x15}{d1}`, `TBA{d12}`) keeps each format on one line
//! beside its source, and matching these patterns on a stack buffer costs a few dozen byte
//! comparisons — detection must stay well above a million numbers a second on one core, with no
//! regex crate to compile or carry.
//!
//! Syntax (upper-case input only; detection normalizes first):
//! - a letter or digit outside braces stands for itself: `1Z`, `TBA`;
//! - `{dN}` N digits, `{aN}` N letters `A`–`Z`, `{xN}` N letters or digits, `{hN}` N hexadecimal
//!   digits (`0`–`9`, `A`–`F`); `{dN-M}` N to M;
//! - `[CD]` one character out of the set;
//! - `|` separates alternatives: `77{d12}|43{d12}`.

/// What one position may hold.
#[derive(Debug, Clone, Copy)]
enum Class {
    Literal(u8),
    Digit,
    Letter,
    Alphanumeric,
    Hex,
    OneOf(&'static [u8]),
}

impl Class {
    #[inline]
    fn accepts(self, b: u8) -> bool {
        match self {
            Class::Literal(l) => b == l,
            Class::Digit => b.is_ascii_digit(),
            Class::Letter => b.is_ascii_uppercase(),
            Class::Alphanumeric => b.is_ascii_digit() || b.is_ascii_uppercase(),
            Class::Hex => b.is_ascii_digit() || (b'A'..=b'F').contains(&b),
            Class::OneOf(set) => set.contains(&b),
        }
    }
}

/// A class repeated `min..=max` times.
#[derive(Debug, Clone, Copy)]
struct Segment {
    class: Class,
    min: usize,
    max: usize,
}

/// One compiled alternative.
#[derive(Debug, Clone)]
struct Sequence {
    segments: Vec<Segment>,
    min_len: usize,
    max_len: usize,
}

/// A compiled pattern: one or more alternatives.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    alternatives: Vec<Sequence>,
}

impl Pattern {
    /// Compiles `text`; panics on a malformed pattern (the patterns are constants in
    /// `data/formats.tsv`, checked by the tests).
    pub(crate) fn compile(text: &'static str) -> Pattern {
        Pattern {
            alternatives: text.split('|').map(compile_sequence).collect(),
        }
    }

    /// Whether some alternative can be `len` bytes long.
    pub(crate) fn allows_len(&self, len: usize) -> bool {
        self.alternatives
            .iter()
            .any(|s| (s.min_len..=s.max_len).contains(&len))
    }

    /// The bytes a matching number can start with, as a bit set over ASCII (bit `b` for byte
    /// `b`): a cheap test that rules out most formats before matching.
    pub(crate) fn first_bytes(&self) -> u128 {
        let mut set = 0u128;
        for sequence in &self.alternatives {
            let class = sequence.segments[0].class;
            for b in 0..128u8 {
                if class.accepts(b) {
                    set |= 1 << b;
                }
            }
        }
        set
    }

    /// Whether `n` (upper-case ASCII letters and digits) matches one of the alternatives.
    #[inline]
    pub(crate) fn matches(&self, n: &[u8]) -> bool {
        self.alternatives
            .iter()
            .any(|s| (s.min_len..=s.max_len).contains(&n.len()) && match_segments(&s.segments, n))
    }
}

fn compile_sequence(text: &'static str) -> Sequence {
    let bytes = text.as_bytes();
    let mut segments = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => {
                let end = i + text[i..].find('}').expect("`{` closed by `}`");
                let body = &text[i + 1..end];
                let class = match body.as_bytes().first() {
                    Some(b'd') => Class::Digit,
                    Some(b'a') => Class::Letter,
                    Some(b'x') => Class::Alphanumeric,
                    Some(b'h') => Class::Hex,
                    _ => panic!("unknown class in {{{body}}}"),
                };
                let counts = &body[1..];
                let (min, max) = match counts.split_once('-') {
                    Some((min, max)) => (number(min), number(max)),
                    None => (number(counts), number(counts)),
                };
                assert!(0 < min && min <= max, "bad count in {{{body}}}");
                segments.push(Segment { class, min, max });
                i = end + 1;
            }
            b'[' => {
                let end = i + text[i..].find(']').expect("`[` closed by `]`");
                let set = &text.as_bytes()[i + 1..end];
                assert!(!set.is_empty(), "empty set in {text}");
                segments.push(Segment {
                    class: Class::OneOf(set),
                    min: 1,
                    max: 1,
                });
                i = end + 1;
            }
            b if b.is_ascii_digit() || b.is_ascii_uppercase() => {
                segments.push(Segment {
                    class: Class::Literal(b),
                    min: 1,
                    max: 1,
                });
                i += 1;
            }
            other => panic!("unexpected {:?} in pattern {text}", other as char),
        }
    }
    Sequence {
        min_len: segments.iter().map(|s| s.min).sum(),
        max_len: segments.iter().map(|s| s.max).sum(),
        segments,
    }
}

fn number(text: &str) -> usize {
    text.parse()
        .unwrap_or_else(|_| panic!("not a count: {text:?}"))
}

/// Matches `n` against the segments, trying the longer runs of a variable segment first.
fn match_segments(segments: &[Segment], n: &[u8]) -> bool {
    let Some((first, rest)) = segments.split_first() else {
        return n.is_empty();
    };
    let available = n
        .iter()
        .take(first.max)
        .take_while(|&&b| first.class.accepts(b))
        .count();
    if available < first.min {
        return false;
    }
    if first.min == first.max {
        return match_segments(rest, &n[first.min..]);
    }
    (first.min..=available)
        .rev()
        .any(|taken| match_segments(rest, &n[taken..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &'static str, n: &str) -> bool {
        Pattern::compile(pattern).matches(n.as_bytes())
    }

    #[test]
    fn literals_classes_and_counts() {
        assert!(m("1Z{x15}{d1}", "1Z999AA10123456784"));
        assert!(!m("1Z{x15}{d1}", "1Z999AA1012345678A"));
        assert!(!m("1Z{x15}{d1}", "2Z999AA10123456784"));
        assert!(m("TBA{d12}", "TBA502887274000"));
        assert!(!m("TBA{d12}", "TBA50288727400"));
        assert!(m("[CD]{d14}", "D10011354453707"));
        assert!(!m("[CD]{d14}", "E10011354453707"));
        assert!(m("{a2}{d8}{d1}{a2}", "RB123456785GB"));
        assert!(!m("{a2}{d8}{d1}{a2}", "RB123456785G1"));
    }

    #[test]
    fn variable_counts_backtrack() {
        // J + two or three letters + 9 or 10 digits: both splits are tried.
        assert!(m("J{a2-3}{d9-10}", "JJD0099999999"));
        assert!(m("J{a2-3}{d9-10}", "JVGL0999999990"));
        assert!(!m("J{a2-3}{d9-10}", "JVGL09999999901"));
        assert!(m("{x2-4}{d2}", "AB1234"));
        assert!(m("{x2-4}{d2}", "AB12"));
        assert!(!m("{x2-4}{d2}", "AB1"));
    }

    #[test]
    fn alternatives_and_lengths() {
        let p = Pattern::compile("77{d12-15}|43{d12-15}");
        assert!(p.matches(b"77123456789012"));
        assert!(p.matches(b"43123456789012345"));
        assert!(!p.matches(b"44123456789012"));
        assert!(p.allows_len(14) && p.allows_len(17));
        assert!(!p.allows_len(13) && !p.allows_len(18));
    }

    #[test]
    fn first_bytes_are_those_a_match_can_start_with() {
        let set = Pattern::compile("1Z{x15}|[CD]{d3}|{d2}").first_bytes();
        for b in b"1CD0123456789" {
            assert_ne!(set & (1 << b), 0, "{}", *b as char);
        }
        for b in b"AZE " {
            assert_eq!(set & (1 << b), 0, "{}", *b as char);
        }
    }

    #[test]
    #[should_panic(expected = "unknown class")]
    fn malformed_patterns_are_refused() {
        Pattern::compile("{q3}");
    }
}
