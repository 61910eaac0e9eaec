"""Lists functions over a limit (default 60 lines) in the given files or folders, longest first."""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

#: A function that is long on purpose says so in a comment with this marker near its `def`.
REASON_MARKER = "long-function:"


def _body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of code after the signature and docstring (typer commands declare options above)."""
    body = node.body
    if (
        len(body) > 1
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    return node.end_lineno - body[0].lineno + 1


def long_functions(roots: list[Path], limit: int) -> list[tuple[int, int, str, bool]]:
    """(lines, body lines, "path:line name", reason given) per function over `limit` lines."""
    found = []
    for root in roots:
        for path in [root] if root.is_file() else sorted(root.rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            lines = source.splitlines()
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                    length = node.end_lineno - first + 1
                    if length > limit:
                        # The reason sits on the lines just above the def or in its first lines.
                        window = lines[max(0, first - 4) : node.lineno + 3]
                        reason = any(REASON_MARKER in line for line in window)
                        found.append(
                            (length, _body_lines(node), f"{path}:{node.lineno} {node.name}", reason)
                        )
    return sorted(found, reverse=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("roots", nargs="*", type=Path, default=[Path("services")])
    parser.add_argument("--limit", type=int, default=60)
    args = parser.parse_args()
    found = long_functions(args.roots, args.limit)
    print("lines  body  function")
    for length, body, where, reason in found:
        print(f"{length:5d} {body:5d}  {where}{'  (reason given)' if reason else ''}")
    unexplained = sum(1 for *_, reason in found if not reason)
    print(f"{len(found)} function(s) over {args.limit} lines, {unexplained} without a reason")


if __name__ == "__main__":
    main()
