//! Live collection from AWS. (Placeholder until the collector lands: it
//! refuses to run rather than pretend.)

use crate::inventory::Inventory;

pub struct CollectOptions {
    pub profile: Option<String>,
    pub regions: Vec<String>,
    pub all_regions: bool,
    pub accounts: Vec<String>,
    pub org: bool,
    pub role_name: String,
    pub external_id: Option<String>,
    pub max_concurrency: usize,
    pub progress: bool,
}

#[derive(Debug)]
pub struct CollectError(pub String);

impl std::fmt::Display for CollectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CollectError {}

pub fn collect(_opts: &CollectOptions) -> Result<Inventory, CollectError> {
    Err(CollectError(
        "live collection is not available in this build; scan a saved inventory with --inventory"
            .into(),
    ))
}
