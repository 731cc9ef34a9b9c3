//! A first-party library: formats numbers with itoa (an external crate) and
//! searches bytes with memchr (a vendored one).

/// Renders `n` in decimal without allocating through `fmt`.
pub fn decimal(n: u64) -> String {
    let mut buf = itoa::Buffer::new();
    buf.format(n).to_owned()
}

/// Counts the lines of `text`.
pub fn count_lines(text: &str) -> usize {
    memchr::memchr_iter(b'\n', text.as_bytes()).count()
}

/// The greeting the binary prints.
pub fn greeting(name: &str, lines: usize) -> String {
    format!("hello, {name}: {} lines", decimal(lines as u64))
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts() {
        assert_eq!(super::count_lines("a\nb\n"), 2);
    }
}
