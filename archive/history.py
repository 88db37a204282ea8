"""Reads of a record's change history: who changed what in it, and when, from django-pghistory's event tables.

The triggers write a full copy of a row at every insert and update (and a session's delete). Here those copies
are read back for one record as a list of changes: each event next to the one before it of the same row, in
one query across the record's event tables (a UNION ALL, each part with its own window), paged in SQL. Long
texts never leave the database: a text is read as its length and a digest, so a change shows as "changed
(N characters)", and a history page is never a second copy of every draft. The identifying details are read
as a digest too until the user has shown them (clients.selectors.get_client_identity_for, logged).
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, overload

from django.apps import apps
from django.contrib.postgres.fields import ArrayField
from django.db import connection, models
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pghistory.models import Context

from clients.forms import IDENTITY_FIELDS
from clients.models import Client, Episode
from kast.models import Role, User

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

#: Events on one page of the history.
PAGE_SIZE = 50

#: Identifying details: shown as "changed" only, until the user has shown the identity (a logged reveal).
#: Whether the identity is protected is not itself identifying.
IDENTITY = frozenset(name for name in IDENTITY_FIELDS if name != "protected_identity")

#: Free text longer than this many characters (a CharField's max_length) is shown by its length, never its words.
SHORT_TEXT = 150

#: Bookkeeping that every save changes or that only says who saved (the event's context says who): not listed.
NOT_LISTED = frozenset({"updated_by", "created_by", "recorded_by", "clinic"})


@dataclass(frozen=True)
class Part:
    """One event table as a part of the record: its name, how its rows belong to the record, which field tells
    its rows apart on the page (the section, the person, the date), and on which kind of record it is read."""

    title: StrOrPromise
    #: SQL on the event row `e` with one parameter, the record's id.
    of_record: str
    #: The fields that tie the row to the record: not listed as changes.
    owner: tuple[str, ...] = ()
    detail: str | None = None
    #: Record kinds whose history holds this part; None for both.
    kind: str | None = None


_EPISODES = f"SELECT id FROM {Episode._meta.db_table} WHERE client_id = %s"  # noqa: S608  (the model's own table)

#: Every history table of a record (tests/archive/test_history.py: the same tables retention removes).
PARTS: dict[str, Part] = {
    "clients.ClientEvent": Part(gettext_lazy("Record details"), "e.pgh_obj_id = %s"),
    "clients.AssessmentConversationEvent": Part(
        gettext_lazy("Assessment conversation"), f"e.episode_id IN ({_EPISODES})", owner=("episode",)
    ),
    "clients.DeepInterviewSectionEvent": Part(
        gettext_lazy("Deep interview"), "e.client_id = %s", owner=("client",), detail="section"
    ),
    "clients.FamilyMemberEvent": Part(
        gettext_lazy("Family map"), "e.client_id = %s", owner=("client",), detail="label"
    ),
    "clients.FamilyRelationshipEvent": Part(
        gettext_lazy("Family map: relationship"), "e.client_id = %s", owner=("client",), detail="kind"
    ),
    "clients.TreatmentGoalEvent": Part(
        gettext_lazy("Treatment goal"),
        "e.client_id = %s",
        owner=("client", "episode"),
        detail="position",
        kind="client",
    ),
    "therapy_sessions.TherapySessionEvent": Part(
        gettext_lazy("Session"), "e.client_id = %s", owner=("client", "episode"), detail="date"
    ),
    "therapy_sessions.FollowUpEvent": Part(
        gettext_lazy("Follow-up"), "e.client_id = %s", owner=("client", "episode"), detail="kind"
    ),
    "relatives.RelativeEvent": Part(gettext_lazy("Relation to the client"), "e.record_id = %s", owner=("record",)),
    # The wall: a link is the relative's until they consent to it, and its history (consents given and
    # withdrawn, a link removed) stays on their side. The client's record shows the link as it stands.
    "relatives.RelativeLinkEvent": Part(
        gettext_lazy("Link with a client"), "e.relative_id = %s", owner=("relative", "client"), kind="relative"
    ),
    "relatives.GoalEvent": Part(gettext_lazy("Goal"), "e.relative_id = %s", owner=("relative",), detail="set_on"),
    "relatives.ChildPerspectiveEvent": Part(gettext_lazy("Child perspective"), "e.record_id = %s", owner=("record",)),
}


def _listed_fields(label: str) -> list[models.Field[Any, Any]]:
    """The tracked model's fields a therapist may see change: not the row's id, owner or bookkeeping."""
    part = PARTS[label]
    event_model = apps.get_model(label)
    tracked = event_model.pgh_tracked_model
    return [
        f for f in tracked._meta.concrete_fields if f.editable and f.name not in NOT_LISTED and f.name not in part.owner
    ]


def _is_long_text(f: models.Field[Any, Any]) -> bool:
    if f.choices:
        return False
    return isinstance(f, models.TextField) or (isinstance(f, models.CharField) and (f.max_length or 0) > SHORT_TEXT)


def _column_sql(label: str, f: models.Field[Any, Any], *, reveal: bool, lengths: bool) -> str:
    column = f'e."{f.column}"'
    hidden = label == "clients.ClientEvent" and f.name in IDENTITY and not reveal
    if hidden:
        return f"md5({column})"
    if _is_long_text(f):
        # The digest tells whether the text changed; its length (which reads the whole text again) only for a page.
        return f"jsonb_build_array(char_length({column}), md5({column}))" if lengths else f"md5({column})"
    return column


def _data_sql(label: str, *, reveal: bool, lengths: bool) -> str:
    pairs = ", ".join(
        f"'{f.name}', {_column_sql(label, f, reveal=reveal, lengths=lengths)}" for f in _listed_fields(label)
    )
    return f"jsonb_build_object({pairs})"


def _union_sql(record: Client, *, reveal: bool, lengths: bool = False) -> tuple[str, list[uuid.UUID]]:
    """Every event of the record, each with the event before it of the same row (`previous`), as one SQL."""
    selects: list[str] = []
    params: list[uuid.UUID] = []
    for label, part in PARTS.items():
        if part.kind is not None and part.kind != record.kind:
            continue
        table = apps.get_model(label)._meta.db_table
        data = _data_sql(label, reveal=reveal, lengths=lengths)
        # Each row's data is built once (a long text's digest is the costly part), then set beside the one before.
        selects.append(
            f"""SELECT '{label}' AS part, pgh_id, at, label, context_id, data,
                lag(data) OVER (PARTITION BY obj ORDER BY pgh_id) AS previous
            FROM (
                SELECT e.pgh_id, e.pgh_created_at AS at, e.pgh_label AS label, e.pgh_obj_id AS obj,
                    e.pgh_context_id AS context_id, {data} AS data
                FROM "{table}" e WHERE {part.of_record}
            ) AS events"""  # noqa: S608  (the models' own names; only the id varies)
        )
        params.append(record.pk)
    return " UNION ALL ".join(selects), params


#: An update that changed none of the fields listed (a new version number, a save without changes) is no change.
_LISTED = "(h.label <> 'update' OR h.previous IS NULL OR h.data <> h.previous)"


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str
    #: When set, the values are not shown and this says why (identity not shown, a long text's length only).
    note: str = ""


@dataclass(frozen=True)
class Change:
    at: datetime.datetime
    part: str
    action: str
    by: str
    fields: list[FieldChange] = field(default_factory=list)


def _name(first: str | None, last: str | None, username: str | None) -> str:
    return f"{first or ''} {last or ''}".strip() or (username or "")


class RecordHistory:
    """The record's changes, newest first, as Django's Paginator slices them: a count and a page, one query each."""

    def __init__(self, record: Client, *, reveal: bool, can_reveal: bool = True) -> None:
        self.record = record
        self.reveal = reveal
        #: False when a protected identity keeps the details from this user: no "Show identity" to point to.
        self.can_reveal = can_reveal
        self._sql, self._params = _union_sql(record, reveal=reveal, lengths=True)
        # Counting needs to know what changed, not by how much (the same changes either way: a new length is a new text).
        self._count_sql, _ = _union_sql(record, reveal=reveal)

    def count(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM ({self._count_sql}) h WHERE {_LISTED}", self._params)  # noqa: S608
            row = cursor.fetchone()
        return int(row[0]) if row else 0

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[Change]:
        return iter(self[0:None])

    @overload
    def __getitem__(self, index: int) -> Change: ...
    @overload
    def __getitem__(self, index: slice) -> list[Change]: ...
    def __getitem__(self, index: int | slice) -> Change | list[Change]:
        if isinstance(index, int):
            return self[index : index + 1][0]
        start, stop = index.start or 0, index.stop
        if stop is not None and stop <= start:
            return []
        user_table = User._meta.db_table
        sql = f"""
            SELECT h.part, h.at, h.label, h.data, h.previous, u.username, u.first_name, u.last_name
            FROM ({self._sql}) h
            LEFT JOIN {Context._meta.db_table} c ON c.id = h.context_id
            LEFT JOIN {user_table} u ON u.id = (c.metadata->>'user')::bigint
            WHERE {_LISTED}
            ORDER BY h.at DESC, h.pgh_id DESC, h.part
            LIMIT %s OFFSET %s
        """  # noqa: S608  (the models' own names; only the values vary)
        with connection.cursor() as cursor:
            cursor.execute(sql, [*self._params, None if stop is None else stop - start, start])
            # Django leaves jsonb to its JSONField, so a raw cursor reads it as text.
            rows = [(*row[:3], _json(row[3]), _json(row[4]), *row[5:]) for row in cursor.fetchall()]
        users = _users(rows)
        return [self._change(row, users) for row in rows]

    def _change(self, row: Sequence[Any], users: dict[int, str]) -> Change:
        label, at, event, data, previous, username, first, last = row
        part = PARTS[label]
        title = str(part.title)
        fields = {f.name: f for f in _listed_fields(label)}
        if part.detail is not None and data.get(part.detail) not in (None, ""):
            title = f"{title}: {_shown(fields[part.detail], data[part.detail], users)}"
        by = _name(first, last, username) or _("the system")
        if event == "insert":
            return Change(at, title, _("Added"), by)
        if event == "delete":
            return Change(at, title, _("Removed"), by)
        if previous is None:
            # A session's history starts at its first change (its table keeps no copy of the row as booked).
            return Change(at, title, _("Changed"), by, [FieldChange(_("Earlier values"), "", "", _("not recorded"))])
        changes = [
            self._field_change(label, f, previous.get(name), data.get(name), users)
            for name, f in fields.items()  # in the model's order (jsonb keeps its keys in its own)
            if previous.get(name) != data.get(name)
        ]
        return Change(at, title, _("Changed"), by, changes)

    def _field_change(
        self, label: str, f: models.Field[Any, Any], before: object, after: object, users: dict[int, str]
    ) -> FieldChange:
        name = str(f.verbose_name)
        name = name[:1].upper() + name[1:]
        if label == "clients.ClientEvent" and f.name in IDENTITY and not self.reveal:
            if not self.can_reveal:
                return FieldChange(name, "", "", _("changed; protected identity"))
            return FieldChange(name, "", "", _("changed; shown after “Show identity”"))
        if _is_long_text(f):
            return FieldChange(name, _length(before), _length(after), _("text changed"))
        if f.is_relation and f.related_model is not User:
            return FieldChange(name, "", "", _("changed"))
        return FieldChange(name, _shown(f, before, users), _shown(f, after, users))


def _json(value: object) -> dict[str, Any] | None:
    if value is None:
        return None
    loaded = json.loads(value) if isinstance(value, str | bytes) else value
    assert isinstance(loaded, dict)
    return loaded


def _length(value: object) -> str:
    count = value[0] if isinstance(value, list) and value and isinstance(value[0], int) else 0
    return _("%(count)s characters") % {"count": count}


def _users(rows: Iterable[Sequence[Any]]) -> dict[int, str]:
    """The names of the staff a page's changes point at (a new responsible therapist): one query, or none."""
    ids: set[int] = set()
    for row in rows:
        label, event, data, previous = row[0], row[2], row[3], row[4]
        if event != "update" or previous is None:
            continue
        for f in _listed_fields(label):
            if f.is_relation and f.related_model is User and data.get(f.name) != previous.get(f.name):
                ids.update(v for v in (data.get(f.name), previous.get(f.name)) if isinstance(v, int))
    if not ids:
        return {}
    staff = User.objects.filter(pk__in=ids).only("username", "first_name", "last_name")
    return {u.pk: _name(u.first_name, u.last_name, u.username) for u in staff}


def _shown(f: models.Field[Any, Any], value: object, users: dict[int, str]) -> str:
    """A stored value as the record's pages show it: choices by their label, dates as dates, yes or no."""
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(f, ArrayField) and isinstance(value, list):
        return ", ".join(_shown(f.base_field, v, users) for v in value)
    if f.is_relation and f.related_model is User:
        return users.get(value, "–") if isinstance(value, int) else "–"
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(f, models.DateTimeField) and isinstance(value, str):
        moment = timezone.localtime(datetime.datetime.fromisoformat(value))
        return str(formats.date_format(moment, "SHORT_DATETIME_FORMAT"))
    if isinstance(f, models.DateField) and isinstance(value, str):
        return str(formats.date_format(datetime.date.fromisoformat(value), "SHORT_DATE_FORMAT"))
    if isinstance(f, models.TimeField) and isinstance(value, str):
        return value[:5]
    if isinstance(value, float | Decimal):
        return str(formats.number_format(value))
    return str(value)


# The summary of the history in the right-of-access extract.


@dataclass(frozen=True)
class PartSummary:
    title: str
    changes: int
    first: datetime.date
    last: datetime.date
    who: list[str]


def history_summary(record: Client) -> list[PartSummary]:
    """Per part of the record: how many changes, the first and last change's date, and who made them (by name
    and role, as the extract names staff in its access log). One query; no value of any change."""
    sql, params = _union_sql(record, reveal=False)
    user_table = User._meta.db_table
    query = f"""
        SELECT h.part, u.username, u.first_name, u.last_name, u.role,
               count(*), min(h.at), max(h.at)
        FROM ({sql}) h
        LEFT JOIN {Context._meta.db_table} c ON c.id = h.context_id
        LEFT JOIN {user_table} u ON u.id = (c.metadata->>'user')::bigint
        WHERE {_LISTED}
        GROUP BY h.part, u.id, u.username, u.first_name, u.last_name, u.role
        ORDER BY h.part, u.username NULLS LAST
    """  # noqa: S608  (the models' own names; only the values vary)
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall()
    roles = dict(Role.choices)
    summaries: dict[str, dict[str, Any]] = {}
    for label, username, first, last, role, count, first_at, last_at in rows:
        entry = summaries.setdefault(label, {"changes": 0, "first": first_at, "last": last_at, "who": []})
        entry["changes"] += count
        entry["first"], entry["last"] = min(entry["first"], first_at), max(entry["last"], last_at)
        who = _name(first, last, username)
        entry["who"].append(f"{who} ({roles.get(role, role)})" if who else _("the system"))
    order = list(PARTS)
    return [
        PartSummary(
            title=str(PARTS[label].title),
            changes=entry["changes"],
            first=_local_day(entry["first"]),
            last=_local_day(entry["last"]),
            who=entry["who"],
        )
        for label, entry in sorted(summaries.items(), key=lambda item: order.index(item[0]))
    ]


def _local_day(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment).date()
