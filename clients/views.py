"""Pages of the client record. Thin: gate, form, one service, then redirect or render."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clients import goals, selectors, services
from clients.forms import (
    AssessmentDraftForm,
    AssessmentForm,
    CaseloadFilter,
    ClientDetailsForm,
    ClientIdentityForm,
    ClientRegisterForm,
    ClientSearchForm,
    EmergencyAccessForm,
    EnteredInErrorForm,
    FamilyMemberForm,
    FamilyRelationshipForm,
    GoalForm,
    IntakePrintForm,
    InterviewSectionForm,
    PartAddendumForm,
    ReopenForm,
    SignForm,
    TransitionForm,
)
from clients.models import (
    FINISHED,
    UNDECIDED,
    AssessmentConversation,
    CaseStatus,
    Client,
    DeepInterviewSection,
    TreatmentGoal,
)
from clients.selectors import get_client_for
from groups import selectors as group_selectors
from kast.autosave import autosave_response
from kast.locking import EditConflict
from kast.models import AccessLogEntry
from kast.pdf import print_response
from relatives import selectors as relative_selectors

Action = AccessLogEntry.Action


def client_list(request: HttpRequest) -> HttpResponse:
    search = ClientSearchForm(request.POST or None)
    # An empty search is the whole caseload again, not an error: the field is not required.
    if request.method == "POST" and search.is_valid() and search.cleaned_data["q"]:
        clients = selectors.caseload_search(request.user, search.cleaned_data["q"])
        caseload = CaseloadFilter(None, queryset=clients)
    else:
        caseload = CaseloadFilter(request.GET or None, queryset=selectors.caseload_for(request.user))
        clients = caseload.qs
    page = Paginator(clients, 50).get_page(request.GET.get("page"))
    return render(request, "clients/client_list.html", {"page": page, "filter": caseload, "search": search})


def client_register(request: HttpRequest) -> HttpResponse:
    form = ClientRegisterForm(request.POST or None, clinic=request.user.clinic, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            client = services.client_register(actor=request.actor, data=form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Client %(code)s registered.") % {"code": client.code})
            return redirect("clients:detail", client_id=client.pk)
    return render(request, "clients/client_register.html", {"form": form})


def client_detail(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    client = get_client_for(request, client_id)
    if client.is_relative:  # a relative's record has its own page (app `relatives`)
        return redirect("relatives:detail", record_id=client.pk)
    return render(request, "clients/client_detail.html", _detail_context(request, client))


def _detail_context(request: HttpRequest, client: Client, **extra) -> dict:
    sections = selectors.interview_sections(client)
    return {
        "client": client,
        "co_therapists": list(client.co_therapists.all()),
        "history": selectors.status_history(client),
        "assessment": selectors.current_assessment(client),
        "sections_done": sum(row.done for row in sections),
        "sections_total": len(sections),
        "sections_signed": sum(row.signed for row in sections),
        "transition_form": TransitionForm(client=client) if TransitionForm.offered(client) else None,
        "can_end": client.status == CaseStatus.IN_TREATMENT,
        "can_reopen": client.status in FINISHED,
        "open_follow_ups": selectors.open_follow_ups(client) if client.status in FINISHED else 0,
        "can_see_identity": client.can_see_identity(request.user),
        "print_form": IntakePrintForm(),
        "relative_links": relative_selectors.links_of_client(request.user, client),
        "child_perspective": relative_selectors.child_perspective(client),
        "goals": selectors.record_goals(client),
        "group_meetings": group_selectors.record_group_meetings(client),
        **extra,
    }


@require_POST
def client_reveal_identity(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    """One deliberate click shows the identifying details, for this page view only, and is logged."""
    try:
        client = selectors.get_client_identity_for(request, client_id)
    except selectors.IdentityProtected as protected:
        return _identity_protected(request, protected.client)
    if request.htmx:
        return render(request, "clients/_identity.html", {"client": client, "show_identity": True})
    return render(request, "clients/client_detail.html", _detail_context(request, client, show_identity=True))


def _identity_protected(request: HttpRequest, client: Client) -> HttpResponse:
    messages.error(request, _("This client has a protected identity; only the responsible therapist can see it."))
    return redirect("clients:detail", client_id=client.pk)


def client_edit(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    client = get_client_for(request, client_id)
    if client.is_relative:
        return redirect("relatives:edit", record_id=client.pk)
    return _versioned_client_form(request, client, ClientDetailsForm, "clients/client_edit.html")


def client_identity_edit(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    try:
        client = selectors.get_client_identity_for(request, client_id)
    except selectors.IdentityProtected as protected:
        return _identity_protected(request, protected.client)
    return _versioned_client_form(request, client, ClientIdentityForm, "clients/client_identity_edit.html")


def _versioned_client_form(request, client, form_class, template) -> HttpResponse:
    form = form_class(request.POST or None, instance=client, clinic=client.clinic)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        try:
            services.client_update(actor=request.actor, client=client, version=form.cleaned_data["version"], data=data)
        except EditConflict:
            form.add_error(
                None, _("Someone else saved this client while you were editing. Reload to see their changes.")
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("clients:detail", client_id=client.pk)
    return render(request, template, {"client": client, "form": form})


@require_POST
def client_transition(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    client = get_client_for(request, client_id, action=Action.UPDATE)
    form = TransitionForm(request.POST, client=client)
    if form.is_valid():
        try:
            services.client_transition(actor=request.actor, client=client, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The status is changed."))
            return redirect("clients:detail", client_id=client.pk)
    context = _detail_context(request, client, transition_form=form)
    return render(request, "clients/client_detail.html", context, status=400)


@require_POST
def client_reopen(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    client = get_client_for(request, client_id, action=Action.UPDATE)
    form = ReopenForm(request.POST, open_follow_ups=selectors.open_follow_ups(client))
    if not form.is_valid():  # e.g. a NUL byte, which PostgreSQL refuses in text (found by fuzzing)
        messages.error(request, " ".join(message for errors in form.errors.values() for message in errors))
        return redirect("clients:detail", client_id=client.pk)
    try:
        episode = services.client_reopen(
            actor=request.actor,
            client=client,
            reason=form.cleaned_data["reason"],
            close_follow_ups=form.cleaned_data.get("follow_ups") == ReopenForm.CLOSE,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Treatment period %(number)s opened.") % {"number": episode.number})
    return redirect("clients:detail", client_id=client.pk)


def assessment_edit(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    client = get_client_for(request, client_id)
    conversation = selectors.assessment_on_page(client)  # a new treatment period gets a new one
    if conversation is not None and conversation.is_signed:
        return _signed_assessment_page(request, client, conversation)
    form = AssessmentForm(
        request.POST or None, instance=conversation, clinic_id=client.clinic_id, decided=client.status not in UNDECIDED
    )
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("version", "referred_to", "destination")}
        try:
            services.assessment_save(
                actor=request.actor,
                client=client,
                version=form.cleaned_data["version"],
                data=data,
                referred_to=form.cleaned_data.get("referred_to"),
                destination=form.cleaned_data.get("destination", ""),
            )
        except EditConflict:
            form.add_error(None, _("Someone else saved this conversation while you were editing. Reload to see it."))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The assessment conversation is saved."))
            return redirect("clients:detail", client_id=client.pk)
    context = {
        "client": client,
        "form": form,
        "sign": _sign_offer(request, client, conversation),
        **_goals_context(request, client, conversation),
    }
    return render(request, "clients/assessment_edit.html", context)


# -- signing, addenda ---------------------------------------------------------------------------------------------


def _sign_offer(
    request: HttpRequest, client: Client, part: AssessmentConversation | DeepInterviewSection | None
) -> SignForm | None:
    """The sign button, for a therapist of the record, once the part is saved (it signs the saved version)."""
    if part is None or part.is_signed or not client.is_record_therapist(request.user):
        return None
    return SignForm(initial={"version": part.version})


def _addendum_offer(
    request: HttpRequest, client: Client, form: PartAddendumForm | None = None
) -> PartAddendumForm | None:
    return (form or PartAddendumForm()) if client.is_record_therapist(request.user) else None


def _signed_assessment_page(
    request: HttpRequest, client: Client, conversation: AssessmentConversation, *, addendum_form=None
) -> HttpResponse:
    """The signed conversation, read-only, with its addenda. A save posted to it is refused (nothing is saved)."""
    refused = request.method == "POST" and addendum_form is None
    if refused:
        messages.error(request, str(services.SIGNED_PART_IS_FINAL))
    context = {
        "client": client,
        "conversation": conversation,
        "addendum_form": _addendum_offer(request, client, addendum_form),
        **_goals_context(request, client, conversation),
    }
    status = 400 if refused or (addendum_form is not None and addendum_form.errors) else 200
    return render(request, "clients/assessment_edit.html", context, status=status)


@require_POST
def assessment_sign(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    client = get_client_for(request, client_id, action=None)  # the signature is logged by the service
    conversation = selectors.assessment_on_page(client)
    form = SignForm(request.POST)
    if conversation is None or not form.is_valid():
        messages.error(request, _("Save the assessment conversation before signing it."))
        return redirect("clients:assessment", client_id=client.pk)
    try:
        services.assessment_sign(
            actor=request.actor, client=client, conversation=conversation, version=form.cleaned_data["version"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The assessment conversation is signed."))
    return redirect("clients:assessment", client_id=client.pk)


@require_POST
def assessment_addendum(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    client = get_client_for(request, client_id, action=None)  # the addendum is logged by the service
    conversation = selectors.assessment_on_page(client)
    if conversation is None or not conversation.is_signed:
        messages.error(request, _("An unsigned text is changed directly; an addendum follows a signed one."))
        return redirect("clients:assessment", client_id=client.pk)
    form = PartAddendumForm(request.POST)
    if form.is_valid():
        try:
            services.part_addendum_add(
                actor=request.actor, client=client, conversation=conversation, text=form.cleaned_data["text"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The addendum is added."))
            return redirect("clients:assessment", client_id=client.pk)
    return _signed_assessment_page(request, client, conversation, addendum_form=form)


@require_POST
def interview_section_sign(request: HttpRequest, client_id: uuid.UUID, section: str) -> HttpResponse:
    client = get_client_for(request, client_id, action=None)  # the signature is logged by the service
    row = selectors.get_interview_section(client, section)
    form = SignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write the section before signing it."))
    else:
        try:
            services.interview_section_sign(
                actor=request.actor, client=client, section=row.key, version=form.cleaned_data["version"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("“%(section)s” is signed.") % {"section": row.title})
    return redirect("clients:interview_section", client_id=client.pk, section=row.key)


@require_POST
def interview_section_addendum(request: HttpRequest, client_id: uuid.UUID, section: str) -> HttpResponse:
    client = get_client_for(request, client_id, action=None)  # the addendum is logged by the service
    row = selectors.get_interview_section(client, section)
    if row.entry is None or not row.entry.is_signed:
        messages.error(request, _("An unsigned text is changed directly; an addendum follows a signed one."))
        return redirect("clients:interview_section", client_id=client.pk, section=row.key)
    form = PartAddendumForm(request.POST)
    if form.is_valid():
        try:
            services.part_addendum_add(
                actor=request.actor, client=client, section=row.entry, text=form.cleaned_data["text"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The addendum is added."))
            return redirect("clients:interview_section", client_id=client.pk, section=row.key)
    return _signed_section_page(request, client, row, addendum_form=form)


def _signed_section_page(
    request: HttpRequest, client: Client, row: selectors.SectionRow, *, addendum_form=None
) -> HttpResponse:
    refused = request.method == "POST" and addendum_form is None
    if refused:
        messages.error(request, str(services.SIGNED_PART_IS_FINAL))
    context = {"client": client, "row": row, "addendum_form": _addendum_offer(request, client, addendum_form)}
    status = 400 if refused or (addendum_form is not None and addendum_form.errors) else 200
    return render(request, "clients/interview_section.html", context, status=status)


@require_POST
def assessment_autosave(request: HttpRequest, client_id: uuid.UUID) -> JsonResponse:
    """The conversation's texts saved in the background (js/autosave.js); the service logs the save."""
    client = get_client_for(request, client_id, action=None)
    return autosave_response(
        AssessmentDraftForm(request.POST),
        lambda data: services.assessment_save(
            actor=request.actor,
            client=client,
            version=data["version"],
            data={name: data[name] for name in AssessmentDraftForm.Meta.fields},
        ),
        texts=lambda saved: [
            (str(saved._meta.get_field(name).verbose_name), getattr(saved, name))
            for name in AssessmentDraftForm.Meta.fields
        ],
    )


def interview(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    client = get_client_for(request, client_id)
    return render(
        request, "clients/interview.html", {"client": client, "sections": selectors.interview_sections(client)}
    )


def interview_section(request: HttpRequest, client_id: uuid.UUID, section: str) -> HttpResponse:
    client = get_client_for(request, client_id)
    row = selectors.get_interview_section(client, section)
    if row.entry is not None and row.entry.is_signed:
        return _signed_section_page(request, client, row)
    initial = (
        {"text": row.entry.text, "done": row.entry.done, "version": row.entry.version}
        if row.entry
        else {
            "text": "",
            "done": False,
            "version": 0,
        }
    )
    form = InterviewSectionForm(request.POST or None, initial=initial)
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            services.interview_section_save(actor=request.actor, client=client, section=section, **form.cleaned_data)
        except EditConflict as error:
            # Nothing is overwritten: show both texts; the newer one becomes the base of a retry.
            conflict = error.current
            form = InterviewSectionForm(
                data={"text": form.cleaned_data["text"], "done": form.cleaned_data["done"], "version": conflict.version}
            )
            form.is_valid()
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("“%(section)s” is saved.") % {"section": row.title})
            return redirect("clients:interview", client_id=client.pk)
    status = 409 if conflict else 200
    return render(
        request,
        "clients/interview_section.html",
        {
            "client": client,
            "row": row,
            "form": form,
            "conflict": conflict,
            "sign": _sign_offer(request, client, row.entry),
        },
        status=status,
    )


@require_POST
def interview_section_autosave(request: HttpRequest, client_id: uuid.UUID, section: str) -> JsonResponse:
    """One section's text saved in the background (js/autosave.js); the service logs the save."""
    client = get_client_for(request, client_id, action=None)
    row = selectors.get_interview_section(client, section)
    return autosave_response(
        InterviewSectionForm(request.POST),
        lambda data: services.interview_section_save(actor=request.actor, client=client, section=section, **data),
        texts=lambda saved: [(row.title, saved.text)],
    )


def family_map(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    client = get_client_for(request, client_id)
    member_form = FamilyMemberForm(request.POST or None, client=client)
    if request.method == "POST" and member_form.is_valid():
        services.family_member_save(actor=request.actor, client=client, data=member_form.cleaned_data)
        messages.success(request, _("The person is added to the family map."))
        return redirect("clients:family", client_id=client.pk)
    return _family_page(request, client, member_form=member_form)


def _family_page(
    request, client, *, member_form=None, relationship_form=None, error_form=None, status=200
) -> HttpResponse:
    members = selectors.family_members(client)
    relationships = selectors.family_relationships(client)
    context = {
        "client": client,
        "members": members,
        # Once the map is locked each line is marked as entered in error (with a reason), never removed.
        "relationships": [
            (rel, _error_form_for(rel, error_form) if client.family_map_locked else None) for rel in relationships
        ],
        "entered_in_error": selectors.family_entered_in_error(client),
        "svg": selectors.genogram_svg(client, members, relationships),
        "member_form": member_form or FamilyMemberForm(client=client),
        "relationship_form": relationship_form or FamilyRelationshipForm(client=client),
    }
    return render(request, "clients/family_map.html", context, status=status)


def _error_form_for(rel, error_form: tuple[int, EnteredInErrorForm] | None) -> EnteredInErrorForm:
    if error_form is not None and error_form[0] == rel.pk:
        return error_form[1]
    return EnteredInErrorForm(prefix=f"rel-{rel.pk}")


def family_member_edit(request: HttpRequest, client_id: uuid.UUID, member_id: int) -> HttpResponse:
    client = get_client_for(request, client_id)
    member = selectors.get_family_member(client, member_id)
    if member.is_entered_in_error:
        messages.info(request, _("This person is marked as entered in error: see the list below the family map."))
        return redirect("clients:family", client_id=client.pk)
    form = FamilyMemberForm(request.POST or None, instance=member, client=client)
    if request.method == "POST" and form.is_valid():
        try:
            services.family_member_save(actor=request.actor, client=client, data=form.cleaned_data, member=member)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("clients:family", client_id=client.pk)
    return _member_page(request, client, member, form=form)


def _member_page(request, client, member, *, form=None, error_form=None, status=200) -> HttpResponse:
    context = {
        "client": client,
        "member": member,
        "form": form or FamilyMemberForm(instance=member, client=client),
        # Once the map is locked a person is marked as entered in error (with a reason), never removed.
        "error_form": (error_form or EnteredInErrorForm()) if client.family_map_locked else None,
    }
    return render(request, "clients/family_member_edit.html", context, status=status)


@require_POST
def family_member_error(request: HttpRequest, client_id: uuid.UUID, member_id: int) -> HttpResponse:
    client = get_client_for(request, client_id)
    member = selectors.get_family_member(client, member_id)
    if member.is_entered_in_error:  # marked already (another tab): nothing to do
        return _already_marked(request, client)
    form = EnteredInErrorForm(request.POST)
    if form.is_valid():
        try:
            services.family_member_mark(actor=request.actor, member=member, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("The person is marked as entered in error."))
            return redirect("clients:family", client_id=client.pk)
    return _member_page(request, client, member, error_form=form, status=400)


@require_POST
def relationship_error(request: HttpRequest, client_id: uuid.UUID, relationship_id: int) -> HttpResponse:
    client = get_client_for(request, client_id)
    relationship = selectors.get_family_relationship(client, relationship_id)
    if relationship.is_entered_in_error:  # marked already (another tab, or with its person)
        return _already_marked(request, client)
    form = EnteredInErrorForm(request.POST, prefix=f"rel-{relationship.pk}")
    if form.is_valid():
        try:
            services.family_relationship_mark(
                actor=request.actor, relationship=relationship, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("The relationship is marked as entered in error."))
            return redirect("clients:family", client_id=client.pk)
    return _family_page(request, client, error_form=(relationship.pk, form), status=400)


def _already_marked(request: HttpRequest, client: Client) -> HttpResponse:
    messages.info(request, _("This entry is already marked as entered in error."))
    return redirect("clients:family", client_id=client.pk)


def _form_errors(form, error: ValidationError) -> None:
    """A service's error on the form: on its field when it names one the form has, else above the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


@require_POST
def family_member_delete(request: HttpRequest, client_id: uuid.UUID, member_id: int) -> HttpResponse:
    client = get_client_for(request, client_id)
    member = selectors.get_family_member(client, member_id)
    try:
        services.family_member_delete(actor=request.actor, member=member)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The person is removed from the family map."))
    return redirect("clients:family", client_id=client.pk)


@require_POST
def relationship_add(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    client = get_client_for(request, client_id)
    form = FamilyRelationshipForm(request.POST, client=client)
    if form.is_valid():
        try:
            services.family_relationship_add(actor=request.actor, client=client, data=form.cleaned_data)
        except ValidationError as error:  # e.g. the same relationship added in another tab meanwhile
            form.add_error(None, error)
        else:
            messages.success(request, _("The relationship is added."))
            return redirect("clients:family", client_id=client.pk)
    return _family_page(request, client, relationship_form=form, status=400)


@require_POST
def relationship_delete(request: HttpRequest, client_id: uuid.UUID, relationship_id: int) -> HttpResponse:
    client = get_client_for(request, client_id)
    relationship = selectors.get_family_relationship(client, relationship_id)
    try:
        services.family_relationship_delete(actor=request.actor, relationship=relationship)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The relationship is removed."))
    return redirect("clients:family", client_id=client.pk)


@require_POST
def intake_pdf(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    """The intake summary for the paper file or supervision; the name only when asked for. Logged as a print
    once the PDF is made."""
    client = get_client_for(request, client_id, action=None)
    form = IntakePrintForm(request.POST)
    include_name = form.is_valid() and form.cleaned_data["include_name"] and client.can_see_identity(request.user)
    return print_response(
        request,
        template="clients/intake_pdf.html",
        context=lambda: {
            **selectors.intake_summary(client, include_name=include_name),
            "printed_by": request.user,
        },
        filename=f"{client.code}-intake.pdf",
        # Logged as a print, and the family map it shows is locked from then on.
        log_print=lambda: services.intake_summary_printed(actor=request.actor, client=client),
    )


def emergency_access(request: HttpRequest) -> HttpResponse:
    """Break the glass: open a record of the clinic outside one's caseload, after saying why."""
    form = EmergencyAccessForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        client = selectors.records_by_code(request.user.clinic_id, [code]).get(code)
        if client is None:
            form.add_error("code", _("No record has the code %(code)s at your clinic.") % {"code": code})
        elif Client.objects.visible_to(request.user).filter(pk=client.pk).exists():
            return redirect("clients:detail", client_id=client.pk)  # already on their caseload
        else:
            try:
                services.emergency_access_open(actor=request.actor, client=client, reason=form.cleaned_data["reason"])
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.warning(
                    request,
                    _("The record is open to you for %(hours)s hours. The opening is logged and will be reviewed.")
                    % {"hours": services.EMERGENCY_ACCESS_HOURS},
                )
                return redirect("clients:detail", client_id=client.pk)
    return render(request, "clients/emergency_access.html", {"form": form, "hours": services.EMERGENCY_ACCESS_HOURS})


# -- the client's treatment goals ---------------------------------------------------------------------------------


def _goals_context(request: HttpRequest, client: Client, conversation: AssessmentConversation | None) -> dict:
    """The current period's goals on the assessment conversation's page: corrected until the conversation is signed
    or the goal followed up, added while the period is open, by the record's therapists."""
    episode = client.current_episode()
    if episode is None:
        return {}
    rows = selectors.goals_of(episode.pk)
    signed = conversation is not None and conversation.is_signed
    for goal in rows:
        goal.editable = not signed and not goal.reviews.all()  # type: ignore[attr-defined]
    may_write = client.is_record_therapist(request.user)
    return {
        "goals": rows,
        "may_write_goals": may_write,
        "goal_form": GoalForm() if may_write and episode.closed_on is None else None,
        # Goals written before they were rows are in the conversation's text: the page asks for them as rows.
        "goals_in_text": not rows and conversation is not None and bool(conversation.goals.strip()),
    }


def _goal_page(request: HttpRequest, client: Client, form: GoalForm, goal: TreatmentGoal | None = None) -> HttpResponse:
    context = {"client": client, "form": form, "goal": goal}
    return render(request, "clients/goal_form.html", context, status=400 if form.errors else 200)


def _refused(request: HttpRequest, client: Client, error: ValidationError) -> HttpResponse:
    messages.error(request, " ".join(error.messages))
    return redirect("clients:assessment", client_id=client.pk)


def goal_add(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    """A new goal for the current treatment period (the form sits on the assessment conversation's page)."""
    client = get_client_for(request, client_id)
    if not client.is_record_therapist(request.user):
        raise PermissionDenied
    form = GoalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            goals.goal_add(actor=request.actor, client=client, **form.cleaned_data)
        except ValidationError as error:
            return _refused(request, client, error)
        messages.success(request, _("The goal is added."))
        return redirect(f"{reverse('clients:assessment', args=[client.pk])}#goals")
    return _goal_page(request, client, form)


def goal_edit(request: HttpRequest, client_id: uuid.UUID, goal_id: int) -> HttpResponse:
    """Correct a goal before the conversation is signed and before any review; afterwards a change is a review."""
    client = get_client_for(request, client_id)
    goal = selectors.get_goal(client, goal_id)
    if not client.is_record_therapist(request.user):
        raise PermissionDenied
    if not goals.goal_is_editable(goal):
        return _refused(request, client, ValidationError(goals.GOAL_IS_SET))
    form = GoalForm(request.POST or None, instance=goal)
    if request.method == "POST" and form.is_valid():
        try:
            goals.goal_update(actor=request.actor, client=client, goal=goal, **form.cleaned_data)
        except ValidationError as error:
            return _refused(request, client, error)
        messages.success(request, _("The goal is saved."))
        return redirect(f"{reverse('clients:assessment', args=[client.pk])}#goals")
    return _goal_page(request, client, form, goal)


@require_POST
def goal_delete(request: HttpRequest, client_id: uuid.UUID, goal_id: int) -> HttpResponse:
    client = get_client_for(request, client_id, action=None)  # the removal is logged by the service
    goal = selectors.get_goal(client, goal_id)
    try:
        goals.goal_delete(actor=request.actor, client=client, goal=goal)
    except ValidationError as error:
        return _refused(request, client, error)
    messages.success(request, _("The goal is removed."))
    return redirect(f"{reverse('clients:assessment', args=[client.pk])}#goals")


@require_POST
def goal_review(request: HttpRequest, client_id: uuid.UUID, session_id: uuid.UUID) -> HttpResponse:
    """The goals followed up at a session (the card on the note page): kept or changed, or at a follow-up
    conversation reached, partly or not. Kept apart from the note's own form, which saves and signs the note."""
    client = get_client_for(request, client_id, action=None)  # the reviews are logged by the service
    session = selectors.get_session_of(client, session_id)
    card = selectors.goal_card(request.user, client, session, data=request.POST)
    if card.form is None:
        messages.error(request, _("There are no goals to follow up at this session."))
        return redirect("sessions:detail", session_id=session.pk)
    if card.form.is_valid():
        try:
            goals.goal_reviews_record(
                actor=request.actor,
                client=client,
                moment=card.moment,
                reviews=card.form.reviews(),
                reviewed_on=session.date,
                session=session,
            )
        except ValidationError as error:
            _form_errors(card.form, error)
        else:
            messages.success(request, _("The goals are followed up."))
            return redirect(f"{reverse('sessions:detail', args=[session.pk])}#goals")
    context = {"client": client, "session": session, "card": card}
    return render(request, "clients/goal_review.html", context, status=400)
