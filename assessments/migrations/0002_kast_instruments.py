"""Ship the clinic's questionnaires as data: the start form and the end/follow-up form, version 1.

Written from the evaluation report (FoU i Väst 2021, "Självskattningsformulär", Tables 1 and 2)
and DOMAIN.md. Item codes are the contract: later versions keep a code while a question means
the same thing, so answers stay comparable. Both versions are published (and so frozen).
"""

from django.db import migrations
from django.utils import timezone

YES_NO, SCALE, FREQUENCY, LAST, NUMBER, SINGLE, MULTIPLE, TEXT = (
    "yes_no",
    "scale",
    "frequency",
    "last_occurrence",
    "number",
    "single",
    "multiple",
    "text",
)
BUYING = ["buying_sex"]

BEHAVIOURS = [
    ["buying_sex", "Köp av sexuella tjänster", "Buying sexual services"],
    ["pornography", "Pornografi", "Pornography"],
    ["sex_clubs", "Sexklubbar", "Sex clubs"],
    ["sexual_chat", "Sexuell chatt", "Sexual chat"],
    ["webcam", "Sexuella tjänster via webbkamera", "Sexual services by webcam"],
    ["escort_ads", "Läsa annonser om sexuella tjänster", "Reading advertisements for sexual services"],
    ["other", "Annat", "Other"],
]

REASONS = [
    ["own_wish", "Egen vilja att förändra", "My own wish to change"],
    ["partner", "Min partner ville det", "My partner wanted it"],
    ["police", "Efter kontakt med polisen", "After contact with the police"],
    ["health", "Min hälsa", "My health"],
    ["other", "Annat", "Other"],
]

# (code, section sv, section en, kind, text sv, text en, extra)
ABOUT = ("Om dig", "About you")
BEHAVIOUR = ("Det du söker hjälp för", "What you seek help for")
FREQ = ("Hur ofta, den senaste månaden", "How often, in the last month")
NOW = ("Hur du har det nu", "How you are now")
CARE = ("Om behandlingen på KAST", "About the treatment at KAST")

COMMON_BEHAVIOUR = [
    (
        "problem_behaviours",
        *BEHAVIOUR,
        MULTIPLE,
        "Vilka beteenden upplever du som ett problem?",
        "Which behaviours do you experience as a problem?",
        {"choices": BEHAVIOURS},
    ),
]
FREQUENCIES = [
    (
        "freq_buying_sex",
        *FREQ,
        FREQUENCY,
        "Hur ofta har du köpt sexuella tjänster?",
        "How often have you bought sexual services?",
        {"target_groups": BUYING},
    ),
    (
        "last_buying_sex",
        *FREQ,
        LAST,
        "När köpte du sexuella tjänster senast?",
        "When did you last buy sexual services?",
        {"target_groups": BUYING},
    ),
    (
        "freq_pornography",
        *FREQ,
        FREQUENCY,
        "Hur ofta har du tittat på pornografi?",
        "How often have you watched pornography?",
        {},
    ),
    (
        "freq_sex_clubs",
        *FREQ,
        FREQUENCY,
        "Hur ofta har du besökt sexklubbar?",
        "How often have you visited sex clubs?",
        {},
    ),
    (
        "freq_sexual_chat",
        *FREQ,
        FREQUENCY,
        "Hur ofta har du haft sexuell chatt?",
        "How often have you had sexual chat?",
        {},
    ),
]
WELLBEING = [
    ("wellbeing", *NOW, SCALE, "Hur mår du just nu?", "How are you just now?", {"scale": "wellbeing"}),
    (
        "stop_impulses",
        *NOW,
        SCALE,
        "Jag kan stoppa oönskade sexuella impulser.",
        "I can stop unwanted sexual impulses.",
        {"scale": "agreement"},
    ),
    (
        "guilt_shame",
        *NOW,
        SCALE,
        "Det jag söker hjälp för är förknippat med känslor av skuld och skam.",
        "What I seek help for is tied to feelings of guilt and shame.",
        {"scale": "agreement"},
    ),
    (
        "inadequacy",
        *NOW,
        SCALE,
        "Det ger mig känslor av otillräcklighet.",
        "It gives me feelings of inadequacy.",
        {"scale": "agreement"},
    ),
    (
        "self_image",
        *NOW,
        SCALE,
        "Det påverkar min självbild negativt.",
        "It affects my self-image negatively.",
        {"scale": "agreement"},
    ),
    (
        "relations_affected",
        *NOW,
        SCALE,
        "Det påverkar mina relationer negativt.",
        "It affects my relationships negatively.",
        {"scale": "agreement"},
    ),
]

START_ITEMS = [
    ("has_partner", *ABOUT, YES_NO, "Har du en partner?", "Do you have a partner?", {}),
    ("has_children", *ABOUT, YES_NO, "Har du barn?", "Do you have children?", {}),
    (
        "seek_reason",
        *BEHAVIOUR,
        MULTIPLE,
        "Varför söker du hjälp nu?",
        "Why do you seek help now?",
        {"choices": REASONS},
    ),
    *COMMON_BEHAVIOUR,
    (
        "bought_sex_ever",
        *BEHAVIOUR,
        YES_NO,
        "Har du någon gång köpt sexuella tjänster?",
        "Have you ever bought sexual services?",
        {},
    ),
    (
        "bought_sex_last_year",
        *BEHAVIOUR,
        YES_NO,
        "Har du köpt sexuella tjänster under det senaste året?",
        "Have you bought sexual services in the last year?",
        {},
    ),
    (
        "behaviour_harms_self",
        *BEHAVIOUR,
        YES_NO,
        "Upplever du att ditt sexuella beteende har varit destruktivt för dig själv?",
        "Do you feel that your sexual behaviour has been destructive for yourself?",
        {},
    ),
    (
        "thoughts_harm_self",
        *BEHAVIOUR,
        YES_NO,
        "Upplever du att dina sexuella tankar har varit destruktiva för dig själv?",
        "Do you feel that your sexual thoughts have been destructive for yourself?",
        {},
    ),
    (
        "behaviour_harms_relations",
        *BEHAVIOUR,
        YES_NO,
        "Upplever du att ditt sexuella beteende har varit destruktivt för dina relationer?",
        "Do you feel that your sexual behaviour has been destructive for your relationships?",
        {},
    ),
    *FREQUENCIES,
    *WELLBEING,
    ("own_words", *NOW, TEXT, "Vill du säga något mer med egna ord?", "Anything more, in your own words?", {}),
]

END_ITEMS = [
    *COMMON_BEHAVIOUR,
    (
        "bought_sex_last_year",
        *BEHAVIOUR,
        YES_NO,
        "Har du köpt sexuella tjänster under det senaste året?",
        "Have you bought sexual services in the last year?",
        {},
    ),
    *FREQUENCIES,
    *WELLBEING,
    (
        "came_as_often",
        *CARE,
        YES_NO,
        "Har du fått komma på samtal så ofta som du önskat eller behövt?",
        "Could you come to sessions as often as you wished or needed?",
        {},
    ),
    (
        "came_as_long",
        *CARE,
        YES_NO,
        "Har du fått komma på samtal så länge som du behövt?",
        "Could you come to sessions for as long as you needed?",
        {},
    ),
    (
        "staff_respectful",
        *CARE,
        YES_NO,
        "Har personalen bemött dig respektfullt?",
        "Did the staff treat you with respect?",
        {},
    ),
    (
        "staff_non_judgmental",
        *CARE,
        YES_NO,
        "Har personalen bemött dig utan att döma?",
        "Did the staff treat you without judging?",
        {},
    ),
    (
        "staff_dignified",
        *CARE,
        YES_NO,
        "Har personalen bemött dig värdigt?",
        "Did the staff treat you with dignity?",
        {},
    ),
    (
        "talk_sexual_issues",
        *CARE,
        YES_NO,
        "Har du kunnat samtala om svåra sexuella frågor?",
        "Could you talk about difficult sexual issues?",
        {},
    ),
    (
        "got_help_needed",
        *CARE,
        YES_NO,
        "Har du fått den hjälp du behövde eller förväntade dig?",
        "Did you get the help you needed or expected?",
        {},
    ),
    (
        "stop_impulses_due_to_treatment",
        *CARE,
        YES_NO,
        "Kan du, tack vare behandlingen, stoppa oönskade sexuella impulser?",
        "Thanks to the treatment, can you stop unwanted sexual impulses?",
        {},
    ),
    ("own_words", *NOW, TEXT, "Vill du säga något mer med egna ord?", "Anything more, in your own words?", {}),
]

#: Which way is better when answers are compared over time (None: not a measure of change).
DIRECTION = {
    "wellbeing": True,
    "stop_impulses": True,
    "guilt_shame": False,
    "inadequacy": False,
    "self_image": False,
    "relations_affected": False,
    "freq_buying_sex": False,
    "freq_pornography": False,
    "freq_sex_clubs": False,
    "freq_sexual_chat": False,
    "bought_sex_last_year": False,
    "behaviour_harms_self": False,
    "thoughts_harm_self": False,
    "behaviour_harms_relations": False,
    "came_as_often": True,
    "came_as_long": True,
    "staff_respectful": True,
    "staff_non_judgmental": True,
    "staff_dignified": True,
    "talk_sexual_issues": True,
    "got_help_needed": True,
    "stop_impulses_due_to_treatment": True,
}

INSTRUMENTS = [
    (
        "kast-start",
        "KAST självskattning vid behandlingsstart",
        "KAST self-assessment at treatment start",
        ["start"],
        START_ITEMS,
    ),
    (
        "kast-end",
        "KAST självskattning vid avslut och uppföljning",
        "KAST self-assessment at end and follow-up",
        ["end", "follow_up", "long_term"],
        END_ITEMS,
    ),
]


def ship(apps, schema_editor):
    Instrument = apps.get_model("assessments", "Instrument")
    InstrumentVersion = apps.get_model("assessments", "InstrumentVersion")
    Item = apps.get_model("assessments", "Item")
    for code, name, name_en, time_points, items in INSTRUMENTS:
        instrument = Instrument.objects.create(code=code, name=name, name_en=name_en)
        version = InstrumentVersion.objects.create(instrument=instrument, number=1, time_points=time_points)
        Item.objects.bulk_create(
            Item(
                version=version,
                position=position,
                code=item_code,
                section=section,
                section_en=section_en,
                kind=kind,
                text=text,
                text_en=text_en,
                higher_is_better=DIRECTION.get(item_code),
                **extra,
            )
            for position, (item_code, section, section_en, kind, text, text_en, extra) in enumerate(items, start=1)
        )
        version.published_at = timezone.now()
        version.save(update_fields=["published_at"])


class Migration(migrations.Migration):
    dependencies = [("assessments", "0001_questionnaires")]

    operations = [migrations.RunPython(ship, migrations.RunPython.noop)]
