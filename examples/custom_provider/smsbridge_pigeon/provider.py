"""The Pigeon provider: options with a hidden token, and ``send``."""

from __future__ import annotations

import attrs

from smsbridge import Message, SendResult
from smsbridge.sdk import (
    Capabilities,
    EmulatedBy,
    Provider,
    ProviderOptions,
    Secret,
    provider_extras,
    raise_for_transport_status,
    raw_params,
    secret_converter,
)

from . import protocol
from .codes import CODES

__all__ = ["PigeonOptions", "PigeonProvider"]


@attrs.frozen(kw_only=True, slots=True)
class PigeonOptions(ProviderOptions):
    """Options of the Pigeon provider.

    Args:
        base_url: The API's address (``https://api.pigeon.example``).
        token: The account's API token; never shown in reprs, logs or errors.
    """

    base_url: str = "https://api.pigeon.example"
    token: Secret = attrs.field(converter=secret_converter)


class PigeonProvider(Provider):
    """Pigeon SMS over its JSON API.

    Args:
        options: The :class:`PigeonOptions`.
    """

    name = "pigeon"
    capabilities = Capabilities(
        max_recipients_per_request=protocol.MAX_RECIPIENTS,
        unicode=True,
        idempotency_key=False,
    )
    options_class = PigeonOptions
    emulated_by = EmulatedBy(".emulator:PigeonEmulator", options=("token",))
    options: PigeonOptions

    def __init__(self, options: ProviderOptions) -> None:
        super().__init__(options)
        self._http = self.http_client()

    def send(self, message: Message) -> list[SendResult]:
        """Send ``message`` to its recipients in one request.

        Returns:
            One result per recipient, in order; refusals of one number are results.

        Raises:
            InvalidMessageError: An ``extra`` option (Pigeon takes none) or a raw
                parameter naming a field of ours; nothing was sent.
            ProviderError: The request was refused (bad token, no credit, HTTP 5xx).
            UnknownOutcomeError: The request left and no usable answer came back.
            TransportError: The request never left.
        """
        # Options Pigeon does not know are refused by name, never dropped; raw ones go
        # into the JSON as given.
        provider_extras(message.options, provider=self.name, known=())
        raw = raw_params(message.options, provider=self.name, reserved=protocol.FIELDS)
        body = {**protocol.send_body(message.to, message.body, message.reference), **dict(raw)}
        response = self._http.request(
            "POST",
            protocol.SEND_PATH,
            json=body,
            headers={"Authorization": Secret(f"Bearer {self.options.token.reveal()}")},
        )
        if response.status >= 500:
            # An overloaded front end answers without Pigeon's JSON: nothing was taken.
            raise_for_transport_status(response)
        data = response.json()
        code = data.get("error") if isinstance(data, dict) else None
        if isinstance(code, str):
            raise CODES.error(code)
        return protocol.parse_send(data, message.to, message.reference)
