"""Workers of ``baygate serve`` die with their supervisor.

uvicorn's workers are separate processes; if the supervisor is killed with SIGKILL (no chance to
stop them), they would go on answering on the shared port with no one to reload packs, replace them
or shut them down. On Linux the kernel can signal a child when its parent dies (PR_SET_PDEATHSIG);
elsewhere a thread watches the parent process id.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import threading
import time

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Arrange for SIGTERM (graceful shutdown) when the parent process dies."""
    parent = os.getppid()
    libc_name = ctypes.util.find_library("c")
    armed = False
    if libc_name:
        try:
            libc = ctypes.CDLL(libc_name, use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent:  # the parent died before the signal was armed
        os.kill(os.getpid(), signal.SIGTERM)
        return
    if not armed:
        threading.Thread(target=_watch, args=(parent,), name="parent-watch", daemon=True).start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)
