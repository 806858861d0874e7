"""The words of a launch script's commands, as bash would pass them, without running anything.

Enough of bash for launch scripts and flag files: comments, ``\\``-newline continuations, single
and double quotes, backslash escapes, ``;``/``&&``/``||``/``|`` between commands, assignments
(``NAME=value``, ``export NAME=value``, arrays ``NAME=( ... )`` over several lines, ``+=``), and
the expansions ``$NAME``, ``${NAME}``, ``${NAME[@]}``, ``${NAME[*]}``, ``${NAME:-default}`` and
integer ``$(( ... ))`` of literal values. A value that depends on anything else (a variable not
assigned in the script, a positional ``$1``, a command substitution ``$(...)``) is kept as a word
that names what it depends on (:attr:`Word.unresolved`): whoever needs that value refuses it.
Control flow (``if``, loops, functions) is not followed: every command is read in order.
"""

from __future__ import annotations

import ast
import operator
import re
from dataclasses import dataclass, field

__all__ = ["Word", "Script", "ShellError", "parse_script"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\+?)=")
_OPERATORS = ("&&", "||", ";;", ";", "|", "&")
_DECLARE = ("export", "declare", "local", "readonly", "typeset")


class ShellError(ValueError):
    """Script text that cannot be split into words (an unclosed quote, say)."""


@dataclass(frozen=True)
class Word:
    """One argument of a command. ``unresolved`` names what its text depends on but the script
    does not say (``$DATA_PATH`` from the environment, ``$1``, ``$(nproc)``); then ``text`` holds
    the expansion as written."""

    text: str
    unresolved: tuple[str, ...] = ()


@dataclass
class Script:
    """A script read: its commands (lists of words, assignments applied) and its variables."""

    commands: list[list[Word]] = field(default_factory=list)
    #: Variables assigned with a default from the environment (``${NAME:-8}``), with the default used.
    defaults: dict[str, str] = field(default_factory=dict)


# -- lexing: raw words made of parts -------------------------------------------------------------
# A part is ("lit", text), or ("exp", expression, quoted): an expansion still to be done.
Part = tuple


def _lex(text: str) -> list[list[list[Part] | str]]:
    """Commands of raw words (lists of parts); an array assignment's ``(`` and ``)`` are words ``"("`` /
    ``")"`` of their own, marked by being plain strings."""
    commands: list[list[list[Part] | str]] = []
    command: list[list[Part] | str] = []
    word: list[Part] | None = None
    depth = 0  # inside NAME=( ... )
    i, n = 0, len(text)

    def end_word() -> None:
        nonlocal word
        if word is not None:
            command.append(word)
            word = None

    def end_command() -> None:
        nonlocal command
        end_word()
        if command:
            commands.append(command)
        command = []

    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            if text[i + 1] != "\n":  # backslash-newline joins lines
                word = (word or []) + [("lit", text[i + 1])]
            i += 2
            continue
        if c in " \t\r":
            end_word()
            i += 1
            continue
        if c == "\n":
            if depth:
                end_word()
            else:
                end_command()
            i += 1
            continue
        if c == "#" and word is None:
            while i < n and text[i] != "\n":
                i += 1
            continue
        if c == "(" and word is not None and word and word[-1][0] == "lit" and word[-1][1].endswith("="):
            end_word()
            command.append("(")
            depth += 1
            i += 1
            continue
        if c == ")" and depth:
            end_word()
            command.append(")")
            depth -= 1
            i += 1
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
        if op and not depth:
            end_command()
            i += len(op)
            continue
        if c == "'":
            close = text.find("'", i + 1)
            if close < 0:
                raise ShellError("a single quote is not closed")
            word = (word or []) + [("lit", text[i + 1 : close])]
            i = close + 1
            continue
        if c == '"':
            parts, i = _double_quoted(text, i + 1)
            word = (word or []) + (parts or [("lit", "")])
            continue
        if c == "$" or c == "`":
            expression, i = _expansion(text, i)
            word = (word or []) + [("exp", expression, False)]
            continue
        word = (word or []) + [("lit", c)]
        i += 1
    end_command()
    return commands


def _double_quoted(text: str, i: int) -> tuple[list[Part], int]:
    parts: list[Part] = []
    while i < len(text):
        c = text[i]
        if c == '"':
            return parts, i + 1
        if c == "\\" and i + 1 < len(text) and text[i + 1] in '$`"\\\n':
            if text[i + 1] != "\n":
                parts.append(("lit", text[i + 1]))
            i += 2
            continue
        if c in "$`":
            expression, i = _expansion(text, i)
            parts.append(("exp", expression, True))
            continue
        parts.append(("lit", c))
        i += 1
    raise ShellError("a double quote is not closed")


def _expansion(text: str, i: int) -> tuple[str, int]:
    """The expansion starting at ``text[i]`` (``$`` or a backtick) as written, and where it ends."""
    if text[i] == "`":
        close = text.find("`", i + 1)
        if close < 0:
            raise ShellError("a backtick is not closed")
        return text[i : close + 1], close + 1
    if i + 1 < len(text) and text[i + 1] in "({":
        opening = text[i + 1]
        closing = ")" if opening == "(" else "}"
        depth, j = 0, i + 1
        while j < len(text):
            if text[j] == opening:
                depth += 1
            elif text[j] == closing:
                depth -= 1
                if depth == 0:
                    return text[i : j + 1], j + 1
            j += 1
        raise ShellError(f"{text[i : i + 2]!r} is not closed")
    match = _NAME.match(text, i + 1)
    if match:
        return text[i : match.end()], match.end()
    if i + 1 < len(text) and (text[i + 1].isdigit() or text[i + 1] in "@*#?$!-"):
        return text[i : i + 2], i + 2
    return "$", i + 1  # a lone dollar is itself


# -- expansion ------------------------------------------------------------------------------------
class _Unresolved:
    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names


Value = list[Word]  # a variable: one word (a string) or several (an array)


class _Interpreter:
    def __init__(self) -> None:
        self.variables: dict[str, Value] = {}
        self.script = Script()

    def run(self, text: str) -> Script:
        for raw in _lex(text):
            self._command(raw)
        return self.script

    def _command(self, raw: list[list[Part] | str]) -> None:
        i = 0
        while i < len(raw) and isinstance(raw[i], list) and _first_literal(raw[i]) in _DECLARE:
            i += 1  # export NAME=value: the assignment that follows is what matters
        assigned = False
        while i < len(raw):
            word = raw[i]
            target = _assignment(word) if isinstance(word, list) else None
            if target is None:
                break
            name, append, value_parts = target
            if i + 1 < len(raw) and raw[i + 1] == "(" and not value_parts:
                close = raw.index(")", i + 1) if ")" in raw[i + 1 :] else len(raw)
                items: Value = []
                for element in raw[i + 2 : close]:
                    items.extend(self._expand(element, split=True))  # type: ignore[arg-type]
                self.variables[name] = (self.variables.get(name, []) if append else []) + items
                i = close + 1
            else:
                value = self._join(self._expand(value_parts, split=False))
                if append and name in self.variables:
                    value = self._join([*self.variables[name][:1], value])
                self.variables[name] = [value]
                i += 1
            assigned = True
        words: list[Word] = []
        for word in raw[i:]:
            if isinstance(word, list):
                words.extend(self._expand(word, split=True))
        if words and not (assigned and not words):
            self.script.commands.append(words)

    @staticmethod
    def _join(words: Value) -> Word:
        return Word(" ".join(w.text for w in words), tuple(n for w in words for n in w.unresolved))

    def _expand(self, parts: list[Part], split: bool) -> Value:
        """A raw word's words: unquoted expansions split on blanks (arrays give one word each)."""
        out: list[Word] = []
        current: Word | None = None
        for part in parts:
            if part[0] == "lit":
                current = _concat(current, Word(part[1]))
                continue
            _, expression, quoted = part
            value = self._value(expression)
            if isinstance(value, _Unresolved):
                current = _concat(current, Word(expression, value.names))
                continue
            pieces = value
            if split and not quoted:
                pieces = [piece for w in value for piece in _split(w)]
            elif not expression.endswith("[@]}") and len(value) > 1:
                pieces = [self._join(value)]
            if not pieces:
                continue
            current = _concat(current, pieces[0])
            if len(pieces) > 1:
                out.append(current)
                out.extend(pieces[1:-1])
                current = pieces[-1]
        if current is not None:
            out.append(current)
        return out

    def _value(self, expression: str) -> Value | _Unresolved:
        if expression == "$":
            return [Word("$")]
        if expression.startswith("$((") and expression.endswith("))"):
            return self._arithmetic(expression[3:-2], expression)
        if expression.startswith("`") or expression.startswith("$("):
            return _Unresolved((expression,))
        body = expression[2:-1] if expression.startswith("${") else expression[1:]
        default = None
        if ":-" in body:
            body, default = body.split(":-", 1)
        whole = body.endswith("[@]") or body.endswith("[*]")
        name = body[:-3] if whole else body
        if not _NAME.fullmatch(name):
            return _Unresolved((expression,))
        if name in self.variables:
            value = self.variables[name]
            return value if whole else value[:1]
        if default is not None:
            words = self._expand(_lex_literal(default), split=False)
            if not any(w.unresolved for w in words):
                self.script.defaults[name] = " ".join(w.text for w in words)
            return words
        return _Unresolved((f"${name}",))

    def _arithmetic(self, body: str, expression: str) -> Value | _Unresolved:
        missing: list[str] = []

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(2)
            value = self.variables.get(name)
            if not value or value[0].unresolved:
                missing.append(f"${name}")
                return "0"
            return value[0].text

        text = re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?|\b([A-Za-z_][A-Za-z0-9_]*)\b", substitute, body)
        if missing:
            return _Unresolved(tuple(missing))
        try:
            return [Word(str(_integer(ast.parse(text.strip(), mode="eval").body)))]
        except (SyntaxError, ValueError, ZeroDivisionError, RecursionError):
            return _Unresolved((expression,))


_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv}
_ARITHMETIC[ast.Div] = lambda a, b: int(a / b) if b else 1 // 0  # bash divides integers toward zero
_ARITHMETIC[ast.Mod] = operator.mod


def _integer(node: ast.AST) -> int:
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        return _ARITHMETIC[type(node.op)](_integer(node.left), _integer(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_integer(node.operand)
    raise ValueError("not integer arithmetic")


def _split(word: Word) -> list[Word]:
    """An unquoted expansion's words. A word that holds an unresolved expansion (its text as written) depends on
    it; the others of the same value do not (``OPTIONS="--lr 1e-4 --save $OUT"``: only the word after ``--save``
    depends on ``$OUT``). A dependency no word shows is kept on every word."""

    def mentions(text: str, name: str) -> bool:
        return name in text or (name.startswith("$") and "${" + name[1:] in text)

    texts = word.text.split()
    hidden = tuple(n for n in word.unresolved if not any(mentions(t, n) for t in texts))
    return [Word(t, tuple(n for n in word.unresolved if mentions(t, n)) + hidden) for t in texts]


def _concat(a: Word | None, b: Word) -> Word:
    return b if a is None else Word(a.text + b.text, a.unresolved + b.unresolved)


def _first_literal(parts: list[Part]) -> str | None:
    """The word's text when it is all literal (no expansion), else ``None``."""
    return "".join(p[1] for p in parts) if all(p[0] == "lit" for p in parts) else None


def _assignment(parts: list[Part]) -> tuple[str, bool, list[Part]] | None:
    """``NAME=value`` / ``NAME+=value``: the name, whether it appends, and the value's parts."""
    literal = ""
    for k, part in enumerate(parts):
        if part[0] != "lit":
            break
        literal += part[1]
        match = _ASSIGN.match(literal)
        if match and match.end() == len(literal):
            return match.group(1), bool(match.group(2)), list(parts[k + 1 :])
        if match and match.end() < len(literal):
            return match.group(1), bool(match.group(2)), [("lit", literal[match.end() :]), *parts[k + 1 :]]
    return None


def _lex_literal(text: str) -> list[Part]:
    commands = _lex(text)
    parts: list[Part] = []
    for command in commands:
        for word in command:
            if isinstance(word, list):
                parts += ([("lit", " ")] if parts else []) + word
    return parts


def parse_script(text: str) -> Script:
    """The commands of a launch script or a flag file, every literal assignment applied."""
    return _Interpreter().run(text)
