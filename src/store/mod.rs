//! The model store: one folder per model, one sub-folder per version.
//!
//! ```text
//! <root>/<model>/v000001/manifest.json
//! <root>/<model>/v000001/<parameters>.parquet
//! <root>/<model>/v000002/...
//! ```
//!
//! A version is written into a hidden temporary folder beside the versions and renamed into place
//! only when every file is on disk and synced, so a failed or killed `CREATE OR REPLACE MODEL`
//! leaves the previous version loadable. The newest complete version is the current one.

mod manifest;

use std::collections::HashMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::record_batch::RecordBatchReader;
use datafusion::common::{exec_datafusion_err, plan_err, DataFusionError, Result};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;

pub use manifest::{
    partition_prefix, FeatureInfo, LabelInfo, Manifest, PartitionInfo, RowCounts, StoredMetrics,
};

use crate::models::TrainedModel;

/// Environment variable naming a fail point, used by the crash-safety tests.
pub const FAILPOINT_ENV: &str = "COHORT_FAILPOINT";

/// A directory of models.
#[derive(Debug)]
pub struct ModelStore {
    root: PathBuf,
    cache: Mutex<HashMap<String, Arc<TrainedModel>>>,
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> DataFusionError {
    exec_datafusion_err!("model store: cannot {what} {}: {e}", path.display())
}

/// Checks that a model name is usable as a folder name and normalises it to lower case.
pub fn normalize_name(name: &str) -> Result<String> {
    let lower = name.to_ascii_lowercase();
    let valid = !lower.is_empty()
        && lower.len() <= 128
        && lower.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !lower.starts_with(|c: char| c.is_ascii_digit());
    if !valid {
        return plan_err!(
            "invalid model name '{name}'; expected letters, digits and underscores, not starting with a digit"
        );
    }
    Ok(lower)
}

fn version_dir_name(version: u64) -> String {
    format!("v{version:06}")
}

fn parse_version(name: &str) -> Option<u64> {
    name.strip_prefix('v')
        .filter(|s| s.len() >= 6)
        .and_then(|s| s.parse().ok())
}

impl ModelStore {
    /// Opens (and creates if needed) a store rooted at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(|e| io_err("create", &root, e))?;
        Ok(Self {
            root,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The store's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn model_dir(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Complete versions of a model, ascending.
    pub fn versions(&self, name: &str) -> Result<Vec<u64>> {
        let dir = self.model_dir(name);
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(io_err("read", &dir, e)),
        };
        let mut versions = vec![];
        for entry in entries {
            let entry = entry.map_err(|e| io_err("read", &dir, e))?;
            let fname = entry.file_name();
            if let Some(v) = fname.to_str().and_then(parse_version) {
                if entry.path().join("manifest.json").is_file() {
                    versions.push(v);
                }
            }
        }
        versions.sort_unstable();
        Ok(versions)
    }

    /// The current (newest) version of a model, if it exists.
    pub fn current_version(&self, name: &str) -> Result<Option<u64>> {
        Ok(self.versions(name)?.last().copied())
    }

    /// Whether a model exists.
    pub fn exists(&self, name: &str) -> Result<bool> {
        Ok(self.current_version(&normalize_name(name)?)?.is_some())
    }

    /// Names of all models, sorted.
    pub fn names(&self) -> Result<Vec<String>> {
        let entries = fs::read_dir(&self.root).map_err(|e| io_err("read", &self.root, e))?;
        let mut names = vec![];
        for entry in entries {
            let entry = entry.map_err(|e| io_err("read", &self.root, e))?;
            if let Some(n) = entry.file_name().to_str() {
                if !n.starts_with('.')
                    && entry.path().is_dir()
                    && self.current_version(n)?.is_some()
                {
                    names.push(n.to_string());
                }
            }
        }
        names.sort();
        Ok(names)
    }

    /// Manifests of the current version of every model.
    pub fn list(&self) -> Result<Vec<Manifest>> {
        let mut out = vec![];
        for n in self.names()? {
            if let Some(v) = self.current_version(&n)? {
                out.push(self.read_manifest(&n, v)?);
            }
        }
        Ok(out)
    }

    fn read_manifest(&self, name: &str, version: u64) -> Result<Manifest> {
        let path = self
            .model_dir(name)
            .join(version_dir_name(version))
            .join("manifest.json");
        let text = fs::read_to_string(&path).map_err(|e| io_err("read", &path, e))?;
        serde_json::from_str(&text).map_err(|e| {
            exec_datafusion_err!("model store: corrupt manifest {}: {e}", path.display())
        })
    }

    /// The manifest of the current version.
    pub fn manifest(&self, name: &str) -> Result<Manifest> {
        let name = normalize_name(name)?;
        match self.current_version(&name)? {
            Some(v) => self.read_manifest(&name, v),
            None => self.unknown(&name),
        }
    }

    fn unknown<T>(&self, name: &str) -> Result<T> {
        let known = self.names().unwrap_or_default();
        let known = if known.is_empty() {
            "no models exist yet".to_string()
        } else {
            format!("known models: {}", known.join(", "))
        };
        plan_err!("unknown model '{name}' in {}; {known}", self.root.display())
    }

    /// Loads the current version of a model (cached per version).
    pub fn load(&self, name: &str) -> Result<Arc<TrainedModel>> {
        let name = normalize_name(name)?;
        let Some(version) = self.current_version(&name)? else {
            return self.unknown(&name);
        };
        // The manifest is small: compare it whole, so that a model dropped and created again
        // (whose version numbers start over) is never served from the cache.
        let manifest = self.read_manifest(&name, version)?;
        if let Ok(cache) = self.cache.lock() {
            if let Some(m) = cache.get(&name).filter(|m| m.manifest == manifest) {
                return Ok(Arc::clone(m));
            }
        }
        let dir = self.model_dir(&name).join(version_dir_name(version));
        let mut files = HashMap::new();
        for f in &manifest.files {
            files.insert(f.clone(), read_parquet(&dir.join(f))?);
        }
        let model = Arc::new(TrainedModel::from_parts(manifest, files)?);
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(name, Arc::clone(&model));
        }
        Ok(model)
    }

    /// Writes a new version atomically and returns its manifest (with the version filled in).
    /// With `create_only`, the commit fails if any version exists by then (a concurrent
    /// `CREATE MODEL` of the same name won).
    pub fn save(
        &self,
        mut manifest: Manifest,
        files: Vec<(String, RecordBatch)>,
        create_only: bool,
    ) -> Result<Manifest> {
        let name = normalize_name(&manifest.name)?;
        let model_dir = self.model_dir(&name);
        fs::create_dir_all(&model_dir).map_err(|e| io_err("create", &model_dir, e))?;
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = model_dir.join(format!(".tmp-{}-{nonce}-{seq}", std::process::id()));
        let result = (|| {
            fs::create_dir(&tmp).map_err(|e| io_err("create", &tmp, e))?;
            manifest.files = files.iter().map(|(f, _)| f.clone()).collect();
            for (fname, batch) in &files {
                write_parquet(&tmp.join(fname), batch)?;
            }
            for attempt in 0..100 {
                let current = self.current_version(&name)?;
                if create_only && current.is_some() {
                    return Err(datafusion::common::plan_datafusion_err!(
                        "CREATE MODEL: model '{name}' was created by another statement meanwhile; use CREATE OR REPLACE MODEL to add a version"
                    ));
                }
                let version = current.unwrap_or(0) + 1;
                manifest.version = version;
                manifest.name = name.clone();
                let json = serde_json::to_string_pretty(&manifest).map_err(|e| {
                    exec_datafusion_err!("model store: cannot encode manifest: {e}")
                })?;
                let mpath = tmp.join("manifest.json");
                write_synced(&mpath, json.as_bytes())?;
                // The folder's entries must be durable before the rename makes it visible.
                sync_dir(&tmp);
                failpoint("pause_before_commit");
                let target = model_dir.join(version_dir_name(version));
                match fs::rename(&tmp, &target) {
                    Ok(()) => {
                        sync_dir(&model_dir);
                        return Ok(manifest.clone());
                    }
                    // Another writer took this version number: try the next one.
                    Err(_) if target.exists() && attempt < 99 && !create_only => continue,
                    Err(e) => return Err(io_err("commit", &target, e)),
                }
            }
            Err(exec_datafusion_err!(
                "model store: could not commit a new version of '{name}'"
            ))
        })();
        if result.is_err() {
            let _ = fs::remove_dir_all(&tmp);
        }
        result
    }

    /// Removes a model and all its versions. Returns whether it existed.
    pub fn drop_model(&self, name: &str) -> Result<bool> {
        let name = normalize_name(name)?;
        if self.current_version(&name)?.is_none() {
            return Ok(false);
        }
        let dir = self.model_dir(&name);
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        // Rename first so that the model disappears atomically, then delete at leisure.
        let trash = self.root.join(format!(".dropped-{name}-{nonce}"));
        fs::rename(&dir, &trash).map_err(|e| io_err("drop", &dir, e))?;
        let _ = fs::remove_dir_all(&trash);
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(&name);
        }
        Ok(true)
    }
}

/// Test hook: when `COHORT_FAILPOINT` names this point, announce it on stderr and stop here
/// until the process is killed.
fn failpoint(point: &str) {
    if std::env::var(FAILPOINT_ENV).is_ok_and(|v| v == point) {
        eprintln!("cohort: failpoint {point} reached");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut f = File::create(path).map_err(|e| io_err("create", path, e))?;
    f.write_all(bytes).map_err(|e| io_err("write", path, e))?;
    f.sync_all().map_err(|e| io_err("sync", path, e))
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes one batch as a Parquet file (synced to disk).
pub fn write_parquet(path: &Path, batch: &RecordBatch) -> Result<()> {
    let f = File::create(path).map_err(|e| io_err("create", path, e))?;
    let mut w = ArrowWriter::try_new(f, batch.schema(), None)?;
    w.write(batch)?;
    let f = w.into_inner()?;
    f.sync_all().map_err(|e| io_err("sync", path, e))
}

/// Reads a Parquet file into one batch.
pub fn read_parquet(path: &Path) -> Result<RecordBatch> {
    let f = File::open(path).map_err(|e| io_err("open", path, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)?.build()?;
    let schema = reader.schema();
    let batches = reader.collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(concat_batches(&schema, &batches)?)
}
