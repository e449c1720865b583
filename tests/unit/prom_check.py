#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Checks a Prometheus text exposition with prometheus_client's parser plus the spec's rules it lets through.
"""usage: prom_check.py [--client-only] FILE|-

Parses FILE with prometheus_client (the reference Python parser) and,
unless --client-only, also line by line against the text format 0.0.4
rules that parser does not enforce: valid names, HELP and TYPE once per
family and before its samples, each family's samples together, no
duplicate series, a newline at the end. Both parses must agree on every
sample.

Prints one line per sample, `name{label="value",...} value`, labels
sorted, values as integers when they are whole; exits 0. On any error
prints it to stderr and exits 1.
"""
import math
import re
import sys

from prometheus_client.parser import text_string_to_metric_families

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
VALUE = r"[^\s{}]+"
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
SAMPLE_RE = re.compile(rf"^({NAME})(\{{.*\}})?[ \t]+({VALUE})([ \t]+-?[0-9]+)?$")
LABEL_RE = re.compile(rf'\s*({LABEL})\s*=\s*"((?:[^"\\\n]|\\[\\"n])*)"\s*(,)?')
UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


class Bad(Exception):
    pass


def float_value(text):
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    try:
        return float(text)
    except ValueError:
        raise Bad(f"invalid value {text!r}") from None


def parse_labels(text, where):
    """The inside of {...}: name="value" pairs, a trailing comma allowed."""
    labels, pos, inner = {}, 0, text[1:-1]
    while inner[pos:].strip():
        m = LABEL_RE.match(inner, pos)
        if not m:
            raise Bad(f"{where}: bad labels {text!r}")
        name, value = m.group(1), m.group(2)
        if name.startswith("__"):
            raise Bad(f"{where}: reserved label name {name!r}")
        if name in labels:
            raise Bad(f"{where}: label {name!r} twice")
        labels[name] = re.sub(r'\\[\\"n]', lambda e: UNESCAPE[e.group(0)], value)
        pos = m.end()
        if not m.group(3) and inner[pos:].strip():
            raise Bad(f"{where}: missing ',' in {text!r}")
    return labels


def family_of(name, types):
    """The family a sample belongs to: its own name, or for a counter the
    TYPE name it was declared under."""
    if name in types:
        return name
    for suffix in ("_total", "_sum", "_count", "_bucket", "_created"):
        base = name[: -len(suffix)] if name.endswith(suffix) else None
        if base and base in types and types[base] != "gauge":
            return base
    return name


def strict(text):
    """Line rules of the text format; returns {(name, labels): value}."""
    if not text.endswith("\n"):
        raise Bad("no newline at the end")
    helps, types, samples = {}, {}, {}
    done, current = set(), None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {n}"
        if not line.strip():
            continue
        if line.startswith("#"):
            words = line.split(None, 3)
            if len(words) >= 3 and words[1] in ("HELP", "TYPE"):
                name = words[2]
                if not re.fullmatch(NAME, name):
                    raise Bad(f"{where}: bad metric name {name!r}")
                seen = helps if words[1] == "HELP" else types
                if name in seen:
                    raise Bad(f"{where}: second {words[1]} for {name}")
                if name in done or name == current:
                    raise Bad(f"{where}: {words[1]} for {name} after its samples")
                if words[1] == "TYPE":
                    if len(words) != 4 or words[3] not in TYPES:
                        raise Bad(f"{where}: bad TYPE line {line!r}")
                    types[name] = words[3]
                else:
                    helps[name] = words[3] if len(words) == 4 else ""
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            raise Bad(f"{where}: not a sample {line!r}")
        name = m.group(1)
        labels = parse_labels(m.group(2), where) if m.group(2) else {}
        value = float_value(m.group(3))
        fam = family_of(name, types)
        if fam != current:
            if fam in done:
                raise Bad(f"{where}: samples of {fam} not together")
            if current:
                done.add(current)
            current = fam
        if fam not in helps or fam not in types:
            raise Bad(f"{where}: {name} has no HELP or no TYPE line before it")
        if types[fam] == "counter" and not (value >= 0 and name.endswith("_total")):
            raise Bad(f"{where}: counter sample {name} = {value}")
        key = (name, tuple(sorted(labels.items())))
        if key in samples:
            raise Bad(f"{where}: duplicate series {line!r}")
        samples[key] = value
    return samples


def client(text):
    """The reference parser's samples as {(name, labels): value}."""
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def fmt_value(v):
    if math.isfinite(v) and v == int(v) and abs(v) < 2**53:
        return str(int(v))
    return repr(v)


def escape(v):
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def main(argv):
    args = argv[1:]
    only_client = bool(args) and args[0] == "--client-only"
    if only_client:
        args = args[1:]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        raw = sys.stdin.buffer.read() if args[0] == "-" else open(args[0], "rb").read()
        text = raw.decode("utf-8")
        ref = client(text)
        if not only_client:
            own = strict(text)
            if own != ref:
                diff = set(own.items()) ^ set(ref.items())
                raise Bad(f"prometheus_client and the line rules disagree on {sorted(diff)[:3]}")
    except (Bad, ValueError, UnicodeDecodeError, OSError) as e:
        print(f"prom_check: {e}", file=sys.stderr)
        return 1
    for (name, labels), value in sorted(ref.items()):
        ls = ",".join(f'{k}="{escape(v)}"' for k, v in labels)
        print(f"{name}{{{ls}}} {fmt_value(value)}" if ls else f"{name} {fmt_value(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
