"""mkdocs hook: links from one language's guide to the other's (`../ja/index.md` from `docs/en/`).

The other language is a separate site built beside this one (`site/en/`, `site/ja/`), so mkdocs
cannot resolve such a link itself. This hook checks that the target page exists, and writes the
link as the built page's relative URL; a link to a missing page fails the build.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s#]+\.md)(#[^)\s]*)?\)")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    docs_dir = Path(config["docs_dir"]).resolve()
    languages_dir = docs_dir.parent
    source = page.file.src_uri

    def rewrite(match: re.Match[str]) -> str:
        text, target, anchor = match.group(1), match.group(2), match.group(3) or ""
        if "://" in target:
            return match.group(0)
        resolved = (docs_dir / posixpath.dirname(source) / target).resolve()
        if resolved.is_relative_to(docs_dir):
            return match.group(0)  # mkdocs checks links inside this guide itself
        if not resolved.is_relative_to(languages_dir) or resolved.parent == languages_dir:
            raise PluginError(f"{source}: link {target!r} leaves the guides")
        if not resolved.is_file():
            raise PluginError(f"{source}: link {target!r}: no such page {resolved}")
        href = target[: -len(".md")] + ".html" + anchor
        return f'<a href="{href}">{text}</a>'

    return _LINK.sub(rewrite, markdown)
