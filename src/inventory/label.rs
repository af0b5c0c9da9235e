//! Short strings that AWS returns from a small set of values (media types,
//! statuses, severity names). Millions of images carry a few each: a known
//! value is shared instead of allocated per image, and any other value is
//! kept as it was written.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// The values shared rather than allocated: those every image of a real
/// registry carries (ECR's `DescribeImages` fields). Anything else is kept
/// as it is, so the list changes memory, never meaning.
const KNOWN: &[&str] = &[
    // imageManifestMediaType, artifactMediaType
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.container.image.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.oci.empty.v1+json",
    "application/vnd.cncf.notary.signature",
    "application/vnd.dev.cosign.artifact.sig.v1+json",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
    "application/vnd.in-toto+json",
    "application/spdx+json",
    "application/vnd.cyclonedx+json",
    // imageStatus
    "ACTIVE",
    "ARCHIVED",
    "ACTIVATING",
    // imageScanStatus.status
    "COMPLETE",
    "IN_PROGRESS",
    "FAILED",
    "PENDING",
    "UNSUPPORTED_IMAGE",
    "SCAN_ELIGIBILITY_EXPIRED",
    "FINDINGS_UNAVAILABLE",
    "LIMIT_EXCEEDED",
    "IMAGE_ARCHIVED",
    // imageScanStatus.description
    "The scan was completed successfully.",
    // findingSeverityCounts keys
    "CRITICAL",
    "HIGH",
    "MEDIUM",
    "LOW",
    "INFORMATIONAL",
    "UNDEFINED",
];

/// A string from a small set of values, shared when it is a known one.
/// Reads as a `&str` (`Deref`); compares, orders and hashes as its text.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Label(Cow<'static, str>);

impl Label {
    pub fn new(text: &str) -> Label {
        match KNOWN.iter().find(|known| **known == text) {
            Some(known) => Label(Cow::Borrowed(known)),
            None => Label(Cow::Owned(text.to_string())),
        }
    }

    fn from_owned(text: String) -> Label {
        match KNOWN.iter().find(|known| **known == text) {
            Some(known) => Label(Cow::Borrowed(known)),
            None => Label(Cow::Owned(text)),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Label {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Label {
    fn from(text: &str) -> Label {
        Label::new(text)
    }
}

impl From<String> for Label {
    fn from(text: String) -> Label {
        Label::from_owned(text)
    }
}

impl std::fmt::Debug for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Label {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = Label;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            // Borrowed or escaped text alike: a known value allocates nothing.
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Label, E> {
                Ok(Label::new(text))
            }
            fn visit_string<E: serde::de::Error>(self, text: String) -> Result<Label, E> {
                Ok(Label::from_owned(text))
            }
        }
        deserializer.deserialize_str(Text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_are_shared_and_others_kept_as_written() {
        let known: Label = serde_json::from_str(r#""COMPLETE""#).unwrap();
        assert!(matches!(known.0, Cow::Borrowed(_)));
        let escaped: Label = serde_json::from_str(r#""COMPL\u0045TE""#).unwrap();
        assert!(matches!(escaped.0, Cow::Borrowed(_)));
        assert_eq!(escaped, known);
        // Case and spelling are kept: the list is not a normalizer.
        let other: Label = serde_json::from_str(r#""complete""#).unwrap();
        assert!(matches!(other.0, Cow::Owned(_)));
        assert_eq!(&*other, "complete");
        assert_eq!(serde_json::to_string(&other).unwrap(), r#""complete""#);
        assert!(Label::from("A") < Label::from("COMPLETE"));
        assert!(serde_json::from_str::<Label>("1").is_err());
    }
}
