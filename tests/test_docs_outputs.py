"""Every ``$ sched ...`` output pasted in README.md and docs/*.md is what the current build prints.

The commands are found and run by tools/readme_outputs.py's own functions (the tool that pastes
them), each in a subprocess, several at a time, from a copy of the repository made of links, so
that a command writing a file (``-o docs/images/...``) writes into a scratch directory and leaves
the checked-out files alone.
"""

from __future__ import annotations

import difflib
import importlib.util
import shlex
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tool():
    spec = importlib.util.spec_from_file_location("readme_outputs", ROOT / "tools" / "readme_outputs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


tool = _tool()
PASTED = [
    (path.relative_to(ROOT).as_posix(), command)
    for path in tool.doc_files()
    for command in tool.pasted(path.read_text(encoding="utf-8"))
    if command.runs
]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Path:
    """A copy of the repository made of links, with an empty docs/images/ for the commands to write."""
    sandbox = tmp_path_factory.mktemp("repo")
    for entry in ROOT.iterdir():
        # The inputs (sample_specs/, tests/data/) are in directories; a file at the top, such as
        # the report a previous run wrote, would be overwritten through its link.
        if entry.is_dir() and entry.name != "docs":
            (sandbox / entry.name).symlink_to(entry)
    (sandbox / "docs" / "images").mkdir(parents=True)
    return sandbox


@pytest.fixture(scope="module")
def outputs(sandbox) -> dict:
    """Every pasted command's output now, run in parallel from a linked copy of the repository."""
    if shutil.which("script") is None:
        pytest.skip("script(1) (util-linux) is needed to give the commands a terminal")
    return tool.run_all(((c.command, c.columns) for _, c in PASTED), cwd=sandbox)


def png_texts(path: Path) -> dict[str, str]:
    """The tEXt chunks of a PNG file (keyword: text), read by hand from its chunks."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    texts, at = {}, 8
    while at < len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + size]
        if kind == b"tEXt":
            key, _, text = body.partition(b"\0")
            texts[key.decode("latin-1")] = text.decode("latin-1")
        at += 12 + size
    return texts


IMAGES = sorted(
    {
        arg
        for _, c in PASTED
        for arg in shlex.split(c.command.split("|")[0])
        if arg.startswith("docs/images/") and arg.endswith(".png")
    }
)


def test_the_docs_draw_their_pictures():
    # README's `sched check` picture among them: the check below would pass vacuously without any.
    assert "docs/images/check.png" in IMAGES and len(IMAGES) >= 3


@pytest.mark.parametrize("image", IMAGES)
def test_pasted_pictures_are_current(image, outputs, sandbox):
    """A picture a pasted command draws holds the digest of the chart it drew (the plan, the
    logged points, the marks...): the committed one must be the one the command draws now."""
    from sched_cli.render.figure import DIGEST_KEY

    fresh = png_texts(sandbox / image).get(DIGEST_KEY)
    assert fresh, f"{image}: the command did not write a PNG with its chart's digest"
    committed = png_texts(ROOT / image).get(DIGEST_KEY)
    assert committed == fresh, f"{image} is not what its command draws now (run tools/readme_outputs.py)"


def test_the_docs_paste_outputs():
    # The check would pass vacuously if the parser found nothing.
    assert len(PASTED) >= 20
    assert {where for where, _ in PASTED} >= {"README.md", "docs/commands.md", "docs/hf.md", "docs/timm.md"}


@pytest.mark.parametrize(("where", "pasted"), PASTED, ids=[f"{w}:{c.line}" for w, c in PASTED])
def test_pasted_output_is_current(where, pasted, outputs):
    now = outputs[(pasted.command, pasted.columns)]
    if now != pasted.output:
        diff = "\n".join(
            difflib.unified_diff(pasted.output.splitlines(), now.splitlines(), "pasted", "now", lineterm="")
        )
        pytest.fail(
            f"{where}, line {pasted.line}: `{pasted.command}` prints something else now "
            f"(run tools/readme_outputs.py to paste it):\n{diff}"
        )


def test_refresh_replaces_outputs_and_keeps_the_rest():
    text = (
        "intro\n<!-- columns: 80 -->\n```console\n$ sched a\nold\n$ sched b\n```\n"
        "```console\n$ sched plot x -o y.png\n```\n  ```console\n  $ sched c\n  kept\n  ```\n"
    )
    found = tool.pasted(text)
    assert [(c.command, c.columns, c.output, c.line, c.runs) for c in found] == [
        ("sched a", 80, "old", 4, True),
        ("sched b", 80, "", 6, False),
        ("sched plot x -o y.png", 100, "", 9, True),
    ]
    new = tool.refresh(text, {("sched a", 80): "new\nlines", ("sched plot x -o y.png", 100): "wrote y.png"})
    assert new == text.replace("old\n", "new\nlines\n").replace("-o y.png\n", "-o y.png\nwrote y.png\n")
