"""Open files: every stream holds two sockets (the caller's and Bedrock's), so a process serving
thousands of streams needs more than the 1,024 descriptors many systems allow by default.

``fmgate serve`` raises its soft limit to the hard limit the operator (or the container
runtime) granted, as Go's runtime does at start; it never asks for more than that.
"""

from __future__ import annotations

import logging
import resource

logger = logging.getLogger("fmgate.server")


def raise_open_file_limit() -> int:
    """Lift the soft open-file limit to the hard one; the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 1_048_576)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ValueError, OSError) as exc:
        logger.warning("open-file limit stays at %d: %s", soft, exc)
        return soft
    logger.info("open-file limit raised from %d to %d", soft, wanted)
    return wanted
