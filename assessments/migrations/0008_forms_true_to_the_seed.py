"""New editions of the questionnaires, true to the evaluation's design (FoU i Väst 2021, "Självskattningsformulär").

The report says the end form "innehåller samma frågor som vid behandlingsstart" plus questions on access, the staff's
manner and helpfulness, and that the follow-up uses the end form's questions. Version 1 of the end form left out
most of the start's questions about the person's situation and behaviour, so they could not be paired. Here:

- kast-start v2: v1's questions, with how often and when last asked for every behaviour (not only buying sex);
- kast-end v2 (treatment end): every start question about situation and behaviour, then the end's own questions;
- kast-follow-up v1 (six months and long term): the end form's questions, then the outcome questions of the
  evaluation interview that fit a form (Bilaga 1, questions 15, 16, 26, 30, 31, and whether the treatment has
  led to no longer buying sex), satisfaction on a graded scale.

Item codes are the contract: a question that already exists keeps its code and its wording is copied from the
published version it comes from, so answers on version 1 keep counting in Tables 1-2 and pair by code. Nothing
here touches an answer or an earlier version (both are frozen by triggers anyway); the new versions are published
at once, so `version_for` gives them to every questionnaire started from now on.
"""

from django.db import migrations
from django.utils import timezone

FREQ = ("Hur ofta, den senaste månaden", "How often, in the last month")
LAST = ("När senast", "When last")
BEHAVIOUR = ("Det du söker hjälp för", "What you seek help for")
AFTER = ("Efter behandlingen", "After the treatment")
BUYING = ["buying_sex"]

# New questions: code -> (section sv, section en, kind, text sv, text en, extra fields).
NEW = {
    "freq_webcam": (
        *FREQ,
        "frequency",
        "Hur ofta har du köpt sexuella tjänster via webbkamera?",
        "How often have you bought sexual services by webcam?",
        {"higher_is_better": False},
    ),
    "freq_escort_ads": (
        *FREQ,
        "frequency",
        "Hur ofta har du läst annonser om sexuella tjänster?",
        "How often have you read advertisements for sexual services?",
        {"higher_is_better": False},
    ),
    "freq_other": (
        *FREQ,
        "frequency",
        "Hur ofta har du gjort något annat av det du söker hjälp för?",
        "How often have you done something else of what you seek help for?",
        {"higher_is_better": False},
    ),
    # When last: a date, not a measure of change (higher_is_better stays empty, so it is never paired).
    "last_pornography": (
        *LAST,
        "last_occurrence",
        "När tittade du på pornografi senast?",
        "When did you last watch pornography?",
        {},
    ),
    "last_sex_clubs": (
        *LAST,
        "last_occurrence",
        "När besökte du en sexklubb senast?",
        "When did you last visit a sex club?",
        {},
    ),
    "last_sexual_chat": (
        *LAST,
        "last_occurrence",
        "När hade du sexuell chatt senast?",
        "When did you last have sexual chat?",
        {},
    ),
    "last_webcam": (
        *LAST,
        "last_occurrence",
        "När köpte du sexuella tjänster via webbkamera senast?",
        "When did you last buy sexual services by webcam?",
        {},
    ),
    "last_escort_ads": (
        *LAST,
        "last_occurrence",
        "När läste du annonser om sexuella tjänster senast?",
        "When did you last read advertisements for sexual services?",
        {},
    ),
    "last_other": (
        *LAST,
        "last_occurrence",
        "När gjorde du senast något annat av det du söker hjälp för?",
        "When did you last do something else of what you seek help for?",
        {},
    ),
    # The evaluation's follow-up: "Frågan om huruvida behandlingen har lett till att de inte köper sexuella
    # tjänster ställdes inte förrän i senare versioner."
    "stopped_buying_sex": (
        *AFTER,
        "yes_no",
        "Har behandlingen lett till att du inte köper sexuella tjänster?",
        "Has the treatment led you to no longer buy sexual services?",
        {"higher_is_better": True, "target_groups": BUYING},
    ),
    # Bilaga 1, question 26. Not a measure of change: "no" may mean there was no such moment.
    "refrained_buying_sex": (
        *AFTER,
        "yes_no",
        "Efter att du har avslutat behandlingen, har du då låtit bli att köpa sex fast du hade tänkt det?",
        "Since the treatment ended, have you refrained from buying sex though you had meant to?",
        {"target_groups": BUYING},
    ),
    # Bilaga 1, questions 15 and 16, graded as the clinic's forms grade what once was yes or no.
    "satisfaction_overall": (
        *AFTER,
        "scale",
        "Hur nöjd är du sammantaget med den behandling du fått?",
        "Overall, how satisfied are you with the treatment you received?",
        {"scale": "satisfied", "higher_is_better": True},
    ),
    "satisfaction_amount": (
        *AFTER,
        "scale",
        "Hur nöjd är du med omfattningen av den hjälp du fått, i tillgänglighet och över tid?",
        "How satisfied are you with the amount of help you received, in availability and over time?",
        {"scale": "satisfied", "higher_is_better": True},
    ),
    # Bilaga 1, questions 30 and 31.
    "seek_similar_again": (
        *AFTER,
        "yes_no",
        "Om du skulle söka hjälp igen, skulle du söka dig till en likartad behandling igen?",
        "If you were to seek help again, would you seek a similar treatment again?",
        {"higher_is_better": True},
    ),
    "recommend_to_friend": (
        *AFTER,
        "yes_no",
        "Om en vän var i behov av liknande hjälp, skulle du då rekommendera behandlingen till hen?",
        "If a friend needed similar help, would you recommend the treatment to them?",
        {"higher_is_better": True},
    ),
}

#: How often and when last, for every behaviour the form names (v1 asked "when last" only of buying sex).
FREQUENCIES = [
    "freq_buying_sex",
    "freq_pornography",
    "freq_sex_clubs",
    "freq_sexual_chat",
    "freq_webcam",
    "freq_escort_ads",
    "freq_other",
    "last_buying_sex",
    "last_pornography",
    "last_sex_clubs",
    "last_sexual_chat",
    "last_webcam",
    "last_escort_ads",
    "last_other",
]
#: The start's questions on the person's situation and behaviour, asked again at every later time point.
SITUATION = [
    "problem_behaviours",
    "bought_sex_last_year",
    "behaviour_harms_self",
    "thoughts_harm_self",
    "behaviour_harms_relations",
    *FREQUENCIES,
    "wellbeing",
    "stop_impulses",
    "guilt_shame",
    "inadequacy",
    "self_image",
    "relations_affected",
]
#: The end form's own questions (the evaluation's Table 2), worded as in version 1.
CARE = [
    "came_as_often",
    "came_as_long",
    "staff_respectful",
    "staff_non_judgmental",
    "staff_dignified",
    "talk_sexual_issues",
    "got_help_needed",
    "stop_impulses_due_to_treatment",
]
OUTCOMES = [
    "stopped_buying_sex",
    "refrained_buying_sex",
    "satisfaction_overall",
    "satisfaction_amount",
    "seek_similar_again",
    "recommend_to_friend",
]

START = [
    "has_partner",
    "has_children",
    "seek_reason",
    "problem_behaviours",
    "bought_sex_ever",
    "bought_sex_last_year",
    "behaviour_harms_self",
    "thoughts_harm_self",
    "behaviour_harms_relations",
    *FREQUENCIES,
    "wellbeing",
    "stop_impulses",
    "guilt_shame",
    "inadequacy",
    "self_image",
    "relations_affected",
    "own_words",
]
END = [*SITUATION, *CARE, "own_words"]
FOLLOW_UP = [*SITUATION, *CARE, *OUTCOMES, "own_words"]

# (instrument code, name, name in English, version number, time points, items, what changed)
EDITIONS = [
    (
        "kast-start",
        "",
        "",
        2,
        ["start"],
        START,
        "Hur ofta och när senast, för varje beteende (inte bara köp av sexuella tjänster).",
    ),
    (
        "kast-end",
        "",
        "",
        2,
        ["end"],
        END,
        "Samma frågor som vid behandlingsstart om situation och beteende, sedan frågorna om behandlingen. "
        "Uppföljningarna har ett eget formulär (kast-follow-up).",
    ),
    (
        "kast-follow-up",
        "KAST självskattning vid uppföljning",
        "KAST self-assessment at follow-up",
        1,
        ["follow_up", "long_term"],
        FOLLOW_UP,
        "Avslutsformulärets frågor och utvärderingens frågor om utfall: slutat köpa sexuella tjänster, låtit bli, "
        "nöjdhet (graderad), skulle söka igen, skulle rekommendera. Tidigare användes kast-end v1 vid uppföljning.",
    ),
]

COPIED = [
    "section",
    "section_en",
    "kind",
    "text",
    "text_en",
    "scale",
    "choices",
    "min_value",
    "max_value",
    "higher_is_better",
    "target_groups",
]


def ship(apps, schema_editor):
    Instrument = apps.get_model("assessments", "Instrument")
    InstrumentVersion = apps.get_model("assessments", "InstrumentVersion")
    Item = apps.get_model("assessments", "Item")
    # An existing question keeps its code and is copied as published in version 1 (the two forms word their
    # shared questions alike).
    existing = {}
    for source in ("kast-start", "kast-end"):
        for item in Item.objects.filter(version__instrument__code=source, version__number=1):
            existing.setdefault(item.code, item)
    for code, name, name_en, number, time_points, codes, changes in EDITIONS:
        instrument = Instrument.objects.filter(code=code).first()
        if instrument is None:
            instrument = Instrument.objects.create(code=code, name=name, name_en=name_en)
        if InstrumentVersion.objects.filter(instrument=instrument, number=number).exists():
            continue  # migrated back and forth: published versions cannot be deleted, nor made twice
        version = InstrumentVersion.objects.create(
            instrument=instrument, number=number, time_points=time_points, changes=changes
        )
        rows = []
        for position, item_code in enumerate(codes, start=1):
            if item_code in existing:
                fields = {name: getattr(existing[item_code], name) for name in COPIED}
                if item_code.startswith("last_"):  # v1 had its one "when last" under "how often"
                    fields["section"], fields["section_en"] = LAST
            else:
                section, section_en, kind, text, text_en, extra = NEW[item_code]
                fields = {"section": section, "section_en": section_en, "kind": kind, "text": text, "text_en": text_en}
                fields.update(extra)
            rows.append(Item(version=version, code=item_code, position=position, **fields))
        Item.objects.bulk_create(rows)
        version.published_at = timezone.now()
        version.save(update_fields=["published_at"])


class Migration(migrations.Migration):
    dependencies = [("assessments", "0007_satisfied_scale")]

    operations = [migrations.RunPython(ship, migrations.RunPython.noop)]
