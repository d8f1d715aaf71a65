//! Loading a price table's layers: the built-in files, override
//! directories, TOML texts and entries built in code, each checked.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::error::{LoadError, Problem};
use super::file::{self, FieldLines, Located};
use super::model::ModelEntry;
use super::table::PriceTable;
use super::{builtin, compile, validate};

/// The environment variable naming a directory of table files that
/// override the built-in ones (read by [`PriceTable::from_env`]).
pub const PRICING_DIR_ENV: &str = "RAGTRACE_PRICING_DIR";

/// Builds a [`PriceTable`] from layers; see [`PriceTable`] for how they combine.
///
/// ```
/// use ragtrace::pricing::{Date, ModelEntry, Mode, PriceTable, PriceVersion, Rates, Usd};
///
/// let usd = |s: &str| s.parse::<Usd>().unwrap();
/// let table = PriceTable::builder()
///     .toml(
///         "team.toml",
///         r#"
/// provider = "internal"
/// [[model]]
/// key = "house-llm"
/// mode = "chat"
/// [[model.price]]
/// effective = 2025-01-01
/// source = "https://wiki.example.com/llm-chargeback"
/// input = 0.40
/// output = 1.60
/// "#,
///     )
///     .model(ModelEntry::new("ft:gpt-4o-mini-2024-07-18:acme::x1", "openai", Mode::Chat).version(
///         PriceVersion::new(
///             "2024-07-18".parse::<Date>().unwrap(),
///             "https://openai.com/api/pricing/",
///             Rates::new().input(usd("0.30")).output(usd("1.20")),
///         ),
///     ))
///     .build()
///     .unwrap();
/// assert!(table.resolve("house-llm").is_some());
/// assert!(table.resolve("gpt-4o").is_some());
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct PriceTableBuilder {
    builtin: bool,
    layers: Vec<LayerSource>,
    code: Vec<ModelEntry>,
}

#[derive(Debug, Clone)]
enum LayerSource {
    Dir(PathBuf),
    EnvDir,
    Toml { name: String, text: String },
}

impl PriceTableBuilder {
    /// A builder that starts from the built-in table.
    pub(crate) fn new() -> Self {
        PriceTableBuilder {
            builtin: true,
            layers: Vec::new(),
            code: Vec::new(),
        }
    }

    /// Leaves out the built-in files (start from an empty table).
    pub fn without_builtin(mut self) -> Self {
        self.builtin = false;
        self
    }

    /// Layers every `*.toml` file in `dir` (read at [`build`](Self::build), in name order).
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.layers.push(LayerSource::Dir(dir.into()));
        self
    }

    /// Layers the directory named by `RAGTRACE_PRICING_DIR`, if it is set
    /// and not empty (read at [`build`](Self::build)).
    pub fn env_dir(mut self) -> Self {
        self.layers.push(LayerSource::EnvDir);
        self
    }

    /// Layers one table file's text; `name` is used in error messages.
    pub fn toml(mut self, name: impl Into<String>, text: impl Into<String>) -> Self {
        self.layers.push(LayerSource::Toml {
            name: name.into(),
            text: text.into(),
        });
        self
    }

    /// Adds an entry built in code (custom or fine-tuned models). Entries
    /// added this way form the top layer.
    pub fn model(mut self, entry: ModelEntry) -> Self {
        self.code.push(entry);
        self
    }

    /// Loads and checks every layer. Fails with every problem found, each
    /// naming its file, line, entry and field.
    pub fn build(self) -> Result<PriceTable, LoadError> {
        let mut problems = Vec::new();
        let mut layers: Vec<Vec<Sourced>> = Vec::new();
        if self.builtin {
            let (entries, builtin_problems) = builtin::entries();
            problems.extend(builtin_problems);
            layers.push(entries);
        }
        for source in &self.layers {
            let files = match source {
                LayerSource::Dir(dir) => read_dir(dir, &mut problems),
                LayerSource::EnvDir => match std::env::var_os(PRICING_DIR_ENV) {
                    Some(dir) if !dir.is_empty() => read_dir(Path::new(&dir), &mut problems),
                    _ => continue,
                },
                LayerSource::Toml { name, text } => vec![(name.clone(), text.clone())],
            };
            layers.push(parse_files(&files, &mut problems));
        }
        if !self.code.is_empty() {
            let origin: Arc<str> = Arc::from(CODE_ORIGIN);
            layers.push(
                self.code
                    .into_iter()
                    .map(|entry| Sourced {
                        origin: Arc::clone(&origin),
                        located: Located {
                            entry,
                            lines: FieldLines::default(),
                        },
                    })
                    .collect(),
            );
        }
        for layer in &layers {
            check_layer(layer, &mut problems);
        }
        if !problems.is_empty() {
            return Err(LoadError::new(problems));
        }
        compile::compile(layers)
    }
}

const CODE_ORIGIN: &str = "<code>";

/// An entry and the file it came from.
#[derive(Clone)]
pub(crate) struct Sourced {
    pub(crate) origin: Arc<str>,
    pub(crate) located: Located,
}

/// Parses table files (name, text) into one layer.
pub(crate) fn parse_files(files: &[(String, String)], problems: &mut Vec<Problem>) -> Vec<Sourced> {
    let mut layer = Vec::new();
    for (name, text) in files {
        let origin: Arc<str> = Arc::from(name.as_str());
        let (entries, file_problems) = file::parse(name, text);
        problems.extend(file_problems);
        layer.extend(entries.into_iter().map(|located| Sourced {
            origin: Arc::clone(&origin),
            located,
        }));
    }
    layer
}

/// The `*.toml` files of `dir`, in name order.
fn read_dir(dir: &Path, problems: &mut Vec<Problem>) -> Vec<(String, String)> {
    let shown = dir.display().to_string();
    let listing = match std::fs::read_dir(dir) {
        Ok(listing) => listing,
        Err(error) => {
            problems.push(Problem::new(
                &shown,
                format!("cannot read the pricing directory: {error}"),
            ));
            return Vec::new();
        }
    };
    let mut paths: Vec<PathBuf> = listing
        .filter_map(|item| item.ok().map(|item| item.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml") && path.is_file())
        .collect();
    paths.sort();
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let name = path.display().to_string();
        match std::fs::read_to_string(&path) {
            Ok(text) => files.push((name, text)),
            Err(error) => problems.push(Problem::new(&name, format!("cannot read: {error}"))),
        }
    }
    files
}

/// Validates each entry, and checks no two entries of one layer share a name.
pub(crate) fn check_layer(layer: &[Sourced], problems: &mut Vec<Problem>) {
    let mut owners: FxHashMap<&str, (&str, &str)> = FxHashMap::default();
    for sourced in layer {
        let entry = &sourced.located.entry;
        let lines = &sourced.located.lines;
        problems.extend(validate::validate(entry, &sourced.origin, &|path| {
            lines.line(path)
        }));
        for (i, name) in entry.names().enumerate() {
            if let Some((file, key)) = owners.insert(name, (&sourced.origin, &entry.key)) {
                let path = if i == 0 {
                    "key".to_owned()
                } else {
                    format!("aliases[{}]", i - 1)
                };
                problems.push(
                    Problem::new(
                        &sourced.origin,
                        format!("the name `{name}` is already used by model `{key}` in {file}"),
                    )
                    .line(lines.line(&path))
                    .entry(Some(&entry.key))
                    .field(path),
                );
            }
        }
    }
}
