//! Following the files a policy was built from: the policy file and every
//! file it names (CA bundles, CRLs). Polled by content hash, so an atomic
//! replacement through a symlink (Kubernetes' `..data` swap of a mounted
//! Secret) is seen like any other; a change is applied only once the
//! content has held still for one more interval, and only when the new
//! policy builds in full. A failed reload keeps the running policy, and
//! says so ([`PolicyWatcher::status`], the log, `xfcc_policy_reloads_total`).
//!
//! A rebuild reads files and may fetch CRLs (up to 10 s a URL), so it runs
//! outside the lock that [`PolicyWatcher::status`] takes: a health route
//! never waits on a reload. Rebuilds themselves run one at a time.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use crate::background::Background;

use sha2::{Digest, Sha256};

use super::handle::PolicyHandle;
use crate::config::PolicyConfig;
use crate::outcome::ConfigError;
use crate::outcome::ConfigErrorRepr as Repr;

/// The shortest interval a watcher polls at.
const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// What a [`PolicyWatcher`] has done: an operator's view of whether the
/// policy in force is the one on disk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReloadStatus {
    /// Reloads applied since the watcher started.
    pub reloads: u64,
    /// Reloads refused (the files changed but did not build).
    pub failures: u64,
    /// When the last reload was applied.
    pub last_reload: Option<SystemTime>,
    /// Why the files on disk are not in force, while they are not: the
    /// configuration error, naming the file and the setting. `None` once a
    /// reload succeeds.
    pub last_error: Option<String>,
    /// Since when the files on disk have not been in force.
    pub failing_since: Option<SystemTime>,
}

impl ReloadStatus {
    /// Whether the policy in force is the one the files describe.
    pub const fn is_current(&self) -> bool {
        self.last_error.is_none()
    }
}

/// The files and their content hashes, as last applied or seen.
type Snapshot = Vec<(PathBuf, Option<[u8; 32]>)>;

/// What the watcher knows, behind a lock held only to read or record it
/// (never while files are read or a policy is built).
struct State {
    config: PolicyConfig,
    status: ReloadStatus,
    applied: Snapshot,
    /// A change seen at the last poll, applied when the next poll sees the
    /// same content.
    pending: Option<Snapshot>,
}

struct Shared {
    state: Mutex<State>,
    /// Held for the whole of a poll or a reload, so that two rebuilds (the
    /// thread's and a SIGHUP handler's) never interleave.
    rebuild: Mutex<()>,
    handle: PolicyHandle,
}

/// Follows the files of a policy built from a [`PolicyConfig`] (a policy
/// file and its anchors and CRLs, or the files the environment names) and
/// reloads the [`PolicyHandle`] when they change. Dropping it stops the
/// watching thread.
///
/// Replace files atomically (write a new file, then rename it over the old
/// one, or swap a symlink, as Kubernetes does for a mounted Secret): a file
/// written in place is applied only once its content has held still for one
/// interval, and a half-written file that does not build is refused and the
/// running policy kept.
///
/// ```no_run
/// use std::time::Duration;
/// use xfcc::{config::PolicyConfig, run::PolicyWatcher};
/// // XFCC_POLICY_FILE (a policy file and the files it names), or the
/// // XFCC_* variables (and the anchor and CRL files they name).
/// let watcher = PolicyWatcher::start(PolicyConfig::from_env()?, Some(Duration::from_secs(5)))?;
/// let handle = watcher.handle(); // give it to XfccLayer::new / Xfcc::new
/// // ... `watcher.status()` for a health route, `watcher.reload_now()` on SIGHUP.
/// # Ok::<(), xfcc::ConfigError>(())
/// ```
pub struct PolicyWatcher {
    shared: Arc<Shared>,
    /// The polling thread; dropping the watcher stops it (and waits for a
    /// poll in progress).
    _background: Background,
}

impl std::fmt::Debug for PolicyWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyWatcher")
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl PolicyWatcher {
    /// Watches `config`'s files every `interval` (at least 100 ms) and
    /// reloads `handle` (which should hold the policy `config` builds)
    /// when they change. With `None`, nothing is watched and the policy is
    /// reloaded only by [`reload_now`](Self::reload_now) (a SIGHUP
    /// handler's), still with [`status`](Self::status) kept.
    pub fn spawn(config: PolicyConfig, handle: PolicyHandle, interval: Option<Duration>) -> Self {
        let applied = snapshot(&config);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                config,
                status: ReloadStatus::default(),
                applied,
                pending: None,
            }),
            rebuild: Mutex::new(()),
            handle,
        });
        let Some(interval) = interval else {
            return Self {
                shared,
                _background: Background::none(),
            };
        };
        let interval = interval.max(MIN_INTERVAL);
        let worker = Arc::clone(&shared);
        let background = Background::spawn("xfcc-policy-watch", interval, true, move || {
            poll(&worker);
            Some(interval)
        });
        Self {
            shared,
            _background: background,
        }
    }

    /// Builds the policy `config` describes and follows its files: the one
    /// line a service adds, then [`handle`](Self::handle) for the layer or
    /// middleware. The same as building the policy into a
    /// [`PolicyHandle`] and calling [`spawn`](Self::spawn).
    ///
    /// # Errors
    /// The [`ConfigError`] of a configuration that does not build.
    pub fn start(config: PolicyConfig, interval: Option<Duration>) -> Result<Self, ConfigError> {
        let handle = PolicyHandle::new(config.build()?);
        Ok(Self::spawn(config, handle, interval))
    }

    /// The handle this watcher reloads (a clone: every clone serves the
    /// policy in force).
    pub fn handle(&self) -> PolicyHandle {
        self.shared.handle.clone()
    }

    /// What the watcher has done so far. Never waits for a rebuild in
    /// progress (which may be fetching CRLs): it answers with what was
    /// recorded before it.
    pub fn status(&self) -> ReloadStatus {
        lock(&self.shared.state).status.clone()
    }

    /// Rebuilds the policy from the files now, changed or not (what a
    /// SIGHUP handler calls), and swaps it in when it builds.
    ///
    /// # Errors
    /// The [`ConfigError`] of files that do not build; the running policy
    /// is kept, and [`status`](Self::status) says so.
    pub fn reload_now(&self) -> Result<(), ConfigError> {
        let _one = lock(&self.shared.rebuild);
        let config = lock(&self.shared.state).config.clone();
        let seen = snapshot(&config);
        apply(&self.shared, &config, seen)
    }

    /// The interval the examples read from `XFCC_POLICY_WATCH_SECONDS`:
    /// `None` when it is not set (no watching).
    ///
    /// # Errors
    /// A [`ConfigError`] naming the variable when it is not a whole
    /// number of seconds of at least 1.
    pub fn interval_from_env() -> Result<Option<Duration>, ConfigError> {
        let Ok(v) = std::env::var("XFCC_POLICY_WATCH_SECONDS") else {
            return Ok(None);
        };
        Self::parse_interval(&v).map(Some).map_err(|e| {
            ConfigError::from(Repr::Env {
                var: "XFCC_POLICY_WATCH_SECONDS".to_owned(),
                error: e,
            })
        })
    }

    /// Reads `XFCC_POLICY_WATCH_SECONDS`'s spelling: a whole number of
    /// seconds, at least 1.
    ///
    /// # Errors
    /// A [`ConfigError`] of kind [`ConfigErrorKind::Value`](crate::outcome::ConfigErrorKind::Value) for anything else.
    pub fn parse_interval(text: &str) -> Result<Duration, ConfigError> {
        match text.trim().parse::<u64>() {
            Ok(n) if n >= 1 => Ok(Duration::from_secs(n)),
            _ => Err(ConfigError::value(
                "policy_watch_seconds",
                text,
                "a whole number of seconds, at least 1",
            )),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Every file the configuration reads, with its content's hash (`None`
/// when it cannot be read).
fn snapshot(config: &PolicyConfig) -> Snapshot {
    config
        .files()
        .into_iter()
        .map(|p| {
            let hash = hash_of(&p);
            (p, hash)
        })
        .collect()
}

/// A file's content hash, `None` when it cannot be read.
fn hash_of(path: &std::path::Path) -> Option<[u8; 32]> {
    std::fs::read(path).ok().map(|b| Sha256::digest(&b).into())
}

/// One poll: a change is applied when the next poll sees the same content.
/// Files are hashed, and the policy built, without the state's lock.
fn poll(shared: &Shared) {
    let _one = lock(&shared.rebuild);
    let config = lock(&shared.state).config.clone();
    let seen = snapshot(&config);
    {
        let mut s = lock(&shared.state);
        if seen == s.applied {
            s.pending = None;
            return;
        }
        if s.pending.as_ref() != Some(&seen) {
            // Changed since the last poll: wait for it to hold still.
            s.pending = Some(seen);
            return;
        }
        s.pending = None;
    }
    let _ = apply(shared, &config, seen);
}

/// Re-reads the configuration, builds it in full and swaps it in; on any
/// error keeps the running policy and records why. The caller holds
/// `shared.rebuild`; the state's lock is taken only to record the outcome.
fn apply(shared: &Shared, config: &PolicyConfig, seen: Snapshot) -> Result<(), ConfigError> {
    let built = config.reread().and_then(|c| c.build().map(|p| (c, p)));
    // The hashes seen before the files were read again: a change that
    // lands while the policy is built differs from them and is applied at
    // a later poll, never marked applied unread. Only a file the new
    // configuration names for the first time is hashed now (still outside
    // the lock).
    let applied = match &built {
        Ok((config, _)) => config
            .files()
            .into_iter()
            .map(|p| match seen.iter().find(|(q, _)| *q == p) {
                Some((_, hash)) => (p, *hash),
                None => (p.clone(), hash_of(&p)),
            })
            .collect(),
        Err(_) => seen,
    };
    if let Ok((_, policy)) = &built {
        #[cfg(feature = "tracing")]
        policy.log_warnings();
        shared.handle.reload(policy.clone());
    }
    let mut s = lock(&shared.state);
    // Whatever the outcome, this content has been judged: it is not tried
    // again until it changes.
    s.applied = applied;
    match built {
        Ok((config, _)) => {
            s.config = config;
            s.status.reloads += 1;
            s.status.last_reload = Some(SystemTime::now());
            s.status.last_error = None;
            s.status.failing_since = None;
            crate::metrics::policy_reload(true);
            #[cfg(feature = "tracing")]
            tracing::info!(target: "xfcc", reloads = s.status.reloads, "policy reloaded from its files");
            Ok(())
        }
        Err(e) => {
            s.status.failures += 1;
            s.status.last_error = Some(e.to_string());
            s.status.failing_since.get_or_insert_with(SystemTime::now);
            crate::metrics::policy_reload(false);
            #[cfg(feature = "tracing")]
            tracing::error!(target: "xfcc", error = %e, setting = %e.setting(), "policy files changed but do not build: the running policy is kept");
            Err(e)
        }
    }
}
