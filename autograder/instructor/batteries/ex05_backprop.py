"""Hidden battery for ex05_backprop: gradient checks of the student's forward/backward pair on
networks of depth 1 to 4 with each activation, the minibatch order, SGD without side effects,
and training on a 3-class spiral (>= 95 % training accuracy within 30 s)."""

import numpy as np

from autograder.gradcheck import numerical_gradient
from autograder.instructor.battery import (RNG, Battery, Case, call_case, expect_array, expect_dict,
                                           expect_scalar)
from autograder.instructor.reference import ex05_backprop as ref

battery = Battery("ex05_backprop")
ACTIVATIONS = ("relu", "sigmoid", "tanh")
SPIRAL_SEED = 90210
TRAINING = dict(layer_sizes=[2, 100, 3], lr=0.5, epochs=500, batch_size=32)
MIN_ACCURACY = 0.95


def spiral(seed, per_class=100, classes=3):
    """The classic 2-D spiral: X (per_class * classes, 2), one-hot Y."""
    rng = np.random.default_rng(seed)
    X, labels = [], []
    for k in range(classes):
        r = np.linspace(0.0, 1.0, per_class)
        t = np.linspace(4 * k, 4 * (k + 1), per_class) + 0.2 * rng.standard_normal(per_class)
        X.append(np.c_[r * np.sin(t), r * np.cos(t)])
        labels += [k] * per_class
    return np.vstack(X), np.eye(classes)[labels]


def _both(*checks):
    return lambda result: next((p for p in (c(result) for c in checks) if p), None)


def _network(rng, sizes, N, activation):
    """Random params, X, one-hot Y; for relu, hidden pre-activations are kept away from the kink."""
    for _ in range(100):
        params = {}
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            params[f"W{i}"] = rng.standard_normal((a, b)) / np.sqrt(a)
            params[f"b{i}"] = 0.1 * rng.standard_normal(b)
        X = rng.standard_normal((N, sizes[0]))
        Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], N)]
        if activation != "relu" or _min_hidden_preactivation(params, X) > 1e-3:
            return params, X, Y
    raise RuntimeError("could not draw a network away from relu kinks")


def _min_hidden_preactivation(params, X):
    n_layers, A, smallest = len(params) // 2, X, np.inf
    for i in range(1, n_layers):
        Z = A @ params[f"W{i}"] + params[f"b{i}"]
        smallest = min(smallest, np.min(np.abs(Z)))
        A = np.maximum(Z, 0)
    return smallest


def _mean_cce(params, X, Y, activation):
    Y_hat, _ = ref.mlp_forward(params, X, activation)
    return -np.sum(Y * np.log(Y_hat)) / X.shape[0]


@battery.cases("scalar_chain_grads")
def _(rng):
    keys = ("w1", "b1", "w2", "w3")
    for _ in range(4):
        params = {k: float(v) for k, v in zip(keys, rng.uniform(-2, 2, 4))}
        x, y = float(rng.uniform(-2, 2)), float(rng.choice([0.0, 1.0, 0.3]))

        def loss(v, x=x, y=y):
            s = lambda t: 0.5 * (1 + np.tanh(0.5 * t))  # noqa: E731
            return 0.5 * (y - s(v[3] * s(v[2] * s(v[0] * x + v[1])))) ** 2
        numeric = numerical_gradient(loss, np.array([params[k] for k in keys]))
        yield call_case(f"x={x:.3f}, y={y}, params {params}", "scalar_chain_grads", (x, y, params),
                        _both(expect_dict(ref.scalar_chain_grads(x, y, params)),
                              expect_dict(dict(zip(keys, numeric)), rtol=1e-5, atol=1e-8)))


@battery.cases("init_mlp")
def _(rng):
    seen = {}

    def check(sizes, seed):
        def inner(result):
            params = result["value"]
            if not isinstance(params, dict):
                return f"init_mlp must return a dict, got a {type(params).__name__}"
            expected_keys = {f"{p}{i}" for i in range(1, len(sizes)) for p in "Wb"}
            if set(params) != expected_keys:
                return f"keys are {sorted(params)}, expected {sorted(expected_keys)}"
            for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
                W, bias = np.asarray(params[f"W{i}"]), np.asarray(params[f"b{i}"])
                if W.shape != (a, b) or bias.shape != (b,):
                    return f"W{i} has shape {W.shape} and b{i} {bias.shape}; expected {(a, b)} and {(b,)}"
                if np.any(bias != 0):
                    return f"b{i} must start at zero"
                if W.size > 1 and not (1e-3 <= W.std() <= 2.0):
                    return f"W{i} has standard deviation {W.std():.3g}: scale the weights by the fan-in"
                if W.size > 1 and np.all(W == W.flat[0]):
                    return f"all entries of W{i} are equal: draw them at random (symmetry must be broken)"
            key = (tuple(sizes), seed)
            if key in seen and not all(np.array_equal(seen[key][k], params[k]) for k in params):
                return f"two calls with seed={seed} gave different weights: use np.random.default_rng(seed)"
            others = [v for (s, sd), v in seen.items() if s == tuple(sizes) and sd != seed]
            if others and np.array_equal(others[0]["W1"], params["W1"]):
                return "different seeds gave the same weights: pass the seed to the generator"
            seen[key] = params
            return None
        return inner

    for sizes, seed in (([2, 5, 3], 0), ([2, 5, 3], 0), ([2, 5, 3], 7), ([4, 16, 8, 3], 1), ([3, 2], 2)):
        yield call_case(f"layer_sizes={sizes}, seed={seed}", "init_mlp", (sizes,), check(sizes, seed),
                        kwargs={"seed": seed})


NETWORKS = [([3, 4], 5), ([2, 6, 3], 1), ([4, 5, 3, 2], 7), ([3, 4, 4, 5, 3], 6)]


@battery.cases("mlp_forward")
def _(rng):
    for sizes, N in NETWORKS:
        for activation in ACTIVATIONS:
            params, X, _ = _network(rng, sizes, N, activation)
            Y_hat, _ = ref.mlp_forward(params, X, activation)
            yield Case(f"layers {sizes}, N={N}, activation={activation}", "call_part",
                       ("mlp_forward", [params, X, activation], 0), expect_array(Y_hat, name="Y_hat"),
                       inputs=[params, X, activation])
    params, X, _ = _network(rng, [2, 3], 2, "relu")
    params["W1"] *= 1e4
    yield Case("large logits (stable softmax)", "call_part", ("mlp_forward", [params, X, "relu"], 0),
               expect_array(ref.mlp_forward(params, X, "relu")[0], name="Y_hat", atol=1e-12),
               inputs=[params, X, "relu"])


@battery.cases("mlp_backward")
def _(rng):
    for sizes, N in NETWORKS:
        for activation in ACTIVATIONS:
            params, X, Y = _network(rng, sizes, N, activation)
            _, cache = ref.mlp_forward(params, X, activation)
            expected = ref.mlp_backward(params, cache, Y)
            numeric = {k: numerical_gradient(lambda v, k=k: _mean_cce(dict(params, **{k: v}), X, Y, activation),
                                             params[k].copy()) for k in params}

            def check(result, expected=expected, numeric=numeric):
                if result.get("changed_params"):
                    return f"mlp_forward/mlp_backward modified params {result['changed_params']} in place"
                grads = {"value": result["value"][1]}
                return expect_dict(expected)(grads) or expect_dict(numeric, rtol=1e-5, atol=1e-7)(grads)
            yield Case(f"layers {sizes}, N={N}, activation={activation}", "forward_backward",
                       (params, X, Y, activation), check, inputs=[params, X, Y, activation])


@battery.cases("mlp_loss")
def _(rng):
    for sizes, N in NETWORKS[:3]:
        params, X, Y = _network(rng, sizes, N, "relu")
        yield call_case(f"layers {sizes}, N={N}", "mlp_loss", (params, X, Y),
                        expect_scalar(ref.mlp_loss(params, X, Y), name="loss"))


@battery.cases("sgd_step")
def _(rng):
    for sizes in ([2, 3], [3, 5, 2], [4, 4, 4, 2]):
        params = ref.init_mlp(sizes, seed=int(rng.integers(100)))
        grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
        lr = float(rng.choice([0.01, 0.5, 2.0]))
        yield call_case(f"layers {sizes}, lr={lr}", "sgd_step", (params, grads, lr),
                        expect_dict(ref.sgd_step(params, grads, lr)))


@battery.cases("minibatches")
def _(rng):
    for N, batch_size in ((10, 3), (12, 4), (5, 8), (7, 1), (1, 2)):
        X, Y = rng.standard_normal((N, 3)), np.eye(2)[rng.integers(0, 2, N)]
        seed = int(rng.integers(1000))
        expected = list(ref.minibatches(X, Y, batch_size, np.random.default_rng(seed)))

        def check(result, expected=expected, N=N, batch_size=batch_size):
            batches = result["value"]
            if not isinstance(batches, list) or len(batches) != len(expected):
                count = len(batches) if isinstance(batches, list) else "?"
                return (f"N={N}, batch_size={batch_size}: expected {len(expected)} batches, got {count} "
                        "(every sample exactly once; the last batch may be smaller)")
            for i, (got, want) in enumerate(zip(batches, expected)):
                if not isinstance(got, tuple) or len(got) != 2:
                    return f"batch {i} is not a pair (Xb, Yb)"
                for part, w, name in ((got[0], want[0], "Xb"), (got[1], want[1], "Yb")):
                    if np.shape(part) != w.shape or not np.allclose(part, w):
                        return (f"batch {i}: {name} differs (shape {np.shape(part)} vs {w.shape}); batches must "
                                "follow rng.permutation(N), drawn once per call")
            return None
        yield Case(f"N={N}, batch_size={batch_size}", "collect", ("minibatches", [X, Y, batch_size, RNG(seed)]),
                   check, inputs=[X, Y, batch_size, None])


@battery.cases("train_mlp")
def _(rng):
    X, Y = spiral(SPIRAL_SEED)
    settings = TRAINING

    def check(result):
        value = result["value"]
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            return "train_mlp must return (params, loss_history)"
        params, history = value
        history = np.asarray(history, dtype=float).ravel()
        if history.size != settings["epochs"]:
            return f"loss_history has {history.size} entries, expected one per epoch ({settings['epochs']})"
        if not np.all(np.isfinite(history)) or not history[-1] < history[0]:
            return "the training loss must be finite and decrease"
        try:
            Y_hat, _ = ref.mlp_forward({k: np.asarray(v, dtype=float) for k, v in params.items()}, X, "relu")
        except Exception as exc:  # noqa: BLE001 - wrong keys or shapes
            return f"the returned params cannot be evaluated ({type(exc).__name__}: {exc})"
        accuracy = np.mean(np.argmax(Y_hat, axis=1) == np.argmax(Y, axis=1))
        if accuracy < MIN_ACCURACY:
            return f"training accuracy on the spiral is {accuracy:.1%}, below {MIN_ACCURACY:.0%}"
        return None
    yield call_case(f"3-class spiral (300 points), {settings}", "train_mlp",
                    (X, Y, settings["layer_sizes"], settings["lr"], settings["epochs"], settings["batch_size"]),
                    check, timeout=30.0)
