"""Starting and filling in a questionnaire as the therapist: versions, answers, validation, visibility."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from assessments import services
from assessments.models import Administration, Answer, FilledBy, TimePoint
from assessments.services import DECLINED, answers_save, version_for
from clients.models import EndReason, Episode
from kast.actor import Actor
from kast.models import AccessLogEntry
from tests.factories import open_first_period, put_in_treatment

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
SENTINEL = "SENTINEL-svar-4711"
#: The start version's items shown to everyone (not targeted at a group).
UNTARGETED_START_ITEMS = [
    "has_partner",
    "has_children",
    "seek_reason",
    "problem_behaviours",
    "bought_sex_ever",
    "bought_sex_last_year",
    "behaviour_harms_self",
    "thoughts_harm_self",
    "behaviour_harms_relations",
    "freq_pornography",
    "freq_sex_clubs",
    "freq_sexual_chat",
    "wellbeing",
    "stop_impulses",
    "guilt_shame",
    "inadequacy",
    "self_image",
    "relations_affected",
    "own_words",
]


@pytest.fixture
def case(client_record):
    """`client_record` in treatment: period 1, moved contact -> assessment -> in treatment."""
    return put_in_treatment(open_first_period(client_record))


@pytest.fixture
def buyer(case):
    """`case`, seeking help for buying sexual services: gets the targeted questions."""
    case.target_groups = ["buying_sex"]
    case.save(update_fields=["target_groups"])
    return case


def administration_of(client, time_point=TimePoint.START) -> Administration:
    return Administration.objects.create(
        client=client,
        episode=client.episodes.order_by("-number").first(),
        time_point=time_point,
        version=version_for(time_point),
        created_by=client.responsible_therapist,
    )


@pytest.fixture
def started(buyer):
    """The start questionnaire of `buyer`, not yet answered."""
    return administration_of(buyer)


def service_actor(user):
    return Actor.for_user(user)


def stored(administration) -> dict[str, tuple]:
    """item code -> (declined, value_bool, value_int, value_date, value_text, value_choices)."""
    return {
        answer.item.code: (
            answer.declined,
            answer.value_bool,
            answer.value_int,
            answer.value_date,
            answer.value_text,
            answer.value_choices,
        )
        for answer in Answer.objects.filter(administration=administration).select_related("item")
    }


def fill_url(administration) -> str:
    return reverse("assessments:fill", args=[administration.pk])


def as_read(administration, data: dict) -> dict:
    """`data` as the page posts it: with the fingerprint of the answers stored when it was read."""
    return {**data, "answers_version": services.answers_digest(administration)}


def start(client, case, time_point):
    return client.post(reverse("assessments:start", args=[case.pk]), {"time_point": time_point})


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# -- Starting ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("time_point", "instrument", "number"),
    [
        (TimePoint.START, "kast-start", 2),
        (TimePoint.END, "kast-end", 2),
        (TimePoint.FOLLOW_UP, "kast-follow-up", 1),
        (TimePoint.LONG_TERM, "kast-follow-up", 1),
    ],
)
def test_starting_gives_the_version_of_the_time_point_in_the_current_period(
    client, therapist, case, time_point, instrument, number
):
    client.force_login(therapist)

    response = start(client, case, time_point)

    administration = Administration.objects.get(client=case)
    assert response.status_code == 302
    assert response["Location"] == fill_url(administration)
    assert (administration.episode, administration.time_point) == (case.episodes.get(), time_point)
    assert (administration.version.instrument.code, administration.version.number) == (instrument, number)
    assert administration.version.is_published
    assert (administration.created_by, administration.filled_by, administration.submitted_at) == (
        therapist,
        FilledBy.THERAPIST,
        None,
    )
    entry = AccessLogEntry.objects.get(action=AccessLogEntry.Action.CREATE)
    assert (entry.user, entry.client_id, entry.object_type, entry.object_id) == (
        therapist,
        case.pk,
        "assessments.administration",
        str(administration.pk),
    )


def test_a_returning_client_gets_the_questionnaire_in_the_new_period(client, therapist, case):
    first = case.episodes.get()
    first.opened_on, first.closed_on, first.end_reason = (
        timezone.localdate() - 400 * DAY,
        timezone.localdate() - 200 * DAY,
        EndReason.GOAL_REACHED,
    )
    first.save()
    earlier = administration_of(case)
    second = Episode.objects.create(client=case, number=2, opened_on=timezone.localdate() - 10 * DAY)
    client.force_login(therapist)

    response = start(client, case, TimePoint.START)

    assert response.status_code == 302
    assert list(Administration.objects.filter(client=case).order_by("pk").values_list("episode", "time_point")) == [
        (first.pk, TimePoint.START),
        (second.pk, TimePoint.START),
    ]
    assert Administration.objects.get(pk=earlier.pk).episode == first


def test_a_second_start_for_the_same_period_and_time_point_is_refused(client, therapist, case):
    client.force_login(therapist)
    first = start(client, case, TimePoint.START)
    assert first.status_code == 302

    response = start(client, case, TimePoint.START)

    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:client", args=[case.pk])
    page = client.get(response["Location"])
    with translation.override("sv"):
        expected = _("This treatment period already has a questionnaire for that time point.")
    assert shown_messages(page) == [expected]
    assert Administration.objects.filter(client=case).count() == 1


def test_the_start_service_refuses_a_second_questionnaire_for_the_period(therapist, case):
    administration_of(case, TimePoint.END)

    with pytest.raises(ValidationError) as refused:
        services.administration_start(actor=service_actor(therapist), client=case, time_point=TimePoint.END)

    assert refused.value.message_dict == {
        "time_point": [_("This treatment period already has a questionnaire for that time point.")]
    }
    assert Administration.objects.filter(client=case).count() == 1


def test_the_database_refuses_a_second_questionnaire_for_the_period_and_time_point(case):
    administration_of(case, TimePoint.FOLLOW_UP)

    with pytest.raises(IntegrityError, match="administration_once_per_period_and_point"), transaction.atomic():
        administration_of(case, TimePoint.FOLLOW_UP)

    assert Administration.objects.filter(client=case).count() == 1


def test_an_unknown_time_point_starts_nothing(client, therapist, case):
    client.force_login(therapist)

    response = start(client, case, "someday")

    assert response.status_code == 302
    page = client.get(response["Location"])
    with translation.override("sv"):
        assert shown_messages(page) == [_("Choose a time point.")]
    assert not Administration.objects.filter(client=case).exists()


# -- Filling in --------------------------------------------------------------------------------------------


def valid_answers() -> dict[str, object]:
    """One answer of each kind, with one item left empty (has_children)."""
    return {
        "item_has_partner": "yes",
        "item_has_children": "",
        "item_wellbeing": "4",
        "item_freq_pornography": "2",
        "item_problem_behaviours": ["pornography", "sexual_chat"],
        "item_last_buying_sex": (timezone.localdate() - 30 * DAY).isoformat(),
        "item_own_words": "  Det går bättre nu.  ",
    }


def valid_stored() -> dict[str, tuple]:
    return {
        "has_partner": (False, True, None, None, "", []),
        "wellbeing": (False, None, 4, None, "", []),
        "freq_pornography": (False, None, 2, None, "", []),
        "problem_behaviours": (False, None, None, None, "", ["pornography", "sexual_chat"]),
        "last_buying_sex": (False, None, None, timezone.localdate() - 30 * DAY, "", []),
        "own_words": (False, None, None, None, "Det går bättre nu.", []),
    }


def test_saving_stores_each_kind_in_its_column_and_only_the_answered_items(client, therapist, started):
    client.force_login(therapist)

    response = client.post(fill_url(started), as_read(started, {**valid_answers(), "save": ""}))

    assert response.status_code == 302
    assert response["Location"] == fill_url(started)
    assert stored(started) == valid_stored()
    started.refresh_from_db()
    assert started.submitted_at is None
    # The form shows what is stored, so going on later starts from there.
    page = client.get(fill_url(started))
    assert page.status_code == 200
    initial = page.context["form"].initial
    assert (initial["item_has_partner"], initial["item_wellbeing"], initial["item_has_children"]) == ("yes", "4", None)
    assert initial["item_problem_behaviours"] == ["pornography", "sexual_chat"]
    entry = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.UPDATE).get()
    assert (entry.user, entry.object_id, entry.reason) == (therapist, str(started.pk), "")


def test_declining_stores_an_answer_without_a_value(client, therapist, started):
    client.force_login(therapist)

    response = client.post(
        fill_url(started),
        as_read(
            started,
            {
                "item_has_partner": DECLINED,
                "item_wellbeing": DECLINED,
                "item_freq_pornography": DECLINED,
                "declined_problem_behaviours": "on",
                "declined_last_buying_sex": "on",
                "declined_own_words": "on",
                "save": "",
            },
        ),
    )

    assert response.status_code == 302
    declined = (True, None, None, None, "", [])
    assert stored(started) == {
        code: declined
        for code in [
            "has_partner",
            "wellbeing",
            "freq_pornography",
            "problem_behaviours",
            "last_buying_sex",
            "own_words",
        ]
    }
    initial = client.get(fill_url(started)).context["form"].initial
    assert (initial["item_has_partner"], initial["declined_own_words"], initial["declined_problem_behaviours"]) == (
        DECLINED,
        True,
        True,
    )


def test_a_later_save_changes_an_answer_and_an_emptied_item_is_no_longer_answered(client, therapist, started):
    client.force_login(therapist)
    client.post(fill_url(started), as_read(started, {**valid_answers(), "save": ""}))

    response = client.post(
        fill_url(started),
        as_read(started, {**valid_answers(), "item_has_partner": "no", "item_own_words": "", "save": ""}),
    )

    assert response.status_code == 302
    expected = valid_stored()
    expected["has_partner"] = (False, False, None, None, "", [])
    del expected["own_words"]
    assert stored(started) == expected


def test_submitting_closes_the_questionnaire_and_shows_the_answers_read_only(client, therapist, started):
    client.force_login(therapist)

    response = client.post(fill_url(started), as_read(started, {**valid_answers(), "submit": ""}))

    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:client", args=[started.client_id])
    started.refresh_from_db()
    submitted_at = started.submitted_at
    assert submitted_at is not None
    assert stored(started) == valid_stored()
    entry = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.UPDATE).get()
    assert (entry.user, entry.object_id, entry.reason) == (therapist, str(started.pk), "submitted")

    page = client.get(fill_url(started))
    assert page.status_code == 200
    assert page.templates[0].name == "assessments/answers.html"
    content = page.content.decode()
    assert "Det går bättre nu." in content
    assert 'name="item_' not in content
    assert 'name="submit"' not in content

    again = client.post(
        fill_url(started), {"item_has_partner": "no", "item_own_words": "Ändrat i efterhand", "submit": ""}
    )
    assert again.status_code == 200
    assert again.templates[0].name == "assessments/answers.html"
    started.refresh_from_db()
    assert (started.submitted_at, stored(started)) == (submitted_at, valid_stored())

    with pytest.raises(ValidationError) as refused:
        answers_save(actor=service_actor(therapist), administration=started, answers={"has_partner": False})
    assert refused.value.messages == [_("This questionnaire is submitted; its answers can no longer change.")]
    assert stored(started) == valid_stored()


# -- Bad input ---------------------------------------------------------------------------------------------

TOMORROW = "tomorrow"
LAST_MONTH = "last month"


def _dates(data: dict[str, object]) -> dict[str, object]:
    today = timezone.localdate()
    days = {TOMORROW: today + DAY, LAST_MONTH: today - 30 * DAY}
    return {
        name: days[value].isoformat() if isinstance(value, str) and value in days else value
        for name, value in data.items()
    }


EARLIER = {"has_partner": True, "wellbeing": 3, "own_words": "Första svaret."}
EARLIER_STORED = {
    "has_partner": (False, True, None, None, "", []),
    "wellbeing": (False, None, 3, None, "", []),
    "own_words": (False, None, None, None, "Första svaret.", []),
}


@pytest.mark.parametrize("button", ["save", "submit"])
@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"item_wellbeing": "7"}, "item_wellbeing"),
        ({"item_has_partner": "5"}, "item_has_partner"),
        ({"item_freq_pornography": "9"}, "item_freq_pornography"),
        ({"item_problem_behaviours": ["pornography", "gambling"]}, "item_problem_behaviours"),
        ({"item_last_buying_sex": TOMORROW}, "item_last_buying_sex"),
        ({"item_own_words": "Både och", "declined_own_words": "on"}, "item_own_words"),
        ({"item_problem_behaviours": ["webcam"], "declined_problem_behaviours": "on"}, "item_problem_behaviours"),
        ({"item_last_buying_sex": LAST_MONTH, "declined_last_buying_sex": "on"}, "item_last_buying_sex"),
    ],
)
def test_a_bad_answer_is_a_field_error_and_nothing_is_saved(client, therapist, started, bad, field, button):
    answers_save(actor=service_actor(therapist), administration=started, answers=EARLIER)
    client.force_login(therapist)
    # Otherwise good changes alongside the bad answer: none of them may be kept.
    data = {
        "item_has_partner": "no",
        "item_has_children": "yes",
        "item_stop_impulses": "2",
        "item_own_words": "Nytt svar.",
        **_dates(bad),
        button: "",
    }

    response = client.post(fill_url(started), as_read(started, data))

    assert response.status_code == 400
    assert list(response.context["form"].errors) == [field]
    started.refresh_from_db()
    assert (started.submitted_at, stored(started)) == (None, EARLIER_STORED)


def test_a_value_and_declined_together_are_refused_with_a_message_saying_so(client, therapist, started):
    client.force_login(therapist)

    response = client.post(
        fill_url(started), as_read(started, {"item_own_words": "Både och", "declined_own_words": "on", "save": ""})
    )

    assert response.status_code == 400
    with translation.override("sv"):
        expected = _("Give an answer or tick “don't want to answer”, not both.")
    assert response.context["form"].errors == {"item_own_words": [expected]}
    assert stored(started) == {}


@pytest.mark.parametrize(
    ("answers", "errors"),
    [
        ({"has_children": True, "has_partner": 3}, {"has_partner": ["This answer does not fit the question."]}),
        ({"has_children": True, "wellbeing": True}, {"wellbeing": ["This answer does not fit the question."]}),
        (
            {"has_children": True, "freq_pornography": 7},
            {"freq_pornography": ["This answer does not fit the question."]},
        ),
        ({"problem_behaviours": ["gambling"]}, {"problem_behaviours": ["This answer does not fit the question."]}),
    ],
)
def test_the_service_refuses_a_value_that_does_not_fit_the_item(therapist, started, answers, errors):
    answers_save(actor=service_actor(therapist), administration=started, answers=EARLIER)
    log_entries = AccessLogEntry.objects.count()

    with pytest.raises(ValidationError) as refused:
        answers_save(actor=service_actor(therapist), administration=started, answers=answers)

    assert refused.value.message_dict == {code: [_(message) for message in m] for code, m in errors.items()}
    assert stored(started) == EARLIER_STORED
    assert AccessLogEntry.objects.count() == log_entries


@pytest.mark.parametrize("code", ["no_such_item", "came_as_often"])  # the second is an end-version item
def test_the_service_refuses_an_item_that_is_not_in_the_questionnaire(therapist, started, code):
    answers_save(actor=service_actor(therapist), administration=started, answers=EARLIER)

    with pytest.raises(ValidationError) as refused:
        answers_save(actor=service_actor(therapist), administration=started, answers={"has_children": True, code: True})

    assert refused.value.messages == [_("The answers do not belong to this questionnaire.")]
    assert stored(started) == EARLIER_STORED


# -- Targeted items ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target_groups", "targeted"),
    [([], False), (["compulsive"], False), (["buying_sex"], True), (["compulsive", "buying_sex"], True)],
)
def test_only_clients_who_buy_sex_get_the_questions_about_buying(client, therapist, case, target_groups, targeted):
    case.target_groups = target_groups
    case.save(update_fields=["target_groups"])
    administration = administration_of(case)
    client.force_login(therapist)

    response = client.get(fill_url(administration))

    assert response.status_code == 200
    fields = set(response.context["form"].fields)
    assert {f"item_{code}" for code in UNTARGETED_START_ITEMS} <= fields
    targeted_fields = {"item_freq_buying_sex", "item_last_buying_sex", "declined_last_buying_sex"}
    assert (targeted_fields & fields) == (targeted_fields if targeted else set())
    assert ("Hur ofta har du köpt sexuella tjänster?" in response.content.decode()) is targeted


def test_a_crafted_answer_to_a_question_the_client_does_not_get_is_not_stored(client, therapist, case):
    administration = administration_of(case)
    client.force_login(therapist)

    response = client.post(
        fill_url(administration),
        as_read(administration, {"item_freq_buying_sex": "3", "item_has_partner": "no", "save": ""}),
    )

    assert response.status_code == 302
    assert stored(administration) == {"has_partner": (False, False, None, None, "", [])}


def test_the_service_refuses_an_answer_to_a_question_the_client_does_not_get(therapist, case):
    """Not only the form: a direct call cannot store a buying-sex answer for a client outside that target group."""
    administration = administration_of(case)

    with pytest.raises(ValidationError) as refused:
        answers_save(
            actor=service_actor(therapist),
            administration=administration,
            answers={"has_partner": False, "freq_buying_sex": 3},
        )

    assert refused.value.messages == [_("The answers do not belong to this questionnaire.")]
    assert stored(administration) == {}


# -- Visibility --------------------------------------------------------------------------------------------


@pytest.fixture
def answered(case, therapist):
    """`case` with a submitted start and an open end questionnaire, both with a sentinel in the own words."""
    submitted = administration_of(case, TimePoint.START)
    answers_save(
        actor=service_actor(therapist),
        administration=submitted,
        answers={"own_words": SENTINEL, "wellbeing": 2},
        submit=True,
    )
    open_one = administration_of(case, TimePoint.END)
    answers_save(actor=service_actor(therapist), administration=open_one, answers={"own_words": SENTINEL})
    return submitted, open_one


def test_the_responsible_therapist_sees_the_answers(client, therapist, answered):
    client.force_login(therapist)

    for administration in answered:
        response = client.get(fill_url(administration))
        assert response.status_code == 200
        assert SENTINEL in response.content.decode()


@pytest.mark.parametrize(
    ("persona", "status"), [("colleague", 404), ("other_clinic", 404), ("manager", 403), ("admin", 403)]
)
def test_others_neither_see_nor_change_the_questionnaires(client, personas, case, answered, persona, status):
    user = personas[persona]
    submitted, open_one = answered
    before = {a.pk: stored(a) for a in answered}
    client.force_login(user)
    requests = [
        ("get", fill_url(submitted), {}),
        ("get", fill_url(open_one), {}),
        ("post", fill_url(open_one), {"item_own_words": "Överskrivet", "submit": ""}),
        ("get", reverse("assessments:client", args=[case.pk]), {}),
        ("post", reverse("assessments:start", args=[case.pk]), {"time_point": TimePoint.FOLLOW_UP}),
        ("post", reverse("assessments:tablet_code", args=[open_one.pk]), {}),
    ]

    for method, url, data in requests:
        response = getattr(client, method)(url, data)
        assert (url, response.status_code) == (url, status)
        assert SENTINEL not in response.content.decode()

    entries = AccessLogEntry.objects.filter(user=user).order_by("pk")
    assert list(entries.values_list("action", flat=True)) == [AccessLogEntry.Action.DENIED] * len(requests)
    if status == 404:  # refused by the record's gate, which knows the client
        assert list(entries.values_list("client_id", flat=True)) == [case.pk] * len(requests)
    else:  # refused by the role rule, which knows the client only from a client address
        assert list(entries.values_list("client_id", flat=True)) == [None, None, None, case.pk, case.pk, None]
    assert {a.pk: stored(a) for a in answered} == before
    open_one.refresh_from_db()
    assert open_one.submitted_at is None
    assert Administration.objects.filter(client=case).count() == 2
    assert not open_one.tablet_codes.exists()


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, case, answered):
    for administration in answered:
        response = client.get(fill_url(administration))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert not AccessLogEntry.objects.exclude(user=case.responsible_therapist).exists()


# -- Ending the treatment prompts the end questionnaire ----------------------------------------------------


def test_ending_the_treatment_leads_to_the_questionnaires_with_the_end_marked(client, therapist, case):
    client.force_login(therapist)

    response = client.post(
        reverse("sessions:end_treatment", args=[case.pk]),
        {"ended_on": timezone.localdate().isoformat(), "reason": EndReason.GOAL_REACHED},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:client", args=[case.pk]) + "?point=end"
    page = client.get(response["Location"])
    assert page.status_code == 200
    rows = re.findall(r'<tr( class="table-info")?>\s*<th scope="row">([^<]+)</th>', page.content.decode())
    with translation.override("sv"):
        labels = [str(label) for _value, label in TimePoint.choices]
        end_label = str(TimePoint.END.label)
    assert [label for _marked, label in rows] == labels
    assert [label for marked, label in rows if marked] == [end_label]

    # The end questionnaire can then be given in the period that just ended.
    started = start(client, case, TimePoint.END)
    administration = Administration.objects.get(client=case)
    assert started["Location"] == fill_url(administration)
    assert (administration.episode, administration.version.instrument.code) == (case.episodes.get(), "kast-end")


# -- Graded answers on the follow-up's satisfaction scale ----------------------------------------------------------


@pytest.mark.parametrize("point", [TimePoint.FOLLOW_UP, TimePoint.LONG_TERM])
@pytest.mark.parametrize("outside", ["6", "0", "-1", "yes"])
def test_a_graded_answer_outside_its_scale_is_a_field_error(client, therapist, buyer, point, outside):
    follow_up = administration_of(buyer, point)
    client.force_login(therapist)

    response = client.post(
        fill_url(follow_up),
        as_read(
            follow_up,
            {
                "item_satisfaction_overall": outside,
                "item_recommend_to_friend": "yes",
                "item_wellbeing": "4",
                "submit": "",
            },
        ),
    )

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["item_satisfaction_overall"]
    follow_up.refresh_from_db()
    assert (follow_up.submitted_at, stored(follow_up)) == (None, {})
    # The service refuses it too, on the item, whatever the caller.
    value = True if outside == "yes" else int(outside)  # True == 1 is a step only in Python, not an answer
    with pytest.raises(ValidationError) as refused:
        answers_save(actor=service_actor(therapist), administration=follow_up, answers={"satisfaction_overall": value})
    assert list(refused.value.message_dict) == ["satisfaction_overall"]


def test_a_graded_answer_on_its_scale_is_kept(client, therapist, buyer):
    follow_up = administration_of(buyer, TimePoint.FOLLOW_UP)
    client.force_login(therapist)

    response = client.post(
        fill_url(follow_up),
        as_read(follow_up, {"item_satisfaction_overall": "5", "item_satisfaction_amount": "2", "save": ""}),
    )

    assert response.status_code == 302
    assert stored(follow_up) == {
        "satisfaction_overall": (False, None, 5, None, "", []),
        "satisfaction_amount": (False, None, 2, None, "", []),
    }
