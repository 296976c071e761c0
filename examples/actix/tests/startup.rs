//! The example refuses a configuration it cannot honour at start-up.

use xfcc_example_common::testing::{REFUSED_CONFIGS, run_refused};

#[test]
fn refuses_operator_mistakes_at_startup_naming_the_setting() {
    for (vars, expected) in REFUSED_CONFIGS {
        let (code, stderr) = run_refused(env!("CARGO_BIN_EXE_xfcc-example-actix"), vars);
        assert_eq!(code, Some(2), "{vars:?}: {stderr}");
        assert!(stderr.contains(expected), "{vars:?}: {stderr}");
    }
}
