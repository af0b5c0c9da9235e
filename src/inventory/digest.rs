//! Image digests: `sha256:` and 64 lowercase hex digits, held as the 32
//! bytes they spell. A large organization has millions of images, each
//! with a digest, and an index lists more: as text each one is a 71-byte
//! allocation. Any other text (another algorithm, upper case) is kept as it
//! was written, so reading and writing an inventory never changes one.

use std::cmp::Ordering;
use std::fmt::{self, Write as _};

use serde::{Deserialize, Serialize};

const SHA256: &str = "sha256:";

#[derive(Clone, PartialEq, Eq)]
pub struct Digest(Repr);

// Invariant: `Other` never holds the canonical form of a SHA-256 digest,
// so equal digests have equal variants and the derived `Eq` is that of the
// text.
#[derive(Clone, PartialEq, Eq)]
enum Repr {
    Sha256([u8; 32]),
    Other(Box<str>),
}

/// Each byte's value as a lowercase hex digit, or `NOT_HEX`: one lookup per
/// character, since two million digests are decoded per large inventory.
const NOT_HEX: u8 = 0xff;
const HEX_VALUES: [u8; 256] = {
    let mut table = [NOT_HEX; 256];
    let mut digit = 0;
    while digit < 10 {
        table[b'0' as usize + digit] = digit as u8;
        digit += 1;
    }
    let mut letter = 0;
    while letter < 6 {
        table[b'a' as usize + letter] = 10 + letter as u8;
        letter += 1;
    }
    table
};

fn sha256_bytes(text: &str) -> Option<[u8; 32]> {
    let hex = text.strip_prefix(SHA256)?.as_bytes();
    if hex.len() != 64 {
        return None;
    }
    let mut bytes = [0u8; 32];
    let mut seen = 0u8;
    for (byte, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
        let (high, low) = (
            HEX_VALUES[usize::from(pair[0])],
            HEX_VALUES[usize::from(pair[1])],
        );
        seen |= high | low;
        *byte = (high << 4) | (low & 0x0f);
    }
    // A character that is not a digit left its mark (0xff) in `seen`.
    (seen != NOT_HEX).then_some(bytes)
}

/// A SHA-256 digest hashes as its 32 bytes alone (no variant tag or length):
/// four of the hasher's rounds rather than six. All of them, not a prefix: a
/// hand-written inventory can hold digests that share any prefix, and keys
/// that hash alike would make the summary's maps quadratic.
impl std::hash::Hash for Digest {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match &self.0 {
            Repr::Sha256(bytes) => state.write(bytes),
            Repr::Other(text) => text.hash(state),
        }
    }
}

impl Digest {
    pub fn new(text: &str) -> Digest {
        Digest::sha256(text).unwrap_or_else(|| Digest(Repr::Other(text.into())))
    }

    /// The digest `text` spells when it is the canonical form of a SHA-256
    /// digest.
    pub(super) fn sha256(text: &str) -> Option<Digest> {
        sha256_bytes(text).map(|bytes| Digest(Repr::Sha256(bytes)))
    }
}

impl From<&str> for Digest {
    fn from(text: &str) -> Digest {
        Digest::new(text)
    }
}

impl From<String> for Digest {
    fn from(text: String) -> Digest {
        match sha256_bytes(&text) {
            Some(bytes) => Digest(Repr::Sha256(bytes)),
            None => Digest(Repr::Other(text.into_boxed_str())),
        }
    }
}

impl Default for Digest {
    fn default() -> Digest {
        Digest(Repr::Other("".into()))
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Sha256(bytes) => {
                // Written at once: a formatted write per byte is hundreds
                // of instructions each, for every repository's latest image.
                const DIGITS: &[u8; 16] = b"0123456789abcdef";
                let mut hex = [0u8; 64];
                for (pair, byte) in hex.chunks_exact_mut(2).zip(bytes) {
                    pair[0] = DIGITS[usize::from(byte >> 4)];
                    pair[1] = DIGITS[usize::from(byte & 0x0f)];
                }
                f.write_str(SHA256)?;
                f.write_str(std::str::from_utf8(&hex).map_err(|_| fmt::Error)?)
            }
            Repr::Other(text) => f.write_str(text),
        }
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        fmt::Display::fmt(self, f)?;
        f.write_char('"')
    }
}

/// The order of the text: lowercase hex digits sort as the bytes they spell.
impl Ord for Digest {
    fn cmp(&self, other: &Digest) -> Ordering {
        match (&self.0, &other.0) {
            (Repr::Sha256(a), Repr::Sha256(b)) => a.cmp(b),
            (Repr::Other(a), Repr::Other(b)) => a.cmp(b),
            _ => self.to_string().cmp(&other.to_string()),
        }
    }
}

impl PartialOrd for Digest {
    fn partial_cmp(&self, other: &Digest) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq<str> for Digest {
    fn eq(&self, text: &str) -> bool {
        match &self.0 {
            Repr::Sha256(bytes) => sha256_bytes(text).is_some_and(|b| &b == bytes),
            Repr::Other(own) => &**own == text,
        }
    }
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = Digest;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an image digest")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Digest, E> {
                Ok(Digest::new(text))
            }
            fn visit_string<E: serde::de::Error>(self, text: String) -> Result<Digest, E> {
                Ok(Digest::from(text))
            }
        }
        deserializer.deserialize_str(Text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "sha256:0d6dcc7ab4e9768019b3f30f7e14f497ab6f212d93f3144c68a205dab058a3b2";
    const B: &str = "sha256:a7d912717a1bbea9313d554b0b710107cfba76dbc770b2988fd282bc345ae150";

    #[test]
    fn digests_read_and_write_as_the_text_they_were() {
        for text in [
            A,
            B,
            "sha256:0D6DCC7AB4E9768019B3F30F7E14F497AB6F212D93F3144C68A205DAB058A3B2",
            "sha256:short",
            "sha512:00",
            "",
            "sha256:0d6dcc7ab4e9768019b3f30f7e14f497ab6f212d93f3144c68a205dab058a3b2x",
            "sha256:0d6dcc7ab4e9768019b3f30f7e14f497ab6f212d93f3144c68a205dab058a3bg",
            "sha256:/d6dcc7ab4e9768019b3f30f7e14f497ab6f212d93f3144c68a205dab058a3b2",
            "sha256:0d6dcc7ab4e9768019b3f30f7e14f497ab6f212d93f3144c68a205dab058a3\u{e9}",
        ] {
            let json = serde_json::to_string(text).unwrap();
            let digest: Digest = serde_json::from_str(&json).unwrap();
            assert_eq!(serde_json::to_string(&digest).unwrap(), json);
            assert_eq!(digest.to_string(), text);
            assert!(digest == *text);
            assert_eq!(digest, Digest::from(text.to_string()));
        }
        assert!(matches!(Digest::new(A).0, Repr::Sha256(_)));
        assert!(matches!(Digest::new(&A.to_uppercase()).0, Repr::Other(_)));
        assert!(matches!(
            Digest::new("sha256:0d6dcc7ab4e9768019b3f30f7e14f497ab6f212d93f3144c68a205dab058a3bg")
                .0,
            Repr::Other(_)
        ));
        assert!(serde_json::from_str::<Digest>("7").is_err());
    }

    #[test]
    fn digests_order_as_their_text() {
        let texts = [
            A,
            B,
            "sha256:0D6DCC7AB4E9768019B3F30F7E14F497AB6F212D93F3144C68A205DAB058A3B2",
            "sha256:ff",
            "sha256:",
            "md5:1",
            "sha256:0d6dcc7ab4e9768019b3f30f7e14f497ab6f212d93f3144c68a205dab058a3b3",
            "sha256:fd6dcc7ab4e9768019b3f30f7e14f497ab6f212d93f3144c68a205dab058a3b3",
        ];
        for x in texts {
            for y in texts {
                assert_eq!(
                    Digest::new(x).cmp(&Digest::new(y)),
                    x.cmp(y),
                    "{x} against {y}"
                );
                assert_eq!(Digest::new(x) == Digest::new(y), x == y);
            }
        }
    }
}
