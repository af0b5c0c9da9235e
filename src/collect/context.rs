//! What every collection task shares: the bound on requests in flight, the
//! request counts, the collection errors and the progress bar.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use time::OffsetDateTime;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use aws_sdk_ecr::error::SdkError;

use super::errors::Failure;
use crate::inventory::{CollectionError, ErrorKind};

/// Requests in flight inside one account × region (repositories are
/// read this many at a time, each with its calls in sequence).
pub(crate) const PER_SCOPE: usize = 8;

pub(crate) struct Ctx {
    /// Overall bound on requests in flight (--max-concurrency).
    requests: Semaphore,
    counts: Mutex<BTreeMap<&'static str, u64>>,
    errors: Mutex<Vec<CollectionError>>,
    /// HTTP attempts the SDK clients made (first tries and retries).
    pub attempts: Arc<AtomicU64>,
    /// When collection must stop (`--timeout`): what is unfinished then is
    /// recorded as an error and the rest is kept.
    pub deadline: Option<tokio::time::Instant>,
    pub progress: Progress,
}

impl Ctx {
    pub fn new(
        max_concurrency: usize,
        progress: bool,
        deadline: Option<tokio::time::Instant>,
    ) -> Ctx {
        let max_concurrency = max_concurrency.max(1);
        Ctx {
            requests: Semaphore::new(max_concurrency),
            counts: Mutex::new(BTreeMap::new()),
            errors: Mutex::new(Vec::new()),
            attempts: Arc::new(AtomicU64::new(0)),
            deadline,
            progress: Progress::new(progress),
        }
    }

    /// Sends one request: waits for a slot, counts it under `operation`
    /// (`ecr:DescribeImages`), awaits it. `send` must be lazy (an SDK
    /// `send()` future is: nothing goes out before it is polled). After the
    /// scan's deadline, or when it comes during the request, the request
    /// fails as timed out: the read is recorded as failed and the rest of
    /// what was collected is kept.
    pub async fn request<O, E, R>(
        &self,
        operation: &'static str,
        send: impl Future<Output = Result<O, SdkError<E, R>>>,
    ) -> Result<O, SdkError<E, R>> {
        let past_deadline =
            || SdkError::timeout_error("the scan's deadline (--timeout) came first");
        if self
            .deadline
            .is_some_and(|d| tokio::time::Instant::now() >= d)
        {
            return Err(past_deadline());
        }
        let _slot = self
            .requests
            .acquire()
            .await
            .expect("the request semaphore is never closed");
        *self
            .counts
            .lock()
            .expect("counts lock")
            .entry(operation)
            .or_default() += 1;
        match self.deadline {
            Some(d) => tokio::time::timeout_at(d, send)
                .await
                .unwrap_or_else(|_| Err(past_deadline())),
            None => send.await,
        }
    }

    /// Records that `operation` failed in `account` (and `region`), about
    /// `resource` when there is one.
    pub fn record(
        &self,
        account: &str,
        region: Option<&str>,
        operation: &str,
        resource: Option<&str>,
        failure: &Failure,
    ) {
        self.record_error(CollectionError {
            account: account.to_string(),
            region: region.map(str::to_string),
            operation: operation.to_string(),
            resource: resource.map(str::to_string),
            kind: failure.kind,
            message: failure.message.clone(),
        });
    }

    /// Records an error found without a failed request (an answer that is
    /// missing something the scan needs).
    pub fn record_other(
        &self,
        account: &str,
        region: Option<&str>,
        operation: &str,
        resource: Option<&str>,
        kind: ErrorKind,
        message: String,
    ) {
        self.record_error(CollectionError {
            account: account.to_string(),
            region: region.map(str::to_string),
            operation: operation.to_string(),
            resource: resource.map(str::to_string),
            kind,
            message: super::errors::scrub(&message),
        });
    }

    fn record_error(&self, error: CollectionError) {
        self.errors.lock().expect("errors lock").push(error);
        self.progress.error();
    }

    pub fn take_counts(&self) -> BTreeMap<String, u64> {
        self.counts
            .lock()
            .expect("counts lock")
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect()
    }

    /// Attempts beyond the first of each request of the clients that
    /// count attempts (ECR and IAM).
    pub fn retries(&self) -> u64 {
        let counted: u64 = self
            .counts
            .lock()
            .expect("counts lock")
            .iter()
            .filter(|(op, _)| op.starts_with("ecr:") || op.starts_with("iam:"))
            .map(|(_, n)| n)
            .sum();
        self.attempts
            .load(Ordering::Relaxed)
            .saturating_sub(counted)
    }

    pub fn take_errors(&self) -> Vec<CollectionError> {
        let mut errors = std::mem::take(&mut *self.errors.lock().expect("errors lock"));
        errors.sort_by(|a, b| {
            (&a.account, &a.region, &a.operation, &a.resource, &a.message).cmp(&(
                &b.account,
                &b.region,
                &b.operation,
                &b.resource,
                &b.message,
            ))
        });
        errors
    }
}

/// Counts every HTTP attempt a client makes, so that retries
/// (attempts − requests) can be reported.
#[derive(Debug, Clone)]
pub(crate) struct AttemptCounter(pub Arc<AtomicU64>);

impl aws_sdk_ecr::config::Intercept for AttemptCounter {
    fn name(&self) -> &'static str {
        "ecr-audit attempt counter"
    }

    fn read_before_attempt(
        &self,
        _context: &aws_sdk_ecr::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &aws_sdk_ecr::config::RuntimeComponents,
        _cfg: &mut aws_sdk_ecr::config::ConfigBag,
    ) -> Result<(), aws_sdk_ecr::error::BoxError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Pages of a listing: a token that comes back twice, or more pages than
/// any real listing has, ends it with an error instead of a hang.
pub(crate) struct Pages {
    seen: std::collections::HashSet<String>,
    pages: usize,
}

/// More pages than an account can hold (1,000 items each: 50 million).
const MAX_PAGES: usize = 50_000;

impl Pages {
    pub fn new() -> Pages {
        Pages {
            seen: std::collections::HashSet::new(),
            pages: 0,
        }
    }

    /// The next page's token; `Ok(None)` when the listing is complete.
    pub fn next(&mut self, token: Option<String>) -> Result<Option<String>, Failure> {
        self.pages += 1;
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        if !self.seen.insert(token.clone()) {
            return Err(pagination_failure(format!(
                "the service returned the same pagination token twice (after {} pages); the listing is incomplete",
                self.pages
            )));
        }
        if self.pages >= MAX_PAGES {
            return Err(pagination_failure(format!(
                "the listing did not end after {MAX_PAGES} pages; it is incomplete"
            )));
        }
        Ok(Some(token))
    }
}

fn pagination_failure(message: String) -> Failure {
    Failure {
        kind: ErrorKind::Other,
        code: None,
        status: None,
        message,
    }
}

/// Runs `tasks` with at most `limit` of them alive at once and returns their
/// outputs in the order of `tasks`. Tasks are created lazily from the
/// iterator, so an organization of any size never fans out beyond `limit`.
pub(crate) async fn bounded<I, F, T>(limit: usize, tasks: I) -> Vec<T>
where
    I: IntoIterator<Item = F>,
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let limit = limit.max(1);
    let mut set = JoinSet::new();
    let mut results: Vec<Option<T>> = Vec::new();
    let collect = |joined: Result<(usize, T), tokio::task::JoinError>,
                   results: &mut Vec<Option<T>>| {
        match joined {
            Ok((i, value)) => results[i] = Some(value),
            // A panic in a collection task is a bug: surface it.
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    };
    for (i, task) in tasks.into_iter().enumerate() {
        results.push(None);
        if set.len() >= limit {
            if let Some(joined) = set.join_next().await {
                collect(joined, &mut results);
            }
        }
        set.spawn(async move { (i, task.await) });
    }
    while let Some(joined) = set.join_next().await {
        collect(joined, &mut results);
    }
    results
        .into_iter()
        .map(|r| r.expect("every task finished"))
        .collect()
}

/// The progress bar on stderr: account × region scopes done, repositories
/// and images seen, errors so far.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    repositories: AtomicU64,
    images: AtomicU64,
    errors: AtomicU64,
}

impl Progress {
    fn new(enabled: bool) -> Progress {
        let bar = enabled.then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} account×region {msg}",
            ) {
                bar.set_style(style);
            }
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        Progress {
            bar,
            repositories: AtomicU64::new(0),
            images: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        }
    }

    pub fn add_scopes(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc_length(n);
        }
    }

    pub fn scope_done(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    pub fn repositories(&self, n: u64) {
        self.repositories.fetch_add(n, Ordering::Relaxed);
        self.refresh();
    }

    pub fn images(&self, n: u64) {
        self.images.fetch_add(n, Ordering::Relaxed);
        self.refresh();
    }

    fn error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.refresh();
    }

    fn refresh(&self) {
        if let Some(bar) = &self.bar {
            let errors = self.errors.load(Ordering::Relaxed);
            bar.set_message(format!(
                "· {} repositories · {} images{}",
                self.repositories.load(Ordering::Relaxed),
                self.images.load(Ordering::Relaxed),
                if errors > 0 {
                    format!(" · {errors} errors")
                } else {
                    String::new()
                }
            ));
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// An SDK timestamp as the inventory's time type.
pub(crate) fn to_time(t: &aws_sdk_ecr::primitives::DateTime) -> Option<OffsetDateTime> {
    let whole = OffsetDateTime::from_unix_timestamp(t.secs()).ok()?;
    Some(whole + time::Duration::nanoseconds(i64::from(t.subsec_nanos())))
}

/// Shared handle.
pub(crate) type SharedCtx = Arc<Ctx>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_keeps_order_and_limit() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let alive = Arc::new(AtomicU64::new(0));
        let peak = Arc::new(AtomicU64::new(0));
        let tasks = (0..50u64).map(|i| {
            let alive = alive.clone();
            let peak = peak.clone();
            async move {
                let now = alive.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::task::yield_now().await;
                alive.fetch_sub(1, Ordering::SeqCst);
                i * 2
            }
        });
        let out = rt.block_on(bounded(4, tasks));
        assert_eq!(out, (0..50).map(|i| i * 2).collect::<Vec<_>>());
        assert!(peak.load(Ordering::SeqCst) <= 4);
    }

    #[test]
    fn requests_are_counted_by_operation() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let ctx = Ctx::new(2, false, None);
        rt.block_on(async {
            let _ = ctx.request("ecr:DescribeImages", answer()).await;
            let _ = ctx.request("ecr:DescribeImages", answer()).await;
            let _ = ctx
                .request("iam:GetAccountAuthorizationDetails", answer())
                .await;
        });
        let counts = ctx.take_counts();
        assert_eq!(counts["ecr:DescribeImages"], 2);
        assert_eq!(counts["iam:GetAccountAuthorizationDetails"], 1);
    }

    async fn answer() -> Result<(), SdkError<std::io::Error, ()>> {
        Ok(())
    }

    /// A request that never answers ends at the deadline as timed out, and
    /// every request after it fails at once.
    #[test]
    fn the_deadline_ends_a_hung_request_and_the_ones_after_it() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(100);
            let ctx = Ctx::new(2, false, Some(deadline));
            let hung = async {
                std::future::pending::<()>().await;
                Ok::<(), SdkError<std::io::Error, ()>>(())
            };
            let started = std::time::Instant::now();
            let r = ctx.request("ecr:DescribeImages", hung).await;
            assert!(matches!(r, Err(SdkError::TimeoutError(_))));
            assert!(started.elapsed() < std::time::Duration::from_secs(5));
            let r = ctx.request("ecr:DescribeImages", answer()).await;
            assert!(matches!(r, Err(SdkError::TimeoutError(_))));
        });
    }

    #[test]
    fn pagination_tokens_that_repeat_end_the_listing() {
        let mut pages = Pages::new();
        assert_eq!(pages.next(Some("a".into())).unwrap(), Some("a".into()));
        assert_eq!(pages.next(Some("b".into())).unwrap(), Some("b".into()));
        let e = pages.next(Some("a".into())).unwrap_err();
        assert!(e.message.contains("same pagination token"), "{}", e.message);
        assert_eq!(Pages::new().next(Some(String::new())).unwrap(), None);
        assert_eq!(Pages::new().next(None).unwrap(), None);
    }
}
