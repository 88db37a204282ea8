"""Small numbers never identify a person: the one rule every figure, chart, CSV and PDF asks, for every role.

- A count from 1 to 4 is shown as "<5" (SMALL). A zero stays 0: it points at nobody.
- A figure resting on such a count (a share, a median, fees per session) is not shown at all; nor is a share
  whose denominator is small.
- Complementary suppression: where a total and its parts can both be known (a row total and its cells, a
  period and its months, all clinics and each clinic), a hidden count must not come back by subtraction.
  `protect` works out what a reader can know (the bounds of every hidden figure through every sum, the way
  a patient reader with a pencil would) and withholds the next smallest part, or the total, until no small
  count is pinned to one value. A withheld count shows WITHHELD ("..").
- A sum whose parts say something about the people counted in its total (questionnaire answers) is
  `private`: when the total is small, its parts are hidden too, zeros included ("0 of <5 agreed" tells what
  each of them answered), and what is left of the total beyond its parts is protected like a shown count.

Pages describe their figures (figures.statistics, figures.reports) as `Figures`: the counts they show,
the counts a reader may know from elsewhere (a period's total, a clinic's row on the national page), and
the sums that tie them together. National follow-up sees all clinics and each clinic, so its figures are
protected together (`protect_across`); a clinic's own staff see their clinic's figures protected on their own.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar, cast

from django.utils import formats

logger = logging.getLogger(__name__)

#: Counts under this are never shown, for any role, in any page, chart, CSV or PDF.
LIMIT = 5
#: A count from 1 to LIMIT - 1 (or a zero among the answers of fewer than LIMIT people).
SMALL = "<5"
#: A count of LIMIT or more, hidden so that a small count cannot be worked out from it.
WITHHELD = ".."

INFINITY = math.inf
#: Bound tightening stops after this many rounds over every sum (it settles in two or three on real pages).
MAX_ROUNDS = 50

#: A part's key in protect_across (a clinic's id).
P = TypeVar("P", bound=Hashable)


def is_small(count: int | float | None) -> bool:
    """A count that could point at a person: 1 to 4."""
    return count is not None and 0 < count < LIMIT


@dataclass(frozen=True)
class Relation:
    """total = sum(parts), plus a rest the page does not show when `rest`.

    `private`: the parts are what the people in the total answered. A small total hides every part, zeros
    too, and a small rest (those who answered otherwise) is protected as a shown count is.
    `total_first`: to protect a part, withhold the total before another part (the attendance table's total
    is known only through its shares, which cost less to leave out than a count).
    """

    total: Hashable
    parts: tuple[Hashable, ...]
    rest: bool = False
    private: bool = False
    total_first: bool = False


@dataclass
class Figures:
    """The counts of one page (or file), keyed, and the sums that tie them together.

    `values`: every count in `shown` or in a relation. A count that is not shown is one the reader may know
    from elsewhere (a period's total, shown on another page), unless it is `unknown` (a refused selection).
    """

    values: dict[Hashable, int] = field(default_factory=dict)
    shown: set[Hashable] = field(default_factory=set)
    relations: list[Relation] = field(default_factory=list)
    unknown: set[Hashable] = field(default_factory=set)

    def add(self, key: Hashable, value: int | None, *, shown: bool = True) -> None:
        if value is None:
            return
        self.values[key] = int(value)
        if shown:
            self.shown.add(key)

    def relate(self, total: Hashable, parts: Iterable[Hashable], **flags: bool) -> None:
        parts = tuple(part for part in parts if part in self.values)
        if total in self.values and parts:
            self.relations.append(Relation(total, parts, **flags))

    def protected(self, *, given: Mapping[Hashable, str] | None = None) -> dict[Hashable, str]:
        """key -> SMALL or WITHHELD for every count that may not be shown."""
        return protect(self.values, self.relations, shown=self.shown, unknown=self.unknown, given=given)


# --- Showing ------------------------------------------------------------------------------------------------


def shown_count(count: int | None, mark: str | None = None, *, plain: bool = False) -> str:
    """A count as shown: its mark when hidden, a dash when there is none to give, else the number."""
    if mark is not None:
        return mark
    if is_small(count):
        return SMALL  # never shown, whoever forgot to protect it
    if count is None:
        return "" if plain else "–"
    return str(count) if plain else formats.number_format(count, force_grouping=True)


def shown_share(count: int, of: int, *, hidden: bool = False, plain: bool = False) -> str:
    """A share in whole per cent. Empty when it rests on a hidden or small count; a dash when `of` is zero."""
    if hidden or is_small(count) or is_small(of):
        return ""
    if not of:
        return "" if plain else "–"
    percent = round(100 * count / of)
    return str(percent) if plain else f"{formats.number_format(percent)}\xa0%"


def rests_on_hidden(keys: Iterable[Hashable], values: Mapping[Hashable, int], hidden: Mapping[Hashable, str]) -> bool:
    """Whether a figure made from these counts (a share, a median, a p-value) must be left out."""
    return any(key in hidden or is_small(values.get(key)) for key in keys)


# --- Protecting ----------------------------------------------------------------------------------------------


def protect(
    values: Mapping[Hashable, int],
    relations: Sequence[Relation],
    *,
    shown: Collection[Hashable],
    unknown: Collection[Hashable] = (),
    given: Mapping[Hashable, str] | None = None,
) -> dict[Hashable, str]:
    """The counts to hide (key -> SMALL or WITHHELD) so that no small count can be shown or worked out.

    Every small count is SMALL. Then, while a reader could pin a small count (or a private rest) to one value
    through the sums, the smallest shown part of a sum it is in (or the sum's total) is WITHHELD. Only shown
    counts are withheld: a count the reader knows from elsewhere stays known. `given` marks are kept (a
    clinic's own view, so that national follow-up never sees what the clinic's staff do not).
    """
    relations = [checked for relation in relations if (checked := _checked(values, relation)) is not None]
    hidden: dict[Hashable, str] = dict(given or {})
    for key, value in values.items():
        if is_small(value):
            hidden.setdefault(key, SMALL)
    zero_able: set[Hashable] = set()  # hidden although 0: a reader's "<5" there may be a zero
    for relation in relations:
        # (A total of 0 has nobody in it: its parts are 0 too, and say nothing of anyone.)
        if (
            relation.private
            and values[relation.total] > 0
            and (hidden.get(relation.total) == SMALL or relation.total in unknown)
        ):
            for part in relation.parts:
                hidden.setdefault(part, SMALL)
                zero_able.add(part)
    unknown = set(unknown)
    shown = set(shown)
    while True:
        leaks = _leaks(values, relations, hidden, unknown, zero_able)
        if not leaks:
            return hidden
        # One count withheld per sum and round, so that two leaks of one sum do not cost two counts.
        touched: set[int] = set()
        for leak in leaks:
            found = _complement(leak, values, relations, hidden, unknown, shown, touched)
            if found is not None:
                index, candidate = found
                hidden[candidate] = WITHHELD
                logger.debug("withheld %r for %r", candidate, leak)
                touched.add(index)
        if not touched:
            # Everything the sums touch is hidden already, or known from elsewhere: nothing left to withhold.
            logger.info("%d small counts could not be protected by withholding others", len(leaks))
            return hidden


def protect_across(
    whole: Figures,
    parts: Mapping[P, Figures],
    *,
    links: Mapping[Hashable, Sequence[tuple[P, Hashable]]],
) -> tuple[dict[Hashable, str], dict[P, dict[Hashable, str]]]:
    """National follow-up's marks for all clinics (`whole`) and for each clinic (`parts`), protected together.

    `links`: for a count of the whole, the (clinic, key) counts it is the sum of. Each clinic starts from its
    own marks (what its staff see hidden stays hidden here too), and a count withheld to keep a clinic's small
    count from showing through the total is the next smallest clinic's, or else the total's.
    """
    # Every count keyed (scope, key): None the whole's scope, else the part's.
    values: dict[Hashable, int] = {}
    shown: set[Hashable] = set()
    unknown: set[Hashable] = set()
    relations: list[Relation] = []
    given: dict[Hashable, str] = {}
    for scope, figures in [(None, whole), *parts.items()]:
        values.update({(scope, key): value for key, value in figures.values.items()})
        shown.update((scope, key) for key in figures.shown)
        unknown.update((scope, key) for key in figures.unknown)
        relations += [
            Relation(
                (scope, r.total),
                tuple((scope, p) for p in r.parts),
                rest=r.rest,
                private=r.private,
                total_first=r.total_first,
            )
            for r in figures.relations
        ]
        given.update({(scope, key): mark for key, mark in figures.protected().items()})
    for key, linked in links.items():
        members = tuple((scope, part) for scope, part in linked if (scope, part) in values)
        if (None, key) in values and members:
            relations.append(Relation((None, key), members))
    hidden = protect(values, relations, shown=shown, unknown=unknown, given=given)
    by_scope: dict[P, dict[Hashable, str]] = {scope: {} for scope in parts}
    whole_hidden: dict[Hashable, str] = {}
    for scoped, mark in hidden.items():
        scope, key = cast("tuple[P | None, Hashable]", scoped)  # every key above is a (scope, key) pair
        (whole_hidden if scope is None else by_scope[scope])[key] = mark
    return whole_hidden, by_scope


def _checked(values: Mapping[Hashable, int], relation: Relation) -> Relation | None:
    """The sum as it holds: with a rest when the parts fall short of the total; None when they exceed it."""
    total = values[relation.total]
    parts = sum(values[part] for part in relation.parts)
    if total == parts or (relation.rest and total > parts):
        return relation
    logger.info("%r is %d, its parts add up to %d", relation.total, total, parts)
    if total > parts:
        return replace(relation, rest=True)
    return None


def _terms(relations: Sequence[Relation]) -> list[list[tuple[Hashable, int]]]:
    """Each sum as signed terms that add up to zero: -total + parts (+ the rest, keyed by the relation)."""
    systems = []
    for index, relation in enumerate(relations):
        terms = [(relation.total, -1), *((part, 1) for part in relation.parts)]
        if relation.rest:
            terms.append((("rest", index), 1))
        systems.append(terms)
    return systems


def _starting_bounds(
    values: Mapping[Hashable, int],
    relations: Sequence[Relation],
    hidden: Mapping[Hashable, str],
    unknown: set[Hashable],
    zero_able: set[Hashable],
) -> dict[Hashable, list[float]]:
    """What a reader knows of each figure before any sum: the shown ones exactly, the hidden ones as a range."""
    bounds: dict[Hashable, list[float]] = {}
    for key, value in values.items():
        if key in unknown:
            bounds[key] = [0, INFINITY]
        elif hidden.get(key) == SMALL:
            bounds[key] = [0 if key in zero_able else 1, LIMIT - 1]
        elif hidden.get(key) == WITHHELD:
            bounds[key] = [LIMIT, INFINITY]
        else:
            bounds[key] = [value, value]
    for index, relation in enumerate(relations):
        if relation.rest:
            bounds[("rest", index)] = [0, INFINITY]
    return bounds


def _narrow(terms: list[tuple[Hashable, int]], bounds: dict[Hashable, list[float]]) -> bool:
    """Narrow each term of one sum by the range of the others; whether any bound moved."""
    # sign * x = -(sum of the other terms): the others' range gives this one's. The sums of the lowest
    # and highest contributions are kept with their infinite ones counted apart, so each term's
    # "others" is the whole less its own, without subtracting an infinity from an infinity.
    changed = False
    contributions = []
    for key, sign in terms:
        lo, hi = bounds[key]
        contributions.append((sign * lo, sign * hi) if sign > 0 else (sign * hi, sign * lo))
    low_finite = sum(lo for lo, _hi in contributions if lo != -INFINITY)
    low_infinite = sum(1 for lo, _hi in contributions if lo == -INFINITY)
    high_finite = sum(hi for _lo, hi in contributions if hi != INFINITY)
    high_infinite = sum(1 for _lo, hi in contributions if hi == INFINITY)
    for (key, sign), (own_lo, own_hi) in zip(terms, contributions, strict=True):
        low = -INFINITY if low_infinite - (own_lo == -INFINITY) else low_finite - (own_lo if own_lo != -INFINITY else 0)
        high = INFINITY if high_infinite - (own_hi == INFINITY) else high_finite - (own_hi if own_hi != INFINITY else 0)
        new_lo, new_hi = (-high, -low) if sign > 0 else (low, high)
        current = bounds[key]
        if new_lo > current[0]:
            current[0] = new_lo
            changed = True
        if new_hi < current[1]:
            current[1] = new_hi
            changed = True
    return changed


def _bounds(
    values: Mapping[Hashable, int],
    relations: Sequence[Relation],
    hidden: Mapping[Hashable, str],
    unknown: set[Hashable],
    zero_able: set[Hashable],
) -> dict[Hashable, list[float]]:
    """What a reader can know of each figure: [lowest, highest], narrowed through every sum until it settles."""
    bounds = _starting_bounds(values, relations, hidden, unknown, zero_able)
    systems = _terms(relations)
    for _round in range(MAX_ROUNDS):
        # Every sum is narrowed in each round (no short-circuit), as before.
        changed = [_narrow(terms, bounds) for terms in systems]
        if not any(changed):
            break
    return bounds


def _leaks(
    values: Mapping[Hashable, int],
    relations: Sequence[Relation],
    hidden: Mapping[Hashable, str],
    unknown: set[Hashable],
    zero_able: set[Hashable],
) -> list[Hashable]:
    """The hidden small counts (and private rests) a reader can pin to one value."""
    bounds = _bounds(values, relations, hidden, unknown, zero_able)
    protected = [
        key
        for key, value in values.items()
        if (hidden.get(key) == SMALL and (is_small(value) or key in zero_able)) or (key in unknown and is_small(value))
    ]
    for index, relation in enumerate(relations):
        if relation.private and relation.rest:
            rest = values[relation.total] - sum(values[part] for part in relation.parts)
            if is_small(rest):
                protected.append(("rest", index))
    return [key for key in protected if bounds[key][0] == bounds[key][1]]


def _complement(
    leak: Hashable,
    values: Mapping[Hashable, int],
    relations: Sequence[Relation],
    hidden: Mapping[Hashable, str],
    unknown: set[Hashable],
    shown: set[Hashable],
    touched: set[int],
) -> tuple[int, Hashable] | None:
    """(sum, count) to withhold for a leak: in a sum the leak is in, its smallest shown part or its total; when
    those are all hidden or known, in a sum one step further (through the counts of the first), and so on.
    None when the leak's sums already had a count withheld this round, or nothing is left to withhold."""

    def open_to_withhold(key: Hashable) -> bool:
        return key in shown and key not in hidden and key not in unknown and values[key] > 0

    members = [{relation.total, *relation.parts, ("rest", index)} for index, relation in enumerate(relations)]
    reached = {leak}
    seen: set[int] = set()
    while True:
        ring = [index for index, keys in enumerate(members) if index not in seen and keys & reached]
        if not ring:
            return None
        if touched.intersection(ring):
            return None  # withheld in this round already: look again with the new bounds
        for index in ring:
            relation = relations[index]
            parts = sorted((p for p in relation.parts if open_to_withhold(p)), key=lambda p: values[p])
            total = [relation.total] if open_to_withhold(relation.total) else []
            ordered = [*total, *parts] if relation.total_first else [*parts, *total]
            if ordered:
                return index, ordered[0]
        seen.update(ring)
        for index in ring:
            reached |= members[index]
