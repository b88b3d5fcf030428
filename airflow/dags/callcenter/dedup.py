"""First occurrence of each value, vectorised (review V6: one call, one row)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def first_occurrence(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Boolean mask, True at the first row of each distinct value (nulls form one group).

    Each row gets its value's index among the distinct values (one hash pass);
    np.unique(return_index=True) then yields the first row of each index.
    """
    codes = pc.fill_null(pc.index_in(values, value_set=pc.unique(values)), -1).to_numpy(zero_copy_only=False)
    first = np.zeros(len(codes), dtype=bool)
    first[np.unique(codes, return_index=True)[1]] = True
    return first
