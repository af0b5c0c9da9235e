//! ecr-audit: audit Amazon ECR across an AWS organization.
//!
//! Data flows one way (see DESIGN.md): collect → inventory → analysis
//! (policy → cedar → access, plus image and configuration facts) → engine
//! (Cedar rules) → findings → report.

pub mod collect;
pub mod inventory;
