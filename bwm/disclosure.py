"""Disclosure control for the figures we publish ourselves (municipal data files): pure, no I/O.

Municipal figures describe vulnerable people (debt counselling, bijstand, food bank clients), so nothing
that identifies a small group may reach a page or an export. Applied per (indicator, year) over each
municipality's hierarchy gemeente > wijken > buurten:

* **Small figures.** A count below ``min_count`` (BWM_DISCLOSURE_MIN_COUNT, default 10; zero included) is
  suppressed. A rate (percentage, per 1 000) is a share of a group: its numerator (the people with the
  characteristic) and its complement (the cases without it, denominator minus numerator) are both counts
  of people, so a rate is suppressed when either is below ``min_cases`` (BWM_DISCLOSURE_MIN_CASES,
  default 10): 10% of 10 cases (1 person) and 0% of 25 cases (0 people) are suppressed, 50% of 40 is not.
  A suppressed rate loses its numerator and denominator too.
* **Protection against the totals.** A total is the sum of its parts (wijk = its buurten, gemeente = its
  wijken; for rates the numerators and the complements add up the same way). From the published cells of
  one indicator and year, each suppressed cell is then confined to an interval: the minimum and maximum it
  can take with every published cell fixed, every total the sum of its parts and every cell at least 0 (a
  linear programme). Further cells are suppressed until that interval is at least the threshold wide for
  every suppressed cell, and for rates for its numerator and its complement alike. In a hierarchy the
  linear programme is a flow problem on a network (relations are nodes, cells are arcs, see ``_Tree``), so
  the interval is computed exactly by maximum flow; a suppressed cell never narrows another cell's interval,
  so cells are protected one after the other and stay protected. Where a cell needs protection, the cells
  that widen its interval at the least loss of information (the sum of their sizes: the count, or the
  number of cases of a rate; doubled per level above the buurt, so totals are spared) are suppressed with
  it.

Every suppressed cell carries the same reason, ``suppressed_small_count`` (marker ``x``): whether a cell is
small itself or hidden to protect another is not published, since a marker that told them apart would tell
the reader which cells are small. How the protecting cells are chosen is deliberately not described in
what we publish (pages, exports, README): a published choice rule ("the smallest other part") is knowledge
that narrows the intervals.

What this protects against, and what not: from the published cells of the same indicator and year, no
suppressed cell can be computed, nor bounded to an interval narrower than the threshold
(``tests/test_disclosure_lp.py`` attacks constructed and random hierarchies with linear programming).
Not covered: differences between years (a buurt shown one year and suppressed the next), figures about
the same people delivered as separate indicators (a count and a rate whose number of cases is that
count), and knowledge from outside the monitor (the number of cases of a suppressed rate, say).

CBS's own figures are not touched here: CBS applies its disclosure control before publishing, and what it
suppressed stays missing with its own reason (``suppressed_by_cbs``).
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

SUPPRESSED_SMALL_COUNT = "suppressed_small_count"

#: Every missing_reason a published value can carry, with the marker used in wide exports and its
#: explanation (Dutch, English). The notes sheet of every export lists them.
MISSING_REASONS: dict[str, tuple[str, str, str]] = {
    SUPPRESSED_SMALL_COUNT: (
        "x",
        "Afgeschermd: te weinig personen. Een aantal onder de drempel, een percentage waarvan de teller of de "
        "rest (noemer min teller) onder de drempel ligt, of een cijfer dat is weggelaten zodat zo'n cijfer "
        "niet uit de totalen te berekenen of nauw te begrenzen is (afscherming door de monitor).",
        "Suppressed: too few people. A count below the threshold, a rate whose numerator or remainder "
        "(denominator minus numerator) is below the threshold, or a figure left out so that such a figure "
        "cannot be computed or narrowly bounded from the totals (disclosure control by the monitor).",
    ),
    "suppressed_by_cbs": (
        ".",
        "Ontbreekt: het CBS heeft dit cijfer niet gepubliceerd (geheim of te weinig waarnemingen bij het CBS).",
        "Missing: CBS did not publish this figure (its own disclosure control or too few observations).",
    ),
    "not_published_yet": (
        "n.g.",
        "Nog niet gepubliceerd: het CBS heeft dit cijfer in deze versie van de tabel nog voor geen enkel gebied "
        "ingevuld; een latere versie van dezelfde tabel bevat het.",
        "Not published yet: CBS has not filled this figure for any area in this release of the table; a later "
        "release of the same table will have it.",
    ),
    "not_measured": (
        "n.g.m.",
        "Niet gemeten: dit onderwerp is in deze periode niet gevraagd in de Gezondheidsmonitor, of staat niet "
        "in de gebruikte gezondheidstabel.",
        "Not measured: the health monitor did not ask about this topic in this period, or the health table in "
        "use does not have it.",
    ),
    "unit_quarantined": (
        "e?",
        "In quarantaine: het CBS levert dit cijfer in een andere eenheid dan verwacht; het is weggelaten in "
        "plaats van verkeerd omgerekend (zie de statuspagina).",
        "Quarantined: CBS delivers this figure in a unit other than expected; it is left out rather than "
        "converted wrongly (see the status page).",
    ),
    "not_published": (
        "n.b.",
        "Niet beschikbaar: de bron bevat dit cijfer niet voor dit jaar of dit gebied.",
        "Not available: the source has no figure for this year or this area.",
    ),
    "no_denominator": (
        "n.v.t.",
        "Niet te berekenen: de noemer van de verhouding is 0 of onbekend.",
        "Cannot be computed: the ratio's denominator is 0 or unknown.",
    ),
    "denominator_too_small": (
        "k.n.",
        "Weggelaten: de noemer is te klein voor een betrouwbare verhouding (het CBS rondt kleine aantallen af).",
        "Left out: the denominator is too small for a reliable ratio (CBS rounds small counts).",
    ),
    "inconsistent_counts": (
        "i.a.",
        "Weggelaten: de afgeronde teller is groter dan de afgeronde noemer.",
        "Left out: the rounded numerator exceeds the rounded denominator.",
    ),
    "not_aggregable": (
        "n.s.",
        "Niet samen te voegen: een cijfer van de gemeente vóór haar herindeling, dat de monitor niet uit de cijfers "
        "van de gemeenten waaruit ze is ontstaan kan berekenen (een mediaan).",
        "Cannot be combined: a figure of the municipality before its merger that the monitor cannot compute from "
        "the figures of the municipalities it was formed from (a median).",
    ),
    "predecessor_missing": (
        "v.o.",
        "Voorganger ontbreekt: een cijfer van de gemeente vóór haar herindeling, niet te berekenen omdat een van de "
        "gemeenten waaruit ze is ontstaan er geen heeft.",
        "Predecessor missing: a figure of the municipality before its merger that cannot be computed because one of "
        "the municipalities it was formed from has none.",
    ),
}
#: A marker for a reason this module does not know (a newer layer added one); never empty.
UNKNOWN_MARKER = "?"

#: Numerators formed from a delivered rate (value x cases / factor) carry floating-point noise
#: (9.999999999999998 for 10 people); they are compared to the threshold rounded to this many decimals.
_DECIMALS = 6


def marker(reason: str | None) -> str | None:
    """The short marker shown in a wide table for a missing value with this reason (None when not missing)."""
    if reason is None:
        return None
    return MISSING_REASONS.get(reason, (UNKNOWN_MARKER,))[0]


@dataclass(frozen=True)
class DisclosureRule:
    """The thresholds; counts of people below them are never published."""

    min_count: float = 10
    min_cases: float = 10

    def is_primary(self, kind: str, value: float | None, n_cases: float | None = None, *,
                   numerator: float | None = None, factor: float = 100.0) -> bool:
        """Whether a cell must be suppressed on its own: ``kind`` is 'count' or 'rate'.

        For a rate, ``numerator`` is the number of people with the characteristic (value x n_cases / factor
        when not given); the rate is suppressed when it or its complement (n_cases - numerator) is below
        ``min_cases``.
        """
        if kind == "count":
            return value is not None and value < self.min_count
        if kind == "rate":
            # A rate without a known number of cases cannot be judged, so it is not published.
            if n_cases is None:
                return True
            if numerator is None:
                if value is None:
                    return True
                numerator = value * n_cases / factor
            numerator = round(numerator, _DECIMALS)
            complement = round(n_cases - numerator, _DECIMALS)
            return numerator < self.min_cases or complement < self.min_cases
        raise ValueError(f"kind must be 'count' or 'rate', not {kind!r}")


def suppress(parent: Mapping[str, str | None], values: Mapping[str, float | Sequence[float]],
             primary: Iterable[str], threshold: float,
             cost: Mapping[str, float] | None = None) -> dict[str, str]:
    """Small cells plus the cells that protect them, on one hierarchy; returns ``{cell: reason}``.

    ``parent`` maps every published cell to its parent cell (None, or a cell not in ``parent``, for the top);
    a parent's value must be the sum of its children in ``parent``. ``values`` gives per cell the additive
    quantities that must stay protected: one number for a count, (numerator, complement) for a rate; each
    must end up with an interval at least ``threshold`` wide in every suppressed cell. ``cost`` is the loss
    of suppressing a cell (default: the sum of its quantities; for a rate pass its number of cases).
    ``primary`` are the cells that fail the rule on their own.
    """
    quantities = {c: _as_tuple(values.get(c, 0.0)) for c in parent}
    width = max((len(q) for q in quantities.values()), default=1)
    quantities = {c: q + (0.0,) * (width - len(q)) for c, q in quantities.items()}
    loss = {c: float(cost[c]) if cost is not None and c in cost else sum(quantities[c]) for c in parent}
    suppressed: set[str] = {c for c in primary if c in parent}
    for tree in _Tree.split(parent):
        tree.protect(suppressed, quantities, loss, threshold)
    return {c: SUPPRESSED_SMALL_COUNT for c in sorted(suppressed)}


def intervals(parent: Mapping[str, str | None], values: Mapping[str, float], suppressed: Iterable[str]
              ) -> dict[str, tuple[float, float]]:
    """The exact [min, max] of each suppressed cell given the published cells (one additive quantity):
    what the linear programme of an attacker finds, by maximum flow. ``math.inf`` for no upper bound."""
    hidden = {c for c in suppressed if c in parent}
    out: dict[str, tuple[float, float]] = {}
    for tree in _Tree.split(parent):
        for c in sorted(hidden & tree.cells):
            v = max(0.0, float(values.get(c, 0.0)))
            up, down = tree.movement(c, hidden, lambda j: max(0.0, float(values.get(j, 0.0))), math.inf)
            out[c] = (v - min(v, down), v + up)
    return out


def _as_tuple(value: float | Sequence[float]) -> tuple[float, ...]:
    if isinstance(value, (int, float)):
        return (max(0.0, float(value)),)
    return tuple(max(0.0, float(v)) for v in value)


_OUTSIDE = "\x00outside"  # the node every leaf flows into and every top flows out of


class _Tree:
    """One municipality's hierarchy as a network: a node per relation (a cell with children: inflow the cell,
    outflow its children) and one outside node; each cell is an arc from its parent's relation (or the
    outside, for the top) to its own relation (or the outside, for a cell without children). Every relation
    total = sum of parts is then conservation of flow, and the values an attacker can give the suppressed
    cells are the published flow plus a circulation over the suppressed arcs that keeps every cell >= 0:
    a suppressed cell j can rise without limit, or fall by at most its value."""

    def __init__(self, parent: Mapping[str, str | None], cells: set[str]):
        self.cells = cells
        has_children = {p for c, p in parent.items() if c in cells and p is not None and p in parent}
        self.arc: dict[str, tuple[str, str]] = {}
        for c in cells:
            p = parent[c]
            tail = f"R:{p}" if p is not None and p in parent else _OUTSIDE
            head = f"R:{c}" if c in has_children else _OUTSIDE
            self.arc[c] = (tail, head)
        self.depth = {c: self._depth(parent, c) for c in cells}
        # Higher levels weigh more when protecting cells are chosen: a wijk or gemeente total is read more
        # than a buurt, so hiding it loses more (x2 per level above the lowest).
        kids: dict[str, list[str]] = defaultdict(list)
        for c in cells:
            if parent[c] in cells:
                kids[parent[c]].append(c)
        self.height: dict[str, int] = {}
        for c in sorted(cells, key=lambda c: -self.depth[c]):
            self.height[c] = 1 + max((self.height[k] for k in kids[c]), default=-1)

    @staticmethod
    def _depth(parent, c) -> int:
        d = 0
        while parent.get(c) is not None and parent[c] in parent:
            c, d = parent[c], d + 1
        return d

    @classmethod
    def split(cls, parent: Mapping[str, str | None]) -> list[_Tree]:
        """One tree per top cell (the outside node joins them, but no flow crosses from one to another)."""
        def top(c):
            seen = set()
            while parent.get(c) is not None and parent[c] in parent and c not in seen:
                seen.add(c)
                c = parent[c]
            return c
        groups: dict[str, set[str]] = defaultdict(set)
        for c in parent:
            groups[top(c)].add(c)
        return [cls(parent, groups[t]) for t in sorted(groups)]

    def _graph(self, hidden: Iterable[str], skip: str, amount) -> dict[str, dict[str, float]]:
        """Residual capacities of the suppressed arcs other than ``skip``: up without limit, down by ``amount``."""
        cap: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for j in hidden:
            if j == skip:
                continue
            tail, head = self.arc[j]
            if tail == head:
                continue
            cap[tail][head] = math.inf
            cap[head][tail] += amount(j)
        return cap

    def movement(self, cell: str, hidden: set[str], amount, limit: float) -> tuple[float, float]:
        """How far ``cell`` can rise and fall (each up to ``limit``) with the other suppressed cells
        compensating: maximum flows between the ends of its arc through the other suppressed arcs."""
        tail, head = self.arc[cell]
        if tail == head:  # a cell in no relation: nothing bounds it
            return math.inf, amount(cell)
        up = _max_flow(self._graph(hidden, cell, amount), head, tail, limit)[0]
        down = _max_flow(self._graph(hidden, cell, amount), tail, head, min(limit, amount(cell)))[0]
        return up, min(down, amount(cell))

    def protect(self, hidden: set[str], quantities: Mapping[str, tuple[float, ...]], loss: Mapping[str, float],
                threshold: float) -> None:
        """Add cells to ``hidden`` (in place) until every suppressed cell of this tree can move by at least
        ``threshold`` in each quantity. Adding a cell only adds paths to the network, so a protected cell stays
        protected and each is dealt with once, lowest level first."""
        n_quantities = len(next(iter(quantities.values()), (0.0,)))
        order = lambda c: (-self.depth[c], c)  # noqa: E731
        done: set[str] = set()
        while True:
            todo = sorted((c for c in hidden & self.cells if c not in done), key=order)
            if not todo:
                return
            cell = todo[0]
            for q in range(n_quantities):
                amount = lambda j, q=q: quantities[j][q]  # noqa: E731
                while True:
                    up, down = self.movement(cell, hidden, amount, threshold)
                    need = threshold - up - down
                    if need <= 1e-9:
                        break
                    added = self._widen(cell, hidden, amount, loss, need)
                    if not added:  # everything is suppressed already: nothing more to hide
                        break
                    hidden |= added
            done.add(cell)

    def _widen(self, cell: str, hidden: set[str], amount, loss: Mapping[str, float], need: float) -> set[str]:
        """The published cells on the cheapest path that lets ``cell`` rise further by ``need`` (or, if no
        path carries that much, by anything): a path from the head of its arc back to its tail through the
        residual network of the suppressed arcs (free) and the published arcs (at their loss)."""
        tail, head = self.arc[cell]
        _, residual = _max_flow(self._graph(hidden, cell, amount), head, tail, math.inf)
        # Published arcs: (from, to) -> [(loss, cell, capacity)]; rising is unlimited, falling by its value.
        extra: dict[str, list[tuple[str, float, str, float]]] = defaultdict(list)
        for j in sorted(self.cells - hidden - {cell}):
            t, h = self.arc[j]
            if t == h:
                continue
            weight = loss[j] * 2 ** self.height[j]
            extra[t].append((h, weight, j, math.inf))
            extra[h].append((t, weight, j, amount(j)))
        for minimum in (need, 1e-9):
            path = _cheapest_path(residual, extra, head, tail, minimum)
            if path is not None:
                return path
        return set()


def _max_flow(cap: dict[str, dict[str, float]], source: str, sink: str, limit: float
              ) -> tuple[float, dict[str, dict[str, float]]]:
    """Edmonds-Karp on residual capacities ``cap`` (changed in place), stopping once ``limit`` is reached;
    returns the flow (``math.inf`` if an unlimited path exists) and the residual network."""
    flow = 0.0
    while flow < limit:
        prev: dict[str, str] = {source: source}
        queue = deque([source])
        while queue and sink not in prev:
            u = queue.popleft()
            for v in sorted(cap.get(u, {})):
                if v not in prev and cap[u][v] > 1e-12:
                    prev[v] = u
                    queue.append(v)
        if sink not in prev:
            break
        path, v = [], sink
        while v != source:
            path.append((prev[v], v))
            v = prev[v]
        push = min(min(cap[u][v] for u, v in path), limit - flow)
        if push == math.inf:
            return math.inf, cap
        for u, v in path:
            cap[u][v] -= push
            cap[v][u] += push
        flow += push
    return flow, cap


def _cheapest_path(residual, extra, source: str, sink: str, minimum: float) -> set[str] | None:
    """Dijkstra over residual arcs (free) and published arcs (at their loss) with capacity >= ``minimum``;
    the published cells on the cheapest path (ties: fewer cells, then names), or None."""
    best: dict[str, tuple[float, int]] = {source: (0.0, 0)}
    via: dict[str, tuple[str, str | None]] = {}
    heap = [(0.0, 0, source)]
    while heap:
        d, n, u = heapq.heappop(heap)
        if (d, n) > best.get(u, (math.inf, 0)):
            continue
        if u == sink:
            break
        steps = [(v, 0.0, None) for v, c in sorted(residual.get(u, {}).items()) if c >= minimum - 1e-9 and c > 1e-12]
        steps += [(v, w, j) for v, w, j, c in extra.get(u, []) if c >= minimum - 1e-9 and c > 1e-12]
        for v, w, j in steps:
            cand = (d + w, n + (j is not None))
            if cand < best.get(v, (math.inf, 0)):
                best[v] = cand
                via[v] = (u, j)
                heapq.heappush(heap, (cand[0], cand[1], v))
    if sink not in via and sink != source:
        return None
    cells, v = set(), sink
    while v != source:
        u, j = via[v]
        if j is not None:
            cells.add(j)
        v = u
    return cells
