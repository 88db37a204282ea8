"""Reads of questionnaires. Every one goes through Administration.objects.visible_to or a tablet code."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import HttpRequest
from django.utils.translation import gettext as _

from assessments.models import Administration, Answer, Item, ItemKind, TabletCode, TimePoint
from assessments.services import DECLINED, TABLET_SESSION_KEY
from clients.models import Client
from kast.models import AccessLogEntry
from kast.selectors import get_client_owned_or_404


def get_administration_for(
    request: HttpRequest, administration_id: int, *, action: str | None = AccessLogEntry.Action.VIEW
) -> Administration:
    """The questionnaire, if the user may see its client; 404 otherwise. Logged either way."""
    visible = Administration.objects.visible_to(request.user).select_related(
        "client", "client__clinic", "episode", "version", "version__instrument", "entered_in_error_by"
    )
    return get_client_owned_or_404(request, visible, administration_id, action=action)


def tablet_in_use(request: HttpRequest) -> TabletCode | None:
    """The code this device has opened, while it is still valid."""
    tablet_id = request.session.get(TABLET_SESSION_KEY)
    if tablet_id is None:
        return None
    tablet = (
        TabletCode.objects.filter(pk=tablet_id)
        .select_related("administration", "administration__client", "administration__version", "created_by")
        .first()
    )
    if tablet is None or not tablet.is_valid() or tablet.administration.is_submitted:
        request.session.pop(TABLET_SESSION_KEY, None)
        return None
    return tablet


def items_for(administration: Administration) -> list[Item]:
    """The version's items that apply to this client (targeted questions per problem type)."""
    groups = administration.client.target_groups
    return [item for item in administration.version.items.order_by("position") if item.applies_to(groups)]


def stored_answers(administration: Administration) -> dict[str, object]:
    """item code -> the value as stored (or DECLINED), for the form's initial values."""
    result: dict[str, object] = {}
    for answer in Answer.objects.filter(administration=administration).select_related("item"):
        result[answer.item.code] = DECLINED if answer.declined else value_of(answer)
    return result


def value_of(answer: Answer) -> object:
    kind = answer.item.kind
    if kind == ItemKind.YES_NO:
        return answer.value_bool
    if kind in (ItemKind.SCALE, ItemKind.FREQUENCY, ItemKind.NUMBER):
        return answer.value_int
    if kind == ItemKind.LAST_OCCURRENCE:
        return answer.value_date
    if kind == ItemKind.SINGLE:
        return answer.value_choices[0] if answer.value_choices else None
    if kind == ItemKind.MULTIPLE:
        return answer.value_choices
    return answer.value_text


@dataclass(frozen=True)
class AnswerRow:
    item: Item
    shown: str  # the answer as words, "" when not answered
    declined: bool


def answer_rows(administration: Administration) -> list[AnswerRow]:
    """Each applicable item with its answer in words, for reading a submitted questionnaire."""
    stored = stored_answers(administration)
    rows = []
    for item in items_for(administration):
        value = stored.get(item.code)
        labels = dict(item.options())
        if value == DECLINED:
            rows.append(AnswerRow(item, str(_("Does not want to answer")), True))
        elif value is None or value == []:
            rows.append(AnswerRow(item, "", False))
        elif item.kind == ItemKind.MULTIPLE:
            assert isinstance(value, list)  # a multiple choice's value is the list of choices
            rows.append(AnswerRow(item, ", ".join(str(labels.get(v, v)) for v in value), False))
        elif labels:
            rows.append(AnswerRow(item, str(labels.get(value, value)), False))
        else:
            rows.append(AnswerRow(item, str(value), False))
    return rows


@dataclass(frozen=True)
class TimePointRow:
    time_point: str
    label: str
    administration: Administration | None  # the one that counts
    #: Those of this time point marked as entered in error: still in the record, struck through with the reason.
    entered_in_error: list[Administration] = field(default_factory=list)


def client_questionnaires(client: Client) -> tuple[list[TimePointRow], list[Administration]]:
    """The current period's time points with their questionnaire (if any) and those entered in error, and earlier
    periods' ones (the marked ones among them too). One query."""
    episode = client.current_episode()
    administrations = list(
        Administration.objects.filter(client=client)
        .select_related("episode", "version", "version__instrument", "entered_in_error_by")
        .order_by("-episode__number", "started_at")
    )
    in_current = [a for a in administrations if a.episode_id == episode.pk]
    current = {a.time_point: a for a in in_current if not a.is_entered_in_error}
    rows = [
        TimePointRow(
            point,
            str(label),
            current.get(point),
            [a for a in in_current if a.time_point == point and a.is_entered_in_error],
        )
        for point, label in TimePoint.choices
    ]
    earlier = [a for a in administrations if a.episode_id != episode.pk]
    return rows, earlier
