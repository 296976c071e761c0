//! A YAML or JSON document as a tree of maps, lists and scalars, each node
//! with the line it starts on: how the Envoy and Caddy JSON models read a
//! configuration (saphyr reads both; JSON is YAML).

use saphyr::{MarkedYaml, Scalar, YamlData};

/// A YAML node with the line it starts on.
#[derive(Debug, Clone)]
pub(super) enum Node {
    Map(Vec<(String, Node)>, usize),
    Seq(Vec<Node>, usize),
    Scalar(String, usize),
}

const MAX_DEPTH: usize = 128;

pub(super) fn convert(y: &MarkedYaml<'_>, depth: usize) -> Node {
    let line = y.span.start.line();
    if depth > MAX_DEPTH {
        return Node::Scalar(String::new(), line);
    }
    match &y.data {
        YamlData::Mapping(m) => Node::Map(
            m.iter()
                .map(|(k, v)| (scalar(k), convert(v, depth + 1)))
                .collect(),
            line,
        ),
        YamlData::Sequence(s) => Node::Seq(s.iter().map(|v| convert(v, depth + 1)).collect(), line),
        YamlData::Tagged(_, inner) => convert(inner, depth + 1),
        _ => Node::Scalar(scalar(y), line),
    }
}

fn scalar(y: &MarkedYaml<'_>) -> String {
    match &y.data {
        YamlData::Value(Scalar::String(s)) => s.to_string(),
        YamlData::Value(Scalar::Boolean(b)) => b.to_string(),
        YamlData::Value(Scalar::Integer(i)) => i.to_string(),
        YamlData::Value(Scalar::FloatingPoint(f)) => f.to_string(),
        YamlData::Representation(s, _, _) => s.to_string(),
        _ => String::new(),
    }
}

impl Node {
    pub(super) fn line(&self) -> usize {
        match self {
            Self::Map(_, l) | Self::Seq(_, l) | Self::Scalar(_, l) => *l,
        }
    }

    pub(super) fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Self::Map(m, _) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// A map's entries, in order (nothing for a list or a scalar).
    pub(super) fn entries(&self) -> &[(String, Node)] {
        match self {
            Self::Map(m, _) => m,
            _ => &[],
        }
    }

    pub(super) fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |n, k| n.get(k))
    }

    pub(super) fn str(&self) -> Option<&str> {
        match self {
            Self::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    pub(super) fn items(&self) -> &[Node] {
        match self {
            Self::Seq(s, _) => s,
            _ => &[],
        }
    }

    /// A boolean, also as protobuf's wrapper (`{value: true}`).
    pub(super) fn truthy(&self) -> bool {
        match self {
            Self::Scalar(s, _) => s == "true",
            Self::Map(..) => self.get("value").is_some_and(Node::truthy),
            Self::Seq(..) => false,
        }
    }

    /// Every map in the tree (itself included) for which `f` holds, not
    /// looking inside a match.
    pub(super) fn find_all<'a>(&'a self, f: &dyn Fn(&Node) -> bool, out: &mut Vec<&'a Node>) {
        if f(self) {
            out.push(self);
            return;
        }
        match self {
            Self::Map(m, _) => m.iter().for_each(|(_, v)| v.find_all(f, out)),
            Self::Seq(s, _) => s.iter().for_each(|v| v.find_all(f, out)),
            Self::Scalar(..) => {}
        }
    }
}
