"""Reference solutions for ex05_backprop (instructor only; numerically stable: sigmoid via tanh, softmax
with the row maximum subtracted)."""

import numpy as np


def scalar_chain_grads(x, y, params):
    """dL/d{w1, b1, w2, w3} of L = (y - s(w3 s(w2 s(w1 x + b1))))^2 / 2 (s = sigmoid); floats."""
    s = lambda t: 0.5 * (1.0 + np.tanh(0.5 * t))
    w1, b1, w2, w3 = params["w1"], params["b1"], params["w2"], params["w3"]
    a1 = s(w1 * x + b1)
    a2 = s(w2 * a1)
    a3 = s(w3 * a2)
    delta3 = (a3 - y) * a3 * (1 - a3)
    delta2 = delta3 * w3 * a2 * (1 - a2)
    delta1 = delta2 * w2 * a1 * (1 - a1)
    return {"w1": delta1 * x, "b1": delta1, "w2": delta2 * a1, "w3": delta3 * a2}


def init_mlp(layer_sizes, seed=0):
    """{"W1": (l0, l1), "b1": (l1,), ...}: seeded, fan-in-scaled weights, zero biases."""
    rng = np.random.default_rng(seed)
    params = {}
    for i, (fan_in, fan_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]), start=1):
        params[f"W{i}"] = rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)
        params[f"b{i}"] = np.zeros(fan_out)
    return params


_ACTIVATIONS = {
    "relu": lambda Z: np.maximum(Z, 0.0),
    "sigmoid": lambda Z: 0.5 * (1.0 + np.tanh(0.5 * Z)),
    "tanh": np.tanh,
}


def mlp_forward(params, X, activation="relu"):
    """(Y_hat (N, K), cache): hidden layers use `activation`, the last layer affine + softmax."""
    n_layers = len(params) // 2
    A, cache = X, {"activation": activation, "inputs": [], "outputs": []}
    for i in range(1, n_layers + 1):
        cache["inputs"].append(A)
        Z = A @ params[f"W{i}"] + params[f"b{i}"]
        if i < n_layers:
            A = _ACTIVATIONS[activation](Z)
            cache["outputs"].append(A)
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    Y_hat = E / E.sum(axis=1, keepdims=True)
    cache["Y_hat"] = Y_hat
    return Y_hat, cache


def _activation_backward(dA, A, activation):
    """dZ = dA * g'(Z) for the hidden activation g, from the layer's output A = g(Z)."""
    if activation == "relu":
        return dA * (A > 0)
    if activation == "sigmoid":
        return dA * A * (1 - A)
    return dA * (1 - A ** 2)


def mlp_backward(params, cache, Y):
    """Gradients of the mean CCE w.r.t. every parameter; Y: (N, K) one-hot."""
    n_layers = len(params) // 2
    dZ = (cache["Y_hat"] - Y) / Y.shape[0]
    grads = {}
    for i in range(n_layers, 0, -1):
        grads[f"W{i}"] = cache["inputs"][i - 1].T @ dZ
        grads[f"b{i}"] = dZ.sum(axis=0)
        if i > 1:
            dA = dZ @ params[f"W{i}"].T
            dZ = _activation_backward(dA, cache["outputs"][i - 2], cache["activation"])
    return grads


def mlp_loss(params, X, Y, activation="relu"):
    """Mean categorical cross-entropy of the MLP (hidden layers use `activation`) on X against one-hot Y
    (N, K); -> float, finite where a wrong class's probability underflows to 0."""
    Y_hat, _ = mlp_forward(params, X, activation)
    log_Y_hat = np.log(np.where(Y > 0, Y_hat, 1.0))  # no 0 * log(0) = NaN where Y is 0
    return float(-np.sum(Y * log_Y_hat) / X.shape[0])


def sgd_step(params, grads, lr):
    """New params {k: params[k] - lr * grads[k]}; the arguments are not modified."""
    return {k: params[k] - lr * grads[k] for k in params}


def minibatches(X, Y, batch_size, rng):
    """Yield (Xb, Yb) batches in the order of rng.permutation(N); the last one may be smaller."""
    order = rng.permutation(X.shape[0])
    for start in range(0, X.shape[0], batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], Y[idx]


def train_mlp(X, Y, layer_sizes, lr, epochs, batch_size, seed=0, activation="relu"):
    """(params, loss_history) after `epochs` epochs of minibatch SGD on the mean CCE."""
    params = init_mlp(layer_sizes, seed)
    rng = np.random.default_rng(seed)
    history = []
    for _ in range(epochs):
        for Xb, Yb in minibatches(X, Y, batch_size, rng):
            _, cache = mlp_forward(params, Xb, activation)
            params = sgd_step(params, mlp_backward(params, cache, Yb), lr)
        history.append(mlp_loss(params, X, Y, activation))
    return params, history


def residual_backward(dY, X, W):
    """(dX (N, l), dW (l, l)) of Y = X + relu(X W) for X (N, l), W (l, l): X's two paths to Y add up."""
    dZ = dY * (X @ W > 0)
    return dY + dZ @ W.T, X.T @ dZ
