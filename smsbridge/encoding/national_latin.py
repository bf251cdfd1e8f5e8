"""3GPP TS 23.038 annex A tables for Turkish, Spanish and Portuguese (language ids 1-3).

Each table is eight rows, one per column of the standard's printed table: row ``n``
holds septets ``0xn0`` to ``0xnF`` as sixteen space-separated tokens.  A token is one
character written as itself, four hexadecimal digits naming a code point, ``SP``, ``LF``,
``CR`` or ``FF`` (space, line feed, carriage return, form feed), ``ESC`` for septet 0x1B
(the escape to the single shift table, never a character) or ``--`` for a position the
standard leaves undefined.  :mod:`smsbridge.encoding.national` parses them.

Spanish has a single shift table only (A.3.2 is void).  Positions were checked against
three independent implementations of the standard; they agree on every one.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "PORTUGUESE_LOCKING",
    "PORTUGUESE_SINGLE",
    "SPANISH_SINGLE",
    "TURKISH_LOCKING",
    "TURKISH_SINGLE",
]

# A.3.1 and A.2.1
TURKISH_LOCKING: Final = (
    "@ £ $ ¥ € é ù ı ò Ç LF Ğ ğ CR Å å",  # 0x00
    "Δ _ Φ Γ Λ Ω Π Ψ Σ Θ Ξ ESC Ş ş ß É",  # 0x10
    "SP ! \" # ¤ % & ' ( ) * + , - . /",  # 0x20
    "0 1 2 3 4 5 6 7 8 9 : ; < = > ?",  # 0x30
    "İ A B C D E F G H I J K L M N O",  # 0x40
    "P Q R S T U V W X Y Z Ä Ö Ñ Ü §",  # 0x50
    "ç a b c d e f g h i j k l m n o",  # 0x60
    "p q r s t u v w x y z ä ö ñ ü à",  # 0x70
)
TURKISH_SINGLE: Final = (
    "-- -- -- -- -- -- -- -- -- -- FF -- -- -- -- --",  # 0x00
    "-- -- -- -- ^ -- -- -- -- -- -- ESC -- -- -- --",  # 0x10
    "-- -- -- -- -- -- -- -- { } -- -- -- -- -- \\",  # 0x20
    "-- -- -- -- -- -- -- -- -- -- -- -- [ ~ ] --",  # 0x30
    "| -- -- -- -- -- -- Ğ -- İ -- -- -- -- -- --",  # 0x40
    "-- -- -- Ş -- -- -- -- -- -- -- -- -- -- -- --",  # 0x50
    "-- -- -- ç -- € -- ğ -- ı -- -- -- -- -- --",  # 0x60
    "-- -- -- ş -- -- -- -- -- -- -- -- -- -- -- --",  # 0x70
)

# A.2.2
SPANISH_SINGLE: Final = (
    "-- -- -- -- -- -- -- -- -- ç FF -- -- -- -- --",  # 0x00
    "-- -- -- -- ^ -- -- -- -- -- -- ESC -- -- -- --",  # 0x10
    "-- -- -- -- -- -- -- -- { } -- -- -- -- -- \\",  # 0x20
    "-- -- -- -- -- -- -- -- -- -- -- -- [ ~ ] --",  # 0x30
    "| Á -- -- -- -- -- -- -- Í -- -- -- -- -- Ó",  # 0x40
    "-- -- -- -- -- Ú -- -- -- -- -- -- -- -- -- --",  # 0x50
    "-- á -- -- -- € -- -- -- í -- -- -- -- -- ó",  # 0x60
    "-- -- -- -- -- ú -- -- -- -- -- -- -- -- -- --",  # 0x70
)

# A.3.3 and A.2.3
PORTUGUESE_LOCKING: Final = (
    "@ £ $ ¥ ê é ú í ó ç LF Ô ô CR Á á",  # 0x00
    "Δ _ ª Ç À ∞ ^ \\ € Ó | ESC Â â Ê É",  # 0x10
    "SP ! \" # º % & ' ( ) * + , - . /",  # 0x20
    "0 1 2 3 4 5 6 7 8 9 : ; < = > ?",  # 0x30
    "Í A B C D E F G H I J K L M N O",  # 0x40
    "P Q R S T U V W X Y Z Ã Õ Ú Ü §",  # 0x50
    "~ a b c d e f g h i j k l m n o",  # 0x60
    "p q r s t u v w x y z ã õ ` ü à",  # 0x70
)
PORTUGUESE_SINGLE: Final = (
    "-- -- -- -- -- ê -- -- -- ç FF Ô ô -- Á á",  # 0x00
    "-- -- Φ Γ ^ Ω Π Ψ Σ Θ -- ESC -- -- -- Ê",  # 0x10
    "-- -- -- -- -- -- -- -- { } -- -- -- -- -- \\",  # 0x20
    "-- -- -- -- -- -- -- -- -- -- -- -- [ ~ ] --",  # 0x30
    "| À -- -- -- -- -- -- -- Í -- -- -- -- -- Ó",  # 0x40
    "-- -- -- -- -- Ú -- -- -- -- -- Ã Õ -- -- --",  # 0x50
    "-- Â -- -- -- € -- -- -- í -- -- -- -- -- ó",  # 0x60
    "-- -- -- -- -- ú -- -- -- -- -- ã õ -- -- â",  # 0x70
)
