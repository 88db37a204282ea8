"""Reads of questionnaires. Every one goes through Administration.objects.visible_to or a tablet code."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.http import HttpRequest
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from assessments.models import (
    FREQUENCY_STEPS,
    SCALE_STEPS,
    Administration,
    Answer,
    Item,
    ItemKind,
    TabletCode,
    TimePoint,
)
from assessments.services import DECLINED, TABLET_SESSION_KEY
from assessments.sparkline import sparkline_svg
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
    return [
        AnswerRow(item, in_words(item, stored.get(item.code)), stored.get(item.code) == DECLINED)
        for item in items_for(administration)
    ]


def in_words(item: Item, value: object) -> str:
    """An answer as the form shows it: the choice's label, "does not want to answer", the date; "" for none."""
    if value == DECLINED:
        return str(_("Does not want to answer"))
    if value is None or value == []:
        return ""
    labels = dict(item.options())
    if item.kind == ItemKind.MULTIPLE:
        assert isinstance(value, list)  # a multiple choice's value is the list of choices
        return ", ".join(str(labels.get(v, v)) for v in value)
    return str(labels.get(value, value))


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


# -- The client's answers side by side ------------------------------------------------------------------------------

#: The graded kinds, drawn as a line over time: (lowest, highest) stored value.
GRADED = {
    ItemKind.SCALE: (
        min(value for steps in SCALE_STEPS.values() for value, _label in steps),
        max(value for steps in SCALE_STEPS.values() for value, _label in steps),
    ),
    ItemKind.FREQUENCY: (
        min(value for value, _label in FREQUENCY_STEPS),
        max(value for value, _label in FREQUENCY_STEPS),
    ),
}
POINT_ORDER = {point: index for index, point in enumerate(TimePoint.values)}


@dataclass(frozen=True)
class OverTimeColumn:
    """One submitted questionnaire: a time point of a treatment period."""

    administration: Administration
    label: str  # "Period 1: Treatment start"
    date: datetime.date


@dataclass(frozen=True)
class OverTimeCell:
    asked: bool  # the item was in that questionnaire's version (and so on the form)
    shown: str  # the answer in words, "" when none
    declined: bool
    graded: int | None  # the step of a graded answer, for the chart


@dataclass(frozen=True)
class OverTimeRow:
    code: str
    item: Item  # the newest wording of the code among the client's questionnaires
    cells: list[OverTimeCell]
    chart: SafeString | None  # graded items only


@dataclass(frozen=True)
class AnswersOverTime:
    columns: list[OverTimeColumn]
    rows: list[OverTimeRow]
    #: Questionnaires marked as entered in error: left out (they may be another person's answers), only counted.
    left_out: int

    @property
    def sections(self) -> list[tuple[str, list[OverTimeRow]]]:
        """The rows under their section headings (a heading again where the order leaves a section and returns)."""
        grouped: list[tuple[str, list[OverTimeRow]]] = []
        for row in self.rows:
            section = row.item.localized_section
            if not grouped or grouped[-1][0] != section:
                grouped.append((section, []))
            grouped[-1][1].append(row)
        return grouped


def answers_over_time(client: Client) -> AnswersOverTime:
    """The client's own answers at every time point of every treatment period, side by side: one row per item code,
    so a question reworded in a later version stays in one row; one column per submitted questionnaire.

    Rows follow the newest questionnaire's items, then codes only in older ones (newest first), each with its latest
    wording. Three queries, however many questionnaires and answers (none after the first when nothing is submitted).
    """
    administrations = list(Administration.objects.filter(client=client).select_related("episode"))
    left_out = sum(1 for a in administrations if a.is_entered_in_error)
    shown = sorted(
        (a for a in administrations if a.is_submitted and not a.is_entered_in_error),
        key=lambda a: (a.episode.number, POINT_ORDER.get(a.time_point, len(POINT_ORDER)), a.submitted_at),
    )
    if not shown:
        return AnswersOverTime([], [], left_out)
    columns = [
        OverTimeColumn(
            a,
            _("Period %(number)s: %(point)s") % {"number": a.episode.number, "point": a.get_time_point_display()},
            timezone.localdate(a.submitted_at),  # submitted, so set
        )
        for a in shown
    ]
    items_of: dict[int, list[Item]] = {}
    for item in Item.objects.filter(version_id__in={a.version_id for a in shown}).order_by("version_id", "position"):
        items_of.setdefault(item.version_id, []).append(item)
    by_code = {version: {item.code: item for item in items} for version, items in items_of.items()}
    answers = {(a.administration_id, a.item_id): a for a in Answer.objects.filter(administration__in=shown)}
    answered_items = {item_id for _administration, item_id in answers}

    # Which codes, in which order, worded how: the newest questionnaire first.
    wording: dict[str, Item] = {}
    for administration in reversed(shown):
        for item in items_of.get(administration.version_id, []):
            if item.code not in wording and (item.applies_to(client.target_groups) or item.pk in answered_items):
                wording[item.code] = item

    rows = []
    for code, item in wording.items():
        cells: list[OverTimeCell] = []
        for administration in shown:
            asked = by_code.get(administration.version_id, {}).get(code)
            answer = answers.get((administration.pk, asked.pk)) if asked else None
            if asked is None or answer is None:
                cells.append(OverTimeCell(asked is not None, "", False, None))
            else:
                answer.item = asked  # the item is loaded already: no query per answer
                value = DECLINED if answer.declined else value_of(answer)
                # On the line only when measured on the newest wording's steps (a code whose kind or scale changed
                # between versions keeps its row, but older steps are not drawn as if comparable).
                same_steps = (asked.kind, asked.scale) == (item.kind, item.scale)
                graded = answer.value_int if asked.kind in GRADED and same_steps and not answer.declined else None
                cells.append(OverTimeCell(True, in_words(asked, value), answer.declined, graded))
        rows.append(OverTimeRow(code, item, cells, _chart(item, columns, cells)))
    return AnswersOverTime(columns, rows, left_out)


def _chart(item: Item, columns: list[OverTimeColumn], cells: list[OverTimeCell]) -> SafeString | None:
    """A line over time for a graded item answered at least once; its text alternative lists every time point."""
    if item.kind not in GRADED or all(cell.graded is None for cell in cells):
        return None
    lowest, highest = GRADED[ItemKind(item.kind)]
    answers = "; ".join(
        f"{column.label} ({column.date.isoformat()}): {cell.shown or _('no answer')}"
        for column, cell in zip(columns, cells, strict=True)
    )
    return sparkline_svg(
        [cell.graded for cell in cells],
        lowest=lowest,
        highest=highest,
        description=_("%(question)s, over time: %(answers)s") % {"question": item.localized_text, "answers": answers},
    )
