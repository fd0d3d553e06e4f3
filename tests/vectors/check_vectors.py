#!/usr/bin/env python3
"""A second, independent implementation of the canonical form (PROTOCOL.md §2 and §5),
checked against tests/cases/canonical. It shares no code with gateway/canonical.c; the
expected bytes in the vectors were checked with it. Digests are left to openssl and
sha256sum (see README.md), since Python's hashlib may lack SM3.

    python3 tests/vectors/check_vectors.py [tests/cases/canonical]
"""
import json
import math
import os
import sys
from decimal import Decimal

LIMIT = 2 ** 53


class NoCanonicalForm(ValueError):
    pass


def number(x):
    if isinstance(x, int):
        if abs(x) >= LIMIT:
            raise NoCanonicalForm('integer outside ±(2^53-1)')
        return str(x)
    if math.isnan(x) or math.isinf(x):
        raise NoCanonicalForm('NaN or infinity')
    if x == int(x):
        if abs(x) >= LIMIT:
            raise NoCanonicalForm('integral number with |n| >= 2^53')
        return str(int(x))
    if abs(x) < 1e-6:
        raise NoCanonicalForm('magnitude below 1e-6')
    # repr() is the shortest round-trip decimal; Decimal writes it without an exponent
    return format(Decimal(repr(x)), 'f')


SHORT = {8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r'}


def string(s):
    out = ['"']
    for ch in s:
        o = ord(ch)
        if 0xD800 <= o <= 0xDFFF:
            raise NoCanonicalForm('lone surrogate')
        if ch == '"':
            out.append('\\"')
        elif ch == '\\':
            out.append('\\\\')
        elif o < 0x20:
            out.append(SHORT.get(o, '\\u%04x' % o))
        else:
            out.append(ch)
    out.append('"')
    return ''.join(out)


def canonical(v, depth=0):
    if isinstance(v, (dict, list)) and depth >= 64:
        raise NoCanonicalForm('nesting deeper than 64')
    if isinstance(v, dict):
        names = sorted(v, key=lambda k: k.encode('utf-8', 'surrogatepass'))
        return '{' + ','.join(string(k) + ':' + canonical(v[k], depth + 1)
                              for k in names) + '}'
    if isinstance(v, list):
        return '[' + ','.join(canonical(x, depth + 1) for x in v) + ']'
    if v is True:
        return 'true'
    if v is False:
        return 'false'
    if v is None:
        return 'null'
    if isinstance(v, str):
        return string(v)
    return number(v)


def no_duplicates(pairs):
    names = [k for k, _ in pairs]
    if len(names) != len(set(names)):
        raise NoCanonicalForm('duplicate member name')
    return dict(pairs)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    base = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, '..', 'cases', 'canonical')
    failed = checked = 0
    for name in sorted(os.listdir(base)):
        d = os.path.join(base, name)
        with open(os.path.join(d, 'input.json'), 'rb') as f:
            raw = f.read()
        try:
            text = raw.decode('utf-8')
            got = canonical(json.loads(text, object_pairs_hook=no_duplicates)).encode('utf-8')
        except (ValueError, UnicodeError):
            got = None
        expected = os.path.join(d, 'canonical.json')
        checked += 1
        if os.path.exists(expected):
            with open(expected, 'rb') as f:
                want = f.read()
            if got != want:
                failed += 1
                print('%s: got %r, want %r' % (name, got, want))
        elif got is not None:
            failed += 1
            print('%s: should have no canonical form, got %r' % (name, got))
    if checked == 0:
        print('no cases in %s' % base)
        return 1
    print('%d cases, %d failed' % (checked, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
