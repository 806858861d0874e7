"""Re-run every ``$ sched ...`` command pasted in README.md and docs/*.md and paste what the current build prints.

    .venv/bin/python tools/readme_outputs.py [--check] [FILE ...]

Each ```` ```console ```` block holds commands (lines starting with ``$ ``), each followed by its
output. A command with a pipe runs in a shell, as a user's pipe would; any other runs on a
pseudo-terminal of 100 columns (``<!-- columns: N -->`` on the line before the block sets
another width), as a user at a terminal sees it, colours removed. A command that writes a file
(``-o``) runs too, so that the file is regenerated. A command shown without output (an example to
type) and blocks indented inside lists are left alone. Commands run in parallel, from the
repository's root.
With ``--check`` nothing is written and the exit code says whether every file is current.
tests/test_docs_outputs.py imports ``doc_files``, ``pasted`` and ``run_all`` from here and checks the same
outputs in CI.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_BLOCK = re.compile(r"^(?:<!-- columns: (\d+) -->\n)?```console\n(.*?)^```", re.S | re.M)
DEFAULT_COLUMNS = 100


@dataclass(frozen=True)
class Pasted:
    """One ``$ command`` of a console block, the width it runs at, and the output pasted under it."""

    command: str
    columns: int
    output: str
    line: int  # 1-based line of the command in its file

    @property
    def writes(self) -> bool:
        """Whether the command writes a file (``-o``), so that it runs even without pasted output."""
        return "-o" in shlex.split(self.command.split("|")[0])

    @property
    def runs(self) -> bool:
        """A command shown without output and writing nothing is an example to type: it does not run."""
        return bool(self.output) or self.writes


def doc_files() -> list[Path]:
    """README.md and every page under docs/, the files whose outputs are kept current."""
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def _parse(text: str, on_command: Callable[[Pasted], Iterable[str]]) -> str:
    """Rebuild ``text``, replacing each command's output with what ``on_command`` gives for it."""

    def block(match: re.Match[str]) -> str:
        columns = int(match.group(1) or DEFAULT_COLUMNS)
        first = text.count("\n", 0, match.start(2)) + 1
        lines = match.group(2).splitlines()
        out: list[str] = []
        i = 0
        while i < len(lines):
            line = lines[i]
            i += 1
            if not line.startswith("$ "):
                out.append(line)
                continue
            at = first + i - 1
            old = []
            while i < len(lines) and not lines[i].startswith("$ "):
                old.append(lines[i])
                i += 1
            out.append(line)
            out.extend(on_command(Pasted(line[2:], columns, "\n".join(old), at)))
        head = f"<!-- columns: {match.group(1)} -->\n" if match.group(1) else ""
        return head + "```console\n" + "\n".join(out) + "\n```"

    return _BLOCK.sub(block, text)


def pasted(text: str) -> list[Pasted]:
    """Every command pasted in ``text``'s console blocks, in order (including those that do not run)."""
    found: list[Pasted] = []

    def collect(command: Pasted) -> list[str]:
        found.append(command)
        return command.output.splitlines()

    _parse(text, collect)
    return found


def refresh(text: str, outputs: Mapping[tuple[str, int], str]) -> str:
    """``text`` with the output of each command that runs replaced by ``outputs[(command, columns)]``."""
    return _parse(
        text,
        lambda c: outputs[(c.command, c.columns)].splitlines() if c.runs else c.output.splitlines(),
    )


def run(command: str, columns: int, cwd: Path = REPO) -> str:
    """What ``command`` prints, as pasted: stdout and stderr, trailing blanks stripped."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "COLUMNS": str(columns)}
    env.pop("NO_COLOR", None)
    if "|" in command:
        done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=cwd, env=env)
        text = done.stdout + done.stderr
    else:
        # script(1) gives the command a terminal, as a user at a shell has.
        done = subprocess.run(
            ["script", "-qec", command, "/dev/null"], capture_output=True, text=True, cwd=cwd, env=env
        )
        text = _ANSI.sub("", done.stdout).replace("\r\n", "\n")
    return "\n".join(line.rstrip() for line in text.rstrip("\n").splitlines())


def run_all(commands: Iterable[tuple[str, int]], cwd: Path = REPO) -> dict[tuple[str, int], str]:
    """Run each distinct ``(command, columns)`` once, several at a time."""
    keys = list(dict.fromkeys(commands))
    with ThreadPoolExecutor(max_workers=2 * (os.cpu_count() or 2)) as pool:
        results = pool.map(lambda key: run(*key, cwd=cwd), keys)
        return dict(zip(keys, results, strict=True))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether the files are current")
    parser.add_argument("files", nargs="*", type=Path, help="files to refresh (default: README.md and docs/*.md)")
    args = parser.parse_args()
    files = [path.resolve() for path in args.files] or doc_files()
    texts = {path: path.read_text(encoding="utf-8") for path in files}
    wanted = [(c.command, c.columns) for text in texts.values() for c in pasted(text) if c.runs]
    outputs = run_all(wanted)
    stale = 0
    for path, before in texts.items():
        after = refresh(before, outputs)
        if after == before:
            continue
        if args.check:
            print(f"{path.relative_to(REPO)}: some pasted outputs differ from the current build", file=sys.stderr)
            stale += 1
        else:
            path.write_text(after, encoding="utf-8")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
