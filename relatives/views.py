"""Pages of relatives' records, links and support. Thin: gate, form, one service, then redirect or render."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clients.forms import TransitionForm
from clients.models import FINISHED, CaseStatus, Client, RecordKind
from clients.selectors import get_client_for, records_by_code, status_history
from groups import selectors as group_selectors
from kast.autosave import autosave_response
from kast.locking import EditConflict
from kast.models import AccessLogEntry
from kast.pdf import print_response
from kast.services import access_log_record
from relatives import selectors, services
from relatives.forms import (
    ChildPerspectiveDraftForm,
    ChildPerspectiveForm,
    ConsentForm,
    GoalForm,
    GoalStatusForm,
    LinkForm,
    LinkRemoveForm,
    ReactionForm,
    RelativeDetailsForm,
    RelativeRegisterForm,
)

Action = AccessLogEntry.Action


def relative_register(request: HttpRequest, client_id: uuid.UUID | None = None) -> HttpResponse:
    """A relative's own record; from a client's page it comes linked to that client."""
    client = get_client_for(request, client_id, kind=RecordKind.CLIENT) if client_id else None
    form = RelativeRegisterForm(
        request.POST or None, clinic=request.user.clinic, user=request.user, linked=client is not None
    )
    if request.method == "POST" and form.is_valid():
        consents = {k: form.cleaned_data[k] for k in ("client_consents", "relative_consents") if k in form.cleaned_data}
        try:
            record = services.relative_register(
                actor=request.actor,
                data=form.record_data(),
                relation=form.cleaned_data["relation"],
                link_to=client,
                **consents,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Relative %(code)s registered.") % {"code": record.code})
            return redirect("relatives:detail", record_id=record.pk)
    return render(request, "relatives/relative_register.html", {"form": form, "linked_client": client})


def relative_detail(request: HttpRequest, record_id: uuid.UUID) -> HttpResponse:
    record = selectors.get_relative_for(request, record_id)
    return render(request, "relatives/relative_detail.html", _detail_context(request, record))


def _detail_context(request: HttpRequest, record: Client, **forms) -> dict:
    reviews = selectors.reaction_reviews(record)
    links = list(selectors.links_of_relative(request.user, record))
    for link in links:
        link.consent_form = _consent_form(link) if link.removed_at is None else None
    return {
        "client": record,
        "profile": selectors.relative_profile(record),
        "co_therapists": list(record.co_therapists.all()),
        "history": status_history(record),
        "links": links,
        "reviews": reviews,
        "chart": selectors.reaction_chart(reviews),
        "goals": selectors.goals(record),
        "child_perspective": selectors.child_perspective(record),
        "group_meetings": group_selectors.record_group_meetings(record),
        "can_see_identity": record.can_see_identity(request.user),
        "transition_form": TransitionForm(client=record) if TransitionForm.offered(record) else None,
        "can_end": record.status == CaseStatus.IN_TREATMENT,
        "can_reopen": record.status in FINISHED,
        "link_form": forms.get("link_form") or LinkForm(),
        "reaction_form": forms.get("reaction_form") or ReactionForm(),
        "goal_form": forms.get("goal_form") or GoalForm(),
        "goal_status_choices": GoalStatusForm.base_fields["status"].choices,
    }


def _consent_form(link) -> ConsentForm:
    initial = {"client_consents": link.client_consents, "relative_consents": link.relative_consents}
    return ConsentForm(initial={**initial, "version": link.version}, prefix=f"link-{link.pk}")


def _detail_with_errors(request: HttpRequest, record: Client, **forms) -> HttpResponse:
    messages.error(request, _("Nothing was saved: see the message at the field."))
    return render(request, "relatives/relative_detail.html", _detail_context(request, record, **forms), status=400)


def relative_edit(request: HttpRequest, record_id: uuid.UUID) -> HttpResponse:
    record = selectors.get_relative_for(request, record_id)
    profile = selectors.relative_profile(record)
    form = RelativeDetailsForm(request.POST or None, instance=record, clinic=record.clinic, relation=profile.relation)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("version", "relation")}
        try:
            services.relative_update(
                actor=request.actor,
                record=record,
                version=form.cleaned_data["version"],
                data=data,
                relation=form.cleaned_data["relation"],
            )
        except EditConflict:
            form.add_error(None, _("Someone else saved this record while you were editing. Reload to see it."))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("relatives:detail", record_id=record.pk)
    return render(request, "relatives/relative_edit.html", {"client": record, "form": form})


@require_POST
def link_add(request: HttpRequest, record_id: uuid.UUID) -> HttpResponse:
    record = selectors.get_relative_for(request, record_id, action=Action.UPDATE)
    form = LinkForm(request.POST)
    if form.is_valid():
        code = form.cleaned_data["client_code"]
        # Looked up within the clinic only; a code names its clinic, so another clinic's is told apart
        # without reading it.
        client = records_by_code(record.clinic_id, [code]).get(code)
        if client is None and not code.startswith(f"{record.clinic.code}-"):
            form.add_error(
                "client_code",
                _("%(code)s is not a client of this clinic; a relative can only be linked within one clinic.")
                % {"code": code},
            )
        elif client is None:
            form.add_error("client_code", _("No client has the code %(code)s at this clinic.") % {"code": code})
        else:
            try:
                services.link_add(
                    actor=request.actor,
                    relative=record,
                    client=client,
                    client_consents=form.cleaned_data["client_consents"],
                    relative_consents=form.cleaned_data["relative_consents"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Linked to %(code)s.") % {"code": client.code})
                return redirect("relatives:detail", record_id=record.pk)
    return _detail_with_errors(request, record, link_form=form)


@require_POST
def link_consents(request: HttpRequest, link_id: int) -> HttpResponse:
    link = selectors.get_link_for(request, link_id)
    form = ConsentForm(request.POST, prefix=f"link-{link.pk}")
    if form.is_valid():
        try:
            services.link_consents_update(
                actor=request.actor,
                link=link,
                version=form.cleaned_data["version"],
                client_consents=form.cleaned_data["client_consents"],
                relative_consents=form.cleaned_data["relative_consents"],
            )
        except EditConflict:
            messages.error(request, _("Someone else changed the consents meanwhile. Check them and save again."))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The consents are saved."))
    else:
        messages.error(request, _("The consents could not be saved. Reload the page and try again."))
    return redirect(_back_to(request, link))


@require_POST
def link_remove(request: HttpRequest, link_id: int) -> HttpResponse:
    link = selectors.get_link_for(request, link_id)
    form = LinkRemoveForm(request.POST)
    if form.is_valid():
        try:
            services.link_remove(actor=request.actor, link=link, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The link is removed. Both records and all notes are kept."))
    else:
        messages.error(request, _("Say why the link is removed."))
    return redirect(_back_to(request, link))


def _back_to(request: HttpRequest, link) -> str:
    """Back to the page the change was made from: the relative's, or the client's."""
    if request.POST.get("from") == "client":
        return reverse("clients:detail", args=[link.client_id])
    return reverse("relatives:detail", args=[link.relative_id])


@require_POST
def reactions_add(request: HttpRequest, record_id: uuid.UUID) -> HttpResponse:
    record = selectors.get_relative_for(request, record_id, action=None)  # the service logs the write
    form = ReactionForm(request.POST)
    if form.is_valid():
        try:
            services.reactions_record(actor=request.actor, record=record, data=form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The reactions are recorded."))
            return redirect("relatives:detail", record_id=record.pk)
    return _detail_with_errors(request, record, reaction_form=form)


@require_POST
def goal_add(request: HttpRequest, record_id: uuid.UUID) -> HttpResponse:
    record = selectors.get_relative_for(request, record_id, action=None)
    form = GoalForm(request.POST)
    if form.is_valid():
        services.goal_add(actor=request.actor, record=record, **form.cleaned_data)
        messages.success(request, _("The goal is added."))
        return redirect("relatives:detail", record_id=record.pk)
    return _detail_with_errors(request, record, goal_form=form)


@require_POST
def goal_status(request: HttpRequest, goal_id: int) -> HttpResponse:
    goal = selectors.get_goal_for(request, goal_id)
    form = GoalStatusForm(request.POST)
    if form.is_valid():
        services.goal_status_set(actor=request.actor, goal=goal, status=form.cleaned_data["status"])
        messages.success(request, _("The goal's status is saved."))
    else:
        messages.error(request, _("Choose one of the statuses."))
    return redirect("relatives:detail", record_id=goal.relative_id)


def child_perspective(request: HttpRequest, record_id: uuid.UUID) -> HttpResponse:
    """On any record, a client's or a relative's: children in the household and their need of support."""
    record = get_client_for(request, record_id)
    current = selectors.child_perspective(record)
    form = ChildPerspectiveForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.child_perspective_save(
                actor=request.actor, record=record, version=form.cleaned_data["version"], data=form.service_data()
            )
        except EditConflict:
            form.add_error(None, _("Someone else saved this while you were editing. Reload to see their changes."))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("relatives:detail" if record.is_relative else "clients:detail", record.pk)
    return render(request, "relatives/child_perspective.html", {"client": record, "form": form})


@require_POST
def child_perspective_autosave(request: HttpRequest, record_id: uuid.UUID) -> JsonResponse:
    """The comment saved in the background (js/autosave.js); the service logs the save."""
    record = get_client_for(request, record_id, action=None)
    return autosave_response(
        ChildPerspectiveDraftForm(request.POST),
        lambda data: services.child_perspective_save(
            actor=request.actor, record=record, version=data["version"], data={"comment": data["comment"]}
        ),
        texts=lambda saved: [(_("Comment"), saved.comment)],
    )


@require_POST
def summary_pdf(request: HttpRequest, record_id: uuid.UUID) -> HttpResponse:
    """The relative's support summary: relation, links, reactions over time, goals, children. No notes."""
    record = selectors.get_relative_for(request, record_id, action=None)
    return print_response(
        request,
        template="relatives/summary_pdf.html",
        context=lambda: {**_detail_context(request, record), "printed_by": request.user},
        filename=f"{record.code}-support.pdf",
        log_print=lambda: access_log_record(actor=request.actor, action=Action.PRINT, obj=record),
    )
