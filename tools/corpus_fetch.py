"""Bring the corpus of real config files (tests/data/real/sources.yaml) onto this machine.

The corpus is other projects' files, pinned by repository, commit and SHA-256; the repository keeps
the list, not the files. This script writes each one, unchanged, to
``tests/data/real/<owner>__<repo>/<path>`` with a ``SOURCE.md`` beside them (repository, commits,
licence and the licence's notice), from one of:

- ``--mirror DIR``: local git directories laid out as ``DIR/<owner>+<repo>/repo`` (bare or not);
- otherwise GitHub, ``https://raw.githubusercontent.com/<owner>/<repo>/<commit>/<path>``.

Every file is checked against its SHA-256; a mismatch or a missing file is an error naming it.
``tests/test_real_files.py`` and ``tools/corpus_survey.py`` read the files from there.

    python tools/corpus_fetch.py [--mirror /work/.mirror] [--only owner/repo ...]
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "data" / "real"


def local_dir(repo: str) -> Path:
    """Where the files of ``owner/repo`` are written."""
    return REAL / repo.replace("/", "__")


def _from_mirror(mirror: Path, repo: str, commit: str, path: str) -> bytes:
    git_dir = mirror / repo.replace("/", "+") / "repo"
    done = subprocess.run(
        ["git", "-C", str(git_dir), "show", f"{commit}:{path}"], capture_output=True, check=False, timeout=60
    )
    if done.returncode != 0:
        raise FileNotFoundError(f"{repo}@{commit}:{path}: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def _from_github(repo: str, commit: str, path: str) -> bytes:
    url = f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"
    with urllib.request.urlopen(url, timeout=60) as answer:  # noqa: S310 - a fixed https URL
        return answer.read()


def source_md(repo: str, entry: dict[str, Any]) -> str:
    """The SOURCE.md of one repository's files: where they come from and under which licence."""
    commits = sorted({f["commit"] for f in entry["files"].values()})
    lines = [
        f"# Files from {repo}",
        "",
        f"- Repository: {entry['url']}",
        f"- Commits: {', '.join(commits)} (each file's own commit is in tests/data/real/sources.yaml)",
        f"- Licence: {entry['licence']}; the full text is the repository's LICENSE file at those commits",
        "- Files are copied unchanged (SHA-256 checked), for testing `sched` on real configs.",
        "",
        "## Notice",
        "",
        *[f"    {line}" for line in entry["notice"]],
        "",
    ]
    return "\n".join(lines)


def fetch(sources: dict[str, Any], mirror: Path | None, only: set[str] | None = None) -> int:
    """Write every file of ``sources``; the number written."""
    written = 0
    for repo, entry in sources.items():
        if only and repo not in only:
            continue
        base = local_dir(repo)
        for path, pin in entry["files"].items():
            target = base / path
            if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == pin["sha256"]:
                continue
            data = (
                _from_mirror(mirror, repo, pin["commit"], path) if mirror else _from_github(repo, pin["commit"], path)
            )
            digest = hashlib.sha256(data).hexdigest()
            if digest != pin["sha256"]:
                raise ValueError(f"{repo}@{pin['commit']}:{path}: SHA-256 {digest} is not the pinned {pin['sha256']}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            written += 1
        base.mkdir(parents=True, exist_ok=True)
        (base / "SOURCE.md").write_text(source_md(repo, entry))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirror", type=Path, help="local git mirrors: DIR/<owner>+<repo>/repo")
    parser.add_argument("--only", nargs="*", help="only these owner/repo")
    args = parser.parse_args(argv)
    sources = yaml.safe_load((REAL / "sources.yaml").read_text())
    try:
        written = fetch(sources, args.mirror, set(args.only) if args.only else None)
    except (OSError, ValueError) as exc:
        print(f"corpus_fetch: error: {exc}", file=sys.stderr)
        return 1
    total = sum(len(e["files"]) for e in sources.values())
    print(f"corpus_fetch: {written} files written, {total} in the corpus, under {REAL}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
