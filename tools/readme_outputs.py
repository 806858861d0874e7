"""Re-run every ``$ sched ...`` command pasted in README.md and paste what the current build prints.

    .venv/bin/python tools/readme_outputs.py [--check]

Each ```` ```console ```` block holds commands (lines starting with ``$ ``), each followed by its
output. A command with a pipe runs in a shell, as a user's pipe would; any other runs on a
pseudo-terminal of 100 columns (``<!-- columns: N -->`` on the line before the block sets
another width), as a user at a terminal sees it, colours removed. A command that writes a file
(``-o``) runs too, so that the file is regenerated. A command shown without output (an example to
type) and blocks indented inside lists are left alone.
With ``--check`` nothing is written and the exit code says whether README.md is current.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_BLOCK = re.compile(r"^(?:<!-- columns: (\d+) -->\n)?```console\n(.*?)^```", re.S | re.M)


def run(command: str, columns: int) -> str:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "COLUMNS": str(columns)}
    env.pop("NO_COLOR", None)
    if "|" in command:
        done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=REPO, env=env)
        text = done.stdout + done.stderr
    else:
        # script(1) gives the command a terminal, as a user at a shell has.
        done = subprocess.run(
            ["script", "-qec", command, "/dev/null"], capture_output=True, text=True, cwd=REPO, env=env
        )
        text = _ANSI.sub("", done.stdout).replace("\r\n", "\n")
    return "\n".join(line.rstrip() for line in text.rstrip("\n").splitlines())


def refresh(text: str) -> str:
    def block(match: re.Match[str]) -> str:
        columns = int(match.group(1) or 100)
        lines = match.group(2).splitlines()
        out: list[str] = []
        i = 0
        while i < len(lines):
            line = lines[i]
            i += 1
            if not line.startswith("$ "):
                out.append(line)
                continue
            command = line[2:]
            old = []
            while i < len(lines) and not lines[i].startswith("$ "):
                old.append(lines[i])
                i += 1
            writes = "-o" in shlex.split(command.split("|")[0])
            out.append(line)
            if not old and not writes:
                continue  # a command shown without its output, as an example to type
            out.extend(run(command, columns).splitlines())
        head = f"<!-- columns: {match.group(1)} -->\n" if match.group(1) else ""
        return head + "```console\n" + "\n".join(out) + "\n```"

    return _BLOCK.sub(block, text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether README.md is current")
    args = parser.parse_args()
    readme = REPO / "README.md"
    before = readme.read_text(encoding="utf-8")
    after = refresh(before)
    if args.check:
        if after != before:
            print("README.md: some pasted outputs differ from the current build", file=sys.stderr)
            return 1
        return 0
    readme.write_text(after, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
