#!/usr/bin/env python3
"""The public API of the library crates, one item a line, from rustdoc's
JSON (built on the stable toolchain with RUSTC_BOOTSTRAP, as
cargo-semver-checks does): modules, types, functions, constants, traits
and their items, enum variants, public fields, inherent methods and
associated constants, and the traits each type implements (beside the
auto and blanket ones). Names, not signatures: a rename, an addition or a
removal shows; a changed argument type does not.

  .ci/public-api.py --check   compare with crates/*/public-api.txt; fail on
                              any difference, or on an item added or removed
                              since the previous commit's list that
                              CHANGELOG.md does not name
  .ci/public-api.py --write   rewrite the lists
"""
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
                        out.add(f"field {path}::{fi['name']}")
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
                    out.add(f"{'method' if mk == 'function' else mk} {path}::{mi['name']}")

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
            out.add(f"{kind} {full}")
            if kind in ("struct", "enum", "trait"):
                type_members(full, item)

    root = get(doc["root"])
    walk(root, root["name"], {root["id"]})
    return sorted(out)


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "--check"
    failed = False
    changelog = (ROOT / "CHANGELOG.md").read_text()
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
            changed = sorted(set(now) ^ before)
            unnamed = [c for c in changed if c.split()[-1].split("::")[-1] not in changelog]
            if unnamed:
                failed = True
                print(f"{crate}: public items changed since the previous commit but CHANGELOG.md does not name them:")
                for line in unnamed:
                    print(f"  {line}")
        print(f"{crate}: {len(now)} public items, as listed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
