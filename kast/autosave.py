"""The one answer of every background save (static/js/autosave.js): JSON the page script understands.

Each record part with long text has an autosave view that finds the record through its gate, binds its form
and hands both to `autosave_response` with the app's service. The service is the same one the page's own
submit calls, so the rules (signed parts are final, a submitted questionnaire is closed, the version is
checked in the database) are the same whichever way the text arrives.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from kast.locking import EditConflict

T = TypeVar("T")

#: A text shown side by side in the conflict box: (what it is, the text as saved by the other tab or person).
ConflictText = tuple[str, str]


def autosave_response(
    form: forms.Form,
    save: Callable[[dict[str, Any]], T],
    *,
    texts: Callable[[Any], Sequence[ConflictText]],
    version: Callable[[Any], int | str] = attrgetter("version"),
    not_yours: str = "",
) -> JsonResponse:
    """Validate `form`, call `save(cleaned_data)` and answer the page script.

    - 200 {version, message}: saved; the page goes on from `version` (an integer counter, or for the
      questionnaire a digest of the answers).
    - 400 {error}: the form refuses a value (an over-long text): its field's message, never a 500.
    - 403 {error}: the record refuses any save now (signed, submitted): the service's message; or the text is
      someone else's to write (PermissionDenied): `not_yours`.
    - 409 {conflict, version, texts, message}: saved elsewhere since the page had `version`; nothing is
      overwritten, the page shows `texts` (the stored text of each field) next to its own.
    """
    if not form.is_valid():
        return JsonResponse({"error": _first_error(form)}, status=400)
    try:
        saved = save(form.cleaned_data)
    except EditConflict as error:
        return JsonResponse(
            {
                "conflict": True,
                "version": version(error.current),
                "texts": [{"label": label, "text": text} for label, text in texts(error.current)],
                "message": _(
                    "This was saved elsewhere (another tab, window or person) since you opened it. Your text "
                    "is kept here; compare it with the saved one below before saving."
                ),
            },
            status=409,
        )
    except ValidationError as error:
        # A field's error from the model's own checks is the user's to correct (400); a message without a field
        # is the record refusing any change now (signed, submitted), as the service says (403).
        status = 400 if hasattr(error, "error_dict") else 403
        return JsonResponse({"error": " ".join(error.messages)}, status=status)
    except PermissionDenied:
        return JsonResponse({"error": not_yours or _("Only the author writes this text.")}, status=403)
    saved_at = formats.time_format(timezone.localtime(), "H:i:s")
    return JsonResponse({"version": version(saved), "message": _("Draft saved at %(time)s.") % {"time": saved_at}})


def _first_error(form: forms.Form) -> str:
    """The first field's first message, named by its label ("Text: at most 20000 characters")."""
    for name, errors in form.errors.items():
        if name in form.fields and form.fields[name].label:
            return f"{form.fields[name].label}: {errors[0]}"
        return str(errors[0])
    return _("The draft could not be saved.")
