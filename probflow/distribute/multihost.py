"""Many hosts: one Python process per host, joined by `jax.distributed.initialize`.

What runs where. Every host runs the *same* script on the same data. After
`initialize`, ``jax.devices()`` lists the devices of every process and
``jax.local_devices()`` those of this one. A compiled program over a mesh that spans
hosts is launched by every process at once (each process drives its own devices) and
XLA's collectives carry the traffic between hosts; there is no parameter server and no
scheduler of our own. So:

* ``model.fit(..., distribution=DataParallel())`` on every host: each host holds a full
  copy of the data set and the parameters; the rows of each batch are split over all
  devices of all hosts; gradients are summed by the compiler's all-reduce; every host
  ends with the same parameters.
* ``inference.sample(..., chain_method="parallel")`` on every host: chains are split
  over all devices of all hosts; the draws are gathered into one `MCMCResult` in every
  process.
* Side effects (printing, saving files, writing logs) belong to one process:
  guard them with `is_main_process()`.
"""

from __future__ import annotations

import jax

__all__ = ["initialize", "is_main_process", "process_info"]


def initialize(coordinator_address=None, num_processes=None, process_id=None, *,
               local_device_ids=None, **kwargs) -> dict:
    """Joins this process to a multi-host JAX run (call once, before any JAX work).

    A thin wrapper of `jax.distributed.initialize`: the arguments mean the same, and on
    a managed cluster (SLURM, Cloud TPU, Kubernetes via its environment) they may all be
    left out. Calling it again once initialised does nothing.

    Args:
        coordinator_address: ``"host:port"`` of process 0, reachable from every host.
        num_processes: how many processes (usually one per host).
        process_id: this process's index in ``[0, num_processes)``.
        local_device_ids: restrict this process to some of its local devices.
        **kwargs: passed on to `jax.distributed.initialize` (timeouts, ...).

    Returns:
        `process_info()` after joining.

    Example (two hosts, the same script on each; ``PROCESS_ID`` is 0 on one, 1 on the other)::

        import os
        from probflow import distribute
        distribute.initialize("10.0.0.1:1234", num_processes=2,
                              process_id=int(os.environ["PROCESS_ID"]))
        model.fit(x, y, distribution=distribute.DataParallel())
        if distribute.is_main_process():
            model.save("model.probflow")
    """
    if not jax.distributed.is_initialized():
        jax.distributed.initialize(
            coordinator_address=coordinator_address, num_processes=num_processes,
            process_id=process_id, local_device_ids=local_device_ids, **kwargs)
    return process_info()


def process_info() -> dict:
    """Where this process stands: its index, the process count and the device counts.

    Returns:
        dict with ``process_index``, ``process_count``, ``local_device_count``,
        ``device_count`` and ``platform``.

    Example:
        >>> info = process_info()
        >>> info["process_index"], info["process_count"]
        (0, 1)
    """
    return {
        "process_index": jax.process_index(),
        "process_count": jax.process_count(),
        "local_device_count": jax.local_device_count(),
        "device_count": jax.device_count(),
        "platform": jax.default_backend(),
    }


def is_main_process() -> bool:
    """Whether this is process 0 (the one that should print, log and save).

    Example:
        >>> is_main_process()
        True
    """
    return jax.process_index() == 0
