#!/usr/bin/env python3
"""Soak: N requests over long-lived HTTP/1.1 connections through a real hark, RSS sampled.

    bench/soak.py [--binary build/release/hark] [--requests 1000000] [--connections 32]

Starts hark (port 0, its own data directory, recording on) and a local asyncio origin, then
sends the requests as GETs on `--connections` keep-alive connections (each connection stays
open for the whole run). Hark's RSS is sampled after 10 000 requests and every 10 % after that;
the run passes when the RSS after the last request is within 10 % of the RSS after 10 000
(issue: no growth with the number of requests). Prints one line per sample and a verdict;
exits 1 on failure. Loopback only; stops by itself. Figures: docs/performance.md, Soak.
"""

import argparse
import asyncio
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

import harklib  # noqa: E402
import stresslib  # noqa: E402

WARM = 10_000


async def connection(proxy_port, origin_port, counter, total, errors):
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
    request = (b"GET http://127.0.0.1:%d/n/64 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
               % (origin_port, origin_port))
    while counter[0] < total:
        counter[0] += 1
        writer.write(request)
        status, body = await stresslib._read_response(reader)
        if status != 200 or len(body) != 64:
            errors.append(status)
            break
    writer.close()


async def sampler(pid, counter, total, samples):
    marks = [WARM] + [total * k // 10 for k in range(1, 11) if total * k // 10 > WARM]
    started = time.monotonic()
    for mark in marks:
        while counter[0] < mark:
            await asyncio.sleep(0.05)
        rss = harklib.rss_bytes(pid)
        cpu = harklib.cpu_seconds(pid)
        samples.append((mark, rss))
        elapsed = time.monotonic() - started
        print("soak: %8d requests  RSS %7.1f MiB  hark CPU %6.1f s  %6.0f req/s"
              % (mark, rss / 2**20, cpu, counter[0] / max(elapsed, 1e-9)), flush=True)


async def main(args):
    hark = harklib.start_hark(["--log-level", "warn"])
    try:
        server, origin_port = await stresslib.start_origin()
        counter, errors, samples = [0], [], []
        tasks = [connection(hark.proxy_port, origin_port, counter, args.requests, errors)
                 for _ in range(args.connections)]
        await asyncio.gather(sampler(hark.process.pid, counter, args.requests, samples), *tasks)
        server.close()
        if errors:
            print("soak: FAIL: %d bad answers (first: %r)" % (len(errors), errors[0]))
            return 1
        warm, last = samples[0][1], samples[-1][1]
        growth = (last - warm) / warm
        verdict = "PASS" if growth <= 0.10 else "FAIL"
        print("soak: %s: RSS after %d requests is %.1f MiB, %+.1f %% of %.1f MiB after %d"
              % (verdict, samples[-1][0], last / 2**20, 100 * growth, warm / 2**20, WARM))
        hark.stop(timeout=60)
        return 0 if verdict == "PASS" else 1
    finally:
        hark.kill9()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=os.path.join(HERE, "..", "build", "release", "hark"))
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--connections", type=int, default=32)
    ns = parser.parse_args()
    harklib.HARK_BINARY = os.path.abspath(ns.binary)
    sys.exit(asyncio.run(main(ns)))
