"""The one documented list of NumPy callables autodx does not differentiate, each with its
status ("planned": not written yet; "unsupported": deliberately left out) and a one-line
reason. The dispatch error, the completeness test and the support table all read it."""

from __future__ import annotations

UNSUPPORTED: dict[str, tuple[str, str]] = {}


def _group(status: str, reason: str, names: str, module: str = "np") -> None:
    for name in names.split():
        UNSUPPORTED[f"{module}.{name}"] = (status, reason)


_group("unsupported", "files, printing, settings or memory layout, not array math: call it on "
       "concrete values", """
    array2string array_repr array_str base_repr binary_repr datetime_as_string datetime_data
    format_float_positional format_float_scientific fromfile fromregex genfromtxt get_include
    get_printoptions getbufsize geterr geterrcall info load loadtxt printoptions save savetxt
    savez savez_compressed set_printoptions setbufsize seterr seterrcall show_config
    show_runtime test typename frombuffer fromstring fromiter from_dlpack frompyfunc
    nested_iters iterable may_share_memory shares_memory isfortran require asfortranarray
    asmatrix bmat busday_count busday_offset is_busday isnat""")
_group("unsupported", "about dtypes, not values: call it on x.dtype", """
    can_cast common_type isdtype issubdtype min_scalar_type mintypecode promote_types""")
_group("unsupported", "integer and bit operations have no derivative: call it on concrete "
       "integer values", """
    bitwise_count bitwise_left_shift bitwise_right_shift gcd lcm left_shift packbits
    right_shift unpackbits""")
_group("unsupported", "writes into an existing array in place, and autodx never mutates: use "
       "y = x.at[idx].set(v) (or .add, .multiply)", """
    copyto fill_diagonal place put put_along_axis putmask""")
_group("unsupported", "counts, bins or integer positions, piecewise constant in the values: "
       "call it on x.detach() / ad.stop_gradient(x)", """
    bincount digitize histogram histogram2d histogram_bin_edges histogramdd lexsort""")
_group("unsupported", "takes a Python function to call elementwise or per slice: write the "
       "loop with ad.vmap or ad.numpy functions instead", """
    apply_along_axis apply_over_axes fromfunction piecewise""")
_group("unsupported", "integer index arrays from an array's shape or values: call it on "
       "concrete values", """
    diag_indices_from tril_indices_from triu_indices_from mask_indices""")
_group("unsupported", "NumPy's own test runner", "test", "np.linalg")
_group("unsupported", "NumPy's own test runner", "test", "np.fft")
_group("planned", "needs a Bessel-function kernel: comes with the special functions of "
       "ad.scipy.special", "i0")
