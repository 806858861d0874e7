"""Launch scripts split into words as bash would, without running them: quotes, continuations,
assignments, arrays and the expansions a script assigns itself; anything else named."""

from __future__ import annotations

from sched_cli.readers.shell import Word, parse_script


def words(text: str) -> list[list[str]]:
    return [[w.text for w in command] for command in parse_script(text).commands]


def test_continuations_quotes_and_equals():
    text = "python pretrain_gpt.py \\\n  --lr '3e-4' --min-lr=\"1e-5\" \\\n  --name 'a b' --x a\\ b # a comment\n"
    assert words(text) == [
        ["python", "pretrain_gpt.py", "--lr", "3e-4", "--min-lr=1e-5", "--name", "a b", "--x", "a b"]
    ]


def test_variables_arrays_and_arithmetic():
    text = """
GPUS=8
NODES=2
WORLD=$(( $GPUS * NODES ))
LR=3e-4
ARGS=(
    --lr $LR    # peak
    --name "x y"
)
MORE="--min-lr 1e-5 --seq-length ${SEQ:-4096}"
export CUDA_DEVICE_MAX_CONNECTIONS=1
torchrun --nproc_per_node $GPUS ${ARGS[@]} $MORE --w $WORLD; echo done
"""
    script = parse_script(text)
    assert [[w.text for w in c] for c in script.commands] == [
        # Unquoted ${ARGS[@]} splits "x y" again, as bash does.
        ["torchrun", "--nproc_per_node", "8", "--lr", "3e-4", "--name", "x", "y"]
        + ["--min-lr", "1e-5", "--seq-length", "4096", "--w", "16"],
        ["echo", "done"],
    ]
    assert script.defaults == {"SEQ": "4096"}
    assert words('A=(--name "x y")\nrun "${A[@]}" "${A[*]}"') == [["run", "--name", "x y", "--name x y"]]


def test_what_the_script_does_not_say_is_named():
    (command,) = parse_script('CKPT=$1\nrun --save $CKPT --data "$DATA/x" --n $(nproc) --m `hostname`\n').commands
    assert command[2] == Word("$1", ("$1",))
    assert command[4] == Word("$DATA/x", ("$DATA",))
    assert command[6].unresolved == ("$(nproc)",) and command[8].unresolved == ("`hostname`",)
    assert parse_script("x='a b'\necho '$x' \"$x\"").commands == [[Word("echo"), Word("$x"), Word("a b")]]
