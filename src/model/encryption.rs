//! Whose key encrypts a repository's images.

use crate::inventory::EncryptionConfiguration;

/// The KMS key of an encryption configuration ("" when none) and whether it
/// is customer managed (KMS or KMS_DSSE with a key that is not AWS managed).
pub fn customer_managed_key(enc: &EncryptionConfiguration) -> (String, bool) {
    let kms_key = enc.kms_key.clone().unwrap_or_default();
    let customer_managed = enc.encryption_type.to_ascii_uppercase().starts_with("KMS")
        && !kms_key.is_empty()
        && !kms_key.contains("alias/aws/");
    (kms_key, customer_managed)
}
