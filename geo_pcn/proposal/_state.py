"""The heuristic's state: each practice's slot, each slot's members and size, and the
rules it checks as it moves practices (the band and caps, contiguity as the check counts
pieces, the crossings a slot adds)."""

from __future__ import annotations

from collections import deque


class _State:
    def __init__(self, part) -> None:
        self.part = part
        n = len(part.practices)
        self.n = n
        self.w = list(part.weights)
        self.placed = list(part.placed)
        self.needs = list(part.needs) if part.needs else list(part.placed)
        self.adj: list[list[int]] = [[] for _ in range(n)]
        for i, j in part.edges:
            self.adj[i].append(j)
            self.adj[j].append(i)
        self.slots = part.slots
        self.allowed: list[set[int]] = [set() for _ in range(n)]
        for k, s in enumerate(part.slots):
            for p in s.candidates:
                self.allowed[p].add(k)
        self.low, self.high = part.band
        free = [s.cap if s.cap is not None else 1 << 62 for s in part.slots]
        self.lows = [self.low if s.band else 0 for s in part.slots]
        self.highs = [self.high if s.band else free[k] for k, s in enumerate(part.slots)]
        # a patient over a cap weighs more than every patient outside the band together:
        # a cap is kept before the band is sought (an answer outside the band is shown
        # when nothing better is found; one over a cap never is)
        heavy = sum(self.w) + 1
        self.over = [1 if s.band or s.cap is None else heavy for s in part.slots]
        self.a = [-1] * n
        self.members: list[set[int]] = [set() for _ in part.slots]
        self.size = [0] * len(part.slots)
        # the lines: each layer's area per practice, and the areas each slot held
        self.lines = []
        for _, area in part.lines:
            held: list[set[int]] = [set() for _ in part.slots]
            for p, k in enumerate(part.current):
                if k >= 0 and area[p] >= 0 and not part.slots[k].new:
                    held[k].add(area[p])
            self.lines.append((area, held))

    def crossings(self, k: int, members) -> int:
        """Crossings slot ``k`` adds holding ``members`` (as the model counts them)."""
        total = 0
        for area, held in self.lines:
            areas = {area[p] for p in members if area[p] >= 0}
            if areas:
                total += max(len(areas - held[k]) - (0 if held[k] else 1), 0)
        return total

    def lines_after(self, moves) -> int:
        """Crossings the slots that ``moves`` (``(practice, to)`` pairs) touch add once
        they are made, less those they add now (0 when the part keeps no lines)."""
        if not self.lines:
            return 0
        after: dict[int, set[int]] = {}
        for p, t in moves:
            f = self.a[p]
            for k in (f, t):
                if k >= 0 and k not in after:
                    after[k] = set(self.members[k])
        for p, t in moves:
            if self.a[p] >= 0:
                after[self.a[p]].discard(p)
            after[t].add(p)
        return sum(
            self.crossings(k, m) - self.crossings(k, self.members[k]) for k, m in after.items()
        )

    # -- bookkeeping --------------------------------------------------------------------

    def put(self, p: int, k: int) -> None:
        old = self.a[p]
        if old >= 0:
            self.members[old].discard(p)
            self.size[old] -= self.w[p]
        self.a[p] = k
        if k >= 0:
            self.members[k].add(p)
            self.size[k] += self.w[p]

    def limit(self, k: int) -> tuple[int, int]:
        """(lowest, highest) patients slot ``k`` may hold when used."""
        return self.lows[k], self.highs[k]

    def penalty_of(self, k: int, size: int, used: bool) -> int:
        """Patients slot ``k`` holding ``size`` is outside its limits (0 when unused),
        those over a cap weighted to outweigh all the rest (:attr:`over`)."""
        if not used:
            return 0
        if size < self.lows[k]:
            return self.lows[k] - size
        if size > self.highs[k]:
            return (size - self.highs[k]) * self.over[k]
        return 0

    def over_caps(self) -> int:
        """Patients over the caps of the slots free of the band."""
        return sum(
            max(self.size[k] - self.highs[k], 0)
            for k, s in enumerate(self.slots)
            if self.members[k] and not s.band
        )

    def outside_band(self) -> list[int]:
        """The used slots outside their limits."""
        return [
            k for k in range(len(self.slots))
            if self.members[k] and self.penalty_of(k, self.size[k], True) > 0
        ]  # fmt: skip

    def penalty(self) -> int:
        slots = range(len(self.slots))
        return sum(self.penalty_of(k, self.size[k], bool(self.members[k])) for k in slots)

    def cost(self, p: int, k: int) -> int:
        """What putting ``p`` in ``k`` costs (patients or practices moved)."""
        k0 = self.part.current[p]
        if k0 == -1 or k0 == k:
            return 0
        if k0 == -2:
            return 0  # it moves whatever it joins (a constant)
        return 1 if self.part.objective == "practices" else self.w[p]

    # -- contiguity ---------------------------------------------------------------------

    def connected(self, k: int, members) -> bool:
        """Whether ``members`` in slot ``k`` form one piece, as the check counts pieces."""
        if not self.slots[k].contiguous:
            return True
        nodes = {p for p in members if self.placed[p]}
        pieces = 0
        seen: set[int] = set()
        for start in sorted(nodes):
            if start in seen:
                continue
            seen.add(start)
            queue, needed = deque([start]), self.needs[start]
            while queue:
                p = queue.popleft()
                for q in self.adj[p]:
                    if q in nodes and q not in seen:
                        seen.add(q)
                        needed = needed or self.needs[q]
                        queue.append(q)
            pieces += needed
            if pieces > 1:
                return False
        return True

    def touches(self, p: int, k: int) -> bool:
        """Whether ``p`` joining slot ``k`` keeps it in one piece."""
        if not self.placed[p] or not self.slots[k].contiguous or not self.members[k]:
            return True
        # next to a member that must be connected: in the slot's one piece (a member with
        # no patients may be a piece apart, one that joining through it would count)
        if any(self.a[q] == k and self.placed[q] and self.needs[q] for q in self.adj[p]):
            return True
        return self.connected(k, self.members[k] | {p})

    def components(self, k: int) -> list[set[int]]:
        """The connected groups of slot ``k``'s placed members."""
        return self.pieces({p for p in self.members[k] if self.placed[p]})

    def pieces(self, nodes: set[int]) -> list[set[int]]:
        """The connected groups of ``nodes`` in the graph, from the smallest index up."""
        out, seen = [], set()
        for start in sorted(nodes):
            if start in seen:
                continue
            comp, queue = {start}, deque([start])
            seen.add(start)
            while queue:
                p = queue.popleft()
                for q in self.adj[p]:
                    if q in nodes and q not in seen:
                        seen.add(q)
                        comp.add(q)
                        queue.append(q)
            out.append(comp)
        return out

    def hops(self, nodes: set[int], sources) -> dict[int, int]:
        """Graph steps from the nearest of ``sources`` to each of ``nodes`` it reaches,
        staying within ``nodes``."""
        dist = {s: 0 for s in sources}
        queue = deque(sorted(sources))
        while queue:
            p = queue.popleft()
            for q in self.adj[p]:
                if q in nodes and q not in dist:
                    dist[q] = dist[p] + 1
                    queue.append(q)
        return dist
