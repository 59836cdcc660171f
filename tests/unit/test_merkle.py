"""RFC 9162 Merkle proofs: every inclusion and consistency proof verifies, and a changed
leaf, root or proof does not (hypothesis over tree sizes)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.audit.merkle import (
    consistency_proof,
    inclusion_proof,
    root,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [bytes([i]) * 32 for i in range(70)]


def test_known_shapes() -> None:
    assert root(LEAVES[:1]) != root(LEAVES[:2])
    assert root(LEAVES[:3]) == root(LEAVES[:3])


@given(st.integers(min_value=1, max_value=70), st.data())
def test_inclusion(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    leaves, head = LEAVES[:size], root(LEAVES[:size])
    proof = inclusion_proof(leaves, index)
    assert verify_inclusion(leaves[index], index, size, proof, head)
    assert not verify_inclusion(b"forged" * 6, index, size, proof, head)
    if size > 1:
        assert not verify_inclusion(leaves[index], (index + 1) % size, size, proof, head)


@given(st.integers(min_value=1, max_value=70), st.data())
def test_consistency(new_size: int, data: st.DataObject) -> None:
    old_size = data.draw(st.integers(min_value=1, max_value=new_size))
    old_root, new_root = root(LEAVES[:old_size]), root(LEAVES[:new_size])
    proof = consistency_proof(LEAVES[:new_size], old_size)
    assert verify_consistency(old_size, new_size, old_root, new_root, proof)
    if old_size < new_size:
        rewritten = [*LEAVES[: old_size - 1], b"x" * 32, *LEAVES[old_size:new_size]]
        assert not verify_consistency(old_size, new_size, old_root, root(rewritten), proof)
        assert not verify_consistency(
            old_size, new_size, root([b"y" * 32] * old_size), new_root, proof
        )
