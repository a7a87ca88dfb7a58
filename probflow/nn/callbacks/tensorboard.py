"""`TensorBoard`: scalars per epoch and histograms of the posterior, via tensorboardX."""

from __future__ import annotations

import numpy as np

from probflow.nn.callbacks.base import Callback

__all__ = ["TensorBoard"]


def _summary_writer():
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError(
            "the TensorBoard callback needs tensorboardX, an optional extra: "
            "pip install 'probflow-jax[tensorboard]' (or pip install tensorboardX)"
        ) from None
    return SummaryWriter


class TensorBoard(Callback):
    """Writes TensorBoard event files under `log_dir`.

    Every epoch: one scalar per log (``epoch/loss``, ``epoch/val_loss``, ...) and the
    learning rate and KL weight. Every `histogram_freq` epochs: histograms of the
    posterior means and standard deviations of each Bayesian layer's weights
    (``<layer>/<weight>/mean``, ``.../stddev``) and of plain layers' weights.

    Args:
        log_dir: folder for the event files.
        histogram_freq: epochs between histograms; 0 turns them off.

    Raises:
        ImportError: naming the ``tensorboard`` extra when tensorboardX is missing.

    Example:
        >>> import tempfile
        >>> cb = TensorBoard(tempfile.mkdtemp(), histogram_freq=0)
    """

    def __init__(self, log_dir="logs", histogram_freq=1):
        super().__init__()
        self._writer_cls = _summary_writer()
        if isinstance(histogram_freq, bool) or not isinstance(histogram_freq, int) \
                or histogram_freq < 0:
            raise ValueError(f"`histogram_freq` must be an int >= 0; got {histogram_freq!r}")
        self.log_dir = str(log_dir)
        self.histogram_freq = histogram_freq
        self.writer = None

    def on_train_begin(self, logs=None):
        self.writer = self._writer_cls(logdir=self.log_dir)

    def _histograms(self, epoch):
        model = self.model
        posterior = model.posterior
        layer_params = model.params["layers"]
        for layer in model.layers:
            name = model.layer_name(layer)
            if name in posterior:
                for weight, dist in posterior[name].items():
                    self.writer.add_histogram(f"{name}/{weight}/mean",
                                              np.asarray(dist.mean()), epoch)
                    self.writer.add_histogram(f"{name}/{weight}/stddev",
                                              np.asarray(dist.stddev()), epoch)
            elif not getattr(layer, "is_bayesian", False):
                for weight, value in layer_params[name].items():
                    self.writer.add_histogram(f"{name}/{weight}", np.asarray(value), epoch)

    def on_epoch_end(self, epoch, logs=None):
        for name, value in (logs or {}).items():
            self.writer.add_scalar(f"epoch/{name}", float(value), epoch)
        lr = self.model.learning_rate
        if lr is not None:
            self.writer.add_scalar("epoch/learning_rate", lr, epoch)
        self.writer.add_scalar("epoch/kl_weight", self.model.kl_weight, epoch)
        if self.histogram_freq and (epoch + 1) % self.histogram_freq == 0:
            self._histograms(epoch)
        self.writer.flush()

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.writer.close()
            self.writer = None
