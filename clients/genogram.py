"""Genogram ("familjekarta") layout and SVG drawing, in pure Python.

A therapist records a client's family over up to five generations; this module draws it as a
genogram in McGoldrick notation. `layout()` decides where every symbol and line goes and returns a
`Layout` of plain numbers (so tests can check geometry without parsing SVG); `render_svg()` turns
that into one SVG 1.1 string used both inline in HTML and in WeasyPrint PDFs. WeasyPrint runs no
JavaScript and handles CSS inside SVG poorly, so all styling is presentation attributes.

How the layout works:

1. Partners of the same generation form a *cluster* (e.g. first wife - father - mother) that
   always sits together, ordered so the man of a current couple is on the left where possible.
2. Row order comes from a depth-first walk down from the oldest ancestors, children of each union
   oldest first; the roots are taken in the order of their descendants (father's parents before
   mother's), and people connected to nobody go last.
3. x positions are refined by sweeps, down (each sibling group centred under its parents' line)
   and up (each union centred over its children), until nothing moves. Each row is placed as close
   to those wishes as its order allows with centres at least X_GAP apart, so symbols never
   overlap whatever the sweeps want. For a real family this converges to an exactly centred tree.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple
from xml.etree import ElementTree
from xml.sax.saxutils import escape, quoteattr

SEXES = ("male", "female", "other")
PARTNER_KINDS = ("married", "cohabiting", "separated", "divorced")
EMOTIONAL_KINDS = ("close", "distant", "conflict", "cut_off", "abuse")
PAST_KINDS = ("separated", "divorced")
UNSPECIFIED = "unspecified"  # two parents of a child with no partner relationship recorded

# Every visible string; a caller may replace the values with translations.
LEGEND_LABELS = {
    "heading": "Teckenförklaring",
    "empty": "Familjekartan är tom.",
    "male": "man",
    "female": "kvinna",
    "other": "annan/okänd",
    "deceased": "avliden",
    "client": "klienten",
    "married": "gift",
    "cohabiting": "sambo",
    "separated": "separerade",
    "divorced": "skilda",
    UNSPECIFIED: "föräldrar, relation ej angiven",
    "close": "nära",
    "distant": "distanserad",
    "conflict": "konflikt",
    "cut_off": "bruten kontakt",
    "abuse": "övergrepp",
}

SYMBOL = 40  # width of a symbol
HALF = SYMBOL // 2
X_GAP = 96  # minimum distance between symbol centres: 2x the symbol plus room for a label
ROW_HEIGHT = 140
BAR_ABOVE = 50  # the sibling bar sits this far above the children's centres
TOP = 60  # room above the first row for emotional-line curves
SIDE = X_GAP // 2 + 12  # half a label plus a little air
MAX_SWEEPS = 60
LABEL_CHARS = 13  # longer labels are shortened on the drawing (full text in the tooltip)
CLIENT_RING = 6  # gap between the client's symbol and its second outline
INK, PAPER, ABUSE_INK = "#000000", "#ffffff", "#8b0000"  # dark red: 10:1 contrast on white
FONT = "DejaVu Sans, Arial, Helvetica, sans-serif"


class Point(NamedTuple):
    x: float
    y: float


@dataclass(frozen=True)
class Person:
    id: str
    label: str  # user input: escaped when drawn
    sex: str  # one of SEXES; anything else is drawn as "other"
    generation: int  # 0 grandparents ... 4 grandchildren
    birth_year: int | None = None
    death_year: int | None = None
    deceased: bool = False
    is_client: bool = False
    parents: tuple[str, ...] = ()  # ids of 0-2 people in the map

    @property
    def is_dead(self) -> bool:
        return self.deceased or self.death_year is not None


@dataclass(frozen=True)
class Relationship:
    a: str
    b: str
    kind: str  # PARTNER_KINDS or EMOTIONAL_KINDS


@dataclass(frozen=True)
class PartnerLine:
    a: str  # the partner on the left
    b: str
    kind: str  # PARTNER_KINDS or UNSPECIFIED
    points: tuple[Point, ...]  # a polyline: straight between neighbours, a bracket above otherwise
    slashes: tuple[tuple[Point, Point], ...] = ()  # one when separated, two when divorced

    @property
    def midpoint(self) -> Point:
        """Middle of the middle segment: where the line to the couple's children starts."""
        p, q = self.points[len(self.points) // 2 - 1], self.points[len(self.points) // 2]
        return Point((p.x + q.x) / 2, (p.y + q.y) / 2)

    @property
    def dashed(self) -> bool:
        return self.kind == "cohabiting"


@dataclass(frozen=True)
class ChildLine:
    parents: tuple[str, ...]
    children: tuple[str, ...]  # oldest first
    origin: Point  # partner-line midpoint, or the bottom of a single parent's symbol
    bar_y: float
    bar_x1: float
    bar_x2: float
    drops: tuple[Point, ...]  # top of each child's symbol

    @property
    def segments(self) -> tuple[tuple[Point, Point], ...]:
        bar = (Point(self.bar_x1, self.bar_y), Point(self.bar_x2, self.bar_y))
        down = (self.origin, Point(self.origin.x, self.bar_y))
        return (down, bar, *((Point(d.x, self.bar_y), d) for d in self.drops))


@dataclass(frozen=True)
class EmotionalLine:
    a: str
    b: str
    kind: str  # EMOTIONAL_KINDS
    start: Point  # a quadratic Bezier curve, bent away from the partner and child lines
    control: Point
    end: Point


@dataclass
class Layout:
    people: dict[str, Person]
    positions: dict[str, Point]  # centre of each symbol
    rows: dict[int, float]  # generation -> y
    width: float  # the family part; render_svg adds the legend below
    height: float
    partner_lines: list[PartnerLine]
    child_lines: list[ChildLine]
    emotional_lines: list[EmotionalLine]


# -- layout ---------------------------------------------------------------------------------------------


def layout(people: list[Person], relationships: list[Relationship]) -> Layout:
    by_id = _index(people)
    partners, emotional = _split_relationships(by_id, relationships)
    families = _families(by_id)
    for parents in families:  # co-parents always get a line for their children to hang from
        if len(parents) == 2:
            partners.setdefault(parents, UNSPECIFIED)
    adjacent = defaultdict(set)  # partners within one generation; they must sit together
    for a, b in partners:
        if by_id[a].generation == by_id[b].generation:
            adjacent[a].add(b)
            adjacent[b].add(a)
    clusters = _clusters(by_id, partners, adjacent)
    rows = _row_order(by_id, clusters, families)
    xs = _x_positions(rows, clusters, families, adjacent)

    shift = SIDE - min(xs.values(), default=0)
    row_y = {g: TOP + i * ROW_HEIGHT for i, g in enumerate(sorted(rows))}
    pos = {pid: Point(xs[pid] + shift, row_y[by_id[pid].generation]) for pid in by_id}
    index = {pid: i for row in rows.values() for i, pid in enumerate(row)}
    partner_lines = [_partner_line(a, b, kind, pos, index, by_id) for (a, b), kind in sorted(partners.items())]
    child_lines = [_child_line(parents, kids, pos, partner_lines, by_id) for parents, kids in families.items()]
    emotional_lines, seen = [], defaultdict(int)
    for a, b, kind in emotional:  # a second line between the same two people bends further out
        emotional_lines.append(_emotional_line(a, b, kind, pos, by_id, seen[frozenset((a, b))]))
        seen[frozenset((a, b))] += 1
    width = max([p.x for p in pos.values()], default=0) + SIDE
    height = (max(row_y.values()) + 70) if row_y else 40
    return Layout(by_id, pos, row_y, max(width, 320), height, partner_lines, child_lines, emotional_lines)


def _birth_key(p: Person) -> tuple:
    return (p.birth_year is None, p.birth_year or 0, p.id)  # oldest first, unknown years last


def _index(people: list[Person]) -> dict[str, Person]:
    """People by id, in a fixed order so the result never depends on the input order."""
    by_id: dict[str, Person] = {}
    for p in sorted(people, key=lambda p: (p.generation, *_birth_key(p))):
        if p.id in by_id:
            raise ValueError(f"duplicate person id {p.id!r}")
        by_id[p.id] = p
    return by_id


def _split_relationships(by_id, relationships):
    partners: dict[tuple[str, str], str] = {}
    emotional = []
    for r in sorted(relationships, key=lambda r: (r.a, r.b, r.kind)):
        if r.kind not in PARTNER_KINDS + EMOTIONAL_KINDS:
            raise ValueError(f"unknown relationship kind {r.kind!r}")
        if r.a == r.b or r.a not in by_id or r.b not in by_id:
            continue  # a deleted person must not break the drawing
        if r.kind in PARTNER_KINDS:  # one line per couple: the first kind in PARTNER_KINDS wins
            pair = tuple(sorted((r.a, r.b)))
            if pair not in partners or PARTNER_KINDS.index(r.kind) < PARTNER_KINDS.index(partners[pair]):
                partners[pair] = r.kind
        else:
            emotional.append((r.a, r.b, r.kind))
    return partners, emotional


def _families(by_id) -> dict[tuple[str, ...], list[str]]:
    """Children per union (sorted parent ids), oldest child first."""
    families: dict[tuple[str, ...], list[str]] = {}
    for p in sorted(by_id.values(), key=_birth_key):
        parents = tuple(sorted({q for q in p.parents if q in by_id and q != p.id}))[:2]
        if parents:
            families.setdefault(parents, []).append(p.id)
    return families


def _clusters(by_id, partners, adjacent) -> list[list[str]]:
    clusters, seen = [], set()
    for pid in by_id:
        if pid in seen:
            continue
        members, stack = [], [pid]
        seen.add(pid)
        while stack:
            q = stack.pop()
            members.append(q)
            for r in sorted(adjacent[q] - seen):
                seen.add(r)
                stack.append(r)
        clusters.append(_order_cluster(sorted(members), by_id, partners, adjacent))
    return clusters


def _order_cluster(members, by_id, partners, adjacent) -> list[str]:
    if len(members) == 1:
        return members
    ends = [m for m in members if len(adjacent[m]) == 1]
    if len(ends) == 2 and all(len(adjacent[m]) <= 2 for m in members):  # a chain: keep it a chain
        chain = [ends[0]]
        while len(chain) < len(members):
            chain.append(next(n for n in sorted(adjacent[chain[-1]]) if n not in chain))

        def convention(order):  # man left of woman, weighted so an ex-partner yields to a current one
            return sum(
                1 if partners[tuple(sorted(pair))] in PAST_KINDS else 2
                for pair in itertools.pairwise(order)
                if (by_id[pair[0]].sex, by_id[pair[1]].sex) == ("male", "female")
            )

        return max(chain, chain[::-1], key=convention)
    # Anything else (one person with three partners...): the hub in the middle, ex-partners left.
    hub = min(members, key=lambda m: (-len(adjacent[m]), m))
    near = sorted(adjacent[hub])
    past = [n for n in near if partners[tuple(sorted((hub, n)))] in PAST_KINDS]
    rest = [m for m in members if m != hub and m not in near]
    return [*past, hub, *(n for n in near if n not in past), *rest]


def _row_order(by_id, clusters, families) -> dict[int, list[str]]:
    cluster_of = {pid: i for i, c in enumerate(clusters) for pid in c}
    parents_of = {kid: parents for parents, kids in families.items() for kid in kids}
    ups = [list(dict.fromkeys(cluster_of[q] for m in c for q in parents_of.get(m, ()))) for c in clusters]
    downs = []
    for i, c in enumerate(clusters):
        place = {m: n for n, m in enumerate(c)}
        unions = sorted(
            (u for u in families if any(q in place for q in u)),
            key=lambda u: sum(place.get(q, 0) for q in u) / len(u),
        )
        downs.append([k for k in dict.fromkeys(cluster_of[kid] for u in unions for kid in families[u]) if k != i])

    roots, climbed = [], set()

    def climb(c):  # roots in the order their descendants want them: father's side first
        if c not in climbed:
            climbed.add(c)
            roots.extend([c] if not ups[c] else [])
            for u in ups[c]:
                climb(u)

    clients = [cluster_of[p] for p in by_id if by_id[p].is_client]
    for c in clients + sorted(range(len(clusters)), key=lambda c: -by_id[clusters[c][0]].generation):
        climb(c)
    roots.sort(key=lambda c: not downs[c])  # stable: people connected to nobody go last

    rows: dict[int, list[str]] = defaultdict(list)
    placed: set[int] = set()

    def place_tree(c):
        if c not in placed:
            placed.add(c)
            for pid in clusters[c]:
                rows[by_id[pid].generation].append(pid)
            for d in downs[c]:
                place_tree(d)

    for c in roots + list(range(len(clusters))):  # the tail catches parent cycles in bad data
        place_tree(c)
    return dict(rows)


def _x_positions(rows, clusters, families, adjacent) -> dict[str, float]:
    x = {pid: float(i * X_GAP) for row in rows.values() for i, pid in enumerate(row)}
    cluster_of = {pid: c for c in clusters for pid in c}
    connected = {p for u, kids in families.items() for p in (*u, *kids)} | set(adjacent)
    gens = sorted(rows)
    best, best_score = dict(x), _score(x, rows, families)
    for _ in range(MAX_SWEEPS):  # a real family settles after a handful of sweeps
        before = dict(x)
        for g in gens[1:]:
            _settle(rows[g], _down_wishes(rows[g], x, families), x, cluster_of, connected)
        for g in gens[-2::-1]:
            _settle(rows[g], _up_wishes(rows[g], x, families), x, cluster_of, connected)
        if (score := _score(x, rows, families)) < best_score:
            best, best_score = dict(x), score
        if x == before:
            break
    # Tangled data (two families linked twice, say) may never settle and slowly spread out
    # instead, so the best state seen wins, not the last.
    return best


def _score(x, rows, families) -> float:
    """How far sibling groups are from centred under their parents, plus a little for width."""
    off = 0.0
    for parents, kids in families.items():
        xs = [x[k] for k in kids]
        off += abs((min(xs) + max(xs)) / 2 - sum(x[p] for p in parents) / len(parents))
    return off + 0.1 * sum(x[row[-1]] - x[row[0]] for row in rows.values())


def _down_wishes(row, x, families):
    """Each sibling group (and the partners sitting among them) centred under its parents."""
    wishes = defaultdict(list)
    index = {pid: i for i, pid in enumerate(row)}
    for parents, kids in families.items():
        here = sorted(index[k] for k in kids if k in index)
        if here:
            shift = sum(x[p] for p in parents) / len(parents) - (x[row[here[0]]] + x[row[here[-1]]]) / 2
            for pid in row[here[0] : here[-1] + 1]:
                wishes[pid].append(x[pid] + shift)
    return wishes


def _up_wishes(row, x, families):
    """Each union, moved as a whole, centred over its children.

    Someone with two partners gets the average of both unions' wishes, so the gaps to the
    partners open up until each union sits over its own children. (Moving the partners alone,
    mirrored about the shared person, doubles every displacement and can run away.)
    """
    wishes = defaultdict(list)
    index = {pid: i for i, pid in enumerate(row)}
    for parents, kids in families.items():
        if all(p in index for p in parents):
            target = (min(x[k] for k in kids) + max(x[k] for k in kids)) / 2
            shift = target - sum(x[p] for p in parents) / len(parents)
            for p in parents:
                wishes[p].append(x[p] + shift)
    return wishes


def _settle(row, wishes, x, cluster_of, connected):
    """Move the row's people towards their wishes, keeping their order and X_GAP apart."""
    want = {pid: sum(w) / len(w) for pid, w in wishes.items()}  # only this row's people have wishes
    for pid in row:  # partners without a wish of their own move along with the nearest one who has
        if pid not in want:
            mates = [m for m in cluster_of[pid] if m in want]
            if mates:
                near = min(mates, key=lambda m: abs(x[m] - x[pid]))
                want[pid] = x[pid] + want[near] - x[near]
            elif pid in connected:
                want[pid] = x[pid]
    prev = None
    for pid in row:  # people connected to nobody close up to their left neighbour
        want.setdefault(pid, x[pid] if prev is None else want[prev] + X_GAP)
        prev = pid
    # Least squares with order and gap constraints: pool adjacent violators on x_i - i * X_GAP.
    # Unlike pushing everyone right, this splits a conflict evenly, so sweeps cannot drift.
    blocks: list[list[float]] = []  # [mean, size]
    for i, pid in enumerate(row):
        blocks.append([want[pid] - i * X_GAP, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            (m2, n2), (m1, n1) = blocks.pop(), blocks.pop()
            blocks.append([(m1 * n1 + m2 * n2) / (n1 + n2), n1 + n2])
    i, prev_x = 0, -math.inf
    for mean, size in blocks:
        for _ in range(int(size)):
            # Half pixels, so a child can sit exactly under the midpoint of its parents.
            x[row[i]] = max(math.floor(2 * (mean + i * X_GAP) + 0.5) / 2, prev_x + X_GAP)
            prev_x, i = x[row[i]], i + 1


def _reach(p: Person) -> float:
    return HALF + (CLIENT_RING if p.is_client else 0)


def _partner_line(a, b, kind, pos, index, by_id) -> PartnerLine:
    a, b = sorted((a, b), key=lambda p: (pos[p].x, p))
    pa, pb = pos[a], pos[b]
    if pa.y == pb.y and abs(index[a] - index[b]) != 1:  # someone sits between them: a bracket above
        ra, rb = _reach(by_id[a]), _reach(by_id[b])
        top = pa.y - max(ra, rb) - 14
        points = (Point(pa.x, pa.y - ra), Point(pa.x, top), Point(pb.x, top), Point(pb.x, pb.y - rb))
    else:  # centre to centre, drawn before the symbols, whose white fill hides the ends
        points = (pa, pb)
    line = PartnerLine(a, b, kind, points)
    mid = line.midpoint
    horizontal = points[len(points) // 2 - 1].y == points[len(points) // 2].y
    # Left of the midpoint, so they do not cross the line down to the children.
    return PartnerLine(a, b, kind, points, _slashes(kind, Point(mid.x - (12 if horizontal else 0), mid.y)))


def _slashes(kind, centre: Point) -> tuple[tuple[Point, Point], ...]:
    offsets = {"separated": (0,), "divorced": (-5, 5)}.get(kind, ())
    return tuple((Point(centre.x + dx - 5, centre.y + 9), Point(centre.x + dx + 5, centre.y - 9)) for dx in offsets)


def _child_line(parents, kids, pos, partner_lines, by_id) -> ChildLine:
    if len(parents) == 2:
        origin = next(ln.midpoint for ln in partner_lines if {ln.a, ln.b} == set(parents))
    else:
        p = pos[parents[0]]
        origin = Point(p.x, p.y + _reach(by_id[parents[0]]))
    bar_y = min(pos[k].y for k in kids) - BAR_ABOVE
    xs = [origin.x, *(pos[k].x for k in kids)]
    drops = tuple(Point(pos[k].x, pos[k].y - _reach(by_id[k])) for k in kids)
    return ChildLine(parents, tuple(kids), origin, bar_y, min(xs), max(xs), drops)


def _emotional_line(a, b, kind, pos, by_id, nth) -> EmotionalLine:
    pa, pb = pos[a], pos[b]
    ra, rb = _reach(by_id[a]) + 2, _reach(by_id[b]) + 2
    if pa.y == pb.y:
        # Same row: an arc above, clear of the partner line, from the upper corners that face each
        # other (the top centre is where the line from the parents arrives). Longer arcs rise
        # higher so arcs to the same person part, but stay below the sibling bar.
        side = 1 if pb.x > pa.x else -1
        start = Point(pa.x + side * ra * 0.7, pa.y - ra * 0.7)
        end = Point(pb.x - side * rb * 0.7, pb.y - rb * 0.7)
        control = Point((pa.x + pb.x) / 2, start.y - min(20 + abs(pb.x - pa.x) / 8, 56) - 10 * nth)
    else:  # between rows: bent sideways so it does not lie on a vertical child line
        d = math.dist(pa, pb)
        ux, uy = (pb.x - pa.x) / d, (pb.y - pa.y) / d
        start, end = Point(pa.x + ux * ra, pa.y + uy * ra), Point(pb.x - ux * rb, pb.y - uy * rb)
        bend = 18 + 12 * nth
        control = Point((start.x + end.x) / 2 - uy * bend, (start.y + end.y) / 2 + ux * bend)
    return EmotionalLine(a, b, kind, start, control, end)


# -- SVG --------------------------------------------------------------------------------------------------


def render_svg(
    layout: Layout,
    *,
    title: str,
    description: str = "",
    id_prefix: str = "genogram",
    labels: Mapping[str, str] | None = None,
) -> str:
    """The drawing as an SVG string. `labels` overrides LEGEND_LABELS (the caller's language)."""
    labels = {**LEGEND_LABELS, **(labels or {})}
    legend, legend_height = _legend(layout, labels)
    width, height = layout.width, layout.height + legend_height
    ids = f"{id_prefix}-title {id_prefix}-desc"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'width="{_n(width)}" height="{_n(height)}" role="img" aria-labelledby={quoteattr(ids)} '
        f'font-family="{FONT}" class="genogram">',
        f"<title id={quoteattr(id_prefix + '-title')}>{escape(title)}</title>",
        f"<desc id={quoteattr(id_prefix + '-desc')}>{escape(description or title)}</desc>",
        f'<rect x="0" y="0" width="{_n(width)}" height="{_n(height)}" fill="{PAPER}"/>',
    ]
    if not layout.people:
        out.append(_text(labels["empty"], width / 2, layout.height / 2 + 5, 13))
    out.append(f'<g class="child-lines" fill="none" stroke="{INK}" stroke-width="1.5">')
    for line in layout.child_lines:
        d = " ".join(f"M{_n(p.x)} {_n(p.y)}L{_n(q.x)} {_n(q.y)}" for p, q in line.segments)
        out.append(f'<path class="child-line" d="{d}"/>')
    out.append('</g><g class="partner-lines">')
    for line in layout.partner_lines:
        attrs = f"data-a={quoteattr(line.a)} data-b={quoteattr(line.b)}"
        out.append(
            f'<g class="partner rel-{line.kind}" {attrs}>{_partner_shape(line.points, line.kind, line.slashes)}</g>'
        )
    out.append('</g><g class="emotional-lines">')
    for em in layout.emotional_lines:
        attrs = f"data-a={quoteattr(em.a)} data-b={quoteattr(em.b)}"
        out.append(
            f'<g class="emotional rel-{em.kind}" {attrs}>{_emotional_shape(em.kind, em.start, em.control, em.end)}</g>'
        )
    out.append('</g><g class="people">')
    out.extend(_person(layout.people[pid], pos, id_prefix) for pid, pos in layout.positions.items())
    out.append("</g>")
    out.extend(legend)
    out.append("</svg>")
    return "\n".join(out)


def _n(v: float) -> str:
    v = float(round(v, 1))
    return str(int(v)) if v.is_integer() else str(v)


def _text(s: str, x: float, y: float, size: int, weight: str = "normal", anchor: str = "middle") -> str:
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size}" font-weight="{weight}" text-anchor="{anchor}" '
        f'fill="{INK}">{escape(s)}</text>'
    )


def _text_width(s: str, size: int) -> float:
    return len(s) * size * 0.62  # a generous average for DejaVu Sans / Arial


def _symbol(sex: str, x: float, y: float, half: float, cls: str = "symbol") -> str:
    style = f'class="{cls}" fill="{PAPER}" stroke="{INK}" stroke-width="2"'
    if sex == "male":
        return f'<rect x="{_n(x - half)}" y="{_n(y - half)}" width="{_n(2 * half)}" height="{_n(2 * half)}" {style}/>'
    if sex == "female":
        return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(half)}" {style}/>'
    d = half * 1.15  # a diamond looks smaller than a square of the same width
    pts = f"{_n(x)},{_n(y - d)} {_n(x + d)},{_n(y)} {_n(x)},{_n(y + d)} {_n(x - d)},{_n(y)}"
    return f'<polygon points="{pts}" {style}/>'


def _cross(x: float, y: float, r: float) -> str:
    return "".join(
        f'<line class="deceased-x" x1="{_n(x - r)}" y1="{_n(y + s * r)}" x2="{_n(x + r)}" y2="{_n(y - s * r)}" '
        f'stroke="{INK}" stroke-width="2"/>'
        for s in (-1, 1)
    )


def _person(p: Person, pos: Point, id_prefix: str) -> str:
    sex = p.sex if p.sex in SEXES else "other"
    classes = " ".join(["person", sex, *(["client"] if p.is_client else []), *(["deceased"] if p.is_dead else [])])
    years = _years(p)
    label = p.label if len(p.label) <= LABEL_CHARS else p.label[: LABEL_CHARS - 1] + "…"
    lines = [(label, 12), *([(years, 11)] if years else [])]
    top, width = pos.y + _reach(p), max(_text_width(s, size) for s, size in lines) + 14
    parts = [
        f"<title>{escape(' '.join(filter(None, [p.label, years])))}</title>",
        # White behind the text (under the symbol), so lines passing underneath never hide it.
        f'<rect class="label-bg" x="{_n(pos.x - width / 2)}" y="{_n(top)}" width="{_n(width)}" '
        f'height="{15 * len(lines) + 7}" fill="{PAPER}"/>',
    ]
    if p.is_client:  # double outline: a second, larger shape around the symbol
        parts.append(_symbol(sex, pos.x, pos.y, HALF + CLIENT_RING, "client-outline"))
    parts.append(_symbol(sex, pos.x, pos.y, HALF))
    if p.is_dead:
        parts.append(_cross(pos.x, pos.y, HALF + 6))
    parts += [_text(s, pos.x, top + 17 + 15 * i, size) for i, (s, size) in enumerate(lines)]
    ids = f"id={quoteattr(f'{id_prefix}-person-{p.id}')} data-person-id={quoteattr(p.id)}"
    return f'<g class="{classes}" {ids}>{"".join(parts)}</g>'


def _years(p: Person) -> str:
    born = "" if p.birth_year is None else str(p.birth_year)
    if not p.is_dead:
        return born
    if p.death_year is None:
        return f"{born} †".strip()
    return f"{born}–{p.death_year}" if born else f"† {p.death_year}"


def _polyline(points, stroke=INK, extra="") -> str:
    pts = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
    return f'<polyline points="{pts}" fill="none" stroke="{stroke}" stroke-width="2"{extra}/>'


def _partner_shape(points, kind, slashes) -> str:
    dash = ' stroke-dasharray="7 5"' if kind == "cohabiting" else ""
    return _polyline(points, extra=dash) + "".join(_polyline(s) for s in slashes)


def _bezier(start, control, end, n):
    return [
        Point(
            (1 - t) ** 2 * start.x + 2 * (1 - t) * t * control.x + t**2 * end.x,
            (1 - t) ** 2 * start.y + 2 * (1 - t) * t * control.y + t**2 * end.y,
        )
        for t in (i / n for i in range(n + 1))
    ]


def _offset(points, amounts):
    """Move each point sideways (along the curve's normal) by its amount."""
    out = []
    for i, (p, k) in enumerate(zip(points, amounts, strict=True)):
        a, b = points[max(i - 1, 0)], points[min(i + 1, len(points) - 1)]
        d = math.dist(a, b) or 1
        out.append(Point(p.x - (b.y - a.y) / d * k, p.y + (b.x - a.x) / d * k))
    return out


def _across(p: Point, a: Point, b: Point, half: float) -> tuple[Point, Point]:
    """A segment through p, perpendicular to the direction a -> b."""
    d = math.dist(a, b) or 1
    nx, ny = -(b.y - a.y) / d * half, (b.x - a.x) / d * half
    return Point(p.x + nx, p.y + ny), Point(p.x - nx, p.y - ny)


def _emotional_shape(kind, start, control, end) -> str:
    n = max(8, round(math.dist(start, end) / 6))  # about one zigzag tooth per 6 px
    pts = _bezier(start, control, end, n)
    if kind == "close":
        return _polyline(_offset(pts, [2.5] * len(pts))) + _polyline(_offset(pts, [-2.5] * len(pts)))
    if kind == "distant":
        return _polyline(pts, extra=' stroke-dasharray="2 4"')
    if kind == "cut_off":  # a gap in the middle, closed by two bars
        cut = len(pts) // 2
        left, right = pts[: max(cut - 1, 2)], pts[min(cut + 1, len(pts) - 2) :]
        bars = [_across(left[-1], left[-2], left[-1], 8), _across(right[0], right[0], right[1], 8)]
        return _polyline(left) + _polyline(right) + "".join(_polyline(b) for b in bars)
    zigzag = _offset(pts, [0, *((4 if i % 2 else -4) for i in range(1, len(pts) - 1)), 0])
    if kind != "abuse":
        return _polyline(zigzag)
    a, b = pts[-2], pts[-1]  # an arrowhead pointing at the person abused
    d = math.dist(a, b) or 1
    head = (b, *_across(Point(b.x - 10 * (b.x - a.x) / d, b.y - 10 * (b.y - a.y) / d), a, b, 5))
    corners = " ".join(f"{_n(x)},{_n(y)}" for x, y in head)
    return _polyline(zigzag[:-1], stroke=ABUSE_INK) + f'<polygon points="{corners}" fill="{ABUSE_INK}"/>'


def _legend(layout: Layout, labels: Mapping[str, str]) -> tuple[list[str], float]:
    """Only what is on the drawing, flowed into lines as wide as the drawing."""
    people = layout.people.values()
    keys = [s for s in SEXES if any((p.sex if p.sex in SEXES else "other") == s for p in people)]
    keys += ["client"] * any(p.is_client for p in people) + ["deceased"] * any(p.is_dead for p in people)
    keys += [k for k in (*PARTNER_KINDS, UNSPECIFIED) if any(ln.kind == k for ln in layout.partner_lines)]
    keys += [k for k in EMOTIONAL_KINDS if any(ln.kind == k for ln in layout.emotional_lines)]
    if not keys:
        return [], 0
    top, x, y = layout.height, 24.0, layout.height + 44
    items = []
    for key in keys:
        label = labels[key]
        step = 40 + _text_width(label, 12) + 20
        if x + step > layout.width - 10 and x > 24:
            x, y = 24.0, y + 26
        items.append(
            f'<g class="legend-item legend-{key}">{_sample(key, x, y)}{_text(label, x + 40, y + 4, 12, anchor="start")}</g>'
        )
        x += step
    box = (
        f'<rect x="10" y="{_n(top)}" width="{_n(layout.width - 20)}" height="{_n(y + 20 - top)}" '
        f'fill="#f3f6fa" stroke="#5a6978" stroke-width="1" rx="4"/>'
    )
    heading = _text(labels["heading"], 24, top + 19, 12, "bold", "start")
    return [f'<g class="legend">{box}{heading}', *items, "</g>"], y + 30 - top


def _sample(key: str, x: float, y: float) -> str:
    if key in SEXES:
        return _symbol(key, x + 14, y, 8)
    if key == "client":
        return _symbol("male", x + 14, y, 12, "client-outline") + _symbol("male", x + 14, y, 7)
    if key == "deceased":
        return _symbol("male", x + 14, y, 8) + _cross(x + 14, y, 11)
    if key in EMOTIONAL_KINDS:
        start, end = Point(x, y), Point(x + 30, y)
        return _emotional_shape(key, start, Point(x + 15, y), end)
    return _partner_shape((Point(x, y), Point(x + 30, y)), key, _slashes(key, Point(x + 15, y)))


# -- the drawing in a PDF ------------------------------------------------------------------------------------------

SVG_NS = "http://www.w3.org/2000/svg"
#: Where a line's baseline sits below the top of its box, in ems, for DejaVu Sans with line-height 1 (its ascent
#: 0.928 less half of what its ascent and descent, 1.164, exceed the line): an SVG text's y is its baseline.
BASELINE = 0.846
#: Room for a centred label (LABEL_CHARS at 12 units, with air), in the drawing's units.
LABEL_BOX = 160


@dataclass(frozen=True)
class PrintLabel:
    """One text of the drawing as a positioned HTML box, in mm from the drawing's top left corner."""

    text: str  # user input (a person's label): the template escapes it
    left: float
    top: float
    size: float
    width: float | None  # a centred label's box (the text centred in it); None: the text starts at `left`
    bold: bool

    @property
    def style(self) -> str:
        """Its CSS, in mm with a decimal point whatever the language (the template must not localise numbers)."""
        parts = [f"left: {self.left:.2f}mm", f"top: {self.top:.2f}mm", f"font-size: {self.size:.2f}mm"]
        if self.width is not None:
            parts.append(f"width: {self.width:.2f}mm")
        return "; ".join(parts)


@dataclass(frozen=True)
class PrintedMap:
    """The drawing as a PDF shows it: the shapes as SVG, the texts as HTML boxes laid over it, sized in mm."""

    svg: str  # our own drawing, every label already escaped: safe to mark so
    width: float
    height: float
    labels: tuple[PrintLabel, ...]

    @property
    def style(self) -> str:
        return f"width: {self.width:.2f}mm; height: {self.height:.2f}mm"


def for_print(svg: str, *, width: float, max_height: float) -> PrintedMap:
    """The drawing of `render_svg` for a PDF, at most `width` by `max_height` mm: its texts taken out of the SVG.

    WeasyPrint lays an SVG <text> out letter by letter (a layout and a draw for each character): the labels cost
    half of the family map's time in the intake summary. As HTML boxes over the drawing, each is one line of
    text. The drawing keeps its proportions (as the page's <svg> does) and everything is placed in mm.
    """
    from defusedxml.ElementTree import fromstring

    root = fromstring(svg)
    _, _, units_wide, units_high = (float(v) for v in root.get("viewBox").split())
    scale = min(width / units_wide, max_height / units_high)  # mm per unit of the drawing
    labels = []
    for parent in list(root.iter()):
        for text in [child for child in parent if child.tag == f"{{{SVG_NS}}}text"]:
            parent.remove(text)
            x, y = float(text.get("x")) * scale, float(text.get("y")) * scale
            size = float(text.get("font-size")) * scale
            centred = text.get("text-anchor") == "middle"
            labels.append(
                PrintLabel(
                    text=text.text or "",
                    left=x - LABEL_BOX * scale / 2 if centred else x,
                    top=y - BASELINE * size,
                    size=size,
                    width=LABEL_BOX * scale if centred else None,
                    bold=text.get("font-weight") == "bold",
                )
            )
    for element in root.iter():  # back to plain names, the namespace declared once as the drawing had it
        element.tag = element.tag.removeprefix(f"{{{SVG_NS}}}")
    root.set("xmlns", SVG_NS)
    return PrintedMap(
        svg=ElementTree.tostring(root, encoding="unicode"),
        width=units_wide * scale,
        height=units_high * scale,
        labels=tuple(labels),
    )
