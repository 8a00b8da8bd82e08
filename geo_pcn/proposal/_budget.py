"""The time of a run shared between its parts: each part is given ``time_limit`` seconds,
and the seconds a part leaves unused go to the parts not yet started, the larger a part
the larger its share (:class:`_Budget`); parts start smallest first, so that the many
parts proven in seconds have left their time by the time the largest start.

A run therefore never takes more solver time than every part at ``time_limit`` would (the
sum of the limits is ``time_limit`` times the parts), and the parts still open at their
limit get what the others did not need. :func:`share` starts the parts on any executor
(local processes, a Dask cluster) with ``slots`` parts at a time, each with the limit the
budget gives it when it starts. A part gets at most :data:`MOST` times its own limit, so
a run whose parts end early ends early too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from geo_pcn.proposal._part import Part, PartResult

__all__ = ["share"]


#: the most a part may get, as a share of its own ``time_limit``, with the spare seconds
#: of the parts before it: the seconds the others leave unused are not all spent (before
#: this cap, a run took all of ``time_limit`` times the parts whatever its parts needed;
#: the parts at their limit on July 2022 got at most 1.5 times their own, E54000008 45.8 s
#: of 30, so that is what is kept)
MOST = 1.5


class _Budget:
    """The seconds of a run: ``time_limit`` per part, the unused ones shared on (up to
    :data:`MOST` times its own to a part)."""

    def __init__(self, parts: Sequence[Part]) -> None:
        self.parts = parts
        #: smallest first (practices, then name): the order the parts start in
        self.order = sorted(range(len(parts)), key=lambda i: (len(parts[i].practices), i))
        self.spare = 0.0  # seconds left unused by the parts finished
        self.given: dict[int, float] = {}

    def limit(self, i: int) -> float:
        """The seconds part ``i`` gets as it starts: its own, and of the spare seconds its
        share by practices among the parts not yet started (itself included)."""
        own = self.parts[i].time_limit
        waiting = [j for j in self.order if j not in self.given]
        weight = sum(len(self.parts[j].practices) for j in waiting) or 1
        extra = max(self.spare, 0.0) * len(self.parts[i].practices) / weight
        extra = min(extra, (MOST - 1.0) * own)  # the rest is left for the parts after
        self.spare -= extra
        self.given[i] = own + extra
        return self.given[i]

    def finished(self, i: int, seconds: float) -> None:
        """Part ``i`` took ``seconds``: what it did not use (or its overrun) is shared on."""
        self.spare += self.given[i] - seconds


def share(
    parts: Sequence[Part],
    slots: int,
    submit: Callable[[Part], Any],
    first_done: Callable[[set], set],
) -> list[PartResult]:
    """Every part solved, ``slots`` at a time, smallest first, each given its time as it
    starts (:class:`_Budget`). ``submit(part)`` starts one and returns a future (whose
    ``result()`` is its :class:`PartResult`); ``first_done(futures)`` waits for one of them
    at least and returns those done. Results come back in the order of ``parts``."""
    budget = _Budget(parts)
    waiting = list(budget.order)
    running: dict[Any, int] = {}
    out: dict[int, PartResult] = {}
    while waiting or running:
        while waiting and len(running) < max(slots, 1):
            i = waiting.pop(0)
            running[submit(replace(parts[i], time_limit=budget.limit(i)))] = i
        for future in first_done(set(running)):
            i = running.pop(future)
            out[i] = future.result()
            budget.finished(i, out[i].seconds)
    return [out[i] for i in range(len(parts))]


class _Now:
    """A future already done (the part solved in this process)."""

    def __init__(self, value: PartResult) -> None:
        self.value = value

    def result(self) -> PartResult:
        return self.value


def local(parts: Sequence[Part], n: int, solve: Callable[[Part], PartResult]):
    """Every part solved in ``n`` local processes (fork where there is one: the workers
    need nothing of the parent but the parts, and a planner's script without an ``if
    __name__ == "__main__":`` guard still works), the time shared as :func:`share` shares
    it, one CP-SAT search at a time among them (:func:`geo_pcn.proposal._cpsat.one_at_a_time`)."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    from geo_pcn.proposal._cpsat import one_at_a_time

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    lock = context.Lock()
    with ProcessPoolExecutor(
        n, mp_context=context, initializer=one_at_a_time, initargs=(lock,)
    ) as pool:
        return share(
            parts, n, lambda p: pool.submit(solve, p),
            lambda fs: wait(fs, return_when=FIRST_COMPLETED).done,
        )  # fmt: skip


def in_turn(parts: Sequence[Part], solve: Callable[[Part], PartResult]) -> list[PartResult]:
    """Every part solved in this process, one after the other, the time shared as
    :func:`share` shares it."""
    return share(parts, 1, lambda part: _Now(solve(part)), lambda futures: futures)


#: the share of a part's ``time_limit`` its solves again may take together (the rounds of
#: :func:`geo_pcn.proposal._judge.judged` and the softer freeze): with the first solves'
#: ``time_limit`` each, a run's solver time is at most ``(1 + AGAIN) * time_limit * parts``.
#: Each begins from the part's answer before (``Part.start``). Measured on the two ICBs
#: of July 2022 the softer freeze solves again (30 s a part, load 4-6 on 2 cores): at 0.5
#: (15 s) E54000023 ended at the time limit 24% from its bound and E54000052 7%; at 1.0
#: they were proven optimal and within 1% after 15.2 s and 20.9 s: 0.75 (22.5 s) holds both.
AGAIN = 0.75

#: the least share of ``time_limit`` worth solving a part again for (less: the part is
#: not solved again, as if it had found nothing, and the last resort follows)
LEAST = 0.05


class Again:
    """The seconds each part may still be solved again for: :data:`AGAIN` of
    ``time_limit`` in all, whatever the rounds (by part name)."""

    def __init__(self, time_limit: float) -> None:
        self.time_limit = float(time_limit)
        self.spent: dict[str, float] = {}

    def left(self, name: str) -> float:
        """The seconds part ``name`` may be solved again for (0: not worth it)."""
        left = AGAIN * self.time_limit - self.spent.get(name, 0.0)
        return left if left >= LEAST * self.time_limit else 0.0

    def took(self, name: str, seconds: float) -> None:
        self.spent[name] = self.spent.get(name, 0.0) + seconds
