#!/usr/bin/python3
"""Turn the per-run artifacts of bench/run into one Markdown table.

    /usr/bin/python3 bench/summarize.py RESULTS_DIR

RESULTS_DIR/runs/<workload>/<client>-n<N>/rep<k>/ holds meta.txt (key=value lines written by
bench/run), time.txt (GNU `/usr/bin/time -v`), client.err (the client's stderr, with the seed's
SEED_DONE, the floor's FLOOR_DONE or optexity-chain's `stats:` line) and fake.err (FAKE_STATS).
Writes RESULTS_DIR/runs.tsv (one row per run) and RESULTS_DIR/table.md, and prints table.md.

A run counts ("ok") when it exited 0 and printed one line per input; a run cut by `timeout`
or one that ended otherwise is counted, listed, and left out of the medians.
"""
import json
import math
import os
import re
import statistics
import sys

DONE_RE = re.compile(r"^([A-Z][A-Z_]*_DONE) (.*)$", re.M)
STATS_RE = re.compile(r"stats: (\d+) callbacks, callback->line p50 (\d+) us, p99 (\d+) us, max (\d+) us")
TARGETS = {  # issue 8
    "W1": "tasks/s >= 10x seed",
    "W1p": "us/task <= 2x floor",
    "W2": "tasks/s >= 10x seed; RSS flat in N",
    "W3": "wall <= 1.2x ideal; RSS <= 64 MiB",
    "W4": "wall <= 1.3x ideal; RSS <= 128 MiB; 0 errors",
    "W5": "p99 <= 2 ms (--unordered)",
}
NAMES = {"chain": "optexity-chain", "chain_stats": "optexity-chain --unordered --stats",
         "seed": "seed main.py", "seed_par": "seed main_parallel.py",
         "floor": "floor.c client"}
WL_NAMES = {"W1p": "W1'"}


def kv(text):
    return dict(p.split("=", 1) for p in text.split() if "=" in p)


def parse_time_v(path):
    out = {}
    if not os.path.exists(path):
        return out
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.strip()
        if line.startswith("User time (seconds):"):
            out["user_s"] = float(line.split(":")[-1])
        elif line.startswith("System time (seconds):"):
            out["sys_s"] = float(line.split(":")[-1])
        elif line.startswith("Maximum resident set size (kbytes):"):
            out["rss_kb"] = int(line.split(":")[-1])
        elif line.startswith("Elapsed (wall clock) time"):
            secs = 0.0
            for part in line.rsplit(" ", 1)[-1].split(":"):
                secs = secs * 60 + float(part)
            out["proc_wall_s"] = secs
    return out


def num(r, k):
    try:
        return float(r[k])
    except (KeyError, ValueError, TypeError):
        return None


def load_run(d):
    r = {}
    for line in open(os.path.join(d, "meta.txt"), encoding="utf-8"):
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            r[k] = v
    r.update(parse_time_v(os.path.join(d, "time.txt")))
    err_path = os.path.join(d, "client.err")
    err = open(err_path, encoding="utf-8", errors="replace").read() if os.path.exists(err_path) else ""
    done = DONE_RE.findall(err)
    if done:
        r.update({"inner_" + k: v for k, v in kv(done[-1][1]).items()})
    m = STATS_RE.search(err)
    if m:
        r.update(stat_callbacks=m.group(1), p50_us=m.group(2), p99_us=m.group(3), max_us=m.group(4))
    fe = os.path.join(d, "fake.err")
    if os.path.exists(fe):
        for line in open(fe, encoding="utf-8", errors="replace"):
            if line.startswith("FAKE_STATS "):
                st = json.loads(line[len("FAKE_STATS "):])
                r["early_cb_rejected"] = st.get("callback_retries_status", 0)
                r["cb_conn_retries"] = st.get("callback_retries_conn", 0)
                r["cb_given_up"] = st.get("callbacks_failed", 0)
    n = int(r["n"])
    rc = int(r.get("rc", "-1"))
    r["cpu_s"] = (r.get("user_s") or 0) + (r.get("sys_s") or 0) if "user_s" in r else None
    # wall: the client's own loop timing where it reports one (seed, floor: start-up excluded,
    # which favours them); otherwise the whole process (optexity-chain: start-up included)
    if "inner_wall_s" in r:
        r["wall_s"], r["wall_from"] = float(r["inner_wall_s"]), "loop"
    else:
        r["wall_s"], r["wall_from"] = r.get("proc_wall_s"), "process"
    if r["client"] == "floor":
        lines_ok = r.get("inner_ok") == "1"
        r["errors"] = 0 if lines_ok else n
    else:
        lines = int(r.get("lines", "0") or 0)
        lines_ok = lines == n
        r["errors"] = n - int(r.get("success_lines", "0") or 0)
    if rc in (124, 137):
        r["outcome"] = "timeout"
    elif rc == 0 and lines_ok and r["errors"] == 0:
        r["outcome"] = "ok"
    else:
        r["outcome"] = "failed"
    if r["wall_s"]:
        r["us_per_task"] = 1e6 * r["wall_s"] / n
        r["tasks_per_s"] = n / r["wall_s"]
    return r


def load_runs(root):
    runs = []
    base = os.path.join(root, "runs")
    for wl in sorted(os.listdir(base)):
        for cell in sorted(os.listdir(os.path.join(base, wl))):
            for rep in sorted(os.listdir(os.path.join(base, wl, cell))):
                d = os.path.join(base, wl, cell, rep)
                if os.path.exists(os.path.join(d, "meta.txt")):
                    runs.append(load_run(d))
    return runs


def med(rows, k):
    vals = [num(r, k) for r in rows]
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def f(v, nd=2):
    if v is None:
        return "-"
    if abs(v) >= 10000:
        return f"{v:,.0f}"
    return f"{v:.{nd}f}"


def mark(ok):
    return "**yes**" if ok else "**NO**"


def main():
    root = sys.argv[1]
    runs = load_runs(root)
    cols = ["workload", "role", "client", "rep", "outcome", "n", "k", "delay_ms", "shot_bytes", "rc",
            "wall_s", "wall_from", "proc_wall_s", "us_per_task", "tasks_per_s", "user_s", "sys_s", "rss_kb",
            "fake_cpu_s", "fake_rss_kb", "lines", "success_lines", "errors", "p50_us", "p99_us", "max_us",
            "early_cb_rejected", "cb_conn_retries", "cb_given_up", "stdout_bytes", "timeout_s"]
    with open(os.path.join(root, "runs.tsv"), "w", encoding="utf-8") as t:
        t.write("\t".join(cols) + "\n")
        for r in runs:
            t.write("\t".join(str(r.get(c, "")) for c in cols) + "\n")

    # cells in the order bench/run ran them
    order = []
    for line in open(os.path.join(root, "cells.txt"), encoding="utf-8"):
        p = line.split()
        order.append((p[0], p[2], p[4]))
    agg = {}
    for key in order:
        rows = [r for r in runs if (r["workload"], r["client"], r["n"]) == key]
        if not rows:
            continue
        good = [r for r in rows if r["outcome"] == "ok"]
        a = {k: med(good, k) for k in ["wall_s", "proc_wall_s", "us_per_task", "tasks_per_s", "cpu_s", "rss_kb",
                                        "fake_cpu_s", "p50_us", "p99_us", "max_us", "early_cb_rejected"]}
        a.update(rows=rows, good=good, r0=rows[0],
                 timeouts=sum(r["outcome"] == "timeout" for r in rows),
                 failed=sum(r["outcome"] == "failed" for r in rows),
                 errors=sum(r["errors"] for r in rows))
        n, k, delay = int(rows[0]["n"]), int(rows[0]["k"]), int(rows[0]["delay_ms"])
        a["ideal_s"] = math.ceil(n / k) * delay / 1000 if delay else None
        agg[key] = a

    def find(wl, client, n=None):
        for (w, c, nn), a in agg.items():
            if w == wl and c == client and (n is None or nn == n):
                return a
        return None

    def cmp_text(wl, client, a):
        """(result vs peer/ideal, target met?) for one row."""
        if not a["good"]:
            return "no ok run", ""
        res, met = [], []
        n = a["r0"]["n"]
        if wl == "W1" and client == "chain":
            p = find("W1", "seed")
            if p and p["good"]:
                x = a["tasks_per_s"] / p["tasks_per_s"]
                res.append(f"{x:.1f}x seed tasks/s")
                met.append(mark(x >= 10))
            fl = find("W1", "floor")
            if fl and fl["good"]:
                res.append(f"{a['us_per_task'] / fl['us_per_task']:.2f}x C client vs same fake (us/task)")
        elif wl == "W1p" and client == "chain":
            p = find("W1p", "floor")
            if p and p["good"]:
                x = a["us_per_task"] / p["us_per_task"]
                res.append(f"{x:.2f}x floor us/task")
                met.append(mark(x <= 2))
        elif wl == "W2" and client == "chain":
            if any(w == "W2" and c == "chain" and int(nn) > int(n) for (w, c, nn) in agg):
                return "RSS reference for the larger N", ""  # the N/4 row
            p = find("W2", "seed")
            if p and p["good"]:
                x = a["tasks_per_s"] / p["tasks_per_s"]
                res.append(f"{x:.1f}x seed tasks/s")
                met.append(mark(x >= 10))
            fl = find("W2", "floor")
            if fl and fl["good"]:
                res.append(f"{a['us_per_task'] / fl['us_per_task']:.1f}x C client (us/task)")
            lows = [v for (w, c, nn), v in agg.items() if w == "W2" and c == "chain" and int(nn) < int(n)
                    and v["good"]]
            for lo in lows:
                x = a["rss_kb"] / lo["rss_kb"]
                res.append(f"RSS N={n} / N={lo['r0']['n']}: {x:.2f}")
                met.append(mark(x <= 1.15))
        elif wl in ("W3", "W4", "W5") and a["ideal_s"]:
            x = a["wall_s"] / a["ideal_s"]
            res.append(f"wall {x:.2f}x ideal ({a['ideal_s']:.0f} s)")
            rss = a["rss_kb"] / 1024
            if client in ("chain", "chain_stats"):
                if wl == "W3":
                    met += [mark(x <= 1.2), mark(rss <= 64)]
                    p = find("W3", "seed_par")
                    if p and p["good"]:
                        res.append(f"{p['wall_s'] / a['wall_s']:.1f}x faster than seed")
                elif wl == "W4":
                    met += [mark(x <= 1.3), mark(rss <= 128), mark(a["errors"] == 0)]
                elif wl == "W5":
                    res = [f"p50 {f(a['p50_us'], 0)} us, p99 {f(a['p99_us'], 0)} us, max {f(a['max_us'], 0)} us"] + res
                    met.append(mark(a["p99_us"] is not None and a["p99_us"] <= 2000))
        return "; ".join(res), " ".join(met)

    head = ("| workload | competitor | N | K | delay ms | screenshot | ok / runs | wall s | us/task | tasks/s "
            "| CPU s | peak RSS MiB | fake CPU s | error lines | result (same run) | target | met |")
    lines = [head, "|" + "---|" * 17]
    for key, a in agg.items():
        wl, client, n = key
        r0 = a["r0"]
        shot = int(r0["shot_bytes"])
        res, met = cmp_text(wl, client, a)
        if not a["good"]:
            res = "no ok run"
        role = r0["role"]
        name = NAMES.get(client, client) + (" (ref)" if role == "ref" else "")
        good = a["good"]
        lines.append("| " + " | ".join([
            WL_NAMES.get(wl, wl), name, n, r0["k"], r0["delay_ms"], f"{shot // 1024} KiB" if shot else "-",
            f"{len(good)}/{len(a['rows'])}" + (f" ({a['timeouts']} timed out)" if a["timeouts"] else ""),
            f(a["wall_s"], 3) + ("" if not good or good[0]["wall_from"] == "process" else " (loop)"),
            f(a["us_per_task"], 0 if (a["us_per_task"] or 0) > 100 else 1), f(a["tasks_per_s"], 0),
            f(a["cpu_s"]), f((a["rss_kb"] or 0) / 1024, 1) if a["rss_kb"] else "-", f(a["fake_cpu_s"]),
            str(a["errors"]), res, TARGETS.get(wl, "") if role == "subject" and res else "", met,
        ]) + " |")
    out = [f"Medians over the ok runs of each row; competitors ran alternately in each round "
           f"({max(len(a['rows']) for a in agg.values())} rounds).", ""] + lines + [""]
    out.append("wall s: optexity-chain's whole process (start-up included); the seed's and floor's own loop "
               "timing (their start-up excluded: it favours them). us/task = wall / N. CPU s = user + sys of the "
               "client process; peak RSS from /usr/bin/time -v. error lines: inputs without a success line, "
               "summed over all runs. ideal = ceil(N/K) x delay.")
    bad = [r for r in runs if r["outcome"] != "ok"]
    if bad:
        out += ["", "Runs left out of the medians:"]
        for r in bad:
            out.append(f"- {WL_NAMES.get(r['workload'], r['workload'])} {NAMES.get(r['client'], r['client'])} "
                       f"N={r['n']} rep{r['rep']}: {r['outcome']} (rc={r.get('rc')}, lines {r.get('lines', '?')}/"
                       f"{r['n']}, error lines {r['errors']}, after {f(r.get('proc_wall_s'), 1)} s; callbacks "
                       f"answered non-2xx {r.get('early_cb_rejected', '?')}, connection errors "
                       f"{r.get('cb_conn_retries', '?')}, given up by the fake {r.get('cb_given_up', '?')})")
    text = "\n".join(out) + "\n"
    with open(os.path.join(root, "table.md"), "w", encoding="utf-8") as t:
        t.write(text)
    print(text)


if __name__ == "__main__":
    main()
