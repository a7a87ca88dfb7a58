"""Past one device: JAX's own sharding for data-parallel training and many hosts.

Nothing here schedules work or moves data by hand: `DataParallel` names a
`jax.sharding.Mesh` axis to split training batches over (the compiler partitions the
step and sums the gradients), and `initialize` joins several hosts into one JAX run.
Parallel MCMC chains are ``probflow.inference.sample(..., chain_method="parallel")``.

Example:
    >>> from probflow import distribute
    >>> distribute.make_mesh(1).devices.shape
    (1,)
"""

from probflow.distribute.data_parallel import DataParallel, make_mesh, resolve_distribution
from probflow.distribute.multihost import initialize, is_main_process, process_info

__all__ = [
    "DataParallel",
    "initialize",
    "is_main_process",
    "make_mesh",
    "process_info",
    "resolve_distribution",
]
