//! A policy follows its files: replaced atomically (rename, or a symlink
//! swap as Kubernetes does), the new policy is swapped in; a file that does
//! not build keeps the running policy and says why.
#![cfg(all(feature = "toml", feature = "chain"))]
#![expect(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use xfcc::{PolicyHandle, config::PolicyConfig, run::PolicyWatcher};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn capture() -> String {
    std::fs::read_to_string(fixtures().join("envoy/rsa-chain.txt")).unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("xfcc-watch-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes `text` beside `path`, then renames it over `path`.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn policy_for(cn: &str) -> String {
    format!(
        "[[allow]]\nname = \"r\"\nsubject_cn = [\"{cn}\"]\nchain = \"ca\"\n[chain.ca]\ntrust_anchors = \"ca.pem\"\n"
    )
}

fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "not within 10 s: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn allowed(handle: &PolicyHandle) -> bool {
    handle.verify(&capture()).is_ok()
}

#[test]
fn a_replaced_policy_file_is_swapped_in_and_a_broken_one_is_not() {
    let dir = scratch("rename");
    std::fs::copy(fixtures().join("certs/root.pem"), dir.join("ca.pem")).unwrap();
    let file = dir.join("policy.toml");
    replace(&file, &policy_for("client-app.contoso.example"));
    let config = PolicyConfig::from_toml_file(&file).unwrap();
    assert_eq!(config.files(), vec![file.clone(), dir.join("ca.pem")]);
    let handle = PolicyHandle::new(config.build().unwrap());
    let watcher = PolicyWatcher::spawn(config, handle.clone(), Some(Duration::from_millis(100)));
    assert!(allowed(&handle));

    replace(&file, &policy_for("someone-else"));
    eventually("the new policy refuses the old client", || {
        !allowed(&handle)
    });
    assert_eq!(watcher.status().reloads, 1);
    assert!(watcher.status().is_current());

    // Broken: the running policy stays, and the status says why, naming
    // the setting.
    replace(&file, "[[allow]]\nname = \"r\"\nsubject_cn = []\n");
    eventually("the failure is recorded", || watcher.status().failures == 1);
    let status = watcher.status();
    assert!(!status.is_current());
    assert!(status.failing_since.is_some());
    assert!(
        status
            .last_error
            .as_deref()
            .unwrap()
            .contains("subject_cn is an empty list"),
        "{status:?}"
    );
    assert!(!allowed(&handle), "the last good policy is still in force");

    // Fixed: in force again, the error cleared.
    replace(&file, &policy_for("client-app.contoso.example"));
    eventually("the fixed policy is in force", || allowed(&handle));
    assert!(watcher.status().is_current());
    assert_eq!(watcher.status().reloads, 2);
    drop(watcher);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_named_anchor_file_is_followed_through_a_symlink_swap() {
    // Kubernetes: the mounted files are symlinks into `..data`, itself a
    // symlink swapped to a new directory in one rename.
    let dir = scratch("symlink");
    let v1 = dir.join("..v1");
    let v2 = dir.join("..v2");
    std::fs::create_dir_all(&v1).unwrap();
    std::fs::create_dir_all(&v2).unwrap();
    // Version 1 trusts a CA that did not issue the client; version 2 the
    // real root.
    std::fs::copy(
        fixtures().join("certs/client-selfsigned.pem"),
        v1.join("ca.pem"),
    )
    .unwrap();
    std::fs::copy(fixtures().join("certs/root.pem"), v2.join("ca.pem")).unwrap();
    std::os::unix::fs::symlink("..v1", dir.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/ca.pem", dir.join("ca.pem")).unwrap();
    let file = dir.join("policy.toml");
    replace(&file, &policy_for("client-app.contoso.example"));
    let config = PolicyConfig::from_toml_file(&file).unwrap();
    let handle = PolicyHandle::new(config.build().unwrap());
    let watcher = PolicyWatcher::spawn(config, handle.clone(), Some(Duration::from_millis(100)));
    assert!(!allowed(&handle));

    std::os::unix::fs::symlink("..v2", dir.join("..data.tmp")).unwrap();
    std::fs::rename(dir.join("..data.tmp"), dir.join("..data")).unwrap();
    eventually("the new CA is trusted", || allowed(&handle));
    assert_eq!(watcher.status().reloads, 1);
    drop(watcher);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reload_now_applies_the_files_at_once_or_says_why_not() {
    let dir = scratch("now");
    std::fs::copy(fixtures().join("certs/root.pem"), dir.join("ca.pem")).unwrap();
    let file = dir.join("policy.toml");
    replace(&file, &policy_for("client-app.contoso.example"));
    let config = PolicyConfig::from_toml_file(&file).unwrap();
    // Not watched: only reload_now applies anything here.
    let watcher = PolicyWatcher::start(config, None).unwrap();
    let handle = watcher.handle();
    assert!(allowed(&handle));
    replace(&file, &policy_for("someone-else"));
    watcher.reload_now().unwrap();
    assert!(!allowed(&handle));
    std::fs::remove_file(dir.join("ca.pem")).unwrap();
    let e = watcher.reload_now().unwrap_err();
    assert!(e.to_string().contains("trust_anchors \"ca.pem\""), "{e}");
    assert!(!watcher.status().is_current());
    drop(watcher);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_file_caught_half_written_in_place_never_loads_as_a_weaker_policy() {
    // The whole policy pins the leaf's thumbprint beside its CN; the first
    // half of the file (what a reader sees mid-write) has the CN alone, which
    // would let a self-signed look-alike in.
    let dir = scratch("half");
    let file = dir.join("policy.toml");
    let real = capture();
    let hash = real
        .split(';')
        .find_map(|p| p.strip_prefix("Hash="))
        .unwrap()
        .to_owned();
    let half = "[[allow]]\nname = \"r\"\nsubject_cn = [\"client-app.contoso.example\"]\n";
    let whole = |note: &str| format!("{half}thumbprint = [\"{hash}\"]\n# {note}\n");
    replace(&file, &whole("v1"));
    let config = PolicyConfig::from_toml_file(&file).unwrap();
    let handle = PolicyHandle::new(config.build().unwrap());
    let spawned = Instant::now();
    let watcher = PolicyWatcher::spawn(config, handle.clone(), Some(Duration::from_secs(2)));
    let lookalike =
        std::fs::read_to_string(fixtures().join("envoy/self-signed-lookalike.txt")).unwrap();
    assert!(handle.verify(&real).is_ok());
    assert!(handle.verify(&lookalike).is_err());

    // Written in place, in two writes 1.2 s apart around the first poll (2 s
    // after the watcher started): that poll sees the half, the next one the
    // whole, and a change is applied only once two polls in a row see it.
    std::thread::sleep(Duration::from_millis(1500).saturating_sub(spawned.elapsed()));
    std::fs::write(&file, half).unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    std::fs::write(&file, whole("v2")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while watcher.status().reloads == 0 {
        assert!(
            handle.verify(&lookalike).is_err(),
            "the half-written policy was loaded"
        );
        assert!(Instant::now() < deadline, "v2 not applied within 15 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(handle.verify(&lookalike).is_err());
    assert!(handle.verify(&real).is_ok());
    assert_eq!(watcher.status().failures, 0, "{:?}", watcher.status());
    drop(watcher);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A rebuild runs outside the lock `status` takes: while a reload waits on
/// a CRL server that accepts and never answers, a health route's `status`
/// answers (with what was recorded before), and the policy in force keeps
/// serving.
#[cfg(feature = "crl-fetch")]
#[test]
fn status_answers_while_a_rebuild_waits_on_a_crl_server() {
    use std::sync::{Arc, mpsc};
    let dir = scratch("stall");
    std::fs::copy(fixtures().join("certs/root.pem"), dir.join("ca.pem")).unwrap();
    let file = dir.join("policy.toml");
    replace(&file, &policy_for("client-app.contoso.example"));
    let watcher =
        Arc::new(PolicyWatcher::start(PolicyConfig::from_toml_file(&file).unwrap(), None).unwrap());
    let handle = watcher.handle();
    // A CRL server that accepts, says when it has, and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/ca.crl", listener.local_addr().unwrap());
    let (accepted, on_accept) = mpsc::channel();
    let (release, on_release) = mpsc::channel::<()>();
    let server = std::thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        accepted.send(()).unwrap();
        let _ = on_release.recv();
        drop(conn);
    });
    replace(
        &file,
        &format!(
            "[[allow]]\nname = \"r\"\nsubject_cn = [\"client-app.contoso.example\"]\nchain = \"ca\"\n\
             [chain.ca]\ntrust_anchors = \"ca.pem\"\ncrl_urls = [\"{url}\"]\n\
             crl_refresh_seconds = 8\ncrl_max_age_seconds = 3600\n"
        ),
    );
    let reloading = {
        let w = Arc::clone(&watcher);
        std::thread::spawn(move || w.reload_now())
    };
    // The rebuild is now fetching, and cannot end before the server
    // answers (never) or the fetch times out (8 s).
    on_accept.recv().unwrap();
    let (answered, on_answer) = mpsc::channel();
    let w = Arc::clone(&watcher);
    std::thread::spawn(move || answered.send(w.status()).unwrap());
    // An error here: status waited for the rebuild.
    let status = on_answer.recv_timeout(Duration::from_secs(4)).unwrap();
    assert!(!reloading.is_finished(), "the rebuild had already ended");
    assert_eq!(status.reloads, 0);
    assert!(status.is_current());
    // The running policy serves meanwhile.
    assert!(allowed(&handle));
    // The server goes: the fetch fails, and the new policy (which keeps
    // no CRL yet, with the default unknown_status) is applied.
    release.send(()).unwrap();
    server.join().unwrap();
    let result = reloading.join().unwrap();
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(watcher.status().reloads, 1);
}
