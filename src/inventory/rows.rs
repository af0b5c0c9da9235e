//! A repository's images as the summary reads them: one compact row per
//! image, with tags and index platforms in shared buffers. Reading an
//! inventory for analysis streams each image into a row as serde parses it
//! ([`read_summarized`]), so that two million images are never built as
//! [`Image`]s (strings, vectors, a large struct each) only to be summarized
//! and dropped. [`ImageRows::of`] makes the same rows from images, and one
//! summary is computed from rows either way.
//!
//! The streaming reader accepts and rejects exactly what `Image`'s derived
//! `Deserialize` does, with the same messages: every field is still read as
//! its type (then dropped when the summary does not need it), unknown and
//! repeated fields are errors, and an image written as an array is read by
//! the derived code itself.

use std::fmt;
use std::ops::Range;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use time::OffsetDateTime;

use super::{Digest, Image, ImageScanFindingsSummary, ImageScanStatus, Label};

/// Image media types whose `artifactMediaType` still means "a runnable image".
const IMAGE_CONFIG_TYPES: &[&str] = &[
    "application/vnd.docker.container.image.v1+json",
    "application/vnd.oci.image.config.v1+json",
];

/// Artifact types of image signatures: Notation (what Amazon ECR managed
/// signing and AWS Signer write), and Sigstore's cosign signatures and
/// bundles (every bundle version).
const SIGNATURE_TYPES: &[&str] = &[
    "application/vnd.cncf.notary.signature",
    "application/vnd.dev.cosign.artifact.sig.v1+json",
];
const SIGSTORE_BUNDLE_TYPE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";

/// A signature: a referrer of a signature artifact type.
fn is_signature(has_subject: bool, artifact_type: Option<&str>) -> bool {
    has_subject
        && artifact_type.is_some_and(|t| {
            SIGNATURE_TYPES.iter().any(|s| t.eq_ignore_ascii_case(s))
                || t.starts_with(SIGSTORE_BUNDLE_TYPE_PREFIX)
        })
}

/// A signature, SBOM or attestation attached to another manifest.
fn is_referrer(has_subject: bool, artifact_type: Option<&str>) -> bool {
    has_subject || artifact_type.is_some_and(|t| !IMAGE_CONFIG_TYPES.contains(&t))
}

/// CRITICAL and HIGH counts of one scan (a severity written in another case
/// counts too, as it does everywhere else).
fn critical_and_high(summary: Option<&ImageScanFindingsSummary>) -> (i64, i64) {
    let Some(summary) = summary else {
        return (0, 0);
    };
    critical_and_high_of(
        summary
            .finding_severity_counts
            .iter()
            .map(|(name, count)| (name.as_str(), *count)),
    )
}

/// CRITICAL and HIGH counts of severity names (each once) and counts.
pub(super) fn critical_and_high_of<'a>(
    counts: impl Iterator<Item = (&'a str, u64)> + Clone,
) -> (i64, i64) {
    let count = |severity: &str| {
        counts
            .clone()
            .filter(|(name, _)| name.eq_ignore_ascii_case(severity))
            .map(|(_, count)| i64::try_from(count).unwrap_or(i64::MAX))
            .sum::<i64>()
    };
    (count("CRITICAL"), count("HIGH"))
}

/// One image: what the summary reads of it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Row {
    pub digest: Digest,
    pub pushed_at: OffsetDateTime,
    pub last_pull: Option<OffsetDateTime>,
    pub size: u64,
    /// Its tags: `ImageRows::tag_ends[tags]`.
    pub tags: Range<usize>,
    /// The manifests it lists, when an index: `ImageRows::platforms[platforms]`.
    pub platforms: Range<usize>,
    pub archived: bool,
    pub referrer: bool,
    pub critical: i64,
    pub high: i64,
}

/// The rows of one repository's images, in the inventory's order.
#[derive(Debug, Default, PartialEq)]
pub(super) struct ImageRows {
    pub rows: Vec<Row>,
    /// Every tag's text, one after another; `tag_ends` holds where each ends.
    tag_text: String,
    tag_ends: Vec<usize>,
    /// Every index's manifests, one index after another.
    pub platforms: Vec<Digest>,
    /// The manifests a signature refers to.
    pub signed: Vec<Digest>,
}

/// The fields of one image the rows keep, as a reader meets them, before
/// they become a row. Its tags and the manifests it lists are those pushed
/// onto the rows since [`ImageFields::start`]: an image's reader pushes
/// them while it reads the one field that holds them.
pub(super) struct ImageFields {
    /// The fields met so far, one bit per [`Field`].
    seen: u16,
    pub digest: Option<Digest>,
    pub pushed_at: Option<OffsetDateTime>,
    pub last_pull: Option<OffsetDateTime>,
    pub size: u64,
    pub artifact_type: Option<Label>,
    pub subject: Option<Digest>,
    pub status: Option<Label>,
    pub critical_and_high: (i64, i64),
    tags_start: usize,
    platforms_start: usize,
}

impl ImageFields {
    /// An image whose fields are read next, after the images of `rows`.
    pub fn start(rows: &ImageRows) -> ImageFields {
        ImageFields {
            seen: 0,
            digest: None,
            pushed_at: None,
            last_pull: None,
            size: 0,
            artifact_type: None,
            subject: None,
            status: None,
            critical_and_high: (0, 0),
            tags_start: rows.tag_ends.len(),
            platforms_start: rows.platforms.len(),
        }
    }

    /// Whether `field` is met for the first time (a repeated key is an
    /// error).
    pub fn first(&mut self, field: Field) -> bool {
        let bit = 1u16 << (field as u16);
        let first = self.seen & bit == 0;
        self.seen |= bit;
        first
    }

    /// Adds the image to the rows; the name of the required field it lacks
    /// otherwise.
    pub fn finish(self, rows: &mut ImageRows) -> Result<(), &'static str> {
        let digest = self.digest.ok_or("imageDigest")?;
        let pushed_at = self.pushed_at.ok_or("imagePushedAt")?;
        let artifact_type = self.artifact_type.as_deref();
        let has_subject = self.subject.is_some();
        let referrer = is_referrer(has_subject, artifact_type);
        if is_signature(has_subject, artifact_type) {
            if let Some(subject) = self.subject {
                rows.signed.push(subject);
            }
        }
        let archived = self
            .status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("ARCHIVED"));
        let (critical, high) = self.critical_and_high;
        rows.rows.push(Row {
            digest,
            pushed_at,
            last_pull: self.last_pull,
            size: self.size,
            tags: self.tags_start..rows.tag_ends.len(),
            platforms: self.platforms_start..rows.platforms.len(),
            archived,
            referrer,
            critical,
            high,
        });
        Ok(())
    }
}

impl ImageRows {
    /// The rows of images already built.
    pub fn of(images: &[Image]) -> ImageRows {
        let mut rows = ImageRows::default();
        for image in images {
            let mut fields = ImageFields::start(&rows);
            for tag in &image.image_tags {
                rows.push_tag(tag);
            }
            rows.platforms
                .extend(image.index_manifest_digests.iter().cloned());
            fields.digest = Some(image.image_digest.clone());
            fields.pushed_at = Some(image.image_pushed_at);
            fields.last_pull = image.last_recorded_pull_time;
            fields.size = image.image_size_in_bytes;
            fields.artifact_type = image.artifact_media_type.clone();
            fields.subject = image.subject_manifest_digest.as_deref().map(Digest::new);
            fields.status = image.image_status.clone();
            fields.critical_and_high =
                critical_and_high(image.image_scan_findings_summary.as_ref());
            // An image has both required fields.
            let _ = fields.finish(&mut rows);
        }
        rows
    }

    pub(super) fn push_tag(&mut self, tag: &str) {
        self.tag_text.push_str(tag);
        self.tag_ends.push(self.tag_text.len());
    }

    /// Empties the rows, keeping their room.
    pub(super) fn clear(&mut self) {
        self.rows.clear();
        self.tag_text.clear();
        self.tag_ends.clear();
        self.platforms.clear();
        self.signed.clear();
    }

    /// The tags of a row, as text.
    pub fn tags(&self, row: &Row) -> Vec<String> {
        row.tags
            .clone()
            .map(|i| {
                let start = if i == 0 { 0 } else { self.tag_ends[i - 1] };
                self.tag_text[start..self.tag_ends[i]].to_string()
            })
            .collect()
    }

    pub fn platforms(&self, row: &Row) -> &[Digest] {
        &self.platforms[row.platforms.clone()]
    }
}

/// Reads a JSON array of images into rows, with `Vec<Image>`'s errors.
pub(super) fn read_summarized<'de, D: de::Deserializer<'de>>(
    deserializer: D,
) -> Result<ImageRows, D::Error> {
    let mut rows = ImageRows::default();
    deserializer.deserialize_seq(ImagesVisitor { rows: &mut rows })?;
    Ok(rows)
}

struct ImagesVisitor<'r> {
    rows: &'r mut ImageRows,
}

impl<'de> Visitor<'de> for ImagesVisitor<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        // What serde's `Vec` says.
        f.write_str("a sequence")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(ImageSeed {
                rows: &mut *self.rows,
            })?
            .is_some()
        {}
        Ok(())
    }
}

struct ImageSeed<'r> {
    rows: &'r mut ImageRows,
}

impl<'de> DeserializeSeed<'de> for ImageSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_struct("Image", FIELDS, ImageVisitor { rows: self.rows })
    }
}

/// `Image`'s fields, in its order (the derived code's list, for messages).
const FIELDS: &[&str] = &[
    "imageDigest",
    "imageTags",
    "imagePushedAt",
    "imageSizeInBytes",
    "lastRecordedPullTime",
    "imageManifestMediaType",
    "artifactMediaType",
    "subjectManifestDigest",
    "indexManifestDigests",
    "imageScanStatus",
    "imageScanFindingsSummary",
    "imageStatus",
    "lastArchivedAt",
];

#[derive(Clone, Copy)]
pub(super) enum Field {
    Digest,
    Tags,
    PushedAt,
    Size,
    LastPull,
    ManifestType,
    ArtifactType,
    Subject,
    IndexDigests,
    ScanStatus,
    FindingsSummary,
    Status,
    ArchivedAt,
}

impl Field {
    pub(super) fn of(name: &str) -> Option<Field> {
        // By length first: two million images have eight keys or more
        // each, and a match on the text alone compares it arm by arm.
        let field = match name.len() {
            9 => Field::Tags,
            11 if name.as_bytes()[5] == b'D' => Field::Digest,
            11 => Field::Status,
            13 => Field::PushedAt,
            14 => Field::ArchivedAt,
            15 => Field::ScanStatus,
            16 => Field::Size,
            17 => Field::ArtifactType,
            20 if name.as_bytes()[0] == b'l' => Field::LastPull,
            20 => Field::IndexDigests,
            21 => Field::Subject,
            22 => Field::ManifestType,
            24 => Field::FindingsSummary,
            _ => return None,
        };
        (field.name() == name).then_some(field)
    }

    #[cfg(test)]
    fn of_by_text(name: &str) -> Option<Field> {
        Some(match name {
            "imageDigest" => Field::Digest,
            "imageTags" => Field::Tags,
            "imagePushedAt" => Field::PushedAt,
            "imageSizeInBytes" => Field::Size,
            "lastRecordedPullTime" => Field::LastPull,
            "imageManifestMediaType" => Field::ManifestType,
            "artifactMediaType" => Field::ArtifactType,
            "subjectManifestDigest" => Field::Subject,
            "indexManifestDigests" => Field::IndexDigests,
            "imageScanStatus" => Field::ScanStatus,
            "imageScanFindingsSummary" => Field::FindingsSummary,
            "imageStatus" => Field::Status,
            "lastArchivedAt" => Field::ArchivedAt,
            _ => return None,
        })
    }

    pub(super) fn name(self) -> &'static str {
        FIELDS[self as usize]
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Field, D::Error> {
        struct Name;
        impl Visitor<'_> for Name {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("field identifier")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Field, E> {
                Field::of(name).ok_or_else(|| E::unknown_field(name, FIELDS))
            }
            fn visit_u64<E: de::Error>(self, index: u64) -> Result<Field, E> {
                usize::try_from(index)
                    .ok()
                    .and_then(|i| FIELDS.get(i))
                    .and_then(|name| Field::of(name))
                    .ok_or_else(|| {
                        E::invalid_value(
                            de::Unexpected::Unsigned(index),
                            &"field index 0 <= i < 13",
                        )
                    })
            }
            fn visit_bytes<E: de::Error>(self, name: &[u8]) -> Result<Field, E> {
                match std::str::from_utf8(name) {
                    Ok(name) => self.visit_str(name),
                    Err(_) => Err(E::unknown_field(&String::from_utf8_lossy(name), FIELDS)),
                }
            }
        }
        deserializer.deserialize_identifier(Name)
    }
}

/// An RFC 3339 time, read as the inventory's `with = rfc3339` fields are.
#[derive(Deserialize)]
#[serde(transparent)]
struct Time(#[serde(with = "time::serde::rfc3339")] OffsetDateTime);

#[derive(Deserialize)]
#[serde(transparent)]
struct OptionalTime(#[serde(with = "time::serde::rfc3339::option")] Option<OffsetDateTime>);

struct ImageVisitor<'r> {
    rows: &'r mut ImageRows,
}

impl<'de> Visitor<'de> for ImageVisitor<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct Image")
    }

    /// An image written as an array of its fields: rare enough to build.
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let image = Image::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        let one = ImageRows::of(std::slice::from_ref(&image));
        self.rows.append(one);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let rows = self.rows;
        let mut image = ImageFields::start(rows);
        while let Some(field) = map.next_key::<Field>()? {
            if !image.first(field) {
                return Err(de::Error::duplicate_field(field.name()));
            }
            match field {
                Field::Digest => image.digest = Some(map.next_value::<Digest>()?),
                // A repeated key is an error above, so the tags and
                // manifests read here are the only ones this image has.
                Field::Tags => map.next_value_seed(TagsSeed { rows: &mut *rows })?,
                Field::PushedAt => image.pushed_at = Some(map.next_value::<Time>()?.0),
                Field::Size => image.size = map.next_value::<u64>()?,
                Field::LastPull => image.last_pull = map.next_value::<OptionalTime>()?.0,
                Field::ManifestType => {
                    map.next_value::<Option<Label>>()?;
                }
                Field::ArtifactType => image.artifact_type = map.next_value::<Option<Label>>()?,
                Field::Subject => {
                    image.subject = map.next_value::<Option<SubjectDigest>>()?.map(|s| s.0)
                }
                Field::IndexDigests => map.next_value_seed(DigestsSeed {
                    digests: &mut rows.platforms,
                })?,
                Field::ScanStatus => {
                    map.next_value::<Option<ImageScanStatus>>()?;
                }
                Field::FindingsSummary => {
                    let summary = map.next_value::<Option<ImageScanFindingsSummary>>()?;
                    image.critical_and_high = critical_and_high(summary.as_ref());
                }
                Field::Status => image.status = map.next_value::<Option<Label>>()?,
                Field::ArchivedAt => {
                    map.next_value::<OptionalTime>()?;
                }
            }
        }
        image.finish(rows).map_err(de::Error::missing_field)
    }
}

impl ImageRows {
    /// Adds another set of rows after these.
    fn append(&mut self, other: ImageRows) {
        let (tags, platforms) = (self.tag_ends.len(), self.platforms.len());
        let text = self.tag_text.len();
        self.tag_text.push_str(&other.tag_text);
        self.tag_ends
            .extend(other.tag_ends.iter().map(|end| end + text));
        self.platforms.extend(other.platforms);
        self.signed.extend(other.signed);
        self.rows.extend(other.rows.into_iter().map(|mut row| {
            row.tags = row.tags.start + tags..row.tags.end + tags;
            row.platforms = row.platforms.start + platforms..row.platforms.end + platforms;
            row
        }));
    }
}

/// `subjectManifestDigest`, read as the `String` it is in `Image`.
struct SubjectDigest(Digest);

impl<'de> Deserialize<'de> for SubjectDigest {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl Visitor<'_> for Text {
            type Value = SubjectDigest;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<SubjectDigest, E> {
                Ok(SubjectDigest(Digest::new(text)))
            }
        }
        deserializer.deserialize_str(Text)
    }
}

/// `imageTags`, each tag appended to the rows' tag text.
struct TagsSeed<'r> {
    rows: &'r mut ImageRows,
}

impl<'de> DeserializeSeed<'de> for TagsSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for TagsSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(TagSeed {
                rows: &mut *self.rows,
            })?
            .is_some()
        {}
        Ok(())
    }
}

struct TagSeed<'r> {
    rows: &'r mut ImageRows,
}

impl<'de> DeserializeSeed<'de> for TagSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_string(self)
    }
}

impl Visitor<'_> for TagSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, tag: &str) -> Result<(), E> {
        self.rows.push_tag(tag);
        Ok(())
    }
}

/// `indexManifestDigests`, appended to the rows' platforms.
struct DigestsSeed<'r> {
    digests: &'r mut Vec<Digest>,
}

impl<'de> DeserializeSeed<'de> for DigestsSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for DigestsSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(digest) = seq.next_element::<Digest>()? {
            self.digests.push(digest);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{
        parse_for_analysis, ImageMode, ImageSummary, Images, ReadingImages, Repository,
    };

    #[test]
    fn field_names_are_matched_by_length_as_by_text() {
        for (index, name) in FIELDS.iter().enumerate() {
            let field = Field::of(name).unwrap();
            assert_eq!(field as usize, index);
            assert_eq!(Field::of_by_text(name).map(|f| f as usize), Some(index));
        }
        for other in [
            "",
            "imagedigest",
            "imageDigesT",
            "imageStatuz",
            "imageTagz",
            "ImageTags",
            "lastRecordedPullTimE",
            "indexManifestDigestz",
            "xmageScanFindingsSummary",
            "imageDigest ",
            "image\u{e9}igest",
        ] {
            assert!(Field::of(other).is_none(), "{other}");
            assert!(Field::of_by_text(other).is_none(), "{other}");
        }
    }

    const DIGESTS: [&str; 4] = [
        "sha256:0d6dcc7ab4e9768019b3f30f7e14f497ab6f212d93f3144c68a205dab058a3b2",
        "sha256:a7d912717a1bbea9313d554b0b710107cfba76dbc770b2988fd282bc345ae150",
        "sha256:4dc08b0214790170428f2ae38cbe58c926b56e82ab5625a3ff590a24e92e6d94",
        "sha256:65342f209944e3ec4994971dcb075fe14f56c0b16a98b574ab3f55e6e55d7172",
    ];

    /// A repository whose images cover every field and kind: an index and
    /// its platforms, a signature, an SBOM, an archived image, an image
    /// written as an array, a repeated digest, escapes.
    fn repository(images: &str) -> String {
        format!(
            r#"{{"repositoryName":"app","repositoryArn":"arn:aws:ecr:us-east-1:111122223333:repository/app","imageTagMutability":"MUTABLE","images":{images}}}"#
        )
    }

    /// Images of every kind in the form `DescribeImages` writes them (the
    /// reader from text takes them all): null and absent optional fields,
    /// whitespace, non-ASCII text, a severity named twice, the largest
    /// size, times with an offset and a fraction.
    fn common_images() -> String {
        let [a, b, c, d] = DIGESTS;
        format!(
            r#"[
  {{"imageDigest":"{a}","imageTags":["v1","latest"],"imagePushedAt":"2026-06-01T06:00:00Z","imageSizeInBytes":100,"lastRecordedPullTime":"2026-07-01T00:00:00Z","imageManifestMediaType":"application/vnd.oci.image.manifest.v1+json","imageScanStatus":{{"status":"COMPLETE","description":"The scan was completed successfully."}},"imageScanFindingsSummary":{{"findingSeverityCounts":{{"CRITICAL":2,"HIGH":1,"high":4}}}}}},
  {{"imagePushedAt":"2026-08-01T06:00:00+02:00","imageDigest":"{b}","imageTags":[],"imageManifestMediaType":"application/vnd.oci.image.index.v1+json","indexManifestDigests":["{c}","{d}"],"imageSizeInBytes":7}},
  {{"imageDigest":"{c}","imagePushedAt":"2026-08-01T04:00:00Z","imageSizeInBytes":3,"imageScanFindingsSummary":{{"findingSeverityCounts":{{"CRITICAL":1}}}}}},
  {{"imageDigest":"{d}","imagePushedAt":"2026-08-01T04:00:00Z","imageSizeInBytes":4,"imageScanFindingsSummary":{{"findingSeverityCounts":{{"HIGH":5}}}}}},
  {{"imageDigest":"sha256:{sig}","imagePushedAt":"2026-08-02T00:00:00Z","artifactMediaType":"application/vnd.cncf.notary.signature","subjectManifestDigest":"{a}","imageTags":["sha256-x.sig"]}},
  {{"imageDigest":"sha256:sbom","imagePushedAt":"2026-08-02T00:00:00Z","artifactMediaType":"application/spdx+json","subjectManifestDigest":"{b}"}},
  {{"imageDigest":"{a}","imagePushedAt":"2025-01-01T00:00:00Z","imageStatus":"ARCHIVED","lastArchivedAt":"2025-06-01T00:00:00Z","imageSizeInBytes":9}},
  {{ "imageDigest" : "sha256:other" , "imageTags" : [ "té-1" , "x" ] , "imagePushedAt" : "2024-02-29T12:00:00.250Z" ,
     "imageSizeInBytes" : 18446744073709551615 , "lastRecordedPullTime" : null , "imageManifestMediaType" : null ,
     "artifactMediaType" : null , "subjectManifestDigest" : null , "indexManifestDigests" : [ ] ,
     "imageScanStatus" : {{ "description" : null , "status" : "FAILED" }} ,
     "imageScanFindingsSummary" : {{ "findingSeverityCounts" : {{ "HIGH" : 1 , "HIGH" : 3 , "Critical" : 2 }} }} ,
     "imageStatus" : null , "lastArchivedAt" : null }},
  {{"imageDigest":"{b}","imagePushedAt":"2026-01-01T00:00:00-05:30","imageScanStatus":null,"imageScanFindingsSummary":{{}},"imageStatus":"ACTIVE"}},
  {{"imageDigest":"{c}","imagePushedAt":"2026-01-01T00:00:00Z","imageScanFindingsSummary":null,"imageScanStatus":{{"status":"PENDING"}}}}
]"#,
            sig = "1".repeat(64)
        )
    }

    /// The common images and two the reader from text leaves to serde:
    /// one written as an array, one with escapes.
    fn sample_images() -> String {
        let d = DIGESTS[3];
        let common = common_images();
        let common = common.trim_end().trim_end_matches(']');
        format!(
            r#"{common},
  ["{d}", ["t\u00e9\"q"], "2024-01-01T00:00:00Z", 11, null, "application/vnd.oci.image.manifest.v1+json"],
  {{"image\u0044igest":"OTHER:1","imagePushedAt":"2023-01-01T00:00:00Z","imageStatus":"archived","artifactMediaType":"application/vnd.oci.image.config.v1+json"}}
]"#
        )
    }

    /// Reads a repository as a plain parse, as a parse for analysis, and
    /// with serde's image reader alone.
    fn three_ways(text: &str) -> [Result<Repository, serde_json::Error>; 3] {
        let listed = serde_json::from_str::<Repository>(text);
        let for_analysis = parse_for_analysis::<Repository>(text);
        let streamed = {
            let _streaming = ReadingImages::start(ImageMode::Streamed);
            serde_json::from_str::<Repository>(text)
        };
        [listed, for_analysis, streamed]
    }

    /// The same answer every way: the same summary, or the same error at
    /// the same place.
    fn assert_read_alike(text: &str) -> bool {
        let [listed, for_analysis, streamed] = three_ways(text);
        let mut read = None;
        for summarized in [for_analysis, streamed] {
            match (&listed, summarized) {
                (Ok(listed), Ok(summarized)) => {
                    let Images::Listed(images) = &listed.images else {
                        panic!("a plain parse summarized: {text}");
                    };
                    let Images::Summarized(summary) = &summarized.images else {
                        panic!("a parse for analysis kept the images: {text}");
                    };
                    assert_eq!(*summary, ImageSummary::of(images), "{text}");
                    read = Some(true);
                }
                (Err(listed), Err(summarized)) => {
                    assert_eq!(listed.to_string(), summarized.to_string(), "{text}");
                    read = Some(false);
                }
                (listed, summarized) => panic!(
                    "read differently: plain {:?}, for analysis {:?}: {text}",
                    listed.as_ref().err(),
                    summarized.err()
                ),
            }
        }
        read.unwrap_or_default()
    }

    #[test]
    fn a_parse_for_analysis_summarizes_what_a_plain_parse_lists() {
        let text = repository(&sample_images());
        assert!(assert_read_alike(&text));
        let [Ok(listed), ..] = three_ways(&text) else {
            panic!("the sample does not parse");
        };
        let summary = listed.images_summarized();
        // The index (latest counted image) takes its platforms' findings.
        let latest = summary.latest.as_ref().unwrap();
        assert_eq!(latest.digest, Digest::new(DIGESTS[1]));
        assert_eq!((latest.critical, latest.high), (1, 5));
        assert_eq!(summary.archived_count, 2);
        assert_eq!(summary.listed, 12);
    }

    #[test]
    fn a_parse_for_analysis_rejects_what_a_plain_parse_rejects_with_its_message() {
        let [a, ..] = DIGESTS;
        let image = |fields: &str| repository(&format!("[{fields}]"));
        let cases = [
            image(&format!(
                r#"{{"imageDigest":"{a}","imagePushedAt":"2026-01-01T00:00:00Z","bogus":1}}"#
            )),
            image(&format!(
                r#"{{"imageDigest":"{a}","imageTags":[],"imageTags":[],"imagePushedAt":"2026-01-01T00:00:00Z"}}"#
            )),
            image(&format!(
                r#"{{"imageDigest":"{a}","lastRecordedPullTime":null,"lastRecordedPullTime":null,"imagePushedAt":"2026-01-01T00:00:00Z"}}"#
            )),
            image(r#"{"imagePushedAt":"2026-01-01T00:00:00Z"}"#),
            image(&format!(r#"{{"imageDigest":"{a}"}}"#)),
            // Keys that begin with a field's name.
            image(&format!(
                r#"{{"imageDigestX":"{a}","imagePushedAt":"2026-01-01T00:00:00Z"}}"#
            )),
            image(&format!(
                r#"{{"imageDigest":"{a}","imagePushedAt":"2026-01-01T00:00:00Z","lastArchivedAt2":null}}"#
            )),
            image(&format!(
                r#"{{"imageDigest":"{a}","imagePushedAt":"2026-01-01T00:00:00Z","imageStatusX":null}}"#
            )),
            image("{}"),
            image(&format!(
                r#"{{"imageDigest":"{a}","imagePushedAt":"2026-13-01T00:00:00Z"}}"#
            )),
            image(&format!(r#"{{"imageDigest":"{a}","imagePushedAt":null}}"#)),
            image(&format!(
                r#"{{"imageDigest":"{a}","imagePushedAt":"2026-01-01T00:00:00Z","imageTags":null}}"#
            )),
            image(&format!(
                r#"{{"imageDigest":"{a}","imagePushedAt":"2026-01-01T00:00:00Z","imageTags":[1]}}"#
            )),
            image(&format!(
                r#"{{"imageDigest":"{a}","imagePushedAt":"2026-01-01T00:00:00Z","imageSizeInBytes":-1}}"#
            )),
            image(&format!(
                r#"{{"imageDigest":"{a}","imagePushedAt":"2026-01-01T00:00:00Z","imageSizeInBytes":"1"}}"#
            )),
            image(r#"{"imageDigest":7,"imagePushedAt":"2026-01-01T00:00:00Z"}"#),
            image(&format!(
                r#"{{"imageDigest":"{a}","imagePushedAt":"2026-01-01T00:00:00Z","subjectManifestDigest":7}}"#
            )),
            image(&format!(
                r#"{{"imageDigest":"{a}","imagePushedAt":"2026-01-01T00:00:00Z","indexManifestDigests":[1]}}"#
            )),
            image(&format!(
                r#"{{"imageDigest":"{a}","imagePushedAt":"2026-01-01T00:00:00Z","imageScanStatus":{{}}}}"#
            )),
            image(&format!(
                r#"{{"imageDigest":"{a}","imagePushedAt":"2026-01-01T00:00:00Z","imageScanFindingsSummary":{{"findingSeverityCounts":{{"HIGH":-1}}}}}}"#
            )),
            image(&format!(
                r#"{{"imageDigest":"{a}","imagePushedAt":"2026-01-01T00:00:00Z","imageStatus":5}}"#
            )),
            image(&format!(
                r#"{{"imageDigest":"{a}","imagePushedAt":"2026-01-01T00:00:00Z","lastArchivedAt":"yesterday"}}"#
            )),
            image(&format!(
                r#"{{"imageDigest":"{a}","imagePushedAt":"2026-01-01T00:00:00Z","imageManifestMediaType":[]}}"#
            )),
            image(&format!(r#"["{a}"]"#)),
            image(&format!(
                r#"["{a}", [], "2026-01-01T00:00:00Z", 1, null, null, null, null, [], null, null, null, null, 5]"#
            )),
            image("7"),
            image("null"),
            repository("null"),
            repository("{}"),
            repository(r#""images""#),
        ];
        for case in &cases {
            assert!(!assert_read_alike(case), "accepted: {case}");
        }
        // Null where a field is optional, and the array form with every
        // field, are images.
        assert!(assert_read_alike(&image(&format!(
            r#"{{"imageDigest":"{a}","imagePushedAt":"2026-01-01T00:00:00Z","subjectManifestDigest":null,"imageStatus":null}}"#
        ))));
        assert!(assert_read_alike(&image(&format!(
            r#"["{a}", [], "2026-01-01T00:00:00Z", 1, null, null, null, null, [], null, null, null, null]"#
        ))));
    }

    /// `count` random edits of a text (bytes deleted, repeated or replaced
    /// by JSON's own characters), those still UTF-8.
    fn edits(text: &str, count: usize) -> Vec<String> {
        let pieces: &[&[u8]] = &[
            b"\"",
            b",",
            b":",
            b"{",
            b"}",
            b"[",
            b"]",
            b"null",
            b"1",
            b"\\",
            b"\"x\":1,",
            b"\"imageTags\":[],",
            b"\"imageDigest\"",
            b" ",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |bound: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % bound as u64) as usize
        };
        let mut texts = Vec::new();
        for _ in 0..count {
            let mut edited = text.as_bytes().to_vec();
            for _ in 0..1 + next(2) {
                let at = next(edited.len());
                match next(3) {
                    0 => {
                        let end = (at + 1 + next(8)).min(edited.len());
                        edited.drain(at..end);
                    }
                    1 => {
                        let piece = pieces[next(pieces.len())];
                        edited.splice(at..at, piece.iter().copied());
                    }
                    _ => {
                        let end = (at + 1 + next(30)).min(edited.len());
                        let copy = edited[at..end].to_vec();
                        edited.splice(at..at, copy);
                    }
                }
            }
            texts.extend(String::from_utf8(edited));
        }
        texts
    }

    /// Random edits of valid repositories, most of which no longer parse,
    /// read alike every way: each must fail with the plain parse's message.
    #[test]
    fn edited_repositories_read_alike_every_way() {
        for images in [sample_images(), common_images()] {
            let (mut parsed, mut rejected) = (0, 0);
            for edited in edits(&repository(&images), 2000) {
                if assert_read_alike(&edited) {
                    parsed += 1;
                } else {
                    rejected += 1;
                }
            }
            assert!(
                parsed > 100 && rejected > 500,
                "{parsed} parsed, {rejected} rejected"
            );
        }
    }

    /// Wherever the reader from text takes an array of images, the text is
    /// JSON and serde's reader reads the same rows from it; and it takes
    /// the common form.
    #[test]
    fn images_taken_from_their_text_are_json_and_the_rows_serde_reads() {
        use super::super::raw_images::read_rows;
        let streamed = |text: &str| {
            read_summarized(&mut serde_json::Deserializer::from_str(text))
                .map_err(|e| e.to_string())
        };
        let common = common_images();
        let taken = read_rows(&common).expect("the common form is taken");
        assert_eq!(taken.rows.len(), 10);
        assert_eq!(Ok(&taken), streamed(&common).as_ref());
        assert!(read_rows(&sample_images()).is_none());
        // What serde rejects as JSON, the reader does not take.
        let [a, ..] = DIGESTS;
        for not_json in [
            format!(
                r#"[{{"imageDigest":"{a}","imagePushedAt":"2026-01-01T00:00:00Z","imageTags":["a	b"]}}]"#
            ),
            format!(
                r#"[{{"imageDigest":"{a}","imagePushedAt":"2026-01-01T00:00:00Z","imageSizeInBytes":012}}]"#
            ),
            format!(
                r#"[{{"imageDigest":"{a}","imagePushedAt":"2026-01-01T00:00:00Z","imageStatus":nul}}]"#
            ),
            format!(
                r#"[{{"imageDigest":"{a}","imagePushedAt":"2026-01-01T00:00:00Z","imageStatus":nulx}}]"#
            ),
            format!(r#"[{{"imageDigest":"{a}","imagePushedAt":"2026-01-01T00:00:00Z",}}]"#),
            format!(r#"[{{"imageDigest":"{a}","imagePushedAt":"2026-01-01T00:00:00Z"}},]"#),
            format!(
                r#"[{{"imageDigest":"{a}","imagePushedAt":"2026-01-01T00:00:00Z","imageTags":["x",]}}]"#
            ),
        ] {
            assert!(
                serde_json::from_str::<serde::de::IgnoredAny>(&not_json).is_err(),
                "{not_json}"
            );
            assert!(read_rows(&not_json).is_none(), "{not_json}");
        }
        let (mut took, mut left) = (0, 0);
        for edited in edits(&common, 3000) {
            match read_rows(&edited) {
                Some(rows) => {
                    assert!(
                        serde_json::from_str::<serde::de::IgnoredAny>(&edited).is_ok(),
                        "taken, but not JSON: {edited}"
                    );
                    assert_eq!(Ok(rows), streamed(&edited), "{edited}");
                    took += 1;
                }
                None => left += 1,
            }
        }
        assert!(
            took > 200 && left > 500,
            "{took} taken, {left} left to serde"
        );
    }

    /// Arrays read before serde are replaced by numbers: a number the text
    /// had itself where images go, taking another array's rows, is caught,
    /// and the answer is the plain parse's.
    #[test]
    fn a_number_where_images_go_is_the_plain_parse_error() {
        let images = common_images();
        for (first, second) in [
            ("0", images.as_str()),
            (images.as_str(), "0"),
            ("1", images.as_str()),
        ] {
            let text = format!("[{}, {}]", repository(first), repository(second));
            let plain = serde_json::from_str::<Vec<Repository>>(&text).map_err(|e| e.to_string());
            let for_analysis =
                parse_for_analysis::<Vec<Repository>>(&text).map_err(|e| e.to_string());
            assert!(plain.is_err());
            assert_eq!(plain.err(), for_analysis.err());
        }
        // Two arrays read before serde, and a key ending in `"images` left alone.
        let text = format!(
            r#"[{}, {}, {{"x\"images":[]}}]"#,
            repository(&images),
            repository(&images)
        );
        let plain = serde_json::from_str::<Vec<Repository>>(&text).map_err(|e| e.to_string());
        let for_analysis = parse_for_analysis::<Vec<Repository>>(&text).map_err(|e| e.to_string());
        assert_eq!(plain.err(), for_analysis.err());
        // Where serde keeps any value, a number in place of an array is
        // never taken: the text is read again as it is.
        let text = repository(&images);
        let plain = serde_json::from_str::<serde_json::Value>(&text).unwrap();
        assert_eq!(
            parse_for_analysis::<serde_json::Value>(&text).unwrap(),
            plain
        );
        let text = format!("[{}, {}]", repository(&images), repository(&images));
        let read = parse_for_analysis::<Vec<Repository>>(&text).unwrap();
        let Images::Summarized(summary) = &read[1].images else {
            panic!("not summarized");
        };
        assert_eq!(summary.listed, 10);
    }
}
