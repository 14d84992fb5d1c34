"""Reading keys back (stores/_keylist.py): what a persistent store's keys() decodes and reports.

The stores' own listing (order, expiry, the schema-2 upgrade, Redis's whole
keys) is tested with each store: the contract's keys cases in
tests/stores/test_stores.py, and tests/stores/test_store_sqlite.py and
tests/stores/test_store_redis.py.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Hashable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memokit import UnlistedKeysWarning
from memokit.stores._keybytes import encode_key, filed_key, storage_key
from memokit.stores._keylist import decode_key, listed_key, listed_keys
from tests.helpers.strategies import listable_keys


@given(key=listable_keys)
def test_decoding_a_key_gives_it_back(key: Hashable) -> None:
    """decode_key(encode_key(k)) == k for every kind of key, and encodes to the same bytes."""
    raw = encode_key(key)
    back = decode_key(raw)
    assert back == key
    assert encode_key(back) == raw


@given(key=listable_keys)
def test_a_filed_key_is_listed_as_itself(key: Hashable) -> None:
    """What a store files for a key (storage key, whole encoding if digested) lists as the key."""
    kb, whole = filed_key(key)
    assert kb == storage_key(key)
    assert (whole is None) == (len(encode_key(key)) <= 64)
    assert listed_key(kb, whole) == key


@given(raw=st.binary(max_size=40) | st.builds(encode_key, listable_keys).map(lambda b: b[:-1]))
def test_bytes_that_are_no_encoding_are_refused_with_value_error(raw: bytes) -> None:
    """decode_key gives back a key whose encoding is exactly the bytes, or raises ValueError."""
    try:
        key = decode_key(raw)
    except ValueError:
        return
    assert encode_key(key) == raw


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        pytest.param(b"F\x02s\x01bs\x01a", "not in the form", id="unsorted-frozenset"),
        pytest.param(b"s\x81\x00a", "not in the form", id="long-length"),
        pytest.param(b"i\x01\x05i", "bytes follow", id="trailing"),
        pytest.param(b"f" + struct.pack(">d", 2.0), "not in the form", id="integral-float"),
        pytest.param(b"s\x05ab", "ends inside", id="short"),
        pytest.param(b"Z", "type tag", id="unknown-tag"),
        pytest.param(b"t\x01" * 5000 + b"N", "nested too deeply", id="deep"),
        pytest.param(b"T" + encode_key("builtins:no_such_thing"), "does not exist", id="no-class"),
        pytest.param(b"e" + encode_key("builtins:int") + encode_key("X"), "not", id="not-enum"),
    ],
)
def test_malformed_key_bytes_are_refused(raw: bytes, words: str) -> None:
    """Bytes memokit would not write for any key are a ValueError that says what is wrong."""
    with pytest.raises(ValueError, match=words):
        decode_key(raw)


def test_decoding_never_imports_a_module() -> None:
    """A class or enum of a module this process has not imported is refused, and not imported."""
    assert "this" not in sys.modules  # importing it prints the Zen of Python: code runs
    for raw in (b"T" + encode_key("this:Thing"), b"e" + encode_key("this:E") + encode_key("A")):
        with pytest.raises(ValueError, match="not imported"):
            decode_key(raw)
    assert "this" not in sys.modules


def test_a_digest_lists_only_with_the_key_it_was_made_of() -> None:
    """A digested storage key lists with its own whole key; missing or another one is refused."""
    kb, whole = filed_key(("long", "x" * 100))
    _, other = filed_key(("long", "y" * 100))
    assert whole is not None and other is not None
    assert listed_key(kb, whole) == ("long", "x" * 100)
    with pytest.raises(ValueError, match="only a digest"):
        listed_key(kb, None)
    with pytest.raises(ValueError, match="not the one its digest"):
        listed_key(kb, other)


def test_keys_that_cannot_be_given_back_are_reported_in_one_warning() -> None:
    """listed_keys lists what decodes and warns once, counting the rest by reason."""
    kb, whole = filed_key(("long", "x" * 100))
    filed = [(kb, None), (kb, whole), (b"Z", None), (b"Z", None), filed_key(3)]
    with pytest.warns(UnlistedKeysWarning) as caught:
        assert listed_keys(filed, "TheStore 'm:f'") == [("long", "x" * 100), 3]
    assert len(caught) == 1
    text = str(caught[0].message)
    assert text.startswith("TheStore 'm:f': keys() left out 3 entries")
    assert "2 because its type tag" in text and "1 because only a digest" in text
