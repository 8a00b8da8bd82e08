"""An editor of a configuration: move practices, watch the findings, undo, export.

:class:`Editor` is the controller behind the map widget of the notebook
(:func:`geo_pcn.editor_widget.editor_widget`), in plain Python so that it can be tested
and scripted: every :meth:`Editor.move` re-validates incrementally (only what the move
touches is checked again, :func:`geo_pcn.revalidate`), :meth:`Editor.undo` goes back one
step, and :meth:`Editor.to_scenario` writes the session as a scenario file that
``geo-pcn scenario`` applies to the study's configuration to give exactly the editor's.

Examples
--------
>>> from geo_pcn.datasets import demo
>>> editor = Editor(demo())
>>> editor.report.ok
False
>>> _ = editor.move("Z00024", to="UZ002")
>>> editor.history
['move Z00024 from no PCN to UZ002']
>>> int(editor.pcn_sizes.loc["UZ002", "list_size"])
41615
>>> _ = editor.undo()
>>> editor.history
[]
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from geo_pcn.compare import Comparison, compare, count
from geo_pcn.configuration import Configuration
from geo_pcn.errors import InputError
from geo_pcn.pipeline import revalidate, validate
from geo_pcn.report import Report
from geo_pcn.settings import PRACTICE_CODE

__all__ = ["Editor"]

#: Columns of :attr:`Editor.findings`.
FINDING_COLUMNS = ["severity", "check", "kind", "pcn_code", "practices", "value", "message"]
#: Columns of :attr:`Editor.pcn_sizes` (indexed by ``pcn_code``).
SIZE_COLUMNS = ["pcn_name", "n_practices", "list_size", "band_status", "n_errors", "n_warnings"]


class Editor:
    """Move practices between PCNs of a study and see the findings after each move.

    Parameters
    ----------
    study
        A :class:`~geo_pcn.study.Study`.
    configuration
        Where to start; default the study's own configuration.

    Attributes
    ----------
    study
        The study.
    start
        The report of the starting configuration.

    Examples
    --------
    >>> from geo_pcn.datasets import demo
    >>> editor = Editor(demo())
    >>> report = editor.move("Z00048", to="UZ011")
    >>> ("contiguity", "detached_group") in set(zip(editor.findings.check, editor.findings.kind))
    False
    """

    def __init__(self, study, configuration: Configuration | None = None) -> None:
        self.study = study
        self.start: Report = validate(study, configuration)
        self._reports: list[Report] = [self.start]
        # per report, its tables once read (a move builds none: they are made when read)
        self._tables: list[dict[str, pd.DataFrame]] = [{}]
        self._observers: list[Callable[[Editor, str], Any]] = []

    # -- observers --------------------------------------------------------------------------
    def observe(self, callback: Callable[[Editor, str], Any]) -> Callable[[Editor, str], Any]:
        """Call ``callback(editor, what)`` after every change of the configuration.

        ``what`` is ``"move"``, ``"undo"`` or ``"reset"``. A move that changes nothing
        (the practice is already there) calls nobody. The map widget observes its editor,
        so that moves made from code in other cells show on it too.

        Parameters
        ----------
        callback
            Called with the editor and the kind of change, in the order observers were added.

        Returns
        -------
        callable
            ``callback`` (to pass to :meth:`unobserve` later).

        Examples
        --------
        >>> from geo_pcn.datasets import demo
        >>> editor = Editor(demo())
        >>> seen = []
        >>> _ = editor.observe(lambda ed, what: seen.append((what, len(ed.history))))
        >>> _ = editor.move("Z00024", to="UZ002"); _ = editor.undo()
        >>> seen
        [('move', 1), ('undo', 0)]
        """
        if not callable(callback):
            raise TypeError(f"observe needs a callable, not {type(callback).__name__}")
        if callback not in self._observers:
            self._observers.append(callback)
        return callback

    def unobserve(self, callback: Callable[[Editor, str], Any]) -> None:
        """Stop calling ``callback`` (nothing happens if it was not observing)."""
        if callback in self._observers:
            self._observers.remove(callback)

    def _changed(self, what: str) -> None:
        for callback in list(self._observers):
            callback(self, what)

    # -- state ------------------------------------------------------------------------------
    @property
    def report(self) -> Report:
        """The report of the current configuration."""
        return self._reports[-1]

    @property
    def configuration(self) -> Configuration:
        """The current configuration."""
        return self.report.configuration

    @property
    def history(self) -> list[str]:
        """The moves made since the start, oldest first (undone ones left out)."""
        return [str(c) for r in self._reports[1:] for c in r.configuration.changes]

    @property
    def can_undo(self) -> bool:
        """Whether there is a move to undo."""
        return len(self._reports) > 1

    @property
    def findings(self) -> pd.DataFrame:
        """The current findings, one row each, errors first: ``severity, check, kind,
        pcn_code, practices, value, message``.

        Made on first read and kept with the report (a move builds no table); each read
        gives a copy."""
        return self._table("findings", self._findings_table).copy()

    @property
    def pcn_sizes(self) -> pd.DataFrame:
        """The current PCNs indexed by code: name, practices, registered patients
        (``list_size``), band status, errors and warnings.

        Made on first read and kept with the report (a move builds no table); each read
        gives a copy."""
        return self._table("pcn_sizes", self._sizes_table).copy()

    def _table(self, name: str, make: Callable[[Report], pd.DataFrame]) -> pd.DataFrame:
        tables = self._tables[-1]
        if name not in tables:
            tables[name] = make(self.report)
        return tables[name]

    @staticmethod
    def _findings_table(report: Report) -> pd.DataFrame:
        rows = [
            {
                "severity": f.severity.value,
                "check": f.check,
                "kind": f.kind,
                "pcn_code": f.pcn_code,
                "practices": ", ".join(f.practice_codes),
                "value": f.value,
                "message": f.message,
            }
            for f in report.findings
        ]
        return pd.DataFrame(rows, columns=FINDING_COLUMNS)

    @staticmethod
    def _sizes_table(report: Report) -> pd.DataFrame:
        pcns = report.pcns
        return pcns.set_index("pcn_code")[[c for c in SIZE_COLUMNS if c in pcns]]

    def comparison(self) -> Comparison:
        """The start beside now (:func:`geo_pcn.compare`): resolved, introduced, changed."""
        return compare(self.start, self.report)

    # -- editing ----------------------------------------------------------------------------
    def move(self, practice: str, to: str | None) -> Report:
        """Move a practice into a PCN (``""`` or ``None``: into no PCN) and re-validate.

        Only what the move touches is checked again; the report is the one
        :func:`geo_pcn.validate` gives for the new configuration.

        Parameters
        ----------
        practice
            Practice code (any case).
        to
            Code of a PCN of the configuration (possibly emptied by earlier moves), or
            ``""``/``None`` for no PCN.

        Returns
        -------
        Report
            The report of the new configuration (also :attr:`report`).

        Raises
        ------
        UnknownCodeError
            The practice or the PCN is not in the configuration.
        """
        config = self.configuration
        known = config.pcn_by_practice  # (cached: no table of every code per move)
        code = practice
        if code not in known:
            codes = {c.upper(): c for c in config.practice_codes}
            code = codes.get(str(practice).strip().upper(), practice)
        if to:
            target = to
            if target not in config.members and target not in config.empty_pcns:
                pcns = {c.upper(): c for c in (*config.pcn_codes, *config.empty_pcns)}
                target = pcns.get(str(to).strip().upper(), to)
            new = config.move(code, to=target)
        else:
            new = config.unassign(code)
        if not new.changes or (
            new.pcn_of(code) == known[code]
            if code in known
            else new.assignments.equals(config.assignments)
        ):
            return self.report  # already there: nothing to do, nothing to undo
        self._reports.append(revalidate(self.report, new))
        self._tables.append({})
        self._changed("move")
        return self.report

    def undo(self) -> Report:
        """Go back one move.

        Returns
        -------
        Report
            The report of the configuration before the last move.

        Raises
        ------
        InputError
            There is nothing to undo.
        """
        if not self.can_undo:
            raise InputError("nothing to undo: no move has been made since the start")
        self._reports.pop()
        self._tables.pop()
        self._changed("undo")
        return self.report

    def reset(self) -> Report:
        """Undo every move: back to the start (a no-op, and no notification, at the start).

        Returns
        -------
        Report
            :attr:`start`.
        """
        if self.can_undo:
            del self._reports[1:]
            del self._tables[1:]
            self._changed("reset")
        return self.report

    # -- export -----------------------------------------------------------------------------
    def to_scenario_text(self, *, name: str | None = None) -> str:
        """The session as a TOML scenario (see :meth:`to_scenario`)."""
        base, now = self.study.configuration, self.configuration
        esc = json.dumps  # a JSON string is a TOML basic string
        lines = [
            f"name = {esc(name or f'Editor session on {self.study.name}')}",
            "# Applied to the study's configuration it gives the editor's exactly:",
            "# geo-pcn scenario study.toml this-file.toml --out after/",
        ]
        base_names, now_names = base.names, now.names
        new_pcns = [c for c in (*now.pcn_codes, *now.empty_pcns) if c not in base_names]
        for code in new_pcns:
            lines += ["", "[[add_pcn]]", f"code = {esc(code)}"]
            if now_names.get(code):
                lines.append(f"name = {esc(now_names[code])}")
        diff = base.diff(now)
        moves: dict[str, list[str]] = {}
        for p, to in zip(diff[PRACTICE_CODE], diff["to_pcn_code"], strict=True):
            moves.setdefault(to, []).append(p)
        for to, practices in moves.items():
            if to:
                lines += ["", "[[move]]", f"practices = {esc(practices)}", f"to = {esc(to)}"]
        if "" in moves:
            lines += ["", "[[unassign]]", f"practices = {esc(moves[''])}"]
        for code, pcn_name in now_names.items():
            if code in base_names and base_names[code] != pcn_name:
                lines += ["", "[[rename]]", f"pcn = {esc(code)}", f"name = {esc(pcn_name)}"]
        return "\n".join(lines) + "\n"

    def to_scenario(self, path: str | Path, *, name: str | None = None) -> Path:
        """Write the session as a TOML scenario file that ``geo-pcn scenario`` accepts.

        The scenario holds the net change from the study's own configuration (not each
        step): applied to it, it reproduces the editor's configuration exactly.

        Parameters
        ----------
        path
            The ``.toml`` file to write.
        name
            The scenario's name (default: "Editor session on <study>").

        Returns
        -------
        pathlib.Path
            ``path``.
        """
        path = Path(path)
        path.write_text(self.to_scenario_text(name=name), encoding="utf-8")
        return path

    # -- display ----------------------------------------------------------------------------
    def __repr__(self) -> str:
        sev = self.report.by_severity()
        return (
            f"<Editor {self.study.name!r}: {count(len(self.history), 'move')}; "
            f"{'PASS' if self.report.ok else 'FAIL'}, errors {sev['error']}, "
            f"warnings {sev['warning']}>"
        )

    def _repr_html_(self) -> str:
        return self.report._repr_html_()

    def widget(self, **kwargs: Any):
        """The map widget on this editor (needs ``pip install geo_pcn[notebook]``); see
        :func:`geo_pcn.editor_widget.editor_widget`."""
        from geo_pcn.editor_widget import editor_widget

        return editor_widget(self, **kwargs)
