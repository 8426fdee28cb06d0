#!/usr/bin/env python3
"""Checks every log line a test run wrote (target/tmp/test-logs/*.jsonl, LOG_FORMAT=json):
each line is one JSON object, and no line holds a national identity number (11 digits whose two check
digits are right: fødselsnummer, D-number or synthetic test number). Exit code 1 names the offending file
and line number (never the number itself)."""
import json
import re
import sys

W1 = [3, 7, 6, 1, 8, 9, 4, 5, 2]
W2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]


def check_digit(digits, weights):
    r = 11 - sum(d * w for d, w in zip(digits, weights)) % 11
    return 0 if r == 11 else r


def is_national_id(s):
    d = [int(c) for c in s]
    k1 = check_digit(d[:9], W1)
    k2 = check_digit(d[:10], W2)
    return k1 < 10 and k2 < 10 and d[9] == k1 and d[10] == k2


elevens = re.compile(r"(?<!\d)\d{11}(?!\d)")
# Ids (UUIDs, hex) are not national ids even when 11 of their hex digits happen to be decimal.
uuids = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
bad = 0
lines = 0
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            lines += 1
            try:
                json.loads(line)
            except ValueError:
                print(f"{path}:{n}: not a JSON object")
                bad += 1
            if any(is_national_id(m) for m in elevens.findall(uuids.sub("-", line))):
                print(f"{path}:{n}: holds a national identity number")
                bad += 1
if lines == 0:
    print("no log lines found: did the tests run with the JSON log capture?")
    sys.exit(1)
print(f"{lines} log lines checked, {bad} problems")
sys.exit(1 if bad else 0)
