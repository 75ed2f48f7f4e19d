"""ad.plot: the drawn curves and arrows carry exactly autodx's derivatives, the figure renders
headless (PNG) and in Jupyter (_repr_png_), and every mistake is refused naming its argument."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

import autodx as ad

pytest.importorskip("matplotlib")
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.quiver import Quiver  # noqa: E402

anp = ad.numpy
PNG = b"\x89PNG\r\n\x1a\n"


def curves(fig):
    """The labelled Line2D objects of the first axes (the zero line has no label)."""
    return [line for line in fig.axes[0].get_lines() if not line.get_label().startswith("_")]


def legend_texts(fig):
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_sin_x2_three_curves_equal_the_analytic_derivatives():
    fig = ad.plot(lambda x: anp.sin(x) * x**2, (-3, 3), order=2)
    assert isinstance(fig, Figure)
    x = np.linspace(-3, 3, 400)
    expected = {
        "f": np.sin(x) * x**2,
        "f′": 2 * x * np.sin(x) + x**2 * np.cos(x),
        "f″": 2 * np.sin(x) + 4 * x * np.cos(x) - x**2 * np.sin(x),
    }
    lines = curves(fig)
    assert [line.get_label() for line in lines] == list(expected)
    assert legend_texts(fig) == list(expected)
    for line, (label, y) in zip(lines, expected.items()):
        np.testing.assert_allclose(line.get_xdata(), x, rtol=0, atol=1e-15)
        np.testing.assert_allclose(line.get_ydata(), y, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(fig.autodx_data[label], line.get_ydata())
    np.testing.assert_array_equal(fig.autodx_data["x"], x)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "x"
    assert ax.get_title() == "sin(x)·x² and its derivatives"
    assert ax.get_xlim() == (-3.0, 3.0)


def test_png_written_headless_and_rendered_by_jupyter(tmp_path):
    fig = ad.plot(lambda x: anp.sin(x) * x**2, (-3, 3), order=2)
    path = tmp_path / "f.png"
    fig.savefig(path)
    data = path.read_bytes()
    assert data.startswith(PNG) and len(data) > 10_000
    assert fig._repr_png_().startswith(PNG)
    formatters = pytest.importorskip("IPython.core.formatters")
    assert formatters.PNGFormatter()(fig).startswith(PNG)  # what Jupyter calls for inline


def test_higher_orders_get_their_labels_and_values():
    fig = ad.plot(anp.sin, (0, 2), order=5, num=50)
    x = np.linspace(0, 2, 50)
    labels = ["f", "f′", "f″", "f‴", "f⁽⁴⁾", "f⁽⁵⁾"]
    expected = [np.sin(x), np.cos(x), -np.sin(x), -np.cos(x), np.sin(x), np.cos(x)]
    assert legend_texts(fig) == labels
    for line, y in zip(curves(fig), expected):
        np.testing.assert_allclose(line.get_ydata(), y, rtol=1e-12, atol=1e-12)
    assert fig.axes[0].get_title() == "sin(x) and its derivatives"


def test_order_zero_custom_labels_and_title():
    def parabola(t):
        return t**2

    fig = ad.plot(parabola, (-1, 1), order=0, num=11)
    assert legend_texts(fig) == ["f"]
    assert fig.axes[0].get_title() == "parabola(t)"
    assert fig.axes[0].get_xlabel() == "t"
    fig = ad.plot(parabola, (-1, 1), order=1, labels=["t²", "2t"], title="a parabola")
    assert legend_texts(fig) == ["t²", "2t"]
    assert fig.axes[0].get_title() == "a parabola"
    np.testing.assert_allclose(curves(fig)[1].get_ydata(), 2 * np.linspace(-1, 1, 400))


def test_one_batched_call_per_order_not_a_loop_over_points():
    calls = []

    def f(x):
        calls.append(np.shape(x))
        return anp.exp(x)

    fig = ad.plot(f, (0, 1), order=3, num=400)
    assert len(calls) <= 4  # one trace per order, never one call per point
    for line in curves(fig):
        np.testing.assert_allclose(line.get_ydata(), np.exp(np.linspace(0, 1, 400)), rtol=1e-12)


def test_constant_int_and_step_functions():
    fig = ad.plot(lambda x: 3.0, (0, 1), order=1, num=5)
    np.testing.assert_array_equal(fig.autodx_data["f"], np.full(5, 3.0))
    np.testing.assert_array_equal(fig.autodx_data["f′"], np.zeros(5))
    fig = ad.plot(lambda x: 1, (0, 1), order=1, num=5)  # an int result is drawn, not refused
    np.testing.assert_array_equal(fig.autodx_data["f"], np.ones(5))
    fig = ad.plot(lambda x: x > 0, (-1, 1), order=1, num=5)
    np.testing.assert_array_equal(fig.autodx_data["f"], [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(fig.autodx_data["f′"], np.zeros(5))
    fig = ad.plot(lambda x, y: 2, num=4)
    np.testing.assert_array_equal(fig.autodx_data["df/dx"], np.zeros((15, 15)))


def test_nan_and_inf_are_gaps_not_errors_or_warnings():
    x = np.linspace(-1, 3, 401)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = ad.plot(lambda x: anp.log(x), (-1, 3), order=1, num=401)
    f, df = (line.get_ydata() for line in curves(fig))
    assert np.isnan(f[x <= 0]).all() and np.isnan(df[x <= 0]).all()  # f′ = 1/x only where f is
    np.testing.assert_allclose(f[x > 0], np.log(x[x > 0]), rtol=1e-12)
    np.testing.assert_allclose(df[x > 0], 1 / x[x > 0], rtol=1e-12)


def test_a_pole_does_not_flatten_the_curves():
    fig = ad.plot(anp.tan, (-3, 3), order=1)
    bottom, top = fig.axes[0].get_ylim()
    assert bottom < 0 < top < 100 < np.nanmax(fig.autodx_data["f′"])
    fig = ad.plot(lambda x: anp.sin(x) * x**2, (-3, 3))  # nothing to clip: every value shown
    bottom, top = fig.axes[0].get_ylim()
    values = np.concatenate([line.get_ydata() for line in curves(fig)])
    assert bottom <= values.min() and values.max() <= top


def test_two_variables_contours_and_gradient_field():
    def bowl(x, y):
        return x**2 + 3 * y**2

    fig = ad.plot(bowl, (-2, 2))
    ax = fig.axes[0]
    (quiver,) = [c for c in ax.collections if isinstance(c, Quiver)]
    np.testing.assert_allclose(quiver.U, 2 * quiver.X, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(quiver.V, 6 * quiver.Y, rtol=1e-12, atol=1e-12)
    assert quiver.X.size == 15 * 15
    data = fig.autodx_data
    np.testing.assert_allclose(data["f"], data["x"] ** 2 + 3 * data["y"] ** 2, rtol=1e-12)
    np.testing.assert_allclose(data["df/dy"], 6 * data["quiver_y"], rtol=1e-12, atol=1e-12)
    assert (data["y"].min(), data["y"].max()) == (-2.0, 2.0)  # yrange defaults to xrange
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "f(x, y)"  # the colorbar
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y")
    assert ax.get_title() == "bowl(x, y): contours and gradient"
    assert fig._repr_png_().startswith(PNG)


def test_two_variables_by_yrange_names_labels_and_gaps(tmp_path):
    fig = ad.plot(lambda *v: v[0] * v[1], (0, 1), yrange=(-1, 2), order=0, num=20)
    assert not [c for c in fig.axes[0].collections if isinstance(c, Quiver)]
    data = fig.autodx_data
    np.testing.assert_allclose(data["f"], data["x"] * data["y"], rtol=1e-12)
    assert (data["y"].min(), data["y"].max()) == (-1.0, 2.0)
    fig = ad.plot(lambda a, b: a * b, labels=["speed", "time"])
    assert (fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()) == ("speed", "time")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = ad.plot(lambda x, y: anp.log(x) + y, (-1, 2), num=40)
    assert np.isnan(fig.autodx_data["df/dx"][fig.autodx_data["quiver_x"] <= 0]).all()
    fig.savefig(tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes().startswith(PNG)


def test_draws_into_a_given_axes():
    fig = Figure()
    ax = fig.add_subplot()
    assert ad.plot(anp.cos, ax=ax, order=1) is fig
    assert [line.get_label() for line in curves(fig)] == ["f", "f′"]
    assert ax.autodx_data is fig.autodx_data


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"xrange": (3, -3)}, ValueError, ["xrange", "lo < hi"]),
        ({"xrange": (1,)}, ValueError, ["xrange", "pair"]),
        ({"xrange": "ab"}, ValueError, ["xrange", "pair"]),
        ({"xrange": None}, ValueError, ["xrange", "pair"]),
        ({"xrange": (0, np.inf)}, ValueError, ["xrange", "finite"]),
        ({"xrange": (np.nan, 1)}, ValueError, ["xrange", "finite"]),
        ({"xrange": (0, "1")}, ValueError, ["xrange", "finite"]),
        ({"yrange": (1, 1), "f": lambda x, y: x * y}, ValueError, ["yrange", "lo < hi"]),
        ({"order": -1}, ValueError, ["order", "int >= 0"]),
        ({"order": 1.5}, ValueError, ["order", "int >= 0"]),
        ({"order": True}, ValueError, ["order"]),
        ({"num": 1}, ValueError, ["num", "int >= 2"]),
        ({"labels": ["only one"]}, ValueError, ["labels", "3 strings"]),
        ({"ax": "axes"}, TypeError, ["ax", "matplotlib Axes"]),
        ({"f": 3.0}, TypeError, ["f must be a callable"]),
        ({"f": lambda x: anp.stack([x, x])}, ValueError, ["scalar functions", "(2,)", "component"]),
        ({"f": lambda x: (x, x)}, ValueError, ["scalar functions", "tuple", "component"]),
        ({"f": lambda x, y, z: x}, ValueError, ["one or two variables", "(x, y, z)"]),
        ({"f": lambda: 1.0}, TypeError, ["no positional argument"]),
        ({"yrange": (0, 1)}, ValueError, ["yrange", "two variables", "takes one (x)"]),
    ],
)
def test_mistakes_name_the_argument(kwargs, error, words):
    kwargs = {"f": lambda x: anp.sin(x), **kwargs}
    with pytest.raises(error) as caught:
        ad.plot(**kwargs)
    for word in words:
        assert word in str(caught.value)


def test_missing_matplotlib_is_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError) as caught:
        ad.plot(lambda x: x**2)
    assert str(caught.value) == "ad.plot needs matplotlib: pip install 'autodx[plot]'"


def test_import_stays_numpy_only_and_ad_plot_is_the_function():
    code = ("import sys, autodx as ad; plot = ad.plot; "
            "assert 'matplotlib' not in sys.modules; "
            "assert ad.plot is plot is sys.modules['autodx.plot'].plot, ad.plot")
    subprocess.run([sys.executable, "-c", code], check=True)
