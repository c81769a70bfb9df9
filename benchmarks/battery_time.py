"""Wall time of each hidden battery on its solution notebook, and the ex05 training figures.

Prints, per assignment, the seconds the judge needs for the whole battery (ex05 without
train_mlp, then train_mlp alone) and the number of functions that passed; then trains the
ex05 solution's train_mlp on the harness's spiral and prints its training accuracy and time.

    python benchmarks/battery_time.py
"""

import time
from pathlib import Path

import numpy as np

from autograder.instructor.batteries import load_battery
from autograder.instructor.batteries import ex05_backprop as ex05
from autograder.instructor.judge import judge_notebook
from autograder.instructor.release import assignments_in
from autograder.notebook_code import student_code_cells

ROOT = Path(__file__).resolve().parents[1]
TRAINING_FUNCTION = "train_mlp"


def timed_judge(assignment, functions):
    notebook = ROOT / "solutions" / assignment / f"{assignment}.ipynb"
    start = time.perf_counter()
    verdicts = judge_notebook(notebook, assignment, functions)
    elapsed = time.perf_counter() - start
    passed = sum(v.passed for v in verdicts.values())
    cases = sum(v.cases for v in verdicts.values())
    return elapsed, passed, len(verdicts), cases


def solution_training():
    """Accuracy and seconds of the ex05 solution's train_mlp on the battery's spiral."""
    namespace = {}
    for source in student_code_cells(ROOT / "solutions" / "ex05_backprop" / "ex05_backprop.ipynb"):
        exec(source, namespace)  # the instructor's own solution
    X, Y = ex05.spiral(ex05.SPIRAL_SEED)
    settings = ex05.TRAINING
    start = time.perf_counter()
    params, _ = namespace[TRAINING_FUNCTION](X, Y, settings["layer_sizes"], settings["lr"],
                                             settings["epochs"], settings["batch_size"], seed=settings["seed"])
    elapsed = time.perf_counter() - start
    Y_hat, _ = ex05.ref.mlp_forward(params, X, "relu")
    return np.mean(np.argmax(Y_hat, axis=1) == np.argmax(Y, axis=1)), elapsed


def main():
    print(f"{'assignment':28s} {'functions':>9s} {'passed':>6s} {'cases':>6s} {'seconds':>8s}")
    for assignment in assignments_in(ROOT):
        functions = [f for f in load_battery(assignment).functions if f != TRAINING_FUNCTION]
        groups = [(assignment, functions)]
        if len(functions) < len(load_battery(assignment).functions):
            groups.append((f"{assignment} ({TRAINING_FUNCTION})", [TRAINING_FUNCTION]))
        for label, names in groups:
            elapsed, passed, total, cases = timed_judge(assignment, names)
            print(f"{label:28s} {total:9d} {passed:6d} {cases:6d} {elapsed:8.2f}")
    accuracy, elapsed = solution_training()
    limit = max(case.timeout for case in ex05.battery.iter_cases(TRAINING_FUNCTION))
    print(f"\nex05 solution train_mlp on the harness spiral: {accuracy:.1%} training accuracy "
          f"in {elapsed:.2f} s (battery needs >= {ex05.MIN_ACCURACY:.0%} within {limit:g} s)")


if __name__ == "__main__":
    main()
