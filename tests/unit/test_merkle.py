"""RFC 9162 Merkle proofs: the published known answers, then every inclusion and consistency
proof verifies, and a changed leaf, root or proof does not (hypothesis over tree sizes)."""

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

# Known answers from RFC 6962 / 9162 as published with transparency-dev/merkle
# (proof/verify_test.go, commit 02194e9afb6c1d95b5381350007963aa70fff472): the eight test
# leaves, the root of every prefix of them, and proofs over them. A tree only agrees with
# other logs' verifiers if it computes these exact bytes.
RFC_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
RFC_EMPTY_ROOT = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
RFC_ROOTS = [  # of the first 1, 2, ..., 8 leaves
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
RFC_INCLUSION = [  # (leaf index, tree size, audit path)
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
RFC_CONSISTENCY = [  # (old size, new size, proof)
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]


def _hashes(path: list[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in path]


def _flipped(path: list[str], at: int) -> list[bytes]:
    """The path with one bit of its `at`th hash turned over."""
    hashes = _hashes(path)
    hashes[at] = bytes([hashes[at][0] ^ 16]) + hashes[at][1:]
    return hashes


def test_roots_are_the_rfc_roots() -> None:
    assert root([]).hex() == RFC_EMPTY_ROOT
    for size, expected in enumerate(RFC_ROOTS, start=1):
        assert root(RFC_LEAVES[:size]).hex() == expected, size


def test_inclusion_proofs_are_the_rfc_proofs() -> None:
    for index, size, path in RFC_INCLUSION:
        leaves, head = RFC_LEAVES[:size], bytes.fromhex(RFC_ROOTS[size - 1])
        assert [p.hex() for p in inclusion_proof(leaves, index)] == path, (index, size)
        assert verify_inclusion(leaves[index], index, size, _hashes(path), head)
        for at in range(len(path)):
            assert not verify_inclusion(leaves[index], index, size, _flipped(path, at), head)
        assert not verify_inclusion(leaves[index], index, size, _hashes(path)[:-1], head)


def test_consistency_proofs_are_the_rfc_proofs() -> None:
    for old_size, new_size, path in RFC_CONSISTENCY:
        old_root, new_root = (bytes.fromhex(RFC_ROOTS[n - 1]) for n in (old_size, new_size))
        proof = consistency_proof(RFC_LEAVES[:new_size], old_size)
        assert [p.hex() for p in proof] == path, (old_size, new_size)
        assert verify_consistency(old_size, new_size, old_root, new_root, _hashes(path))
        for at in range(len(path)):
            flipped = _flipped(path, at)
            assert not verify_consistency(old_size, new_size, old_root, new_root, flipped)
        assert not verify_consistency(old_size, new_size, new_root, old_root, _hashes(path))
        assert not verify_consistency(old_size, new_size, old_root, new_root, [])


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
