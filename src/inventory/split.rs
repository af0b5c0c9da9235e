//! An inventory file read in pieces: the top level, with each account's
//! text replaced by a placeholder of the same lines (`0` and the account's
//! newlines; the columns it shifts are recorded), and each account's own
//! text. A large organization's file is then never held whole
//! in memory, and its accounts (nearly all of it) are parsed on every core
//! while the rest is still being read.
//!
//! The splitter only follows the JSON structure (strings, escapes, brackets)
//! to find where each element of the top-level `accounts` array begins and
//! ends; serde parses every piece, so every syntax error is still serde's,
//! at the position it has in the file.
//!
//! Following every string of a large file is a fifth of the time it takes
//! to parse it, on the one thread that reads. So a guided split
//! ([`Splitting::Guided`]) follows the structure of the first two accounts
//! only, learns what separates them (`},{"id"` in a file written on one
//! line; the same with newlines and indentation in a pretty-printed one),
//! and from then on ends each account where that text next occurs, which
//! `memmem` finds without following strings. The guess is checked by the
//! parse: an account's text parses as an account only if its value ends
//! exactly there (a JSON value ends where its structure says, whatever
//! follows), and a separator holds a quote, so it is never found inside a
//! string. A guided split keeps no positions: when anything in it fails to
//! parse, the file is read again with an exact split, which gives every
//! error at its place.

use std::io::Read;

/// One element of the top-level `accounts` array, as it is in the file.
pub(super) struct AccountText {
    pub bytes: Vec<u8>,
    /// 1-based line of its first byte.
    pub line: usize,
    /// Bytes before it on that line.
    pub column_offset: usize,
}

/// The top level of the file, with `0` in place of each account.
pub(super) struct Shell {
    pub text: Vec<u8>,
    shifts: Vec<Shift>,
    /// Accounts a guided split ended at a separator (the tests' evidence
    /// that the guided path was taken).
    #[cfg_attr(not(test), allow(dead_code))]
    pub guided_accounts: usize,
}

/// After a placeholder, on `line`: from `shell_column` on (bytes since the
/// line's start), the file has `removed` more bytes before each position.
struct Shift {
    line: usize,
    shell_column: usize,
    removed: usize,
}

impl Shell {
    /// The file's line and column of a position serde gives in the shell
    /// (lines are the same; columns count bytes).
    pub fn file_position(&self, line: usize, column: usize) -> (usize, usize) {
        let removed = self
            .shifts
            .iter()
            .rev()
            .find(|s| s.line == line && s.shell_column < column)
            .map_or(0, |s| s.removed);
        (line, column + removed)
    }
}

/// Why the file could not be split (its JSON is left to serde).
pub(super) enum SplitError {
    Read(std::io::Error),
    /// Not UTF-8 at this 1-based line and column (in characters).
    NotUtf8 {
        line: usize,
        column: usize,
        byte: u8,
        offset: u64,
    },
}

/// How much is read at a time: small enough that a small document (the
/// demo, a test's) does not pay for a large zeroed buffer.
const READ_SIZE: usize = 64 << 10;

/// How accounts are found: by following the structure of all of the file,
/// or of its first two accounts and then by the text that separates them
/// (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Splitting {
    Exact,
    /// No positions and no UTF-8 check (the parse checks the text): its
    /// result is used only when every piece of it parses.
    Guided,
}

/// Reads `input` to its end, hands each account's text to `account` in file
/// order (which may hand back an emptied buffer, to hold a later account's
/// text: a large file's accounts then reuse a few buffers), and returns
/// the top level with a placeholder where each account was.
pub(super) fn split(
    input: impl Read,
    splitting: Splitting,
    account: &mut dyn FnMut(AccountText) -> Option<Vec<u8>>,
) -> Result<Shell, SplitError> {
    split_giving_up_past(input, splitting, GUIDED_FLOOR, account)
}

/// [`split`], a guided account given up past `guided_floor` bytes at least.
fn split_giving_up_past(
    mut input: impl Read,
    splitting: Splitting,
    guided_floor: usize,
    account: &mut dyn FnMut(AccountText) -> Option<Vec<u8>>,
) -> Result<Shell, SplitError> {
    let mut scanner = Scanner {
        guide: match splitting {
            Splitting::Exact => Guide::Off,
            Splitting::Guided => Guide::Learning(Vec::new()),
        },
        guided_floor,
        ..Scanner::default()
    };
    let mut buffer = vec![0u8; READ_SIZE];
    // Bytes of a character cut by the end of the previous read.
    let mut carried = 0usize;
    loop {
        let read = loop {
            match input.read(&mut buffer[carried..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(SplitError::Read(e)),
            }
        };
        let filled = carried + read;
        if splitting == Splitting::Guided {
            scanner.feed(&buffer[..filled], account);
            if read == 0 {
                break;
            }
            continue;
        }
        let valid = match std::str::from_utf8(&buffer[..filled]) {
            Ok(_) => filled,
            // A character cut by the end of the read: finish it next time.
            Err(e) if e.error_len().is_none() && read > 0 => e.valid_up_to(),
            Err(e) => {
                let at = e.valid_up_to();
                scanner.feed(&buffer[..at], account);
                return Err(SplitError::NotUtf8 {
                    line: scanner.line,
                    column: scanner.chars_in_line + 1,
                    byte: buffer[at],
                    offset: scanner.offset,
                });
            }
        };
        scanner.feed(&buffer[..valid], account);
        if read == 0 {
            break;
        }
        buffer.copy_within(valid..filled, 0);
        carried = filled - valid;
    }
    Ok(scanner.finish(account))
}

/// Strings, escapes and open brackets: all the splitter follows.
#[derive(Default)]
struct Structure {
    /// Open objects and arrays.
    depth: usize,
    in_string: bool,
    escaped: bool,
}

/// What one byte did to the structure.
#[derive(PartialEq)]
enum Step {
    Opened,
    Closed,
    Other,
}

impl Structure {
    /// Follows one byte.
    fn step(&mut self, b: u8) -> Step {
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
            }
            return Step::Other;
        }
        match b {
            b'"' => self.in_string = true,
            b'{' | b'[' => {
                self.depth += 1;
                return Step::Opened;
            }
            b'}' | b']' => {
                self.depth = self.depth.saturating_sub(1);
                return Step::Closed;
            }
            _ => {}
        }
        Step::Other
    }

    /// Follows `bytes` until a closing bracket brings the depth down to
    /// `target`: how many bytes that took (the bracket included), and
    /// whether it happened.
    fn scan_to_depth(&mut self, bytes: &[u8], target: usize) -> (usize, bool) {
        // Strings are most of the bytes: jump from quote to backslash to
        // quote. Outside them, only brackets and quotes matter; the bytes
        // jumped over change nothing.
        let mut i = 0;
        while i < bytes.len() {
            let rest = &bytes[i..];
            let next = if self.escaped {
                Some(0)
            } else if self.in_string {
                memchr::memchr2(b'"', b'\\', rest)
            } else {
                rest.iter().position(|&b| STRUCTURAL[usize::from(b)])
            };
            let Some(at) = next else {
                return (bytes.len(), false);
            };
            i += at + 1;
            if self.step(rest[at]) == Step::Closed && self.depth == target {
                return (i, true);
            }
        }
        (bytes.len(), false)
    }
}

/// How many bytes match: counted in byte-wide lanes (the compiler makes
/// this a vector loop), over slices short enough not to overflow them.
fn count_where(bytes: &[u8], matches: impl Fn(u8) -> bool) -> usize {
    bytes
        .chunks(255)
        .map(|chunk| {
            chunk
                .iter()
                .fold(0u8, |n, &b| n.wrapping_add(u8::from(matches(b))))
        })
        .map(usize::from)
        .sum()
}

/// The bytes that change the structure outside a string.
const STRUCTURAL: [bool; 256] = {
    let mut table = [false; 256];
    table[b'"' as usize] = true;
    table[b'{' as usize] = true;
    table[b'}' as usize] = true;
    table[b'[' as usize] = true;
    table[b']' as usize] = true;
    table
};

/// Where the scanner is in the JSON structure.
#[derive(Default)]
struct Scanner {
    /// The top level so far, accounts replaced.
    shell: Vec<u8>,
    structure: Structure,
    /// At depth 1, the next string is a key.
    expect_key: bool,
    /// The key being read, or the last one read, at depth 1.
    key: Vec<u8>,
    reading_key: bool,
    /// Inside the top-level `accounts` array (which is at depth 2).
    in_accounts: bool,
    /// Where placeholders moved the columns after them.
    shifts: Vec<Shift>,
    /// A buffer handed back, for the next account.
    spare: Option<Vec<u8>>,
    /// The account being read, and whether it is a scalar (ended by a
    /// delimiter rather than by its closing bracket).
    current: Option<(AccountText, bool)>,
    /// 1-based line, bytes and characters since its start, bytes so far
    /// (not kept by a guided split).
    line: usize,
    bytes_in_line: usize,
    chars_in_line: usize,
    offset: u64,
    guide: Guide,
    /// Accounts ended by the separator, not by their structure.
    guided_accounts: usize,
    /// The longest account so far, and the length below which a guided
    /// account is never given up (see `feed_until_guided_end`).
    longest_account: usize,
    guided_floor: usize,
}

/// A guided account is given up past four times the longest account before
/// it, and never below this: memory stays bounded by a few accounts when the
/// separator is not written alike after every one.
const GUIDED_FLOOR: usize = 64 << 20;

/// What a guided split knows of the text between accounts.
#[derive(Default)]
enum Guide {
    /// An exact split.
    #[default]
    Off,
    /// The bytes since an account's closing bracket, until the next
    /// account begins; empty before the first account has ended.
    Learning(Vec<u8>),
    /// Those bytes and the next account's opening bracket, when it is an
    /// object, waiting for the account's first key.
    Opened(Vec<u8>),
    /// The separator: an account's closing bracket, what follows it, and
    /// the next account's opening bracket and first key.
    Found(Box<memchr::memmem::Finder<'static>>),
}

impl Scanner {
    fn feed(&mut self, bytes: &[u8], account: &mut dyn FnMut(AccountText) -> Option<Vec<u8>>) {
        // What follows an account a guided split ended: its bytes were read
        // into the account's text, and are taken back out.
        let mut after_guided = Vec::new();
        self.feed_until_guided_end(bytes, account, &mut after_guided);
        while !after_guided.is_empty() {
            let bytes = std::mem::take(&mut after_guided);
            self.feed_until_guided_end(&bytes, account, &mut after_guided);
        }
    }

    /// Follows `bytes`, or stops after an account that a guided split ended
    /// with the bytes after it in `after_guided`.
    fn feed_until_guided_end(
        &mut self,
        bytes: &[u8],
        account: &mut dyn FnMut(AccountText) -> Option<Vec<u8>>,
        after_guided: &mut Vec<u8>,
    ) {
        if self.line == 0 {
            self.line = 1;
        }
        let mut rest = bytes;
        while let Some(&b) = rest.first() {
            // Inside an account's object (nearly every byte of a large
            // file): find where it ends, then copy and count in bulk.
            if let Some((text, false)) = &mut self.current {
                if let Guide::Found(separator) = &self.guide {
                    // Searched again from where a separator cut by the end of
                    // the last read may begin (after the opening bracket).
                    let from = text
                        .bytes
                        .len()
                        .saturating_sub(separator.needle().len() - 1)
                        .max(1);
                    text.bytes.extend_from_slice(rest);
                    let Some(at) = separator.find(&text.bytes[from..]) else {
                        // Far longer than any account before it: the
                        // separator is not written alike after every
                        // account, and the rest of the file would pile up
                        // here. Its structure is followed from now on.
                        let limit = self
                            .longest_account
                            .saturating_mul(4)
                            .max(self.guided_floor);
                        if text.bytes.len() > limit {
                            self.unguide(account);
                        }
                        return;
                    };
                    let end = from + at + 1;
                    after_guided.extend_from_slice(&text.bytes[end..]);
                    text.bytes.truncate(end);
                    self.structure = Structure {
                        depth: 2,
                        in_string: false,
                        escaped: false,
                    };
                    self.guided_accounts += 1;
                    self.end_account(account);
                    return;
                }
                let (used, ended) = self.structure.scan_to_depth(rest, 2);
                let (taken, after) = rest.split_at(used);
                text.bytes.extend_from_slice(taken);
                self.advance(taken);
                rest = after;
                if ended {
                    self.end_account(account);
                }
                continue;
            }
            self.byte(b, account);
            let (one, after) = rest.split_at(1);
            self.advance(one);
            rest = after;
        }
    }

    /// Moves the position past `bytes`.
    fn advance(&mut self, bytes: &[u8]) {
        let chars = |b: &[u8]| count_where(b, |b| b & 0xC0 != 0x80);
        self.offset += bytes.len() as u64;
        match memchr::memrchr(b'\n', bytes) {
            Some(last) => {
                self.line += count_where(bytes, |b| b == b'\n');
                let tail = &bytes[last + 1..];
                self.bytes_in_line = tail.len();
                self.chars_in_line = chars(tail);
            }
            None => {
                self.bytes_in_line += bytes.len();
                self.chars_in_line += chars(bytes);
            }
        }
    }

    fn byte(&mut self, b: u8, account: &mut dyn FnMut(AccountText) -> Option<Vec<u8>>) {
        // An account's scalar (not an object) ends at a delimiter.
        if let Some((_, true)) = &self.current {
            if !self.structure.in_string
                && self.structure.depth == 2
                && (b == b',' || b == b']' || b.is_ascii_whitespace())
            {
                self.end_account(account);
            }
        }
        let starts_account = self.current.is_none()
            && self.in_accounts
            && self.structure.depth == 2
            && !self.structure.in_string
            && !(b == b',' || b == b']' || b.is_ascii_whitespace());
        if starts_account {
            let scalar = !(b == b'{' || b == b'[');
            self.guide = match std::mem::take(&mut self.guide) {
                // The first account's `{`: nothing to learn yet.
                Guide::Learning(between) if b == b'{' && !between.is_empty() => {
                    Guide::Opened(between)
                }
                Guide::Learning(_) | Guide::Opened(_) => Guide::Learning(Vec::new()),
                other => other,
            };
            self.current = Some((
                AccountText {
                    bytes: self.spare.take().unwrap_or_default(),
                    line: self.line,
                    column_offset: self.bytes_in_line,
                },
                scalar,
            ));
        }
        match &mut self.current {
            Some((text, _)) => text.bytes.push(b),
            None => {
                self.shell.push(b);
                if let Guide::Learning(between) = &mut self.guide {
                    if !between.is_empty() {
                        between.push(b);
                    }
                }
            }
        }
        let was_in_string = self.structure.in_string;
        let depth_before = self.structure.depth;
        let step = self.structure.step(b);
        if was_in_string {
            if !self.structure.in_string {
                self.reading_key = false;
            } else if self.reading_key {
                self.key.push(b);
            }
            return;
        }
        match (b, step) {
            (b'"', _) if depth_before == 1 && self.expect_key => {
                self.key.clear();
                self.reading_key = true;
                self.expect_key = false;
            }
            (_, Step::Opened) => {
                if depth_before == 1 && b == b'[' && self.key_is_accounts() {
                    self.in_accounts = true;
                }
                if self.structure.depth == 1 {
                    self.expect_key = b == b'{';
                }
            }
            // An account's object ends in `scan_to_depth`, never here.
            (_, Step::Closed) if self.structure.depth == 1 => self.in_accounts = false,
            (b',', _) if depth_before == 1 => self.expect_key = true,
            _ => {}
        }
    }

    fn key_is_accounts(&self) -> bool {
        if self.key == b"accounts" {
            return true;
        }
        // A key written with escapes is the key it decodes to.
        self.key.contains(&b'\\')
            && serde_json::from_slice::<String>(&[b"\"", &self.key[..], b"\""].concat())
                .is_ok_and(|k| k == "accounts")
    }

    /// Hands the account over and writes its placeholder: `0`, then the
    /// account's newlines, and records how it shifts the columns after it.
    fn end_account(&mut self, account: &mut dyn FnMut(AccountText) -> Option<Vec<u8>>) {
        let Some((text, scalar)) = self.current.take() else {
            return;
        };
        self.longest_account = self.longest_account.max(text.bytes.len());
        let learnt = match &self.guide {
            Guide::Opened(between) if !scalar => separator(between, &text.bytes),
            _ => None,
        };
        self.guide = match (std::mem::take(&mut self.guide), learnt) {
            (Guide::Off, _) => Guide::Off,
            (Guide::Found(separator), _) => Guide::Found(separator),
            (_, Some(separator)) => Guide::Found(Box::new(
                memchr::memmem::Finder::new(&separator).into_owned(),
            )),
            // What follows is learnt from the account's closing bracket on.
            _ if !scalar => Guide::Learning(text.bytes.last().copied().into_iter().collect()),
            _ => Guide::Learning(Vec::new()),
        };
        // "0" and the account's newlines: the lines stay the file's. The
        // columns after it on its last line are shifted back by what the
        // account had there more than the placeholder, recorded to map
        // positions back (no padding: a one-line file would double).
        self.shell.push(b'0');
        self.shell
            .extend(std::iter::repeat_n(b'\n', self.line - text.line));
        let shell_column =
            self.shell.len() - memchr::memrchr(b'\n', &self.shell).map_or(0, |i| i + 1);
        self.shifts.push(Shift {
            line: self.line,
            shell_column,
            removed: self.bytes_in_line.saturating_sub(shell_column),
        });
        if let Some(mut buffer) = account(text) {
            buffer.clear();
            self.spare = Some(buffer);
        }
    }

    /// Gives up guessing: the account being read is followed by its
    /// structure from its opening bracket on, and so is all that comes after.
    fn unguide(&mut self, account: &mut dyn FnMut(AccountText) -> Option<Vec<u8>>) {
        self.guide = Guide::Off;
        if let Some((text, false)) = &mut self.current {
            // Its opening bracket stays; the rest is read again.
            let rest = text.bytes.split_off(1);
            self.structure = Structure {
                depth: 3,
                in_string: false,
                escaped: false,
            };
            self.feed(&rest, account);
        }
    }

    fn finish(mut self, account: &mut dyn FnMut(AccountText) -> Option<Vec<u8>>) -> Shell {
        // The last account has no separator after it: its text runs to the
        // end of the file, and is followed by its structure.
        if matches!(self.guide, Guide::Found(_)) {
            self.unguide(account);
        }
        // A file that ends inside an account: serde says where.
        self.end_account(account);
        Shell {
            text: self.shell,
            shifts: self.shifts,
            guided_accounts: self.guided_accounts,
        }
    }
}

/// The separator a guided split looks for, from the bytes after one account
/// (its closing bracket first) and the text of the next one: those bytes,
/// then the next account's opening bracket, whitespace and first key (the
/// quotes included). `None` when the account does not begin with a plain
/// key, or the bytes between are not a comma and whitespace.
fn separator(between: &[u8], next: &[u8]) -> Option<Vec<u8>> {
    let json_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let (&close, gap) = between.split_first()?;
    let gap_ok = close == b'}'
        && gap.iter().filter(|&&b| b == b',').count() == 1
        && gap.iter().all(|b| *b == b',' || json_space(b));
    let (&open, inside) = next.split_first()?;
    if !gap_ok || open != b'{' {
        return None;
    }
    let spaces = inside.iter().take_while(|b| json_space(b)).count();
    let key = inside.get(spaces..)?.strip_prefix(b"\"")?;
    let key_len = key.iter().position(|&b| b == b'"' || b == b'\\')?;
    if key[key_len] != b'"' {
        return None;
    }
    let prefix_len = 1 + spaces + 1 + key_len + 1;
    Some([between, &next[..prefix_len]].concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(text: &[u8]) -> (Shell, Vec<(usize, usize, String)>) {
        let mut accounts = Vec::new();
        let shell = match split(text, Splitting::Exact, &mut |a| {
            accounts.push((a.line, a.column_offset, String::from_utf8(a.bytes).unwrap()));
            None
        }) {
            Ok(shell) => shell,
            Err(_) => panic!("split failed"),
        };
        (shell, accounts)
    }

    #[test]
    fn accounts_are_cut_out_with_their_positions_and_the_shell_keeps_its_columns() {
        let text = "{\"format\": \"f\", \"accounts\": [{\"id\": \"a]}\\\"\"},\n  {\"x\": [1,\n2]}, 7 ],\n\"errors\": [{\"accounts\": [1]}]}";
        let (shell, accounts) = pieces(text.as_bytes());
        assert_eq!(
            accounts,
            vec![
                (1, 29, "{\"id\": \"a]}\\\"\"}".to_string()),
                (2, 2, "{\"x\": [1,\n2]}".to_string()),
                (3, 5, "7".to_string()),
            ]
        );
        // The same lines; positions after a placeholder map back to the
        // file's (columns 1-based, in bytes): line 3 is `2]}, 7 ],` in the
        // file and `, 0 ],` in the shell.
        assert_eq!(shell.text.iter().filter(|&&b| b == b'\n').count(), 3);
        assert_eq!(shell.file_position(3, 1), (3, 4));
        assert_eq!(shell.file_position(3, 3), (3, 6));
        assert_eq!(shell.file_position(3, 6), (3, 9));
        assert_eq!(shell.file_position(1, 5), (1, 5));
        let shell = String::from_utf8(shell.text).unwrap();
        assert!(shell.starts_with("{\"format\": \"f\", \"accounts\": [0"));
        // Only the top level's `accounts` key is split.
        assert!(shell.ends_with("\"errors\": [{\"accounts\": [1]}]}"));
    }

    /// Byte by byte: what `scan_to_depth` must agree with.
    fn scan_bytewise(s: &mut Structure, bytes: &[u8], target: usize) -> (usize, bool) {
        for (i, &b) in bytes.iter().enumerate() {
            if s.step(b) == Step::Closed && s.depth == target {
                return (i + 1, true);
            }
        }
        (bytes.len(), false)
    }

    #[test]
    fn scanning_token_by_token_follows_the_structure_as_byte_by_byte() {
        // Random texts of quotes, backslashes and brackets, from random
        // states.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabets: [&[u8]; 3] = [b"\"{}[]a \\", b"\"{}[]abcdefgh:,", b"{}[]a"];
        let mut ended = 0;
        for round in 0..20_000 {
            let alphabet = alphabets[round % alphabets.len()];
            let len = (next() % 400) as usize;
            let text: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let start = || Structure {
                depth: (round % 7) + 1,
                in_string: round % 5 == 0,
                escaped: round % 11 == 0,
            };
            let target = (next() % 4) as usize;
            let (mut fast, mut slow) = (start(), start());
            let got = fast.scan_to_depth(&text, target);
            let want = scan_bytewise(&mut slow, &text, target);
            assert_eq!(
                got,
                want,
                "round {round}: {}",
                String::from_utf8_lossy(&text)
            );
            assert_eq!(
                (fast.depth, fast.in_string, fast.escaped),
                (slow.depth, slow.in_string, slow.escaped),
                "round {round}"
            );
            ended += usize::from(got.1);
        }
        // Both outcomes are exercised.
        assert!(ended > 1000 && ended < 19_000, "{ended}");
    }

    #[test]
    fn an_escaped_key_is_the_key_it_decodes_to() {
        let (_, accounts) = pieces(b"{\"acc\\u006funts\": [{}], \"other\": [{}]}");
        assert_eq!(accounts.len(), 1);
    }

    #[test]
    fn a_character_cut_by_a_read_is_not_an_error_but_a_bad_byte_is() {
        // A reader that returns one byte at a time cuts every character.
        struct OneByte<'a>(&'a [u8]);
        impl Read for OneByte<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                match self.0.split_first() {
                    Some((b, rest)) if !buf.is_empty() => {
                        buf[0] = *b;
                        self.0 = rest;
                        Ok(1)
                    }
                    _ => Ok(0),
                }
            }
        }
        let text = "{\"accounts\": [{\"n\": \"é€😀\"}]}";
        let mut n = 0;
        assert!(split(OneByte(text.as_bytes()), Splitting::Exact, &mut |_| {
            n += 1;
            None
        })
        .is_ok());
        assert_eq!(n, 1);
        match split(&b"{\n \"\xc3\xa9\xff\"}"[..], Splitting::Exact, &mut |_| {
            None
        }) {
            Err(SplitError::NotUtf8 {
                line,
                column,
                byte,
                offset,
            }) => assert_eq!((line, column, byte, offset), (2, 4, 0xff, 6)),
            _ => panic!("invalid UTF-8 accepted"),
        }
    }

    /// Random documents whose accounts are any JSON values, often holding
    /// the separator inside them (nested objects keyed `id`, the text in
    /// strings). Wherever every account a guided split cuts out is one
    /// JSON value, those are the accounts an exact split cuts out: the
    /// check the parse makes is enough.
    #[test]
    fn accounts_a_guided_split_cuts_out_are_exact_when_each_is_one_json_value() {
        let mut seed = 0x51_7cc1_b727_220au64;
        let mut next = move |bound: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % bound
        };
        fn value(next: &mut dyn FnMut(u64) -> u64, depth: u32, out: &mut String) {
            match if depth > 3 { 3 + next(3) } else { next(6) } {
                0 | 1 => {
                    out.push('{');
                    for i in 0..next(4) {
                        if i > 0 {
                            out.push(',');
                        }
                        out.push_str(
                            [
                                "\"id\":", "\"a\":", "\"id\" :", "\"b\":", "\"c\":", "\"d\":",
                            ][next(6) as usize],
                        );
                        value(next, depth + 1, out);
                    }
                    out.push('}');
                }
                2 => {
                    out.push('[');
                    for i in 0..next(4) {
                        if i > 0 {
                            out.push_str([",", ", "][next(2) as usize]);
                        }
                        value(next, depth + 1, out);
                    }
                    out.push(']');
                }
                3 => out.push_str(["\"},{\\\"id\\\"\"", "\"x\\\\\"", "\"\""][next(3) as usize]),
                _ => out.push_str(["1", "null", "true"][next(3) as usize]),
            }
        }
        let (mut agreed, mut misled, mut guided_ends) = (0, 0, 0);
        for _ in 0..3000 {
            let mut text = String::from("{\"a\":{\"accounts\":[{\"id\":1}]},\"accounts\":[");
            for i in 0..2 + next(9) {
                if i > 0 {
                    text.push_str([",", ", "][usize::from(next(8) == 0)]);
                }
                let mut account = String::new();
                if next(16) == 0 {
                    value(&mut next, 1, &mut account);
                } else {
                    account.push_str("{\"id\":");
                    value(&mut next, 1, &mut account);
                    for _ in 0..next(3) {
                        account.push_str(",\"b\":");
                        value(&mut next, 1, &mut account);
                    }
                    account.push('}');
                }
                text.push_str(&account);
            }
            // Now and then the separator after the accounts, too.
            text.push_str(if next(4) == 0 {
                "],\"z\":[{\"id\":2},{\"id\":3}]}"
            } else {
                "],\"z\":[1]}"
            });
            assert!(
                serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok(),
                "{text}"
            );
            let cut = |splitting| {
                let mut accounts = Vec::new();
                let shell = match split(text.as_bytes(), splitting, &mut |a| {
                    accounts.push(a.bytes);
                    None
                }) {
                    Ok(shell) => shell,
                    Err(_) => panic!("split failed"),
                };
                (accounts, shell.guided_accounts)
            };
            let (exact, _) = cut(Splitting::Exact);
            let (guided, ended_by_separator) = cut(Splitting::Guided);
            let each_one_value = guided
                .iter()
                .all(|a| serde_json::from_slice::<serde::de::IgnoredAny>(a).is_ok());
            if each_one_value {
                assert_eq!(guided, exact, "{text}");
                agreed += 1;
                guided_ends += ended_by_separator;
            } else {
                misled += 1;
            }
        }
        // Both happen, often, and most of the agreeing accounts were ended
        // by the separator.
        println!(
            "{agreed} agreed ({guided_ends} accounts ended by the separator), {misled} misled"
        );
        assert!(agreed > 1000 && misled > 100 && guided_ends > 1000);
    }

    /// When the separator is written otherwise after later accounts, a
    /// guided split gives up on the account that runs past four times the
    /// longest before it, rather than holding the rest of the file: later
    /// accounts are handed over as they are read, and are the exact ones.
    #[test]
    fn a_guided_account_that_outgrows_the_others_is_followed_by_its_structure() {
        let account = |i: usize| format!("{{\"id\":{i},\"pad\":\"{}\"}}", "x".repeat(40));
        let mut text = String::from("{\"accounts\":[");
        for i in 0..200 {
            if i > 0 {
                text.push_str(if i < 2 { "," } else { ", " });
            }
            text.push_str(&account(i));
        }
        text.push_str("]}");
        /// Counts the bytes read so far.
        struct Counting<'a>(&'a [u8], std::rc::Rc<std::cell::Cell<usize>>);
        impl Read for Counting<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(buf.len()).min(1024);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                self.1.set(self.1.get() + n);
                Ok(n)
            }
        }
        let read = std::rc::Rc::new(std::cell::Cell::new(0));
        let mut handed = Vec::new();
        let reader = Counting(text.as_bytes(), read.clone());
        let shell = match split_giving_up_past(reader, Splitting::Guided, 0, &mut |a| {
            handed.push((read.get(), a.bytes));
            None
        }) {
            Ok(shell) => shell,
            Err(_) => panic!("split failed"),
        };
        let (_, exact) = pieces(text.as_bytes());
        let texts: Vec<String> = handed
            .iter()
            .map(|(_, b)| String::from_utf8(b.clone()).unwrap())
            .collect();
        let exact: Vec<String> = exact.into_iter().map(|(_, _, t)| t).collect();
        assert_eq!(texts, exact);
        assert_eq!(shell.guided_accounts, 0);
        // The third account was handed over within a few reads of its end,
        // not once the whole file was read.
        assert!(
            handed[2].0 < 4 * 1024,
            "{} of {} bytes read",
            handed[2].0,
            text.len()
        );
    }
}
