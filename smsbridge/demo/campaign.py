"""The demo's campaign: appointment reminders to a seeded, realistic list of recipients.

Everything is derived from one seed, so two runs with the same seed send the same texts
to the same numbers. Numbers are written the way people type them into a form (spaces,
national prefixes, the odd typo), so normalisation has real work to do; about 3% cannot
be a phone number at all. Each language's reminder is a :class:`~smsbridge.Template`:
English, French and German fit GSM-7; Spanish mostly does, except where a name carries
an accent GSM-7 lacks (``í``, ``á``); Chinese, Russian and Greek always need UCS-2.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping

import attrs
import phonenumbers

from smsbridge.model import Batch, Recipient, Template

__all__ = ["LANGUAGES", "Campaign", "Language", "build_campaign"]


@attrs.frozen(kw_only=True)
class Language:
    """One language of the campaign: where it is spoken, its reminder and its names.

    Args:
        code: ISO 639-1 language code.
        region: The ISO 3166 region its recipients' numbers belong to.
        share: Relative weight of this language among the recipients.
        template: The reminder, with ``{name}``, ``{place}``, ``{date}`` and ``{time}``.
        names: First names to pick from.
        places: Where the appointments are.
    """

    code: str
    region: str
    share: float
    template: str
    names: tuple[str, ...]
    places: tuple[str, ...]


LANGUAGES: tuple[Language, ...] = (
    Language(
        code="en",
        region="GB",
        share=0.38,
        template="Hi {name}, a reminder of your appointment at {place} on {date} at {time}. "
        "Reply C to cancel or call us to move it.",
        names=("Olivia", "George", "Amelia", "Harry", "Isla", "Noah", "Ava", "Jack"),
        places=("Riverside Clinic", "the dental surgery", "Elm Street Practice"),
    ),
    Language(
        code="fr",
        region="FR",
        share=0.16,
        template="Bonjour {name}, rappel : votre rendez-vous à {place} le {date} à {time}. "
        "Répondez ANNULER pour l'annuler.",
        names=("Camille", "Léo", "Manon", "Hugo", "Chloé", "Lucas", "Inès", "Jules"),
        places=("la clinique du Parc", "la Maison de santé", "la pharmacie Voltaire"),
    ),
    Language(
        code="de",
        region="DE",
        share=0.15,
        template="Hallo {name}, wir erinnern an Ihren Termin in der {place} am {date} um "
        "{time} Uhr. Antworten Sie STORNO zum Absagen.",
        names=("Lukas", "Anna", "Jürgen", "Sophie", "Jonas", "Mia", "Maximilian", "Lea"),
        places=("Praxis am Markt", "Zahnarztpraxis Süd", "Hausarztpraxis Müller"),
    ),
    Language(
        code="es",
        region="ES",
        share=0.11,
        template="Hola {name}, le recordamos su cita en {place} el {date} a las {time}. "
        "Responda ANULAR para cancelarla.",
        # Accented names outside GSM-7 turn those reminders into UCS-2 messages.
        names=("Lucía", "Hugo", "Martina", "Mateo", "María", "Pablo", "Sofía", "Daniel"),
        places=("la clínica Centro", "el centro de salud Norte"),
    ),
    Language(
        code="zh",
        region="CN",
        share=0.07,
        template="{name}您好，提醒您{date} {time}在{place}的预约。回复C取消。",
        names=("王伟", "李娜", "张敏", "刘洋", "陈静"),
        places=("市第一医院", "和平诊所"),
    ),
    Language(
        code="ru",
        region="RU",
        share=0.07,
        template="Здравствуйте, {name}! Напоминаем о записи в {place} {date} в {time}. "
        "Ответьте C для отмены.",
        names=("Анна", "Иван", "Мария", "Дмитрий", "Ольга", "Сергей"),
        places=("клинику на Невском", "поликлинику № 3"),
    ),
    Language(
        code="el",
        region="GR",
        share=0.06,
        template="Γεια σας {name}, υπενθύμιση για το ραντεβού σας στο {place} στις {date}, "
        "ώρα {time}. Απαντήστε C για ακύρωση.",
        names=("Γιώργος", "Μαρία", "Νίκος", "Ελένη", "Κώστας"),
        places=("Ιατρείο Κέντρου", "Οδοντιατρείο Πλάκας"),
    ),
)
"""The campaign's languages, in the order their batches are sent."""

# Each a way a number in a real contact list turns out not to be one.
_INVALID_SHAPES = (
    "n/a",
    "call reception",
    "+33 6 {d2}",  # cut short
    "+44 7{d1}",
    "+34 6{d1}",
    "+999 {d6}",  # no such country calling code
    "+44 {d6}{d6}{d6}",  # far too long
)


@attrs.frozen
class Campaign:
    """A generated campaign: one batch per language.

    Args:
        batches: Language code to its batch (a template and its recipients).
        recipients: Recipients in all batches.
        invalid: How many of them were generated as invalid numbers.
    """

    batches: Mapping[str, Batch]
    recipients: int
    invalid: int

    def __iter__(self) -> Iterator[tuple[str, Batch]]:
        return iter(self.batches.items())


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def _number(rng: random.Random, region: str, seen: set[str]) -> str:
    """A possible mobile number of ``region`` not in ``seen``, written as a person would."""
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None  # every campaign region has mobile metadata
    national = str(example.national_number)
    # Keep the operator prefix, vary the subscriber part: possible, and never the example.
    # Distinct numbers, so that every recipient gets a message of their own (the bridge
    # sends a repeated number once).
    while True:
        candidate = national[:4] + _digits(rng, len(national) - 4)
        if candidate not in seen:
            seen.add(candidate)
            national = candidate
            break
    style = rng.random()
    if style < 0.5:
        return f"+{example.country_code}{national}"
    if style < 0.8:
        return f"+{example.country_code} {national[:3]} {national[3:6]} {national[6:]}"
    if region == "GB":
        # The national format: the bridge's default region makes it international.
        return f"0{national[:4]} {national[4:]}"
    return f"00{example.country_code} {national}"


def _invalid(rng: random.Random) -> str:
    shape = rng.choice(_INVALID_SHAPES)
    return shape.format(d1=_digits(rng, 1), d2=_digits(rng, 2), d6=_digits(rng, 6))


def build_campaign(recipients: int = 3000, *, seed: int = 2024) -> Campaign:
    """Generate the demo campaign.

    Args:
        recipients: Recipients across all languages (at least one per language).
        seed: Seeds every choice; the same seed gives the same campaign.

    Returns:
        The campaign, one :class:`~smsbridge.Batch` per language.

    Raises:
        ValueError: Fewer recipients than languages.
    """
    if recipients < len(LANGUAGES):
        raise ValueError(f"the demo needs at least {len(LANGUAGES)} recipients")
    rng = random.Random(seed)
    total_share = sum(language.share for language in LANGUAGES)
    counts = [max(1, int(recipients * lang.share / total_share)) for lang in LANGUAGES]
    counts[0] += recipients - sum(counts)  # rounding leftovers go to the largest list
    batches: dict[str, Batch] = {}
    invalid = 0
    seen: set[str] = set()
    for language, count in zip(LANGUAGES, counts, strict=True):
        people: list[Recipient] = []
        for _ in range(count):
            if rng.random() < 0.03:
                number = _invalid(rng)
                invalid += 1
            else:
                number = _number(rng, language.region, seen)
            day, hour, minute = rng.randint(1, 28), rng.randint(8, 17), rng.choice((0, 15, 30, 45))
            variables = {
                "name": rng.choice(language.names),
                "place": rng.choice(language.places),
                "date": f"{day:02d}/06",
                "time": f"{hour:02d}:{minute:02d}",
            }
            people.append(Recipient(number, variables))
        batches[language.code] = Batch(
            people,
            template=Template(language.template),
            reference=f"demo-{language.code}",
        )
    return Campaign(batches, recipients, invalid)
