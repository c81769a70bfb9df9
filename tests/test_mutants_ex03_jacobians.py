"""ex03_jacobians: plausible wrong answers are rejected by the hidden battery, correct variants accepted."""

from tests.mutation import define as d
from tests.mutation import diagnosis_test
from tests.mutation import mutation_tests

A = "ex03_jacobians"

_COLUMNS = "cols = []\nfor j in range(len(x)):\n    e = np.zeros(len(x)); e[j] = h\n"

MUTANTS = {
    "numerical_jacobian": [
        d("numerical_jacobian", "f, x, h=1e-5",                                       # (n, m): rows, not columns
          _COLUMNS + "    cols.append((f(x + e) - f(x - e)) / (2 * h))\nreturn np.array(cols)"),
        d("numerical_jacobian", "f, x, h=1e-5",                                       # divides by h, not 2h
          _COLUMNS + "    cols.append((f(x + e) - f(x - e)) / h)\nreturn np.stack(cols, axis=1)"),
        d("numerical_jacobian", "f, x, h=1e-5",                                       # x shifted in place, not restored
          "cols = []\nfor j in range(len(x)):\n    x[j] += h; p = f(x); x[j] -= 2 * h; m = f(x)\n"
          "    cols.append((p - m) / (2 * h))\nreturn np.stack(cols, axis=1)"),
        d("numerical_jacobian", "f, x, h=1e-5",                                       # forward difference
          _COLUMNS + "    cols.append((f(x + e) - f(x)) / h)\nreturn np.stack(cols, axis=1)"),
        d("numerical_jacobian", "f, x, h=1e-5",                                       # ignores the given h
          "h = 1e-5\n" + _COLUMNS + "    cols.append((f(x + e) - f(x - e)) / (2 * h))\nreturn np.stack(cols, axis=1)"),
    ],
    "jacobian_elementwise": [
        d("jacobian_elementwise", "fprime, z", "return fprime(z)"),                   # the diagonal only, (n,)
        d("jacobian_elementwise", "fprime, z", "return np.outer(fprime(z), fprime(z))"),
        d("jacobian_elementwise", "fprime, z", "return np.diag(z)"),                  # f' not applied
        d("jacobian_elementwise", "fprime, z", "return fprime(np.diag(z))"),          # f' of the zeros off the diagonal
    ],
    "jacobian_affine_x": [
        d("jacobian_affine_x", "W, x, b", "return W.T"),                              # transposed
        d("jacobian_affine_x", "W, x, b", "return np.outer(W @ x + b, x)"),
        d("jacobian_affine_x", "W, x, b", "return np.tile(x, (W.shape[0], 1))"),      # the Jacobian w.r.t. W's rows
    ],
    "jacobian_affine_b": [
        d("jacobian_affine_b", "W, x, b", "return np.eye(W.shape[1])"),               # (n, n)
        d("jacobian_affine_b", "W, x, b", "return np.ones((W.shape[0], W.shape[0]))"),
        d("jacobian_affine_b", "W, x, b", "return b"),
        d("jacobian_affine_b", "W, x, b", "return np.diag(b)"),
    ],
    "jacobian_affine_W": [
        d("jacobian_affine_W", "W, x, b", "return np.kron(x, np.eye(W.shape[0]))"),   # column-major order of W
        d("jacobian_affine_W", "W, x, b", "return np.tile(x, (W.shape[0], W.shape[0]))"),  # x in every block
        d("jacobian_affine_W", "W, x, b", "return np.kron(np.eye(W.shape[0]), x).T"),  # transposed
        d("jacobian_affine_W", "W, x, b", "return np.tile(x, (W.shape[0], 1))"),       # (m, n): not flattened
    ],
    "jacobian_softmax": [
        d("jacobian_softmax", "l", "y = np.exp(l) / np.sum(np.exp(l))\nreturn np.diag(y) - np.outer(y, y)"),  # unstable
        d("jacobian_softmax", "l", "e = np.exp(l - l.max()); y = e / e.sum()\nreturn np.diag(y * (1 - y))"),  # diagonal only
        d("jacobian_softmax", "l", "e = np.exp(l - l.max()); y = e / e.sum()\nreturn np.outer(y, y) - np.diag(y)"),  # sign
        d("jacobian_softmax", "l", "e = np.exp(l - l.max()); y = e / e.sum()\nreturn np.diag(y) - np.outer(y, 1 - y)"),
        d("jacobian_softmax", "l", "l -= l.max()\ny = np.exp(l) / np.exp(l).sum()\n"
                                   "return np.diag(y) - np.outer(y, y)"),                                     # in place
    ],
    "chain_jacobians": [
        d("chain_jacobians", "jacobians", "out = jacobians[0]\nfor J in jacobians[1:]:\n    out = out @ J\nreturn out"),
        d("chain_jacobians", "jacobians", "out = jacobians[-1]\nfor J in jacobians[:-1]:\n    out = out @ J\nreturn out"),
        d("chain_jacobians", "jacobians", "return jacobians[-1]"),
        d("chain_jacobians", "jacobians", "return np.linalg.multi_dot(jacobians)"),   # forward order, and fails for one
        d("chain_jacobians", "jacobians", "jacobians.reverse()\nout = jacobians[0]\nfor J in jacobians[1:]:\n"
                                          "    out = out @ J\nreturn out"),          # right product, caller's list reversed
    ],
    "score_gradients": [
        d("score_gradients", "x, W, b, u, f, fprime",                                 # dW transposed
          "z = W @ x + b\ndelta = u * fprime(z)\nreturn {'b': delta, 'W': np.outer(x, delta), 'x': W.T @ delta, 'u': f(z)}"),
        d("score_gradients", "x, W, b, u, f, fprime",                                 # f'(z) missing
          "z = W @ x + b\ndelta = u\nreturn {'b': delta, 'W': np.outer(delta, x), 'x': W.T @ delta, 'u': f(z)}"),
        d("score_gradients", "x, W, b, u, f, fprime",                                 # dx without f'
          "z = W @ x + b\ndelta = u * fprime(z)\nreturn {'b': delta, 'W': np.outer(delta, x), 'x': W.T @ u, 'u': f(z)}"),
        d("score_gradients", "x, W, b, u, f, fprime",                                 # du = z instead of f(z)
          "z = W @ x + b\ndelta = u * fprime(z)\nreturn {'b': delta, 'W': np.outer(delta, x), 'x': W.T @ delta, 'u': z}"),
        d("score_gradients", "x, W, b, u, f, fprime",                                 # f' applied to h
          "h = f(W @ x + b)\ndelta = u * fprime(h)\nreturn {'b': delta, 'W': np.outer(delta, x), 'x': W.T @ delta, 'u': h}"),
        d("score_gradients", "x, W, b, u, f, fprime",                                 # wrong key names
          "z = W @ x + b\ndelta = u * fprime(z)\nreturn {'db': delta, 'dW': np.outer(delta, x), 'dx': W.T @ delta, 'du': f(z)}"),
    ],
}

CORRECT = {
    "numerical_jacobian": [d("numerical_jacobian", "f, x, h=1e-5",
                             "x = np.array(x, dtype=float)\nm = len(np.atleast_1d(f(x)))\nJ = np.empty((m, len(x)))\n"
                             "for j in range(len(x)):\n    xp = x.copy(); xp[j] += h\n    xm = x.copy(); xm[j] -= h\n"
                             "    J[:, j] = (f(xp) - f(xm)) / (2 * h)\nreturn J"),
                           d("numerical_jacobian", "f, x, h=1e-5",       # perturbs x in place but restores it
                             "cols = []\nfor j in range(len(x)):\n    old = x[j]\n    x[j] = old + h; p = f(x)\n"
                             "    x[j] = old - h; m = f(x)\n    x[j] = old\n    cols.append((p - m) / (2 * h))\n"
                             "return np.column_stack(cols)")],
    "jacobian_elementwise": [d("jacobian_elementwise", "fprime, z", "return np.eye(len(z)) * fprime(z)")],
    "jacobian_affine_x": [d("jacobian_affine_x", "W, x, b", "return np.array(W)"),
                          d("jacobian_affine_x", "W, x, b", "return W")],
    "jacobian_affine_b": [d("jacobian_affine_b", "W, x, b", "return np.identity(len(b))")],
    "jacobian_affine_W": [d("jacobian_affine_W", "W, x, b", "return np.kron(np.eye(W.shape[0]), x)"),
                          d("jacobian_affine_W", "W, x, b",
                            "m, n = W.shape\nJ = np.zeros((m, m, n))\nfor i in range(m):\n    J[i, i, :] = x\n"
                            "return J.reshape(m, m * n)")],
    "jacobian_softmax": [d("jacobian_softmax", "l", "y = np.exp(l - np.logaddexp.reduce(l))\n"
                           "return np.array([[y[i] * ((i == j) - y[j]) for j in range(len(y))] for i in range(len(y))])")],
    "chain_jacobians": [d("chain_jacobians", "jacobians", "from functools import reduce\n"
                                                          "return reduce(lambda acc, J: J @ acc, jacobians)"),
                        d("chain_jacobians", "jacobians", "out = np.eye(jacobians[-1].shape[0])\n"
                                                          "for J in jacobians[::-1]:\n    out = out @ J\nreturn out")],
    "score_gradients": [d("score_gradients", "x, W, b, u, f, fprime",
                          "z = W @ x + b\nd = np.diag(fprime(z)) @ u\n"
                          "return dict(u=f(z), x=(u * fprime(z)) @ W, b=d, W=d[:, None] * x[None, :])")],
}


(test_every_graded_function_has_mutants_and_a_correct_variant, test_mutant_is_rejected,
 test_correct_variant_is_accepted, test_solution_passes_whole_battery_quickly) = mutation_tests(A, MUTANTS, CORRECT)


# Each verdict names the argument changed in place, and how.
DIAGNOSES = [
    ("jacobian_softmax", d("jacobian_softmax", "l", "l -= l.max()\ny = np.exp(l) / np.exp(l).sum()\n"
                                                   "return np.diag(y) - np.outer(y, y)"),
     ["argument l was modified in place"], ["argument 1"]),
    ("chain_jacobians", d("chain_jacobians", "jacobians", "jacobians.reverse()\nout = jacobians[0]\n"
                                                          "for J in jacobians[1:]:\n    out = out @ J\nreturn out"),
     ["argument jacobians was modified in place", "reversed"], ["argument 1"]),
]
test_diagnosis_names_the_mistake = diagnosis_test(A, DIAGNOSES)
