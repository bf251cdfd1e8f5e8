"""What national language tables save in parts, and what considering them costs in time.

Run with ``python bench/bench_national.py [--messages N] [--repeat N] [--seed N]``.  The
corpus comes from a fixed seed: Turkish, Portuguese and Spanish notifications, Hindi and
Tamil one-time codes and reminders, and the mixed corpus of ``bench_segmentation.py``
(English, French, German, invoices, Russian, Chinese, emoji...) that the tables cannot
help.  For each category it prints the parts without tables and with every table
allowed, and the throughput of ``segment`` both ways as a ratio measured in the same run
(best of ``--repeat`` passes).  The script exits non-zero only if it crashes.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_segmentation import best_time, build_corpus
from smsbridge.encoding import NATIONAL_LANGUAGES, segment

ALL = tuple(NATIONAL_LANGUAGES)
TURKISH_NAMES = ["Ayşe", "Çağrı", "Gülşen", "İbrahim", "Şule", "Oğuz"]
HINDI_NAMES = ["राहुल", "प्रिया", "अमित", "सुनीता"]


def turkish(rng: random.Random) -> str:
    name = rng.choice(TURKISH_NAMES)
    day = rng.randint(1, 28)
    return rng.choice(
        [
            f"Sayın {name}, {day} Ağustos tarihli faturanız düzenlenmiştir. Son ödeme "
            f"günü {day + 1} Ağustos. Şubelerimizde ya da çağrı merkezimizde ödeme "
            "yapabilirsiniz. İyi günler dileriz.",
            f"Merhaba {name}, siparişiniz kargoya verildi. Takip numarası "
            f"{rng.randrange(10**9):09d}. Teslimat sırasında kimliğinizi göstermeniz "
            "gerekmektedir. Sorularınız için bize ulaşın.",
            f"{name}, doğrulama kodunuz {rng.randrange(10**6):06d}.",
        ]
    )


def portuguese(rng: random.Random) -> str:
    return rng.choice(
        [
            f"Olá! A sua encomenda nº {rng.randrange(10**4)} já está a caminho. Não se "
            "esqueça: a entrega é feita amanhã entre as 9h e as 13h. Obrigado pela "
            "preferência e até à próxima.",
            "Atenção: a sua fatura de março está disponível. Pagamento até dia "
            f"{rng.randint(1, 28)}. Em caso de dúvida, contacte o serviço de apoio ao "
            "cliente através da aplicação ou nas nossas lojas. Obrigado pela confiança.",
        ]
    )


def spanish(rng: random.Random) -> str:
    return (
        f"Recordatorio: su cita médica es el {rng.randint(1, 28)} de junio a las "
        f"{rng.randint(8, 18)}:30 en la consulta nº {rng.randint(1, 40)}. Si no puede "
        "asistir, llámenos con antelación. Traiga su tarjeta sanitaria y la última "
        "analítica. Gracias por su colaboración y atención."
    )


def hindi(rng: random.Random) -> str:
    name = rng.choice(HINDI_NAMES)
    code = f"{rng.randrange(10**6):06d}"
    return rng.choice(
        [
            f"नमस्ते {name}, आपका ओटीपी {code} है। कृपया इसे किसी के साथ साझा न करें।",
            f"प्रिय {name}, आपकी अपॉइंटमेंट कल सुबह 10 बजे है। कृपया समय से 15 मिनट पहले "
            "पहुँचें और अपना पहचान पत्र साथ लाएँ। धन्यवाद।",
        ]
    )


def tamil(rng: random.Random) -> str:
    return (
        f"வணக்கம், உங்கள் சரிபார்ப்புக் குறியீடு {rng.randrange(10**6):06d}. இதை யாருடனும் பகிர வேண்டாம். நன்றி."
    )


NATIONAL: list[tuple[str, Callable[[random.Random], str]]] = [
    ("turkish", turkish),
    ("portuguese", portuguese),
    ("spanish", spanish),
    ("hindi", hindi),
    ("tamil", tamil),
]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=500, help="per national category")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261205)
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    corpus = {name: [make(rng) for _ in range(args.messages)] for name, make in NATIONAL}
    corpus["mixed"] = [
        t for texts in build_corpus(args.messages, args.seed).values() for t in texts
    ]
    for texts in corpus.values():  # warm the table caches outside the timing
        for text in texts[:20]:
            segment(text, national_languages=ALL)

    header = (
        f"{'category':<12}{'msgs':>6}{'parts':>8}{'w/tables':>10}{'saved':>8}"
        f"{'plain/s':>11}{'tables/s':>11}{'ratio':>8}"
    )
    print(header)
    print("-" * len(header))
    for name, texts in corpus.items():
        plain = sum(segment(t).part_count for t in texts)
        national = sum(segment(t, national_languages=ALL).part_count for t in texts)
        ours = best_time(partial(segment, national_languages=()), texts, args.repeat)
        theirs = best_time(partial(segment, national_languages=ALL), texts, args.repeat)
        saved = 1 - national / plain if plain else 0.0
        print(
            f"{name:<12}{len(texts):>6}{plain:>8}{national:>10}{saved:>8.0%}"
            f"{len(texts) / ours:>11,.0f}{len(texts) / theirs:>11,.0f}{ours / theirs:>7.2f}x"
        )
    print("\nratio: throughput with every table allowed, relative to none (same run).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
