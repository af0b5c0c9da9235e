//! Image facts of one repository: staleness, pulls, the latest image's scan.

use std::collections::HashSet;

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::inventory::{CountedImage, ImageSummary};

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImageFacts {
    pub count: i64,
    pub bytes: i64,
    pub stale_untagged_count: i64,
    pub stale_untagged_bytes: i64,
    pub stale_untagged_oldest: String,
    pub unpulled_count: i64,
    pub unpulled_bytes: i64,
    /// Images (not index children or referrers) pulled within the
    /// unpulled-days window: the repository is in use.
    pub recently_pulled_count: i64,
    /// Images in the archive storage class (status ARCHIVED): not pullable,
    /// billed as archive, counted in none of the other facts.
    pub archived_count: i64,
    pub archived_bytes: i64,
    /// Images (not index children, referrers or archived) that no
    /// signature in the repository refers to.
    pub unsigned_count: i64,
    pub latest_digest: String,
    pub latest_tags: Vec<String>,
    pub latest_pushed_at: String,
    pub latest_critical: i64,
    pub latest_high: i64,
}

fn older_than(t: OffsetDateTime, as_of: OffsetDateTime, days: i64) -> bool {
    as_of - t > Duration::days(days)
}

/// The facts of a repository's images (summarized when read,
/// [`ImageSummary`]) on the scan's date and thresholds.
pub fn image_facts(
    summary: &ImageSummary,
    as_of: OffsetDateTime,
    stale_days: i64,
    unpulled_days: i64,
) -> ImageFacts {
    // What an image holds: its own manifest's size and, for an index, its
    // platforms' — each manifest once per total, however many indexes
    // share it.
    let holds = |image: &CountedImage, counted: &mut HashSet<u32>| -> i64 {
        let mut total: u64 = 0;
        for manifest in std::iter::once(&image.manifest).chain(image.platforms.iter()) {
            if counted.insert(manifest.id) {
                total = total.saturating_add(manifest.bytes);
            }
        }
        i64::try_from(total).unwrap_or(i64::MAX)
    };
    let mut stale_counted: HashSet<u32> = HashSet::new();
    let mut unpulled_counted: HashSet<u32> = HashSet::new();
    let mut facts = ImageFacts {
        count: summary.count,
        bytes: summary.bytes,
        archived_count: summary.archived_count,
        archived_bytes: summary.archived_bytes,
        unsigned_count: summary.unsigned_count,
        ..ImageFacts::default()
    };
    let mut oldest_stale: Option<OffsetDateTime> = None;
    for image in &summary.counted {
        if image
            .last_pull
            .is_some_and(|pull| !older_than(pull, as_of, unpulled_days))
        {
            facts.recently_pulled_count += 1;
        }
        if !image.tagged {
            if older_than(image.pushed_at, as_of, stale_days) {
                facts.stale_untagged_count += 1;
                facts.stale_untagged_bytes = facts
                    .stale_untagged_bytes
                    .saturating_add(holds(image, &mut stale_counted));
                oldest_stale = Some(match oldest_stale {
                    Some(t) => t.min(image.pushed_at),
                    None => image.pushed_at,
                });
            }
        } else {
            let last_used = match image.last_pull {
                Some(pull) => pull.max(image.pushed_at),
                None => image.pushed_at,
            };
            if older_than(last_used, as_of, unpulled_days) {
                facts.unpulled_count += 1;
                facts.unpulled_bytes = facts
                    .unpulled_bytes
                    .saturating_add(holds(image, &mut unpulled_counted));
            }
        }
    }
    facts.stale_untagged_oldest = oldest_stale.map(rfc3339).unwrap_or_default();
    // The latest image: the most recently pushed one that is not a child or
    // a referrer. An index carries no findings itself: its platforms' count.
    if let Some(latest) = &summary.latest {
        facts.latest_digest = latest.digest.to_string();
        facts.latest_tags = latest.tags.clone();
        facts.latest_pushed_at = rfc3339(latest.pushed_at);
        facts.latest_critical = latest.critical;
        facts.latest_high = latest.high;
    }
    facts
}

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{test_image as image, Image};
    use time::macros::datetime;

    /// The facts of these images, read as a scan reads them.
    fn image_facts(
        images: &[Image],
        as_of: OffsetDateTime,
        stale: i64,
        unpulled: i64,
    ) -> ImageFacts {
        super::image_facts(&ImageSummary::of(images), as_of, stale, unpulled)
    }

    const AS_OF: OffsetDateTime = datetime!(2026-11-20 06:00 UTC);

    #[test]
    fn stale_means_strictly_older_than_the_threshold() {
        let images = vec![
            image("sha256:a", &[], AS_OF - Duration::days(14), 10),
            image("sha256:b", &[], AS_OF - Duration::days(15), 20),
            image("sha256:c", &[], AS_OF - Duration::days(400), 30),
        ];
        let f = image_facts(&images, AS_OF, 14, 90);
        assert_eq!(f.stale_untagged_count, 2);
        assert_eq!(f.stale_untagged_bytes, 50);
        assert_eq!(f.stale_untagged_oldest, "2025-10-16T06:00:00Z");
    }

    #[test]
    fn archived_images_are_counted_apart_from_everything_else() {
        let old = AS_OF - Duration::days(200);
        let archived = |digest: &str, tags: &[&str], size: u64| {
            let mut i = image(digest, tags, old, size);
            i.image_status = Some("ARCHIVED".into());
            i
        };
        let mut active = image("sha256:active", &["v2"], AS_OF - Duration::days(3), 7);
        active.image_status = Some("ACTIVE".into());
        let images = vec![
            archived("sha256:untagged", &[], 100),
            archived("sha256:v1", &["v1"], 50),
            active,
        ];
        let f = image_facts(&images, AS_OF, 14, 90);
        assert_eq!((f.archived_count, f.archived_bytes), (2, 150));
        assert_eq!((f.count, f.bytes), (1, 7));
        assert_eq!(
            f.stale_untagged_count, 0,
            "an archived untagged image is handled"
        );
        assert_eq!(
            f.unpulled_count, 0,
            "an archived tagged image is not unused at full price"
        );
        assert_eq!(f.latest_digest, "sha256:active");
    }

    #[test]
    fn index_children_and_referrers_are_not_stale() {
        let old = AS_OF - Duration::days(100);
        let mut index = image("sha256:idx", &["v1"], old, 1);
        index.index_manifest_digests = vec!["sha256:amd64".into(), "sha256:arm64".into()];
        let mut sig = image("sha256:sig", &[], old, 1);
        sig.subject_manifest_digest = Some("sha256:idx".into());
        let mut sbom = image("sha256:sbom", &[], old, 1);
        sbom.artifact_media_type = Some("application/spdx+json".into());
        let images = vec![
            index,
            image("sha256:amd64", &[], old, 5),
            image("sha256:arm64", &[], old, 5),
            sig,
            sbom,
        ];
        let f = image_facts(&images, AS_OF, 14, 90);
        assert_eq!(f.stale_untagged_count, 0);
        assert_eq!(f.count, 5);
        assert_eq!(f.latest_digest, "sha256:idx");
    }

    #[test]
    fn unsigned_images_are_those_no_signature_refers_to() {
        let t = AS_OF - Duration::days(3);
        let signature = |digest: &str, subject: &str, kind: &str| {
            let mut s = image(digest, &[], t, 1);
            s.subject_manifest_digest = Some(subject.into());
            s.artifact_media_type = Some(kind.into());
            s
        };
        let mut index = image("sha256:idx", &["v2"], t, 1);
        index.index_manifest_digests = vec!["sha256:amd64".into()];
        let mut archived = image("sha256:old", &["v0"], t, 1);
        archived.image_status = Some("ARCHIVED".into());
        let images = vec![
            image("sha256:notary", &["v1"], t, 1),
            signature(
                "sha256:s1",
                "sha256:notary",
                "application/vnd.cncf.notary.signature",
            ),
            image("sha256:bundle", &["v1b"], t, 1),
            signature(
                "sha256:s2",
                "sha256:bundle",
                "application/vnd.dev.sigstore.bundle.v0.3+json",
            ),
            // Signed index: its platform needs no signature of its own.
            index,
            image("sha256:amd64", &[], t, 1),
            signature(
                "sha256:s3",
                "sha256:idx",
                "application/vnd.dev.cosign.artifact.sig.v1+json",
            ),
            // An SBOM is not a signature.
            image("sha256:sbomed", &["v3"], t, 1),
            signature("sha256:sbom", "sha256:sbomed", "application/spdx+json"),
            image("sha256:bare", &[], t, 1),
            archived,
        ];
        let f = image_facts(&images, AS_OF, 14, 90);
        assert_eq!(f.unsigned_count, 2, "sbomed and bare");
    }

    /// An index's size is what its platforms hold (an OCI index reports
    /// next to nothing itself); platforms shared by two indexes count once.
    #[test]
    fn index_sizes_are_their_platforms_counted_once() {
        let old = AS_OF - Duration::days(200);
        let mut a = image("sha256:idx-a", &[], old, 0);
        a.index_manifest_digests = vec!["sha256:amd64".into(), "sha256:arm64".into()];
        let mut b = image("sha256:idx-b", &[], old, 0);
        b.index_manifest_digests = vec!["sha256:amd64".into(), "sha256:s390x".into()];
        let mut tagged = image("sha256:idx-t", &["v1"], old, 2);
        tagged.index_manifest_digests = vec!["sha256:arm64".into()];
        let images = vec![
            a,
            b,
            tagged,
            image("sha256:amd64", &[], old, 100),
            image("sha256:arm64", &[], old, 200),
            image("sha256:s390x", &[], old, 300),
        ];
        let f = image_facts(&images, AS_OF, 14, 90);
        assert_eq!(f.stale_untagged_count, 2);
        assert_eq!(f.stale_untagged_bytes, 600, "amd64 once, arm64, s390x");
        assert_eq!(f.unpulled_count, 1);
        assert_eq!(f.unpulled_bytes, 202);
    }

    #[test]
    fn unpulled_counts_tagged_images_by_last_use() {
        let mut pulled = image("sha256:a", &["v1"], AS_OF - Duration::days(300), 7);
        pulled.last_recorded_pull_time = Some(AS_OF - Duration::days(3));
        let images = vec![
            pulled,
            image("sha256:b", &["v2"], AS_OF - Duration::days(91), 11),
            image("sha256:c", &["v3"], AS_OF - Duration::days(90), 13),
        ];
        let f = image_facts(&images, AS_OF, 14, 90);
        assert_eq!((f.unpulled_count, f.unpulled_bytes), (1, 11));
    }

    #[test]
    fn latest_index_sums_its_platforms_findings() {
        let mut index = image("sha256:idx", &["v2"], AS_OF - Duration::days(1), 1);
        index.index_manifest_digests = vec!["sha256:p1".into(), "sha256:p2".into()];
        let mut p1 = image("sha256:p1", &[], AS_OF - Duration::days(1), 1);
        let mut p2 = image("sha256:p2", &[], AS_OF - Duration::days(1), 1);
        let summary = |c: u64, h: u64| crate::inventory::ImageScanFindingsSummary {
            finding_severity_counts: [("CRITICAL".into(), c), ("HIGH".into(), h)]
                .into_iter()
                .collect(),
        };
        p1.image_scan_findings_summary = Some(summary(1, 2));
        p2.image_scan_findings_summary = Some(summary(0, 3));
        let mut old = image("sha256:old", &["v1"], AS_OF - Duration::days(30), 1);
        old.image_scan_findings_summary = Some(summary(9, 9));
        let f = image_facts(&[old, index, p1, p2], AS_OF, 14, 90);
        assert_eq!((f.latest_critical, f.latest_high), (1, 5));
        assert_eq!(f.latest_tags, vec!["v2"]);
    }
}
