//! A policy from a Python mapping with the policy file's keys (Django's
//! `XFCC = {...}`, Flask's `XFCC_*` config): the mapping becomes the TOML
//! document it stands for, which the core reads as it reads a file. There
//! is one schema, the core's; nothing here knows a key.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// How deep a settings mapping may nest (the policy file's deepest key is
/// three tables down); a deeper or cyclic value is refused, not followed.
const MAX_DEPTH: usize = 8;

/// Why a Python value has no TOML form: the key path and what it is.
pub(crate) struct Unrepresentable {
    pub(crate) path: String,
    pub(crate) what: String,
}

fn key_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// The TOML table a settings mapping stands for.
pub(crate) fn table(settings: &Bound<'_, PyAny>) -> Result<toml::Table, Unrepresentable> {
    match value(settings, "", 0)? {
        toml::Value::Table(t) => Ok(t),
        _ => Err(Unrepresentable {
            path: "settings".to_owned(),
            what: format!("a {}, not a mapping", type_name(settings)),
        }),
    }
}

fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type()
        .name()
        .map_or_else(|_| "value".to_owned(), |n| n.to_string())
}

fn value(v: &Bound<'_, PyAny>, path: &str, depth: usize) -> Result<toml::Value, Unrepresentable> {
    let here = if path.is_empty() { "settings" } else { path };
    let bad = |what: String| Unrepresentable {
        path: here.to_owned(),
        what,
    };
    if depth > MAX_DEPTH {
        return Err(bad(format!("nested deeper than {MAX_DEPTH} levels")));
    }
    // bool before int: in Python, True is an int.
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(toml::Value::Boolean(b.is_true()));
    }
    if let Ok(i) = v.cast::<PyInt>() {
        return i
            .extract::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| bad("an integer outside the 64-bit range".to_owned()));
    }
    if let Ok(f) = v.cast::<PyFloat>() {
        return Ok(toml::Value::Float(f.value()));
    }
    if let Ok(s) = v.cast::<PyString>() {
        return s
            .extract::<String>()
            .map(toml::Value::String)
            .map_err(|_| bad("a string that is not valid Unicode".to_owned()));
    }
    if v.cast::<PyList>().is_ok() || v.cast::<PyTuple>().is_ok() {
        let mut items = Vec::new();
        let iter = v
            .try_iter()
            .map_err(|_| bad("a list that cannot be read".to_owned()))?;
        for (i, item) in iter.enumerate() {
            let item = item.map_err(|_| bad("a list that cannot be read".to_owned()))?;
            items.push(value(&item, &format!("{here}[{i}]"), depth + 1)?);
        }
        return Ok(toml::Value::Array(items));
    }
    if let Ok(d) = v.cast::<PyDict>() {
        let mut t = toml::Table::new();
        for (k, item) in d.iter() {
            let Ok(k) = k.extract::<String>() else {
                return Err(bad(format!(
                    "a key of type {}, not a string",
                    type_name(&k)
                )));
            };
            let child = key_path(path, &k);
            let item = value(&item, &child, depth + 1)?;
            t.insert(k, item);
        }
        return Ok(toml::Value::Table(t));
    }
    // A path (pathlib.Path, any os.PathLike) is the text it stands for.
    if v.hasattr("__fspath__").unwrap_or(false)
        && let Ok(s) = v
            .call_method0("__fspath__")
            .and_then(|p| p.extract::<String>())
    {
        return Ok(toml::Value::String(s));
    }
    if v.is_none() {
        return Err(bad(
            "None: leave the key out instead (a policy file has no null)".to_owned(),
        ));
    }
    // A mapping that is not a dict (such as a MappingProxy) is read
    // through its items.
    if v.hasattr("items").unwrap_or(false)
        && v.hasattr("keys").unwrap_or(false)
        && let Ok(d) = v
            .call_method0("items")
            .and_then(|items| PyDict::from_sequence(&items))
    {
        return value(d.as_any(), path, depth);
    }
    Err(bad(format!(
        "a {}, which a policy file cannot hold",
        type_name(v)
    )))
}

/// The TOML text of a table.
pub(crate) fn text(table: &toml::Table) -> Result<String, Unrepresentable> {
    toml::to_string(table).map_err(|e| Unrepresentable {
        path: "settings".to_owned(),
        what: format!("no TOML form ({e})"),
    })
}

/// The message of a TOML reading error without the TOML text it quotes
/// (the document is generated, not the user's): the core's message for
/// the policy file, from its last line, with the key of the line it
/// points at.
pub(crate) fn settings_message(file_message: &str) -> String {
    let message = file_message
        .strip_prefix("policy file: ")
        .unwrap_or(file_message);
    // The file's commonest slip has its own message; a mapping's is this.
    if message.starts_with("[allow] is written with two brackets") {
        return "`allow` is a list of rules, one mapping per rule ([{...}, ...]), not one mapping"
            .to_owned();
    }
    let lines: Vec<&str> = message.lines().map(str::trim_end).collect();
    // toml's layout: "TOML parse error at ...", "  |", "N | <line>", "  | ^", message.
    let quoted = lines
        .iter()
        .find_map(|l| {
            l.split_once(" | ")
                .filter(|(n, _)| n.trim().parse::<u32>().is_ok())
        })
        .map(|(_, line)| line.trim());
    let last = lines
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map_or(message, |l| l.trim());
    match quoted {
        Some(q) if !last.starts_with("TOML parse error") => format!("{last} (at `{q}`)"),
        _ => last.to_owned(),
    }
}
