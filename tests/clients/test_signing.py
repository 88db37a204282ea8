"""Signing the assessment conversation and the deep interview: who may, what is final after, and the addenda."""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from pypdf import PdfReader

from clients import services
from clients.models import AssessmentConversation, DeepInterviewSection, EmergencyAccess, PartAddendum
from kast.actor import Actor
from kast.models import AccessLogEntry
from tests.factories import AssessmentConversationFactory, DeepInterviewSectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(case):
    return AssessmentConversationFactory(client=case, problem="Köper sex på resor.", goals="", assessment="")


@pytest.fixture
def section(case):
    return DeepInterviewSectionFactory(client=case, section="childhood", text="Växte upp i Borås.")


def sign_assessment(http, record, version):
    return http.post(reverse("clients:assessment_sign", args=[record.pk]), {"version": version})


def sign_section(http, record, version, key="childhood"):
    return http.post(reverse("clients:interview_section_sign", args=[record.pk, key]), {"version": version})


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# -- the flow -------------------------------------------------------------------------------------------------------


def test_the_responsible_therapist_signs_the_assessment_which_is_then_read_only_with_addenda(
    client, therapist, case, conversation
):
    client.force_login(therapist)
    page = client.get(reverse("clients:assessment", args=[case.pk]))
    assert reverse("clients:assessment_sign", args=[case.pk]) in page.content.decode()

    response = sign_assessment(client, case, conversation.version)

    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.signed_by == therapist
    assert timezone.now() - conversation.signed_at < datetime.timedelta(minutes=1)
    assert AccessLogEntry.objects.filter(
        user=therapist, object_type="clients.assessmentconversation", reason="signed", client_id=case.pk
    ).exists()
    signed = client.get(reverse("clients:assessment", args=[case.pk]))
    html = signed.content.decode()
    assert 'name="problem"' not in html  # read-only: no form to change it
    assert "Köper sex på resor." in html
    assert str(therapist) in html
    assert reverse("clients:assessment_addendum", args=[case.pk]) in html

    added = client.post(
        reverse("clients:assessment_addendum", args=[case.pk]), {"text": "  Rättelse: på resor i tjänsten.  "}
    )

    assert added.status_code == 302
    addendum = PartAddendum.objects.get()
    assert (addendum.conversation, addendum.section, addendum.author, addendum.text) == (
        conversation,
        None,
        therapist,
        "Rättelse: på resor i tjänsten.",
    )
    html = client.get(reverse("clients:assessment", args=[case.pk])).content.decode()
    assert "Rättelse: på resor i tjänsten." in html
    assert AssessmentConversation.objects.get().problem == "Köper sex på resor."  # the original as it was


def test_a_co_therapist_signs_a_section_and_adds_to_it(client, therapist, colleague, case, section):
    case.co_therapists.add(colleague)
    client.force_login(colleague)

    response = sign_section(client, case, section.version)

    assert response.status_code == 302
    section.refresh_from_db()
    assert (section.signed_by, section.done) == (colleague, True)
    html = client.get(reverse("clients:interview_section", args=[case.pk, "childhood"])).content.decode()
    assert 'name="text"' in html  # the addendum's field: the section's own form is gone
    assert 'name="done"' not in html
    assert "Växte upp i Borås." in html
    listing = client.get(reverse("clients:interview", args=[case.pk])).content.decode()
    assert _("Signed") in listing

    url = reverse("clients:interview_section_addendum", args=[case.pk, "childhood"])
    assert client.post(url, {"text": "Flyttade till Göteborg 1995."}).status_code == 302
    assert list(section.addenda.values_list("author", "text")) == [(colleague.pk, "Flyttade till Göteborg 1995.")]


def test_an_empty_addendum_is_a_field_error_and_saves_nothing(client, therapist, case, section):
    client.force_login(therapist)
    sign_section(client, case, section.version)

    response = client.post(reverse("clients:interview_section_addendum", args=[case.pk, "childhood"]), {"text": "  "})

    assert response.status_code == 400
    assert response.context["addendum_form"].errors["text"]
    assert not PartAddendum.objects.exists()


def test_a_signature_names_the_version_the_page_showed(client, therapist, case, section):
    client.force_login(therapist)

    response = sign_section(client, case, section.version + 1)  # saved again (another tab) since the page opened

    assert response.status_code == 302
    assert not DeepInterviewSection.objects.get().is_signed
    follow = client.get(response["Location"])
    assert str(services.STALE_SIGNATURE) in page_messages(follow)


def test_an_empty_section_and_an_empty_conversation_cannot_be_signed(client, therapist, case):
    empty = DeepInterviewSectionFactory(client=case, section="puberty", text="  ")
    conversation = AssessmentConversationFactory(client=case, problem="", goals="", assessment="")
    client.force_login(therapist)

    sign_section(client, case, empty.version, key="puberty")
    sign_assessment(client, case, conversation.version)

    assert not DeepInterviewSection.objects.get().is_signed
    assert not AssessmentConversation.objects.get().is_signed


# -- who may sign ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [("colleague", 404), ("other_clinic_therapist", 404), ("manager", 403)],
)
def test_only_the_record_s_therapists_sign_or_add(request, client, case, conversation, section, persona, status):
    client.force_login(request.getfixturevalue(persona))

    answers = [
        sign_assessment(client, case, conversation.version).status_code,
        sign_section(client, case, section.version).status_code,
    ]
    AssessmentConversation.objects.filter(pk=conversation.pk).update(
        signed_at=timezone.now(), signed_by=case.responsible_therapist
    )
    answers.append(
        client.post(reverse("clients:assessment_addendum", args=[case.pk]), {"text": "Tillägg."}).status_code
    )

    assert answers == [status, status, status]
    assert not DeepInterviewSection.objects.get().is_signed
    assert not PartAddendum.objects.exists()


def test_a_colleague_who_broke_the_glass_reads_but_does_not_sign(client, colleague, case, conversation, section):
    EmergencyAccess.objects.create(
        client=case, user=colleague, reason="Akut.", expires_at=timezone.now() + datetime.timedelta(hours=1)
    )
    client.force_login(colleague)

    page = client.get(reverse("clients:assessment", args=[case.pk]))
    answers = [
        sign_assessment(client, case, conversation.version).status_code,
        sign_section(client, case, section.version).status_code,
    ]

    assert page.status_code == 200
    assert reverse("clients:assessment_sign", args=[case.pk]) not in page.content.decode()
    assert answers == [403, 403]
    assert not AssessmentConversation.objects.get().is_signed
    assert not DeepInterviewSection.objects.get().is_signed


# -- a signed part is final for the save services (the pages, and the background saves that call them) ----------------


def test_the_save_services_refuse_a_signed_part(therapist, case, conversation, section):
    actor = Actor.for_user(therapist)
    services.assessment_sign(actor=actor, client=case, conversation=conversation, version=conversation.version)
    services.interview_section_sign(actor=actor, client=case, section="childhood", version=section.version)
    conversation.refresh_from_db()
    section.refresh_from_db()

    with pytest.raises(ValidationError) as assessment_refused:
        services.assessment_save(actor=actor, client=case, version=conversation.version, data={"problem": "Ändrat."})
    with pytest.raises(ValidationError) as section_refused:
        services.interview_section_save(
            actor=actor, client=case, section="childhood", version=section.version, text="Ändrat.", done=True
        )
    with pytest.raises(ValidationError):  # a "first save" of a section already signed
        services.interview_section_save(
            actor=actor, client=case, section="childhood", version=0, text="Ändrat.", done=True
        )

    assert assessment_refused.value.messages == [str(services.SIGNED_PART_IS_FINAL)]
    assert section_refused.value.messages == [str(services.SIGNED_PART_IS_FINAL)]
    assert AssessmentConversation.objects.get().problem == "Köper sex på resor."
    assert DeepInterviewSection.objects.get().text == "Växte upp i Borås."


def test_a_save_posted_to_a_signed_page_is_refused_without_a_500(client, therapist, case, conversation, section):
    client.force_login(therapist)
    sign_assessment(client, case, conversation.version)
    sign_section(client, case, section.version)

    assessment = client.post(reverse("clients:assessment", args=[case.pk]), {"problem": "Ändrat.", "version": 1})
    interview = client.post(
        reverse("clients:interview_section", args=[case.pk, "childhood"]), {"text": "Ändrat.", "version": 1}
    )

    assert (assessment.status_code, interview.status_code) == (400, 400)
    assert str(services.SIGNED_PART_IS_FINAL) in page_messages(assessment)
    assert AssessmentConversation.objects.get().problem == "Köper sex på resor."
    assert DeepInterviewSection.objects.get().text == "Växte upp i Borås."


def test_an_unsigned_part_still_changes_and_takes_no_addendum(client, therapist, case, section):
    client.force_login(therapist)

    saved = client.post(
        reverse("clients:interview_section", args=[case.pk, "childhood"]),
        {"text": "Ny text.", "done": "on", "version": section.version},
    )
    addendum = client.post(reverse("clients:interview_section_addendum", args=[case.pk, "childhood"]), {"text": "X."})

    assert saved.status_code == 302
    assert DeepInterviewSection.objects.get().text == "Ny text."
    assert addendum.status_code == 302
    assert not PartAddendum.objects.exists()


# -- the prints --------------------------------------------------------------------------------------------------------


def pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages))


@pytest.fixture
def signed_parts(therapist, colleague, case, conversation, section):
    """The conversation signed by the responsible therapist, with a co-therapist's addendum; the childhood section
    signed, another section written and not signed."""
    for user, last_name in ((therapist, "Lindqvist"), (colleague, "Berg")):
        user.last_name = last_name
        user.save(update_fields=["last_name"])
    case.co_therapists.add(colleague)
    services.assessment_sign(
        actor=Actor.for_user(therapist), client=case, conversation=conversation, version=conversation.version
    )
    services.part_addendum_add(
        actor=Actor.for_user(colleague), client=case, conversation=conversation, text="Tillägg om resorna."
    )
    services.interview_section_sign(
        actor=Actor.for_user(colleague), client=case, section="childhood", version=section.version
    )
    services.part_addendum_add(
        actor=Actor.for_user(therapist),
        client=case,
        section=DeepInterviewSection.objects.get(),
        text="Tillägg om Borås.",
    )
    DeepInterviewSectionFactory(client=case, section="puberty", text="Osignerad text.")
    conversation.refresh_from_db()
    return conversation, DeepInterviewSection.objects.get(section="childhood")


def signed_line(part, who) -> str:
    when = formats.date_format(timezone.localtime(part.signed_at), "SHORT_DATETIME_FORMAT")
    return _("Signed by %(who)s %(when)s") % {"who": who, "when": when}


def addendum_line(addendum) -> str:
    when = formats.date_format(timezone.localtime(addendum.created_at), "SHORT_DATETIME_FORMAT")
    return _("Addendum by %(who)s %(when)s") % {"who": addendum.author, "when": when}


@pytest.mark.parametrize("document", ["clients:intake_pdf", "archive:right_of_access"])
def test_the_prints_say_who_signed_each_part_when_and_its_addenda(client, therapist, colleague, signed_parts, document):
    conversation, section = signed_parts
    client.force_login(therapist)

    text = pdf_text(client.post(reverse(document, args=[conversation.episode.client_id])))

    assessment = text[text.index("Köper sex på resor.") :]
    assert signed_line(conversation, "Anna Lindqvist") in assessment
    assert addendum_line(conversation.addenda.get()) + " Tillägg om resorna." in assessment
    childhood = text[text.index("Växte upp i Borås.") :]
    # (A page break with its running header may fall between the text and its signature.)
    signature = childhood.index(signed_line(section, "Bertil Berg"))
    assert signature < childhood.index(addendum_line(section.addenda.get()) + " Tillägg om Borås.")
    assert "Osignerad text. " + _("Not signed") in text


# -- the record's overview ---------------------------------------------------------------------------------------------


def overview(client, record) -> str:
    html = client.get(reverse("clients:detail", args=[record.pk])).content.decode()
    return re.sub(r"\s+", " ", html)


def test_the_record_s_overview_says_nothing_is_signed_yet(client, therapist, case, conversation, section):
    client.force_login(therapist)

    page = overview(client, case)

    assert _("Not signed") in page
    assert _("Read, or add an addendum") not in page
    assert "av dem är signerad" not in page  # no section is signed


def test_the_record_s_overview_says_who_signed_the_assessment_and_how_many_sections_are_signed(
    client, therapist, signed_parts
):
    conversation, _childhood = signed_parts
    case = conversation.episode.client
    relationships = DeepInterviewSectionFactory(client=case, section="relationships", text="Också signerad.")
    services.interview_section_sign(
        actor=Actor.for_user(therapist), client=case, section="relationships", version=relationships.version
    )
    client.force_login(therapist)

    page = overview(client, case)

    assert signed_line(conversation, therapist) in page
    assert _("Not signed") not in page
    assert _("Read, or add an addendum") in page
    # Three sections written: childhood and relationships signed (so done), puberty neither.
    assert _("%(done)s of %(total)s sections done.") % {"done": 2, "total": 9} in page
    assert "2 av dem är signerade." in page
