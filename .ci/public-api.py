#!/usr/bin/env python3
"""The public API of the library crates, one item a line, from rustdoc's
JSON (built on the stable toolchain with RUSTC_BOOTSTRAP, as
cargo-semver-checks does): modules, types, functions, constants, traits
and their items, enum variants, public fields, inherent methods and
associated constants, and the traits each type implements (beside the
auto and blanket ones). Each line is the item's full path and, for a
function, method, field or constant, its signature or type: a rename, an
addition, a removal and a changed signature all show.

  .ci/public-api.py --check   compare with crates/*/public-api.txt; fail on
                              any difference, or on an item added, removed
                              or changed since the previous commit's list
                              that the newest section of CHANGELOG.md does
                              not name (as `Type::member`, or `Name` for a
                              top-level item, in backticks)
  .ci/public-api.py --write   rewrite the lists
  .ci/public-api.py --self-test  the naming rules on made-up changes, each
                              of which must pass or fail as it says
"""
import re
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CRATES = ["xfcc", "xfcc-tower", "xfcc-actix"]


def rustdoc_json(crate):
    env = {**os.environ, "RUSTC_BOOTSTRAP": "1", "RUSTDOCFLAGS": "-Z unstable-options --output-format json"}
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    subprocess.run(["cargo", "doc", "-q", "-p", crate, "--all-features", "--no-deps"], check=True, cwd=ROOT, env=env)
    return json.loads((target / "doc" / f"{crate.replace('-', '_')}.json").read_text())


def items(doc):
    idx = doc["index"]
    out = set()

    def get(i):
        return idx.get(str(i))

    def ty(t):
        """A rustdoc JSON type, written as Rust writes it (paths short)."""
        if t is None:
            return "()"
        (k, v), = t.items()
        if k == "resolved_path":
            return v["path"].split("::")[-1] + args(v.get("args"))
        if k == "generic":
            return v
        if k == "primitive":
            return v
        if k == "borrowed_ref":
            lt = f"{v['lifetime']} " if v.get("lifetime") else ""
            return f"&{lt}{'mut ' if v['is_mutable'] else ''}{ty(v['type'])}"
        if k == "raw_pointer":
            return f"*{'mut' if v['is_mutable'] else 'const'} {ty(v['type'])}"
        if k == "slice":
            return f"[{ty(v)}]"
        if k == "array":
            return f"[{ty(v['type'])}; {v['len']}]"
        if k == "tuple":
            return "(" + ", ".join(ty(x) for x in v) + ")"
        if k in ("impl_trait", "dyn_trait"):
            bounds = v if k == "impl_trait" else v["traits"]
            words = [bound(b) for b in bounds]
            if k == "dyn_trait" and v.get("lifetime"):
                words.append(v["lifetime"])
            return ("impl " if k == "impl_trait" else "dyn ") + " + ".join(words)
        if k == "qualified_path":
            return f"<{ty(v['self_type'])}>::{v['name']}"
        if k == "function_pointer":
            sig = v["sig"]
            return "fn(" + ", ".join(ty(x[1]) for x in sig["inputs"]) + ") -> " + ty(sig.get("output"))
        return k

    def bound(b):
        if "trait_bound" in b:
            tr = b["trait_bound"]["trait"]
            return tr["path"].split("::")[-1] + args(tr.get("args"))
        if "outlives" in b:
            return b["outlives"]
        return "?"

    def args(a):
        if not a:
            return ""
        if "angle_bracketed" in a:
            parts = []
            for x in a["angle_bracketed"]["args"]:
                if "type" in x:
                    parts.append(ty(x["type"]))
                elif "lifetime" in x:
                    parts.append(x["lifetime"])
                elif "const" in x:
                    parts.append(str(x["const"].get("expr")))
            for c in a["angle_bracketed"].get("constraints", []):
                binding = c.get("binding", {})
                if "equality" in binding:
                    parts.append(f"{c['name']} = {ty(binding['equality'].get('type'))}")
                else:
                    parts.append(c["name"])
            return "<" + ", ".join(parts) + ">" if parts else ""
        if "parenthesized" in a:
            p = a["parenthesized"]
            return "(" + ", ".join(ty(x) for x in p["inputs"]) + ") -> " + ty(p.get("output"))
        return ""

    def generics(g):
        names = []
        for p in g.get("params", []):
            kind = p["kind"]
            if "type" in kind and kind["type"].get("is_synthetic"):
                continue
            if "type" in kind and kind["type"]["bounds"]:
                names.append(p["name"] + ": " + " + ".join(bound(b) for b in kind["type"]["bounds"]))
            else:
                names.append(p["name"])
        where = []
        for w in g.get("where_predicates", []):
            if "bound_predicate" in w:
                bp = w["bound_predicate"]
                where.append(ty(bp["type"]) + ": " + " + ".join(bound(b) for b in bp["bounds"]))
        return ("<" + ", ".join(names) + ">" if names else ""), (" where " + ", ".join(where) if where else "")

    def signature(item):
        """`(args) -> output` of a function, the type of a field or constant."""
        (k, v), = item["inner"].items()
        if k == "function":
            gen, where = generics(v["generics"])
            header = v["header"]
            quals = ("const " if header["is_const"] else "") + ("async " if header["is_async"] else "")
            inputs = []
            for name, t in v["sig"]["inputs"]:
                inputs.append("self" if name == "self" and t == {"generic": "Self"} else ty(t) if name == "self" else f"{name}: {ty(t)}")
            out_t = v["sig"].get("output")
            return f"{quals}fn{gen}({', '.join(inputs)})" + (f" -> {ty(out_t)}" if out_t else "") + where
        if k in ("struct_field",):
            return ": " + ty(v)
        if k in ("constant", "assoc_const"):
            t = v.get("type")
            return ": " + ty(t) if t else ""
        if k == "static":
            return ": " + ty(v["type"])
        return ""

    def type_members(path, item):
        kind, inner = next(iter(item["inner"].items()))
        if kind == "enum":
            for v in inner["variants"]:
                out.add(f"variant {path}::{get(v)['name']}")
        if kind == "struct":
            k = inner.get("kind", {})
            if isinstance(k, dict) and "plain" in k:
                for f in k["plain"]["fields"]:
                    fi = get(f)
                    if fi and fi["visibility"] == "public":
                        out.add(f"field {path}::{fi['name']}{signature(fi)}")
        if kind == "trait":
            for t in inner["items"]:
                out.add(f"trait-item {path}::{get(t)['name']}")
        for impl_id in inner.get("impls", []):
            impl = get(impl_id)
            if not impl:
                continue
            im = impl["inner"]["impl"]
            if im.get("is_synthetic") or im.get("blanket_impl"):
                continue
            if im.get("trait"):
                out.add(f"impl {im['trait']['path'].split('::')[-1]} for {path}")
                continue
            for m in im["items"]:
                mi = get(m)
                if mi and mi["visibility"] == "public":
                    mk = next(iter(mi["inner"]))
                    out.add(f"{'method' if mk == 'function' else mk} {path}::{mi['name']} {signature(mi)}".rstrip())

    def walk(module, path, seen):
        for i in module["inner"]["module"]["items"]:
            item = get(i)
            if not item or item["visibility"] != "public":
                continue
            kind, inner = next(iter(item["inner"].items()))
            if kind == "use":
                target = get(inner["id"]) if inner.get("id") is not None else None
                if target is None:
                    out.add(f"use {path}::{inner['name']}")
                    continue
                if inner.get("is_glob"):
                    walk(target, path, seen)
                    continue
                item, name = target, inner["name"]
                kind = next(iter(item["inner"]))
            else:
                name = item["name"]
            full = f"{path}::{name}"
            if kind == "module":
                if item["id"] not in seen:
                    out.add(f"mod {full}")
                    walk(item, full, seen | {item["id"]})
                continue
            out.add(f"{kind} {full} {signature(item)}".rstrip())
            if kind in ("struct", "enum", "trait"):
                type_members(full, item)

    root = get(doc["root"])
    walk(root, root["name"], {root["id"]})
    return sorted(out)


def newest_section(text):
    """The CHANGELOG's newest version section, with `[Unreleased]` above
    it when there is one: only they may name what a change did (an older
    version's entry naming the same item does not count)."""
    parts = re.split(r"(?m)^## ", text)[1:]
    if parts and parts[0].startswith("[Unreleased]"):
        return "".join(parts[:2])
    return parts[0] if parts else ""


def bare(line):
    """A line without its signature: `kind path` (what lists written
    before signatures were listed hold)."""
    kind, rest = line.split(" ", 1)
    if kind == "impl":
        return line
    path = re.match(r"\w+(?:::\w+)*", rest).group(0)
    return f"{kind} {path}"


def named(line, changelog):
    """Whether the CHANGELOG names the item of a public-api line: a member
    as `Type::member` (or a longer path ending so), a top-level item as
    `Name`, in backticks, where a signature may follow the name."""
    kind, rest = line.split(" ", 1)
    path = re.match(r"\w+(?:::\w+)*", rest).group(0).split("::")
    if kind == "impl":
        # `impl Trait for xfcc::Type`: the type's entry names the trait.
        trait, _, target = rest.partition(" for ")
        want = [f"{target.split('::')[-1]}", trait]
        return all(re.search(r"`[^`]*\b" + re.escape(w) + r"\b[^`]*`", changelog) for w in want)
    short = "::".join(path[-2:]) if kind in MEMBERS else path[-1]
    return re.search(r"`(?:[\w:]*::)?" + re.escape(short) + r"(?![\w])[^`]*`", changelog) is not None


MEMBERS = ("method", "field", "variant", "assoc_const", "assoc_type", "trait-item")


def moved_key(line):
    """A line's item without its module path: (kind, `Type::member` or
    `Name`, signature). An item whose key is found before and after a
    change under different paths moved with its type (or by itself)."""
    kind, rest = line.split(" ", 1)
    if kind == "impl":
        trait, _, target = rest.partition(" for ")
        return (kind, trait, target.split("::")[-1])
    path = re.match(r"\w+(?:::\w+)*", rest)
    segments = path.group(0).split("::")
    short = "::".join(segments[-2:]) if kind in MEMBERS else segments[-1]
    return (kind, short, rest[path.end():])


def type_named(line, changelog):
    """Whether the CHANGELOG names the type a member belongs to (what a
    member that only moved with its type needs)."""
    kind, rest = line.split(" ", 1)
    if kind == "impl":
        target = rest.partition(" for ")[2].split("::")[-1]
        return re.search(r"`(?:[\w:]*::)?" + re.escape(target) + r"(?![\w])[^`]*`", changelog) is not None
    segments = re.match(r"\w+(?:::\w+)*", rest).group(0).split("::")
    name = segments[-2] if kind in MEMBERS else segments[-1]
    return re.search(r"`(?:[\w:]*::)?" + re.escape(name) + r"(?![\w])[^`]*`", changelog) is not None


def self_test():
    """The naming rules on made-up lists: a check that cannot fail is no
    check."""
    log = "## [Unreleased]\n\n## [0.9.0]\n- `Policy::verify_at` takes a clock; `Widget` moved to `xfcc::parts`.\n\n## [0.8.0]\n- `Policy::new`, `Gadget`.\n"
    section = newest_section(log)
    cases = [
        # (line, named?) against the newest section only.
        ("method xfcc::Policy::verify_at fn(&Self, now: SystemTime)", True),
        ("method xfcc::Policy::new fn() -> Self", False),  # only an older section names it
        ("method xfcc::Rule::verify_at fn(&Self)", False),  # another type's member
        ("method xfcc::Policy::verify fn(&Self)", False),  # a prefix of a named one
        ("struct xfcc::parts::Widget", True),
        ("struct xfcc::Gadget", False),
    ]
    bad = [(line, want) for line, want in cases if named(line, section) != want]
    # A member that moved with its named type passes; one whose signature
    # also changed does not.
    before = {"struct xfcc::Widget", "method xfcc::Widget::spin fn(&Self)"}
    after = {"struct xfcc::parts::Widget", "method xfcc::parts::Widget::spin fn(&Self)", "method xfcc::parts::Widget::turn fn(&Self)"}
    moved = {moved_key(c) for c in before} & {moved_key(c) for c in after}
    unnamed = sorted(c for c in before ^ after if not named(c, section) and not (moved_key(c) in moved and type_named(c, section)))
    if unnamed != ["method xfcc::parts::Widget::turn fn(&Self)"]:
        bad.append(("moved members", unnamed))
    for b in bad:
        print(f"self-test failed: {b}")
    print("public-api self-test:", "failed" if bad else f"{len(cases) + 1} cases as expected")
    return 1 if bad else 0


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "--check"
    if mode == "--self-test":
        return self_test()
    failed = False
    changelog = newest_section((ROOT / "CHANGELOG.md").read_text())
    for crate in CRATES:
        listing = ROOT / "crates" / crate / "public-api.txt"
        now = items(rustdoc_json(crate))
        if mode == "--write":
            listing.write_text("\n".join(now) + "\n")
            print(f"{listing.relative_to(ROOT)}: {len(now)} items")
            continue
        kept = listing.read_text().splitlines() if listing.exists() else []
        if now != kept:
            failed = True
            added, removed = sorted(set(now) - set(kept)), sorted(set(kept) - set(now))
            print(f"{crate}: the public API changed; run .ci/public-api.py --write, and say so in CHANGELOG.md")
            for line in added:
                print(f"  + {line}")
            for line in removed:
                print(f"  - {line}")
            continue
        prev = subprocess.run(["git", "show", f"HEAD~1:crates/{crate}/public-api.txt"], cwd=ROOT, capture_output=True, text=True)
        if prev.returncode == 0:
            before = set(prev.stdout.splitlines())
            current = set(now)
            if not any(" fn" in line for line in before):
                # The previous list predates signatures: compare names.
                current = {bare(line) for line in now}
            changed = sorted(current ^ before)
            # An item found before and now under another path moved (or is
            # re-exported) with its type: naming the type is enough.
            moved = {moved_key(c) for c in before} & {moved_key(c) for c in current}
            unnamed = [
                c
                for c in changed
                if not named(c, changelog)
                and not (moved_key(c) in moved and type_named(c, changelog))
            ]
            if unnamed:
                failed = True
                print(f"{crate}: public items changed since the previous commit but CHANGELOG.md does not name them:")
                for line in unnamed:
                    print(f"  {line}")
        print(f"{crate}: {len(now)} public items, as listed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
