//! Turning AWS SDK failures into the inventory's collection errors.
//!
//! An error is classified by its AWS error code first and by its HTTP status
//! second: some servers (moto among them) answer denials with a 403 and an
//! XML body even for JSON services, and unimplemented operations with a 500
//! and an HTML body, neither of which carries a code the SDK can parse.
//!
//! Messages are built from the error code and the service's message only
//! (never from the request), and are scrubbed of anything shaped like an
//! access key id or a token before they are stored.

use aws_sdk_ecr::config::http::HttpResponse;
use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};

use crate::inventory::ErrorKind;

/// A classified failure of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub kind: ErrorKind,
    /// The AWS error code, when the response carried one.
    pub code: Option<String>,
    pub status: Option<u16>,
    pub message: String,
}

impl Failure {
    /// True for answers that mean "the caller cannot use this region at all"
    /// (an opt-in region that is not enabled for the account).
    pub fn region_disabled(&self) -> bool {
        self.kind == ErrorKind::RegionDisabled
    }

    pub fn has_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

/// Codes AWS uses for a denied request.
const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedException",
    "AuthorizationError",
    "AuthorizationErrorException",
];

/// Codes AWS uses for throttling (after the SDK's retries gave up).
const THROTTLED: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
];

/// Codes a regional endpoint answers when the region is not enabled for the
/// account: the account's credentials are unknown there.
const REGION_DISABLED: &[&str] = &[
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "OptInRequired",
];

pub(crate) fn classify<E>(err: &SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(_) | SdkError::ResponseError(_) => {
            let status = err.raw_response().map(|r| r.status().as_u16());
            if let Some(s) = status.filter(|s| (200..300).contains(s)) {
                // A success status whose answer could not be read (cut
                // short, not the format the service speaks).
                return Failure {
                    kind: ErrorKind::Other,
                    code: None,
                    status,
                    message: scrub(&format!(
                        "the answer (HTTP {s}) could not be read: {}",
                        innermost(err)
                    )),
                };
            }
            let code = err.code().map(str::to_string);
            let message = err.message().map(str::to_string);
            from_response(status, code, message)
        }
        SdkError::TimeoutError(_) => Failure {
            kind: ErrorKind::Timeout,
            code: None,
            status: None,
            message: scrub(&format!("the request timed out: {}", chain(err))),
        },
        SdkError::DispatchFailure(f) => {
            // Credentials that cannot be loaded surface here too.
            let no_credentials = f.is_other() && chain(err).contains("credential");
            Failure {
                kind: if no_credentials {
                    ErrorKind::Other
                } else {
                    ErrorKind::Network
                },
                code: None,
                status: None,
                message: scrub(&format!("the request could not be sent: {}", chain(err))),
            }
        }
        _ => Failure {
            kind: ErrorKind::Other,
            code: None,
            status: None,
            message: scrub(&chain(err)),
        },
    }
}

/// An error and its sources, each once, on one line.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        let text = e.to_string().replace('\n', " ");
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// The deepest source of an error: what actually went wrong, without the
/// layers that wrapped it.
fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut deepest = err;
    while let Some(source) = deepest.source() {
        deepest = source;
    }
    let text = deepest.to_string();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Classifies an HTTP error answer from its status, code and message.
pub(crate) fn from_response(
    status: Option<u16>,
    code: Option<String>,
    message: Option<String>,
) -> Failure {
    let code = code.filter(|c| !c.is_empty());
    let by_code = code.as_deref().and_then(|c| {
        if ACCESS_DENIED.contains(&c) {
            Some(ErrorKind::AccessDenied)
        } else if THROTTLED.contains(&c) {
            Some(ErrorKind::Throttled)
        } else if REGION_DISABLED.contains(&c) {
            Some(ErrorKind::RegionDisabled)
        } else {
            None
        }
    });
    let kind = by_code.unwrap_or(match status {
        Some(401 | 403) => ErrorKind::AccessDenied,
        Some(429) => ErrorKind::Throttled,
        Some(501) => ErrorKind::Unsupported,
        Some(s) if s >= 500 => ErrorKind::ServerError,
        _ => ErrorKind::Other,
    });
    let message = message.filter(|m| !m.trim().is_empty());
    let text = match (&code, &message, status) {
        (Some(c), Some(m), _) => format!("{c}: {m}"),
        (Some(c), None, Some(s)) => format!("{c} (HTTP {s})"),
        (Some(c), None, None) => c.clone(),
        (None, Some(m), Some(s)) => format!("HTTP {s}: {m}"),
        (None, Some(m), None) => m.clone(),
        (None, None, Some(s)) if s >= 500 => format!(
            "HTTP {s} with no AWS error code (the endpoint may not implement this operation)"
        ),
        (None, None, Some(s)) => format!("HTTP {s} with no AWS error code"),
        (None, None, None) => "the service answered with an error and no details".to_string(),
    };
    Failure {
        kind,
        code,
        status,
        message: scrub(&text),
    }
}

/// Removes anything shaped like an AWS access key id or a long token
/// (session tokens, registry authorization tokens) from a message.
pub(crate) fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if looks_secret(word) {
            out.push_str("<redacted>");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '_' | '-' | '%') {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

fn looks_secret(word: &str) -> bool {
    let bytes = word.as_bytes();
    // Access key ids: AKIA/ASIA (and the other 4-letter prefixes) + 16.
    for start in 0..bytes.len() {
        let rest = &word[start..];
        if rest.len() >= 20
            && ["AKIA", "ASIA", "AIDA", "AROA", "ANPA", "ABIA", "ACCA"]
                .iter()
                .any(|p| rest.starts_with(p))
            && rest[4..20]
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && (rest.len() == 20 || !rest.as_bytes()[20].is_ascii_alphanumeric())
        {
            return true;
        }
    }
    // Tokens: long runs mixing upper case, lower case and digits.
    word.len() >= 60
        && bytes.iter().any(|b| b.is_ascii_uppercase())
        && bytes.iter().any(|b| b.is_ascii_lowercase())
        && bytes.iter().any(|b| b.is_ascii_digit())
        && !word.contains("arn")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_win_over_statuses() {
        let f = from_response(
            Some(400),
            Some("AccessDeniedException".into()),
            Some("no".into()),
        );
        assert_eq!(f.kind, ErrorKind::AccessDenied);
        assert_eq!(f.message, "AccessDeniedException: no");
        let f = from_response(Some(400), Some("ThrottlingException".into()), None);
        assert_eq!(f.kind, ErrorKind::Throttled);
        let f = from_response(
            Some(400),
            Some("UnrecognizedClientException".into()),
            Some("The security token included in the request is invalid.".into()),
        );
        assert!(f.region_disabled());
    }

    #[test]
    fn statuses_classify_code_less_answers() {
        // moto: IAM-enforced denial with an XML body on a JSON service.
        assert_eq!(
            from_response(Some(403), None, None).kind,
            ErrorKind::AccessDenied
        );
        // moto: an unimplemented operation, HTML body.
        let f = from_response(Some(500), None, None);
        assert_eq!(f.kind, ErrorKind::ServerError);
        assert!(f.message.contains("HTTP 500"), "{}", f.message);
        assert_eq!(
            from_response(Some(501), None, None).kind,
            ErrorKind::Unsupported
        );
        assert_eq!(
            from_response(Some(429), None, None).kind,
            ErrorKind::Throttled
        );
    }

    #[test]
    fn scrub_removes_keys_and_tokens_but_keeps_arns() {
        let token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDx7Kq9Vb5mQ3JmZXN0c2Vzc2lvbnRva2Vu";
        let text = format!(
            "key AKIAIOSFODNN7EXAMPLE token {token} on arn:aws:iam::123456789012:role/ecr-audit"
        );
        let clean = scrub(&text);
        assert!(!clean.contains("AKIAIOSFODNN7EXAMPLE"), "{clean}");
        assert!(!clean.contains(token), "{clean}");
        assert!(
            clean.contains("arn:aws:iam::123456789012:role/ecr-audit"),
            "{clean}"
        );
    }
}
