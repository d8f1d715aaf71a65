//! [`PayloadSelection`]: which payload fields come back with each hit.

use qdrant_client::qdrant::with_payload_selector::SelectorOptions;
use qdrant_client::qdrant::{PayloadExcludeSelector, PayloadIncludeSelector, WithPayloadSelector};

/// Which payload fields come back with each hit. Made from whatever
/// qdrant-client users already write: `true` / `false`, a list of field
/// names (`vec!["title", "lang"]`, `["title"]`, `&["title"][..]`,
/// `Vec<String>`), an include or exclude selector, or a
/// [`WithPayloadSelector`].
///
/// ```
/// use qdrant_client::qdrant::PayloadExcludeSelector;
/// use ragtrace::integrations::qdrant::PayloadSelection;
///
/// let all = PayloadSelection::from(true);
/// let some = PayloadSelection::from(["text", "lang"]);
/// let others = PayloadSelection::from(PayloadExcludeSelector { fields: vec!["embedding_note".into()] });
/// # let _ = (all, some, others);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PayloadSelection(WithPayloadSelector);

impl PayloadSelection {
    /// Only these fields.
    pub fn include<S: Into<String>>(fields: impl IntoIterator<Item = S>) -> Self {
        PayloadSelection(
            SelectorOptions::Include(PayloadIncludeSelector {
                fields: fields.into_iter().map(Into::into).collect(),
            })
            .into(),
        )
    }

    /// Every field but these.
    pub fn exclude<S: Into<String>>(fields: impl IntoIterator<Item = S>) -> Self {
        PayloadSelection(
            SelectorOptions::Exclude(PayloadExcludeSelector {
                fields: fields.into_iter().map(Into::into).collect(),
            })
            .into(),
        )
    }

    /// The selector sent.
    pub fn into_selector(self) -> WithPayloadSelector {
        self.0
    }
}

impl From<bool> for PayloadSelection {
    fn from(all: bool) -> Self {
        PayloadSelection(all.into())
    }
}

impl From<WithPayloadSelector> for PayloadSelection {
    fn from(selector: WithPayloadSelector) -> Self {
        PayloadSelection(selector)
    }
}

impl From<SelectorOptions> for PayloadSelection {
    fn from(options: SelectorOptions) -> Self {
        PayloadSelection(options.into())
    }
}

impl From<PayloadIncludeSelector> for PayloadSelection {
    fn from(include: PayloadIncludeSelector) -> Self {
        PayloadSelection(SelectorOptions::Include(include).into())
    }
}

impl From<PayloadExcludeSelector> for PayloadSelection {
    fn from(exclude: PayloadExcludeSelector) -> Self {
        PayloadSelection(SelectorOptions::Exclude(exclude).into())
    }
}

impl From<Vec<&str>> for PayloadSelection {
    fn from(fields: Vec<&str>) -> Self {
        PayloadSelection::include(fields)
    }
}

impl From<Vec<String>> for PayloadSelection {
    fn from(fields: Vec<String>) -> Self {
        PayloadSelection::include(fields)
    }
}

impl From<&[&str]> for PayloadSelection {
    fn from(fields: &[&str]) -> Self {
        PayloadSelection::include(fields.iter().copied())
    }
}

impl<const N: usize> From<[&str; N]> for PayloadSelection {
    fn from(fields: [&str; N]) -> Self {
        PayloadSelection::include(fields)
    }
}
