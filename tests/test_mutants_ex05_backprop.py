"""ex05_backprop: plausible wrong answers are rejected by the hidden battery, correct variants accepted.

Each mutant is a complete answer cell: the solution cell with one planted bug (`edit`) or a short
definition (`d`). The judge runs the battery of the mutated function only (tests.mutation.verdict_with).
"""

import nbformat
import numpy as np

from autograder.instructor.batteries import load_battery
from autograder.instructor.batteries.ex05_backprop import TRAINING
from autograder.instructor.reference import ex05_backprop as ref
from autograder.sandbox import probes
from tests.mutation import ROOT, diagnosis_test, mutation_tests, solution_cells
from tests.mutation import define as d

A = "ex05_backprop"


def edit(name, old, new):
    """The solution's cell defining `name`, with `old` replaced by `new` (a one-line planted bug)."""
    cell = next(src for src in solution_cells(A) if f"def {name}(" in src)
    assert old in cell, f"{old!r} not in the solution of {name}"
    return cell.replace(old, new)


G_PRIME = 'dZ = _activation_backward(dA, cache["outputs"][i - 2], cache["activation"])'

MUTANTS = {
    "scalar_chain_grads": [
        edit("scalar_chain_grads", "delta3 = (a3 - y) * a3 * (1 - a3)", "delta3 = (y - a3) * a3 * (1 - a3)"),  # sign
        edit("scalar_chain_grads", "delta3 = (a3 - y) * a3 * (1 - a3)", "delta3 = a3 - y"),  # forgets s' at output
        edit("scalar_chain_grads", "delta2 = delta3 * w3 * a2 * (1 - a2)", "delta2 = delta3 * a2 * (1 - a2)"),  # no w3
        edit("scalar_chain_grads", '"w2": delta2 * a1', '"w2": delta2 * a2'),                 # wrong layer input
        edit("scalar_chain_grads", '"w1": delta1 * x, "b1": delta1', '"w1": delta1, "b1": delta1 * x'),  # swapped
    ],
    "init_mlp": [
        edit("init_mlp", "np.random.default_rng(seed)", "np.random.default_rng()"),        # ignores the seed
        edit("init_mlp", "np.random.default_rng(seed)", "np.random.default_rng(0)"),       # ... one fixed seed
        edit("init_mlp", 'params[f"b{i}"] = np.zeros(fan_out)', 'params[f"b{i}"] = np.ones(fan_out)'),
        edit("init_mlp", "rng.standard_normal((fan_in, fan_out))", "rng.standard_normal((fan_out, fan_in))"),
        edit("init_mlp", "rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)",
             "np.full((fan_in, fan_out), 0.1)"),                                            # symmetric
        edit("init_mlp", " * np.sqrt(2.0 / fan_in)", ""),                                   # not scaled by fan-in
        edit("init_mlp", "np.sqrt(2.0 / fan_in)", "np.sqrt(2.0 * fan_in)"),                 # scaled the wrong way
    ],
    "mlp_forward": [
        edit("mlp_forward", "        if i < n_layers:\n            A = _ACTIVATIONS[activation](Z)",
             "        Z = _ACTIVATIONS[activation](Z)\n        if i < n_layers:\n            A = Z"),  # g on the last layer
        edit("mlp_forward", "E = np.exp(Z - Z.max(axis=1, keepdims=True))", "E = np.exp(Z)"),  # unstable softmax
        edit("mlp_forward", "Y_hat = E / E.sum(axis=1, keepdims=True)", "Y_hat = E / E.sum()"),  # global normalisation
        edit("mlp_forward", "E = np.exp(Z - Z.max(axis=1, keepdims=True))\n    Y_hat = E / E.sum(axis=1, keepdims=True)",
             "E = np.exp(Z - Z.max(axis=0, keepdims=True))\n    Y_hat = E / E.sum(axis=0, keepdims=True)"),  # axis 0
        edit("mlp_forward", "A = _ACTIVATIONS[activation](Z)", "A = _ACTIVATIONS['relu'](Z)"),  # ignores activation
        edit("mlp_forward", 'Z = A @ params[f"W{i}"] + params[f"b{i}"]', 'Z = A @ params[f"W{i}"]'),  # forgets b
        edit("mlp_forward", '"sigmoid": lambda Z: 0.5 * (1.0 + np.tanh(0.5 * Z))',
             '"sigmoid": lambda Z: np.exp(Z) / (1 + np.exp(Z))'),                           # NaN at z = 1000
    ],
    "mlp_backward": [
        edit("mlp_backward", G_PRIME, "dZ = dA"),                                            # forgets g' everywhere
        edit("mlp_backward", G_PRIME, "dZ = dA if i == 2 else " + G_PRIME[5:]),              # ... in one layer only
        edit("mlp_backward", 'grads[f"W{i}"] = cache["inputs"][i - 1].T @ dZ',
             'grads[f"W{i}"] = dZ.T @ cache["inputs"][i - 1]'),                              # dW transposed
        edit("mlp_backward", 'grads[f"b{i}"] = dZ.sum(axis=0)', 'grads[f"b{i}"] = dZ.sum(axis=1)'),  # db axis 1
        edit("mlp_backward", 'dZ = (cache["Y_hat"] - Y) / Y.shape[0]', 'dZ = cache["Y_hat"] - Y'),  # missing 1/N
        edit("mlp_backward", 'dZ = (cache["Y_hat"] - Y) / Y.shape[0]', 'dZ = (Y - cache["Y_hat"]) / Y.shape[0]'),  # sign
        edit("mlp_backward", 'dA = dZ @ params[f"W{i}"].T',
             'dA = dZ @ params[f"W{i - 1}"].T if i > 2 else dZ @ params[f"W{i}"].T'),         # wrong layer's W
        edit("mlp_backward", "return dA * (A > 0)", "return dA * (A >= 0)"),                 # relu mask always 1
        edit("mlp_backward", "return dA * A * (1 - A)",
             "S = 0.5 * (1 + np.tanh(0.5 * A))\n        return dA * S * (1 - S)"),            # sigma'(A), not sigma'(Z)
        edit("mlp_backward", G_PRIME, 'dZ = _activation_backward(dA, cache["outputs"][i - 2], "relu")'),  # relu always
        edit("mlp_backward", "grads = {}", "grads = params"),                               # writes into params
    ],
    "mlp_loss": [
        edit("mlp_loss", "return float(-np.sum(Y * log_Y_hat) / X.shape[0])",
             "return float(-np.sum(Y * log_Y_hat))"),                                       # no 1/N
        edit("mlp_loss", "return float(-np.sum(Y * log_Y_hat) / X.shape[0])",
             "return float(np.mean((Y - Y_hat) ** 2))"),                                    # the MSE
        edit("mlp_loss", "return float(-np.sum(Y * log_Y_hat) / X.shape[0])",
             "return float(-np.mean(Y * log_Y_hat))"),                                      # divides by N * K
        edit("mlp_loss", "return float(-np.sum(Y * log_Y_hat) / X.shape[0])",
             "return float(np.sum(Y * log_Y_hat) / X.shape[0])"),                           # sign
        edit("mlp_loss", "Y_hat, _ = mlp_forward(params, X, activation)",
             "Y_hat, _ = mlp_forward(params, X)"),                                          # ignores the activation
        d("mlp_loss", "params, X, Y", "Y_hat, _ = mlp_forward(params, X)\n"
                                      "return float(-np.sum(Y * np.log(Y_hat)) / len(X))"),  # no activation argument
        d("mlp_loss", 'params, X, Y, activation="relu"',                                     # nan when Y_hat is 0
          "Y_hat, _ = mlp_forward(params, X, activation)\nreturn -(Y * np.log(Y_hat)).sum() / len(X)"),
    ],
    "sgd_step": [
        d("sgd_step", "params, grads, lr", "for k in params:\n    params[k] -= lr * grads[k]\nreturn params"),  # in place
        d("sgd_step", "params, grads, lr", "new = dict(params)\nfor k in new:\n    new[k] -= lr * grads[k]\nreturn new"),
        d("sgd_step", "params, grads, lr", "return {k: params[k] + lr * grads[k] for k in params}"),  # ascent
        d("sgd_step", "params, grads, lr", "return {k: params[k] - grads[k] for k in params}"),       # no lr
        d("sgd_step", "params, grads, lr", "return {k: params[k] - lr * grads[k] for k in params if k.startswith('W')}"),
        d("sgd_step", "params, grads, lr",
          "return {k: p - lr * g for (k, p), g in zip(params.items(), grads.values())}"),          # pairs by position
    ],
    "minibatches": [
        edit("minibatches", "range(0, X.shape[0], batch_size)", "range(0, X.shape[0] - batch_size + 1, batch_size)"),
        edit("minibatches", "order = rng.permutation(X.shape[0])", "order = np.arange(X.shape[0])"),  # no shuffle
        edit("minibatches", "order = rng.permutation(X.shape[0])", "order = np.random.permutation(X.shape[0])"),
        edit("minibatches", "order = rng.permutation(X.shape[0])",
             "order = rng.choice(X.shape[0], X.shape[0], replace=False)"),                 # another order
        edit("minibatches", "idx = order[start:start + batch_size]",
             "idx = rng.permutation(X.shape[0])[:batch_size]"),                           # a new draw per batch
        edit("minibatches", "yield X[idx], Y[idx]", "yield X[idx], Y[order[:len(idx)]]"),  # Y misaligned
    ],
    "train_mlp": [
        edit("train_mlp", "params = sgd_step(params, mlp_backward(params, cache, Yb), lr)",
             "params = sgd_step(params, mlp_backward(params, cache, Yb), -lr)"),           # gradient ascent
        edit("train_mlp", "history.append(", "if len(history) < epochs - 1: history.append("),  # history too short
        edit("train_mlp", "history = []", "history = [mlp_loss(params, X, Y)]"),           # epochs + 1 entries
        edit("train_mlp", "params = sgd_step(params, mlp_backward(params, cache, Yb), lr)",
             "sgd_step(params, mlp_backward(params, cache, Yb), lr)"),                     # new params thrown away
        edit("train_mlp", "params = sgd_step(params, mlp_backward(params, cache, Yb), lr)",
             "params = sgd_step(params, mlp_backward(params, cache, Y), lr)"),             # all labels, batch cache
        edit("train_mlp", "    for _ in range(epochs):\n",
             "    for _ in range(epochs):\n        params = init_mlp(layer_sizes, seed)\n"),  # restarts every epoch
    ],
    "residual_backward": [
        edit("residual_backward", "dX = dY + dZ @ W.T", "dX = dY"),                          # the skip path only
        edit("residual_backward", "dX = dY + dZ @ W.T", "dX = dZ @ W.T"),                    # the relu path only
        edit("residual_backward", "dX = dY + dZ @ W.T",                                      # paths overwritten
             "dX = np.zeros_like(X)\n    for path in (dY, dZ @ W.T):\n        dX = path"),
        edit("residual_backward", "dZ = dY * (X @ W > 0)", "dZ = dY * (X > 0)"),             # mask on X
        edit("residual_backward", "dZ = dY * (X @ W > 0)", "dZ = dY * (dY > 0)"),            # mask on dY
        edit("residual_backward", "dZ = dY * (X @ W > 0)", "dZ = dY"),                       # no relu mask
        edit("residual_backward", "dX = dY + dZ @ W.T", "dX = dY + dZ @ W"),                 # W, not W^T
        edit("residual_backward", "dW = X.T @ dZ", "dW = dZ.T @ X"),                         # dW transposed
        edit("residual_backward", "dW = X.T @ dZ", "dW = X.T @ dY"),                         # dW without the mask
        edit("residual_backward", "dZ = dY * (X @ W > 0)", "dZ = dY\n    dZ *= X @ W > 0"),   # dY masked in place
    ],
}

CORRECT = {
    "scalar_chain_grads": [
        d("scalar_chain_grads", "x, y, params",
          "s = lambda t: 1 / (1 + np.exp(-t))\np = params\nz1 = p['w1'] * x + p['b1']; a1 = s(z1)\n"
          "z2 = p['w2'] * a1; a2 = s(z2)\nz3 = p['w3'] * a2; a3 = s(z3)\n"
          "g = -(y - a3)\ng3 = g * s(z3) * (1 - s(z3))\ng2 = g3 * p['w3'] * s(z2) * (1 - s(z2))\n"
          "g1 = g2 * p['w2'] * s(z1) * (1 - s(z1))\nreturn dict(w3=g3 * a2, w2=g2 * a1, w1=g1 * x, b1=g1)"),
        d("scalar_chain_grads", "x, y, params",  # 0-d arrays instead of floats, derivative via exp
          "w = {k: np.asarray(v, dtype=float) for k, v in params.items()}\n"
          "ds = lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2\nz1 = w['w1'] * x + w['b1']; a1 = 1 / (1 + np.exp(-z1))\n"
          "z2 = w['w2'] * a1; a2 = 1 / (1 + np.exp(-z2))\nz3 = w['w3'] * a2; a3 = 1 / (1 + np.exp(-z3))\n"
          "d3 = (a3 - y) * ds(z3); d2 = d3 * w['w3'] * ds(z2); d1 = d2 * w['w2'] * ds(z1)\n"
          "return {'w1': np.asarray(d1 * x), 'b1': np.asarray(d1), 'w2': np.asarray(d2 * a1), 'w3': np.asarray(d3 * a2)}"),
    ],
    "init_mlp": [
        d("init_mlp", "layer_sizes, seed=0",  # LeCun normal
          "rng = np.random.default_rng(seed)\nout = {}\nfor i in range(1, len(layer_sizes)):\n"
          "    a, b = layer_sizes[i - 1], layer_sizes[i]\n    out['W%d' % i] = rng.normal(0, 1 / np.sqrt(a), (a, b))\n"
          "    out['b%d' % i] = np.zeros(b)\nreturn out"),
        d("init_mlp", "layer_sizes, seed=0",  # Xavier uniform
          "rng = np.random.default_rng(seed)\nout = {}\nfor i, (a, b) in enumerate(zip(layer_sizes, layer_sizes[1:]), 1):\n"
          "    lim = np.sqrt(6 / (a + b))\n    out[f'W{i}'] = rng.uniform(-lim, lim, size=(a, b))\n"
          "    out[f'b{i}'] = np.zeros((b,))\nreturn out"),
        d("init_mlp", "layer_sizes, seed=0",  # the 0.01-style small random init, legacy global seeding
          "np.random.seed(seed)\nparams = {}\nfor i in range(len(layer_sizes) - 1):\n"
          "    params['W' + str(i + 1)] = 0.01 * np.random.randn(layer_sizes[i], layer_sizes[i + 1])\n"
          "    params['b' + str(i + 1)] = np.zeros(layer_sizes[i + 1])\nreturn params"),
    ],
    "mlp_forward": [
        edit("mlp_forward", "E = np.exp(Z - Z.max(axis=1, keepdims=True))\n    Y_hat = E / E.sum(axis=1, keepdims=True)",
             "Y_hat = np.exp(Z - np.logaddexp.reduce(Z, axis=1, keepdims=True))"),
        d("mlp_forward", 'params, X, activation="relu"',  # a list cache of (A_prev, Z) pairs, if/elif activations
          "L = len(params) // 2\nA = X\ncache = []\nfor i in range(1, L + 1):\n"
          "    Z = np.dot(A, params['W' + str(i)]) + params['b' + str(i)]\n    cache.append((A, Z))\n"
          "    if i == L:\n        break\n    if activation == 'relu':\n        A = Z * (Z > 0)\n"
          "    elif activation == 'sigmoid':\n        A = np.exp(-np.logaddexp(0, -Z))\n    else:\n        A = np.tanh(Z)\n"
          "Z = Z - np.max(Z, axis=1, keepdims=True)\nP = np.exp(Z) / np.sum(np.exp(Z), axis=1, keepdims=True)\n"
          "return P, (cache, P, activation)"),
    ],
    "mlp_backward": [
        edit("mlp_backward", 'grads[f"b{i}"] = dZ.sum(axis=0)', 'grads[f"b{i}"] = np.ones(len(dZ)) @ dZ'),
        edit("mlp_backward", 'grads[f"W{i}"] = cache["inputs"][i - 1].T @ dZ',   # a sum of per-sample outer products
             'grads[f"W{i}"] = sum(np.outer(a, dz) for a, dz in zip(cache["inputs"][i - 1], dZ))'),
        edit("mlp_backward", G_PRIME,                                             # g' from Z recovered per activation
             'A = cache["outputs"][i - 2]\n            dZ = np.einsum("nk,nk->nk", dA, '
             '{"relu": (A > 0) * 1.0, "sigmoid": A - A ** 2, "tanh": 1 - A * A}[cache["activation"]])'),
    ],
    "mlp_loss": [
        d("mlp_loss", 'params, X, Y, activation="relu"',                                     # the true classes only
          "P, _ = mlp_forward(params, X, activation)\nreturn -np.mean(np.log(P[Y.astype(bool)]))"),
        d("mlp_loss", 'params, X, Y, activation="relu"',                                     # clipped, a 0-d array
          "P = mlp_forward(params, X, activation=activation)[0]\n"
          "return np.array(-np.mean(np.sum(Y * np.log(np.clip(P, 1e-12, 1.0)), axis=1)))"),
        d("mlp_loss", 'params, X, Y, activation="relu"',                                     # np.where-masked log
          "P, _ = mlp_forward(params, X, activation)\nreturn -np.sum(np.where(Y == 1, np.log(P), 0.0)) / len(X)"),
        d("mlp_loss", 'params, X, Y, activation="relu"',                                     # log-softmax of logits
          "n = len(params) // 2\nA = X\nfor i in range(1, n):\n"
          "    A = _ACTIVATIONS[activation](A @ params[f'W{i}'] + params[f'b{i}'])\n"
          "Z = A @ params[f'W{n}'] + params[f'b{n}']\nlog_P = Z - np.logaddexp.reduce(Z, axis=1, keepdims=True)\n"
          "return float(-np.sum(Y * log_P) / len(X))"),
    ],
    "sgd_step": [
        d("sgd_step", "params, grads, lr", "new = {}\nfor k, v in params.items():\n    new[k] = v.copy()\n"
                                           "    new[k] -= lr * grads[k]\nreturn new"),
        d("sgd_step", "params, grads, lr", "return {k: np.subtract(v, np.multiply(lr, grads[k])) for k, v in params.items()}"),
    ],
    "minibatches": [
        d("minibatches", "X, Y, batch_size, rng",
          "perm = rng.permutation(len(X))\nbatches = np.array_split(perm, range(batch_size, len(X), batch_size))\n"
          "for idx in batches:\n    yield X[idx], Y[idx]"),
        d("minibatches", "X, Y, batch_size, rng",  # rng.shuffle of 0..N-1 is the same order as rng.permutation(N)
          "idx = np.arange(X.shape[0])\nrng.shuffle(idx)\nstart = 0\nwhile start < len(idx):\n"
          "    yield (X[idx[start:start + batch_size]], Y[idx[start:start + batch_size]])\n    start += batch_size"),
    ],
    "train_mlp": [
        edit("train_mlp", "history.append(mlp_loss(params, X, Y, activation))",
             "Y_hat, _ = mlp_forward(params, X, activation)\n"
             "        history.append(-np.mean(np.sum(Y * np.log(Y_hat), axis=1)))"),
        d("train_mlp", 'X, Y, layer_sizes, lr, epochs, batch_size, seed=0, activation="relu"',
          # the mean of the minibatch losses during the epoch, another minibatch seed, a numpy history
          "params = init_mlp(layer_sizes, seed=seed)\nrng = np.random.default_rng(seed + 1)\n"
          "history = np.zeros(epochs)\nfor epoch in range(epochs):\n    total = 0.0\n"
          "    for Xb, Yb in minibatches(X, Y, batch_size, rng):\n        P, cache = mlp_forward(params, Xb, activation)\n"
          "        total += -np.sum(Yb * np.log(P))\n        grads = mlp_backward(params, cache, Yb)\n"
          "        params = sgd_step(params, grads, lr)\n    history[epoch] = total / len(X)\nreturn params, history"),
    ],
    "residual_backward": [
        d("residual_backward", "dY, X, W",
          "Z = X @ W\ndZ = np.where(Z > 0, dY, 0.0)\nreturn dY + dZ @ W.T, X.T @ dZ"),
        edit("residual_backward", "dZ = dY * (X @ W > 0)", "dZ = (X @ W > 0) * dY"),
        d("residual_backward", "dY, X, W",                                                   # einsum, a list
          "dZ = (np.einsum('ni,ij->nj', X, W) > 0) * dY\n"
          "return [dY + np.einsum('nj,ij->ni', dZ, W), np.einsum('ni,nj->ij', X, dZ)]"),
        d("residual_backward", "dY, X, W",                                                   # a float mask, += on a copy
          "mask = np.heaviside(X @ W, 0.0)\ndX = dY.copy()\ndX += (dY * mask) @ W.T\n"
          "return dX, X.T @ (dY * mask)"),
        d("residual_backward", "dY, X, W",                                                   # the relu's output as mask
          "dZ = dY * (np.maximum(X @ W, 0) != 0)\nreturn np.add(dY, np.dot(dZ, W.T)), np.dot(X.T, dZ)"),
    ],
}


(test_every_graded_function_has_mutants_and_a_correct_variant, test_mutant_is_rejected,
 test_correct_variant_is_accepted, test_solution_passes_whole_battery_quickly) = mutation_tests(A, MUTANTS, CORRECT)


# Each verdict names the mistake: the argument changed in place, the missing path, the nan of 0 * log 0.
DIAGNOSES = [
    ("sgd_step", d("sgd_step", "params, grads, lr", "for k in params:\n    params[k] -= lr * grads[k]\nreturn params"),
     ["argument params was modified in place"], ["argument 1"]),
    ("residual_backward", MUTANTS["residual_backward"][0], ["dX", "two paths", "sum of their gradients"],
     ["dW:", "dW equals", "dW is"]),                                                         # dW is not blamed
    ("residual_backward", MUTANTS["residual_backward"][1], ["dX equals dZ @ W.T", "missing term", "two paths"], []),
    ("residual_backward", MUTANTS["residual_backward"][7], ["dW equals the TRANSPOSE"], []),
    ("residual_backward", MUTANTS["residual_backward"][-1], ["argument dY was modified in place"], []),
    ("mlp_loss", MUTANTS["mlp_loss"][-1], ["NaN", "0 * log 0 counts as 0"], []),
    ("init_mlp", MUTANTS["init_mlp"][0], ["two calls with seed=0 gave different weights"], []),
    ("init_mlp", MUTANTS["init_mlp"][1], ["seed=0 and seed=7 gave the same weights"], []),
]
test_diagnosis_names_the_mistake = diagnosis_test(A, DIAGNOSES)


def test_each_init_mlp_case_judges_the_seed_on_its_own():
    """Every init_mlp case, checked alone and in any order, accepts the reference and rejects an init_mlp that
    ignores its seed (a fresh or a fixed one): no state is shared between the cases."""
    unseeded = lambda layer_sizes, seed=0: ref.init_mlp(layer_sizes, int(np.random.default_rng().integers(1 << 30)))  # noqa: E731
    fixed = lambda layer_sizes, seed=0: ref.init_mlp(layer_sizes, 0)  # noqa: E731
    for case in reversed(load_battery(A).iter_cases("init_mlp")):
        def verdict(init_mlp, case=case):
            return case.check(probes.PROBES[case.probe]({"init_mlp": init_mlp}, *case.args))
        assert verdict(ref.init_mlp) is None, case.description
        assert verdict(unseeded) and verdict(fixed), case.description


def test_the_notebook_states_the_hidden_training_settings():
    """The markdown above train_mlp names every setting of the hidden training run, as the battery uses it."""
    cells = nbformat.read(ROOT / "solutions" / A / f"{A}.ipynb", as_version=4).cells
    text = cells[next(i for i, c in enumerate(cells) if "def train_mlp(" in c.source) - 1].source
    missing = [f"`{key}={value}`" for key, value in TRAINING.items() if f"`{key}={value}`" not in text]
    assert not missing, f"the markdown before train_mlp does not state {missing}"
