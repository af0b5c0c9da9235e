//! Which regions to read.
//!
//! `--all-regions` needs the regions where ECR is available and that are
//! enabled for the account. Without the EC2 or Account APIs (their SDK
//! crates are not built in), the list comes from here: ECR's regions per
//! partition, with the regions that are opt-in marked. Every region's first
//! request (DescribeRegistry) is the probe: an opt-in region the account has
//! not enabled answers `UnrecognizedClientException` (its credentials are
//! unknown there), and under `--all-regions` such a region is left out
//! silently. A region named with `--region` that answers so is an error.
//!
//! Keep this list in step with the AWS region table when AWS opens a region
//! (docs/live-scanning.md says how to check).

/// A region where ECR is available.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EcrRegion {
    pub name: &'static str,
    /// Opt-in regions are disabled until the account enables them.
    pub opt_in: bool,
}

const fn r(name: &'static str) -> EcrRegion {
    EcrRegion {
        name,
        opt_in: false,
    }
}

const fn opt_in(name: &'static str) -> EcrRegion {
    EcrRegion { name, opt_in: true }
}

/// Partition `aws`.
pub const AWS: &[EcrRegion] = &[
    r("us-east-1"),
    r("us-east-2"),
    r("us-west-1"),
    r("us-west-2"),
    opt_in("af-south-1"),
    opt_in("ap-east-1"),
    opt_in("ap-east-2"),
    r("ap-south-1"),
    opt_in("ap-south-2"),
    r("ap-northeast-1"),
    r("ap-northeast-2"),
    r("ap-northeast-3"),
    r("ap-southeast-1"),
    r("ap-southeast-2"),
    opt_in("ap-southeast-3"),
    opt_in("ap-southeast-4"),
    opt_in("ap-southeast-5"),
    opt_in("ap-southeast-6"),
    opt_in("ap-southeast-7"),
    r("ca-central-1"),
    opt_in("ca-west-1"),
    r("eu-central-1"),
    opt_in("eu-central-2"),
    r("eu-west-1"),
    r("eu-west-2"),
    r("eu-west-3"),
    r("eu-north-1"),
    opt_in("eu-south-1"),
    opt_in("eu-south-2"),
    opt_in("il-central-1"),
    opt_in("me-south-1"),
    opt_in("me-central-1"),
    opt_in("mx-central-1"),
    r("sa-east-1"),
];

/// Partition `aws-cn`.
pub const AWS_CN: &[EcrRegion] = &[r("cn-north-1"), r("cn-northwest-1")];

/// Partition `aws-us-gov`.
pub const AWS_US_GOV: &[EcrRegion] = &[r("us-gov-east-1"), r("us-gov-west-1")];

/// ECR's regions in a partition (from the caller's ARN: `arn:PARTITION:...`).
/// `None` for a partition this list does not know.
pub fn ecr_regions(partition: &str) -> Option<&'static [EcrRegion]> {
    match partition {
        "aws" => Some(AWS),
        "aws-cn" => Some(AWS_CN),
        "aws-us-gov" => Some(AWS_US_GOV),
        _ => None,
    }
}

/// The partition of an ARN (`aws` when it cannot be read).
pub fn partition_of(arn: &str) -> &str {
    arn.split(':')
        .nth(1)
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
}

/// The partition a region belongs to.
pub fn partition_of_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_unique_and_partitions_resolve() {
        for list in [AWS, AWS_CN, AWS_US_GOV] {
            let mut names: Vec<_> = list.iter().map(|r| r.name).collect();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), list.len());
            for r in list {
                assert_eq!(
                    ecr_regions(partition_of_region(r.name)).unwrap().len(),
                    list.len()
                );
            }
        }
        assert_eq!(
            partition_of("arn:aws-cn:iam::123456789012:user/x"),
            "aws-cn"
        );
        assert_eq!(partition_of("garbage"), "aws");
        assert!(ecr_regions("aws-iso").is_none());
    }
}
