"""save/load after sampling methods: the weight draws (and NUTS's sample stats) travel in
the archive, so a loaded model predicts exactly like the fitted one; tampered draws are
refused with the array named."""

import zipfile

import numpy as np
import pytest

from probflow import nn
from probflow.nn.saving import archive

RNG = np.random.default_rng(3)
X = RNG.normal(size=(24, 3)).astype(np.float32)
Y = (X[:, 0] - X[:, 1] > 0).astype(np.int32)

FITS = {
    "sghmc": dict(epochs=2, batch_size=8, num_chains=2),
    "ensemble": dict(epochs=2, batch_size=8, num_members=3),
    "nuts": dict(num_warmup=15, num_samples=10, num_chains=2),
}


def _fitted(method):
    model = nn.Sequential([nn.Input((3,)), nn.Dense(4, activation="tanh", name="hidden"),
                           nn.Dense(2, name="logits")])
    model.compile(likelihood="categorical")
    model.fit(X, Y, method=method, seed=1, verbose=0, **FITS[method])
    return model


@pytest.fixture(scope="module", params=sorted(FITS))
def saved(request, tmp_path_factory):
    model = _fitted(request.param)
    path = tmp_path_factory.mktemp(request.param) / "m.probflow"
    model.save(path)
    return request.param, model, path


def test_loaded_model_predicts_from_the_same_draws(saved):
    method, model, path = saved
    loaded = nn.load_model(path)
    assert loaded.fitted_posterior.method == method
    assert loaded.fitted_posterior.draws.shape == model.fitted_posterior.draws.shape
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    a = loaded.posterior_samples(5)
    b = model.posterior_samples(5)
    for u, v in zip(np.asarray(a["layers"]["hidden"]["kernel"]),
                    np.asarray(b["layers"]["hidden"]["kernel"])):
        np.testing.assert_array_equal(u, v)
    assert loaded.evaluate(X, Y, seed=0) == model.evaluate(X, Y, seed=0)


def test_sample_stats_survive(saved):
    method, model, path = saved
    loaded = nn.load_model(path)
    if method == "ensemble":  # members are not a sampler: no per-draw statistics
        assert model.fitted_posterior.stats is None and loaded.fitted_posterior.stats is None
        return
    assert set(loaded.fitted_posterior.stats) == set(model.fitted_posterior.stats)
    for name, value in model.fitted_posterior.stats.items():
        np.testing.assert_array_equal(loaded.fitted_posterior.stats[name], value)
    if method == "nuts":
        assert "diverging" in loaded.to_arviz(X, Y, num_samples=10).sample_stats


def _rewrite(path, target, change):
    config, arrays = archive.read_archive(path)
    change(config, arrays)
    archive.write_archive(target, config, arrays)


def test_tampered_draws_are_refused_naming_the_array(saved, tmp_path):
    _, _, path = saved
    name = "weight_draws/weights/layers/hidden/kernel"

    def reshape(config, arrays):
        arrays[name] = np.concatenate([arrays[name]] * 2, axis=1)

    def drop(config, arrays):
        del arrays[name]

    def stray(config, arrays):
        arrays["weight_draws/weights/layers/extra"] = np.zeros(2, np.float32)

    def count(config, arrays):
        config["weight_draws"]["num_chains"] = "two"

    for change, message in [(reshape, "layer 'hidden' weight 'kernel'"),
                            (drop, "is missing"), (stray, "does not have"),
                            (count, "num_chains must be an int")]:
        target = tmp_path / f"{change.__name__}.probflow"
        _rewrite(path, target, change)
        with pytest.raises(ValueError, match=message):
            nn.load_model(target)


def test_draws_without_a_compiled_model_are_refused(saved, tmp_path):
    _, _, path = saved
    target = tmp_path / "uncompiled.probflow"
    _rewrite(path, target, lambda config, arrays: config.update(compile=None, likelihood=None,
                                                                  training={}))
    with pytest.raises(ValueError, match="compile settings"):
        nn.load_model(target)
    assert zipfile.is_zipfile(path)


def test_save_weights_refuses_draws_and_points_to_save(saved, tmp_path):
    method, model, _ = saved
    with pytest.raises(ValueError, match=f"method='{method}'.*model.save"):
        model.save_weights(tmp_path / "w.probflow")
    assert not (tmp_path / "w.probflow").exists()
