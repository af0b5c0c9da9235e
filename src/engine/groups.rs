//! Rules grouped by the attribute paths they read (`images.stale_untagged_count`,
//! `access`). Each group is evaluated on an entity holding just those
//! attributes, and its decision (which of its rules fire) is reused for
//! every entity whose read attributes are equal:
//! in an organization built from templates, thousands of repositories share
//! their access facts and settings, and the Cedar entity and authorization
//! are most of the rules phase.
//!
//! Reuse is exact, never approximate: the key is the encoded values of
//! every attribute path the group reads (an encoding that tells every two
//! values apart), the principal, action and context are
//! the same for every request, and a group whose rules read the resource as
//! a whole or depend on its identity (`resource in ...`, `resource == ...`)
//! sees the whole entity and is never reused. A decision with evaluation
//! errors is not kept (its messages name the resource).

use std::collections::BTreeSet;

use foldhash::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use super::attributes::{FieldHint, Key};
use super::Attr;
use cedar_policy::{Policy, PolicySet, ResourceConstraint};

use super::rules::paths_read;

/// Lookups after which a group whose decisions are seldom shared (image
/// counts differ in every repository) stops building keys.
const TRIAL_LOOKUPS: u64 = 4096;

pub(super) struct RuleGroup {
    pub set: PolicySet,
    /// The attribute paths the group's rules read; `None` when they need
    /// the whole entity.
    pub attributes: Option<PathTree>,
    cache: DecisionCache,
}

/// The rules of a group that fire on an entity, by their position among
/// the engine's rules.
pub(super) type Decision = Box<[usize]>;

#[derive(Default)]
struct DecisionCache {
    /// The counts live under the lock the lookup takes anyway: atomics
    /// beside it would be two more cache-line transfers between cores on
    /// every lookup.
    state: Mutex<CacheState>,
    off: AtomicBool,
}

#[derive(Default)]
struct CacheState {
    decisions: HashMap<Vec<u8>, Decision>,
    lookups: u64,
    hits: u64,
}

/// What a group needs to see of an entity: the attribute paths its policy
/// reads, or everything when that is not known or the resource's identity
/// matters.
pub(super) fn needs(policy: &Policy) -> Option<BTreeSet<Vec<String>>> {
    match policy.resource_constraint() {
        ResourceConstraint::Is(_) => paths_read(policy),
        _ => None,
    }
}

/// Attribute paths as a tree: a name with no children is read whole.
#[derive(Debug, Default)]
pub(super) struct PathTree(Vec<(String, FieldHint, PathTree)>);

impl PathTree {
    fn from_paths(paths: BTreeSet<Vec<String>>) -> PathTree {
        let mut tree = PathTree::default();
        // Sorted, so a path comes before its extensions: once a prefix is
        // read whole, longer paths under it add nothing.
        for path in paths {
            tree.insert(&path);
        }
        tree
    }

    fn insert(&mut self, path: &[String]) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        match self.0.iter_mut().find(|(name, _, _)| name == first) {
            // Already read whole.
            Some((_, _, sub)) if sub.0.is_empty() => {}
            Some((_, _, sub)) => {
                if rest.is_empty() {
                    sub.0.clear();
                } else {
                    sub.insert(rest);
                }
            }
            None => {
                let mut sub = PathTree::default();
                sub.insert(rest);
                self.0.push((first.clone(), FieldHint::default(), sub));
            }
        }
    }

    /// The projection, written straight from the record in the compact
    /// form of [`Attr::encode`]: each attribute present is marked, then
    /// its name and value, each of which says where it ends; the
    /// projection ends with its own mark. Equal keys mean equal
    /// projections.
    fn write_key(&self, record: &[(Key, Attr)], out: &mut Vec<u8>) {
        const FIELD: u8 = 1;
        const END: u8 = 2;
        for (name, hint, sub) in &self.0 {
            let Some(value) = hint.find(record, name) else {
                continue;
            };
            out.push(FIELD);
            super::attributes::encode_str(name, out);
            match value {
                Attr::Record(inner) if !sub.0.is_empty() => sub.write_key(inner, out),
                other => other.encode(out),
            }
        }
        out.push(END);
    }

    /// The part of a record these paths read. A value that is not a record
    /// where the paths go deeper is kept whole.
    fn project(&self, record: &[(Key, Attr)]) -> Vec<(Key, Attr)> {
        self.0
            .iter()
            .filter_map(|(name, hint, sub)| {
                let value = hint.find(record, name)?;
                let kept = match value {
                    Attr::Record(inner) if !sub.0.is_empty() => Attr::Record(sub.project(inner)),
                    other => other.clone(),
                };
                Some((Key::Owned(name.clone()), kept))
            })
            .collect()
    }
}

impl RuleGroup {
    pub fn new(set: PolicySet, paths: Option<BTreeSet<Vec<String>>>) -> RuleGroup {
        RuleGroup {
            set,
            attributes: paths.map(PathTree::from_paths),
            cache: DecisionCache::default(),
        }
    }

    /// The attributes of `all` this group reads, in the group's order;
    /// `None` when it reads them all.
    pub fn project(&self, all: &[(Key, Attr)]) -> Option<Vec<(Key, Attr)>> {
        self.attributes.as_ref().map(|tree| tree.project(all))
    }

    /// Writes the key of an entity's decision into `key` (emptied first),
    /// when decisions of this group are reused and still worth looking up:
    /// the attributes the group reads, written without building them.
    /// False when there is no key.
    pub fn key_into(&self, all: &[(Key, Attr)], key: &mut Vec<u8>) -> bool {
        key.clear();
        let Some(tree) = self.attributes.as_ref() else {
            return false;
        };
        if self.cache.off.load(Ordering::Relaxed) {
            return false;
        }
        tree.write_key(all, key);
        true
    }

    /// Appends the positions of the rules that fire for `key` to `fired`
    /// when the decision is known (copied under the lock: a shared pointer
    /// to it would be counted up and down by both cores).
    pub fn cached(&self, key: &[u8], fired: &mut Vec<usize>) -> bool {
        let mut state = self
            .cache
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        state.lookups += 1;
        let found = match state.decisions.get(key) {
            Some(decision) => {
                fired.extend_from_slice(decision);
                true
            }
            None => false,
        };
        state.hits += u64::from(found);
        if state.lookups >= TRIAL_LOOKUPS && state.hits * 4 < state.lookups {
            self.cache.off.store(true, Ordering::Relaxed);
            state.decisions.clear();
        }
        found
    }

    pub fn keep(&self, key: Vec<u8>, fired: Decision) {
        if self.cache.off.load(Ordering::Relaxed) {
            return;
        }
        self.cache
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .decisions
            .insert(key, fired);
    }
}
