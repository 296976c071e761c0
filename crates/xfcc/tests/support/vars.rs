//! An environment for `Policy::from_env_vars`, from name/value pairs.
#![allow(
    dead_code,
    reason = "included by several test crates that use different parts"
)]

use std::collections::HashMap;

pub(crate) fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k| map.get(k).cloned()
}
