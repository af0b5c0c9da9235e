//! A repository's images read into rows straight from the inventory's
//! text, before serde sees it, for the form `DescribeImages` output takes:
//! objects of known fields, strings without escapes, plain whole numbers,
//! RFC 3339 times.
//!
//! serde_json reading (or only skipping) two million images through
//! visitors was most of a large inventory's parse. Here each array after an
//! `"images":` key is read once by this reader ([`pre_read`]), and serde is
//! handed the text with the array replaced by a number: its place in the
//! arrays read. The reader takes only text that is JSON (it checks what
//! serde checks: control characters, `null`, leading zeros, commas), so
//! the replacement is a JSON value where there was one, and a text is JSON
//! exactly when the text serde sees is. Whatever it does not take (an
//! escape, an image written as an array, a field repeated or unknown, a
//! number with a sign, fraction or exponent, a value of another type) stays
//! in the text for serde's reader ([`super::rows`]), whose rules, and
//! errors, stay the inventory's.
//!
//! Why a match is a key: in JSON, a quote followed by `images":` either
//! opens the string `images` (a key, since a colon follows it) or, escaped,
//! ends a longer key ending in `"images`; the second is skipped (a
//! backslash precedes the quote). Text that is not JSON may be misread,
//! but then the text serde sees is not JSON either, and the caller reads
//! the original again with serde alone for its error.

use memchr::memchr2;
use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use super::rows::{critical_and_high_of, Field, ImageFields, ImageRows};
use super::summary::ImageSummary;
use super::{Digest, Label};

/// An account's text with the image arrays this reader took replaced by
/// their places in `summaries`.
pub(super) struct PreRead<'t> {
    pub text: std::borrow::Cow<'t, str>,
    pub summaries: Vec<ImageSummary>,
}

/// Reads every array of images in `text` this reader takes.
pub(super) fn pre_read(text: &str) -> PreRead<'_> {
    const KEY: &[u8] = b"\"images\":";
    let bytes = text.as_bytes();
    let mut summaries = Vec::new();
    // One buffer for every array's rows: each is summarized at once.
    let mut rows = ImageRows::default();
    let mut out = String::new();
    let finder = memchr::memmem::Finder::new(KEY);
    let mut copied = 0;
    // Searched from the end of each array read: the arrays, most of the
    // text, are never searched.
    let mut from = 0;
    while let Some(found) = bytes.get(from..).and_then(|rest| finder.find(rest)) {
        let found = from + found;
        let start = found + KEY.len();
        from = start;
        let escaped = found > 0 && bytes[found - 1] == b'\\';
        if escaped {
            continue;
        }
        rows.clear();
        let Some(end) = read_array(text, start, &mut rows) else {
            continue;
        };
        out.push_str(&text[copied..start]);
        out.push_str(&summaries.len().to_string());
        summaries.push(ImageSummary::of_rows(&rows));
        copied = end;
        from = end;
    }
    if summaries.is_empty() {
        return PreRead {
            text: std::borrow::Cow::Borrowed(text),
            summaries,
        };
    }
    out.push_str(&text[copied..]);
    PreRead {
        text: std::borrow::Cow::Owned(out),
        summaries,
    }
}

/// Reads the JSON array of images at `start` of `text` (after any
/// whitespace) into `rows`, and says where it ends; `None` when the value
/// there is not one this reader takes.
fn read_array(text: &str, start: usize, rows: &mut ImageRows) -> Option<usize> {
    let mut cursor = Cursor { text, at: start };
    cursor.items(b'[', b']', |cursor| image(cursor, rows))?;
    Some(cursor.at)
}

/// The rows of a text that is one JSON array of images and nothing else.
#[cfg(test)]
pub(super) fn read_rows(text: &str) -> Option<ImageRows> {
    let mut rows = ImageRows::default();
    let end = read_array(text, 0, &mut rows)?;
    (Cursor { text, at: end }.peek().is_none()).then_some(rows)
}

/// A place in a JSON text.
struct Cursor<'t> {
    text: &'t str,
    at: usize,
}

impl<'t> Cursor<'t> {
    /// The next byte that is not JSON whitespace, left unread.
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        let bytes = self.text.as_bytes();
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(self.at) {
            self.at += 1;
        }
        bytes.get(self.at).copied()
    }

    /// Reads `byte` when it comes next.
    #[inline]
    fn eat(&mut self, byte: u8) -> bool {
        let next = self.peek() == Some(byte);
        if next {
            self.at += 1;
        }
        next
    }

    #[inline]
    fn expect(&mut self, byte: u8) -> Option<()> {
        self.eat(byte).then_some(())
    }

    /// An array or object: `open`, the items `each` reads separated by
    /// commas, `close`.
    #[inline]
    fn items(
        &mut self,
        open: u8,
        close: u8,
        mut each: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        self.expect(open)?;
        if self.eat(close) {
            return Some(());
        }
        loop {
            each(self)?;
            if !self.eat(b',') {
                return self.expect(close);
            }
        }
    }

    /// An image's key, one of `Image`'s fields written without escapes:
    /// matched against the names it can be, without looking for its end.
    #[inline]
    fn field(&mut self) -> Option<Field> {
        self.expect(b'"')?;
        let rest = self.text.as_bytes().get(self.at..)?;
        let candidates: &[Field] = match (rest.first()?, rest.get(5)) {
            (b'i', Some(b'D')) => &[Field::Digest],
            (b'i', Some(b'T')) => &[Field::Tags],
            (b'i', Some(b'P')) => &[Field::PushedAt],
            (b'i', Some(b'M')) => &[Field::ManifestType, Field::IndexDigests],
            (b'i', Some(b'S')) => &[
                Field::Size,
                Field::ScanStatus,
                Field::FindingsSummary,
                Field::Status,
            ],
            (b'l', _) => &[Field::LastPull, Field::ArchivedAt],
            (b'a', _) => &[Field::ArtifactType],
            (b's', _) => &[Field::Subject],
            _ => return None,
        };
        let field = candidates.iter().copied().find(|field| {
            let name = field.name().as_bytes();
            rest.get(..name.len()) == Some(name) && rest.get(name.len()) == Some(&b'"')
        })?;
        self.at += field.name().len() + 1;
        Some(field)
    }

    /// A string of `length` bytes that `read` takes, read where it must
    /// end without looking for its end: what `read` takes holds no quote
    /// or backslash. `None`, and nothing read, otherwise.
    #[inline]
    fn exact<T>(&mut self, length: usize, read: impl FnOnce(&str) -> Option<T>) -> Option<T> {
        if self.peek() != Some(b'"') {
            return None;
        }
        let close = self.at + 1 + length;
        if self.text.as_bytes().get(close) != Some(&b'"') {
            return None;
        }
        let value = read(self.text.get(self.at + 1..close)?)?;
        self.at = close + 1;
        Some(value)
    }

    /// A digest: `sha256:` and 64 hex digits read where they must end;
    /// anything else as a string.
    #[inline]
    fn digest(&mut self) -> Option<Digest> {
        const CANONICAL: usize = "sha256:".len() + 64;
        self.exact(CANONICAL, Digest::sha256)
            .or_else(|| self.string().map(Digest::new))
    }

    /// An RFC 3339 time, as `time::serde::rfc3339` reads it: the common
    /// `2026-06-01T06:00:00Z` read where it must end, anything else by the
    /// `time` crate.
    #[inline]
    fn time(&mut self) -> Option<OffsetDateTime> {
        const PLAIN: usize = "2026-06-01T06:00:00Z".len();
        self.exact(PLAIN, plain_utc)
            .or_else(|| OffsetDateTime::parse(self.string()?, &Rfc3339).ok())
    }

    /// A string without escapes or control characters (which JSON writes
    /// escaped).
    #[inline]
    fn string(&mut self) -> Option<&'t str> {
        self.expect(b'"')?;
        let start = self.at;
        let bytes = self.text.as_bytes();
        let length = memchr2(b'"', b'\\', bytes.get(start..)?)?;
        if bytes.get(start + length) != Some(&b'"') {
            return None;
        }
        let content = bytes.get(start..start + length)?;
        // Folded rather than searched: the compiler checks many bytes at once.
        if content
            .iter()
            .fold(false, |control, &b| control | (b < 0x20))
        {
            return None;
        }
        self.at = start + length + 1;
        // Between two ASCII quotes: on character boundaries.
        self.text.get(start..start + length)
    }

    /// Reads `null` when it comes next.
    #[inline]
    fn null(&mut self) -> bool {
        let next = self.peek() == Some(b'n')
            && self.text.as_bytes().get(self.at..self.at + 4) == Some(b"null");
        if next {
            self.at += 4;
        }
        next
    }

    /// `null`, or what `read` reads.
    #[inline]
    fn optional<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.null() {
            Some(None)
        } else {
            read(self).map(Some)
        }
    }

    /// A whole number written with digits only, that fits in a `u64`.
    #[inline]
    fn unsigned(&mut self) -> Option<u64> {
        self.peek()?;
        let bytes = self.text.as_bytes();
        let mut value: u64 = 0;
        let mut digits = 0;
        while let Some(digit) = bytes.get(self.at).filter(|b| b.is_ascii_digit()) {
            value = value
                .checked_mul(10)?
                .checked_add(u64::from(digit - b'0'))?;
            self.at += 1;
            digits += 1;
        }
        let fraction_or_exponent = matches!(bytes.get(self.at), Some(b'.' | b'e' | b'E'));
        // JSON writes no leading zero.
        let leading_zero = digits > 1 && value < 10u64.pow(digits - 1);
        (digits > 0 && !fraction_or_exponent && !leading_zero).then_some(value)
    }

    /// An array of strings, each given to `each`.
    fn strings(&mut self, mut each: impl FnMut(&'t str)) -> Option<()> {
        self.items(b'[', b']', |cursor| {
            each(cursor.string()?);
            Some(())
        })
    }

    /// An object's fields: `each` reads the value of each key, after its
    /// colon.
    fn fields(&mut self, mut each: impl FnMut(&mut Self, &'t str) -> Option<()>) -> Option<()> {
        self.items(b'{', b'}', |cursor| {
            let key = cursor.string()?;
            cursor.expect(b':')?;
            each(cursor, key)
        })
    }
}

/// One image, as `Image`'s derived code reads it.
fn image(cursor: &mut Cursor, rows: &mut ImageRows) -> Option<()> {
    let mut image = ImageFields::start(rows);
    cursor.items(b'{', b'}', |cursor| {
        let field = cursor.field()?;
        if !image.first(field) {
            return None;
        }
        cursor.expect(b':')?;
        match field {
            Field::Digest => image.digest = Some(cursor.digest()?),
            Field::Tags => cursor.strings(|tag| rows.push_tag(tag))?,
            Field::PushedAt => image.pushed_at = Some(cursor.time()?),
            Field::Size => image.size = cursor.unsigned()?,
            Field::LastPull => image.last_pull = cursor.optional(Cursor::time)?,
            Field::ManifestType => {
                cursor.optional(Cursor::string)?;
            }
            Field::ArtifactType => {
                image.artifact_type = cursor.optional(|c| c.string().map(Label::new))?
            }
            Field::Subject => image.subject = cursor.optional(Cursor::digest)?,
            Field::IndexDigests => cursor.items(b'[', b']', |cursor| {
                rows.platforms.push(cursor.digest()?);
                Some(())
            })?,
            Field::ScanStatus => {
                cursor.optional(scan_status)?;
            }
            Field::FindingsSummary => {
                image.critical_and_high = cursor.optional(findings_summary)?.unwrap_or((0, 0));
            }
            Field::Status => image.status = cursor.optional(|c| c.string().map(Label::new))?,
            Field::ArchivedAt => {
                cursor.optional(Cursor::time)?;
            }
        }
        Some(())
    })?;
    image.finish(rows).ok()
}

/// `imageScanStatus`: a `status` and an optional `description`.
fn scan_status(cursor: &mut Cursor) -> Option<()> {
    let (mut status, mut description) = (false, false);
    cursor.fields(|cursor, key| {
        let seen = match key {
            "status" => &mut status,
            "description" => &mut description,
            _ => return None,
        };
        if std::mem::replace(seen, true) {
            return None;
        }
        if key == "status" {
            cursor.string()?;
        } else {
            cursor.optional(Cursor::string)?;
        }
        Some(())
    })?;
    status.then_some(())
}

/// `imageScanFindingsSummary`: its CRITICAL and HIGH counts.
fn findings_summary(cursor: &mut Cursor) -> Option<(i64, i64)> {
    // ECR names six severities; more are left to serde, so the counts
    // need no allocation. A severity given twice keeps its last count, as
    // `SeverityCounts` does.
    let mut counts: [(&str, u64); 8] = [("", 0); 8];
    let mut named = 0;
    let mut seen = false;
    cursor.fields(|cursor, key| {
        if key != "findingSeverityCounts" || std::mem::replace(&mut seen, true) {
            return None;
        }
        cursor.fields(|cursor, severity| {
            let count = cursor.unsigned()?;
            match counts[..named]
                .iter_mut()
                .find(|(name, _)| *name == severity)
            {
                Some(pair) => pair.1 = count,
                None => {
                    *counts.get_mut(named)? = (severity, count);
                    named += 1;
                }
            }
            Some(())
        })
    })?;
    Some(critical_and_high_of(counts[..named].iter().copied()))
}

/// `YYYY-MM-DDTHH:MM:SSZ`, a valid date and a second below 60 (a leap
/// second is the `time` crate's to read).
fn plain_utc(text: &str) -> Option<OffsetDateTime> {
    let b = text.as_bytes();
    let shape = b.len() == 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z';
    if !shape {
        return None;
    }
    let number = |from: usize, to: usize| {
        b[from..to].iter().try_fold(0u16, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u16::from(d - b'0'))
        })
    };
    let year = number(0, 4)?;
    let month = u8::try_from(number(5, 7)?).ok()?;
    let day = u8::try_from(number(8, 10)?).ok()?;
    let hour = u8::try_from(number(11, 13)?).ok()?;
    let minute = u8::try_from(number(14, 16)?).ok()?;
    let second = u8::try_from(number(17, 19)?).ok()?;
    if second > 59 {
        return None;
    }
    let date = Date::from_calendar_date(i32::from(year), Month::try_from(month).ok()?, day).ok()?;
    let time = Time::from_hms(hour, minute, second).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_times_read_as_the_time_crate_reads_them() {
        let mut cases: Vec<String> = [
            "2026-06-01T06:00:00Z",
            "2024-02-29T23:59:59Z",
            "2023-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-01-00T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:60:00Z",
            "2026-12-31T23:59:60Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2026-06-01t06:00:00z",
            "2026-06-01T06:00:00+00:00",
            "2026-06-01T06:00:00.5Z",
            "2026-06-01 06:00:00Z",
            "2026-6-01T06:00:00Z",
            "+026-06-01T06:00:00Z",
            "2026-06-01T06:00:0aZ",
        ]
        .map(String::from)
        .to_vec();
        // Every day of a leap and a common year, at assorted times.
        for year in [2024, 2025, 1900, 2000] {
            for month in 1..=12 {
                for day in 1..=32 {
                    cases.push(format!(
                        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
                        (day * 7) % 25,
                        (day * 13) % 61,
                        (month * 5 + day) % 61
                    ));
                }
            }
        }
        let mut plain = 0;
        for case in &cases {
            let expected = OffsetDateTime::parse(case, &Rfc3339).ok();
            let quoted = format!("\"{case}\"");
            let read = Cursor {
                text: &quoted,
                at: 0,
            }
            .time();
            assert_eq!(read, expected, "{case}");
            assert_eq!(
                read.map(|t| t.offset()),
                expected.map(|t| t.offset()),
                "{case}"
            );
            if plain_utc(case).is_some() {
                plain += 1;
            }
        }
        assert!(plain > 1000, "{plain}");
    }

    #[test]
    fn unsigned_numbers_are_plain_digits_that_fit() {
        let read = |text: &str| Cursor { text, at: 0 }.unsigned();
        assert_eq!(read("0"), Some(0));
        assert_eq!(read(" 42,"), Some(42));
        assert_eq!(read("18446744073709551615"), Some(u64::MAX));
        for text in [
            "18446744073709551616",
            "-0",
            "-1",
            "1.0",
            "1e3",
            "1E3",
            "",
            "x",
        ] {
            assert_eq!(read(text), None, "{text}");
        }
    }
}
