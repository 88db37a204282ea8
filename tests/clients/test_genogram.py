"""The genogram (familjekarta) layout and drawing: pure functions, no database.

Most tests use one three-generation family, built below: the client Jonas, his older brother Erik
and his older half-sister Sara (from his father's first, divorced marriage), his parents and both
sets of grandparents (paternal grandfather dead since 2001), his partner Lena (sambo) and their
two children. Every SVG is parsed with ElementTree, which proves it is well-formed.
"""

from __future__ import annotations

import itertools
import math
import random
import time
import xml.etree.ElementTree as ET

import pytest

from clients.genogram import (
    ABUSE_INK,
    BAR_ABOVE,
    BASELINE,
    CLIENT_RING,
    EMOTIONAL_KINDS,
    HALF,
    LABEL_BOX,
    LEGEND_LABELS,
    PARTNER_KINDS,
    SIDE,
    X_GAP,
    Person,
    Point,
    Relationship,
    for_print,
    layout,
    render_svg,
)

NS = "{http://www.w3.org/2000/svg}"


def family() -> tuple[list[Person], list[Relationship]]:
    people = [  # deliberately not in generation or birth order
        Person("klient", "Jonas", "male", 2, 1982, is_client=True, parents=("pappa", "mamma")),
        Person("bror", "Erik", "male", 2, 1979, parents=("pappa", "mamma")),
        Person("halvsyster", "Sara", "female", 2, 1976, parents=("pappa", "forsta_fru")),
        Person("sambo", "Lena", "female", 2, 1984),
        Person("barn1", "Ella", "female", 3, 2013, parents=("klient", "sambo")),
        Person("barn2", "Alex", "other", 3, 2010, parents=("klient", "sambo")),
        Person("pappa", "Pappa", "male", 1, 1950, parents=("farfar", "farmor")),
        Person("mamma", "Mamma", "female", 1, 1955, parents=("morfar", "mormor")),
        Person("forsta_fru", "Första fru", "female", 1, 1952),
        Person("farfar", "Farfar", "male", 0, 1925, 2001, deceased=True),
        Person("farmor", "Farmor", "female", 0, 1928),
        Person("morfar", "Morfar", "male", 0, 1930),
        Person("mormor", "Mormor", "female", 0, 1932),
    ]
    relationships = [
        Relationship("farfar", "farmor", "married"),
        Relationship("morfar", "mormor", "married"),
        Relationship("pappa", "mamma", "married"),
        Relationship("pappa", "forsta_fru", "divorced"),
        Relationship("klient", "sambo", "cohabiting"),
    ]
    return people, relationships


def realistic_family(seed: int, size: int = 40) -> tuple[list[Person], list[Relationship]]:
    """A made-up family over five generations: couples, in-laws, remarriages, single parents, loners."""
    rnd = random.Random(seed)
    people: list[Person] = []
    relationships: list[Relationship] = []

    def add(generation, sex=None, parents=()):
        year = None if rnd.random() < 0.1 else 1920 + 25 * generation + rnd.randint(0, 12)
        sex = sex or rnd.choice(["male", "female", "female", "male", "other"])
        people.append(Person(f"p{len(people):02d}", f"Person {len(people)}", sex, generation, year, parents=parents))
        return people[-1]

    unions = []
    for _ in range(2):
        a, b = add(0, "male"), add(0, "female")
        relationships.append(Relationship(a.id, b.id, "married"))
        unions.append((a, b))
    while unions and len(people) < size:
        a, b = unions.pop(0)
        for _ in range(rnd.randint(1, 3)):
            if len(people) >= size or a.generation == 4:
                break
            kid = add(a.generation + 1, parents=(a.id, b.id) if b else (a.id,))
            if kid.generation < 4 and len(people) < size and rnd.random() < 0.6:
                partner = add(kid.generation, "female" if kid.sex == "male" else "male")
                relationships.append(Relationship(kid.id, partner.id, rnd.choice(PARTNER_KINDS)))
                unions.append((kid, partner))
            elif kid.generation < 4 and rnd.random() < 0.2:
                unions.append((kid, None))  # a single parent
    while len(people) < size:
        add(rnd.randint(0, 4))  # connected to nobody
    for _ in range(6):
        x, y = rnd.sample(people, 2)
        relationships.append(Relationship(x.id, y.id, rnd.choice(EMOTIONAL_KINDS)))
    rnd.shuffle(people)
    return people, relationships


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return root


def person_group(root: ET.Element, person_id: str) -> ET.Element:
    return next(g for g in root.iter(f"{NS}g") if g.get("data-person-id") == person_id)


def groups(root: ET.Element, *classes: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{NS}g") if set(classes) <= set(g.get("class", "").split())]


def classes(element: ET.Element) -> set[str]:
    return set(element.get("class", "").split())


def points(polyline: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in polyline.get("points").split()]


def assert_no_overlaps(result) -> None:
    for y in result.rows.values():
        xs = sorted(p.x for p in result.positions.values() if p.y == y)
        assert all(b - a >= X_GAP for a, b in itertools.pairwise(xs)), xs
    assert X_GAP >= 2 * 2 * HALF


@pytest.fixture
def result():
    return layout(*family())


@pytest.fixture
def root(result):
    return parse(render_svg(result, title="Familjekarta för Jonas", description="Tre generationer."))


# -- layout ------------------------------------------------------------------------------------------------


def test_one_row_per_generation(result):
    assert result.rows == {0: 60, 1: 200, 2: 340, 3: 480}
    for pid, person in result.people.items():
        assert result.positions[pid].y == result.rows[person.generation]


def test_rows_for_missing_generations_collapse():
    people = [
        Person("mormor", "Mormor", "female", 0),
        Person("klient", "Klient", "male", 2, is_client=True),
        Person("barnbarn", "Barnbarn", "female", 4),
    ]
    assert layout(people, []).rows == {0: 60, 2: 200, 4: 340}


def test_exact_positions_of_the_test_family(result):
    # Everything in this family can be centred exactly, so the layout is fully determined.
    xs = {pid: p.x for pid, p in result.positions.items()}
    assert xs == {
        "farfar": 108,
        "farmor": 204,
        "morfar": 300,
        "mormor": 396,
        "forsta_fru": 60,
        "pappa": 156,
        "mamma": 348,
        "halvsyster": 108,
        "bror": 204,
        "klient": 300,
        "sambo": 396,
        "barn2": 300,
        "barn1": 396,
    }
    assert min(xs.values()) == SIDE
    assert (result.width, result.height) == (456, 550)


def test_couples_side_by_side_with_the_man_on_the_left(result):
    pos = result.positions
    assert pos["farmor"].x - pos["farfar"].x == X_GAP
    assert pos["mormor"].x - pos["morfar"].x == X_GAP
    assert pos["sambo"].x - pos["klient"].x == X_GAP
    # The father has two wives: he sits between them, the first (divorced) one on the left.
    assert pos["forsta_fru"].x < pos["pappa"].x < pos["mamma"].x


def test_each_union_has_its_own_partner_line(result):
    kinds = {frozenset((ln.a, ln.b)): ln.kind for ln in result.partner_lines}
    assert kinds == {
        frozenset(("farfar", "farmor")): "married",
        frozenset(("morfar", "mormor")): "married",
        frozenset(("pappa", "mamma")): "married",
        frozenset(("pappa", "forsta_fru")): "divorced",
        frozenset(("klient", "sambo")): "cohabiting",
    }
    line = next(ln for ln in result.partner_lines if ln.kind == "married" and ln.a == "pappa")
    assert line.b == "mamma"  # a is the left partner
    assert line.points == (Point(156, 200), Point(348, 200))  # centre to centre; the symbols cover the ends
    assert line.midpoint == Point(252, 200)


def child_line(result, *parents):
    return next(ln for ln in result.child_lines if set(ln.parents) == set(parents))


def test_half_sibling_hangs_under_father_and_first_wife(result):
    pos = result.positions
    line = child_line(result, "pappa", "forsta_fru")
    midpoint = (pos["pappa"].x + pos["forsta_fru"].x) / 2
    assert line.children == ("halvsyster",)
    assert line.origin == Point(midpoint, 200)
    assert pos["halvsyster"].x == midpoint


def test_full_siblings_centred_under_father_and_mother(result):
    pos = result.positions
    line = child_line(result, "pappa", "mamma")
    assert line.children == ("bror", "klient")  # oldest first
    assert line.origin == Point(252, 200) == Point((pos["pappa"].x + pos["mamma"].x) / 2, 200)
    assert (pos["bror"].x + pos["klient"].x) / 2 == line.origin.x
    # Down from the partner line to the sibling bar, then down to the top of each symbol.
    assert (line.bar_y, line.bar_x1, line.bar_x2) == (340 - BAR_ABOVE, 204, 300)
    assert line.drops == (Point(204, 340 - HALF), Point(300, 340 - HALF - CLIENT_RING))
    assert line.segments[0] == (Point(252, 200), Point(252, 290))
    assert len(line.segments) == 2 + 2


def test_children_of_the_client_centred_under_the_client_and_partner(result):
    pos = result.positions
    line = child_line(result, "klient", "sambo")
    assert line.origin == Point(348, 340)
    assert (pos["barn2"].x + pos["barn1"].x) / 2 == 348


def test_siblings_in_birth_order(result):
    pos = result.positions
    assert pos["halvsyster"].x < pos["bror"].x < pos["klient"].x  # 1976, 1979, 1982
    assert pos["barn2"].x < pos["barn1"].x  # 2010, 2013


def test_unknown_birth_years_go_last():
    people = [
        Person("mor", "Mor", "female", 0),
        Person("okand", "Okänd", "male", 1, None, parents=("mor",)),
        Person("yngst", "Yngst", "female", 1, 1990, parents=("mor",)),
        Person("aldst", "Äldst", "male", 1, 1985, parents=("mor",)),
    ]
    pos = layout(people, []).positions
    assert pos["aldst"].x < pos["yngst"].x < pos["okand"].x


def test_child_with_one_known_parent_hangs_from_that_parent():
    people = [Person("mor", "Mor", "female", 1), Person("barn", "Barn", "male", 2, parents=("mor", "saknas"))]
    result = layout(people, [])
    (line,) = result.child_lines
    mother = result.positions["mor"]
    assert result.positions["barn"].x == mother.x
    assert line.parents == ("mor",)
    assert line.origin == Point(mother.x, mother.y + HALF)


def test_parents_without_a_recorded_relationship_still_get_a_line():
    people = [
        Person("far", "Far", "male", 0),
        Person("mor", "Mor", "female", 0),
        Person("barn", "Barn", "female", 1, parents=("mor", "far")),
    ]
    result = layout(people, [])
    (line,) = result.partner_lines
    assert (line.a, line.b, line.kind) == ("far", "mor", "unspecified")
    assert result.positions["barn"].x == line.midpoint.x
    svg = render_svg(result, title="t")
    assert LEGEND_LABELS["unspecified"] in svg


def test_people_without_parents_or_partners_go_at_the_end_of_their_row(result):
    people, relationships = family()
    people += [Person("granne", "Granne", "male", 2), Person("fosterbarn", "Fosterbarn", "female", 3, 2015)]
    result = layout(people, relationships)
    pos = result.positions
    assert pos["granne"].x == max(p.x for p in pos.values() if p.y == result.rows[2])
    assert pos["fosterbarn"].x == max(p.x for p in pos.values() if p.y == result.rows[3])
    assert_no_overlaps(result)


def test_no_overlaps_in_the_test_family(result):
    assert_no_overlaps(result)


def test_forty_people_over_five_generations_fast_finite_and_without_overlaps():
    people, relationships = realistic_family(seed=3)
    assert len(people) == 40
    assert {p.generation for p in people} == {0, 1, 2, 3, 4}
    started = time.perf_counter()
    result = layout(people, relationships)
    svg = render_svg(result, title="Stor familj")
    assert time.perf_counter() - started < 1.0
    assert_no_overlaps(result)
    assert all(math.isfinite(v) for p in result.positions.values() for v in p)
    assert math.isfinite(result.width) and result.width < 40 * X_GAP + 2 * SIDE
    assert len(result.rows) == 5
    assert len(groups(parse(svg), "person")) == 40


@pytest.mark.parametrize("seed", range(25))
def test_many_made_up_families_stay_readable(seed):
    result = layout(*realistic_family(seed))
    assert_no_overlaps(result)
    widest_row = max(sum(1 for p in result.positions.values() if p.y == y) for y in result.rows.values())
    assert result.width <= 3 * widest_row * X_GAP + 2 * SIDE  # spread out, but not without bound
    parse(render_svg(result, title="t"))


def test_same_input_same_output_whatever_the_order():
    people, relationships = family()
    first = render_svg(layout(people, relationships), title="t")
    assert render_svg(layout(people, relationships), title="t") == first
    rnd = random.Random(3)
    for _ in range(5):
        rnd.shuffle(people)
        rnd.shuffle(relationships)
        assert render_svg(layout(people, relationships), title="t") == first


def test_bad_input():
    with pytest.raises(ValueError, match="duplicate"):
        layout([Person("a", "A", "male", 0), Person("a", "B", "female", 0)], [])
    with pytest.raises(ValueError, match="unknown relationship kind"):
        layout([Person("a", "A", "male", 0), Person("b", "B", "female", 0)], [Relationship("a", "b", "engaged")])
    # A relationship to someone no longer in the map is left out, not an error.
    result = layout([Person("a", "A", "male", 0)], [Relationship("a", "borta", "married")])
    assert result.partner_lines == []


# -- drawing -----------------------------------------------------------------------------------------------


def test_svg_root_is_accessible(root):
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find(f"{NS}title").get("id") == title_id
    assert root.find(f"{NS}title").text == "Familjekarta för Jonas"
    assert root.find(f"{NS}desc").get("id") == desc_id
    assert root.find(f"{NS}desc").text == "Tre generationer."
    assert root.get("viewBox").startswith("0 0 456 ")


def test_symbol_per_sex(root):
    def symbol(pid):
        return next(e for e in person_group(root, pid) if "symbol" in classes(e))

    assert symbol("farfar").tag == f"{NS}rect"
    assert symbol("farmor").tag == f"{NS}circle"
    assert symbol("barn2").tag == f"{NS}polygon"  # a diamond: four corners
    assert len(symbol("barn2").get("points").split()) == 4
    assert classes(person_group(root, "farfar")) == {"person", "male", "deceased"}
    assert classes(person_group(root, "farmor")) == {"person", "female"}
    assert classes(person_group(root, "barn2")) == {"person", "other"}
    assert person_group(root, "farfar").get("id") == "genogram-person-farfar"


def test_unknown_sex_is_drawn_as_other():
    root = parse(render_svg(layout([Person("x", "X", "unknown", 0)], []), title="t"))
    assert classes(person_group(root, "x")) == {"person", "other"}


def test_client_has_a_double_outline(root):
    group = person_group(root, "klient")
    assert classes(group) == {"person", "male", "client"}
    (outline,) = [e for e in group if "client-outline" in classes(e)]
    (inner,) = [e for e in group if "symbol" in classes(e)]
    assert outline.tag == inner.tag == f"{NS}rect"
    assert float(outline.get("width")) == float(inner.get("width")) + 2 * CLIENT_RING
    assert float(outline.get("x")) + float(outline.get("width")) / 2 == 300  # same centre
    assert float(inner.get("x")) + float(inner.get("width")) / 2 == 300


def test_deceased_grandfather_is_crossed_out_with_death_year(root, result):
    group = person_group(root, "farfar")
    assert "deceased" in classes(group)
    cx, cy = result.positions["farfar"]
    lines = [e for e in group if e.tag == f"{NS}line"]
    assert len(lines) == 2
    slopes = set()
    for line in lines:
        x1, y1, x2, y2 = (float(line.get(k)) for k in ("x1", "y1", "x2", "y2"))
        assert min(x1, x2) < cx - HALF and max(x1, x2) > cx + HALF  # across the whole symbol
        assert min(y1, y2) < cy - HALF and max(y1, y2) > cy + HALF
        assert ((x1 + x2) / 2, (y1 + y2) / 2) == (cx, cy)  # crossing at the centre
        slopes.add((y2 - y1) / (x2 - x1))
    assert slopes == {1.0, -1.0}
    assert [t.text for t in group.iter(f"{NS}text")] == ["Farfar", "1925–2001"]
    assert [t.text for t in person_group(root, "farmor").iter(f"{NS}text")] == ["Farmor", "1928"]


def test_partner_line_styles_in_the_layout(result):
    by_kind = {ln.kind: ln for ln in result.partner_lines}
    assert len(by_kind["divorced"].slashes) == 2
    assert len(by_kind["married"].slashes) == 0 and not by_kind["married"].dashed
    assert len(by_kind["cohabiting"].slashes) == 0 and by_kind["cohabiting"].dashed
    line = by_kind["divorced"]
    for start, end in line.slashes:  # each slash crosses the line, away from the line to the child
        assert start.y > line.points[0].y > end.y
        assert line.points[0].x < start.x < end.x < line.midpoint.x


def test_partner_line_styles_in_the_svg(root):
    (divorced,) = groups(root, "partner", "rel-divorced")
    main, *slashes = divorced.iter(f"{NS}polyline")
    assert len(slashes) == 2
    assert main.get("stroke-dasharray") is None
    for married in groups(root, "partner", "rel-married"):
        (line,) = married.iter(f"{NS}polyline")
        assert line.get("stroke-dasharray") is None
    (cohabiting,) = groups(root, "partner", "rel-cohabiting")
    (line,) = cohabiting.iter(f"{NS}polyline")
    assert line.get("stroke-dasharray")


def test_separated_line_has_one_slash():
    people = [Person("a", "A", "male", 0), Person("b", "B", "female", 0)]
    result = layout(people, [Relationship("a", "b", "separated")])
    assert len(result.partner_lines[0].slashes) == 1
    (group,) = groups(parse(render_svg(result, title="t")), "rel-separated")
    assert len(list(group.iter(f"{NS}polyline"))) == 2


def test_labels_are_escaped():
    evil = '<script>alert("x")</script>'
    people = [Person('x"><script>', evil, "female", 0, 1970)]
    svg = render_svg(layout(people, []), title="<script>t</script>", description="& co")
    assert "<script" not in svg
    assert "&lt;script&gt;" in svg
    root = parse(svg)
    assert not [e for e in root.iter() if e.tag.endswith("script")]
    group = person_group(root, 'x"><script>')
    assert group.find(f"{NS}title").text == f"{evil} 1970"  # full label in the tooltip
    assert group.find(f"{NS}text").text == evil[:12] + "…"  # shortened on the drawing
    assert root.find(f"{NS}title").text == "<script>t</script>"


def emotional_family():
    people, relationships = family()
    relationships += [
        Relationship("bror", "klient", "close"),
        Relationship("mamma", "halvsyster", "distant"),
        Relationship("pappa", "klient", "conflict"),
        Relationship("halvsyster", "klient", "cut_off"),
        Relationship("farfar", "pappa", "abuse"),
    ]
    return layout(people, relationships)


def test_emotional_lines_in_the_layout():
    result = emotional_family()
    lines = {ln.kind: ln for ln in result.emotional_lines}
    assert set(lines) == set(EMOTIONAL_KINDS)
    pos = result.positions
    close = lines["close"]  # same row: an arc above, from the facing upper corners
    assert close.start == pytest.approx(Point(pos["bror"].x + 0.7 * (HALF + 2), 340 - 0.7 * (HALF + 2)))
    assert close.end == pytest.approx(Point(pos["klient"].x - 0.7 * (HALF + CLIENT_RING + 2), 340 - 0.7 * 28))
    assert 340 - BAR_ABOVE < close.control.y < close.start.y
    abuse = lines["abuse"]  # between rows: from the edge of one symbol to the edge of the other
    assert math.dist(abuse.start, pos["farfar"]) == pytest.approx(HALF + 2)
    assert math.dist(abuse.end, pos["pappa"]) == pytest.approx(HALF + 2)


def test_emotional_lines_in_the_svg():
    root = parse(render_svg(emotional_family(), title="t"))
    (close,) = groups(root, "emotional", "rel-close")
    assert len(list(close.iter(f"{NS}polyline"))) == 2  # a double line
    (distant,) = groups(root, "emotional", "rel-distant")
    assert next(distant.iter(f"{NS}polyline")).get("stroke-dasharray")  # dotted
    (conflict,) = groups(root, "emotional", "rel-conflict")
    (zigzag,) = conflict.iter(f"{NS}polyline")
    assert len(points(zigzag)) > 10
    (cut_off,) = groups(root, "emotional", "rel-cut_off")
    first, second, *bars = cut_off.iter(f"{NS}polyline")
    assert len(bars) == 2 and math.dist(points(first)[-1], points(second)[0]) > 8  # a gap, closed by bars
    (abuse,) = groups(root, "emotional", "rel-abuse")
    assert next(abuse.iter(f"{NS}polyline")).get("stroke") == ABUSE_INK
    assert next(abuse.iter(f"{NS}polygon")).get("fill") == ABUSE_INK  # an arrowhead


def test_only_the_abuse_line_and_the_legend_use_colour():
    root = parse(render_svg(emotional_family(), title="t"))
    legend = set(groups(root, "legend")[0].iter())
    abuse = set(groups(root, "emotional", "rel-abuse")[0].iter())
    for element in root.iter():
        if element in legend or element in abuse:
            continue
        for attribute in ("stroke", "fill"):
            assert element.get(attribute) in (None, "none", "#000000", "#ffffff")


def test_text_is_at_least_11px(root):
    sizes = [float(t.get("font-size")) for t in root.iter(f"{NS}text")]
    assert sizes and min(sizes) >= 11


def test_legend_lists_only_what_is_drawn(root):
    (legend,) = groups(root, "legend")
    texts = [t.text for t in legend.iter(f"{NS}text")]
    expected = ["man", "kvinna", "annan/okänd", "klienten", "avliden", "gift", "sambo", "skilda"]
    assert texts == ["Teckenförklaring", *expected]
    items = groups(legend, "legend-item")
    assert [classes(g) - {"legend-item"} for g in items[:2]] == [{"legend-male"}, {"legend-female"}]


def test_legend_shows_emotional_kinds_in_swedish():
    root = parse(render_svg(emotional_family(), title="t"))
    texts = {t.text for t in groups(root, "legend")[0].iter(f"{NS}text")}
    assert {"nära", "distanserad", "konflikt", "bruten kontakt", "övergrepp"} <= texts
    assert "separerade" not in texts


def test_legend_strings_can_be_replaced(monkeypatch, result):
    monkeypatch.setitem(LEGEND_LABELS, "married", "married")
    monkeypatch.setitem(LEGEND_LABELS, "heading", "Key")
    texts = {t.text for t in groups(parse(render_svg(result, title="t")), "legend")[0].iter(f"{NS}text")}
    assert {"married", "Key"} <= texts and "gift" not in texts


def test_empty_map_renders_a_small_valid_svg():
    result = layout([], [])
    assert (result.positions, result.partner_lines, result.child_lines) == ({}, [], [])
    root = parse(render_svg(result, title="Familjekarta"))
    _, _, width, height = map(float, root.get("viewBox").split())
    assert width <= 400 and height <= 100
    assert [t.text for t in root.iter(f"{NS}text")] == [LEGEND_LABELS["empty"]]
    assert not groups(root, "legend")


def test_two_drawings_on_one_page_have_distinct_ids(result):
    ids = [
        {e.get("id") for e in parse(render_svg(result, title="t", id_prefix=prefix)).iter() if e.get("id")}
        for prefix in ("g1", "g2")
    ]
    assert ids[0] and not ids[0] & ids[1]


# -- the drawing in a PDF (for_print) ------------------------------------------------------------------------


def test_for_print_takes_every_text_out_of_the_svg_and_keeps_the_shapes(result, root):
    """WeasyPrint lays an SVG text out letter by letter: in a PDF the texts are HTML boxes over the shapes."""
    svg = render_svg(result, title="Familjekarta för Jonas")
    printed = for_print(svg, width=174, max_height=230)
    shapes = parse(printed.svg)

    assert not list(shapes.iter(f"{NS}text"))
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert [label.text for label in printed.labels] == texts
    assert [e.tag for e in shapes.iter()] == [e.tag for e in root.iter() if e.tag != f"{NS}text"]
    assert shapes.get("viewBox") == root.get("viewBox")


def test_for_print_fits_the_drawing_to_the_width_or_the_height_in_proportion():
    """Exact sizes: 480 by 120 units fits the width (0.25 mm a unit), 100 by 400 the height (0.5 mm a unit)."""
    wide = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 480 120"><text x="100" y="40" font-size="12" text-anchor="middle">Mormor</text></svg>'
    tall = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 400"><text x="10" y="20" font-size="10" font-weight="bold" text-anchor="start">Teckenförklaring</text></svg>'

    fitted = for_print(wide, width=120, max_height=200)
    assert (fitted.width, fitted.height) == (120, 30)
    (label,) = fitted.labels
    # Centred on x = 25 mm in a box LABEL_BOX units wide; the baseline at 10 mm, the box's top BASELINE ems above.
    assert (label.text, label.size, label.width, label.bold) == ("Mormor", 3, LABEL_BOX * 0.25, False)
    assert label.left == pytest.approx(25 - LABEL_BOX * 0.25 / 2)
    assert label.top == pytest.approx(10 - BASELINE * 3)
    assert fitted.style == "width: 120.00mm; height: 30.00mm"

    fitted = for_print(tall, width=120, max_height=200)
    assert (fitted.width, fitted.height) == (50, 200)
    (label,) = fitted.labels
    assert (label.left, label.size, label.width, label.bold) == (5, 5, None, True)
    assert label.style == f"left: 5.00mm; top: {10 - BASELINE * 5:.2f}mm; font-size: 5.00mm"


def test_for_print_keeps_a_label_as_text_never_markup():
    """The label leaves the SVG as the text it is (the template escapes it): nothing of it becomes a tag."""
    evil = '<script>alert("x")</script>'
    person = Person('x"><script>', evil, "female", 0)
    printed = for_print(render_svg(layout([person], []), title="t"), width=174, max_height=230)

    assert evil[:12] + "…" in [label.text for label in printed.labels]
    # The person's id, in attributes, and the full label, in the person's <title>, are escaped again on the way out.
    assert parse(printed.svg).find(f".//{NS}g[@data-person-id]").get("data-person-id") == 'x"><script>'
    assert parse(printed.svg).find(f".//{NS}g[@data-person-id]/{NS}title").text == evil
    assert "<script" not in printed.svg
    assert not [e for e in parse(printed.svg).iter() if e.tag.endswith("script")]
