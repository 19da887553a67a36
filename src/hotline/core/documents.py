"""Safe loading of documents that come from outside: YAML, JSON and CSV text.

A center configuration, an import mapping, a scenario or an uploaded CSV file is written by
someone else. Parsed naively, a small document can cost far more than its size: YAML aliases
let 17 KB expand into millions of nodes (the "billion laughs" document), deep nesting
exhausts Python's recursion limit, and an unclosed CSV quote swallows the rest of a file into
one cell. Every parse site in Hotline goes through this module, which enforces three bounds
and refuses with a located :class:`DocumentRefused` (a :class:`ValidationFailed`, so the web
layer answers 422 naming the file, line and rule):

- **size**: at most :data:`MAX_DOCUMENT_BYTES` of text;
- **depth**: at most :data:`MAX_DEPTH` nested mappings/sequences;
- **expansion**: a YAML document may use aliases, but the tree they expand to holds at most
  :data:`MAX_NODES` nodes (counted on the alias graph, without expanding it).

>>> load_yaml("a: &x [1, 2]\\nb: *x", source="demo.yaml")
{'a': [1, 2], 'b': [1, 2]}
>>> laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\\n" + "".join(
...     f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\\n"
...     for i in range(8))
>>> try:
...     load_yaml(laughs, source="lol.yaml")
... except DocumentRefused as refused:
...     print(refused.problems[0])
lol.yaml:5: the document's aliases expand to more than 100000 nodes
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from hotline.core.errors import Problem, ValidationFailed

#: The largest document text accepted (characters of YAML or JSON, bytes of CSV): a center
#: of a thousand agents is well under 1 MB; an import of 100,000 customers about 10 MB.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
#: The deepest nesting of mappings and sequences accepted; real documents stay under ten.
MAX_DEPTH = 64
#: The most nodes a YAML document may expand to through its aliases (its own nodes included).
MAX_NODES = 100_000
#: The longest single CSV cell accepted: a cell this long is an unclosed quote, not data.
MAX_CSV_FIELD = 64 * 1024


class DocumentRefused(ValidationFailed):
    """A document is refused before (or while) parsing it, with where and which bound."""

    def __init__(self, rule: str, *, source: str, line: int | None = None) -> None:
        super().__init__([Problem(rule=rule, file=source, line=line)])

    def __str__(self) -> str:
        return str(self.problems[0])


def check_size(size: int, *, source: str, limit: int = MAX_DOCUMENT_BYTES) -> None:
    """Refuse a document of ``size`` bytes or characters when it exceeds ``limit``.

    >>> check_size(20, source="x.yaml", limit=10)
    Traceback (most recent call last):
    ...
    hotline.core.documents.DocumentRefused: x.yaml: the document is larger than 10 bytes
    """
    if size > limit:
        raise DocumentRefused(f"the document is larger than {limit} bytes", source=source)


# ------------------------------------------------------------------------------------- YAML


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing documents nested deeper than :data:`MAX_DEPTH`.

    PyYAML's composer recurses once per nesting level, so the depth is checked where it
    descends; the expansion bound is checked on the composed node graph afterwards.
    """

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.MarkedYAMLError(
                    problem=f"the document is nested deeper than {MAX_DEPTH} levels",
                    problem_mark=mark,
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _expanded_size(root: yaml.Node, *, source: str) -> None:
    """Count the nodes ``root`` expands to, sharing the count of aliased nodes (no expansion)."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        total = 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                total += size(key) + size(value)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                total += size(item)
        if total > MAX_NODES:
            raise DocumentRefused(
                f"the document's aliases expand to more than {MAX_NODES} nodes",
                source=source,
                line=node.start_mark.line + 1,
            )
        sizes[id(node)] = total
        return total

    size(root)


def compose_yaml(text: str, *, source: str) -> yaml.Node | None:
    """Compose YAML ``text`` into its node graph within the bounds, or refuse it.

    Syntax errors propagate as :class:`yaml.MarkedYAMLError` (callers report them with their
    own wording); a bound broken raises :class:`DocumentRefused`.
    """
    check_size(len(text), source=source)
    try:
        loader = _BoundedLoader(text)
    except yaml.reader.ReaderError as error:
        # Control characters are refused by PyYAML's reader before any parsing.
        line = text.count("\n", 0, max(error.position, 0)) + 1
        raise DocumentRefused(
            f"character #x{error.character:04x} is not allowed in YAML", source=source, line=line
        ) from None
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as error:
            if error.problem and error.problem.startswith("the document is nested deeper"):
                mark = error.problem_mark
                where = mark.line + 1 if mark is not None else None
                raise DocumentRefused(error.problem, source=source, line=where) from None
            raise
    finally:
        loader.dispose()
    if node is not None:
        _expanded_size(node, source=source)
    return node


def construct_yaml(node: yaml.Node | None) -> Any:
    """Build Python values from a node graph returned by :func:`compose_yaml`."""
    if node is None:
        return None
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load_yaml(text: str, *, source: str) -> Any:
    """Parse YAML ``text`` like ``yaml.safe_load``, within the size, depth and expansion bounds.

    >>> load_yaml("queues: [{id: sales}]", source="c.yaml")
    {'queues': [{'id': 'sales'}]}
    """
    return construct_yaml(compose_yaml(text, source=source))


# ------------------------------------------------------------------------------------- JSON


def json_depth(text: str) -> int:
    """The deepest nesting of ``[``/``{`` in JSON text, ignoring those inside strings."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def load_json(text: str | bytes, *, source: str) -> Any:
    """Parse JSON ``text`` within the size and depth bounds; syntax errors name the line.

    >>> load_json('{"a": [1, 2]}', source="x.json")
    {'a': [1, 2]}
    >>> load_json("[" * 100 + "]" * 100, source="x.json")
    Traceback (most recent call last):
    ...
    hotline.core.documents.DocumentRefused: x.json: the document is nested deeper than 64 levels
    """
    check_size(len(text), source=source)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise DocumentRefused(f"not UTF-8 text ({error.reason})", source=source) from None
    if json_depth(text) > MAX_DEPTH:
        raise DocumentRefused(
            f"the document is nested deeper than {MAX_DEPTH} levels", source=source
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise DocumentRefused(
            f"not valid JSON: {error.msg}", source=source, line=error.lineno
        ) from None


# -------------------------------------------------------------------------------------- CSV

#: Encodings tried, in order, for an uploaded CSV file: UTF-8 (with or without its byte-order
#: mark), then GB18030, the superset of GBK/GB2312 that Chinese Excel writes "CSV" in.
CSV_ENCODINGS = ("utf-8", "gb18030")


@dataclass(frozen=True)
class DecodedText:
    """Text decoded from an uploaded file, and the encoding that decoded it."""

    text: str
    encoding: str


def decode_text(data: bytes, *, source: str, limit: int = MAX_DOCUMENT_BYTES) -> DecodedText:
    """Decode an uploaded file as UTF-8, else as GB18030 (Chinese Excel); else refuse it.

    The refusal names the line and column of the first byte that is not UTF-8.

    >>> decode_text("名称\\n".encode("gbk"), source="c.csv")
    DecodedText(text='名称\\n', encoding='gb18030')
    >>> try:
    ...     decode_text(b"name\\nJos\\xe9\\xff\\n", source="c.csv")
    ... except DocumentRefused as refused:
    ...     print(refused.problems[0].line, refused.problems[0].rule[:34])
    2 byte 0xe9 at column 4 is not UTF-8
    """
    check_size(len(data), source=source, limit=limit)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as error:
        first = error
    try:
        return DecodedText(data.decode("gb18030"), "gb18030")
    except UnicodeDecodeError:
        pass
    line = data.count(b"\n", 0, first.start) + 1
    column = first.start - (data.rfind(b"\n", 0, first.start) + 1) + 1
    raise DocumentRefused(
        f"byte 0x{data[first.start]:02x} at column {column} is not UTF-8 (nor GB18030): "
        "save the file as UTF-8",
        source=source,
        line=line,
    )


class _LineCounter:
    """Wraps a line iterator, counting physical lines so quoted cells can be located."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self.line = 0

    def __iter__(self) -> _LineCounter:
        return self

    def __next__(self) -> str:
        text = next(self._lines)
        self.line += 1
        return text


def csv_rows(
    handle: Iterator[str], *, source: str, delimiter: str = ","
) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line, cells)`` for each CSV record, refusing an unclosed quote.

    ``line`` is the physical line the record starts on (the header is line 1, as a
    spreadsheet shows). A quote that never closes would make the csv module read the rest
    of the file into one cell, silently losing every following row; it is refused naming
    the line where the quote opened. A cell longer than :data:`MAX_CSV_FIELD` is refused too.

    >>> list(csv_rows(iter(["a,b\\n", '1,"x\\n', "y\\"\\n"]), source="f.csv"))
    [(1, ['a', 'b']), (2, ['1', 'x\\ny'])]
    >>> try:
    ...     list(csv_rows(iter(["a,b\\n", '1,"oops\\n', "2,z\\n"]), source="f.csv"))
    ... except DocumentRefused as refused:
    ...     print(refused.problems[0].line, refused.problems[0].rule[:43])
    2 a quote opened on this line is never closed
    """
    counter = _LineCounter(handle)
    reader = csv.reader(counter, delimiter=delimiter, strict=True)
    previous_csv_limit = csv.field_size_limit()
    while True:
        start = counter.line + 1
        try:
            csv.field_size_limit(MAX_CSV_FIELD)
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            message = str(error)
            if "field larger than field limit" in message:
                raise DocumentRefused(
                    f"a cell is longer than {MAX_CSV_FIELD} characters "
                    "(is a quote opened on this line never closed?)",
                    source=source,
                    line=start,
                ) from None
            if "unexpected end of data" in message or "EOF" in message:
                raise DocumentRefused(
                    "a quote opened on this line is never closed "
                    "(the rest of the file would be one cell)",
                    source=source,
                    line=start,
                ) from None
            if "expected after" in message:
                raise DocumentRefused(
                    "a quoted cell in the record starting on this line has text after its "
                    "closing quote (was a quote left open?)",
                    source=source,
                    line=start,
                ) from None
            raise DocumentRefused(f"not valid CSV: {message}", source=source, line=start) from None
        finally:
            csv.field_size_limit(previous_csv_limit)
        if not cells:
            continue
        yield start, cells


def _refuse_swallowed_rows(
    cells: list[str], columns: int, delimiter: str, *, source: str, line: int
) -> None:
    if columns < 2:
        return
    for cell in cells:
        if "\n" not in cell:
            continue
        for continued in cell.splitlines()[1:]:
            if continued.count(delimiter) >= columns - 1:
                raise DocumentRefused(
                    "a quote opened on this line runs over lines that look like rows "
                    "(is it never closed?)",
                    source=source,
                    line=line,
                )


def csv_records(
    text: str | Iterator[str], *, source: str, delimiter: str = ","
) -> tuple[list[str], Iterator[tuple[int, dict[str, str | None]]]]:
    """Read a CSV with a header row: the header, and ``(line, {column: cell})`` per record.

    As with :class:`csv.DictReader`, cells beyond the header are listed under the key
    ``None`` and missing cells are ``None``. A quoted cell that runs over lines which look
    like records of their own (as many delimiters as the header) is a quote left open by
    mistake that a later quote happened to close: it is refused, naming the line where it
    opened, instead of silently swallowing those rows.

    >>> header, rows = csv_records("name,vip\\nAda,1\\n", source="c.csv")
    >>> header, list(rows)
    (['name', 'vip'], [(2, {'name': 'Ada', 'vip': '1'})])
    """
    lines = iter(io.StringIO(text.lstrip("\ufeff"), newline="")) if isinstance(text, str) else text
    rows = csv_rows(lines, source=source, delimiter=delimiter)
    try:
        _, header = next(rows)
    except StopIteration:
        return [], iter(())
    header = [h.lstrip("\ufeff") if i == 0 else h for i, h in enumerate(header)]

    def records() -> Iterator[tuple[int, dict[str, str | None]]]:
        for line, cells in rows:
            _refuse_swallowed_rows(cells, len(header), delimiter, source=source, line=line)
            record: dict[Any, Any] = dict(zip(header, cells, strict=False))
            if len(cells) > len(header):
                record[None] = cells[len(header) :]
            for column in header[len(cells) :]:
                record[column] = None
            yield line, record

    return header, records()


def dict_rows(
    text: str | Iterator[str], *, source: str, delimiter: str = ","
) -> Iterator[dict[Any, Any]]:
    """The records of a CSV with a header row as dictionaries, like :class:`csv.DictReader`,
    within the bounds of :func:`csv_records` (an unclosed quote is refused at its line).

    >>> list(dict_rows("team,agents\\nt-vip,4\\n", source="plan.csv"))
    [{'team': 't-vip', 'agents': '4'}]
    """
    _, records = csv_records(text, source=source, delimiter=delimiter)
    return (record for _, record in records)
