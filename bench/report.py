#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Benchmark results: per-run records for forward.sh, and results/bench.{json,md,png} with the targets."""

import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

RESULTS = os.environ.get("RESULTS", "results")
QUICK = os.environ.get("QUICK", "0") == "1"

# The fast-path targets (printed as pass/fail; they are not tests). The
# ratios to the ceiling apply twice: to the forwarded rate, and to the
# router's own cost per packet (bpf_stats), which no generator squeezes.
TARGET_C_OVER_B = 5.0
TARGET_C_OVER_E = 0.85
TARGET_XDP_NS = 60.0
TARGET_SCALE = 0.90
TRANSLATED = ("b", "c", "d")
# The ceiling must beat a configuration by this much, and every run of it
# beat every run of the other, for their rates to measure the router and
# not the generator.
GENERATOR_MARGIN = 1.10
# Programs of the generator and the sink; every other program that ran is
# the router's.
GENERATOR_PROGS = ("sink", "gen_v4", "gen_v6")
# The closed loop must keep this share of the frames injected to the end
# of a run (each one lost slows what follows).
LOOP_KEPT = 0.9


# ---- records of single runs (called by forward.sh) ----


def prog_cost(rec, router):
    """ns per forwarded packet of the router's programs (router=True) or the generator's:
    each program's ns per run, weighted by how often it ran per packet the sink saw."""
    progs = rec.get("progs", [])
    pkts = sum(p["runs"] for p in progs if p["name"] == "sink")
    mine = [p for p in progs if (p["name"] not in GENERATOR_PROGS) == router]
    if not pkts or not mine:
        return None
    return sum(p["ns_per_run"] * p["runs"] for p in mine) / pkts


def run_problems(rec):
    """Why a run does not count: nothing forwarded, or not what the configuration must do."""
    cfg, ev = rec["config"], rec.get("mwan_events", {})
    names = {p["name"] for p in rec.get("progs", [])}
    problems = []
    if "sink" not in names:
        problems.append("no per-program figures (bpf_stats): the sink did not run")
    if cfg == "c" and "mwan_xdp" not in names:
        problems.append("no run time of mwan_xdp in the live path")
    if cfg == "e" and "redirect" not in names:
        problems.append("no run time of the redirect program in the live path")
    if rec["pps"] <= 0 or not rec["v4_ok"] or not rec["v6_ok"]:
        problems.append("the sink counted no IPv4 or no IPv6 packet as expected")
    if rec["wrong"]:
        what = "translated" if cfg in TRANSLATED else "untouched"
        problems.append(f"{rec['wrong']} packets arrived not {what}")
    lf = rec.get("loop_frames")
    if rec.get("generator") == "xdp-loop" and (not lf or lf["returned"] < LOOP_KEPT * lf["injected"]):
        problems.append("the loop lost frames: " + (f"{lf['returned']} of {lf['injected']} still went round "
                        "at the end" if lf else "no count of the frames still going round"))
    if rec["csum_bad"]:
        problems.append(f"{rec['csum_bad']} of {rec['csum_checked']} sampled checksums wrong")
    if cfg == "c" and not ev.get("xdp_forward_out"):
        problems.append("mwan's xdp_forward_out did not move: not the fast path")
    if cfg == "d" and (ev.get("xdp_forward_out") or not ev.get("tc_snat")):
        problems.append("not the slow path (xdp_forward_out moved or tc_snat did not)")
    return problems


def cmd_run_record(cfg, gen_json, why=None):
    rec = {"config": cfg}
    rec.update(json.loads(gen_json))
    if why:
        rec["generator_why"] = why
    rec["problems"] = run_problems(rec)
    print(json.dumps(rec))


def cmd_run_summary(rec_json):
    r = json.loads(rec_json)
    router = prog_cost(r, True)
    text = (f"{r['pps'] / 1e6:.2f} Mpps by {r['generator']} (IPv4 {r['v4_ok']}, IPv6 {r['v6_ok']}, "
            f"wrong {r['wrong']}), CPU {r['cpu_busy_pct']:.0f}% busy, {r['cpu_ns_per_pkt']:.0f} ns/packet")
    if router:
        text += f", router programs {router:.0f} ns/packet"
    if "mwan_events" in r and "flow_new" in r["mwan_events"]:
        text += f", {r['mwan_events']['flow_new']} new flows"
    if r["problems"]:
        text += "; PROBLEM: " + "; ".join(r["problems"])
    print(text)


# ---- aggregation ----


def load(name):
    path = os.path.join(RESULTS, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def spread(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def median_or_none(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def prog_medians(runs):
    """Each program's median ns per run over the runs, and how often it ran per packet the sink
    counted (a program the router's own control traffic woke once shows as next to 0)."""
    out = {}
    for name in sorted({p["name"] for r in runs for p in r.get("progs", [])}):
        ns, per_pkt = [], []
        for r in runs:
            sink = sum(p["runs"] for p in r.get("progs", []) if p["name"] == "sink")
            for p in r.get("progs", []):
                if p["name"] == name:
                    ns.append(p["ns_per_run"])
                    per_pkt.append(p["runs"] / sink if sink else 0)
        out[name] = {"ns_per_run": statistics.median(ns), "runs_per_pkt": statistics.median(per_pkt)}
    return out


def summarize_runs(runs):
    """Mpps as the sink counted it, and as the CPU time per packet says it would be
    with the machine's CPUs to itself (other work on a shared machine lowers the first,
    hardly the second); and the programs' own cost per packet (bpf_stats)."""
    return {
        "generator": runs[0].get("generator"),
        "router_ns_per_pkt": median_or_none(prog_cost(r, True) for r in runs),
        "generator_ns_per_pkt": median_or_none(prog_cost(r, False) for r in runs),
        "progs": prog_medians(runs),
        "mpps": spread([r["pps"] / 1e6 for r in runs]),
        "cpu_ns_per_pkt": statistics.median(r["cpu_ns_per_pkt"] for r in runs),
        "mpps_cpu_normalized": statistics.median(r["cpus"] * 1e3 / r["cpu_ns_per_pkt"] for r in runs),
        "cpu_busy_pct": statistics.median(r["cpu_busy_pct"] for r in runs),
        "cpu_softirq_pct": statistics.median(r["cpu_softirq_pct"] for r in runs),
        "cpu_bench_pct": statistics.median(r["cpu_bench_pct"] for r in runs),
        "cpu_other_pct": statistics.median(r["cpu_other_pct"] for r in runs),
        "v6_share": statistics.median(r["v6_ok"] / max(1, r["v4_ok"] + r["v6_ok"]) for r in runs),
        "problems": sorted({p for r in runs for p in r["problems"]}),
    }


def forward_summary(fwd):
    out = {}
    for cfg, name in fwd["configs"].items():
        runs = [r for r in fwd["runs"] if r["config"] == cfg]
        if runs:
            out[cfg] = {"name": name, **summarize_runs(runs)}
    return out


def scale_summary(sc):
    out = []
    for flows in sorted({r["flows"] for r in sc["runs"]}):
        runs = [r for r in sc["runs"] if r["flows"] == flows]
        out.append({
            "flows": flows,
            "flows_max": runs[0]["flows_max"],
            "flow_table_bytes": runs[0]["flow_table_bytes"],
            "new_flows_in_window": statistics.median(r["mwan_events"].get("flow_new", 0) for r in runs),
            **summarize_runs(runs),
        })
    return out


def ratio(x, y):
    """x over y, measured (median Mpps) and CPU-normalized; for two XDP
    configurations also by the router programs' own cost (y's ns / x's ns)."""
    if not x or not y or not y["mpps"]["median"]:
        return None
    r = {"measured": x["mpps"]["median"] / y["mpps"]["median"],
         "cpu_normalized": x["mpps_cpu_normalized"] / y["mpps_cpu_normalized"]}
    if x.get("router_ns_per_pkt") and y.get("router_ns_per_pkt"):
        r["program_cost"] = y["router_ns_per_pkt"] / x["router_ns_per_pkt"]
    return r


def generator_bound(x, ceiling):
    """Whether the rate of x says nothing about the router: the ceiling
    (same generator, a router doing next to nothing) is not clearly faster."""
    if not x or not ceiling:
        return None
    return not (ceiling["mpps"]["min"] > x["mpps"]["max"]
                and ceiling["mpps"]["median"] >= GENERATOR_MARGIN * x["mpps"]["median"])


def forward_ratios(fwd):
    pairs = (("c", "b"), ("c", "e"), ("c", "a"), ("d", "b"))
    out = {f"{x}/{y}": ratio(fwd.get(x), fwd.get(y)) for x, y in pairs}
    if out["c/e"] is not None:
        out["c/e"]["generator_bound"] = generator_bound(fwd.get("c"), fwd.get("e"))
    return out


def micro_summary(micro):
    cases = {}
    for r in micro["results"]:
        cases.setdefault(r["case"], {})[r["prog"]] = {k: r[k] for k in ("ns", "min", "max", "harness_ns")}
    return cases


def target(name, r, want, ok, unit="x"):
    """A target judged on the measured value; the CPU-normalized one shown next to it."""
    value = r["measured"] if isinstance(r, dict) else r
    return {"name": name, "value": value, "cpu_normalized": r.get("cpu_normalized") if isinstance(r, dict) else None,
            "want": want, "unit": unit, "pass": None if value is None else ok(value)}


def ratio_targets(name, r, want):
    """The same target on the forwarded rate and on the programs' own cost."""
    pct = f"{want * 100:g} %"
    if r is not None and r.get("generator_bound"):
        rate = {"name": f"{name} >= {pct} (forwarded rate)", "value": None, "cpu_normalized": None,
                "want": f">= {want:g}", "unit": "x", "pass": None, "note": "generator-bound"}
    else:
        rate = target(f"{name} >= {pct} (forwarded rate)", r, f">= {want:g}", lambda v: v >= want)
    cost = r.get("program_cost") if r else None
    return [rate, target(f"{name} >= {pct} (router programs' own ns/packet, bpf_stats)", cost,
                         f">= {want:g}", lambda v: v >= want)]


def targets(fwd, scale, micro):
    t = []
    if fwd is not None:
        r = forward_ratios(fwd)
        t.append(target("c >= 5 x b (mwan fast path vs the nftables design)", r["c/b"],
                        f">= {TARGET_C_OVER_B:g}", lambda v: v >= TARGET_C_OVER_B))
        t += ratio_targets("c vs e, the XDP redirect ceiling:", r["c/e"], TARGET_C_OVER_E)
    if micro is not None:
        ns = micro.get("ipv4_out_established", {}).get("xdp", {}).get("ns")
        t.append(target("IPv4 established-flow XDP <= 60 ns/packet (micro)", ns,
                        f"<= {TARGET_XDP_NS:g}", lambda v: v <= TARGET_XDP_NS, " ns"))
    if scale:
        lo, hi = scale[0], scale[-1]
        t += ratio_targets(f"c at {hi['flows']:,} flows vs at {lo['flows']:,}:", ratio(hi, lo), TARGET_SCALE)
    return t


def host_info():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"kernel": platform.release(), "cpus": os.cpu_count(), "cpu_model": model}


# ---- Markdown ----


def fmt_spread(s, digits=2):
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}–{s['max']:.{digits}f})"


def fmt_ns(v):
    return "–" if v is None else f"{v:.0f}"


def md_forward(fwd, meta):
    runs = max(s["mpps"]["n"] for s in fwd.values())
    lines = [f"### Forwarded path ({meta['flows']:,} flows; 60-byte IPv4 and 80-byte IPv6 UDP frames; "
             f"{meta['seconds']} s per run, {runs} runs, configurations interleaved)", "",
             f"Generator: **{meta['generator']}** ({meta['generator_why']}).", "",
             "| | configuration | Mpps median (min–max) | vs a | CPU ns/packet | router programs ns/packet "
             "| Mpps, CPU-normalized | other work on the machine | checks |",
             "|---|---|---|---|---|---|---|---|---|"]
    base = fwd.get("a", {}).get("mpps", {}).get("median")
    for cfg, s in fwd.items():
        rel = f"{s['mpps']['median'] / base:.2f}x" if base else "–"
        checks = "ok" if not s["problems"] else "; ".join(s["problems"])
        lines.append(f"| {cfg} | {s['name']} | {fmt_spread(s['mpps'])} | {rel} | "
                     f"{s['cpu_ns_per_pkt']:.0f} | {fmt_ns(s['router_ns_per_pkt'])} | "
                     f"{s['mpps_cpu_normalized']:.2f} | "
                     f"{s['cpu_other_pct']:.0f} % CPU | {checks} |")
    lines += ["", "Mpps: what the sink counted. CPU ns/packet: CPU time of the packets' work (the "
              "generator's threads, the router and the sink in their softirq context, ksoftirqd) per "
              "packet counted; Mpps, CPU-normalized: what that cost gives on all the CPUs. Other work: "
              "CPU time of everything else on the machine during the runs, which lowers Mpps but hardly "
              "the cost per packet. Checks: every packet the sink counted carried the source address "
              "expected (1:1 NAT, NPTv6 prefix, or untouched), sampled IPv4 and UDP checksums were "
              "right, and mwan's counters show the path (c: xdp_forward_out; d: tc_snat, no XDP "
              "forwarding). Router programs ns/packet: the run time the kernel measured for the "
              "router's BPF programs (bpf_stats, in a window of its own after the rate's), per "
              "packet the sink counted; the kernel's own forwarding work in a, b and d is not in it."]
    lines += ["", "#### BPF programs in the live path (median over runs)", "",
              "| | program | ns/run | runs/packet |", "|---|---|---|---|"]
    for cfg, s in fwd.items():
        for name, p in s["progs"].items():
            side = "generator" if name in GENERATOR_PROGS else "router"
            lines.append(f"| {cfg} | {name} ({side}) | {p['ns_per_run']:.0f} | {p['runs_per_pkt']:.2f} |")
    return lines


def md_scale(scale, meta):
    lines = ["### Scale (configuration c)", "",
             f"Generator: **{meta['generator']}** ({meta['generator_why']}).", "",
             "| flows | flows_max | Mpps median (min–max) | vs first | CPU ns/packet | vs first, CPU-normalized "
             "| router programs ns/packet | flow table | new flows in window |",
             "|---|---|---|---|---|---|---|---|---|"]
    first = scale[0]
    for s in scale:
        r = ratio(s, first)
        lines.append(f"| {s['flows']:,} | {s['flows_max']:,} | {fmt_spread(s['mpps'])} | "
                     f"{r['measured']:.2f}x | {s['cpu_ns_per_pkt']:.0f} | {r['cpu_normalized']:.2f}x | "
                     f"{fmt_ns(s['router_ns_per_pkt'])} | "
                     f"{s['flow_table_bytes'] / 1048576:.1f} MiB | {s['new_flows_in_window']:.0f} |")
    lines += ["", "Flow table: the kernel's memlock figure for mwan_flows (flows_max entries, preallocated). "
              "New flows in window: flows mwan created during the measured seconds (0: every flow stayed "
              "in the table)."]
    return lines


def md_micro(micro, meta):
    lines = [f"### Micro (BPF_PROG_TEST_RUN, repeat {meta['repeat']:,}, {meta['reps']} repetitions; "
             "ns/packet of the program alone, median (min–max))", "",
             "| case | mwan_xdp | mwan_tc_in | mwan_tc_out |", "|---|---|---|---|"]
    for case, progs in micro.items():
        cells = [fmt_spread({"median": p["ns"], "min": p["min"], "max": p["max"]}, 0)
                 if (p := progs.get(k)) else "–" for k in ("xdp", "tc_in", "tc_out")]
        lines.append(f"| {case} | " + " | ".join(cells) + " |")
    probes = meta.get("probes", {})
    if probes:
        lines += ["", "Building blocks (a program doing only this, minus an empty one): " +
                  ", ".join(f"{k} {v:.0f} ns" for k, v in probes.items()) + "."]
    return lines


def md_targets(ts):
    lines = ["### Targets", ""]
    for t in ts:
        state = t.get("note") or ("n/a" if t["pass"] is None else ("PASS" if t["pass"] else "FAIL"))
        value = "–" if t["value"] is None else f"{t['value']:.2f}{t['unit']}"
        if t["cpu_normalized"] is not None:
            value += f" (CPU-normalized {t['cpu_normalized']:.2f}{t['unit']})"
        lines.append(f"- **{state}** {t['name']}: {value}; want {t['want']}")
    return lines


def md_ratio(name, r):
    text = f"{name} = {r['measured']:.2f}; {r['cpu_normalized']:.2f}"
    if r.get("generator_bound"):
        text = f"{name} = generator-bound (measured {r['measured']:.2f})"
    if "program_cost" in r:
        text += f"; programs {r['program_cost']:.2f}"
    return text


def markdown(doc):
    h = doc["host"]
    lines = [f"## mwan benchmark — {doc['generated']}", "",
             f"{h['cpus']} CPUs ({h['cpu_model']}), kernel {h['kernel']}"
             + (" — **QUICK smoke run: the numbers mean nothing**" if doc["quick"] else ""), ""]
    if "forward" in doc:
        lines += md_forward(doc["forward"], doc["forward_meta"]) + [""]
        lines += ["Ratios (measured; CPU-normalized; by the router programs' own cost where both are "
                  "XDP-only): " + ", ".join(md_ratio(k, v) for k, v in doc["ratios"].items() if v), ""]
    if doc.get("scale"):
        lines += md_scale(doc["scale"], doc["scale_meta"]) + [""]
    if "micro" in doc:
        lines += md_micro(doc["micro"], doc["micro_meta"]) + [""]
    lines += md_targets(doc["targets"])
    return "\n".join(lines) + "\n"


# ---- plot ----


def plot(doc, png):
    """Four panels: forwarded Mpps and CPU ns/packet per configuration, Mpps by flow count, micro ns."""
    data = os.path.join(RESULTS, "bench-plot")
    os.makedirs(data, exist_ok=True)
    with open(os.path.join(data, "forward.dat"), "w") as f:
        for i, (cfg, s) in enumerate(doc.get("forward", {}).items()):
            m = s["mpps"]
            f.write(f'{i} "{cfg}" {m["median"]} {m["min"]} {m["max"]} {s["cpu_ns_per_pkt"]}\n')
    with open(os.path.join(data, "scale.dat"), "w") as f:
        for s in doc.get("scale", []):
            m = s["mpps"]
            f.write(f'{s["flows"]} {m["median"]} {m["min"]} {m["max"]}\n')
    with open(os.path.join(data, "micro.dat"), "w") as f:
        for i, (case, progs) in enumerate(doc.get("micro", {}).items()):
            cols = [str(progs[k]["ns"]) if k in progs else "NaN" for k in ("xdp", "tc_in", "tc_out")]
            f.write(f'{i} "{case}" ' + " ".join(cols) + "\n")
    script = f"""
set terminal pngcairo size 1400,1000 font ",10" noenhanced
set output "{png}"
set multiplot layout 2,2 title "mwan benchmark {doc['generated']}, generator {doc.get('generator')}{' (QUICK: the numbers mean nothing)' if doc['quick'] else ''}"
set grid ytics
set style fill solid 0.6
set boxwidth 0.6
set offsets 0.5, 0.5, 0, 0
set title "Forwarded Mpps (median, min-max)"
set ylabel "Mpps"
set yrange [0:*]
plot "{data}/forward.dat" using 1:3:xtic(2) with boxes notitle, \\
     "" using 1:3:4:5 with yerrorbars lc rgb "black" notitle
set title "CPU time per forwarded packet (generator + router + sink)"
set ylabel "ns"
plot "{data}/forward.dat" using 1:6:xtic(2) with boxes lc rgb "#d08030" notitle
set title "Configuration c by concurrent flows"
set logscale x
set xrange [500:2000000]
set offsets 0, 0, 0, 0
set xlabel "flows"
set ylabel "Mpps"
plot "{data}/scale.dat" using 1:2:3:4 with yerrorlines title "mwan fast path"
unset logscale x
unset xlabel
set xrange [*:*]
set title "Micro: ns/packet of each program"
set ylabel "ns"
set xtics rotate by -35
set rmargin 10
set style data histograms
set style histogram clustered
plot "{data}/micro.dat" using 3:xtic(2) title "mwan_xdp", "" using 4 title "mwan_tc_in", \\
     "" using 5 title "mwan_tc_out"
unset multiplot
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


# ---- the report ----


def generator_of(raw):
    """The generator that sent every run (one per benchmark: forward.sh probes once)."""
    gens = {(r.get("generator"), r.get("generator_why")) for r in raw["runs"]}
    if len(gens) != 1:
        sys.exit(f"report: the runs used different generators: {sorted(gens)}")
    gen, why = gens.pop()
    return {"generator": gen, "generator_why": why}


def cmd_report():
    micro_raw, fwd_raw, scale_raw = load("micro.json"), load("forward.json"), load("scale.json")
    if not (micro_raw or fwd_raw or scale_raw):
        sys.exit(f"report: nothing in {RESULTS}/ (run make bench-micro, bench-forward or bench-scale)")
    doc = {"generated": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "host": host_info(),
           "quick": QUICK or any(x and x.get("quick") for x in (fwd_raw, scale_raw))}
    fwd = forward_summary(fwd_raw) if fwd_raw else None
    scale = scale_summary(scale_raw) if scale_raw else None
    micro = micro_summary(micro_raw) if micro_raw else None
    if fwd is not None:
        doc["forward"] = fwd
        doc["forward_meta"] = {k: fwd_raw[k] for k in ("flows", "seconds")}
        doc["forward_meta"].update(generator_of(fwd_raw))
        doc["ratios"] = forward_ratios(fwd)
    if scale:
        doc["scale"] = scale
        doc["scale_meta"] = generator_of(scale_raw)
    doc["generator"] = (doc.get("forward_meta") or doc.get("scale_meta") or {}).get("generator")
    if micro is not None:
        doc["micro"] = micro
        doc["micro_meta"] = {k: micro_raw.get(k) for k in ("repeat", "reps", "flows_max", "probes")}
    doc["targets"] = targets(fwd, scale, micro)
    with open(os.path.join(RESULTS, "bench.json"), "w") as f:
        json.dump(doc, f, indent=1)
    md = markdown(doc)
    with open(os.path.join(RESULTS, "bench.md"), "w") as f:
        f.write(md)
    plot(doc, os.path.join(RESULTS, "bench.png"))
    print(md)
    print(f"report: wrote {RESULTS}/bench.json, bench.md, bench.png")


# ---- smoke checks (tests/lab/test_bench.sh) ----


def check(kind, key=None):
    """Exit 0 if the results of `kind` (forward CONFIG, scale FLOWS, micro, outputs) are sound."""
    def fail(why):
        sys.exit(why)

    if kind == "outputs":
        for name in ("bench.json", "bench.md", "bench.png"):
            path = os.path.join(RESULTS, name)
            if not os.path.exists(path) or os.path.getsize(path) == 0:
                fail(f"{path} missing or empty")
        with open(os.path.join(RESULTS, "bench.png"), "rb") as f:
            if f.read(8) != b"\x89PNG\r\n\x1a\n":
                fail("bench.png is not a PNG")
        with open(os.path.join(RESULTS, "bench.md")) as f:
            md = f.read()
        if "### Targets" not in md:
            fail("bench.md has no targets section")
        with open(os.path.join(RESULTS, "bench.json")) as f:
            gen = json.load(f).get("generator")
        if not gen or f"Generator: **{gen}**" not in md:
            fail(f"the generator is not named in bench.json and bench.md (generator: {gen})")
        return
    data = load(f"{kind}.json")
    if data is None:
        fail(f"no {RESULTS}/{kind}.json")
    if kind == "micro":
        bad = [f"{r['case']}/{r['prog']}" for r in data["results"] if r["raw_ns"] <= 0]
        if len(data["results"]) < 20 or bad:
            fail(f"{len(data['results'])} results, without a duration: {bad}")
        return
    field = "config" if kind == "forward" else "flows"
    runs = [r for r in data["runs"] if str(r[field]) == key]
    if not runs:
        fail(f"no {kind} run for {key}")
    for r in runs:
        if r["problems"]:
            fail("; ".join(r["problems"]))
    print(f"{min(r['pps'] for r in runs) / 1e6:.2f} Mpps")


def main(argv):
    if len(argv) in (3, 4) and argv[0] == "run-record":
        cmd_run_record(*argv[1:])
    elif len(argv) == 2 and argv[0] == "run-summary":
        cmd_run_summary(argv[1])
    elif argv and argv[0] == "check" and len(argv) in (2, 3):
        check(*argv[1:])
    elif not argv:
        cmd_report()
    else:
        sys.exit("usage: report.py [run-record CONFIG GEN_JSON | run-summary RECORD |\n"
                 "                  check forward CONFIG | check scale FLOWS | check micro | check outputs]")


if __name__ == "__main__":
    main(sys.argv[1:])
