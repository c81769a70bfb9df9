"""Hidden battery for ex05_backprop.

- scalar_chain_grads: reference and numeric gradient of the four-parameter chain;
- init_mlp: keys, shapes, zero biases, fan-in scaled random weights, reproducible per seed (each case calls
  init_mlp twice with one seed and once with another, so its verdict depends on no other case);
- mlp_forward: Y_hat for depth 1 to 4 with each activation (the last layer affine + softmax), stable at huge logits;
- mlp_backward: the student's mlp_forward then mlp_backward on its own cache (probe `forward_backward`), compared
  with the reference gradients AND numeric gradients of the reference mean CCE, depth 1 to 4, each activation
  (relu networks are drawn with every hidden pre-activation at least 1e-3 away from the kink); params unchanged;
- mlp_loss: the default activation (relu), sigmoid and tanh, and a wrong class whose probability underflows to
  exactly 0 (0 * log 0 counts as 0: finite and exact);
- sgd_step (new dict, arguments unchanged, pairs by key), minibatches (the order of rng.permutation(N), last
  partial batch kept);
- train_mlp: the student's training loop on a 3-class spiral (300 points, a data seed not used in the notebook)
  with the TRAINING settings, which the notebook states; >= 95 % training accuracy (reference forward on the
  returned params) within 30 s, one finite loss per epoch, last < first;
- residual_backward: Y = X + relu(X W), reference and numeric VJPs, N = 1, l = 1, N != l, every entry of X W
  at least KINK_MARGIN away from the relu kink.
"""

import numpy as np

from autograder.gradcheck import numerical_gradient, numerical_vjp
from autograder.instructor.battery import (NUMERIC_ATOL, NUMERIC_RTOL, RNG, Battery, Case, Inputs, all_of,
                                           array_problem, call_case, expect_array, expect_dict, expect_scalar,
                                           expect_tuple, with_hint)
from autograder.instructor.reference import ex05_backprop as ref

battery = Battery("ex05_backprop")
ACTIVATIONS = ("relu", "sigmoid", "tanh")
KINK_MARGIN = 1e-3
SPIRAL_SEED = 90210
# reference: 99 % training accuracy in ~0.5 s; He, LeCun, Xavier, 0.1 and 0.01 initialisations with other
# seeds for the weights and the minibatch order all reach >= 97.7 % (measured).
TRAINING = dict(layer_sizes=[2, 100, 3], lr=0.5, epochs=1000, batch_size=32, seed=0)
MIN_ACCURACY = 0.95

# (layer sizes, N): depth 1 to 4, N = 1 included, non-square layers, K = 2, 3, 4
NETWORKS = [([3, 4], 5), ([2, 6, 3], 1), ([4, 5, 3, 2], 7), ([3, 4, 4, 5, 3], 6)]


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


def _away_from_kink(draw, relu_inputs):
    """draw() again until every entry of relu_inputs(*drawn) is >= KINK_MARGIN away from 0 (the relu kink)."""
    for _ in range(200):
        drawn = draw()
        if np.min(np.abs(relu_inputs(*drawn)), initial=np.inf) > KINK_MARGIN:
            return drawn
    raise RuntimeError("could not draw inputs away from relu kinks")


def _network(rng, sizes, N, activation):
    """Random params, X, one-hot Y; for relu, every hidden pre-activation is >= KINK_MARGIN away from 0."""
    def draw():
        params = {}
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            params[f"W{i}"] = rng.standard_normal((a, b)) / np.sqrt(a)
            params[f"b{i}"] = 0.1 * rng.standard_normal(b)
        return params, rng.standard_normal((N, sizes[0])), np.eye(sizes[-1])[rng.integers(0, sizes[-1], N)]
    if activation != "relu":
        return draw()
    return _away_from_kink(draw, lambda params, X, Y: _hidden_preactivations(params, X))


def _hidden_preactivations(params, X):
    """The hidden pre-activations Z_1, ..., Z_(L-1) of a relu network on X, all entries in one flat array."""
    n_layers, A, Zs = len(params) // 2, X, [np.array([])]
    for i in range(1, n_layers):
        Z = A @ params[f"W{i}"] + params[f"b{i}"]
        Zs.append(Z.ravel())
        A = np.maximum(Z, 0)
    return np.concatenate(Zs)


def _mean_cce(params, X, Y, activation):
    Y_hat, _ = ref.mlp_forward(params, X, activation)
    return -np.sum(Y * np.log(Y_hat)) / X.shape[0]


def _describe(sizes, N, activation=None):
    depth = len(sizes) - 1
    text = f"layers {sizes} (depth {depth}), N={N}"
    return text + (f", activation={activation!r}" if activation else "")


# ---------------------------------------------------------------- scalar_chain_grads

@battery.cases("scalar_chain_grads")
def _(rng):
    keys = ("w1", "b1", "w2", "w3")
    draws = [(float(rng.uniform(-2, 2)), float(rng.choice([0.0, 1.0, 0.3])), rng.uniform(-2, 2, 4))
             for _ in range(4)]
    draws.append((0.0, 1.0, rng.uniform(-2, 2, 4)))  # x = 0: dL/dw1 = 0
    for x, y, values in draws:
        params = {k: float(v) for k, v in zip(keys, values)}

        def loss(v, x=x, y=y):
            s = lambda t: 0.5 * (1 + np.tanh(0.5 * t))  # noqa: E731
            return 0.5 * (y - s(v[3] * s(v[2] * s(v[0] * x + v[1])))) ** 2
        numeric = numerical_gradient(loss, np.array([params[k] for k in keys]))
        shown = ", ".join(f"{k}={v:.3f}" for k, v in params.items())
        yield call_case(f"x={x:.3f}, y={y}, {shown}", "scalar_chain_grads", (x, y, params),
                        all_of(expect_dict(ref.scalar_chain_grads(x, y, params)),
                               expect_dict(dict(zip(keys, numeric)), rtol=NUMERIC_RTOL, atol=NUMERIC_ATOL)))


# ---------------------------------------------------------------- init_mlp

def _init_problem(params, sizes):
    """None if params is a valid init_mlp result for layer sizes `sizes`, else what is wrong with it."""
    if not isinstance(params, dict):
        return f"init_mlp must return a dict, got a {type(params).__name__}"
    expected_keys = {f"{p}{i}" for i in range(1, len(sizes)) for p in "Wb"}
    if set(params) != expected_keys:
        return f"keys are {sorted(params)}, expected {sorted(expected_keys)}"
    params = {k: np.asarray(v, dtype=float) for k, v in params.items()}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        W, bias = params[f"W{i}"], params[f"b{i}"]
        if W.shape != (a, b) or bias.shape != (b,):
            return f"W{i} has shape {W.shape} and b{i} {bias.shape}; expected {(a, b)} and {(b,)}"
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(bias))):
            return f"W{i} or b{i} contains NaN or inf"
        if np.any(bias != 0):
            return f"b{i} must start at zero"
        if np.all(W == W.flat[0]):
            return f"all entries of W{i} are equal: draw them at random (symmetry must be broken)"
        upper = min(2.0, 4.0 / np.sqrt(a))  # He std is 1.41 / sqrt(fan-in)
        if not 1e-3 <= W.std() <= upper:
            return (f"W{i} (fan-in {a}) has standard deviation {W.std():.3g}, outside [0.001, {upper:.3g}]: "
                    "scale the random weights by the fan-in, e.g. by sqrt(2 / fan_in)")
    return None


def _reproducible(sizes, seed, other_seed):
    """A check of [init_mlp(sizes, seed=seed), the same call again, init_mlp(sizes, seed=other_seed)]."""
    def check(result):
        first, again, other = result["value"]
        problem = next((p for p in (_init_problem(params, sizes) for params in (first, again, other)) if p), None)
        if problem:
            return problem
        if not all(np.array_equal(first[k], again[k]) for k in first):
            return f"two calls with seed={seed} gave different weights: draw them from np.random.default_rng(seed)"
        if np.array_equal(first["W1"], other["W1"]):
            return (f"seed={seed} and seed={other_seed} gave the same weights: pass the seed to the random "
                    "generator")
        return None
    return check


@battery.cases("init_mlp")
def _(rng):
    for sizes, seed, other_seed in (([2, 5, 3], 0, 7), ([4, 16, 8, 3], 1, 0), ([3, 2], 2, 3), ([64, 32, 10], 3, 4),
                                    ([5, 7, 6, 4, 2], int(rng.integers(10, 100)), 1)):
        yield Case(f"layer_sizes={sizes}, seed={seed} twice, then seed={other_seed}", "call_each",
                   ("init_mlp", [sizes], [{"seed": seed}, {"seed": seed}, {"seed": other_seed}]),
                   _reproducible(sizes, seed, other_seed), inputs=Inputs([sizes], ["layer_sizes"]))


# ---------------------------------------------------------------- mlp_forward

def _forward_case(description, params, X, activation, hint=None, **tolerance):
    Y_hat, _ = ref.mlp_forward(params, X, activation)
    check = expect_array(Y_hat, name="Y_hat", kind="value", **tolerance)
    check = with_hint(check, hint) if hint else check
    return Case(description, "call_part", ("mlp_forward", [params, X, activation], 0), check,
                inputs=[params, X, activation])


@battery.cases("mlp_forward")
def _(rng):
    for sizes, N in NETWORKS:
        for activation in ACTIVATIONS:
            params, X, _ = _network(rng, sizes, N, activation)
            yield _forward_case(_describe(sizes, N, activation), params, X, activation)
    # huge logits (stable softmax) and huge hidden pre-activations (sigmoid/tanh saturate, no NaN)
    params, X, _ = _network(rng, [2, 3], 4, "relu")
    params["W1"] *= 1e4
    yield _forward_case("large logits, layers [2, 3], N=4", params, X, "relu", atol=1e-12,
                        hint="The softmax must be stable: subtract each row's max before np.exp.")
    for activation in ACTIVATIONS:
        params, X, _ = _network(rng, [3, 5, 4], 3, activation)
        params["W1"] *= 1e3
        params["W2"] *= 1e3
        yield _forward_case(f"large pre-activations and logits, layers [3, 5, 4], N=3, activation={activation!r}",
                            params, X, activation, atol=1e-12,
                            hint="Saturated activations and huge logits must stay finite (a stable sigmoid, "
                                 "the row max subtracted in the softmax).")


# ---------------------------------------------------------------- mlp_backward

def _params_unchanged(result):
    if result.get("changed_params"):
        return (f"mlp_forward/mlp_backward modified params {result['changed_params']} in place: "
                "never change the parameters while computing gradients")
    return None


def _expect_grads(expected, N, what, rtol=1e-6, atol=1e-9):
    """A check of the gradient dict (the second part of the forward_backward value) against `expected`,
    layer by layer; `what` names expected in the message."""
    def check(result):
        grads = result["value"][1]
        if not isinstance(grads, dict):
            return f"mlp_backward must return a dict of gradients, got a {type(grads).__name__}"
        if set(grads) != set(expected):
            return f"the gradient dict has keys {sorted(grads)}, expected {sorted(expected)} (the keys of params)"
        for key in sorted(expected, key=lambda k: (int(k[1:]), k[0])):
            problem = array_problem(grads[key], expected[key], name=f"gradient [{key!r}]", rtol=rtol, atol=atol,
                                    batch_size=N)
            if problem:
                return f"{problem} (compared with {what})"
        return None
    return check


@battery.cases("mlp_backward")
def _(rng):
    for sizes, N in NETWORKS:
        for activation in ACTIVATIONS:
            params, X, Y = _network(rng, sizes, N, activation)
            _, cache = ref.mlp_forward(params, X, activation)
            numeric = {k: numerical_gradient(lambda v, k=k: _mean_cce(dict(params, **{k: v}), X, Y, activation),
                                             params[k].copy()) for k in params}
            check = all_of(_params_unchanged,
                           _expect_grads(ref.mlp_backward(params, cache, Y), N, "the expected gradient"),
                           _expect_grads(numeric, N, "the numeric gradient of the mean CCE", rtol=NUMERIC_RTOL,
                                         atol=NUMERIC_ATOL))
            yield Case(_describe(sizes, N, activation) + ", your mlp_forward then your mlp_backward",
                       "forward_backward", (params, X, Y, activation), check, inputs=[params, X, Y, activation])


# ---------------------------------------------------------------- mlp_loss

def _loss_case(description, args, hint=None):
    """mlp_loss(*args) (params, X, Y, then the activation unless the default) against the reference loss."""
    N, K = args[2].shape
    check = expect_scalar(ref.mlp_loss(*args), name="loss", kind="value", batch_size=N, per_sample=K)
    return call_case(description, "mlp_loss", args, with_hint(check, hint) if hint else check)


ZERO_PROBABILITY = ("0 * log 0 counts as 0, but 0 * np.log(0.0) is nan in numpy: take the log of the true "
                    "classes' probabilities only (where Y is 1).")


@battery.cases("mlp_loss")
def _(rng):
    for sizes, N in NETWORKS:
        params, X, Y = _network(rng, sizes, N, "relu")
        yield _loss_case(_describe(sizes, N) + " (default activation relu)", (params, X, Y))
    for sizes, N in NETWORKS:
        for activation in ("sigmoid", "tanh"):
            params, X, Y = _network(rng, sizes, N, activation)
            yield _loss_case(_describe(sizes, N, activation), (params, X, Y, activation))
    # the last class's logit is 1000 below the others: its probability is exactly 0, the true classes' are not
    params, X, _ = _network(rng, [3, 4, 3], 5, "relu")
    params["b2"] = params["b2"] - np.array([0.0, 0.0, 1000.0])
    Y = np.eye(3)[[0, 1, 1, 0, 1]]
    yield _loss_case("layers [3, 4, 3], N=5 (default activation relu), the probability of class 2 is exactly 0 "
                     "and no sample is of class 2", (params, X, Y), ZERO_PROBABILITY)


# ---------------------------------------------------------------- sgd_step

@battery.cases("sgd_step")
def _(rng):
    for sizes, reverse in (([2, 3], False), ([3, 5, 2], False), ([4, 4, 4, 2], False), ([3, 5, 2], True)):
        params = ref.init_mlp(sizes, seed=int(rng.integers(100)))
        for key in params:
            params[key] = params[key] + 0.1 * rng.standard_normal(params[key].shape)
        keys = list(params)[::-1] if reverse else list(params)
        grads = {k: rng.standard_normal(params[k].shape) for k in keys}
        lr = float(rng.choice([0.01, 0.5, 2.0]))
        order = " (grads has its keys in another order than params)" if reverse else ""
        check = expect_dict(ref.sgd_step(params, grads, lr))
        yield call_case(f"layers {sizes}, lr={lr}{order}", "sgd_step", (params, grads, lr),
                        with_hint(check, "Pair params and grads by key, not by position.") if reverse else check)


# ---------------------------------------------------------------- minibatches

@battery.cases("minibatches")
def _(rng):
    for N, batch_size in ((10, 3), (12, 4), (6, 6), (5, 8), (7, 1), (1, 2), (23, 5)):
        X, Y = rng.standard_normal((N, 3)), np.eye(2)[rng.integers(0, 2, N)]
        seed = int(rng.integers(1000))
        expected = list(ref.minibatches(X, Y, batch_size, np.random.default_rng(seed)))

        def check(result, expected=expected, N=N, batch_size=batch_size):
            batches = result["value"]
            if not isinstance(batches, list) or len(batches) != len(expected):
                sizes = [int(np.shape(b[0])[0]) if isinstance(b, tuple) and len(b) == 2 and np.ndim(b[0]) else "?"
                         for b in batches] if isinstance(batches, list) else "?"
                return (f"expected {len(expected)} batch(es) of sizes {[len(b[0]) for b in expected]}, got batch sizes "
                        f"{sizes} (every sample exactly once; keep the last, smaller batch)")
            for i, (got, want) in enumerate(zip(batches, expected)):
                if not isinstance(got, tuple) or len(got) != 2:
                    return f"batch {i} is not a pair (Xb, Yb)"
                for part, w, name in ((got[0], want[0], "Xb"), (got[1], want[1], "Yb")):
                    if np.shape(part) != w.shape:
                        return f"batch {i}: {name} has shape {np.shape(part)}, expected {w.shape}"
                    if not np.allclose(part, w):
                        return (f"batch {i}: {name} holds other samples: take the rows in the order of "
                                "order = rng.permutation(N) (drawn once per call), batch_size at a time, "
                                "X and Y with the same indices")
            return None
        yield Case(f"N={N}, batch_size={batch_size}, rng=np.random.default_rng(<seed>)", "collect",
                   ("minibatches", [X, Y, batch_size, RNG(seed)]), check, inputs=[X, Y, batch_size, None])


# ---------------------------------------------------------------- train_mlp

@battery.cases("train_mlp")
def _(rng):
    X, Y = spiral(SPIRAL_SEED)
    settings = TRAINING

    def check(result):
        value = result["value"]
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            return "train_mlp must return a pair (params, loss_history)"
        params, history = value
        try:
            history = np.asarray(history, dtype=float).ravel()
        except (TypeError, ValueError):
            return "loss_history must be a list of numbers (one mean training loss per epoch)"
        if history.size != settings["epochs"]:
            return f"loss_history has {history.size} entries, expected one per epoch ({settings['epochs']})"
        if not np.all(np.isfinite(history)):
            return "loss_history contains NaN or inf"
        if not history[-1] < history[0]:
            return "the training loss did not decrease (last epoch's loss >= first epoch's loss)"
        if not isinstance(params, dict):
            return f"the params returned must be a dict like init_mlp's, got a {type(params).__name__}"
        try:
            Y_hat, _ = ref.mlp_forward({k: np.asarray(v, dtype=float) for k, v in params.items()}, X, "relu")
            accuracy = np.mean(np.argmax(Y_hat, axis=1) == np.argmax(Y, axis=1))
        except Exception as exc:  # noqa: BLE001 - wrong keys or shapes
            return f"the returned params cannot be evaluated ({type(exc).__name__}: {exc})"
        if not accuracy >= MIN_ACCURACY:
            return f"training accuracy on the spiral is {accuracy:.1%}, below {MIN_ACCURACY:.0%}"
        return None
    shown = ", ".join(f"{k}={v}" for k, v in settings.items())
    yield call_case(f"3-class spiral (300 points), {shown}", "train_mlp",
                    (X, Y, settings["layer_sizes"], settings["lr"], settings["epochs"], settings["batch_size"]),
                    check, kwargs={"seed": settings["seed"]}, timeout=30.0)


# ---------------------------------------------------------------- residual_backward

# (N, l): X (N, l), W (l, l); N = l first (square X: a transposed dW keeps its shape), N = 1, l = 1, N != l
RESIDUAL_SHAPES = ((4, 4), (1, 3), (5, 1), (1, 1), (6, 3), (2, 5))
TWO_PATHS = "X reaches Y along two paths, the skip connection and relu(X W): dX is the sum of their gradients."


def _residual_forward(X, W):
    """Y = X + relu(X W): X (N, l), W (l, l) -> (N, l)."""
    return X + np.maximum(X @ W, 0.0)


@battery.cases("residual_backward")
def _(rng):
    for N, l in RESIDUAL_SHAPES:
        X, W = _away_from_kink(lambda: (rng.standard_normal((N, l)), rng.standard_normal((l, l))),
                               lambda X, W: X @ W)
        dY = rng.standard_normal((N, l))
        numeric = {"dX": numerical_vjp(lambda X_: _residual_forward(X_, W), X.copy(), dY),
                   "dW": numerical_vjp(lambda W_: _residual_forward(X, W_), W.copy(), dY)}
        factors = {"dY": dY, "X": X, "W": W, "dZ": dY * (X @ W > 0)}  # dZ: the gradient of the relu's input X W
        checks = {name: all_of(expect_array(expected, name=name, batch_size=N, operands=factors),
                               expect_array(numeric[name], name=f"{name} (compared with the numeric gradient of "
                                            "X + relu(X W))", rtol=NUMERIC_RTOL, atol=NUMERIC_ATOL, batch_size=N,
                                            operands=factors))
                  for name, expected in zip(("dX", "dW"), ref.residual_backward(dY, X, W))}
        yield call_case(f"X of shape ({N}, {l}), W of shape ({l}, {l})", "residual_backward", (dY, X, W),
                        expect_tuple(with_hint(checks["dX"], TWO_PATHS), checks["dW"]))
