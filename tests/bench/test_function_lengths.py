"""bench/function_lengths.py finds long functions in a file or a folder and reads their reason."""

from __future__ import annotations

from pathlib import Path

from bench.function_lengths import long_functions


def _write(folder: Path) -> Path:
    body = "\n".join(f"    x{i} = {i}" for i in range(70))
    path = folder / "mod.py"
    path.write_text(
        f"def long_one():\n{body}\n\n\n"
        f"# long-function: a table that reads best in one piece\ndef explained():\n{body}\n\n\n"
        "def short():\n    return 1\n"
    )
    return path


def test_a_file_and_its_folder_give_the_same_findings(tmp_path: Path) -> None:
    path = _write(tmp_path)
    by_file = long_functions([path], 60)
    assert by_file == long_functions([tmp_path], 60)
    assert {(where.rsplit(" ", 1)[-1], reason) for _, _, where, reason in by_file} == {
        ("long_one", False),
        ("explained", True),
    }
