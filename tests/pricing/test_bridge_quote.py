"""``SmsBridge.quote``: the bridge's own providers priced before anything is sent."""

from __future__ import annotations

from smsbridge import Batch, SmsBridge
from smsbridge.pricing import PriceTable

from . import SAMPLE_CSV, Alpha, Beta, make


def test_bridge_quote_prices_its_providers_and_sends_nothing() -> None:
    alpha, beta = make(Alpha), make(Beta)
    table = PriceTable.from_text(SAMPLE_CSV)
    with SmsBridge([alpha, beta], store=":memory:", region="GB") as bridge:
        batch = Batch(["07700 900123", "+33612345678", "nonsense"], body="Hello")
        quote = bridge.quote(batch, table=table)
        only_beta = bridge.quote(batch, ["beta"], table=table)
        assert sum(bridge.store.counts().values()) == 0
    assert {p.provider for p in quote.providers} == {"alpha", "beta"}
    assert [p.provider for p in only_beta.providers] == ["beta"]
    assert quote.cheapest() is not None
