//! What the analysis reads of a repository's images, kept in a fraction of
//! their memory. A large organization has millions of images; reading a
//! saved inventory for a scan ([`super::Inventory::load_for_analysis`]) keeps
//! this summary of each repository's images instead of the images.
//!
//! Everything that does not depend on when the scan looks is settled here:
//! which images are index platforms, signatures or other referrers, which
//! are signed, the totals and the latest image. What does depend on it
//! (stale, unpulled, recently pulled: thresholds against the scan's date)
//! is kept per image as two times, a flag and the manifests it holds.

use std::collections::{HashMap, HashSet};

use time::OffsetDateTime;

use super::{Digest, Image};

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
fn is_signature(image: &Image) -> bool {
    image.subject_manifest_digest.is_some()
        && image.artifact_media_type.as_deref().is_some_and(|t| {
            SIGNATURE_TYPES.iter().any(|s| t.eq_ignore_ascii_case(s))
                || t.starts_with(SIGSTORE_BUNDLE_TYPE_PREFIX)
        })
}

/// A signature, SBOM or attestation attached to another manifest.
fn is_referrer(image: &Image) -> bool {
    image.subject_manifest_digest.is_some()
        || image
            .artifact_media_type
            .as_deref()
            .is_some_and(|t| !IMAGE_CONFIG_TYPES.contains(&t))
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageSummary {
    /// Every image listed, as the inventory has them.
    pub listed: usize,
    /// Images not archived, and their bytes.
    pub count: i64,
    pub bytes: i64,
    /// Images in the archive storage class (status ARCHIVED): not pullable,
    /// billed as archive, counted in none of the other facts.
    pub archived_count: i64,
    pub archived_bytes: i64,
    /// Counted images (below) that no signature in the repository refers to.
    pub unsigned_count: i64,
    /// The images the time-dependent facts count: not index platforms,
    /// referrers or archived, in the inventory's order.
    pub counted: Vec<CountedImage>,
    pub latest: Option<LatestImage>,
}

/// One counted image, as the time-dependent facts need it.
#[derive(Debug, Clone, PartialEq)]
pub struct CountedImage {
    pub pushed_at: OffsetDateTime,
    pub last_pull: Option<OffsetDateTime>,
    pub tagged: bool,
    /// The manifest itself: its id in the repository and its size.
    pub manifest: Manifest,
    /// For an index: its platforms' manifests.
    pub platforms: Box<[Manifest]>,
}

/// A manifest an image holds: bytes summed once per total, however many
/// images hold it (ids are per repository, one per distinct digest).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Manifest {
    pub id: u32,
    pub bytes: u64,
}

/// The most recently pushed counted image.
#[derive(Debug, Clone, PartialEq)]
pub struct LatestImage {
    pub digest: Digest,
    pub tags: Vec<String>,
    pub pushed_at: OffsetDateTime,
    /// CRITICAL and HIGH findings of its last scan; for an index, of its
    /// platforms' scans.
    pub critical: i64,
    pub high: i64,
}

impl ImageSummary {
    pub fn of<'a>(images: &'a [Image]) -> ImageSummary {
        // Manifests listed by an index are the index's platforms: they are
        // untagged by design and live and die with the index.
        let children: HashSet<&Digest> = images
            .iter()
            .flat_map(|i| i.index_manifest_digests.iter())
            .collect();
        // Sizes by digest, for an index's platforms (the last image listed
        // with a digest gives its size).
        let sizes: HashMap<&Digest, u64> = if children.is_empty() {
            HashMap::new()
        } else {
            images
                .iter()
                .map(|i| (&i.image_digest, i.image_size_in_bytes))
                .collect()
        };
        let mut ids: HashMap<&'a Digest, u32> = HashMap::with_capacity(images.len());
        let mut id_of = |digest: &'a Digest| -> u32 {
            let next = u32::try_from(ids.len()).unwrap_or(u32::MAX);
            *ids.entry(digest).or_insert(next)
        };
        // The manifests a signature refers to.
        let signed: HashSet<Digest> = images
            .iter()
            .filter(|i| is_signature(i))
            .filter_map(|i| i.subject_manifest_digest.as_deref())
            .map(Digest::new)
            .collect();
        let mut summary = ImageSummary {
            listed: images.len(),
            ..ImageSummary::default()
        };
        let mut latest: Option<&'a Image> = None;
        for image in images {
            let size = i64::try_from(image.image_size_in_bytes).unwrap_or(i64::MAX);
            if image.is_archived() {
                // Neither stale at standard-storage price nor unused, and it
                // cannot be pulled (Amazon ECR User Guide, "Archiving an
                // image").
                summary.archived_count += 1;
                summary.archived_bytes = summary.archived_bytes.saturating_add(size);
                continue;
            }
            summary.count += 1;
            summary.bytes = summary.bytes.saturating_add(size);
            if children.contains(&image.image_digest) || is_referrer(image) {
                continue;
            }
            if !signed.contains(&image.image_digest) {
                summary.unsigned_count += 1;
            }
            let manifest = Manifest {
                id: id_of(&image.image_digest),
                bytes: image.image_size_in_bytes,
            };
            let platforms = image
                .index_manifest_digests
                .iter()
                .map(|digest| Manifest {
                    id: id_of(digest),
                    bytes: sizes.get(digest).copied().unwrap_or(0),
                })
                .collect();
            summary.counted.push(CountedImage {
                pushed_at: image.image_pushed_at,
                last_pull: image.last_recorded_pull_time,
                tagged: !image.image_tags.is_empty(),
                manifest,
                platforms,
            });
            // The last of equals, as `Iterator::max_by` picks.
            let later = latest.is_none_or(|l| {
                (image.image_pushed_at, &image.image_digest) >= (l.image_pushed_at, &l.image_digest)
            });
            if later {
                latest = Some(image);
            }
        }
        summary.latest = latest.map(|latest| {
            let scanned: Vec<&Image> = if latest.index_manifest_digests.is_empty() {
                vec![latest]
            } else {
                images
                    .iter()
                    .filter(|i| latest.index_manifest_digests.contains(&i.image_digest))
                    .collect()
            };
            let mut found = LatestImage {
                digest: latest.image_digest.clone(),
                tags: latest.image_tags.clone(),
                pushed_at: latest.image_pushed_at,
                critical: 0,
                high: 0,
            };
            for image in scanned {
                if let Some(summary) = &image.image_scan_findings_summary {
                    let count = |sev: &str| {
                        summary
                            .finding_severity_counts
                            .iter()
                            .filter(|(k, _)| k.eq_ignore_ascii_case(sev))
                            .map(|(_, v)| i64::try_from(*v).unwrap_or(i64::MAX))
                            .sum::<i64>()
                    };
                    found.critical += count("CRITICAL");
                    found.high += count("HIGH");
                }
            }
            found
        });
        summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::test_image;

    /// A hand-written inventory can hold digests that share any prefix:
    /// summarizing 100,000 of them must stay linear (with the digest hashed
    /// by a prefix this took minutes, every key colliding).
    #[test]
    fn digests_sharing_a_long_prefix_summarize_like_any_others() {
        let images: Vec<Image> = (0..100_000u64)
            .map(|n| {
                let digest = format!("sha256:{}{n:016x}", "0".repeat(48));
                test_image(&digest, &[], OffsetDateTime::UNIX_EPOCH, 10)
            })
            .collect();
        let summary = ImageSummary::of(&images);
        assert_eq!(summary.listed, 100_000);
        assert_eq!(summary.counted.len(), 100_000);
        assert_eq!(summary.unsigned_count, 100_000);
        let ids: HashSet<u32> = summary.counted.iter().map(|c| c.manifest.id).collect();
        assert_eq!(ids.len(), 100_000, "each digest its own manifest");
    }
}
