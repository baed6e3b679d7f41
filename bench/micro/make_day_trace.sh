#!/usr/bin/env bash
# make_day_trace.sh [CALLS_PER_SECOND] - prints a day of traffic as a replay trace (CSV) on
# stdout: CALLS_PER_SECOND calls (default 10) every second for 24 h, latencies of 20-200 ms,
# 2% failures, and a 30-minute outage at 10:00 where every call times out after 1 s.
set -euo pipefail

awk -v rate="${1:-10}" 'BEGIN {
    srand(42)
    print "time_ms,outcome,latency_ms"
    step = 1000 / rate
    for (t = 0; t < 86400000; t += step) {
        ms = int(t)
        if (ms >= 36000000 && ms < 37800000) {
            print ms ",timeout,1000"
        } else {
            print ms "," (rand() < 0.02 ? 500 : 200) "," int(20 + rand() * 180)
        }
    }
}'
