"""Forms of the client record as a browser posts them: every field present, only the required ones filled in."""

from __future__ import annotations


def register_data(therapist, **overrides) -> dict:
    """clients:register (and, without the identity fields, clients:edit)."""
    data = {
        "first_contact_date": "2025-05-01",
        "contact_method": "phone",
        "referral_source": "self",
        "reason": "",
        "target_groups": ["buying_sex"],
        "birth_year": "1980",
        "gender": "man",
        "in_relationship": "unknown",
        "has_children": "unknown",
        "children_ages": "",
        "occupation": "",
        "education": "not_stated",
        "responsible_therapist": str(therapist.pk),
        "next_contact_date": "",
        "alias": "",
        "full_name": "",
        "personnummer": "",
        "phone": "",
        "email": "",
    }
    data.update(overrides)
    return data


def assessment_data(**overrides) -> dict:
    """clients:assessment; version 0 for the first save."""
    data = {
        "held_on": "2025-05-08",
        "problem": "Köper sex när han är stressad",
        "goals": "Sluta helt inom ett år",
        "assessment": "Målgrupp, motiverad",
        "decision": "",
        "referred_to": "",
        "destination": "",
        "version": "0",
    }
    data.update(overrides)
    return data


def member_data(**overrides) -> dict:
    """clients:family (add a person) and clients:family_member; an unticked checkbox is simply absent."""
    data = {
        "label": "Morfar",
        "relation": "grandparent",
        "sex": "male",
        "birth_year": "1930",
        "death_year": "",
        "notes": "",
    }
    data.update(overrides)
    return data
