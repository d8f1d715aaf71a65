//! The request root: one span per RAG request, with exact totals of its steps.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;

use opentelemetry::StringValue;

use super::attrs::{Attrs, recording_context};
use super::context::{InRequest, mark_root};
use super::keys;
use super::ledger::{Ledger, Summary};
use super::options::Options;
use crate::pricing::CostStatus;
use crate::steps::StepKind;

/// Starts describing a RAG request named `name` (the root span's name, e.g.
/// `answer` or the route). Run its work with [`Request::run`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let request = ragtrace::request("answer").user("u-42").session("s-7").tag("beta");
/// let answer = request.run(async { "traced steps go here" }).await;
/// let summary = request.summary();
/// assert_eq!(summary.steps, 0);
/// # let _ = answer;
/// # }
/// ```
pub fn request(name: impl Into<Cow<'static, str>>) -> Request {
    Request {
        name: name.into(),
        user: None,
        session: None,
        conversation: None,
        tags: Vec::new(),
        server: false,
        input: None,
        options: None,
        ledger: Arc::new(Ledger::default()),
    }
}

/// One RAG request: a root span whose children are the steps run inside it,
/// and a ledger of their exact totals.
///
/// Clones share the ledger, so a clone moved into a task reports to the same
/// request.
#[derive(Debug, Clone)]
pub struct Request {
    name: Cow<'static, str>,
    user: Option<String>,
    session: Option<String>,
    conversation: Option<String>,
    tags: Vec<String>,
    server: bool,
    input: Option<String>,
    options: Option<Arc<Options>>,
    ledger: Arc<Ledger>,
}

impl Request {
    /// The end user (`user.id`).
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// The user's session (`session.id`).
    pub fn session(mut self, session: impl Into<String>) -> Self {
        self.session = Some(session.into());
        self
    }

    /// A real conversation id (`gen_ai.conversation.id`); give it only when
    /// the application has one.
    pub fn conversation(mut self, conversation: impl Into<String>) -> Self {
        self.conversation = Some(conversation.into());
        self
    }

    /// Adds a tag (`tag.tags`, `langfuse.trace.tags`).
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Marks the root as the service's entry point for this request
    /// (span kind SERVER instead of INTERNAL).
    pub fn server(mut self) -> Self {
        self.server = true;
        self
    }

    /// The request's input text (`input.value`, recorded only when content
    /// capture is on).
    pub fn input(mut self, text: impl Into<String>) -> Self {
        self.input = Some(text.into());
        self
    }

    /// Uses these options (for content capture) instead of the process-wide ones.
    pub fn with_options(mut self, options: impl Into<Arc<Options>>) -> Self {
        self.options = Some(options.into());
        self
    }

    /// Sets the request's output text (`output.value`, recorded only when
    /// content capture is on). Call it before `run` returns.
    pub fn set_output(&self, text: impl Into<String>) {
        *self.ledger.output.lock().unwrap_or_else(|p| p.into_inner()) = Some(text.into());
    }

    /// What the request's steps cost and did so far.
    pub fn summary(&self) -> Summary {
        self.ledger.snapshot()
    }

    /// Runs `work` as this request: its steps become children of the root
    /// span and add to this request's totals, which are recorded on the root
    /// when `work` completes (or is dropped).
    ///
    /// Like a function with `#[tracing::instrument]`, a traced step decides
    /// where its span belongs when it is called, not when it is first
    /// polled: call the steps inside `work` (`run(async { step.embed(..).await })`
    /// or an `async fn` called there), not before `run`.
    pub async fn run<F: Future>(&self, work: F) -> F::Output {
        let span = tracing::info_span!(
            target: "ragtrace",
            "rag.request",
            { keys::OTEL_NAME } = %self.name,
            { keys::OTEL_KIND } = if self.server { "server" } else { "internal" },
            { keys::GEN_AI_OPERATION_NAME } = "invoke_workflow",
        );
        mark_root(&span, &self.ledger);
        let guard = RootGuard {
            request: self,
            otel: recording_context(&span),
            done: false,
            // Keeps the span open until the totals are on it.
            _span: span.clone(),
        };
        let output = InRequest::new(work, span, Some(Arc::clone(&self.ledger))).await;
        guard.finish(false);
        output
    }

    fn options(&self) -> &Options {
        self.options
            .as_deref()
            .unwrap_or_else(|| Options::current())
    }

    fn root_attrs(&self, a: &mut Attrs, cancelled: bool) {
        let summary = self.ledger.snapshot();
        a.str(keys::RAGTRACE_STEP, "request");
        a.str(keys::GEN_AI_WORKFLOW_NAME, self.name.to_string());
        a.str(
            keys::OPENINFERENCE_SPAN_KIND,
            keys::openinference_kind::CHAIN,
        );
        a.str(keys::LANGFUSE_TRACE_NAME, self.name.to_string());
        a.opt_str(keys::USER_ID, self.user.as_deref());
        a.opt_str(keys::SESSION_ID, self.session.as_deref());
        a.opt_str(keys::GEN_AI_CONVERSATION_ID, self.conversation.as_deref());
        if !self.tags.is_empty() {
            let tags: Vec<StringValue> = self.tags.iter().cloned().map(StringValue::from).collect();
            a.strings(keys::TAG_TAGS, tags.clone());
            a.strings(keys::LANGFUSE_TRACE_TAGS, tags);
        }
        if cancelled {
            a.bool(keys::RAGTRACE_CANCELLED, true);
        }

        a.int(keys::RAGTRACE_REQUEST_STEPS, u64::from(summary.steps));
        a.int(
            keys::RAGTRACE_REQUEST_FAILED_STEPS,
            u64::from(summary.failed_steps),
        );
        let usage = &summary.usage;
        a.int(keys::RAGTRACE_REQUEST_INPUT_TOKENS, usage.input_tokens);
        a.int(
            keys::RAGTRACE_REQUEST_CACHE_READ_TOKENS,
            usage.cache_read_input_tokens,
        );
        a.int(
            keys::RAGTRACE_REQUEST_CACHE_WRITE_TOKENS,
            usage.cache_write_input_tokens,
        );
        a.int(keys::RAGTRACE_REQUEST_OUTPUT_TOKENS, usage.output_tokens);
        a.int(
            keys::RAGTRACE_REQUEST_REASONING_TOKENS,
            usage.reasoning_output_tokens,
        );
        a.bool(keys::RAGTRACE_REQUEST_USAGE_ESTIMATED, usage.estimated);
        if let Some(status) = summary.cost_status {
            a.str(keys::RAGTRACE_REQUEST_COST_STATUS, status.as_str());
            if status != CostStatus::Unpriced {
                a.float(keys::RAGTRACE_REQUEST_COST_USD, summary.cost.to_f64());
                a.signed(
                    keys::RAGTRACE_REQUEST_COST_PICOUSD,
                    summary.cost.picos_i64(),
                );
            }
        }
        for (kind, key) in [
            (
                StepKind::Embeddings,
                keys::RAGTRACE_REQUEST_EMBEDDINGS_SECONDS,
            ),
            (
                StepKind::Retrieval,
                keys::RAGTRACE_REQUEST_RETRIEVAL_SECONDS,
            ),
            (StepKind::Rerank, keys::RAGTRACE_REQUEST_RERANK_SECONDS),
            (StepKind::Prompt, keys::RAGTRACE_REQUEST_PROMPT_SECONDS),
            (StepKind::Chat, keys::RAGTRACE_REQUEST_CHAT_SECONDS),
        ] {
            let step = summary.step(kind);
            if step.count > 0 {
                a.float(key, step.duration.as_secs_f64());
            }
        }

        let options = self.options();
        if options.capture.is_on() {
            if let Some(input) = &self.input {
                a.str(keys::INPUT_VALUE, options.capture.apply(input));
            }
            let output = self.ledger.output.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(output) = output.as_deref() {
                a.str(keys::OUTPUT_VALUE, options.capture.apply(output));
            }
        }
    }
}

/// Records the root's attributes once: when the work completes, or when the
/// `run` future is dropped before it does.
struct RootGuard<'a> {
    request: &'a Request,
    otel: Option<opentelemetry::Context>,
    done: bool,
    _span: tracing::Span,
}

impl RootGuard<'_> {
    fn finish(mut self, cancelled: bool) {
        self.record(cancelled);
    }

    fn record(&mut self, cancelled: bool) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        if let Some(cx) = &self.otel {
            let mut a = Attrs::with_capacity(32);
            self.request.root_attrs(&mut a, cancelled);
            a.emit(cx, None);
        }
    }
}

impl Drop for RootGuard<'_> {
    fn drop(&mut self) {
        self.record(true);
    }
}
