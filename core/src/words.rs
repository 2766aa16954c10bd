//! Splitting a command line into words, as a shell does: spaces separate words, and quotes
//! (`"…"` with `\` escapes, or `'…'`) keep spaces inside one. Each word says whether it was
//! quoted, so `node=3` typed bare is an option and `"node=3"` is a value.
//!
//! The scenario language splits its lines with it, and etcdctl's parser the operations inside
//! a transaction (`txn` takes each as one quoted word, as `etcdctl txn` reads them one a line).

/// Splits a line into words, honouring quotes. `Ok(vec![])` for an empty line.
pub fn split(text: &str) -> Result<Vec<(String, bool)>, String> {
    let mut words = Vec::new();
    let mut chars = text.trim().chars().peekable();
    while chars.peek().is_some() {
        let mut word = String::new();
        let mut quoted = false;
        while let Some(&c) = chars.peek() {
            match c {
                c if c.is_whitespace() => break,
                '"' | '\'' => {
                    chars.next();
                    quoted = true;
                    loop {
                        match chars.next() {
                            Some(q) if q == c => break,
                            Some('\\') if c == '"' => word.extend(chars.next()),
                            Some(other) => word.push(other),
                            None => return Err(format!("unclosed quote {c}")),
                        }
                    }
                }
                _ => {
                    word.push(c);
                    chars.next();
                }
            }
        }
        words.push((word, quoted));
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
    }
    Ok(words)
}
