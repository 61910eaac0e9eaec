"""Shared field types of public requests: strings without control characters, strict integers.

PostgreSQL text cannot hold NUL: one that got past validation would fail a query with a 500
(or a whole prediction-log COPY batch), so every public string field uses one of these types
and a bad value is a 422 naming the field. The pattern is in the OpenAPI document too.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

#: Identifiers and one-line values (ids, cities, category codes): no control character at all.
ONE_LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
#: Free text (resumes, postings, questions): tab, newline and carriage return are allowed,
#: other control characters are not, and there must be something besides whitespace.
TEXT_PATTERN = r"^[\t\n\r ]*[^\x00-\x20\x7f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
#: Optional free text (descriptions): the same characters, and it may be empty.
OPTIONAL_TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

#: A one-line value; add length bounds with Field() where it is used.
OneLine = Annotated[str, Field(pattern=ONE_LINE_PATTERN)]
#: Multi-line text; add length bounds with Field() where it is used.
Text = Annotated[str, Field(pattern=TEXT_PATTERN)]
#: A stored document's id (resume, posting, user, event).
Identifier = Annotated[str, Field(min_length=1, max_length=128, pattern=ONE_LINE_PATTERN)]


def whole(value: Any) -> Any:
    """5.0 -> 5 (a before-validator; anything else is left for the strict int check)."""
    # JSON Schema counts 5.0 as an integer; a fractional number, a string or a bool stays
    # as it is and the strict check refuses it.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: An integer as JSON Schema defines it (5 or 5.0), never "5" or true: strict, so a client's
#: type bug is a 422 instead of a silent cast.
#: Bounds go on the model field (Field(ge=...)), or, inside an Optional, use whole_number():
#: constraints placed after the validator would reach the JSON schema as "ge", not "minimum".
WholeNumber = Annotated[int, Field(strict=True), BeforeValidator(whole)]


def whole_number(**bounds: Any) -> Any:
    """A WholeNumber type with bounds (ge=, le=, description=) that the JSON schema shows."""
    return Annotated[int, Field(strict=True, **bounds), BeforeValidator(whole)]
