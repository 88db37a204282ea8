"""Who may open which page: the one table of role rules, enforced by AccessPolicyMiddleware.

Every URL name must appear here (or be covered by a `namespace:*` entry); a URL that is
missing is refused at run time and fails tests/kast/test_url_coverage.py. The table answers
"may this role use this page at all"; which *records* a user may see is the job of each
confidential model's gate (e.g. `Client.objects.visible_to(user)`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import ResolverMatch

from kast.models import Role


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str] = frozenset()
    public: bool = False

    def allows(self, user) -> bool:
        if self.public:
            return True
        return bool(user.is_authenticated and user.is_active and user.role in self.roles)


PUBLIC = Rule(public=True)
ANY_STAFF = Rule(frozenset(Role.values))
THERAPISTS = Rule(frozenset({Role.THERAPIST}))
LOG_REVIEWERS = Rule(frozenset({Role.MANAGER, Role.ADMIN}))
ADMINS = Rule(frozenset({Role.ADMIN}))

#: URL name -> who may use it.            therapist  manager  admin
URL_RULES: dict[str, Rule] = {
    "login": PUBLIC,  #                      -          -        -    (anyone)
    "healthz": PUBLIC,  #                    -          -        -    (anyone)
    "set_language": PUBLIC,  #               -          -        -    (anyone, also on the login page)
    "home": ANY_STAFF,  #                    yes        yes      yes
    "logout": ANY_STAFF,  #                  yes        yes      yes
    "password_change": ANY_STAFF,  #         yes        yes      yes
    "password_change_done": ANY_STAFF,  #    yes        yes      yes
    "clients:list": THERAPISTS,  #           yes        -        -
    "clients:detail": THERAPISTS,  #         yes        -        -
    "access_log": LOG_REVIEWERS,  #          -          yes      yes  (own clinic; no content)
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
    if not match.url_name:
        return None
    return rule_for_name(match.view_name)
