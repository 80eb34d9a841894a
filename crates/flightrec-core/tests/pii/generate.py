#!/usr/bin/env python3
"""Writes corpus.txt: the labelled personal-data corpus the compliance
tests read (tests/pii_corpus.rs, tests/compliance_packs.rs).

The numbers come from Faker and are labelled by python-stdnum (and HMRC's published NINO rules), two
implementations independent of flightrec's own, so the corpus checks our
detectors against outside truth rather than against themselves. The
hand-written cases (boundary shapes, look-alikes) are in HAND below.

    python3 -m venv /tmp/gen
    /tmp/gen/bin/pip install python-stdnum==1.20 faker==30.8.2
    /tmp/gen/bin/python generate.py > corpus.txt

Format, one case a line: every value a detector must find is written
⟦detector:value⟧; a line with none is a negative (nothing may fire).
"""

import random

from faker import Faker
from stdnum import iban as std_iban
from stdnum import luhn as std_luhn
from stdnum.us import ssn as std_ssn

SEED = 17
rng = random.Random(SEED)
Faker.seed(SEED)
fake = Faker("en_US")


def mark(detector, value):
    return f"⟦{detector}:{value}⟧"


def fullwidth(text):
    return "".join(chr(ord(c) - ord("0") + 0xFF10) if c.isdigit() else c for c in text)


def grouped(digits, sizes, sep):
    out, at = [], 0
    for size in sizes:
        out.append(digits[at : at + size])
        at += size
    return sep.join(out)


def luhn_complete(prefix, length):
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return body + std_luhn.calc_check_digit(body)


# --- payment cards -------------------------------------------------------

CARD_TEMPLATES = [
    "charge {} for the renewal",
    "customer paid with card {} yesterday",
    '{{"card_number": "{}", "exp": "09/28"}}',
    "retrying payment: pan={} declined (insufficient funds)",
    "https://pay.example.com/checkout?card={}&amount=1200",
    "Card on file: {}. Please confirm.",
    "tool stripe:create_charge input card {} cvc ***",
    "{}",
]


def cards():
    lines = []
    issuers = [("4", 16), ("4", 13), ("51", 16), ("55", 16), ("2221", 16), ("2720", 16),
               ("34", 15), ("37", 15), ("6011", 16), ("65", 16), ("644", 16), ("3528", 16),
               ("3589", 16), ("36", 14), ("62", 16), ("4", 19)]
    for n in range(48):
        prefix, length = issuers[n % len(issuers)]
        number = luhn_complete(prefix, length)
        assert std_luhn.is_valid(number)
        if length == 16 and n % 3 == 0:
            shown = grouped(number, [4, 4, 4, 4], " ")
        elif length == 16 and n % 3 == 1:
            shown = grouped(number, [4, 4, 4, 4], "-")
        elif length == 15 and n % 2 == 0:
            shown = grouped(number, [4, 6, 5], " ")
        else:
            shown = number
        lines.append(CARD_TEMPLATES[n % len(CARD_TEMPLATES)].format(mark("credit_card", shown)))
    # Faker's own card numbers, each network.
    for kind in ["visa16", "visa13", "mastercard", "amex", "discover", "jcb16", "jcb15", "diners", "visa19"]:
        for _ in range(3):
            number = fake.credit_card_number(card_type=kind)
            assert std_luhn.is_valid(number), number
            lines.append(f"paid by {kind.rstrip('0123456789')} {mark('credit_card', number)} today")
    # Boundary shapes.
    lines += [
        f"card {mark('credit_card', '4111 1111 1111 1111')} 123 ok",
        f"card {mark('credit_card', '4111111111111111')} 123 12/27",
        f"card {mark('credit_card', '5500-0000-0000-0004')}-123",
        f"pan {mark('credit_card', '3782 822463 10005')} cvv 1234",
        f"two cards: {mark('credit_card', '4111 1111 1111 1111')} and {mark('credit_card', '5555 5555 5555 4444')}",
        f"ref 12 {mark('credit_card', '4111 1111 1111 1111')}",
        f"full-width {mark('credit_card', fullwidth('4111 1111 1111 1111'))} from the form",
        f"{mark('credit_card', fullwidth('5555555555554444'))}",
        f"order-{mark('credit_card', '4012888888881881')}",
        f"/v1/cards/{mark('credit_card', '4242424242424242')}/refund",
        "x" * 5000 + f" {mark('credit_card', '4000056655665556')} " + "y" * 5000,
    ]
    negatives = []
    for n in range(40):
        prefix, length = issuers[n % len(issuers)]
        good = luhn_complete(prefix, length)
        bad = good[:-1] + str((int(good[-1]) + 1 + n % 8) % 10)
        assert not std_luhn.is_valid(bad)
        shown = grouped(bad, [4, 4, 4, 4], " ") if length == 16 and n % 2 else bad
        negatives.append(CARD_TEMPLATES[n % len(CARD_TEMPLATES)].format(shown))
    negatives += [
        "order number 1234 5678 9012 3456 shipped",
        "timestamp 1732276800000 ms",
        "trace 41111111111111111234 in the log",
        "tx_4111111111111111 settled",
        "cust4111111111111111 is a customer id",
        "counts 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1",
        "scores 41 11 11 11 11 11 11 11",
        "card in Devanagari digits ४१११ ११११ ११११ ११११",
        "Arabic-Indic ٤١١١١١١١١١١١١١١١",
        "refund to DE89 3704 0044 0532 0130 01 today",
        "account GB82 WEST 1234 5698 7654 33",
        "tracking 1Z999AA10123456784 shipped",
        "isbn 978-3-16-148410-0 in the catalogue",
        f"phone {mark('phone', '+1 415 555 0132')} ext 4",
        "version 4.1.11.1111 released",
        "uuid 41111111-1111-4111-8111-111111111111",
    ]
    return lines, negatives


# --- IBANs ---------------------------------------------------------------

IBAN_LOCALES = ["de_DE", "en_GB", "fr_FR", "nl_NL", "es_ES", "it_IT", "pl_PL", "pt_PT",
                "fi_FI", "no_NO", "sv_SE", "da_DK", "de_AT", "de_CH", "nl_BE", "en_IE",
                "cs_CZ", "sk_SK", "hu_HU", "ro_RO", "bg_BG", "hr_HR", "lt_LT", "lv_LV",
                "et_EE", "el_GR", "tr_TR", "az_AZ", "ka_GE", "uk_UA"]

IBAN_TEMPLATES = [
    "refund to {} today",
    "wire EUR 1,200.00 to {} by Friday",
    "IBAN: {}",
    '{{"iban": "{}", "bic": "DEUTDEFF"}}',
    "beneficiary account {} (verified)",
    "{} EUR",
]


def paper(number):
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def with_check_digits(country, bban):
    return country + std_iban.calc_check_digits(country + "00" + bban) + bban


def ibans():
    lines, negatives = [], []
    for n, locale in enumerate(IBAN_LOCALES):
        number = Faker(locale).iban()
        if not std_iban.is_valid(number):
            continue
        shown = paper(number) if n % 2 else number
        lines.append(IBAN_TEMPLATES[n % len(IBAN_TEMPLATES)].format(mark("iban", shown)))
        bad = number[:2] + f"{(int(number[2:4]) + 1) % 100:02d}" + number[4:]
        if not std_iban.is_valid(bad):
            negatives.append(IBAN_TEMPLATES[n % len(IBAN_TEMPLATES)].format(paper(bad) if n % 2 else bad))
    # Countries added to the registry lately (and missing from hand-written
    # tables): Libya, Sudan, Falkland Islands, Mongolia, Nicaragua, Oman,
    # Somalia, Yemen, Djibouti, Burundi, Russia.
    for country, bban in [("LY", "002048000020100120361"), ("SD", "29010501234001"),
                          ("FK", "SC123456789012"), ("MN", "1234123456789123"),
                          ("NI", "BAPR00000013000003558124"), ("OM", "018001234567890123"),
                          ("SO", "1000001001000100141"), ("YE", "CBYE0001018861234567891234"),
                          ("DJ", "0001000000000154000100186"), ("BI", "10000100010000332045181"),
                          ("RU", "044525225040702810838155000145")]:
        number = with_check_digits(country, bban)
        if std_iban.is_valid(number):
            lines.append(f"payout account {mark('iban', number)} confirmed")
    lines += [
        f"refund to {mark('iban', 'DE89 3704 0044 0532 0130 00')} EUR",
        f"{mark('iban', 'DE89 3704 0044 0532 0130 00')} EUR 100",
        f"IBAN {mark('iban', 'GB82WEST12345698765432')} BIC WESTGB2L",
        f"from {mark('iban', 'FR14 2004 1010 0505 0001 3M02 606')} to {mark('iban', 'NL91 ABNA 0417 1643 00')}",
        f"iban={mark('iban', 'CH9300762011623852957')}&amount=10",
        f"full-width {mark('iban', 'DE' + fullwidth('89370400440532013000'))}",
    ]
    negatives += [
        "refund to DE89 3704 0044 0532 0130 01 today",
        "IBAN GB82WEST12345698765433",
        "NL91ABNA0417164301",
        "XX89 3704 0044 0532 0130 00 is not a country",
        "DE89 3704 0044 0532 0130 is too short",
        "part number AB12 CDEF 3456 7890 12",
        "build ID US12 3456 7890 1234 5678 90",
        "the key is DE89370400440532013000X9Y8 in the vault",
    ]
    return lines, negatives


# --- the rest ------------------------------------------------------------

def ssns():
    templates = ["Patient SSN {} verified at intake", "ssn={}", "social security number: {}",
                 '{{"ssn": "{}"}}', "the applicant's SSN is {}."]
    lines, negatives = [], []
    for n in range(30):
        number = fake.ssn()
        assert std_ssn.is_valid(number), number
        shown = number if n % 3 else number.replace("-", " ")
        lines.append(templates[n % len(templates)].format(mark("us_ssn", shown)))
    negatives += [
        "area 666 is never issued: 666-45-6789", "area 900+ is never issued: 912-34-5678",
        "group 00 is never issued: 123-00-4567", "serial 0000 is never issued: 123-45-0000",
        "area 000: 000-12-3456", "ticket 078-05-11200 is longer", "ISBN 0-306-40615-2",
        "date 2024-11-22", f"phone {mark('phone', '555-123-4567')}", "mixed 123-45 6789 separators",
        "zip 94107-1234", "part 123-4567-89",
    ]
    return lines, negatives


def emails():
    lines = [f"Forward the complaint from {mark('email', fake.email())} to legal" for _ in range(14)]
    lines += [f"cc: {mark('email', Faker('de_DE').free_email())}" for _ in range(6)]
    lines += [
        f"<{mark('email', 'jane.doe+invoices@example.co.uk')}>",
        f"mailto:{mark('email', 'support@sub.example.org')}",
        f'{{"to": "{mark("email", "o.brien@example.ie")}"}}',
        f"reply to {mark('email', 'first_last-99@mail.example.com')}.",
        f"{mark('email', 'A.B@EXAMPLE.COM')} in upper case",
    ]
    negatives = [
        "user @channel please review", "ping @here when done", "foo@bar has no domain",
        "name at example dot com", "decorator @app.route('/x')", "npm install @scope/package@1.2.3",
        "price: 3 @ 4.99", "css @media (max-width: 600px)", "handle @jane_doe on the forum",
        "user@localhost", "version 1.2.3@beta",
    ]
    return lines, negatives


def phones():
    lines = []
    for locale, prefix in [("en_GB", "+44"), ("de_DE", "+49"), ("fr_FR", "+33"), ("nl_NL", "+31"),
                           ("es_ES", "+34"), ("it_IT", "+39")]:
        for _ in range(3):
            digits = "".join(rng.choice("0123456789") for _ in range(9))
            digits = str(rng.randint(1, 9)) + digits[1:]
            lines.append(f"call the customer on {mark('phone', prefix + ' ' + grouped(digits, [3, 3, 3], ' '))}")
    for _ in range(10):
        area = rng.randint(201, 989)
        exchange = rng.randint(200, 999)
        line = rng.randint(0, 9999)
        form = rng.choice(["({a}) {e}-{l:04d}", "{a}-{e}-{l:04d}", "{a}.{e}.{l:04d}", "+1 {a} {e} {l:04d}"])
        lines.append(f"emergency contact {mark('phone', form.format(a=area, e=exchange, l=line))}")
    lines += [
        f"Kundentelefon: {mark('phone', '+49 30 901820 15')}",
        f"tel:{mark('phone', '+14155550132')}",
        f"call {mark('phone', '(415) 555-0132')} after 5pm",
        f"whatsapp {mark('phone', '+44 7700 900123')}",
    ]
    negatives = [
        "call extension 5501 for the pharmacy", "version 1.24.3 of the scheduler",
        "the sum is +1 2 3", "555-0199 is too short", "build 2024.11.22.1",
        "temperature +21.5 C", "score 3-2 after extra time", "ratio 16:9",
        "offset +0100 in the timestamp", "(c) 2024 Example Corp",
        "oid 14.115.231.1454.1 is no phone number",
    ]
    return lines, negatives


def ips():
    lines = [f"login from {mark('ip_address', fake.ipv4_public())} at 09:14" for _ in range(20)]
    lines += [f"connected to {mark('ip_address', fake.ipv4_private())}:5432" for _ in range(8)]
    lines += [f"X-Forwarded-For: {mark('ip_address', '81.2.69.160')}, {mark('ip_address', '10.0.0.1')}"]
    negatives = [
        "the ip address 999.1.1.1 is impossible", "version 1.2.3 of the agent",
        "256.256.256.256 is out of range", "pi is 3.14159", "release 2024.11.22",
        "1.2.3.4.5 is not an address", "ipv6 ::1 is local",
    ]
    return lines, negatives


def dobs():
    lines = []
    labels = ["DOB: {}", "date of birth {} on the form", "born on {} in Ohio", "birthdate={}", "D.O.B. {}"]
    for n in range(25):
        d = fake.date_of_birth(minimum_age=1, maximum_age=99)
        shown = [d.strftime("%Y-%m-%d"), d.strftime("%m/%d/%Y"), d.strftime("%d.%m.%Y")][n % 3]
        lines.append(labels[n % len(labels)].format(mark("date_of_birth", shown)))
    negatives = [
        "the build 2024-11-22 passed on node 7", "DOB: 1985-02-29 is not a real date",
        "date of birth 31.02.1990 does not exist", "deployed on 07/04/2024", "born 1800-01-01 is too long ago",
        "invoice date 2023-05-17", "DOB unknown", "the meeting is 12.03.2025",
    ]
    return lines, negatives


def mrns():
    lines = []
    for n in range(25):
        value = rng.choice(["A", "MR", "", "H-"]) + "".join(rng.choice("0123456789") for _ in range(rng.randint(5, 9)))
        label = ["MRN: {}", "medical record no. {}", "MRN {}", "medical record number: {}", "Medical Record # {}"][n % 5]
        lines.append(f"Pulled chart for {label.format(mark('medical_record_number', value))} before the consult")
    negatives = [
        "MRN: ABCDEFGH has no digits, it is a placeholder", "the MRN field is empty",
        "medical record pending", "MRN lookup failed", "MRNs are assigned at intake",
    ]
    return lines, negatives


def passports():
    lines = []
    for n in range(25):
        value = ("" if n % 2 else rng.choice("ACEKZ")) + "".join(rng.choice("0123456789") for _ in range(9 if n % 2 else 8))
        label = ["passport number: {}", "Passport No. {}", "passport {}", "passport #{}", "passport num {}"][n % 5]
        lines.append(f"traveller {label.format(mark('us_passport', value))} checked")
    negatives = [
        "passport photo uploaded", "passport 12345 is too short", "passport expired in 2021",
        "renew the passport before travel", "passport control at gate 12",
    ]
    return lines, negatives


def nino_is_valid(number):
    """HMRC's rules (stdnum has no NINO module): no D, F, I, Q, U or V in
    the prefix, no O second, none of the unissued prefixes, suffix A-D."""
    prefix, suffix = number[:2], number[8]
    return (prefix[0] not in "DFIQUV" and prefix[1] not in "DFIOQUV"
            and prefix not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"} and suffix in "ABCD")


def ninos():
    lines = []
    letters = "ABCEGHJKLMNPRSTWXYZ"
    while len(lines) < 25:
        prefix = rng.choice(letters) + rng.choice(letters.replace("O", ""))
        number = prefix + "".join(rng.choice("0123456789") for _ in range(6)) + rng.choice("ABCD")
        if not nino_is_valid(number):
            continue
        shown = f"{number[:2]} {number[2:4]} {number[4:6]} {number[6:8]} {number[8]}" if len(lines) % 2 else number
        lines.append(f"NI number {mark('uk_nino', shown)} on the payslip")
    negatives = [
        "NI number GB 12 34 56 C is not issued", "NI number BG123456A is not issued",
        "NI number AB 12 34 56 E has a bad suffix", "DQ123456C uses a letter never issued",
        "order ZZ123456A is a placeholder",
    ]
    return lines, negatives


# --- text with nothing in it ----------------------------------------------

HAND_NEGATIVES = [
    "uuid 0193a0b2-7c4e-7d21-9f3a-2b8c4d5e6f70",
    "commit 4b825dc642cb6eb9a060e54bf8d69288fbee4904",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "invoice INV-2024-000123 total 1,234.56 EUR",
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
    "SELECT id, total FROM orders WHERE created_at > '2024-01-01' LIMIT 100",
    "Traceback (most recent call last): File \"agent.py\", line 42, in run",
    "HTTP/1.1 200 OK content-length: 1532",
    "The model returned 3 candidate plans; plan 2 was chosen.",
    "retrying in 1500 ms (attempt 3 of 5)",
    "coordinates 52.5200, 13.4050",
    "port 8080 is in use",
    "chmod 0644 config.yaml",
    "total tokens 128000, prompt 96000, completion 32000",
    "ETag: \"33a64df551425fcc55e4d42a148795d9f25f89d4\"",
    "Monthly revenue grew 12.5% to 4,512,300 USD",
    "the job ran on 2024-06-30T12:00:00Z and took 00:03:12",
    "lat/long 40.7128 N, 74.0060 W",
    "matrix [[1, 2, 3], [4, 5, 6], [7, 8, 9]]",
    "RFC 9162 section 2.1.3 defines the audit path",
    # Very long runs: no detector may find a value inside them, or take
    # long to say so.
    "digits " + "1234567890" * 1000,
    "groups " + "1234 " * 2000,
    "AB12 " + "CDEF " * 2000,
    "x" * 20000,
]


def filler(n):
    words = fake.sentence(nb_words=12)
    return words if n % 3 else f"{words} ({fake.bothify('??-####')})"


def main():
    sections = [("payment cards", cards()), ("IBANs", ibans()), ("US social security numbers", ssns()),
                ("email addresses", emails()), ("phone numbers", phones()), ("IPv4 addresses", ips()),
                ("dates of birth", dobs()), ("medical record numbers", mrns()),
                ("US passport numbers", passports()), ("UK national insurance numbers", ninos())]
    print("# The labelled personal-data corpus: written by generate.py; edit that, not this.")
    print("# ⟦detector:value⟧ marks a value the detector must find; a line without one is a negative.")
    for title, (positives, negatives) in sections:
        print(f"\n# {title}: values")
        for line in positives:
            print(line)
        print(f"# {title}: look-alikes")
        for line in negatives:
            print(line)
    print("\n# ordinary agent text")
    for line in HAND_NEGATIVES:
        print(line)
    for n in range(150):
        print(filler(n))


if __name__ == "__main__":
    main()
