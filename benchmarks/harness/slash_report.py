"""Figures of the slash-command benchmark: one line per window, the summary, the targets, the JSON."""

from __future__ import annotations

import contextlib
import json
import os
import platform
from pathlib import Path

from harness.machine import source_revision
from harness.stats import RunResult, percentile

P99_TARGET_MS = 50.0
THROUGHPUT_TARGET = 0.80  # bot throughput >= 80% of the bare app's
NOISE_WARNING = 0.25  # cores used by other processes during a window before the figures are flagged


def print_run(result: RunResult) -> None:
    s = result.stats()
    cpu = ""
    if result.server_cpu is not None:
        cpu = f"  CPU cores: server {result.server_cpu:.2f}, client {result.client_cpu:.2f}"
        if result.other_cpu is not None:
            cpu += f", other {result.other_cpu:.2f}"
        if result.steal:
            cpu += f", steal {result.steal:.2f}"
    print(
        f"  {result.name:<26} p50 {s['p50']:6.1f}  p90 {s['p90']:6.1f}  p99 {s['p99']:6.1f}  max {s['max']:6.1f} ms"
        f"  {result.throughput:5.0f} req/s  errors {result.errors}{cpu}",
        flush=True,
    )
    if result.errors:
        print(f"    answers: {result.statuses}", flush=True)
    if result.mode == "open" and result.send_lag_ms:
        lag = sorted(result.send_lag_ms)
        print(
            f"    {result.offered} requests sent at {result.offered_rate:.1f}/s;"
            f" load generator send lag p99 {percentile(lag, 99):.2f} ms (counted in the latencies)",
            flush=True,
        )


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def log_counts(path: Path) -> tuple[int, list[str]]:
    """(access lines, error lines) in a bot server's log."""
    access, errors = 0, []
    with contextlib.suppress(OSError), open(path, "rb") as fh:
        for line in fh:
            if b'"logger": "quolum.access"' in line:
                access += 1
            if b'"level": "error"' in line or b"Traceback" in line:
                errors.append(line.decode(errors="replace").rstrip()[:300])
    return access, errors


def summarize(
    args,
    targets: list,
    bot,
    bare,
    burst_calls: int | None,
    access: int,
    errors: list[str],
    started,
    speed_before: float,
    speed_after: float,
) -> None:
    """Print the summary and the targets with PASS/MISS; write the JSON report when asked."""
    p99 = bot.open.stats()["p99"]
    ratio = bot.throughput / bare.throughput if bare.throughput else 0.0
    p99_ok = p99 < P99_TARGET_MS and bot.open.errors == 0
    ratio_ok = ratio >= THROUGHPUT_TARGET and not any(r.errors for r in bot.closed)
    steady_auth = bot.auth_calls - (burst_calls or 0)
    windows = [r for t in targets for r in ([t.open] if t.open else []) + t.closed]
    noise = max((r.other_cpu or 0.0) + (r.steal or 0.0) for r in windows)

    print("\nSummary (throughput: median of the rounds, [min–max]):", flush=True)
    for target in targets:
        values = [r.throughput for r in target.closed]
        line = f"  {target.label:<11} {target.throughput:5.0f} req/s [{min(values):.0f}–{max(values):.0f}]"
        line += f", {target.cpu_ms_per_request:.2f} ms server CPU per request"
        if target.open:
            st = target.open.stats()
            line += (
                f"; at {args.rate:g}/s p50 {st['p50']:.1f}, p90 {st['p90']:.1f}, p99 {st['p99']:.1f},"
                f" max {st['max']:.1f} ms"
            )
        print(line, flush=True)
    print(f"  bot access log: {access} lines, one per request", flush=True)
    print(
        f"  speed check (a fixed Python loop, lower is faster): {speed_before:.1f} ms before,"
        f" {speed_after:.1f} ms after",
        flush=True,
    )
    for line in errors[:5]:
        print(f"  bot logged an error: {line}", flush=True)
    if noise > NOISE_WARNING:
        print(
            f"  note: other processes (or the hypervisor) took up to {noise:.2f} cores during a window; on a "
            f"{os.cpu_count()}-CPU machine that makes these figures noisy. Rerun on a quiet machine.",
            flush=True,
        )

    kept = bot.open.kept_timetable(args.rate)
    if not kept:
        print(
            f"  note: the load generator fell behind its timetable in the bot's latency run (sent at "
            f"{bot.open.offered_rate:.1f}/s, send lag p99 {percentile(sorted(bot.open.send_lag_ms), 99):.1f} ms):"
            " its own delays are in those latencies. Rerun on a quiet machine.",
            flush=True,
        )
    caveat = "" if noise <= NOISE_WARNING and kept else " (noisy machine, see above)"

    print("\nTargets:")
    print(
        f"  bot p99 at {args.rate:g} requests/s: {p99:.1f} ms (target < {P99_TARGET_MS:g} ms, no errors)"
        f"  {verdict(p99_ok)}{caveat}"
    )
    print(
        f"  bot throughput {bot.throughput:.0f} req/s = {ratio:.2f} × the bare app's {bare.throughput:.0f} req/s"
        f" (target ≥ {THROUGHPUT_TARGET:.2f})  {verdict(ratio_ok)}{caveat}"
    )
    print(
        f"    (server CPU per request: bot {bot.cpu_ms_per_request:.2f} ms, bare {bare.cpu_ms_per_request:.2f} ms,"
        f" bare/bot {bare.cpu_ms_per_request / bot.cpu_ms_per_request:.2f})"
    )
    requests = sum(r.offered for r in ([bot.open] if bot.open else []) + bot.closed)
    print(
        f"  auth.test calls by the bot over {requests} measured requests (and their warm-ups): {steady_auth}"
        f" (target ≤ 1: authorisation is cached)  {verdict(steady_auth <= 1)}"
    )
    if burst_calls is not None:
        print(
            f"  auth.test calls by the bot for {args.cold_burst} concurrent first requests: {burst_calls}"
            f" (target ≤ 1)  {verdict(burst_calls <= 1)}",
            flush=True,
        )
    if args.json:
        report = {
            "date": started.isoformat(timespec="seconds"),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "source": source_revision(),
            "args": {
                k: v for k, v in vars(args).items() if k not in ("serve_baseline", "port", "json", "keep")
            },
            "servers": {
                t.label: {
                    "throughput_rps": round(t.throughput, 1),
                    "server_cpu_ms_per_request": round(t.cpu_ms_per_request, 3),
                    "auth_test_calls": t.auth_calls,
                    "open_loop": t.open.as_dict() if t.open else None,
                    "closed_loop": [r.as_dict() for r in t.closed],
                }
                for t in targets
            },
            "bot_access_log_lines": access,
            "max_other_cpu_cores": round(noise, 2),
            "speed_check_ms": [round(speed_before, 2), round(speed_after, 2)],
            "load_generator_kept_timetable": kept,
            "targets": {
                "p99_ms": round(p99, 2),
                "p99_pass": p99_ok,
                "throughput_ratio": round(ratio, 3),
                "throughput_pass": ratio_ok,
                "auth_test_calls": steady_auth,
                "auth_test_pass": steady_auth <= 1,
                "cold_burst_auth_test_calls": burst_calls,
            },
        }
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
