"""The document kinds the refresh embeds: where they live and how their text is built.

Embeddings owns the mechanism, the workloads own their documents: a workload describes each
kind of document it stores (a `DocumentKind`) and registers it here (`register_kinds`); the
jobs workload does so in `services.jobs.embedding`, which the `beacon` CLI imports. Nothing
in this package imports a workload.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg


@dataclass(frozen=True)
class DocumentKind:
    """A table of documents with a content hash and an embedding column."""

    name: str
    table: str
    id_column: str
    text_columns: tuple[str, ...]
    build_text: Callable[[dict[str, Any]], str]
    #: Table of retrieval passages (one row per chunk), or None to keep only the document vector.
    chunk_table: str | None = None
    #: Loads one source file of this kind (`embed refresh --source`): (conn, path, replace) ->
    #: a printable summary. None: the kind has no source files.
    load_file: Callable[[psycopg.Connection[Any], Path, bool], object] | None = None
    #: A source file is of this kind when its lower-cased name contains this word.
    file_word: str = ""


_KINDS: dict[str, DocumentKind] = {}


def register_kinds(*kinds: DocumentKind) -> None:
    """Make these kinds known to the refresh (idempotent: re-registering replaces)."""
    for kind in kinds:
        _KINDS[kind.name] = kind


def registered_kinds() -> dict[str, DocumentKind]:
    """Every registered kind by name (a clear error when no workload registered any)."""
    if not _KINDS:
        raise LookupError(
            "no document kinds are registered: import the workload that owns them "
            "(e.g. services.jobs.embedding), as the beacon CLI does"
        )
    return dict(_KINDS)


def kind_of_file(name: str) -> DocumentKind | None:
    """The registered kind whose file word appears in this file name, if exactly one does."""
    found = [k for k in registered_kinds().values() if k.file_word and k.file_word in name.lower()]
    return found[0] if len(found) == 1 else None
