"""The conversation guide beside the note is the seed's "Samtalsguide KAST": every line, in its order, nothing added;
and the clinic's own themes are shown apart from it, marked as the clinic's.

The source is kept in the repository as a verbatim excerpt (seed_samtalsguide.txt), since the seeds themselves are
not shipped with the code; where the seed file is at hand (KAST_SEEDS_DIR, or the project's shared seeds), the
excerpt is checked to be the seed's own text, character for character.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import gettext as _

from sessions.models import ADVICE, GUIDE, GUIDE_INTRODUCTION, QUESTION, GuideTopic, Theme
from tests.sessions.test_notes import detail_url

EXCERPT = Path(__file__).with_name("seed_samtalsguide.txt")
SEEDS = Path(os.environ.get("KAST_SEEDS_DIR", "/work/shared/seeds"))
#: Lines of the source page that are layout, not guide: its heading and the page's label.
LAYOUT = {"Samtalsguide KAST", "Kan användas i samtal"}


def excerpt() -> str:
    return "".join(line for line in EXCERPT.read_text().splitlines(keepends=True) if not line.startswith("#"))


def source_lines() -> list[str]:
    """The guide's lines as the source has them: bullets without their dash, the page's layout and an empty bullet
    left out."""
    lines = []
    for raw in excerpt().splitlines():
        line = re.sub(r"^\s*-\s?", "", raw).strip()
        if line and line not in LAYOUT:
            lines.append(line)
    return lines


def words(text: str) -> list[str]:
    return text.split()


def shipped_seed_lines() -> list[str]:
    return [GUIDE_INTRODUCTION[1], *(line.seed for section in GUIDE for line in section.lines)]


def test_the_excerpt_is_the_seeds_own_text():
    seeds = sorted(SEEDS.glob("000_*.txt"))
    if not seeds:
        pytest.skip("the seed file is not at hand here; the committed excerpt stands for it")
    assert excerpt() in seeds[0].read_text()


def test_the_excerpt_holds_the_guide_and_nothing_of_the_next_page():
    text = excerpt()
    assert text.startswith("Samtalsguide KAST\n")
    assert "Mall för djupintervju" not in text
    assert len(source_lines()) == 20  # the introduction's two lines and the guide's eighteen


def test_the_shipped_guide_is_every_line_of_the_seed_in_its_order_and_nothing_else():
    # Word for word, so a line left out, added, reworded or moved fails; how the lines are split does not matter.
    assert words(" ".join(shipped_seed_lines())) == words(" ".join(source_lines()))


def test_each_seed_line_stands_whole_in_the_source():
    """No shipped line joins the end of one source line with the start of another (except the two-line introduction,
    which the source breaks in the middle of a paragraph)."""
    source = source_lines()
    for line in shipped_seed_lines()[1:]:
        assert line in source, line


def test_questions_are_questions_and_advice_is_advice():
    kinds = {line.kind for section in GUIDE for line in section.lines}
    assert kinds == {QUESTION, ADVICE}
    for section in GUIDE:
        for line in section.lines:
            assert line.seed.endswith("?") == (line.kind == QUESTION), line.seed
            assert str(line.text).endswith("?") == (line.kind == QUESTION), line.text


def test_the_guides_topics_are_the_first_common_themes_in_the_guides_order():
    topics = [section.topic for section in GUIDE]
    assert len(set(topics)) == len(topics)
    assert topics == GuideTopic.values[: len(topics)]


def test_the_advice_the_evaluation_names_is_there():
    """On shame: let the first layer be; pornography is non-relational."""
    with translation.override("en"):
        advice = {section.topic: [str(line.text) for line in section.lines if line.kind == ADVICE] for section in GUIDE}
    assert any("first layer" in text and "Let it be so" in text for text in advice[GuideTopic.SHAME])
    assert any("non-relational" in text for text in advice[GuideTopic.PORNOGRAPHY])


@pytest.mark.django_db
def test_the_note_page_shows_the_guide_and_the_clinics_own_themes_apart(client, therapist, held_session):
    Theme.objects.create(
        clinic=held_session.clinic, name="Arbete och ekonomi", questions="Hur går det på jobbet?", position=50
    )
    client.force_login(therapist)

    body = client.get(detail_url(held_session)).content.decode()

    guide, own = body.split('id="own-themes-heading"')
    for section in GUIDE:
        assert html.escape(str(section.topic.label)) in guide
        for line in section.lines:
            assert html.escape(str(line.text)) in guide
    assert html.escape(str(GUIDE_INTRODUCTION[0])) in guide
    assert "Hur går det på jobbet?" not in guide
    assert "Arbete och ekonomi" in own and "Hur går det på jobbet?" in own
    assert own.split("</h3>")[0].endswith(_("The clinic's own themes"))


@pytest.mark.django_db
def test_without_the_clinics_own_questions_there_is_no_own_section(client, therapist, held_session):
    client.force_login(therapist)

    response = client.get(detail_url(held_session))

    assert response.context["own_themes"] == []
    assert 'id="own-themes-heading"' not in response.content.decode()
    assert len(response.context["guide"]) == len(GUIDE)


def test_the_swedish_guide_is_the_seeds_own_words():
    """The Swedish catalogue gives each line back exactly as the conversation support words it."""
    with translation.override("sv"):
        assert str(GUIDE_INTRODUCTION[0]) == GUIDE_INTRODUCTION[1]
        for section in GUIDE:
            for line in section.lines:
                assert str(line.text) == line.seed
