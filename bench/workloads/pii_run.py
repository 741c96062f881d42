"""The `pii` benchmark's child process: precision and recall of annotation/pii/detectors.py per type on
generated text with planted positives (valid checksums) and near-miss negatives (the same format with
a check digit off), then N generated items scanned (items/s, MB/s, peak RSS growth).

    python -m bench.workloads.pii_run <items> <per_type> <seed>   -> one JSON line
"""

from __future__ import annotations

import json
import random
import resource
import string
import sys
import time
from collections import Counter

WORDS = [
    "the",
    "battery",
    "screen",
    "delivery",
    "price",
    "quality",
    "support",
    "refund",
    "fast",
    "slow",
    "broken",
    "arrived",
    "today",
    "box",
    "customer",
    "service",
    "call",
    "back",
    "later",
    "order",
    "number",
    "version",
    "update",
    "weekend",
    "great",
    "terrible",
]
FILLERS = [  # digits that are not personal data: dates, times, prices, ids, versions
    lambda r: f"{r.randint(2000, 2030)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
    lambda r: f"{r.randint(0, 23)}:{r.randint(0, 59):02d}",
    lambda r: f"${r.randint(1, 9999)}.{r.randint(0, 99):02d}",
    lambda r: f"order {r.randint(1000, 999999)}",
    lambda r: f"v{r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 9)}",
    lambda r: f"{r.randint(1, 500)} items",
]


def _digits(r: random.Random, n: int) -> str:
    return "".join(r.choice(string.digits) for _ in range(n))


def _off(value: str, r: random.Random) -> str:
    """The value with its last digit changed (a failed checksum)."""
    for i in range(len(value) - 1, -1, -1):
        if value[i].isdigit():
            return value[:i] + str((int(value[i]) + r.randint(1, 9)) % 10) + value[i + 1 :]
    return value


def _generators():
    from stdnum import iban, luhn, verhoeff
    from stdnum.br import cpf
    from stdnum.de import idnr
    from stdnum.es import dni, nie
    from stdnum.fr import nir
    from stdnum.it import codicefiscale
    from stdnum.nl import bsn

    def card(r):
        body = r.choice("45") + _digits(r, 14)
        n = body + luhn.calc_check_digit(body)
        return " ".join(n[i : i + 4] for i in range(0, 16, 4))

    def iban_de(r):
        bban = _digits(r, 18)
        check = iban.calc_check_digits("DE00" + bban)
        n = f"DE{check}{bban}"
        return " ".join(n[i : i + 4] for i in range(0, len(n), 4))

    def iban_off(r):  # a wrong check pair
        v = iban_de(r)
        return v[:2] + f"{(int(v[2:4]) + r.randint(1, 90)) % 97 + 2:02d}"[-2:] + v[4:]

    def de_idnr(r):
        while True:
            base = _digits(r, 10)
            if base[0] == "0":
                continue
            for check in string.digits:
                if idnr.is_valid(base + check):
                    return base + check

    def fr_nir(r):
        base = (
            f"{r.choice('12')}{r.randint(40, 99)}{r.randint(1, 12):02d}{r.randint(1, 95):02d}{_digits(r, 6)}"
        )
        return base + nir.calc_check_digits(base)

    def nl_bsn(r):
        while True:
            v = _digits(r, 9)
            if v[0] != "0" and bsn.is_valid(v):
                return v

    def br_cpf(r):
        base = _digits(r, 9)
        v = base + cpf._calc_check_digits(base)
        return f"{v[:3]}.{v[3:6]}.{v[6:9]}-{v[9:]}"

    def aadhaar(r):
        base = str(r.randint(2, 9)) + _digits(r, 10)
        v = base + verhoeff.calc_check_digit(base)
        return f"{v[:4]} {v[4:8]} {v[8:]}"

    def it_cf(r):
        letters = "".join(r.choice(string.ascii_uppercase) for _ in range(6))
        month = r.choice("ABCDEHLMPRST")
        town = f"{r.choice(string.ascii_uppercase)}{r.randint(100, 999)}"
        base = f"{letters}{r.randint(40, 99)}{month}{r.randint(1, 28):02d}{town}"
        return base + codicefiscale.calc_check_digit(base)

    def cf_off(r):
        v = it_cf(r)
        return v[:-1] + chr((ord(v[-1]) - 65 + r.randint(1, 25)) % 26 + 65)

    def es_dni(r):
        base = _digits(r, 8)
        return base + dni.calc_check_digit(base)

    def dni_off(r):
        v = es_dni(r)
        return v[:-1] + chr((ord(v[-1]) - 65 + r.randint(1, 25)) % 26 + 65)

    def es_nie(r):
        base = r.choice("XYZ") + _digits(r, 7)
        return base + nie.calc_check_digit(base)

    def nie_off(r):
        v = es_nie(r)
        return v[:-1] + chr((ord(v[-1]) - 65 + r.randint(1, 25)) % 26 + 65)

    def phone(r):
        area = r.choice(["212", "415", "617", "303", "312", "206", "512"])
        return f"+1 {area}-{r.randint(200, 999)}-{r.randint(0, 9999):04d}"

    def phone_off(r):  # one digit short
        return phone(r)[:-1]

    def email(r):
        name = "".join(r.choice(string.ascii_lowercase) for _ in range(r.randint(3, 10)))
        return f"{name}.{r.randint(1, 99)}@{r.choice(['example.com', 'mail.org', 'corp.co.uk'])}"

    def email_off(r):
        return email(r).replace("@", " at ")

    def ipv4(r):
        return ".".join(str(r.randint(1, 254)) for _ in range(4))

    def ipv4_off(r):
        return f"{r.randint(256, 999)}." + ".".join(str(r.randint(0, 254)) for _ in range(3))

    def ssn(r):
        return f"{r.randint(1, 665):03d}-{r.randint(1, 99):02d}-{r.randint(1, 9999):04d}"

    def ssn_off(r):  # area 9xx is never issued
        return f"{r.randint(900, 999)}-{r.randint(1, 99):02d}-{r.randint(1, 9999):04d}"

    return {
        "EMAIL": (email, email_off),
        "PHONE": (phone, phone_off),
        "CREDIT_CARD": (card, lambda r: _off(card(r), r)),
        "IBAN": (iban_de, iban_off),
        "IP_ADDRESS": (ipv4, ipv4_off),
        "US_SSN": (ssn, ssn_off),
        "DE_TAX_ID": (de_idnr, lambda r: _off(de_idnr(r), r)),
        "FR_NIR": (fr_nir, lambda r: _off(fr_nir(r), r)),
        "ES_DNI": (es_dni, dni_off),
        "ES_NIE": (es_nie, nie_off),
        "IT_FISCAL_CODE": (it_cf, cf_off),
        "NL_BSN": (nl_bsn, lambda r: _off(nl_bsn(r), r)),
        "BR_CPF": (br_cpf, lambda r: _off(br_cpf(r), r)),
        "IN_AADHAAR": (aadhaar, lambda r: _off(aadhaar(r), r)),
    }


def _sentence(r: random.Random, planted: str | None) -> tuple[str, tuple[int, int] | None]:
    words = [r.choice(WORDS) for _ in range(r.randint(8, 20))]
    if r.random() < 0.5:
        words.insert(r.randrange(len(words)), r.choice(FILLERS)(r))
    if planted is None:
        return " ".join(words) + ".", None
    at = r.randrange(len(words) + 1)
    head = " ".join(words[:at])
    prefix = head + (" " if head else "") + "contact: "
    text = prefix + planted + ", " + " ".join(words[at:]) + "."
    return text, (len(prefix), len(prefix) + len(planted))


def accuracy(per_type: int, seed: int) -> dict:
    from annotation.pii.detectors import detect_text

    r = random.Random(seed)
    tp, fp, fn = Counter(), Counter(), Counter()
    for kind, (good, bad) in _generators().items():
        for i in range(2 * per_type):
            positive = i % 2 == 0
            text, span = _sentence(r, good(r) if positive else bad(r))
            found = detect_text(text)
            hit = False
            for start, end, found_kind, _ in found:
                if positive and found_kind == kind and (start, end) == span:
                    hit = True
                    tp[kind] += 1
                else:
                    fp[found_kind] += 1
            if positive and not hit:
                fn[kind] += 1
    # Plain text with fillers only: every finding there is a false positive.
    for _ in range(per_type * 5):
        text, _ = _sentence(r, None)
        for *_, found_kind, _ in detect_text(text):
            fp[found_kind] += 1
    out = {}
    for kind in _generators():
        precision = tp[kind] / (tp[kind] + fp[kind]) if tp[kind] + fp[kind] else 1.0
        recall = tp[kind] / (tp[kind] + fn[kind]) if tp[kind] + fn[kind] else 1.0
        out[kind] = {"precision": precision, "recall": recall, "tp": tp[kind], "fp": fp[kind], "fn": fn[kind]}
    return out


def throughput(items: int, seed: int) -> dict:
    from annotation.pii.detectors import detect_item

    r = random.Random(seed)
    generators = list(_generators().values())
    # 2,000 distinct texts cycled: generation is not what is measured; 5% carry a planted value.
    texts = []
    for i in range(2000):
        planted = r.choice(generators)[0](r) if i % 20 == 0 else None
        text = " ".join(_sentence(r, planted)[0] for _ in range(3))
        texts.append(text)
    chars = sum(len(texts[i % 2000]) for i in range(items))
    for t in texts[:50]:
        detect_item({"text": t})
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    findings = 0
    for i in range(items):
        findings += len(detect_item({"text": texts[i % 2000], "meta_note": "ok"}))
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "items": items,
        "seconds": seconds,
        "chars": chars,
        "findings": findings,
        "rss_growth_mb": (peak - baseline) / 1024,
    }


if __name__ == "__main__":
    count, per_type, seed_ = (int(a) for a in sys.argv[1:4])
    print(json.dumps({"accuracy": accuracy(per_type, seed_), "throughput": throughput(count, seed_)}))
