//! ecr-audit: audit Amazon ECR across an AWS organization.
//!
//! Data flows one way: collect → inventory → analysis
//! (policy → cedar → access, plus image and configuration facts) → engine
//! (Cedar rules) → findings → report.

pub mod access;
pub mod cedar;
pub mod check;
pub mod cli;
pub mod collect;
pub mod config;
pub mod engine;
pub mod files;
pub mod finding;
pub mod inventory;
pub mod model;
pub mod policy;
pub mod prove;
pub mod report;
pub mod scan;
