"""Who may open which page: the one table of role rules, enforced by AccessPolicyMiddleware.

Every URL name must appear here (or be covered by a `namespace:*` entry); a URL that is
missing is refused at run time and fails tests/kast/test_url_coverage.py. The table answers
"may this role use this page at all"; which *records* a user may see is the job of each
confidential model's gate (e.g. `Client.objects.visible_to(user)`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.urls import ResolverMatch, URLPattern, URLResolver, get_resolver

from kast.actor import Actor
from kast.models import Role, User


class AuthenticatedHttpRequest(HttpRequest):
    """For the types only: a request past the AccessPolicyMiddleware on a page that is not public, so its user
    is signed in (never AnonymousUser), with the actor kast.middleware.ActorMiddleware sets."""

    user: User
    actor: Actor


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str] = frozenset()
    public: bool = False
    #: Open to a session that has passed the password but not yet the second factor. Every other
    #: non-public page sends such a session to the code or to the authenticator's setup.
    before_second_factor: bool = False

    def allows(self, user: User | AnonymousUser) -> bool:
        if self.public:
            return True
        return bool(user.is_authenticated and user.is_active and user.role in self.roles)


PUBLIC = Rule(public=True)
ANY_STAFF = Rule(frozenset(Role.values))
SIGNING_IN = Rule(frozenset(Role.values), before_second_factor=True)
THERAPISTS = Rule(frozenset({Role.THERAPIST}))
LOG_REVIEWERS = Rule(frozenset({Role.MANAGER, Role.ADMIN}))
REPORT_READERS = Rule(frozenset({Role.THERAPIST, Role.MANAGER, Role.NATIONAL}))
REPORT_PRINTERS = Rule(frozenset({Role.MANAGER, Role.NATIONAL}))
ADMINS = Rule(frozenset({Role.ADMIN}))
CLINIC_STAFF = Rule(frozenset({Role.THERAPIST, Role.MANAGER}))
RESEARCHERS = Rule(frozenset({Role.RESEARCHER}))

#: URL name -> who may use it.            therapist  manager  admin
URL_RULES: dict[str, Rule] = {
    "login": PUBLIC,  #                      -          -        -    (anyone)
    "healthz": PUBLIC,  #                    -          -        -    (anyone)
    "set_language": PUBLIC,  #               -          -        -    (anyone, also on the login page)
    "home": ANY_STAFF,  #                    yes        yes      yes
    "still_signed_in": ANY_STAFF,  #         yes        yes      yes  (204, no data: the idle warning's "continue")
    "logout": SIGNING_IN,  #                 yes        yes      yes  (also before the second factor)
    # Two factors: a password-only session reaches setting up the authenticator (with its QR code), nothing else.
    "two_factor:setup": SIGNING_IN,  #       yes        yes      yes  (also before the second factor)
    "two_factor:qr": SIGNING_IN,  #          yes        yes      yes  (also before the second factor)
    "two_factor:setup_complete": ANY_STAFF,  # yes      yes      yes
    "two_factor:backup_tokens": ANY_STAFF,  # yes       yes      yes  (their own backup codes)
    "password_change": ANY_STAFF,  #         yes        yes      yes
    "password_change_done": ANY_STAFF,  #    yes        yes      yes
    # A password reset an administrator started: the one-time link is the key (kast.auth.account_reset_tokens).
    "password_reset_confirm": PUBLIC,  #     -          -        -    (the link's holder; refused when signed in)
    "password_reset_complete": PUBLIC,  #    -          -        -    (a page of text, no data)
    # Client records: which records is the gate's job (Client.objects.visible_to).
    # Advice contacts without a record: the clinic's therapists; managers see counts only (figures), never the list.
    "advice:list": THERAPISTS,  #            yes        -        -
    "advice:new": THERAPISTS,  #             yes        -        -
    "advice:convert": THERAPISTS,  #         yes        -        -    (POST: registers a client record)
    "clients:list": THERAPISTS,  #           yes        -        -
    "clients:register": THERAPISTS,  #       yes        -        -
    "clients:emergency": THERAPISTS,  #      yes        -        -    (break the glass: a reason, logged, reviewed)
    "clients:detail": THERAPISTS,  #         yes        -        -
    "clients:edit": THERAPISTS,  #           yes        -        -
    "clients:identity_edit": THERAPISTS,  #  yes        -        -    (logged as "showed identity")
    "clients:reveal_identity": THERAPISTS,  # yes       -        -    (logged as "showed identity")
    "clients:transition": THERAPISTS,  #     yes        -        -
    "clients:reopen": THERAPISTS,  #         yes        -        -
    "clients:assessment": THERAPISTS,  #     yes        -        -
    # Signing and addenda: the record's own therapists (clients.models.Client.is_record_therapist).
    "clients:assessment_sign": THERAPISTS,  # yes       -        -    (the record's therapists only)
    "clients:assessment_addendum": THERAPISTS,  # yes   -        -    (the record's therapists only)
    "clients:interview": THERAPISTS,  #      yes        -        -
    "clients:interview_section": THERAPISTS,  # yes     -        -
    "clients:interview_section_sign": THERAPISTS,  # yes -       -    (the record's therapists only)
    "clients:interview_section_addendum": THERAPISTS,  # yes -   -    (the record's therapists only)
    # Background saves of long texts (js/autosave.js): POST only, JSON; the record's gate decides which records.
    "clients:assessment_autosave": THERAPISTS,  # yes   -        -
    "clients:interview_section_autosave": THERAPISTS,  # yes -   -
    "clients:family": THERAPISTS,  #         yes        -        -
    "clients:family_member": THERAPISTS,  #  yes        -        -
    "clients:family_member_delete": THERAPISTS,  # yes  -        -    (until the map is locked)
    "clients:family_member_error": THERAPISTS,  # yes   -        -    (marked as entered in error, with a reason)
    "clients:relationship_add": THERAPISTS,  # yes      -        -
    "clients:relationship_delete": THERAPISTS,  # yes   -        -    (until the map is locked)
    "clients:relationship_error": THERAPISTS,  # yes    -        -    (marked as entered in error, with a reason)
    # The client's goals and their follow-up: the record's own therapists write them (Client.is_record_therapist).
    "clients:goal_add": THERAPISTS,  #      yes        -        -    (the record's therapists only)
    "clients:goal_edit": THERAPISTS,  #     yes        -        -    (until signed or followed up)
    "clients:goal_delete": THERAPISTS,  #   yes        -        -    (until signed or followed up; POST only)
    "clients:goal_review": THERAPISTS,  #   yes        -        -    (at a session; POST only)
    "clients:intake_pdf": THERAPISTS,  #     yes        -        -    (logged as "printed")
    # Sessions and notes: which sessions is the gate's job (TherapySession.objects.visible_to).
    "sessions:timeline": THERAPISTS,  #      yes        -        -
    "sessions:new": THERAPISTS,  #           yes        -        -
    "sessions:end_treatment": THERAPISTS,  # yes        -        -
    "sessions:quick_log": THERAPISTS,  #     yes        -        -
    "sessions:detail": THERAPISTS,  #        yes        -        -    (the note page)
    "sessions:autosave": THERAPISTS,  #      yes        -        -    (the note's author only)
    "sessions:addendum": THERAPISTS,  #      yes        -        -    (the note's author only)
    "sessions:addendum_autosave": THERAPISTS,  # yes    -        -    (the note's author only; her draft, POST only)
    "sessions:payment": THERAPISTS,  #       yes        -        -
    "sessions:void": THERAPISTS,  #          yes        -        -
    "sessions:book_next": THERAPISTS,  #     yes        -        -
    "sessions:bookings": THERAPISTS,  #      yes        -        -    (their own, or their clinic's)
    "sessions:calendar": THERAPISTS,  #      yes        -        -    (their own feed address)
    "sessions:calendar_feed": PUBLIC,  #     -          -        -    (the secret address is the key)
    # Relatives' records: a Client row of kind "relative", so the same gate (Client.objects.visible_to);
    # links, reactions, goals and child perspectives are read through their own gates.
    "relatives:register": THERAPISTS,  #     yes        -        -
    "relatives:register_for": THERAPISTS,  # yes        -        -    (linked to a client of theirs)
    "relatives:detail": THERAPISTS,  #       yes        -        -
    "relatives:edit": THERAPISTS,  #         yes        -        -
    "relatives:link": THERAPISTS,  #         yes        -        -
    "relatives:reactions": THERAPISTS,  #    yes        -        -
    "relatives:goal_add": THERAPISTS,  #     yes        -        -
    "relatives:goal_status": THERAPISTS,  #  yes        -        -
    "relatives:summary_pdf": THERAPISTS,  #  yes        -        -    (logged as "printed")
    "relatives:consents": THERAPISTS,  #     yes        -        -    (from either side of the link)
    "relatives:unlink": THERAPISTS,  #       yes        -        -    (from either side; both records kept)
    "relatives:children": THERAPISTS,  #     yes        -        -    (on a client's or a relative's record)
    "relatives:children_autosave": THERAPISTS,  # yes   -        -    (the comment, in the background; POST only)
    # The right of access: the whole record as PDF for the person it is about (POST; logged as "printed").
    # A record's change history: who changed what, when (logged as "history"; identity values after "Show identity").
    "archive:history": THERAPISTS,  #       yes        -        -    (on a client's or a relative's record)
    "archive:right_of_access": THERAPISTS,  # yes       -        -    (on a client's or a relative's record)
    # Questionnaires: which ones is the gate's job (Administration.objects.visible_to).
    "assessments:client": THERAPISTS,  #     yes        -        -
    "assessments:over_time": THERAPISTS,  #  yes        -        -    (the answers side by side; logged)
    "assessments:start": THERAPISTS,  #      yes        -        -
    "assessments:fill": THERAPISTS,  #       yes        -        -
    "assessments:fill_autosave": THERAPISTS,  # yes     -        -    (never submits; POST only)
    "assessments:tablet_code": THERAPISTS,  # yes       -        -
    "assessments:mark_in_error": THERAPISTS,  # yes     -        -    (those who may fill it in; logged)
    # The clinic tablet is signed in as nobody: a one-time code opens one questionnaire only.
    "assessments:tablet": PUBLIC,  #         -          -        -    (enter the code)
    "assessments:tablet_form": PUBLIC,  #    -          -        -    (only with a valid code in the session)
    "assessments:tablet_done": PUBLIC,  #    -          -        -    (a thank-you page, no data)
    # Questionnaire figures: counts only; own clinic, all clinics for national follow-up (small counts as "<5").
    "figures:reports": REPORT_READERS,  # yes       yes      -    (and national follow-up)
    # The research file is still personal data: only the researcher role makes it, for a stated purpose and decision
    # recorded with each export (logged as "exported"), with rare combinations coarsened or left out (k = 5).
    "figures:research_export": RESEARCHERS,  # -    -        -    (the researcher role only)
    # Clinic figures: a manager their clinic, a therapist their own caseload, national follow-up every clinic
    # (small counts as "<5"); another clinic's figures are refused in the view. CSV files are logged as "exported".
    "figures:dashboard": REPORT_READERS,  #  yes        yes      -    (and national follow-up)
    "figures:dashboard_csv": REPORT_READERS,  # yes        yes      -    (and national follow-up)
    # The yearly report PDF leaves the clinic: the manager's (own clinic) and national follow-up's; logged as "printed".
    "figures:dashboard_year_pdf": REPORT_PRINTERS,  # -  yes      -    (and national follow-up)
    # The clinic's outreach and attitude work: no client data; its therapists and unit manager list and record it
    # (Activity.objects.visible_to: own clinic only). National follow-up has the counts on the figures, not the list.
    "outreach:list": CLINIC_STAFF,  #        yes        yes      -
    "outreach:new": CLINIC_STAFF,  #         yes        yes      -
    "outreach:edit": CLINIC_STAFF,  #        yes        yes      -    (own clinic's; another clinic's is 404)
    # Group programmes: the clinic's therapists (GroupProgramme.objects.visible_to); the leaders write (the services
    # refuse others). Managers get counts on the figures, never a roster or a note; national follow-up likewise.
    "groups:list": THERAPISTS,  #            yes        -        -
    "groups:new": THERAPISTS,  #             yes        -        -
    "groups:detail": THERAPISTS,  #          yes        -        -    (roster by code, meetings)
    "groups:member_add": THERAPISTS,  #      yes        -        -    (the leaders; records through the clients' gate)
    "groups:member_leave": THERAPISTS,  #    yes        -        -    (the leaders; POST only)
    "groups:meeting_new": THERAPISTS,  #     yes        -        -    (the leaders)
    "groups:meeting": THERAPISTS,  #         yes        -        -    (attendance and the note, both parts)
    "groups:attendance": THERAPISTS,  #      yes        -        -    (the leaders; POST only, all participants)
    "groups:note": THERAPISTS,  #            yes        -        -    (the note's author; POST only)
    "groups:sign": THERAPISTS,  #            yes        -        -    (the note's author; POST only)
    "groups:addendum": THERAPISTS,  #        yes        -        -    (the note's author; POST only)
    "access_log": LOG_REVIEWERS,  #          -          yes      yes  (own clinic; no content)
    "audit:queue": LOG_REVIEWERS,  #         -          yes      yes  (flagged accesses to review; no content)
    "audit:review": LOG_REVIEWERS,  #        -          yes      yes  (records who reviewed, when, the outcome)
    "admin:*": ADMINS,  #                    -          -        yes  (accounts and clinics only)
}


def rule_for_name(view_name: str) -> Rule | None:
    if view_name in URL_RULES:
        return URL_RULES[view_name]
    namespace, _, _ = view_name.rpartition(":")
    while namespace:
        if f"{namespace}:*" in URL_RULES:
            return URL_RULES[f"{namespace}:*"]
        namespace, _, _ = namespace.rpartition(":")
    return None


def rule_for(match: ResolverMatch) -> Rule | None:
    # An unnamed pattern's view_name is its view's dotted path: covered only by a namespace rule.
    return rule_for_name(match.view_name)


def url_view_names(
    patterns: Sequence[URLPattern | URLResolver], namespace: str = "", route: str = ""
) -> Iterator[tuple[str, str]]:
    """(view name, route) of every URL pattern, spelled as ResolverMatch.view_name spells it."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_view_names(pattern.url_patterns, inner, route + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name or pattern.lookup_str}", route + str(pattern.pattern)


def undeclared_urls(urlconf: str | None = None) -> list[str]:
    """Routes whose view has no rule in URL_RULES: each one is a page nobody decided about."""
    return [
        f"{route} ({view_name})"
        for view_name, route in url_view_names(get_resolver(urlconf).url_patterns)
        if rule_for_name(view_name) is None
    ]
