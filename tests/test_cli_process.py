"""sched as a Unix process: closed pipes, full disks, closed streams, signals, its own bugs.

Every test runs the real command in a fresh Python (``run_sched`` in conftest), with real pipes,
files, resource limits and signals: the behaviour under test lives at the edges of the process,
where Typer's in-process runner cannot reach.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import REPO, one_error_line, run_sched, sched_command

RESNET = "sample_specs/resnet50_imagenet.yaml"
KEEP = "yesterday's good export\n"
#: A run long enough that exporting it to a file takes many seconds.
LONG = ["export", "cosine", "--max-duration", "40000000ba"]

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX pipes, signals and resource limits")


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


# -- closed pipes -------------------------------------------------------------------------------
COMMANDS = {
    "export": ["export", RESNET],
    "export --every": ["export", RESNET, "--every", "25025"],
    "table": ["table", RESNET],
    "plot": ["plot", RESNET, "--width", "100"],
    "compare": ["compare", RESNET, "--ssr", "0.5", "--ssr", "1"],
    "list": ["list"],
    "describe": ["describe", "cosine_with_warmup"],
    "validate": ["validate", RESNET],
}


@pytest.mark.parametrize("args", COMMANDS.values(), ids=COMMANDS.keys())
def test_a_pipe_whose_reader_is_gone_ends_quietly(args):
    """The reader closed before sched wrote anything: every write fails with EPIPE."""
    read, write = os.pipe()
    os.close(read)
    try:
        code, _, err = run_sched(*args, stdout=write)
    finally:
        os.close(write)
    assert err == ""
    assert code in (0, 141)


@pytest.mark.parametrize("args", [COMMANDS["export"], COMMANDS["list"], COMMANDS["compare"]], ids=str)
def test_a_reader_that_stops_after_one_line_ends_sched_quietly(args):
    """Like `| head -1`: the reader takes one line and closes the pipe while sched still writes."""
    with subprocess.Popen(sched_command(*args), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        first = process.stdout.readline()
        process.stdout.close()
        err = process.stderr.read()
        code = process.wait(timeout=120)
    assert first.strip()
    assert err == b""
    assert code in (0, 141)


def test_the_readme_pipe_example_prints_six_clean_lines():
    command = " ".join(sched_command("export", RESNET, "--every", "25025")) + " | head -6"
    result = subprocess.run(["bash", "-c", command], cwd=REPO, capture_output=True, text=True, timeout=120)
    lines = result.stdout.splitlines()
    assert len(lines) == 6 and lines[0].startswith("ssr,batch,epoch")
    assert all(line.count(",") == lines[0].count(",") for line in lines)
    assert result.stderr == ""


# -- write failures -----------------------------------------------------------------------------
def test_a_full_disk_on_stdout_is_one_line_and_exit_3():
    with open("/dev/full", "w") as full:
        code, _, err = run_sched(*COMMANDS["export"], stdout=full)
    assert code == 3
    assert "No space left on device" in one_error_line(err)


def test_a_file_size_limit_is_a_full_disk_the_target_untouched_no_temp_left(tmp_path):
    """`ulimit -f`: sched ignores SIGXFSZ itself, so the write fails with EFBIG and it cleans up."""
    out = tmp_path / "out.csv"
    out.write_text(KEEP)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    code, _, err = run_sched("export", "cosine", "--max-duration", "100000ba", "-o", str(out), preexec_fn=limit)
    assert code == 3
    line = one_error_line(err)
    assert str(out) in line and "too large" in line.lower()
    assert out.read_text() == KEEP
    assert leftovers(tmp_path) == []


def test_a_closed_stdout_is_one_line_and_a_file_still_works(tmp_path):
    def close_stdout() -> None:
        os.close(1)

    code, out, err = run_sched(*COMMANDS["export"], stdout=None, preexec_fn=close_stdout)
    assert code == 2
    assert "standard output" in one_error_line(err) and "-o" in err
    target = tmp_path / "ok.csv"
    code, _, err = run_sched(*COMMANDS["export"], "-o", str(target), stdout=None, preexec_fn=close_stdout)
    assert code == 0 and err.startswith("wrote ") and err.endswith(f" rows to {target}\n")
    assert target.read_text().startswith("ssr,batch")


def test_a_file_name_too_long_is_one_line(tmp_path):
    out = tmp_path / ("x" * 300 + ".csv")
    code, _, err = run_sched(*COMMANDS["export"], "-o", str(out))
    assert code == 2
    assert "more than this file system allows" in one_error_line(err)
    assert list(tmp_path.iterdir()) == []


def test_the_longest_legal_file_name_works(tmp_path):
    """252 characters: the temporary name beside it must not be longer than the file system allows."""
    out = tmp_path / ("x" * 248 + ".csv")
    code, _, err = run_sched(*COMMANDS["export"], "--every", "25025", "-o", str(out))
    assert (code, err) == (0, f"wrote 27 rows to {out}\n")
    assert out.read_text().startswith("ssr,batch")
    assert leftovers(tmp_path) == []


MARKING_SPEC = "max_duration: 100ba\nschedulers:\n  - name: marker.py:f\n"
MARKER_CODE = "open('RAN', 'w').close()\n\ndef f(state, ssr=1.0):\n    return 1.0\n"


@pytest.mark.parametrize("spelling", ["same", "dotted", "symlink", "hardlink"])
def test_an_output_that_is_the_spec_is_refused_before_anything_runs(tmp_path, spelling):
    spec = tmp_path / "spec.yaml"
    spec.write_text(MARKING_SPEC)
    (tmp_path / "marker.py").write_text(MARKER_CODE)
    out = {"same": spec, "dotted": tmp_path / "." / "spec.yaml", "symlink": tmp_path / "link.yaml"}.get(spelling)
    if spelling == "symlink":
        out.symlink_to(spec)
    if spelling == "hardlink":
        out = tmp_path / "hard.yaml"
        os.link(spec, out)
    for command in (["export", str(spec), "-f", "csv"], ["plot", str(spec)]):
        code, _, err = run_sched(*command, "-o", str(out), cwd=tmp_path)
        assert code == 2
        assert "is the input" in one_error_line(err)
    assert spec.read_text() == MARKING_SPEC
    assert not (tmp_path / "RAN").exists()


def test_compare_refuses_an_output_that_is_any_of_its_specs(tmp_path):
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    for spec in (first, second):
        spec.write_text(MARKING_SPEC)
    (tmp_path / "marker.py").write_text(MARKER_CODE)
    code, _, err = run_sched("compare", str(first), str(second), "-o", str(second), cwd=tmp_path)
    assert code == 2 and "is the input" in one_error_line(err)
    assert not (tmp_path / "RAN").exists()


def test_a_write_protected_target_is_refused_and_untouched(tmp_path):
    out = tmp_path / "out.csv"
    out.write_text(KEEP)
    out.chmod(0o444)
    code, _, err = run_sched(*COMMANDS["export"], "-o", str(out))
    assert code == 2
    assert "write-protected" in one_error_line(err)
    assert out.read_text() == KEEP
    assert leftovers(tmp_path) == []


def test_an_immutable_target_is_refused_and_untouched(tmp_path):
    """`chattr +i` needs a file system and privileges that allow it; skipped where they do not."""
    out = tmp_path / "out.csv"
    out.write_text(KEEP)
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(out)], capture_output=True).returncode:
        pytest.skip("chattr +i is not available here")
    try:
        code, _, err = run_sched(*COMMANDS["export"], "-o", str(out))
        assert code == 2 and str(out) in one_error_line(err)
        assert out.read_text() == KEEP
    finally:
        subprocess.run(["chattr", "-i", str(out)], check=False)
    assert leftovers(tmp_path) == []


# -- signals ------------------------------------------------------------------------------------
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_during_an_export_removes_the_temp_file(tmp_path, signum):
    out = tmp_path / "big.csv"
    out.write_text(KEEP)
    with subprocess.Popen(
        sched_command(*LONG, "-o", str(out)),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        # A child of a background job may inherit ignored signals: give it the defaults back.
        preexec_fn=lambda: [signal.signal(s, signal.SIG_DFL) for s in (signal.SIGINT, signal.SIGHUP)],
    ) as process:
        deadline = time.monotonic() + 60
        while not leftovers(tmp_path) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        assert leftovers(tmp_path), "the export never started writing"
        process.send_signal(signum)
        err = process.stderr.read().decode()
        code = process.wait(timeout=60)
    assert code == 128 + signum
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert out.read_text() == KEEP
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("delay", [0.02, 0.05, 0.1, 0.2, 0.4])
def test_ctrl_c_during_start_up_prints_no_traceback(delay):
    """A real SIGINT at several moments of start-up (importing the CLI, parsing options, loading
    the spec). It is sent from inside the process, once Python itself has started: an interrupt
    while the interpreter imports its own `site` module is not sched's to handle."""
    prelude = (
        "import os, signal, threading\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        f"timer = threading.Timer({delay}, os.kill, (os.getpid(), signal.SIGINT))\n"
        # A daemon: when sched finishes first, the interpreter's exit must not wait for the timer
        # and take the signal while joining it (a traceback of the test's thread, not sched's).
        "timer.daemon = True\n"
        "timer.start()"
    )
    code, _, err = run_sched("validate", RESNET, prelude=prelude)
    assert "Traceback" not in err, err
    assert code in (130, 0), (code, err)  # interrupted, or finished first


@pytest.mark.parametrize("module", ["typer", "sched_cli.specs", "yaml"])
def test_ctrl_c_while_importing_prints_no_traceback(module):
    """Ctrl-C while `module` is being imported (the CLI's import, then the command's)."""
    prelude = (
        "import sys\n"
        "class Interrupt:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name == {module!r}:\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Interrupt())"
    )
    code, _, err = run_sched("validate", RESNET, prelude=prelude)
    assert code == 130
    assert one_error_line(err) == "sched: interrupted"


def test_ctrl_c_while_parsing_options_prints_one_line():
    """Ctrl-C in the global options' callback, before any command body (typer exits 130 silently
    there; sched still says why it stopped)."""
    prelude = (
        "import functools, sched_cli.cli as cli\n"
        "original = cli.app.registered_callback.callback\n"
        "def interrupt(*args, **kwargs):\n"
        "    raise KeyboardInterrupt\n"
        "cli.app.registered_callback.callback = functools.wraps(original)(interrupt)"
    )
    code, _, err = run_sched("validate", RESNET, prelude=prelude)
    assert code == 130
    assert one_error_line(err) == "sched: interrupted"


# -- our own bugs -------------------------------------------------------------------------------
BUG = (
    "import sched_cli.specs\n"
    "def boom(*args, **kwargs):\n"
    "    raise RuntimeError('deliberate bug')\n"
    "sched_cli.specs.load = boom"
)


def test_an_internal_error_is_one_line_and_exit_3():
    code, out, err = run_sched("validate", RESNET, prelude=BUG)
    assert code == 3 and out == ""
    line = one_error_line(err)
    assert "internal error" in line and "RuntimeError: deliberate bug" in line and "--debug" in line


def test_debug_shows_the_traceback_of_an_internal_error():
    code, _, err = run_sched("--debug", "validate", RESNET, prelude=BUG)
    assert code != 0
    assert "Traceback" in err and "deliberate bug" in err


def test_an_internal_error_outside_a_command_body_is_one_line():
    """`list` has no error handler of its own: the entry point still turns a bug into one line."""
    prelude = "import sched_cli.registry as r\nr.ENTRIES = None"
    code, _, err = run_sched("list", prelude=prelude)
    assert code == 3 and "internal error: TypeError" in one_error_line(err)


# -- usage errors in sched's voice ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["export", RESNET, "--evry", "2"], "sched: error: No such option: --evry; did you mean --every"),
        (["exprot", RESNET], "sched: error: No such command 'exprot'; did you mean 'export'"),
        (["lst"], "sched: error: No such command 'lst'; did you mean 'list'?"),
        (["export", RESNET, "--every", "two"], "sched: error: Invalid value for '--every': 'two' is not a valid"),
        (["export", RESNET, "--every", "0"], "sched: error: Invalid value for '--every': 0"),
        (["plot", RESNET, "--x", "steps"], "sched: error: Invalid value for '--x': 'steps' is not one of 'ep', 'ba'"),
        (["export"], "sched: error: Missing argument 'SPEC'"),
    ],
)
def test_a_mistyped_command_line_is_one_error_line(args, expected):
    """Not click's three-line usage block, nor a validation library's words: one line, exit 2,
    naming the option and value, with a did-you-mean where one is close."""
    code, out, err = run_sched(*args)
    assert code == 2 and out == ""
    line = one_error_line(err)
    assert line.startswith(expected), line
    assert "Usage:" not in err and "Input should" not in err


def test_the_help_and_the_version_still_exit_0():
    code, out, _ = run_sched("export", "--help")
    assert code == 0 and "--max-duration" in out
    code, out, _ = run_sched("--version")
    assert code == 0 and out.startswith("sched ")


def test_a_command_loads_no_error_module_it_does_not_use():
    # user_errors() looks the error classes up among the loaded modules when an error arrives:
    # an export neither imports check nor logs (whose errors it cannot raise).
    code = (
        "import sys\nfrom sched_cli.__main__ import main\n"
        "sys.argv = ['sched', 'export', 'cosine_with_warmup(t_warmup=10ba)', '--max-duration', '10ba']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code\n"
        "loaded = [m for m in ('sched_cli.check', 'sched_cli.logs', 'sched_cli.views_check') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([*sched_command()[:1], "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_every_user_error_class_is_found_and_still_one_line(tmp_path):
    import importlib

    from sched_cli.cli.process import USER_ERRORS, UserError, _user_errors

    for module, name in USER_ERRORS:
        assert issubclass(getattr(importlib.import_module(module), name), Exception)
    assert set(_user_errors()) == {UserError, *(getattr(importlib.import_module(m), n) for m, n in USER_ERRORS)}
    # A CheckError (its module loaded only by check) is still a user error: one line, exit 2.
    plan = tmp_path / "plan.yaml"
    plan.write_text("max_duration: 10ba\nschedulers:\n  - name: constant\n")
    log = tmp_path / "lr.csv"
    log.write_text("step,lr\n1,0.1\n")
    code, out, err = run_sched("check", str(plan), str(log))
    assert code == 2 and out == ""
    assert "no base LR" in one_error_line(err)


def test_an_export_to_a_file_loads_no_rich(tmp_path):
    # Its only words are "wrote N rows to FILE", plain text: rich (about 25 ms) is not loaded for them.
    out = tmp_path / "rows.csv"
    code = (
        "import sys\nfrom sched_cli.__main__ import main\n"
        f"sys.argv = ['sched', 'export', 'cosine', '--max-duration', '100ba', '-o', {str(out)!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code\n"
        "assert not [m for m in sys.modules if m.startswith('rich')]\n"
    )
    done = subprocess.run([*sched_command()[:1], "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"wrote 100 rows to {out}\n" and len(out.read_text().splitlines()) == 101


def test_dash_as_output_is_standard_output_for_export_and_refused_for_images(tmp_path):
    # `-o -` wrote a file named '-' in the working directory; export now writes to standard output, as curl and tar do.
    code, out, err = run_sched("export", "cosine", "--max-duration", "3ba", "-o", "-", "-f", "jsonl", cwd=tmp_path)
    assert code == 0 and err == ""
    assert [json.loads(line)["multiplier"] for line in out.splitlines()] == [1.0, 0.75, 0.2500000000000001]
    for command in (["plot", "cosine", "--max-duration", "3ba"], ["compare", "cosine", "--max-duration", "3ba"]):
        code, out, err = run_sched(*command, "-o", "-", cwd=tmp_path)
        assert code == 2 and out == ""
        assert (
            one_error_line(err)
            == "sched: error: -o -: standard output takes text only (sched export); give a file name"
        )
    assert list(tmp_path.iterdir()) == []
