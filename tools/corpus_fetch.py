"""Bring the corpus of real config files (tests/data/real/sources.yaml) onto this machine.

The corpus is other projects' files, pinned by repository, commit and SHA-256; the repository keeps
the list, not the files. This script writes each one, unchanged, to
``tests/data/real/<owner>__<repo>/<path>`` with a ``SOURCE.md`` beside them (repository, commits,
licence and the licence's notice), from one of:

- ``--mirror DIR``: local git directories laid out as ``DIR/<owner>+<repo>/repo`` (bare or not);
- otherwise GitHub, ``https://raw.githubusercontent.com/<owner>/<repo>/<commit>/<path>``.

A repository whose snapshot is too big to bring (MMDetection, MMSegmentation) is pinned by the PyPI
wheel that carries its files instead: ``wheel: mmdet==3.3.0`` with the wheel's own
``wheel_sha256``, and ``in_wheel: mmdet/.mim/``, the folder of the wheel that holds the
repository's tree (``configs/...`` is ``mmdet/.mim/configs/...`` in the wheel). That wheel is
downloaded with ``pip download --no-deps`` into a temporary directory (or taken from
``--wheels DIR``), checked against ``wheel_sha256``, and the listed members are extracted.

Every file is checked against its SHA-256; a mismatch or a missing file is an error naming it.
``tests/test_real_files.py`` and ``tools/corpus_survey.py`` read the files from there.

    python tools/corpus_fetch.py [--mirror /work/.mirror] [--wheels DIR] [--only owner/repo ...]
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
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


def wheel_file(entry: dict[str, Any], wheels: Path | None, temp: Path) -> Path:
    """The pinned wheel of a repository entry: from ``wheels`` if it holds it, else ``pip download``
    into ``temp``; checked against ``wheel_sha256``."""
    requirement = entry["wheel"]
    name, _, version = requirement.partition("==")
    if not version:
        raise ValueError(f"wheel {requirement!r}: pin it as name==version")
    stem = f"{name.replace('-', '_')}-{version}-"
    found = sorted(wheels.glob(f"{stem}*.whl")) if wheels else []
    if not found:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "-d", str(temp),
             requirement],
            capture_output=True, text=True, check=False, timeout=600,
        )  # fmt: skip
        found = sorted(temp.glob(f"{stem}*.whl"))
        if done.returncode != 0 or not found:
            raise FileNotFoundError(f"pip download {requirement}: {done.stderr.strip()[-300:] or 'no wheel'}")
    digest = hashlib.sha256(found[0].read_bytes()).hexdigest()
    if digest != entry["wheel_sha256"]:
        raise ValueError(f"{found[0].name}: SHA-256 {digest} is not the pinned {entry['wheel_sha256']}")
    return found[0]


def _from_wheel(wheel: Path, entry: dict[str, Any], path: str) -> bytes:
    member = entry["in_wheel"] + path
    with zipfile.ZipFile(wheel) as archive:
        try:
            return archive.read(member)
        except KeyError:
            raise FileNotFoundError(f"{wheel.name}: no {member}") from None


def source_md(repo: str, entry: dict[str, Any]) -> str:
    """The SOURCE.md of one repository's files: where they come from and under which licence."""
    if "wheel" in entry:
        origin = [
            f"- Repository: {entry['url']}, as its PyPI wheel carries it: `{entry['wheel']}` (SHA-256 "
            f"{entry['wheel_sha256']}), members `{entry['in_wheel']}<path>`",
            f"- Licence: {entry['licence']}; the full text is the wheel's `*.dist-info/LICENSE`",
        ]
    else:
        commits = sorted({f["commit"] for f in entry["files"].values()})
        origin = [
            f"- Repository: {entry['url']}",
            f"- Commits: {', '.join(commits)} (each file's own commit is in tests/data/real/sources.yaml)",
            f"- Licence: {entry['licence']}; the full text is the repository's LICENSE file at those commits",
        ]
    lines = [
        f"# Files from {repo}",
        "",
        *origin,
        "- Files are copied unchanged (SHA-256 checked), for testing `sched` on real configs.",
        "",
        "## Notice",
        "",
        *[f"    {line}" for line in entry["notice"]],
        "",
    ]
    return "\n".join(lines)


def fetch(
    sources: dict[str, Any], mirror: Path | None, only: set[str] | None = None, wheels: Path | None = None
) -> int:
    """Write every file of ``sources``; the number written."""
    written = 0
    with tempfile.TemporaryDirectory(prefix="corpus_fetch_") as temp:
        for repo, entry in sources.items():
            if not only or repo in only:
                written += _fetch_repo(repo, entry, mirror, wheels, Path(temp))
    return written


def _fetch_repo(repo: str, entry: dict[str, Any], mirror: Path | None, wheels: Path | None, temp: Path) -> int:
    written = 0
    base = local_dir(repo)
    wheel: Path | None = None
    for path, pin in entry["files"].items():
        target = base / path
        if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == pin["sha256"]:
            continue
        if "wheel" in entry:
            wheel = wheel or wheel_file(entry, wheels, temp)
            where, data = f"{entry['wheel']}:{entry['in_wheel']}{path}", _from_wheel(wheel, entry, path)
        else:
            where = f"{repo}@{pin['commit']}:{path}"
            data = (
                _from_mirror(mirror, repo, pin["commit"], path) if mirror else _from_github(repo, pin["commit"], path)
            )
        digest = hashlib.sha256(data).hexdigest()
        if digest != pin["sha256"]:
            raise ValueError(f"{where}: SHA-256 {digest} is not the pinned {pin['sha256']}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written += 1
    base.mkdir(parents=True, exist_ok=True)
    (base / "SOURCE.md").write_text(source_md(repo, entry))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirror", type=Path, help="local git mirrors: DIR/<owner>+<repo>/repo")
    parser.add_argument("--wheels", type=Path, help="a directory holding the pinned wheels (else pip downloads them)")
    parser.add_argument("--only", nargs="*", help="only these owner/repo")
    args = parser.parse_args(argv)
    sources = yaml.safe_load((REAL / "sources.yaml").read_text())
    try:
        written = fetch(sources, args.mirror, set(args.only) if args.only else None, args.wheels)
    except (OSError, ValueError) as exc:
        print(f"corpus_fetch: error: {exc}", file=sys.stderr)
        return 1
    total = sum(len(e["files"]) for e in sources.values())
    print(f"corpus_fetch: {written} files written, {total} in the corpus, under {REAL}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
