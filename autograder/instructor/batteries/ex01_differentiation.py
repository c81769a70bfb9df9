"""Hidden battery for ex01_differentiation."""

import numpy as np

from autograder.instructor.battery import FN, Battery, call_case, expect_array, expect_scalar, raises_case
from autograder.instructor.reference import ex01_differentiation as ref
from autograder.probes import FUNCTIONS

battery = Battery("ex01_differentiation")


@battery.cases("average_rate_of_change")
def _(rng):
    for name in ("square", "cube", "sin", "exp"):
        a, b = rng.uniform(-2, 2, size=2)
        yield call_case(f"f={name}, a={a:.3f}, b={b:.3f}", "average_rate_of_change", (FN(name), a, b),
                        expect_scalar(ref.average_rate_of_change(FUNCTIONS[name], a, b)))
    yield call_case("f=square, a=2, b=4 (slope 6)", "average_rate_of_change", (FN("square"), 2.0, 4.0),
                    expect_scalar(6.0))
    yield raises_case("a == b", "average_rate_of_change", (FN("square"), 1.5, 1.5), "ValueError")


@battery.cases("d_power")
def _(rng):
    for shape in [(), (1,), (7,), (3, 4)]:
        x = rng.uniform(0.2, 3.0, size=shape)
        c = float(rng.choice([-2.0, 0.5, 3.0, 10.0]))
        yield call_case(f"x {np.shape(x)}, c={c}", "d_power", (x, c), expect_array(ref.d_power(x, c)))
