"""Generated input for forms and endpoints (hypothesis), and the checks every answer must pass.

Nothing here knows a form by name: the forms a view builds, and the request keys it reads, are
recorded while it answers (Recorder); values are generated from each field's type, mixed with
hostile input (100 000 characters, NUL bytes, odd Unicode, numbers where text belongs, lists
where one value belongs). So a new form or view is fuzzed as soon as its URL is in the role table.
"""

from __future__ import annotations

import datetime
import decimal
import os
from contextlib import contextmanager

from django import forms
from django.conf import settings as django_settings
from django.contrib.postgres.forms import SimpleArrayField
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.database import DirectoryBasedExampleDatabase

# Hypothesis keeps its examples and caches under var/ (git-ignored), not in a .hypothesis/ in the work tree.
HYPOTHESIS_HOME = django_settings.BASE_DIR / "var" / "hypothesis"
set_hypothesis_home_dir(HYPOTHESIS_HOME)

#: Modest counts: the whole walk must stay a small part of `make test`. FUZZ_EXAMPLES=500 for a deep run.
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25")),
    deadline=None,
    database=DirectoryBasedExampleDatabase(HYPOTHESIS_HOME / "examples"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
FEW = settings(FUZZ, max_examples=max(5, FUZZ.max_examples // 5))

# -- values ---------------------------------------------------------------------------------------------------

NUL = "\x00"
#: Unicode that breaks naive code: direction overrides, zero-width and joiners, combining marks, other digits,
#: line separators, case-changing letters, emoji sequences.
ODD = [
    "\u202egnp.exe",
    "a\u200bb",
    "\ufeffBOM",
    "e\u0301",
    "👩\u200d👩\u200d👧\u200d👦",
    "٣٤",
    "１２",
    "line\u2028separator",
    "ǅ",
    "İı",
    "ß",
    "Åsa Öberg-Ängström",
    "\r\n\r\n",
    "\t",
    "\x01\x1f\x7f",
    "\U0010ffff",
]
#: Text in the wrong place: numbers, dates, markup, format strings, injections.
WRONG = [
    "",
    " ",
    "-1",
    "0",
    "1e309",
    "NaN",
    "-Infinity",
    "9" * 400,
    "1.5",
    "2026-02-30",
    "0000-00-00",
    "0001-01-01",
    "9999-12-31",
    "24:00",
    "on",
    "null",
    "[]",
    "{}",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%(name)s {0} {{ 7*7 }}",
    "../../etc/passwd",
    "00000000-0000-0000-0000-000000000000",
]
#: 100 000 characters: one byte each, two bytes each, the log sentinel repeated, all NUL, all digits.
LONG = ["x" * 100_000, "å" * 100_000, ("SENTINEL-fuzz " * 7143)[:100_000], NUL * 100_000, "9" * 100_000]

text = st.text(max_size=40)  # any code point but surrogates
with_nul = st.builds(lambda a, b: f"{a}{NUL}{b}", text, text)
#: Marked as client data, so that tests/log_sentinel.py notices if a view logs what it was given.
tagged = text.map(lambda s: f"SENTINEL-fuzz {s}")


def _hostile(tag: bool):
    values = st.one_of(
        st.sampled_from(WRONG),
        st.sampled_from(ODD),
        with_nul,
        *([tagged] if tag else []),
        st.sampled_from([s for s in LONG if tag or "SENTINEL" not in s]),
        text,
        st.integers().map(str),
        st.floats().map(str),
    )
    # One value, or several for one key (a list where a single value belongs, or none at all).
    return st.one_of(values, st.lists(values, max_size=3))


def _choice_values(field) -> list[str]:
    values = []
    for value, label in field.choices:
        if isinstance(label, list | tuple):  # an optgroup
            values += [str(v) for v, _ in label]
        else:
            values.append(str(value.value if hasattr(value, "value") else value))
    return [v for v in values if v != ""]


def valid_values(field: forms.Field):
    """Values the field is meant to accept, so that generated input also reaches the paths after validation."""
    if isinstance(field, forms.ModelMultipleChoiceField | forms.MultipleChoiceField):
        choices = _choice_values(field)
        return st.lists(st.sampled_from(choices), unique=True, max_size=3) if choices else st.just([])
    if isinstance(field, forms.ModelChoiceField | forms.ChoiceField):
        choices = _choice_values(field)
        return st.sampled_from(choices) if choices else st.just("")
    if isinstance(field, forms.BooleanField | forms.NullBooleanField):
        return st.sampled_from(["on", "true", "false", ""])
    if isinstance(field, forms.DateField):
        # The ends of the calendar too: date arithmetic overflows there (year 10000).
        edges = st.sampled_from([datetime.date.min, datetime.date.max, datetime.date(9999, 12, 15)])
        return st.one_of(st.dates(), edges).map(datetime.date.isoformat)
    if isinstance(field, forms.TimeField):
        return st.times().map(lambda t: t.strftime("%H:%M"))
    if isinstance(field, forms.IntegerField):
        low = field.min_value if field.min_value is not None else -(2**31)
        high = field.max_value if field.max_value is not None else 2**31
        return st.integers(low - 2, high + 2).map(str)
    if isinstance(field, forms.DecimalField):
        return st.decimals(-(10**6), 10**6, places=2, allow_nan=False).map(lambda d: str(decimal.Decimal(d)))
    if isinstance(field, SimpleArrayField):
        return st.lists(st.integers(-5, 120), max_size=4).map(lambda xs: ", ".join(map(str, xs)))
    if isinstance(field, forms.CharField):
        size = min(field.max_length or 2000, 2000)
        return st.text(st.characters(exclude_characters=NUL, exclude_categories=["Cs"]), max_size=size)
    return text


def payloads(fields: dict[str, forms.Field], keys: set[str], *, tag: bool = True):
    """A request body: each form field valid or hostile or absent; each other key the view reads, hostile."""
    absent = st.just(None)
    hostile = _hostile(tag)
    return st.fixed_dictionaries(
        {
            **{name: st.one_of(valid_values(field), hostile, absent) for name, field in fields.items()},
            **{key: st.one_of(hostile, absent) for key in keys - set(fields)},
        },
        optional={f"junk-{i}": hostile for i in range(2)},
    ).map(lambda d: {k: v for k, v in d.items() if v is not None})


# -- recording what a view does ----------------------------------------------------------------------------------


class Recorder:
    """Records the forms built and the request keys read while a request is answered."""

    def __init__(self) -> None:
        self.forms: list[forms.BaseForm] = []
        self.keys: set[str] = set()

    @contextmanager
    def recording(self):
        recorder = self
        form_init = forms.BaseForm.__init__
        reads = {name: getattr(MultiValueDict, name) for name in ("__getitem__", "get", "getlist")}
        contains = dict.__contains__

        def init(form, *args, **kwargs):
            form_init(form, *args, **kwargs)
            recorder.forms.append(form)

        def reader(original):
            def read(self, key, *args, **kwargs):
                if isinstance(self, QueryDict):
                    recorder.keys.add(key)
                return original(self, key, *args, **kwargs)

            return read

        def contains_key(self, key):
            recorder.keys.add(key)
            return contains(self, key)

        forms.BaseForm.__init__ = init
        for name, original in reads.items():
            setattr(MultiValueDict, name, reader(original))
        QueryDict.__contains__ = contains_key
        try:
            yield self
        finally:
            forms.BaseForm.__init__ = form_init
            for name, original in reads.items():
                setattr(MultiValueDict, name, original)
            del QueryDict.__contains__

    def bound_forms(self) -> list[forms.BaseForm]:
        return [form for form in self.forms if form.is_bound]

    def fields(self) -> dict[str, forms.Field]:
        """Every field of the bound forms, by the name it has in the request."""
        return {
            form.add_prefix(name): field
            for form in self.bound_forms()
            for name, field in form.fields.items()
            if not field.disabled
        }


# -- the checks ---------------------------------------------------------------------------------------------------


def _raw(form: forms.BaseForm, name: str):
    return form.fields[name].widget.value_from_datadict(form.data, form.files, form.add_prefix(name))


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple | set):
        for item in value:
            yield from _strings(item)


_NOT_CHECKED = object()


def _cleaned_as_sent(field: forms.Field, raw: object) -> object:
    """What a text or choice field should clean `raw` to (text stripped where the field strips); other fields
    are not checked (_NOT_CHECKED)."""
    if type(field) is forms.CharField and isinstance(raw, str):
        expected = raw.strip() if field.strip else raw
        return field.empty_value if expected in field.empty_values else expected
    if type(field) is forms.ChoiceField and isinstance(raw, str) and raw:
        return raw
    if type(field) is forms.MultipleChoiceField and isinstance(raw, list):
        return [str(v) for v in raw]
    return _NOT_CHECKED


def form_problems(form: forms.BaseForm) -> list[str]:
    """What is wrong with how a validated form treated its input; empty when all is well.

    - every error is on a field of the form, or on the form as a whole;
    - a NUL byte in a text field is that field's error (PostgreSQL refuses NUL in text);
    - valid data holds no NUL byte, and text and choices come back as sent (text stripped where the field
      strips), unless the form deliberately normalises the field (a clean_<field> method).
    """
    if not form.is_bound or form._errors is None:
        return []  # never validated: it only showed the page
    name_of = type(form).__name__
    problems = [
        f"{name_of}: error on unknown field {key!r}"
        for key in form.errors
        if key != NON_FIELD_ERRORS and key not in form.fields
    ]
    for name, field in form.fields.items():
        raw = _raw(form, name)
        text_field = isinstance(field, forms.CharField) and not field.disabled
        if text_field and any(NUL in s for s in _strings(raw)) and name not in form.errors:
            problems.append(f"{name_of}.{name}: a NUL byte was accepted")
    if form.errors:
        return problems
    for name, value in form.cleaned_data.items():
        if any(NUL in s for s in _strings(value)):
            problems.append(f"{name_of}.{name}: cleaned data holds a NUL byte")
    for name, field in form.fields.items():
        if field.disabled or hasattr(form, f"clean_{name}") or name not in form.cleaned_data:
            continue
        raw, cleaned = _raw(form, name), form.cleaned_data[name]
        expected = _cleaned_as_sent(field, raw)
        if expected is _NOT_CHECKED:
            continue
        if cleaned != expected:
            problems.append(f"{name_of}.{name}: sent {expected!r:.80}, cleaned to {cleaned!r:.80}")
    return problems


@contextmanager
def rolled_back():
    """Each generated request starts from the same database: whatever it wrote is undone afterwards."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)
