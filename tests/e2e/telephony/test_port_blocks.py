"""RTP port blocks are claimed, not guessed: a block another process holds is never handed out."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys

from .telephony_peers import RTP_BLOCKS, _block_locks, _claim_block

HOLD = """
import fcntl, os, sys
for block in range({start}, {start} + {blocks}):
    fd = os.open(f"/tmp/hotline-rtp-block-{{block % {blocks}}}.lock", os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        continue
    print(block % {blocks}, flush=True)
    sys.stdin.read()
    break
"""


def test_a_block_another_process_holds_is_skipped_and_two_claims_differ() -> None:
    start = os.getpid() % RTP_BLOCKS  # where this process's search begins
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD.format(start=start, blocks=RTP_BLOCKS)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdin is not None
    try:
        held = int(holder.stdout.readline())
        first, second = _claim_block(), _claim_block()
        assert held not in (first, second) and first != second
    finally:
        holder.stdin.close()
        holder.wait(10)
        holder.stdout.close()
        for descriptor in _block_locks[-2:]:  # give this test's two claims back
            fcntl.flock(descriptor, fcntl.LOCK_UN)
            os.close(descriptor)
        del _block_locks[-2:]
