"""Pages of questionnaires: the client's list, the answers side by side, filling in (therapist or tablet), the tablet
code."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from assessments import selectors, services
from assessments.forms import EnteredInErrorForm, QuestionnaireForm, StartForm, TabletCodeForm
from clients.selectors import get_client_for
from kast.autosave import autosave_response
from kast.locking import EditConflict
from kast.models import AccessLogEntry

if TYPE_CHECKING:
    from assessments.models import Administration, Item

Action = AccessLogEntry.Action
security_log = logging.getLogger("kast.security")

#: A save (or submission) from a page read before someone else saved answers: nothing replaced, the answers typed
#: kept in the form. Saving them again then replaces the stored ones, knowingly.
ANSWERED_MEANWHILE = gettext_lazy(
    "Answers to this questionnaire were saved elsewhere (the clinic tablet, another tab or a colleague) after this "
    "page was opened, so nothing was saved. Your answers are still below: save again to replace the stored ones "
    "with them, or reload the page to see the stored ones."
)
#: The same, said to the client on the tablet.
ANSWERED_MEANWHILE_TABLET = gettext_lazy(
    "Your therapist saved answers to this questionnaire while you were answering, so nothing was sent. Your answers "
    "are still below: look them over and send them again."
)


def client_questionnaires(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    client = get_client_for(request, client_id)
    rows, earlier = selectors.client_questionnaires(client)
    context = {
        "client": client,
        "rows": rows,
        "earlier": earlier,
        "suggested": request.GET.get("point", ""),
    }
    return render(request, "assessments/client_questionnaires.html", context)


def answers_over_time(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    """The client's answers at every time point side by side, for the client's therapists (the gate; logged)."""
    client = get_client_for(request, client_id)
    context = {"client": client, "over_time": selectors.answers_over_time(client)}
    return render(request, "assessments/answers_over_time.html", context)


@require_POST
def administration_start(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    client = get_client_for(request, client_id, action=Action.UPDATE)
    form = StartForm(request.POST)
    if form.is_valid():
        try:
            administration = services.administration_start(
                actor=request.actor, client=client, time_point=form.cleaned_data["time_point"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            return redirect("assessments:fill", administration_id=administration.pk)
    else:
        messages.error(request, _("Choose a time point."))
    return redirect("assessments:client", client_id=client.pk)


def fill(request: HttpRequest, administration_id: int) -> HttpResponse:
    """The therapist fills in with the client, or reads a submitted questionnaire."""
    administration = selectors.get_administration_for(request, administration_id)
    context = {"administration": administration, "client": administration.client}
    if administration.is_submitted or administration.is_entered_in_error:  # read only
        context["rows"] = selectors.answer_rows(administration)
        return render(request, "assessments/answers.html", context)
    items = selectors.items_for(administration)
    form = _questionnaire_form(request, administration, items)
    status = 200
    if request.method == "POST" and form.is_valid():
        submit = "submit" in request.POST
        try:
            services.answers_save(
                actor=request.actor,
                administration=administration,
                answers=form.answers(),
                submit=submit,
                expected_digest=form.cleaned_data["answers_version"],
            )
        except EditConflict:
            form, status = _answered_meanwhile(request, administration, items, str(ANSWERED_MEANWHILE)), 409
        except ValidationError as error:
            _errors_to_fields(form, error)
        else:
            messages.success(request, _("The questionnaire is submitted.") if submit else _("The answers are saved."))
            if submit:
                return redirect("assessments:client", client_id=administration.client_id)
            return redirect("assessments:fill", administration_id=administration.pk)
    context |= {"form": form}
    return render(request, "assessments/fill.html", context, status=400 if status == 200 and form.errors else status)


def _questionnaire_form(request: HttpRequest, administration: Administration, items: list[Item]) -> QuestionnaireForm:
    """The questionnaire with its stored answers (or those posted), and the fingerprint of the answers it is read with."""
    return QuestionnaireForm(
        request.POST or None,
        items=items,
        stored=selectors.stored_answers(administration),
        answers_version=services.answers_digest(administration),
    )


def _answered_meanwhile(
    request: HttpRequest, administration: Administration, items: list[Item], message: str
) -> QuestionnaireForm:
    """The form with the answers typed on this page, now at the stored answers' fingerprint, and why nothing was
    saved: the next save is made knowing that it replaces the answers saved meanwhile."""
    data = request.POST.copy()
    data["answers_version"] = services.answers_digest(administration)
    form = QuestionnaireForm(data, items=items)
    form.is_valid()
    form.add_error(None, message)
    return form


@require_POST
def fill_autosave(request: HttpRequest, administration_id: int) -> JsonResponse:
    """The answers saved in the background (js/autosave.js), never submitted; the service logs the save."""
    administration = selectors.get_administration_for(request, administration_id, action=None)
    form = QuestionnaireForm(request.POST, items=selectors.items_for(administration))
    return autosave_response(
        form,
        lambda data: services.answers_save(
            actor=request.actor,
            administration=administration,
            answers=form.answers(),
            submit=False,
            expected_digest=data["answers_version"],
        ),
        version=services.answers_digest,
        texts=lambda saved: form.free_texts(selectors.stored_answers(saved)),
    )


def mark_in_error(request: HttpRequest, administration_id: int) -> HttpResponse:
    """Mark a questionnaire as entered in error: asks for the reason first. Those who may fill it in may mark it."""
    administration = selectors.get_administration_for(request, administration_id)
    form = EnteredInErrorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.administration_mark_in_error(
                actor=request.actor, administration=administration, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            messages.success(
                request,
                _("The questionnaire is marked as entered in error. It is kept in the record and no longer counts."),
            )
            return redirect("assessments:client", client_id=administration.client_id)
    context = {"administration": administration, "client": administration.client, "form": form}
    return render(request, "assessments/mark_in_error.html", context, status=400 if form.errors else 200)


def _errors_to_form(form: EnteredInErrorForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict") and set(error.error_dict) <= {"reason", "error_reason"}:
        form.add_error("reason", error.messages)
    else:
        form.add_error(None, error)


def _errors_to_fields(form: QuestionnaireForm, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for code, errors in error.error_dict.items():
        name = f"item_{code}"
        form.add_error(name if name in form.fields else None, errors)


@require_POST
def tablet_code(request: HttpRequest, administration_id: int) -> HttpResponse:
    """A one-time code for the clinic tablet, shown once to the therapist."""
    administration = selectors.get_administration_for(request, administration_id, action=None)
    try:
        code = services.tablet_code_create(actor=request.actor, administration=administration)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("assessments:client", client_id=administration.client_id)
    return render(
        request,
        "assessments/tablet_code.html",
        {"administration": administration, "client": administration.client, "code": code},
    )


@never_cache
def tablet_start(request: HttpRequest) -> HttpResponse:
    """The tablet's only way in: type the code the therapist gives."""
    # Bound on every POST, even an empty one: the throttle below adds its error to a bound form.
    form = TabletCodeForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and services.tablet_guesses_exhausted(address=request.actor.address):
        form.is_valid()  # the typed code is not looked at: a guesser must not learn which one was right
        form.add_error(None, _("Too many wrong codes were typed on this network. Wait a quarter of an hour."))
        security_log.warning("Tablet codes throttled for %s", request.META.get("REMOTE_ADDR"))
        status = 429
    elif request.method == "POST" and form.is_valid():
        try:
            opened = services.tablet_open(
                actor=request.actor,
                code=form.cleaned_data["code"],
                device_tablet_id=request.session.get(services.TABLET_SESSION_KEY),
            )
        except ValidationError as error:
            form.add_error("code", error)
        else:
            if opened is not None:
                # Whoever was signed in on this device is signed out: it shows this questionnaire and nothing else.
                logout(request)
                request.session[services.TABLET_SESSION_KEY] = opened.pk
                return redirect("assessments:tablet_form")
            # No content in the log line: a code is a key, the IP shows who is guessing.
            security_log.warning("Refused tablet code from %s", request.META.get("REMOTE_ADDR"))
            form.add_error("code", _("The code is not valid. It may have been used or expired; ask your therapist."))
    if form.errors and status == 200:
        status = 400
    return render(request, "assessments/tablet_start.html", {"form": form}, status=status)


@never_cache
def tablet_form(request: HttpRequest) -> HttpResponse:
    """The questionnaire on the tablet: this one questionnaire and nothing else."""
    tablet = selectors.tablet_in_use(request)
    if tablet is None:
        return redirect("assessments:tablet")
    administration = tablet.administration
    items = selectors.items_for(administration)
    form = _questionnaire_form(request, administration, items)
    status = 200
    if request.method == "POST" and form.is_valid():
        submit = "submit" in request.POST
        try:
            services.tablet_submit(
                actor=request.actor,
                tablet=tablet,
                answers=form.answers(),
                submit=submit,
                expected_digest=form.cleaned_data["answers_version"],
            )
        except EditConflict:
            form, status = _answered_meanwhile(request, administration, items, str(ANSWERED_MEANWHILE_TABLET)), 409
        except ValidationError as error:
            _errors_to_fields(form, error)
        else:
            if submit:
                request.session.pop(services.TABLET_SESSION_KEY, None)  # submitted: the device's access ends
                return redirect("assessments:tablet_done")
            messages.success(request, _("Your answers are saved. You can go on or send them when you are ready."))
            return redirect("assessments:tablet_form")
    context = {"form": form, "administration": administration}
    return render(
        request, "assessments/tablet_form.html", context, status=400 if status == 200 and form.errors else status
    )


def tablet_done(request: HttpRequest) -> HttpResponse:
    return render(request, "assessments/tablet_done.html")
