"""One escaper per output format, for every string that comes from an input file.

Study names, practice and PCN names, codes, layer keys and finding messages (which quote
them) go through exactly one of these before they reach an output:

* :func:`markdown` - text inside a Markdown paragraph, list item, heading or table cell;
* :func:`html_text` - text or an attribute value in HTML;
* :func:`js_string` - a JavaScript string literal inside an inline ``<script>`` (safe even
  where a library pastes it into a template literal);
* :func:`excel_cell` / :func:`excel_frame` - CSV and Excel cells and headers that a
  spreadsheet would run as a formula; :func:`excel_uncell` undoes :func:`excel_cell`
  exactly (``Configuration.to_csv`` and the configuration reader round-trip);
* :func:`html_table` - a table (pandas) as an HTML table, every header and cell through
  :func:`html_text`.

and first, under all of them, :func:`printable`: every character that some output cannot
hold (C0 controls but tab, line feed and carriage return; DEL; lone surrogates; U+FFFE and
U+FFFF) becomes a visible stand-in, the same in every output (ESC is shown as ``␛``).

Nothing here imports from the rest of the package: every layer may use it.
"""

from __future__ import annotations

import html as _html
import json
import numbers
import re
from typing import Any

__all__ = [
    "toml_string",
    "toml_comment",
    "printable",
    "printable_frame",
    "markdown",
    "html_text",
    "js_string",
    "excel_cell",
    "excel_uncell",
    "excel_frame",
    "html_table",
    "FORMULA_START",
]

#: Characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_START: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")

#: Characters no output can hold as they are: the C0 controls but tab, line feed and
#: carriage return (XML 1.0 - and so an Excel sheet - refuses them), DEL, lone surrogates
#: (not encodable in UTF-8) and the non-characters U+FFFE / U+FFFF.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _stand_in(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode "Control Pictures": ESC -> U+241B
    if code == 0x7F:
        return "\u2421"  # DEL -> U+2421
    return "\ufffd"  # a lone surrogate or a non-character: the replacement character


def printable(text: Any) -> str:
    """``text`` with every character some output cannot hold replaced by a visible
    stand-in, so that one string reads the same in every output: a C0 control (but tab,
    line feed and carriage return, which every format holds its own way) becomes its
    Unicode control picture (ESC ``\\x1b`` -> ``␛``, FF ``\\x0c`` -> ``␌``), DEL ``␡``, a
    lone surrogate or U+FFFE / U+FFFF the replacement character ``�``. Every other
    escaper here starts with it; the JSON, GeoPackage and Excel writers use it directly.

    Examples
    --------
    >>> printable("A\\x1bB\\x0cC\\x7fD\\tE")
    'A␛B␌C␡D\\tE'
    """
    out = "" if text is None else str(text)
    return _UNPRINTABLE.sub(_stand_in, out) if _UNPRINTABLE.search(out) else out


def printable_frame(frame):
    """A copy of a pandas DataFrame with every text cell and text column name passed
    through :func:`printable` (the frame itself when nothing needs it).

    Examples
    --------
    >>> import pandas as pd
    >>> printable_frame(pd.DataFrame({"n\\x1b": ["a\\x07"]})).to_dict("list")
    {'n␛': ['a␇']}
    """
    from pandas.api.types import is_string_dtype

    out = None
    for column in frame.columns:
        values = frame[column]
        if values.dtype == object or is_string_dtype(values):
            cleaned = values.map(lambda v: printable(v) if isinstance(v, str) else v)
            if not cleaned.equals(values):
                out = frame.copy() if out is None else out
                out[column] = cleaned
    names = [printable(c) if isinstance(c, str) else c for c in frame.columns]
    if names != list(frame.columns):
        out = frame.copy() if out is None else out
        out.columns = names
    return frame if out is None else out


# Markdown: text reads as itself both in the raw file and rendered. Only what would start
# markup is backslash-escaped: code, emphasis, strikethrough and table-cell characters
# anywhere (``_`` only where it could open or close emphasis, so sub_icb stays readable);
# ``]`` only where a link, image, reference or definition could follow it (``](``,
# ``][``, ``]:``, or at the end of the text, where a template might continue it), so
# ``[list_sizes]`` stays as it is; and at the start of the text what would start a block
# inside a list item (``#``, ``>``, ``-``, ``+``, ``1.``, ``[`` of a task box). ``<``
# becomes ``\<`` so no raw HTML gets through, ``&`` becomes ``&amp;`` only where it would
# start an entity; line breaks become spaces so nothing starts a block; ``>`` elsewhere,
# ``!`` and ``#`` inside the text are left as they are (``->`` reads as itself).
_MD_SPECIAL = re.compile(r"([\\`*|~<]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|\](?=[(\[:]|$))")
_MD_BREAK = re.compile(r"[\r\n\x85\u2028\u2029]+")
_MD_START = re.compile(r"^([>+\-\[]|#(?=#*(?:\s|$))|\d+(?=[.)]))")
_MD_CLOSING_HASHES = re.compile(r"(\s)(#+)(\s*)$")
# bare URLs that GitHub-flavoured Markdown turns into links by itself
_MD_AUTOLINK = re.compile(r"(?i)(?<=[a-z])(:)(?=//)|(?<=\bwww)(\.)")
_MD_ENTITY = re.compile(r"&(?=#|[A-Za-z][A-Za-z0-9]*;)")


def _md_start(match: re.Match[str]) -> str:
    mark = match.group(1)
    return mark + "\\" if mark.isdigit() else "\\" + mark


def markdown(text: Any) -> str:
    """``text`` as inert Markdown inline text: it renders as itself, on one line, and the
    raw file reads as the text (nothing escaped that could not start markup).

    Examples
    --------
    >>> markdown("ST. MARY'S (NORTH) | [x](http://e) <b> -> [list_sizes]")
    "ST. MARY'S (NORTH) \\\\| [x\\\\](http\\\\://e) \\\\<b> -> [list_sizes\\\\]"
    >>> markdown("value 37.2 -> 30.1; see the [list_sizes] file")
    'value 37.2 -> 30.1; see the [list_sizes] file'
    """
    out = _MD_BREAK.sub(" ", printable(text)).strip()
    # "&" only where it would start an entity, so "RUGELEY & GREAT HAYWOOD" reads as itself
    out = _MD_ENTITY.sub("&amp;", out)
    out = _MD_SPECIAL.sub(r"\\\1", out)
    out = _MD_START.sub(_md_start, out)
    out = _MD_CLOSING_HASHES.sub(lambda m: m.group(1) + "\\" + m.group(2) + m.group(3), out)
    return _MD_AUTOLINK.sub(lambda m: "\\" + (m.group(1) or m.group(2)), out)


def html_text(text: Any) -> str:
    """``text`` escaped for HTML element content and quoted attribute values.

    Examples
    --------
    >>> html_text('<img src="x">')
    '&lt;img src=&quot;x&quot;&gt;'
    """
    return _html.escape(printable(text), quote=True)


_JS_UNSAFE = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "'": "\\u0027",
    "`": "\\u0060",
    "$": "\\u0024",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_JS_UNSAFE_RE = re.compile("[" + re.escape("".join(_JS_UNSAFE)) + "]")


def js_string(text: Any) -> str:
    """A double-quoted JavaScript string literal of ``text``, safe inside an inline
    ``<script>`` (no ``</script``, no ``<!--``) and inside a template literal (no backtick,
    no ``${``).

    Examples
    --------
    >>> js_string("`${x}`</script>")
    '"\\\\u0060\\\\u0024{x}\\\\u0060\\\\u003c/script\\\\u003e"'
    """
    literal = json.dumps(printable(text), ensure_ascii=False)
    return _JS_UNSAFE_RE.sub(lambda m: _JS_UNSAFE[m.group(0)], literal)


def toml_string(text: Any) -> str:
    """A TOML basic string holding ``text`` exactly (a path must stay the path): a JSON
    string with every non-ASCII and control character escaped is a valid TOML string.

    Examples
    --------
    >>> print(toml_string('C:/My "downloads"/é.csv'))
    "C:/My \\"downloads\\"/\\u00e9.csv"
    """
    literal = json.dumps("" if text is None else str(text), ensure_ascii=True)
    return literal.replace("\x7f", "\\u007f")  # DEL: JSON leaves it, TOML refuses it


def toml_comment(text: Any) -> str:
    """``text`` made safe after a ``#`` in TOML: printable, one line (line breaks and tabs
    become spaces), so that a file name cannot end the comment and add a key.

    Examples
    --------
    >>> print(toml_comment("a.csv\\n[rules] band = [0, 1]"))
    a.csv [rules] band = [0, 1]
    """
    return re.sub("[\\r\\n\\t\u2028\u2029\x85]+", " ", printable(text))


def excel_cell(value: Any) -> Any:
    """A CSV/Excel cell a spreadsheet shows as text: a string that would start a formula
    gets a leading ``'``; so does a string that already looks escaped (``'=``, ``''``), so
    that :func:`excel_uncell` restores every value exactly. Non-strings are returned as
    they are.

    Examples
    --------
    >>> [excel_cell(v) for v in ["=1+2", "'=1", "'t Hooft", 5]]
    ["'=1+2", "''=1", "'t Hooft", 5]
    """
    if not isinstance(value, str):
        return value
    value = printable(value)
    if value.startswith(FORMULA_START) or _looks_escaped(value):
        return "'" + value
    return value


def excel_uncell(value: Any) -> Any:
    """Undo :func:`excel_cell` (reading back a CSV this package wrote).

    Examples
    --------
    >>> [excel_uncell(v) for v in ["'=1+2", "''=1", "'t Hooft"]]
    ['=1+2', "'=1", "'t Hooft"]
    """
    if isinstance(value, str) and _looks_escaped(value):
        return value[1:]
    return value


def _looks_escaped(value: str) -> bool:
    return len(value) > 1 and value[0] == "'" and value[1:].startswith((*FORMULA_START, "'"))


def excel_frame(frame):
    """A copy of a pandas DataFrame with every text cell and every column name passed
    through :func:`excel_cell`.

    Examples
    --------
    >>> import pandas as pd
    >>> out = excel_frame(pd.DataFrame({"=H(1)": ["-x", "ok"]}))
    >>> list(out.columns), out.iloc[:, 0].tolist()
    (["'=H(1)"], ["'-x", 'ok'])
    """
    import numpy as np
    import pandas as pd
    from pandas.api.types import is_string_dtype

    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.StringDtype):  # text: each distinct one once, no map
            code, texts = pd.factorize(values)
            cells = [excel_cell(t) for t in np.asarray(texts, dtype=object).tolist()]
            cells = np.asarray([*cells, values.dtype.na_value], dtype=object)[code]  # -1: missing
            out[column] = pd.Series(cells, index=out.index, dtype=object)
        elif values.dtype == object or is_string_dtype(values):
            out[column] = values.astype(object).map(_excel_cell_once({}))
    out.columns = [excel_cell(str(c)) if isinstance(c, str) else c for c in out.columns]
    return out


def _excel_cell_once(done: dict):
    """:func:`excel_cell`, each distinct text escaped once (a national table repeats the
    same codes and names hundreds of thousands of times)."""

    def cell(value: Any) -> Any:
        if type(value) is not str:
            return excel_cell(value)
        out = done.get(value)
        if out is None:
            out = done[value] = excel_cell(value)
        return out

    return cell


def html_table(frame) -> str:
    """A plain HTML table of ``frame`` (pandas), every header and cell escaped by
    :func:`html_text`; whole numbers with thousands separators.

    Examples
    --------
    >>> import pandas as pd
    >>> html_table(pd.DataFrame({"name": ["<b>A&B</b>"], "n": [1200]}))
    '<table><thead><tr><th>name</th><th>n</th></tr></thead><tbody><tr><td>&lt;b&gt;A&amp;B&lt;/b&gt;</td><td>1,200</td></tr></tbody></table>'
    """
    head = "".join(f"<th>{html_text(c)}</th>" for c in frame.columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html_text(f'{v:,}' if isinstance(v, numbers.Integral) else v)}</td>" for v in row
        )
        + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
