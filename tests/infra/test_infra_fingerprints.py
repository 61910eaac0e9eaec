"""Deploy fingerprints: tree_fingerprint tracks file changes, and the templates carry it."""

from __future__ import annotations

from pathlib import Path

from infra_support import BuiltEnvironment, mask_hashes

from infra.images import PIPELINES_DIR, migrations_fingerprint, tree_fingerprint


def _tree(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "001_init.sql").write_text("CREATE TABLE a (id int);\n")
    (root / "sub" / "dag.py").write_text("DAG = 1\n")
    return root


def test_fingerprint_is_stable_and_changes_with_any_file(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "t")
    first = tree_fingerprint(tree)
    assert len(first) == 64 and first == tree_fingerprint(tree)
    assert first == tree_fingerprint(_tree(tmp_path / "copy"))  # content, not location

    (tree / "sub" / "dag.py").write_text("DAG = 2\n")
    edited = tree_fingerprint(tree)
    assert edited != first

    (tree / "sub" / "dag.py").rename(tree / "sub" / "dag2.py")
    assert tree_fingerprint(tree) not in (first, edited)  # a rename counts

    (tree / "002_more.sql").write_text("ALTER TABLE a ADD b int;\n")
    assert tree_fingerprint(tree, "*.sql") != tree_fingerprint(_tree(tmp_path / "c2"), "*.sql")


def test_fingerprint_ignores_bytecode_and_other_patterns(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "t")
    before, sql_only = tree_fingerprint(tree), tree_fingerprint(tree, "*.sql")
    (tree / "sub" / "__pycache__").mkdir()
    (tree / "sub" / "__pycache__" / "dag.cpython-312.pyc").write_bytes(b"\0\1")
    assert tree_fingerprint(tree) == before
    (tree / "sub" / "dag.py").write_text("DAG = 3\n")
    assert tree_fingerprint(tree, "*.sql") == sql_only  # only the files the step deploys


def test_templates_carry_the_current_fingerprints(dev: BuiltEnvironment) -> None:
    migrations = migrations_fingerprint()
    pipelines = tree_fingerprint(PIPELINES_DIR)
    found: dict[str, list[str]] = {"MigrationsFingerprint": [], "Fingerprint": []}
    for template in dev.templates.values():
        for resource in template.get("Resources", {}).values():
            props = resource.get("Properties", {})
            for key, values in found.items():
                if key in props:
                    values.append(props[key])
    assert found["MigrationsFingerprint"] == [migrations]
    assert pipelines in found["Fingerprint"]
    # The snapshot mask names them only while they match the tree; anything else stays a hash.
    assert mask_hashes(migrations) == "<fingerprint of the SQL migrations>"
    assert mask_hashes(pipelines) == "<fingerprint of the pipelines tree>"
    assert mask_hashes("0" * 64) == "<hash>"
