//! Why a price table did not load: every problem found, each naming where.

use std::fmt;

/// One thing wrong with a price table: which file, line, model entry and
/// field, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// The file (or `<code>` for entries built in code).
    pub file: String,
    /// The 1-based line, when known.
    pub line: Option<usize>,
    /// The model entry's key, when the problem is inside one.
    pub entry: Option<String>,
    /// The field, as a path inside the entry (`price[1].batch.input`) or file.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    pub(crate) fn new(file: &str, message: impl Into<String>) -> Self {
        Problem {
            file: file.to_owned(),
            line: None,
            entry: None,
            field: None,
            message: message.into(),
        }
    }

    pub(crate) fn line(mut self, line: Option<usize>) -> Self {
        self.line = line;
        self
    }

    pub(crate) fn entry(mut self, entry: Option<&str>) -> Self {
        self.entry = entry.map(str::to_owned);
        self
    }

    pub(crate) fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

/// `file:line: model `key`, field `path`: message`, leaving out what is unknown.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(": ")?;
        if let Some(entry) = &self.entry {
            write!(f, "model `{entry}`, ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)
    }
}

/// A price table that did not load. Lists every problem found, not just
/// the first, so one run of `ragtrace prices check` shows them all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct LoadError {
    /// What was wrong, in file order.
    pub problems: Vec<Problem>,
}

impl LoadError {
    pub(crate) fn new(problems: Vec<Problem>) -> Self {
        LoadError { problems }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [] => f.write_str("the price table did not load"),
            [only] => write!(f, "{only}"),
            many => {
                write!(f, "{} problems in the price table:", many.len())?;
                for problem in many {
                    write!(f, "\n  {problem}")?;
                }
                Ok(())
            }
        }
    }
}
