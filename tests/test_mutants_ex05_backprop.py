"""ex05_backprop: plausible wrong answers are rejected by the hidden battery, correct variants accepted."""

from tests.mutation import define as d
from tests.mutation import mutation_tests, solution_cells

A = "ex05_backprop"


def edit(name, old, new):
    """The solution's cell defining `name`, with `old` replaced by `new` (a one-line planted bug)."""
    cell = next(src for src in solution_cells(A) if f"def {name}(" in src)
    assert old in cell, f"{old!r} not in the solution of {name}"
    return cell.replace(old, new)


MUTANTS = {
    "scalar_chain_grads": [
        edit("scalar_chain_grads", "delta3 = (a3 - y) * a3 * (1 - a3)", "delta3 = (y - a3) * a3 * (1 - a3)"),
        edit("scalar_chain_grads", "delta2 = delta3 * w3 * a2 * (1 - a2)", "delta2 = delta3 * a2 * (1 - a2)"),
        edit("scalar_chain_grads", '"w2": delta2 * a1', '"w2": delta2 * a2'),
        edit("scalar_chain_grads", '"w1": delta1 * x, "b1": delta1', '"w1": delta1, "b1": delta1 * x'),
    ],
    "init_mlp": [
        edit("init_mlp", "np.random.default_rng(seed)", "np.random.default_rng()"),
        edit("init_mlp", "params[f\"b{i}\"] = np.zeros(fan_out)", "params[f\"b{i}\"] = np.ones(fan_out)"),
        edit("init_mlp", "rng.standard_normal((fan_in, fan_out))", "rng.standard_normal((fan_out, fan_in))"),
        edit("init_mlp", "rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)", "np.full((fan_in, fan_out), 0.1)"),
    ],
    "mlp_forward": [
        edit("mlp_forward", "        if i < n_layers:\n            A = _ACTIVATIONS[activation](Z)",
             "        Z = _ACTIVATIONS[activation](Z)\n        if i < n_layers:\n            A = Z"),  # activation before softmax
        edit("mlp_forward", "E = np.exp(Z - Z.max(axis=1, keepdims=True))", "E = np.exp(Z)"),  # unstable softmax
        edit("mlp_forward", "Y_hat = E / E.sum(axis=1, keepdims=True)", "Y_hat = E / E.sum()"),
        edit("mlp_forward", "A = _ACTIVATIONS[activation](Z)", "A = _ACTIVATIONS['relu'](Z)"),  # ignores activation
    ],
    "mlp_backward": [
        edit("mlp_backward", "dZ = _activation_backward(dA, cache[\"outputs\"][i - 2], cache[\"activation\"])",
             "dZ = dA"),                                                                     # forgets g'
        edit("mlp_backward", "grads[f\"W{i}\"] = cache[\"inputs\"][i - 1].T @ dZ",
             "grads[f\"W{i}\"] = (dZ.T @ cache[\"inputs\"][i - 1]).T.copy() if i > 1 else (dZ.T @ cache[\"inputs\"][i - 1])"),
        edit("mlp_backward", "grads[f\"b{i}\"] = dZ.sum(axis=0)", "grads[f\"b{i}\"] = dZ.sum(axis=1)"),
        edit("mlp_backward", "dZ = (cache[\"Y_hat\"] - Y) / Y.shape[0]", "dZ = cache[\"Y_hat\"] - Y"),  # missing 1/N
        edit("mlp_backward", "dA = dZ @ params[f\"W{i}\"].T", "dA = dZ @ params[f\"W{i - 1}\"].T if i > 2 else dZ @ params[f\"W{i}\"].T"),
    ],
    "mlp_loss": [
        d("mlp_loss", "params, X, Y", "Y_hat, _ = mlp_forward(params, X)\nreturn float(-np.sum(Y * np.log(Y_hat)))"),
        d("mlp_loss", "params, X, Y", "Y_hat, _ = mlp_forward(params, X)\nreturn float(np.mean((Y - Y_hat) ** 2))"),
        d("mlp_loss", "params, X, Y", "Y_hat, _ = mlp_forward(params, X)\nreturn float(-np.mean(Y * np.log(Y_hat)))"),
    ],
    "sgd_step": [
        d("sgd_step", "params, grads, lr", "for k in params:\n    params[k] -= lr * grads[k]\nreturn params"),  # in place
        d("sgd_step", "params, grads, lr", "return {k: params[k] + lr * grads[k] for k in params}"),
        d("sgd_step", "params, grads, lr", "return {k: params[k] - grads[k] for k in params}"),
        d("sgd_step", "params, grads, lr", "return {k: params[k] - lr * grads[k] for k in params if k.startswith('W')}"),
    ],
    "minibatches": [
        edit("minibatches", "range(0, X.shape[0], batch_size)", "range(0, X.shape[0] - batch_size + 1, batch_size)"),  # drops last
        edit("minibatches", "order = rng.permutation(X.shape[0])", "order = np.arange(X.shape[0])"),  # no shuffle
        edit("minibatches", "order = rng.permutation(X.shape[0])", "order = np.random.permutation(X.shape[0])"),
        edit("minibatches", "yield X[idx], Y[idx]", "yield X[idx], Y[order[:len(idx)]]"),
    ],
    "train_mlp": [
        edit("train_mlp", "params = sgd_step(params, mlp_backward(params, cache, Yb), lr)",
             "params = sgd_step(params, mlp_backward(params, cache, Yb), -lr)"),           # gradient ascent
        edit("train_mlp", "history.append(", "history = [0.0] * 0 + history\n        if len(history) < epochs - 1: history.append("),
        edit("train_mlp", "params = sgd_step(params, mlp_backward(params, cache, Yb), lr)",
             "sgd_step(params, mlp_backward(params, cache, Yb), lr)"),                   # new params thrown away
    ],
}

CORRECT = {
    "scalar_chain_grads": [d("scalar_chain_grads", "x, y, params",
                             "s = lambda t: 1 / (1 + np.exp(-t))\np = params\nz1 = p['w1'] * x + p['b1']; a1 = s(z1)\n"
                             "z2 = p['w2'] * a1; a2 = s(z2)\nz3 = p['w3'] * a2; a3 = s(z3)\n"
                             "g = -(y - a3)\ng3 = g * s(z3) * (1 - s(z3))\ng2 = g3 * p['w3'] * s(z2) * (1 - s(z2))\n"
                             "g1 = g2 * p['w2'] * s(z1) * (1 - s(z1))\nreturn dict(w3=g3 * a2, w2=g2 * a1, w1=g1 * x, b1=g1)")],
    "init_mlp": [d("init_mlp", "layer_sizes, seed=0",
                   "rng = np.random.default_rng(seed)\nout = {}\nfor i in range(1, len(layer_sizes)):\n"
                   "    a, b = layer_sizes[i - 1], layer_sizes[i]\n    out['W%d' % i] = rng.normal(0, 1 / np.sqrt(a), (a, b))\n"
                   "    out['b%d' % i] = np.zeros(b)\nreturn out")],
    "mlp_forward": [edit("mlp_forward", "E = np.exp(Z - Z.max(axis=1, keepdims=True))\n    Y_hat = E / E.sum(axis=1, keepdims=True)",
                         "Y_hat = np.exp(Z - np.logaddexp.reduce(Z, axis=1, keepdims=True))")],
    "mlp_backward": [edit("mlp_backward", "grads[f\"b{i}\"] = dZ.sum(axis=0)", "grads[f\"b{i}\"] = np.ones(len(dZ)) @ dZ")],
    "mlp_loss": [d("mlp_loss", "params, X, Y", "P, _ = mlp_forward(params, X)\nreturn -np.mean(np.log(P[Y.astype(bool)]))")],
    "sgd_step": [d("sgd_step", "params, grads, lr", "new = {}\nfor k, v in params.items():\n    new[k] = v.copy()\n    new[k] -= lr * grads[k]\nreturn new")],
    "minibatches": [d("minibatches", "X, Y, batch_size, rng",
                      "perm = rng.permutation(len(X))\nbatches = np.array_split(perm, range(batch_size, len(X), batch_size))\n"
                      "for idx in batches:\n    yield X[idx], Y[idx]")],
    "train_mlp": [edit("train_mlp", "history.append(float(-np.sum(Y * np.log(Y_hat)) / X.shape[0]))",
                       "history.append(-np.mean(np.sum(Y * np.log(Y_hat), axis=1)))")],
}


(test_every_graded_function_has_mutants_and_a_correct_variant, test_mutant_is_rejected,
 test_correct_variant_is_accepted, test_solution_passes_whole_battery_quickly) = mutation_tests(A, MUTANTS, CORRECT)
