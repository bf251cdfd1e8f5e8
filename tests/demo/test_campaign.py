"""The demo's campaign generator: deterministic, multilingual, with invalid numbers."""

from __future__ import annotations

from smsbridge import InvalidNumberError, NumberNormaliser, segment
from smsbridge.demo import LANGUAGES, REGION, build_campaign


def _flat(seed: int, size: int = 3000) -> list[tuple[str, str]]:
    campaign = build_campaign(size, seed=seed)
    return [
        (recipient.number, batch.render(recipient)) for _, batch in campaign for recipient in batch
    ]


def test_same_seed_same_campaign_other_seed_other() -> None:
    assert _flat(5) == _flat(5)
    assert _flat(5) != _flat(6)


def test_size_languages_and_invalid_share() -> None:
    campaign = build_campaign(3000, seed=1)
    assert [code for code, _ in campaign] == [language.code for language in LANGUAGES]
    assert sum(1 for _, batch in campaign for _ in batch) == 3000
    normalise = NumberNormaliser(REGION)
    invalid, valid = 0, set()
    for _, batch in campaign:
        for recipient in batch:
            try:
                valid.add(normalise(recipient.number))
            except InvalidNumberError:
                invalid += 1
    assert invalid == campaign.invalid
    assert 0.01 < invalid / 3000 < 0.06
    assert len(valid) == 3000 - invalid  # every valid number is distinct


def test_some_reminders_need_ucs2_and_most_do_not() -> None:
    encodings = [segment(body).encoding for _, body in _flat(3)]
    ucs2 = encodings.count("UCS-2")
    assert 0 < ucs2 < len(encodings) // 2


def test_at_least_one_recipient_per_language() -> None:
    campaign = build_campaign(len(LANGUAGES), seed=0)
    assert all(sum(1 for _ in batch) == 1 for _, batch in campaign)
