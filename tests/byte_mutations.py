"""Damaging bytes for the readers' property tests (hypothesis): flip, insert or delete bytes
at random places of a valid file."""

from hypothesis import strategies as st

MUTATION = st.tuples(
    st.sampled_from(["flip", "insert", "delete"]),
    st.floats(min_value=0, max_value=1, exclude_max=True),
    st.integers(min_value=0, max_value=255),
)


def mutate(content: bytes, mutations: list[tuple[str, float, int]]) -> bytes:
    data = bytearray(content)
    for kind, where, value in mutations:
        position = int(where * len(data)) if data else 0
        if kind == "insert" or not data:
            data.insert(position, value)
        elif kind == "flip":
            data[position] ^= value or 1
        else:
            del data[position]
    return bytes(data)
