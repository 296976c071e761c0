#!/usr/bin/env python3
"""Every relative link and #anchor in the README, UPGRADING.md, the crates'
READMEs and the guide (docs/src) points at a file that exists and, for an
anchor, at a heading of that file (GitHub's slugs). Exit 1 with the broken
ones."""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def slug(heading):
    t = heading.strip().lower()
    t = re.sub(r"[^\w\- ]", "", t)
    return t.replace(" ", "-")


def anchors(path):
    out, fence = set(), False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            fence = not fence
        m = re.match(r"^#{1,6} (.*)", line)
        if m and not fence:
            out.add(slug(m.group(1)))
    return out


def links(path):
    text, fence, out = path.read_text(), False, []
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            fence = not fence
            continue
        if fence:
            continue
        for m in re.finditer(r"\]\(([^)\s]+)\)", re.sub(r"`[^`]*`", "", line)):
            out.append((n, m.group(1)))
    return out


def main():
    pages = [ROOT / "README.md", ROOT / "UPGRADING.md", *sorted((ROOT / "docs" / "src").rglob("*.md"))]
    pages += sorted((ROOT / "crates").glob("*/README.md"))
    broken, checked = [], 0
    for page in pages:
        for n, target in links(page):
            if re.match(r"^[a-z]+:", target):
                continue  # http(s), mailto: not checked here
            file, _, anchor = target.partition("#")
            dest = (page.parent / file).resolve() if file else page
            checked += 1
            if not dest.exists():
                broken.append(f"{page.relative_to(ROOT)}:{n}: {target} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{page.relative_to(ROOT)}:{n}: {target} (no such heading)")
    for b in broken:
        print(b)
    print(f"links: {checked} checked in {len(pages)} pages, {len(broken)} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
