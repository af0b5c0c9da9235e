//! Reading the files a user points the scanner at (configuration, custom
//! rules, inventories): bounded in size, UTF-8 checked, with the line and
//! column of what is wrong.

use std::path::Path;

/// The largest configuration or rule file read (1 MiB): far more than any
/// real one, small enough that a wrong path (a disk image, a log) is refused
/// at once instead of being read whole.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// 1-based line and column (in characters) of byte `offset` of `text`; an
/// offset inside a character or past the end counts as the position of the
/// character it falls in (or of the end).
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    (line, before[line_start..].chars().count() + 1)
}

/// Implements `miette::Diagnostic` for an error a user sees: a stable code
/// (`ecr_audit::…`, for searching and for scripts) and a help line saying
/// what to do about it. The CLI prints both (`error[CODE]: …`, `help: …`).
macro_rules! user_diagnostic {
    ($error:ty, $code:literal, $help:literal) => {
        impl miette::Diagnostic for $error {
            fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
                Some(Box::new($code))
            }
            fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
                Some(Box::new($help))
            }
        }
    };
}
pub(crate) use user_diagnostic;

/// Why a text file could not be read: `position` (1-based line and column)
/// is where its text stops being UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.position {
            Some((line, column)) => write!(f, "line {line}, column {column}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Reads a UTF-8 text file of at most `limit` bytes (a larger file is
/// refused without being read whole). The error gives the line and column of
/// the first byte that is not UTF-8.
pub fn read_text_file(path: &Path, limit: u64) -> Result<String, ReadError> {
    use std::io::Read;
    let plain = |e: std::io::Error| ReadError {
        position: None,
        message: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(plain)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(plain)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError {
            position: None,
            message: format!(
                "the file is larger than {limit} bytes, the most this file may be (refused at byte offset {limit})"
            ),
        });
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        // The valid prefix is text: count lines and columns in it.
        let valid = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
        ReadError {
            position: Some(line_column(valid, at)),
            message: format!(
                "not UTF-8 text (byte 0x{:02x} at byte offset {at})",
                bytes[at]
            ),
        }
    })
}
