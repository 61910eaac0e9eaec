"""Shared string types of every public request field: no NUL or other control characters.

PostgreSQL text cannot hold NUL: one that got past validation would fail a query with a 500
(or a whole prediction-log COPY batch), so every public string field uses one of these types
and a bad value is a 422 naming the field. The pattern is in the OpenAPI document too.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

#: Identifiers and one-line values (ids, cities, category codes): no control character at all.
ONE_LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
#: Free text (resumes, postings, questions, descriptions): tab, newline and carriage return
#: are allowed, other control characters are not.
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

#: A one-line value; add length bounds with Field() where it is used.
OneLine = Annotated[str, Field(pattern=ONE_LINE_PATTERN)]
#: Multi-line text; add length bounds with Field() where it is used.
Text = Annotated[str, Field(pattern=TEXT_PATTERN)]
#: A stored document's id (resume, posting, user, event).
Identifier = Annotated[str, Field(min_length=1, max_length=128, pattern=ONE_LINE_PATTERN)]
