"""3GPP TS 23.038 annex A tables for the Indian languages (language ids 4-13).

Bengali, Gujarati, Hindi, Kannada, Malayalam, Oriya, Punjabi, Tamil, Telugu and Urdu each
have a locking shift table (A.3.4-A.3.13: the script, ASCII digits and punctuation, and
the small Latin letters) and a single shift table (A.2.4-A.2.13: the capital Latin
letters, the usual extension characters, the script's digits and signs).

Each table is eight rows, one per column of the standard's printed table: row ``n``
holds septets ``0xn0`` to ``0xnF`` as sixteen space-separated tokens.  A token is one
character written as itself, four hexadecimal digits naming a code point, ``SP``, ``LF``,
``CR`` or ``FF`` (space, line feed, carriage return, form feed), ``ESC`` for septet 0x1B
(the escape to the single shift table, never a character) or ``--`` for a position the
standard leaves undefined.  :mod:`smsbridge.encoding.national` parses them.

Positions were checked against four independent transcriptions of the standard.
Where one disagreed, the majority reading is used: septet 0x2C of every locking table is
a comma, 0x2E of Malayalam's a full stop, 0x3C of Kannada's single shift table ``[``,
and Bengali's single shift table defines 0x10-0x1F like its neighbours.  The sources
split evenly on ``€`` at 0x65 of Telugu's single shift table, which every other table
has; it is left out, because sending it could show a wrong character on a handset
built to the other reading, while leaving it out only costs septets.  Some single
shift tables list a character twice (``¡`` at 0x13 and 0x15, ``*`` at 0x0B and 0x18);
encoding uses the lower code, decoding accepts both.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "BENGALI_LOCKING",
    "BENGALI_SINGLE",
    "GUJARATI_LOCKING",
    "GUJARATI_SINGLE",
    "HINDI_LOCKING",
    "HINDI_SINGLE",
    "KANNADA_LOCKING",
    "KANNADA_SINGLE",
    "MALAYALAM_LOCKING",
    "MALAYALAM_SINGLE",
    "ORIYA_LOCKING",
    "ORIYA_SINGLE",
    "PUNJABI_LOCKING",
    "PUNJABI_SINGLE",
    "TAMIL_LOCKING",
    "TAMIL_SINGLE",
    "TELUGU_LOCKING",
    "TELUGU_SINGLE",
    "URDU_LOCKING",
    "URDU_SINGLE",
]

BENGALI_LOCKING: Final = (
    "0981 0982 0983 0985 0986 0987 0988 0989 098A 098B LF 098C -- CR -- 098F",  # 0x00
    "0990 -- -- 0993 0994 0995 0996 0997 0998 0999 099A ESC 099B 099C 099D 099E",  # 0x10
    "SP ! 099F 09A0 09A1 09A2 09A3 09A4 ) ( 09A5 09A6 , 09A7 . 09A8",  # 0x20
    "0 1 2 3 4 5 6 7 8 9 : ; -- 09AA 09AB ?",  # 0x30
    "09AC 09AD 09AE 09AF 09B0 -- 09B2 -- -- -- 09B6 09B7 09B8 09B9 09BC 09BD",  # 0x40
    "09BE 09BF 09C0 09C1 09C2 09C3 09C4 -- -- 09C7 09C8 -- -- 09CB 09CC 09CD",  # 0x50
    "09CE a b c d e f g h i j k l m n o",  # 0x60
    "p q r s t u v w x y z 09D7 09DC 09DD 09F0 09F1",  # 0x70
)
BENGALI_SINGLE: Final = (
    "@ 00A3 $ 00A5 00BF \" 00A4 % & ' FF * + -- - /",  # 0x00
    "< = > 00A1 ^ 00A1 _ # * 09E6 09E7 ESC 09E8 09E9 09EA 09EB",  # 0x10
    "09EC 09ED 09EE 09EF 09DF 09E0 09E1 09E2 { } 09E3 09F2 09F3 09F4 09F5 \\",  # 0x20
    "09F6 09F7 09F8 09F9 09FA -- -- -- -- -- -- -- [ ~ ] --",  # 0x30
    "| A B C D E F G H I J K L M N O",  # 0x40
    "P Q R S T U V W X Y Z -- -- -- -- --",  # 0x50
    "-- -- -- -- -- 20AC -- -- -- -- -- -- -- -- -- --",  # 0x60
    "-- -- -- -- -- -- -- -- -- -- -- -- -- -- -- --",  # 0x70
)
GUJARATI_LOCKING: Final = (
    "0A81 0A82 0A83 0A85 0A86 0A87 0A88 0A89 0A8A 0A8B LF 0A8C 0A8D CR -- 0A8F",  # 0x00
    "0A90 0A91 -- 0A93 0A94 0A95 0A96 0A97 0A98 0A99 0A9A ESC 0A9B 0A9C 0A9D 0A9E",  # 0x10
    "SP ! 0A9F 0AA0 0AA1 0AA2 0AA3 0AA4 ) ( 0AA5 0AA6 , 0AA7 . 0AA8",  # 0x20
    "0 1 2 3 4 5 6 7 8 9 : ; -- 0AAA 0AAB ?",  # 0x30
    "0AAC 0AAD 0AAE 0AAF 0AB0 -- 0AB2 0AB3 -- 0AB5 0AB6 0AB7 0AB8 0AB9 0ABC 0ABD",  # 0x40
    "0ABE 0ABF 0AC0 0AC1 0AC2 0AC3 0AC4 0AC5 -- 0AC7 0AC8 0AC9 -- 0ACB 0ACC 0ACD",  # 0x50
    "0AD0 a b c d e f g h i j k l m n o",  # 0x60
    "p q r s t u v w x y z 0AE0 0AE1 0AE2 0AE3 0AF1",  # 0x70
)
GUJARATI_SINGLE: Final = (
    "@ 00A3 $ 00A5 00BF \" 00A4 % & ' FF * + -- - /",  # 0x00
    "< = > 00A1 ^ 00A1 _ # * 0964 0965 ESC 0AE6 0AE7 0AE8 0AE9",  # 0x10
    "0AEA 0AEB 0AEC 0AED 0AEE 0AEF -- -- { } -- -- -- -- -- \\",  # 0x20
    "-- -- -- -- -- -- -- -- -- -- -- -- [ ~ ] --",  # 0x30
    "| A B C D E F G H I J K L M N O",  # 0x40
    "P Q R S T U V W X Y Z -- -- -- -- --",  # 0x50
    "-- -- -- -- -- 20AC -- -- -- -- -- -- -- -- -- --",  # 0x60
    "-- -- -- -- -- -- -- -- -- -- -- -- -- -- -- --",  # 0x70
)
HINDI_LOCKING: Final = (
    "0901 0902 0903 0905 0906 0907 0908 0909 090A 090B LF 090C 090D CR 090E 090F",  # 0x00
    "0910 0911 0912 0913 0914 0915 0916 0917 0918 0919 091A ESC 091B 091C 091D 091E",  # 0x10
    "SP ! 091F 0920 0921 0922 0923 0924 ) ( 0925 0926 , 0927 . 0928",  # 0x20
    "0 1 2 3 4 5 6 7 8 9 : ; 0929 092A 092B ?",  # 0x30
    "092C 092D 092E 092F 0930 0931 0932 0933 0934 0935 0936 0937 0938 0939 093C 093D",  # 0x40
    "093E 093F 0940 0941 0942 0943 0944 0945 0946 0947 0948 0949 094A 094B 094C 094D",  # 0x50
    "0950 a b c d e f g h i j k l m n o",  # 0x60
    "p q r s t u v w x y z 0972 097B 097C 097E 097F",  # 0x70
)
HINDI_SINGLE: Final = (
    "@ 00A3 $ 00A5 00BF \" 00A4 % & ' FF * + -- - /",  # 0x00
    "< = > 00A1 ^ 00A1 _ # * 0964 0965 ESC 0966 0967 0968 0969",  # 0x10
    "096A 096B 096C 096D 096E 096F 0951 0952 { } 0953 0954 0958 0959 095A \\",  # 0x20
    "095B 095C 095D 095E 095F 0960 0961 0962 0963 0970 0971 -- [ ~ ] --",  # 0x30
    "| A B C D E F G H I J K L M N O",  # 0x40
    "P Q R S T U V W X Y Z -- -- -- -- --",  # 0x50
    "-- -- -- -- -- 20AC -- -- -- -- -- -- -- -- -- --",  # 0x60
    "-- -- -- -- -- -- -- -- -- -- -- -- -- -- -- --",  # 0x70
)
KANNADA_LOCKING: Final = (
    "-- 0C82 0C83 0C85 0C86 0C87 0C88 0C89 0C8A 0C8B LF 0C8C -- CR 0C8E 0C8F",  # 0x00
    "0C90 -- 0C92 0C93 0C94 0C95 0C96 0C97 0C98 0C99 0C9A ESC 0C9B 0C9C 0C9D 0C9E",  # 0x10
    "SP ! 0C9F 0CA0 0CAA 0CA2 0CA3 0CA4 ) ( 0CA5 0CA6 , 0CA7 . 0CA8",  # 0x20
    "0 1 2 3 4 5 6 7 8 9 : ; -- 0CAA 0CAB ?",  # 0x30
    "0CAC 0CAD 0CAE 0CAF 0CB0 0CB1 0CB2 0CB3 -- 0CB5 0CB6 0CB7 0CB8 0CB9 0CBC 0CBD",  # 0x40
    "0CBE 0CBF 0CC0 0CC1 0CC2 0CC3 0CC4 -- 0CC6 0CC7 0CC8 -- 0CCA 0CCB 0CCC 0CCD",  # 0x50
    "0CD5 a b c d e f g h i j k l m n o",  # 0x60
    "p q r s t u v w x y z 0CD6 0CE0 0CE1 0CE2 0CE3",  # 0x70
)
KANNADA_SINGLE: Final = (
    "@ 00A3 $ 00A5 00BF \" 00A4 % & ' FF * + -- - /",  # 0x00
    "< = > 00A1 ^ 00A1 _ # * 0964 0965 ESC 0CE6 0CE7 0CE8 0CE9",  # 0x10
    "0CEA 0CEB 0CEC 0CED 0CEE 0CEF 0CDE 0CF1 { } 0CF2 -- -- -- -- \\",  # 0x20
    "-- -- -- -- -- -- -- -- -- -- -- -- [ ~ ] --",  # 0x30
    "| A B C D E F G H I J K L M N O",  # 0x40
    "P Q R S T U V W X Y Z -- -- -- -- --",  # 0x50
    "-- -- -- -- -- 20AC -- -- -- -- -- -- -- -- -- --",  # 0x60
    "-- -- -- -- -- -- -- -- -- -- -- -- -- -- -- --",  # 0x70
)
MALAYALAM_LOCKING: Final = (
    "-- 0D02 0D03 0D05 0D06 0D07 0D08 0D09 0D0A 0D0B LF 0D0C -- CR 0D0E 0D0F",  # 0x00
    "0D10 -- 0D12 0D13 0D14 0D15 0D16 0D17 0D18 0D19 0D1A ESC 0D1B 0D1C 0D1D 0D1E",  # 0x10
    "SP ! 0D1F 0D20 0D21 0D22 0D23 0D24 ) ( 0D25 0D26 , 0D27 . 0D28",  # 0x20
    "0 1 2 3 4 5 6 7 8 9 : ; -- 0D2A 0D2B ?",  # 0x30
    "0D2C 0D2D 0D2E 0D2F 0D30 0D31 0D32 0D33 0D34 0D35 0D36 0D37 0D38 0D39 -- 0D3D",  # 0x40
    "0D3E 0D3F 0D40 0D41 0D42 0D43 0D44 -- 0D46 0D47 0D48 -- 0D4A 0D4B 0D4C 0D4D",  # 0x50
    "0D57 a b c d e f g h i j k l m n o",  # 0x60
    "p q r s t u v w x y z 0D60 0D61 0D62 0D63 0D79",  # 0x70
)
MALAYALAM_SINGLE: Final = (
    "@ 00A3 $ 00A5 00BF \" 00A4 % & ' FF * + -- - /",  # 0x00
    "< = > 00A1 ^ 00A1 _ # * 0964 0965 ESC 0D66 0D67 0D68 0D69",  # 0x10
    "0D6A 0D6B 0D6C 0D6D 0D6E 0D6F 0D70 0D71 { } 0D72 0D73 0D74 0D75 0D7A \\",  # 0x20
    "0D7B 0D7C 0D7D 0D7E 0D7F -- -- -- -- -- -- -- [ ~ ] --",  # 0x30
    "| A B C D E F G H I J K L M N O",  # 0x40
    "P Q R S T U V W X Y Z -- -- -- -- --",  # 0x50
    "-- -- -- -- -- 20AC -- -- -- -- -- -- -- -- -- --",  # 0x60
    "-- -- -- -- -- -- -- -- -- -- -- -- -- -- -- --",  # 0x70
)
ORIYA_LOCKING: Final = (
    "0B01 0B02 0B03 0B05 0B06 0B07 0B08 0B09 0B0A 0B0B LF 0B0C -- CR -- 0B0F",  # 0x00
    "0B10 -- -- 0B13 0B14 0B15 0B16 0B17 0B18 0B19 0B1A ESC 0B1B 0B1C 0B1D 0B1E",  # 0x10
    "SP ! 0B1F 0B20 0B21 0B22 0B23 0B24 ) ( 0B25 0B26 , 0B27 . 0B28",  # 0x20
    "0 1 2 3 4 5 6 7 8 9 : ; -- 0B2A 0B2B ?",  # 0x30
    "0B2C 0B2D 0B2E 0B2F 0B30 -- 0B32 0B33 -- 0B35 0B36 0B37 0B38 0B39 0B3C 0B3D",  # 0x40
    "0B3E 0B3F 0B40 0B41 0B42 0B43 0B44 -- -- 0B47 0B48 -- -- 0B4B 0B4C 0B4D",  # 0x50
    "0B56 a b c d e f g h i j k l m n o",  # 0x60
    "p q r s t u v w x y z 0B57 0B60 0B61 0B62 0B63",  # 0x70
)
ORIYA_SINGLE: Final = (
    "@ 00A3 $ 00A5 00BF \" 00A4 % & ' FF * + -- - /",  # 0x00
    "< = > 00A1 ^ 00A1 _ # * 0964 0965 ESC 0B66 0B67 0B68 0B69",  # 0x10
    "0B6A 0B6B 0B6C 0B6D 0B6E 0B6F 0B5C 0B5D { } 0B5F 0B70 0B71 -- -- \\",  # 0x20
    "-- -- -- -- -- -- -- -- -- -- -- -- [ ~ ] --",  # 0x30
    "| A B C D E F G H I J K L M N O",  # 0x40
    "P Q R S T U V W X Y Z -- -- -- -- --",  # 0x50
    "-- -- -- -- -- 20AC -- -- -- -- -- -- -- -- -- --",  # 0x60
    "-- -- -- -- -- -- -- -- -- -- -- -- -- -- -- --",  # 0x70
)
PUNJABI_LOCKING: Final = (
    "0A01 0A02 0A03 0A05 0A06 0A07 0A08 0A09 0A0A -- LF -- -- CR -- 0A0F",  # 0x00
    "0A10 -- -- 0A13 0A14 0A15 0A16 0A17 0A18 0A19 0A1A ESC 0A1B 0A1C 0A1D 0A1E",  # 0x10
    "SP ! 0A1F 0A20 0A21 0A22 0A23 0A24 ) ( 0A25 0A26 , 0A27 . 0A28",  # 0x20
    "0 1 2 3 4 5 6 7 8 9 : ; -- 0A2A 0A2B ?",  # 0x30
    "0A2C 0A2D 0A2E 0A2F 0A30 -- 0A32 0A33 -- 0A35 0A36 -- 0A38 0A39 0A3C --",  # 0x40
    "0A3E 0A3F 0A40 0A41 0A42 -- -- -- -- 0A47 0A48 -- -- 0A4B 0A4C 0A4D",  # 0x50
    "0A51 a b c d e f g h i j k l m n o",  # 0x60
    "p q r s t u v w x y z 0A70 0A71 0A72 0A73 0A74",  # 0x70
)
PUNJABI_SINGLE: Final = (
    "@ 00A3 $ 00A5 00BF \" 00A4 % & ' FF * + -- - /",  # 0x00
    "< = > 00A1 ^ 00A1 _ # * 0964 0965 ESC 0A66 0A67 0A68 0A69",  # 0x10
    "0A6A 0A6B 0A6C 0A6D 0A6E 0A6F 0A59 0A5A { } 0A5B 0A5C 0A5E 0A75 -- \\",  # 0x20
    "-- -- -- -- -- -- -- -- -- -- -- -- [ ~ ] --",  # 0x30
    "| A B C D E F G H I J K L M N O",  # 0x40
    "P Q R S T U V W X Y Z -- -- -- -- --",  # 0x50
    "-- -- -- -- -- 20AC -- -- -- -- -- -- -- -- -- --",  # 0x60
    "-- -- -- -- -- -- -- -- -- -- -- -- -- -- -- --",  # 0x70
)
TAMIL_LOCKING: Final = (
    "-- 0B82 0B83 0B85 0B86 0B87 0B88 0B89 0B8A -- LF -- -- CR 0B8E 0B8F",  # 0x00
    "0B90 -- 0B92 0B93 0B94 0B95 -- -- -- 0B99 0B9A ESC -- 0B9C -- 0B9E",  # 0x10
    "SP ! 0B9F -- -- -- 0BA3 0BA4 ) ( -- -- , -- . 0BA8",  # 0x20
    "0 1 2 3 4 5 6 7 8 9 : ; 0BA9 0BAA -- ?",  # 0x30
    "-- -- 0BAE 0BAF 0BB0 0BB1 0BB2 0BB3 0BB4 0BB5 0BB6 0BB7 0BB8 0BB9 -- --",  # 0x40
    "0BBE 0BBF 0BC0 0BC1 0BC2 -- -- -- 0BC6 0BC7 0BC8 -- 0BCA 0BCB 0BCC 0BCD",  # 0x50
    "0BD0 a b c d e f g h i j k l m n o",  # 0x60
    "p q r s t u v w x y z 0BD7 0BF0 0BF1 0BF2 0BF9",  # 0x70
)
TAMIL_SINGLE: Final = (
    "@ 00A3 $ 00A5 00BF \" 00A4 % & ' FF * + -- - /",  # 0x00
    "< = > 00A1 ^ 00A1 _ # * 0964 0965 ESC 0BE6 0BE7 0BE8 0BE9",  # 0x10
    "0BEA 0BEB 0BEC 0BED 0BEE 0BEF 0BF3 0BF4 { } 0BF5 0BF6 0BF7 0BF8 0BFA \\",  # 0x20
    "-- -- -- -- -- -- -- -- -- -- -- -- [ ~ ] --",  # 0x30
    "| A B C D E F G H I J K L M N O",  # 0x40
    "P Q R S T U V W X Y Z -- -- -- -- --",  # 0x50
    "-- -- -- -- -- 20AC -- -- -- -- -- -- -- -- -- --",  # 0x60
    "-- -- -- -- -- -- -- -- -- -- -- -- -- -- -- --",  # 0x70
)
TELUGU_LOCKING: Final = (
    "0C01 0C02 0C03 0C05 0C06 0C07 0C08 0C09 0C0A 0C0B LF 0C0C -- CR 0C0E 0C0F",  # 0x00
    "0C10 -- 0C12 0C13 0C14 0C15 0C16 0C17 0C18 0C19 0C1A ESC 0C1B 0C1C 0C1D 0C1E",  # 0x10
    "SP ! 0C1F 0C20 0C21 0C22 0C23 0C24 ) ( 0C25 0C26 , 0C27 . 0C28",  # 0x20
    "0 1 2 3 4 5 6 7 8 9 : ; -- 0C2A 0C2B ?",  # 0x30
    "0C2C 0C2D 0C2E 0C2F 0C30 0C31 0C32 0C33 -- 0C35 0C36 0C37 0C38 0C39 -- 0C3D",  # 0x40
    "0C3E 0C3F 0C40 0C41 0C42 0C43 0C44 -- 0C46 0C47 0C48 -- 0C4A 0C4B 0C4C 0C4D",  # 0x50
    "0C55 a b c d e f g h i j k l m n o",  # 0x60
    "p q r s t u v w x y z 0C56 0C60 0C61 0C62 0C63",  # 0x70
)
TELUGU_SINGLE: Final = (
    "@ 00A3 $ 00A5 00BF \" 00A4 % & ' FF * + -- - /",  # 0x00
    "< = > 00A1 ^ 00A1 _ # * -- -- ESC 0C66 0C67 0C68 0C69",  # 0x10
    "0C6A 0C6B 0C6C 0C6D 0C6E 0C6F 0C58 0C59 { } 0C78 0C79 0C7A 0C7B 0C7C \\",  # 0x20
    "0C7D 0C7E 0C7F -- -- -- -- -- -- -- -- -- [ ~ ] --",  # 0x30
    "| A B C D E F G H I J K L M N O",  # 0x40
    "P Q R S T U V W X Y Z -- -- -- -- --",  # 0x50
    "-- -- -- -- -- -- -- -- -- -- -- -- -- -- -- --",  # 0x60
    "-- -- -- -- -- -- -- -- -- -- -- -- -- -- -- --",  # 0x70
)
URDU_LOCKING: Final = (
    "0627 0622 0628 067B 0680 067E 06A6 062A 06C2 067F LF 0679 067D CR 067A 067C",  # 0x00
    "062B 062C 0681 0684 0683 0685 0686 0687 062D 062E 062F ESC 068C 0688 0689 068A",  # 0x10
    "SP ! 068F 068D 0630 0631 0691 0693 ) ( 0699 0632 , 0696 . 0698",  # 0x20
    "0 1 2 3 4 5 6 7 8 9 : ; 069A 0633 0634 ?",  # 0x30
    "0635 0636 0637 0638 0639 0641 0642 06A9 06AA 06AB 06AF 06B3 06B1 0644 0645 0646",  # 0x40
    "06BA 06BB 06BC 0648 06C4 06D5 06C1 06BE 0621 06CC 06D0 06D2 064D 0650 064F 0657",  # 0x50
    "0654 a b c d e f g h i j k l m n o",  # 0x60
    "p q r s t u v w x y z 0655 0651 0653 0656 0670",  # 0x70
)
URDU_SINGLE: Final = (
    "@ 00A3 $ 00A5 00BF \" 00A4 % & ' FF * + -- - /",  # 0x00
    "< = > 00A1 ^ 00A1 _ # * 0600 0601 ESC 06F0 06F1 06F2 06F3",  # 0x10
    "06F4 06F5 06F6 06F7 06F8 06F9 060C 060D { } 060E 060F 0610 0611 0612 \\",  # 0x20
    "0613 0614 061B 061F 0640 0652 0658 066B 066C 0672 0673 06CD [ ~ ] 06D4",  # 0x30
    "| A B C D E F G H I J K L M N O",  # 0x40
    "P Q R S T U V W X Y Z -- -- -- -- --",  # 0x50
    "-- -- -- -- -- 20AC -- -- -- -- -- -- -- -- -- --",  # 0x60
    "-- -- -- -- -- -- -- -- -- -- -- -- -- -- -- --",  # 0x70
)
