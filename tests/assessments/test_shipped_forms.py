"""The shipped questionnaires are true to the evaluation's design (FoU i Väst 2021, "Självskattningsformulär").

The report: the end form "innehåller samma frågor som vid behandlingsstart", plus questions on access, the staff's
manner and helpfulness; the follow-up uses the end form's questions. Bilaga 1 (the interview guide) gives the
outcome questions that fit a form. Publishing a version that leaves out a question Tables 1-2 count needs an
explicit confirmation.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from assessments.models import REPORTED_CODES, InstrumentVersion, Item, ItemKind, Scale, TimePoint
from assessments.services import version_copy, version_dropped_codes, version_for, version_publish

pytestmark = pytest.mark.django_db

#: The start's questions about the person's situation and behaviour: the target behaviours, how often and when
#: last for each of them, bought in the last year, destructive for oneself / thoughts / relationships, guilt and
#: shame, wellbeing, inadequacy, self-image and relationships, stopping unwanted impulses.
SITUATION_AND_BEHAVIOUR = {
    "problem_behaviours",
    "bought_sex_last_year",
    "behaviour_harms_self",
    "thoughts_harm_self",
    "behaviour_harms_relations",
    "guilt_shame",
    "wellbeing",
    "inadequacy",
    "self_image",
    "relations_affected",
    "stop_impulses",
}
#: The end form's own questions (the evaluation's Table 2).
END_QUESTIONS = {
    "came_as_often",
    "came_as_long",
    "staff_respectful",
    "staff_non_judgmental",
    "staff_dignified",
    "talk_sexual_issues",
    "got_help_needed",
    "stop_impulses_due_to_treatment",
}
#: Background asked once, at the start: not repeated.
START_ONLY = {"has_partner", "has_children", "seek_reason", "bought_sex_ever"}
#: The follow-up's outcome questions, with the seed's words each must carry (Bilaga 1 and "Formulärsvar från
#: uppföljningen"), their kind, and their scale.
FOLLOW_UP_QUESTIONS = {
    # "Frågan om huruvida behandlingen har lett till att de inte köper sexuella tjänster"
    "stopped_buying_sex": ("lett till att du inte köper sexuella tjänster", ItemKind.YES_NO, ""),
    # 26. "Efter att du har avslutat behandlingen, har du då låtit bli att köpa sex fast du hade tänkt det?"
    "refrained_buying_sex": ("låtit bli att köpa sex fast du hade tänkt det", ItemKind.YES_NO, ""),
    # 15. "Hur nöjd är du sammantaget av den behandling du fått?" (graded, as the forms grade such questions)
    "satisfaction_overall": ("Hur nöjd är du sammantaget", ItemKind.SCALE, Scale.SATISFIED),
    # 16. "Hur nöjd är du med omfattningen (i tillgänglighet - även över tid) av den hjälp du fått?"
    "satisfaction_amount": ("Hur nöjd är du med omfattningen", ItemKind.SCALE, Scale.SATISFIED),
    # 30. "Om du skulle söka hjälp igen, skulle du söka dig till en likartad behandling igen?"
    "seek_similar_again": ("skulle du söka dig till en likartad behandling igen", ItemKind.YES_NO, ""),
    # 31. "Om en vän var i behov av liknande hjälp, skulle du då rekommendera behandlingen ..."
    "recommend_to_friend": ("Om en vän var i behov av liknande hjälp", ItemKind.YES_NO, ""),
}


def codes(version: InstrumentVersion) -> list[str]:
    return list(version.items.order_by("position").values_list("code", flat=True))


def behaviours(version: InstrumentVersion) -> list[str]:
    return [value for value, _sv, _en in version.items.get(code="problem_behaviours").choices]


def test_every_time_point_has_a_new_published_version():
    shipped = {point: version_for(point) for point in TimePoint.values}

    assert {point: (v.instrument.code, v.number) for point, v in shipped.items()} == {
        TimePoint.START: ("kast-start", 2),
        TimePoint.END: ("kast-end", 2),
        TimePoint.FOLLOW_UP: ("kast-follow-up", 1),
        TimePoint.LONG_TERM: ("kast-follow-up", 1),
    }
    assert all(version.is_published and version.changes for version in shipped.values())


def test_the_start_asks_how_often_and_when_last_for_every_behaviour():
    start = version_for(TimePoint.START)
    asked = set(codes(start))

    for behaviour in behaviours(start):
        assert {f"freq_{behaviour}", f"last_{behaviour}"} <= asked, behaviour
        assert start.items.get(code=f"freq_{behaviour}").kind == ItemKind.FREQUENCY
        assert start.items.get(code=f"last_{behaviour}").kind == ItemKind.LAST_OCCURRENCE
    # Version 1's questions all kept, in the same meaning (the same code, the same kind of answer).
    first = InstrumentVersion.objects.get(instrument__code="kast-start", number=1)
    assert set(codes(first)) <= asked
    for item in first.items.all():
        assert start.items.get(code=item.code).kind == item.kind


@pytest.mark.parametrize("point", [TimePoint.END, TimePoint.FOLLOW_UP, TimePoint.LONG_TERM])
def test_the_end_and_follow_up_forms_repeat_the_start_questions_on_situation_and_behaviour(point):
    start, later = version_for(TimePoint.START), version_for(point)
    start_codes, later_codes = codes(start), codes(later)
    frequencies = {code for code in start_codes if code.startswith(("freq_", "last_"))}

    assert SITUATION_AND_BEHAVIOUR | frequencies <= set(later_codes)
    assert len(frequencies) == 2 * len(behaviours(start)) == 14
    assert not START_ONLY & set(later_codes)
    # The same question as at the start: the same kind, scale, choices, direction and target groups, so it pairs.
    for code in SITUATION_AND_BEHAVIOUR | frequencies:
        asked_then, asked_now = start.items.get(code=code), later.items.get(code=code)
        fields = ("kind", "scale", "choices", "higher_is_better", "target_groups", "text")
        assert [getattr(asked_now, f) for f in fields] == [getattr(asked_then, f) for f in fields], code
    # Then the end's own questions, after the repeated ones.
    assert set(later_codes) >= END_QUESTIONS
    last_repeated = max(later_codes.index(code) for code in SITUATION_AND_BEHAVIOUR | frequencies)
    assert min(later_codes.index(code) for code in END_QUESTIONS) > last_repeated
    # The end's own questions keep version 1's wording and kind (Table 2 counts them across versions).
    end_v1 = InstrumentVersion.objects.get(instrument__code="kast-end", number=1)
    for code in END_QUESTIONS:
        assert later.items.get(code=code).kind == end_v1.items.get(code=code).kind == ItemKind.YES_NO
        assert later.items.get(code=code).text == end_v1.items.get(code=code).text


def test_the_follow_up_adds_the_evaluation_interviews_outcome_questions():
    end, follow_up = version_for(TimePoint.END), version_for(TimePoint.FOLLOW_UP)

    assert set(FOLLOW_UP_QUESTIONS) <= set(codes(follow_up))
    assert not set(FOLLOW_UP_QUESTIONS) & set(codes(end))  # after the treatment, not at its end
    assert set(codes(end)) - {"own_words"} <= set(codes(follow_up))  # the follow-up uses the end form's questions
    for code, (words, kind, scale) in FOLLOW_UP_QUESTIONS.items():
        item = follow_up.items.get(code=code)
        assert words in item.text, code
        assert item.text_en, code
        assert (item.kind, item.scale) == (kind, scale), code
    # The buying questions go to those who seek help for buying sex.
    assert follow_up.items.get(code="stopped_buying_sex").target_groups == ["buying_sex"]
    assert follow_up.items.get(code="refrained_buying_sex").target_groups == ["buying_sex"]
    # Satisfaction is graded "very satisfied" ... "very dissatisfied", and a higher step is better.
    satisfaction = follow_up.items.get(code="satisfaction_overall")
    assert [value for value, _label in satisfaction.options()] == [5, 4, 3, 2, 1]
    assert satisfaction.higher_is_better is True


def test_the_shipped_versions_keep_every_code_the_tables_count():
    for point in TimePoint.values:
        assert version_dropped_codes(version_for(point)) == []
    assert set(REPORTED_CODES[TimePoint.START]) <= set(codes(version_for(TimePoint.START)))
    assert set(REPORTED_CODES[TimePoint.END]) <= set(codes(version_for(TimePoint.END)))


def test_the_earlier_versions_are_unchanged():
    """The migration adds versions; version 1 of each form is as it was shipped (answers on it keep counting)."""
    first = {v.instrument.code: v for v in InstrumentVersion.objects.filter(number=1).select_related("instrument")}

    assert {code: v.items.count() for code, v in first.items()} == {
        "kast-start": 21,
        "kast-end": 22,
        "kast-follow-up": 40,
    }
    assert first["kast-end"].time_points == [TimePoint.END, TimePoint.FOLLOW_UP, TimePoint.LONG_TERM]
    assert first["kast-start"].changes == first["kast-end"].changes == ""


# -- Publishing a version that leaves out a counted question --------------------------------------------------


@pytest.fixture
def draft_without_a_counted_question():
    """A draft of the end form that leaves out "could come as often as needed" (a row of Table 2)."""
    draft = version_copy(version=version_for(TimePoint.END))
    Item.objects.filter(version=draft, code="came_as_often").delete()
    return draft


def test_publishing_a_version_that_drops_a_counted_code_needs_a_confirmation(draft_without_a_counted_question):
    draft = draft_without_a_counted_question

    assert version_dropped_codes(draft) == ["came_as_often"]
    with pytest.raises(ValidationError, match="came_as_often") as refused:
        version_publish(version=draft)
    assert refused.value.error_list[0].code == "drops_reported_codes"
    draft.refresh_from_db()
    assert draft.published_at is None
    assert version_for(TimePoint.END) != draft

    version_publish(version=draft, dropping_reported=True)

    assert version_for(TimePoint.END) == draft


def test_the_admin_warns_and_publishes_only_when_confirmed(client, admin, draft_without_a_counted_question):
    draft = draft_without_a_counted_question
    client.force_login(admin)
    changelist = reverse("admin:assessments_instrumentversion_changelist")

    warned = client.post(changelist, {"action": "publish", "_selected_action": [draft.pk]})

    assert warned.status_code == 200
    page = warned.content.decode()
    assert "<code>came_as_often</code>" in page
    assert 'name="confirm_dropping" value="yes"' in page
    assert f'name="_selected_action" value="{draft.pk}"' in page
    draft.refresh_from_db()
    assert draft.published_at is None

    confirmed = client.post(
        changelist, {"action": "publish", "_selected_action": [draft.pk], "confirm_dropping": "yes"}
    )

    assert confirmed.status_code == 302
    draft.refresh_from_db()
    assert draft.published_at is not None


def test_the_admin_publishes_a_version_that_keeps_the_counted_codes_at_once(client, admin):
    draft = version_copy(version=version_for(TimePoint.END))
    client.force_login(admin)

    response = client.post(
        reverse("admin:assessments_instrumentversion_changelist"), {"action": "publish", "_selected_action": [draft.pk]}
    )

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.published_at is not None
