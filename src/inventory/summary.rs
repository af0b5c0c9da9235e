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

use foldhash::{HashMap, HashMapExt, HashSet};

use time::OffsetDateTime;

use super::rows::{ImageRows, Row};
use super::{Digest, Image};

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
    pub fn of(images: &[Image]) -> ImageSummary {
        ImageSummary::of_rows(&ImageRows::of(images))
    }

    pub(super) fn of_rows(images: &ImageRows) -> ImageSummary {
        let rows = &images.rows;
        // Manifests listed by an index are the index's platforms: they are
        // untagged by design and live and die with the index.
        let children: HashSet<&Digest> = images.platforms.iter().collect();
        // Sizes by digest, for an index's platforms (the last image listed
        // with a digest gives its size).
        let sizes: HashMap<&Digest, u64> = if children.is_empty() {
            HashMap::default()
        } else {
            rows.iter().map(|r| (&r.digest, r.size)).collect()
        };
        let mut ids: HashMap<&Digest, u32> = HashMap::with_capacity(rows.len());
        let mut id_of = |digest| -> u32 {
            let next = u32::try_from(ids.len()).unwrap_or(u32::MAX);
            *ids.entry(digest).or_insert(next)
        };
        // The manifests a signature refers to.
        let signed: HashSet<&Digest> = images.signed.iter().collect();
        let mut summary = ImageSummary {
            listed: rows.len(),
            ..ImageSummary::default()
        };
        let mut latest: Option<&Row> = None;
        for row in rows {
            let size = i64::try_from(row.size).unwrap_or(i64::MAX);
            if row.archived {
                // Neither stale at standard-storage price nor unused, and it
                // cannot be pulled (Amazon ECR User Guide, "Archiving an
                // image").
                summary.archived_count += 1;
                summary.archived_bytes = summary.archived_bytes.saturating_add(size);
                continue;
            }
            summary.count += 1;
            summary.bytes = summary.bytes.saturating_add(size);
            if row.referrer || children.contains(&row.digest) {
                continue;
            }
            if !signed.contains(&row.digest) {
                summary.unsigned_count += 1;
            }
            let manifest = Manifest {
                id: id_of(&row.digest),
                bytes: row.size,
            };
            let platforms = images
                .platforms(row)
                .iter()
                .map(|digest| Manifest {
                    id: id_of(digest),
                    bytes: sizes.get(digest).copied().unwrap_or(0),
                })
                .collect();
            summary.counted.push(CountedImage {
                pushed_at: row.pushed_at,
                last_pull: row.last_pull,
                tagged: !row.tags.is_empty(),
                manifest,
                platforms,
            });
            // The last of equals, as `Iterator::max_by` picks.
            let later =
                latest.is_none_or(|l| (row.pushed_at, &row.digest) >= (l.pushed_at, &l.digest));
            if later {
                latest = Some(row);
            }
        }
        summary.latest = latest.map(|latest| {
            let platforms = images.platforms(latest);
            let mut found = LatestImage {
                digest: latest.digest.clone(),
                tags: images.tags(latest),
                pushed_at: latest.pushed_at,
                critical: 0,
                high: 0,
            };
            // An index's scan findings are its platforms'.
            let scanned: Vec<&Row> = if platforms.is_empty() {
                vec![latest]
            } else {
                rows.iter()
                    .filter(|r| platforms.contains(&r.digest))
                    .collect()
            };
            for row in scanned {
                found.critical += row.critical;
                found.high += row.high;
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
