"""Data-parallel training on a JAX device mesh: the batch split, the parameters replicated.

`DataParallel` is a description, not a runtime: it names a `jax.sharding.Mesh` and the
mesh axis the batch is split over. The trainer places the training state and the data
set replicated on every device of the mesh (`replicate`) and, inside the one compiled
training step, constrains each batch to be split over the axis (`shard_batch`). XLA's
sharding propagation then partitions the forward and backward passes by rows and
inserts the all-reduce that sums the gradients; nothing here talks between devices.

Because `jit` means the same thing whatever the shardings, a data-parallel fit computes
the same function as a single-device one: the same permutation, the same per-example
weight noise (the random bits depend on the key and the shape, not on which device
holds which rows), the same mean over the whole batch. Only the summation order of
cross-device reductions differs, so results agree to float rounding.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

__all__ = ["DataParallel", "make_mesh", "resolve_distribution"]


def _auto_mesh(mesh: Mesh) -> Mesh:
    # Auto axes let the compiler propagate shardings from the batch constraint; Explicit
    # axes (jax.make_mesh's default) would ask every op to name its output sharding.
    if all(t == AxisType.Auto for t in mesh.axis_types):
        return mesh
    return Mesh(mesh.devices, mesh.axis_names, axis_types=(AxisType.Auto,) * mesh.devices.ndim)


def make_mesh(num_devices=None, *, axis_name="data", devices=None) -> Mesh:
    """A one-axis mesh over the first `num_devices` devices (all processes' devices).

    Args:
        num_devices: how many devices; None for all of ``jax.devices()`` (every process's
            devices after `probflow.distribute.initialize`).
        axis_name: the name of the mesh axis.
        devices: explicit device list (overrides `num_devices`).

    Returns:
        A `jax.sharding.Mesh` with automatic (propagated) sharding on its axis.

    Example:
        >>> mesh = make_mesh(1)
        >>> mesh.axis_names, mesh.devices.shape
        (('data',), (1,))
    """
    if not isinstance(axis_name, str) or not axis_name:
        raise TypeError(f"`axis_name` must be a non-empty str; got {axis_name!r}")
    if devices is None:
        available = jax.devices()
        if num_devices is None:
            num_devices = len(available)
        if isinstance(num_devices, bool) or not isinstance(num_devices, (int, np.integer)) \
                or not 1 <= num_devices <= len(available):
            raise ValueError(f"`num_devices` must be an int in [1, {len(available)}] (the "
                             f"devices JAX sees); got {num_devices!r}")
        devices = available[:int(num_devices)]
    devices = list(devices)
    if not devices:
        raise ValueError("`devices` must hold at least one device; got an empty list")
    return Mesh(np.array(devices), (axis_name,), axis_types=(AxisType.Auto,))


class DataParallel:
    """Split every training batch over a mesh axis; keep the parameters replicated.

    Args:
        mesh: a `jax.sharding.Mesh`; None builds a one-axis mesh over all devices when
            training starts (so it sees the devices of every process once
            `probflow.distribute.initialize` has run). Other mesh axes are replicated.
        axis_name: the mesh axis the batch is split over.

    The batch size must be a multiple of the axis size. The whole training set is
    replicated on every device (each step gathers its rows locally), so it must fit in
    one device's memory; the activations, the per-example gradients and the metrics of
    a batch are split.

    Example:
        >>> from probflow import distribute
        >>> strategy = distribute.DataParallel()
        >>> strategy.num_replicas >= 1
        True
    """

    def __init__(self, mesh=None, axis_name="data"):
        if not isinstance(axis_name, str) or not axis_name:
            raise TypeError(f"`axis_name` must be a non-empty str; got {axis_name!r}")
        if mesh is not None:
            if not isinstance(mesh, Mesh):
                raise TypeError(f"`mesh` must be a jax.sharding.Mesh or None; got "
                                f"{type(mesh).__name__}")
            if axis_name not in mesh.axis_names:
                raise ValueError(f"`axis_name` must name an axis of `mesh` "
                                 f"{tuple(mesh.axis_names)}; got {axis_name!r}")
            mesh = _auto_mesh(mesh)
        self._mesh = mesh
        self.axis_name = axis_name

    @property
    def mesh(self) -> Mesh:
        """The mesh (built over all devices on first use when none was given)."""
        if self._mesh is None:
            self._mesh = make_mesh(axis_name=self.axis_name)
        return self._mesh

    @property
    def num_replicas(self) -> int:
        """How many pieces each batch is split into (the size of the mesh axis)."""
        return int(self.mesh.shape[self.axis_name])

    @property
    def batch_sharding(self) -> NamedSharding:
        """Leading (example) axis split over `axis_name`, the rest replicated."""
        return NamedSharding(self.mesh, PartitionSpec(self.axis_name))

    @property
    def replicated(self) -> NamedSharding:
        """A full copy on every device of the mesh."""
        return NamedSharding(self.mesh, PartitionSpec())

    def check_batch_size(self, batch_size: int, where: str = "") -> None:
        """Raises ValueError unless `batch_size` splits evenly over the mesh axis.

        Args:
            batch_size: rows of one step.
            where: what gave it, for the message (e.g. "of the batches `x` yields").
        """
        if batch_size % self.num_replicas:
            lower = batch_size - batch_size % self.num_replicas
            raise ValueError(
                f"`batch_size`{' ' + where if where else ''} must be a multiple of the "
                f"{self.num_replicas} devices of mesh axis {self.axis_name!r} for "
                f"data-parallel training; got {batch_size} "
                f"(use {max(lower, self.num_replicas)} or {lower + self.num_replicas})")

    def replicate(self, tree):
        """Places every leaf of `tree` (host or device arrays) fully on every device.

        With several processes each one passes the same values (the same script on the
        same data), as `jax.make_array_from_process_local_data` expects.
        """
        sharding = self.replicated
        if sharding.is_fully_addressable:
            return jax.device_put(tree, sharding)

        def put(leaf):
            if jax.dtypes.issubdtype(getattr(leaf, "dtype", None), jax.dtypes.prng_key):
                data = np.asarray(jax.random.key_data(leaf))
                impl = jax.random.key_impl(leaf)
                return jax.random.wrap_key_data(
                    jax.make_array_from_process_local_data(sharding, data), impl=impl)
            return jax.make_array_from_process_local_data(sharding, np.asarray(leaf))

        return jax.tree_util.tree_map(put, tree)

    def shard_batch(self, tree):
        """Inside `jit`: constrains each leaf's leading axis to be split over the devices."""
        return jax.lax.with_sharding_constraint(tree, self.batch_sharding)

    def replicate_within(self, tree):
        """Inside `jit`: constrains `tree` to be replicated (parameters, optimizer state)."""
        return jax.lax.with_sharding_constraint(tree, self.replicated)

    def _key(self):
        mesh = self.mesh
        return (tuple(d.id for d in mesh.devices.flat), mesh.devices.shape,
                tuple(mesh.axis_names), self.axis_name)

    def __eq__(self, other):
        return isinstance(other, DataParallel) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        shape = dict(self.mesh.shape) if self._mesh is not None else "all devices"
        return f"DataParallel(mesh={shape}, axis_name={self.axis_name!r})"


def resolve_distribution(distribution=None, mesh=None):
    """`fit`'s ``distribution=`` / ``mesh=`` arguments as a `DataParallel` or None.

    Args:
        distribution: None, a `DataParallel`, or a `jax.sharding.Mesh` (split over its
            first axis).
        mesh: shorthand: ``mesh=m`` means ``DataParallel(m, axis_name=m.axis_names[0])``.

    Returns:
        None (single device) or a `DataParallel`.

    Example:
        >>> resolve_distribution() is None
        True
        >>> resolve_distribution(mesh=make_mesh(1)).num_replicas
        1
    """
    if distribution is not None and mesh is not None:
        raise ValueError("pass either `distribution` or `mesh`, not both; got "
                         f"distribution={distribution!r} and a mesh")
    if mesh is None and isinstance(distribution, Mesh):
        distribution, mesh = None, distribution
    if mesh is not None:
        if not isinstance(mesh, Mesh):
            raise TypeError(f"`mesh` must be a jax.sharding.Mesh; got {type(mesh).__name__}")
        return DataParallel(mesh, axis_name=mesh.axis_names[0])
    if distribution is None or isinstance(distribution, DataParallel):
        return distribution
    raise TypeError("`distribution` must be None, a probflow.distribute.DataParallel or a "
                    f"jax.sharding.Mesh; got {type(distribution).__name__}")

