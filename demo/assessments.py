"""Fake questionnaire answers for the demo and for load tests: plausible, consistent, never real people.

Development only (`seed_demo` refuses to run with DEBUG off). `demo.clients` calls `write_answers`
for each set of cases it seeds, once the cases, their treatment periods and their sessions are
planned and written: the questionnaires of each period that reached treatment, with bulk_create in
batches and no query per row.

Which questionnaires, and when:

- at the start of most treatment periods (about 85 %), in one of the first sessions after the decision;
- at the end of most ended ones (about 65 %), in one of the last sessions before the end;
- at the six-month follow-up of about half of those followed up, in the follow-up conversation.

A few more were started and never submitted (answers part of the way). Most are filled in by the
therapist together with the client; some by the client on the clinic's tablet.

What they say follows the client's record (partner, children, target groups; a targeted item is
answered only by clients of its target group, as the form asks it) and one story per treatment
period: how heavy things were at the start and how much better (or worse) they got. On average the
scales and frequencies improve from start to end, not for everyone; the care items at the end are
mostly yes. A few answers are "don't want to answer" and a few items are left empty. The free-text
item is mostly empty, otherwise a short neutral sentence: nothing that could identify anyone.
"""

from __future__ import annotations

import datetime
import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from assessments.models import Administration, Answer, FilledBy, Item, ItemKind, TimePoint
from assessments.services import DECLINED, version_for
from clients.models import CaseStatus, Client, Episode, ReferralSource, TargetGroup
from demo.cases import Case, Period
from demo.sessions import Booking, Plan
from sessions.models import Attendance, SessionKind

S = CaseStatus
START, END, FOLLOW_UP = TimePoint.START, TimePoint.END, TimePoint.FOLLOW_UP
POINTS = (START, END, FOLLOW_UP)
BUYING, COMPULSIVE = TargetGroup.BUYING_SEX, TargetGroup.COMPULSIVE
BATCH_SIZE = 5000

# --- How often ----------------------------------------------------------------------------------------------

#: Treatment periods with a submitted start questionnaire; a few more were started and left.
START_SUBMITTED = 0.85
START_LEFT = 0.04
#: Ended periods with a submitted end questionnaire, by whether the start one was submitted (about 65 % overall):
#: a client who filled in the first is more likely to fill in the second.
END_SUBMITTED = {True: 0.70, False: 0.40}
END_LEFT = 0.04
#: Followed-up periods with a submitted follow-up questionnaire, by whether the end one was submitted (about half).
FOLLOW_UP_SUBMITTED = {True: 0.56, False: 0.40}
FOLLOW_UP_LEFT = 0.03
#: Filled in by the client alone on the clinic's tablet (the rest by the therapist with the client).
ON_TABLET = 0.12
#: The sessions a questionnaire is given in: near the start (after the decision) and near the end (days).
NEAR_DAYS = 42

# --- What the answers say -----------------------------------------------------------------------------------

#: "Don't want to answer": now and then, more often to the questions about buying sex.
DECLINED_SHARE = 0.012
SENSITIVE = frozenset({"bought_sex_ever", "bought_sex_last_year", "freq_buying_sex", "last_buying_sex"})
SENSITIVE_DECLINED_SHARE = 0.05
#: Items left empty (not answered): more often on the tablet, without the therapist to go through them.
LEFT_EMPTY = {FilledBy.THERAPIST: 0.012, FilledBy.CLIENT: 0.04}

#: Change per period from start to end, in steps of the five-step scales and the frequencies: improvement on
#: average, with some who stay where they were and a few who get worse.
GAIN_MEAN = 1.0
GAIN_SD = 0.8
#: Each item's own spread around the period's change.
ITEM_NOISE = 0.45
#: From end to follow-up: most keep what they reached; some improve further, some slip back.
FOLLOW_UP_DRIFT = (0.05, 0.55)

#: Five-step items at the start: (mean, a higher answer is better). A heavier story (z > 0) is worse on all of them.
SCALE_START = {
    "wellbeing": (2.6, True),
    "stop_impulses": (2.3, True),
    "guilt_shame": (4.3, False),
    "inadequacy": (3.9, False),
    "self_image": (3.8, False),
    "relations_affected": (3.8, False),
}
#: How often in the last month at the start (0 never … 4 daily), by target group.
FREQUENCY_START = {
    "freq_buying_sex": {BUYING: {0: 28, 1: 30, 2: 27, 3: 13, 4: 2}},
    "freq_pornography": {COMPULSIVE: {1: 3, 2: 7, 3: 40, 4: 50}, BUYING: {0: 15, 1: 20, 2: 30, 3: 28, 4: 7}},
    "freq_sexual_chat": {COMPULSIVE: {0: 25, 1: 15, 2: 20, 3: 25, 4: 15}, BUYING: {0: 55, 1: 20, 2: 15, 3: 10}},
    "freq_sex_clubs": {COMPULSIVE: {0: 80, 1: 15, 2: 5}, BUYING: {0: 65, 1: 22, 2: 10, 3: 3}},
    # Asked from version 2 of the forms on (how often for every behaviour).
    "freq_webcam": {COMPULSIVE: {0: 70, 1: 15, 2: 10, 3: 5}, BUYING: {0: 85, 1: 10, 2: 5}},
    "freq_escort_ads": {BUYING: {0: 30, 1: 25, 2: 25, 3: 15, 4: 5}, COMPULSIVE: {0: 85, 1: 10, 2: 5}},
    "freq_other": {BUYING: {0: 92, 1: 5, 2: 3}},
}
#: Days since the last purchase for someone who bought this often in the last month (at most).
LAST_PURCHASE_WITHIN = {1: 30, 2: 30, 3: 7, 4: 3}
#: A client of the buying target group who bought in the last year, though not in the last month.
BOUGHT_LAST_YEAR = 0.75
#: A client outside the buying target group who once bought sex, long ago.
EVER_BOUGHT_OTHERWISE = 0.1

#: The behaviours a client names as a problem at the start: (choice, target group or None for anyone, share).
PROBLEM_BEHAVIOURS = (
    ("buying_sex", BUYING, 0.95),
    ("escort_ads", BUYING, 0.4),
    ("pornography", COMPULSIVE, 0.9),
    ("sexual_chat", COMPULSIVE, 0.4),
    ("webcam", COMPULSIVE, 0.15),
    ("sex_clubs", None, 0.04),
    ("other", None, 0.04),
)

#: The start form's yes/no questions about harm: share of yes, alone or in a relationship.
HARM = {
    "behaviour_harms_self": (0.85, 0.85),
    "thoughts_harm_self": (0.65, 0.65),
    "behaviour_harms_relations": (0.55, 0.85),
}
#: The care items at end and follow-up: share of yes, and how much the period's change moves it.
CARE = {
    "came_as_often": (0.88, 0.0),
    "came_as_long": (0.84, 0.03),
    "staff_respectful": (0.98, 0.0),
    "staff_non_judgmental": (0.96, 0.0),
    "staff_dignified": (0.97, 0.0),
    "talk_sexual_issues": (0.92, 0.0),
    "got_help_needed": (0.78, 0.1),
    "stop_impulses_due_to_treatment": (0.62, 0.15),
    # The follow-up form's outcome questions (asked at the follow-ups only; the same view when asked again).
    "stopped_buying_sex": (0.72, 0.15),
    "refrained_buying_sex": (0.35, 0.0),
    "seek_similar_again": (0.9, 0.05),
    "recommend_to_friend": (0.92, 0.05),
}
#: The follow-up's graded satisfaction (1 very dissatisfied … 5 very satisfied): mean, and how much the period's
#: change moves it.
SATISFACTION = {"satisfaction_overall": (4.1, 0.5), "satisfaction_amount": (3.8, 0.4)}

#: A care item answered differently at follow-up than at the end.
CARE_RECALLED_OTHERWISE = 0.03

#: The free-text item: mostly left empty; otherwise one short sentence that says nothing about who anyone is.
OWN_WORDS_SHARE = {START: 0.08, END: 0.15, FOLLOW_UP: 0.1}
OWN_WORDS = {
    START: (
        "Skönt att äntligen kunna prata om det.",
        "Jag vill verkligen förändra det här.",
        "Det var svårt att ta första steget.",
        "Jag hoppas att samtalen kan hjälpa mig.",
    ),
    END: (
        "Samtalen har hjälpt mig mycket.",
        "Det har varit tufft men värt det.",
        "Jag förstår mig själv bättre nu.",
        "Tack för att ni lyssnade utan att döma.",
        "Jag hade gärna fått fortsätta lite till.",
    ),
    FOLLOW_UP: (
        "Det går bättre nu, men jag behöver fortfarande vara uppmärksam.",
        "Jag använder fortfarande det jag lärde mig.",
        "Det har varit några svåra perioder men jag har klarat dem.",
    ),
}


# --- Small helpers ------------------------------------------------------------------------------------------


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(tuple(weights), weights=tuple(weights.values()))[0]


def _clip(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def _step(value: float, low: int, high: int) -> int:
    """The answer nearest a latent value (halves up), within the item's steps."""
    return int(_clip(math.floor(value + 0.5), low, high))


# --- One treatment period's story ---------------------------------------------------------------------------


class _Story:
    """What one client says over one treatment period: a start, a change, and the facts of the record."""

    def __init__(self, client: Client, rng: random.Random):
        self.client = client
        self.rng = rng
        groups = client.target_groups
        self.buying = BUYING in groups
        self.compulsive = COMPULSIVE in groups
        self.partner = client.in_relationship
        self.gain = rng.gauss(GAIN_MEAN, GAIN_SD)
        heavy = rng.gauss(0, 1)
        # Latent values on each item's own steps: (value, lowest, highest, a higher answer is better).
        self.levels: dict[str, list] = {}
        for code, (mean, higher_is_better) in SCALE_START.items():
            if code == "relations_affected" and not self.partner:
                mean -= 0.5
            sign = -1 if higher_is_better else 1
            self.levels[code] = [_clip(mean + sign * 0.6 * heavy + rng.gauss(0, 0.7), 1, 5), 1, 5, higher_is_better]
        group = COMPULSIVE if self.compulsive else BUYING
        for code, by_group in FREQUENCY_START.items():
            start = _weighted(rng, by_group.get(group, by_group[BUYING]))
            self.levels[code] = [_clip(start + rng.uniform(-0.4, 0.4), 0, 4), 0, 4, False]
        # The last purchase, as a date (None: never bought).
        self.last_bought: datetime.date | None = None
        self.problems = [
            choice
            for choice, group, share in PROBLEM_BEHAVIOURS
            if (group is None or group in groups) and rng.random() < share
        ] or ["buying_sex" if self.buying else "pornography"]
        self.care: dict[str, bool] = {}
        self.previous_day: datetime.date | None = None  # of the last questionnaire answered
        self.reached = 0  # index in POINTS of where the story has got to, answered or not

    # -- change over time

    def move(self, time_point: str) -> None:
        """From the previous questionnaire to this one: the period's change, or the drift after the end."""
        rng = self.rng
        for level in self.levels.values():
            direction = 1 if level[3] else -1
            change = self.gain + rng.gauss(0, ITEM_NOISE) if time_point == END else rng.gauss(*FOLLOW_UP_DRIFT)
            level[0] = _clip(level[0] + direction * change, level[1], level[2])
        if time_point == END:  # some behaviours are no longer felt as a problem
            kept = _clip(0.8 - 0.2 * self.gain, 0.2, 0.95)
            self.problems = [p for p in self.problems if rng.random() < kept]

    def value(self, code: str) -> int:
        level = self.levels[code]
        return _step(level[0], level[1], level[2])

    def purchases(self, day: datetime.date) -> None:
        """The last purchase as of `day`, consistent with how often the client says they bought last month."""
        rng = self.rng
        often = self.value("freq_buying_sex") if self.buying else 0
        if often:
            self.last_bought = day - datetime.timedelta(days=rng.randint(0, LAST_PURCHASE_WITHIN[often]))
        elif self.previous_day is None:
            if self.buying:
                days = rng.randint(31, 365) if rng.random() < BOUGHT_LAST_YEAR else rng.randint(366, 3650)
                self.last_bought = day - datetime.timedelta(days=days)
            elif rng.random() < EVER_BOUGHT_OTHERWISE:
                self.last_bought = day - datetime.timedelta(days=rng.randint(730, 7300))
        elif (
            self.buying
            and (day - self.previous_day).days > 45
            and rng.random() < _clip(0.4 - 0.2 * self.gain, 0.05, 0.6)
        ):
            # Not in the last month, but perhaps a lapse since the last questionnaire: less likely the better it went.
            lapse = day - datetime.timedelta(days=rng.randint(31, (day - self.previous_day).days - 1))
            self.last_bought = lapse if self.last_bought is None else max(self.last_bought, lapse)
        if self.last_bought is not None and self.last_bought > day:
            self.last_bought = day

    def care_answer(self, code: str) -> bool:
        """The view of the treatment, the same at end and follow-up (now and then remembered differently)."""
        rng = self.rng
        share, by_gain = CARE[code]
        if code not in self.care:
            self.care[code] = rng.random() < _clip(share + by_gain * (self.gain - GAIN_MEAN), 0.05, 0.99)
        elif rng.random() < CARE_RECALLED_OTHERWISE:
            return not self.care[code]
        return self.care[code]

    # -- the answers of one questionnaire

    def answers(self, time_point: str, day: datetime.date, items: Sequence[Item]) -> dict[str, Any]:
        """Item code -> value (or DECLINED) for the items this client is asked; an item left out is not answered."""
        # The change happens whether or not the client filled in the questionnaire before.
        while self.reached < POINTS.index(time_point):
            self.reached += 1
            self.move(POINTS[self.reached])
        self.purchases(day)
        self.previous_day = day
        answers = {}
        for item in items:
            if not item.applies_to(self.client.target_groups):
                continue  # the form does not ask it
            value = self.answer(item, time_point, day)
            if value is not None:
                answers[item.code] = value
        return answers

    def answer(self, item: Item, time_point: str, day: datetime.date) -> Any:
        """The value for one item, or None (left empty) for a question this generator does not know.

        A later version may reword an item under its code, or change its kind: only a kind this knows is answered.
        """
        rng, client, code, kind = self.rng, self.client, item.code, item.kind
        step = self.graded(code, kind)
        if step is not None:
            return step
        if kind == ItemKind.YES_NO:
            if code == "has_partner":
                return client.in_relationship  # None (not known): left empty
            if code == "has_children":
                return client.has_children
            if code == "bought_sex_ever":
                return self.buying or self.last_bought is not None
            if code == "bought_sex_last_year":
                return self.last_bought is not None and (day - self.last_bought).days <= 365
            if code in HARM:
                return rng.random() < HARM[code][1 if self.partner else 0]
            if code in CARE:
                return self.care_answer(code)
        if kind == ItemKind.LAST_OCCURRENCE and code == "last_buying_sex":
            return self.last_bought
        if kind == ItemKind.MULTIPLE and code in ("seek_reason", "problem_behaviours"):
            allowed = {choice[0] for choice in item.choices}
            chosen = self.seek_reasons() if code == "seek_reason" else self.problems
            return [c for c in chosen if c in allowed] or None
        if kind == ItemKind.TEXT and rng.random() < OWN_WORDS_SHARE.get(time_point, 0):
            return rng.choice(OWN_WORDS.get(time_point, OWN_WORDS[END]))
        return None

    def graded(self, code: str, kind: str) -> int | None:
        """A step of a scale or a frequency this story holds, or None."""
        level = self.levels.get(code)
        if level is not None and kind == (ItemKind.FREQUENCY if level[1] == 0 else ItemKind.SCALE):
            return self.value(code)
        if kind == ItemKind.SCALE and code in SATISFACTION:
            mean, by_gain = SATISFACTION[code]
            return _step(mean + by_gain * (self.gain - GAIN_MEAN) + self.rng.gauss(0, 0.6), 1, 5)
        return None

    def seek_reasons(self) -> list[str]:
        rng, client = self.rng, self.client
        reasons = []
        if rng.random() < 0.8:
            reasons.append("own_wish")
        if client.referral_source == ReferralSource.PARTNER or (self.partner and rng.random() < 0.15):
            reasons.append("partner")
        if client.referral_source == ReferralSource.POLICE and rng.random() < 0.95:
            reasons.append("police")
        if rng.random() < 0.25:
            reasons.append("health")
        if rng.random() < 0.04:
            reasons.append("other")
        return reasons or ["own_wish"]


# --- Planning -----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class PlannedAdministration:
    client: Client
    period: Period
    time_point: str
    filled_by: str
    started_at: datetime.datetime
    submitted_at: datetime.datetime | None
    answers: dict[str, Any] = field(default_factory=dict)


@dataclass
class AnswersWritten:
    questionnaires: int = 0
    submitted: int = 0
    answers: int = 0


class _Planner:
    def __init__(self, items: dict[str, list[Item]], *, rng: random.Random, now: datetime.datetime):
        self.items = items
        self.rng = rng
        self.now = now
        self.tz = timezone.get_current_timezone()
        self.planned: list[PlannedAdministration] = []

    def moment(self, rng: random.Random, session: Booking | None, fallback: datetime.datetime) -> datetime.datetime:
        """When a questionnaire begins: early in its session, or just after the step's time without one."""
        if session is None:
            return fallback + datetime.timedelta(minutes=rng.randint(5, 15))
        start = datetime.datetime.combine(
            session.day, datetime.time(session.start // 60, session.start % 60), tzinfo=self.tz
        )
        return start + datetime.timedelta(minutes=rng.randint(0, max(0, min(15, session.minutes - 40))))

    def administer(
        self, story: _Story, period: Period, time_point: str, began: datetime.datetime, *, submitted: bool
    ) -> PlannedAdministration:
        rng = story.rng
        filled_by = FilledBy.CLIENT if rng.random() < ON_TABLET else FilledBy.THERAPIST
        began = min(began, self.now)
        done = min(began + datetime.timedelta(minutes=rng.randint(8, 25)), self.now) if submitted else None
        answers = story.answers(time_point, timezone.localdate(began), self.items[time_point])
        empty = LEFT_EMPTY[filled_by]
        kept = {}
        for code, value in answers.items():
            chance = rng.random()
            if chance < (SENSITIVE_DECLINED_SHARE if code in SENSITIVE else DECLINED_SHARE):
                kept[code] = DECLINED
            elif chance < 1 - empty:
                kept[code] = value
        if not submitted:
            # Started and left: the answers up to where the client stopped.
            codes = list(kept)
            kept = {code: kept[code] for code in codes[: rng.randint(1, max(1, len(codes) - 3))]}
        planned = PlannedAdministration(story.client, period, time_point, filled_by, began, done, kept)
        self.planned.append(planned)
        return planned

    def period(self, client: Client, period: Period, sessions: list[Booking]) -> None:
        steps = {step.to_status: step for step in period.steps}
        treatment = steps.get(S.IN_TREATMENT)
        if treatment is None:
            return  # never reached treatment: no questionnaire
        # A generator of the period's own, and every draw that decides which questionnaires it has made up front:
        # the same periods get the same questionnaires whichever day the demo is seeded (the diary shifts with it).
        rng = random.Random(self.rng.getrandbits(64))  # noqa: S311  (fake data, not security)
        start_chance, end_chance, follow_up_chance, later_session = (rng.random() for _ in range(4))
        ended, followed_up = steps.get(S.ENDED), steps.get(S.FOLLOWED_UP)
        started_on = timezone.localdate(treatment.at)
        ended_on = timezone.localdate(ended.at) if ended else None
        held = sorted(
            (b for b in sessions if b.attendance == Attendance.ATTENDED and b.kind == SessionKind.INDIVIDUAL),
            key=lambda b: (b.day, b.start),
        )
        story = _Story(client, rng)

        start_done = start_chance < START_SUBMITTED
        start_day = None
        if start_chance < START_SUBMITTED + START_LEFT:
            near = [
                b
                for b in held
                if started_on <= b.day <= started_on + datetime.timedelta(days=NEAR_DAYS)
                and (ended_on is None or b.day <= ended_on)
            ]
            # The first session after the decision, or now and then the next one.
            chosen = near[1] if len(near) > 1 and later_session < 0.3 else near[0] if near else None
            began = self.moment(rng, chosen, treatment.at)
            self.administer(story, period, START, began, submitted=start_done)
            start_day = timezone.localdate(began)
        if ended is None:
            return

        end_done = end_chance < END_SUBMITTED[start_done]
        if end_chance < END_SUBMITTED[start_done] + END_LEFT:
            near = [
                b
                for b in held
                if ended_on - datetime.timedelta(days=NEAR_DAYS) <= b.day <= ended_on
                and (start_day is None or b.day > start_day)
            ]
            # The last session, or now and then the one before.
            chosen = near[-2] if len(near) > 1 and later_session < 0.3 else near[-1] if near else None
            self.administer(story, period, END, self.moment(rng, chosen, ended.at), submitted=end_done)
        if followed_up is None:
            return

        if follow_up_chance < FOLLOW_UP_SUBMITTED[end_done] + FOLLOW_UP_LEFT:
            conversation = min(
                (
                    b
                    for b in sessions
                    if b.kind == SessionKind.FOLLOW_UP and b.attendance == Attendance.ATTENDED and b.day > ended_on
                ),
                key=lambda b: (b.day, b.start),
                default=None,
            )
            self.administer(
                story,
                period,
                FOLLOW_UP,
                self.moment(rng, conversation, followed_up.at),
                submitted=follow_up_chance < FOLLOW_UP_SUBMITTED[end_done],
            )


def plan_answers(
    cases: Sequence[Case],
    sessions: Plan,
    items: dict[str, list[Item]],
    *,
    rng: random.Random,
    now: datetime.datetime,
) -> list[PlannedAdministration]:
    """The questionnaires of `cases` and their answers (not yet written), in the sessions of `sessions`.

    `items`: time point -> the items of the version given then, in the form's order.
    """
    by_period: dict[int, list[Booking]] = defaultdict(list)
    for b in sessions.bookings:
        by_period[id(b.period)].append(b)
    planner = _Planner(items, rng=rng, now=now)
    for case in cases:
        for period in case.periods:
            planner.period(case.client, period, by_period.get(id(period), []))
    return planner.planned


# --- Writing ------------------------------------------------------------------------------------------------


def _columns(item: Item, value: Any) -> dict[str, Any]:
    """The Answer columns of a generated value (generated to fit: checked by the tests, not here).

    Every column is given: a model built without defaults to fill in is quicker, at tens of thousands of rows.
    """
    columns = {
        "declined": False,
        "value_bool": None,
        "value_int": None,
        "value_date": None,
        "value_text": "",
        "value_choices": [],
    }
    kind = item.kind
    if value == DECLINED:
        columns["declined"] = True
    elif kind == ItemKind.YES_NO:
        columns["value_bool"] = value
    elif kind in (ItemKind.SCALE, ItemKind.FREQUENCY, ItemKind.NUMBER):
        columns["value_int"] = value
    elif kind == ItemKind.LAST_OCCURRENCE:
        columns["value_date"] = value
    elif kind in (ItemKind.SINGLE, ItemKind.MULTIPLE):
        columns["value_choices"] = list(value) if isinstance(value, list | tuple) else [value]
    else:
        columns["value_text"] = value
    return columns


def write_answers(
    cases: Sequence[Case],
    episodes: Sequence[Episode],
    sessions: Plan,
    *,
    rng: random.Random,
    now: datetime.datetime,
    batch_size: int = BATCH_SIZE,
) -> AnswersWritten:
    """The questionnaires of `cases` with their answers, once the cases are written (`episodes` in their order).

    Uses the shipped versions (the newest published one of each time point); a few queries whatever the size.
    """
    versions = {point: version_for(point) for point in POINTS}
    items: dict[str, list[Item]] = {point: [] for point in versions}
    points_of: dict[int, list[str]] = defaultdict(list)
    for point, version in versions.items():
        points_of[version.pk].append(point)
    for item in Item.objects.filter(version__in=list(points_of)).order_by("version", "position"):
        for point in points_of[item.version_id]:
            items[point].append(item)
    planned = plan_answers(cases, sessions, items, rng=rng, now=now)

    episode_of: dict[int, int] = {}
    episode_iter = iter(episodes)
    for case in cases:
        for period in case.periods:
            episode_of[id(period)] = next(episode_iter).pk
    item_of = {point: {item.code: item for item in point_items} for point, point_items in items.items()}
    written = AnswersWritten()
    for first in range(0, len(planned), batch_size):
        chunk = planned[first : first + batch_size]
        administrations = [
            Administration(
                client_id=p.client.pk,
                episode_id=episode_of[id(p.period)],
                time_point=p.time_point,
                version_id=versions[p.time_point].pk,
                filled_by=p.filled_by,
                started_at=p.started_at,
                submitted_at=p.submitted_at,
                created_by_id=p.client.responsible_therapist_id,
            )
            for p in chunk
        ]
        Administration.objects.bulk_create(administrations, batch_size=batch_size)
        answers = [
            Answer(
                administration_id=administration.pk,
                item_id=item_of[p.time_point][code].pk,
                **_columns(item_of[p.time_point][code], value),
            )
            for p, administration in zip(chunk, administrations, strict=True)
            for code, value in p.answers.items()
        ]
        Answer.objects.bulk_create(answers, batch_size=batch_size)
        written.questionnaires += len(administrations)
        written.submitted += sum(1 for p in chunk if p.submitted_at is not None)
        written.answers += len(answers)
    return written
