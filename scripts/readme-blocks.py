#!/usr/bin/env python3
"""Runs the README's shell blocks marked `<!-- ci: run -->` exactly as written, one by one.

    scripts/readme-blocks.py [README.md] [--list]

Each block runs as `bash -euo pipefail` from the repository root, as a user pasting it would,
with a fresh data folder (LEDGERLITE_DATA_DIR), no other LEDGERLITE_* variable, and whatever
`ledgerlite` comes first on PATH (CI puts target/debug first). Where the machine allows it, the
block gets its own network namespace, so the README's default address 127.0.0.1:3002 is free.
Whatever a block leaves running is stopped when it ends. Ends with `N passed, N failed`.
"""

import os
import re
import signal
import subprocess
import sys
import tempfile

MARKER = "<!-- ci: run -->"
BLOCK_TIMEOUT_SECONDS = 120


def blocks(readme):
    """(line number, text) of every ```sh block right after the marker."""
    lines = open(readme, encoding="utf-8").read().split("\n")
    found, i = [], 0
    while i < len(lines):
        if lines[i].strip() == MARKER:
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j >= len(lines) or lines[j].strip() not in ("```sh", "```bash"):
                sys.exit(f"{readme}:{i + 1}: {MARKER} is not followed by a ```sh block")
            end = j + 1
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            found.append((j + 1, "\n".join(lines[j + 1 : end]) + "\n"))
            i = end
        i += 1
    return found


def own_network_namespace():
    """Whether `unshare -n` works here (root, or unprivileged namespaces allowed)."""
    try:
        probe = ["unshare", "-n", "true"]
        return subprocess.run(probe, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def run(line, text, isolated):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERLITE_")}
    with tempfile.TemporaryDirectory(prefix="readme-block-") as work:
        env["LEDGERLITE_DATA_DIR"] = os.path.join(work, "data")
        script = os.path.join(work, "block.sh")
        with open(script, "w", encoding="utf-8") as f:
            f.write(text)
        command = ["bash", "-euo", "pipefail", script]
        if isolated:
            command = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"] + command
        # Output to a file, not a pipe: a server left in the background would hold a pipe open.
        log_path = os.path.join(work, "block.log")
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
            try:
                code = proc.wait(timeout=BLOCK_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                code = f"timeout after {BLOCK_TIMEOUT_SECONDS} s"
            # Whatever the block started in the background shares its process group.
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            proc.wait()
        with open(log_path, "rb") as log:
            out = log.read()
    return code, out.decode(errors="replace")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    readme = args[0] if args else "README.md"
    found = blocks(readme)
    if "--list" in sys.argv:
        for line, text in found:
            print(f"--- {readme}:{line}\n{text}")
        return 0
    isolated = own_network_namespace()
    if not isolated:
        print("no network namespace here: blocks share this machine's 127.0.0.1:3002")
    passed = failed = 0
    for line, text in found:
        code, out = run(line, text, isolated)
        if code == 0:
            passed += 1
            print(f"ok     {readme}:{line}")
        else:
            failed += 1
            print(f"FAILED {readme}:{line} (exit {code})\n{text}--- output:\n{out}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not found else 0


if __name__ == "__main__":
    sys.exit(main())
