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

use aws_sdk_ecr::config::http::HttpResponse;
use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};

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
    // PANIC SAFETY: the semaphore is never closed.
    #[allow(clippy::expect_used)]
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
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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
        self.errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(error);
        self.progress.error();
    }

    pub fn take_counts(&self) -> BTreeMap<String, u64> {
        self.counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect()
    }

    /// Attempts beyond the first of each request (every client counts its
    /// attempts: ECR, IAM, STS and Organizations).
    pub fn retries(&self) -> u64 {
        let counted: u64 = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .sum();
        self.attempts
            .load(Ordering::Relaxed)
            .saturating_sub(counted)
    }

    pub fn take_errors(&self) -> Vec<CollectionError> {
        let mut errors = std::mem::take(
            &mut *self
                .errors
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
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

/// Fails a successful answer of an XML (query protocol) service whose
/// document is cut short. The SDK's XML deserializer reads such a document
/// leniently, as if the elements that are missing were empty: a truncated
/// IAM answer would look like an account without users or roles, and a
/// failed read would become a clean bill.
#[derive(Debug, Clone)]
pub(crate) struct CompleteXml;

impl aws_sdk_ecr::config::Intercept for CompleteXml {
    fn name(&self) -> &'static str {
        "ecr-audit complete XML answers"
    }

    fn read_after_deserialization(
        &self,
        context: &aws_sdk_ecr::config::interceptors::AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &aws_sdk_ecr::config::RuntimeComponents,
        _cfg: &mut aws_sdk_ecr::config::ConfigBag,
    ) -> Result<(), aws_sdk_ecr::error::BoxError> {
        let response = context.response();
        if !response.status().is_success() {
            return Ok(());
        }
        match response.body().bytes() {
            Some(body) if !xml_is_complete(body) => Err(format!(
                "the answer is not a complete XML document ({} bytes)",
                body.len()
            )
            .into()),
            _ => Ok(()),
        }
    }
}

/// True when `body` is an XML document whose root element is closed at its
/// end (an empty body is complete: some answers have none).
pub(crate) fn xml_is_complete(body: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(body) else {
        return false;
    };
    let mut rest = text.trim();
    if rest.is_empty() {
        return true;
    }
    // Skip the declaration, processing instructions and comments.
    loop {
        if let Some(after) = rest.strip_prefix("<?") {
            match after.find("?>") {
                Some(end) => rest = after[end + 2..].trim_start(),
                None => return false,
            }
        } else if let Some(after) = rest.strip_prefix("<!--") {
            match after.find("-->") {
                Some(end) => rest = after[end + 3..].trim_start(),
                None => return false,
            }
        } else {
            break;
        }
    }
    let Some(after) = rest.strip_prefix('<') else {
        return false;
    };
    let name_end = after
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap_or(after.len());
    let name = &after[..name_end];
    if name.is_empty() {
        return false;
    }
    let end = text.trim_end();
    if end.ends_with(&format!("</{name}>")) {
        return true;
    }
    // A root element that closes itself: `<Name/>` or `<Name a="b"/>`.
    let tag_end = after.find('>').map(|i| i + 1);
    tag_end.is_some_and(|i| after[..i].ends_with("/>") && after[i..].trim().is_empty())
}

/// Pages of a listing: a token that comes back twice, or more pages than
/// any real listing has, ends it with an error instead of a hang.
/// How a paginated listing ended.
pub(crate) enum Listing<T> {
    /// Every page was read.
    Complete(Vec<T>),
    /// A page could not be read (a failed request, or a token that repeats
    /// or never ends): the items of the pages before it, and why.
    Partial(Vec<T>, Failure),
}

/// Reads every page of a listing: `send` asks for the page after a token,
/// `page` splits an answer into its items and the next token. Bounded by
/// [`Pages`]: a token that repeats or a listing that never ends is a
/// failure, not a hang.
pub(crate) async fn list_all<T, O, E, Fut>(
    ctx: &SharedCtx,
    operation: &'static str,
    mut send: impl FnMut(Option<String>) -> Fut,
    mut page: impl FnMut(O) -> (Vec<T>, Option<String>),
) -> Listing<T>
where
    Fut: Future<Output = Result<O, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = Pages::new();
    loop {
        match ctx.request(operation, send(token.take())).await {
            Ok(answer) => {
                let (more, next) = page(answer);
                items.extend(more);
                match pages.next(next) {
                    Ok(Some(t)) => token = Some(t),
                    Ok(None) => return Listing::Complete(items),
                    Err(failure) => return Listing::Partial(items, failure),
                }
            }
            Err(e) => return Listing::Partial(items, super::errors::classify(&e)),
        }
    }
}

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

/// Keeps the first of items with the same key: a listing whose pages
/// repeat (a token that comes back) must not report an item twice.
pub(crate) fn dedup_by_key<T, K, F>(items: &mut Vec<T>, key: F)
where
    K: Eq + std::hash::Hash,
    F: Fn(&T) -> K,
{
    let mut seen = std::collections::HashSet::new();
    items.retain(|item| seen.insert(key(item)));
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
// PANIC SAFETY: every task was joined above, so every slot is filled.
#[allow(clippy::expect_used)]
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

/// Resource tags as the inventory keeps them: sorted, so that two reads of
/// an unchanged resource are equal.
pub(crate) fn sorted_tags(
    pairs: impl Iterator<Item = (String, String)>,
) -> Vec<crate::inventory::Tag> {
    let mut tags: Vec<crate::inventory::Tag> = pairs
        .map(|(key, value)| crate::inventory::Tag { key, value })
        .collect();
    tags.sort();
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_items_are_kept_once_in_order() {
        let mut items = vec![("a", 1), ("b", 2), ("a", 3), ("c", 4), ("b", 5)];
        dedup_by_key(&mut items, |(k, _)| *k);
        assert_eq!(items, vec![("a", 1), ("b", 2), ("c", 4)]);
    }

    #[test]
    fn xml_documents_cut_short_are_told_apart() {
        let whole = r#"<?xml version="1.0"?>
<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult><Account>123456789012</Account></GetCallerIdentityResult>
</GetCallerIdentityResponse>
"#;
        assert!(xml_is_complete(whole.as_bytes()));
        assert!(xml_is_complete(b""));
        assert!(xml_is_complete(b"<Empty/>"));
        assert!(xml_is_complete(b"<!-- x --><A b=\"c\" />"));
        for cut in [60, 120, whole.len() - 5] {
            assert!(!xml_is_complete(&whole.as_bytes()[..cut]), "{cut}");
        }
        assert!(!xml_is_complete(b"{\"json\": true}"));
        assert!(!xml_is_complete(b"<A><B></B>"));
        assert!(!xml_is_complete(&[0xff, 0xfe]));
    }

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
