"""Run geometry: the loader lengths and sample counts derived from dataset size, devices and
per-device batch, checked against real PyTorch samplers and loaders and by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sched_cli.geometry import BatchSchedule, Geometry, GeometryError, first_batch_with_samples, samples_before


def torch_counts(n: int, w: int, b: int, drop_last: bool) -> tuple[int, list[int]]:
    """``len(DataLoader)`` on rank 0 and the global size of each batch of an epoch, counted by
    real PyTorch objects, one DistributedSampler + DataLoader per rank."""
    pytest.importorskip("torch")
    from torch.utils.data import DataLoader, DistributedSampler

    dataset = range(n)  # any sized sequence is a map-style dataset
    lengths, sizes = set(), None
    for rank in range(w):
        sampler = DistributedSampler(dataset, num_replicas=w, rank=rank, shuffle=False, drop_last=drop_last)
        # collate_fn=len: each batch arrives as its size, counted by the real batch sampler.
        loader = DataLoader(dataset, batch_size=b, sampler=sampler, drop_last=drop_last, collate_fn=len)
        lengths.add(len(loader))
        rank_sizes = list(loader)
        sizes = rank_sizes if sizes is None else [a + c for a, c in zip(sizes, rank_sizes, strict=True)]
    assert len(lengths) == 1, "every rank has the same number of batches"
    return lengths.pop(), sizes or []


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(1, 5000),
    w=st.integers(1, 64),
    b=st.integers(1, 300),
    drop_last=st.booleans(),
)
def test_matches_pytorch_samplers_and_loaders(n, w, b, drop_last):
    try:
        g = Geometry(n, b, w, drop_last)
    except GeometryError:
        length, _ = torch_counts(n, w, b, drop_last)
        assert length == 0, "sched refuses only loaders that yield no batch"
        return
    length, sizes = torch_counts(n, w, b, drop_last)
    assert g.dataloader_len == length
    assert sizes[:-1] == [g.batch_size] * (length - 1)
    assert sizes[-1] == g.last_batch_size
    assert g.samples_per_epoch == sum(sizes)


@pytest.mark.parametrize(
    "n, w, b, drop_last, dataloader_len, last, per_epoch",
    [
        # ImageNet on 8 GPUs of 32: each rank gets ceil(1281167 / 8) = 160146 samples (one repeated),
        # 5004 full batches and one of 160146 - 5004 * 32 = 18.
        (1281167, 8, 32, False, 5005, 8 * 18, 1281168),
        # ... dropping: 160145 per rank, 5004 batches of 32, the 17 left over dropped.
        (1281167, 8, 32, True, 5004, 256, 5004 * 256),
        (1000, 1, 100, False, 10, 100, 1000),  # divides: no short batch
        (1000, 3, 10, False, 34, 3 * 4, 1002),  # 334 per rank (2 repeated), 33 x 10 + 4
        (1000, 3, 10, True, 33, 30, 990),  # 333 per rank, 33 x 10, 3 dropped
        (5, 8, 4, False, 1, 8, 8),  # fewer samples than devices: each rank gets one
    ],
)
def test_by_hand(n, w, b, drop_last, dataloader_len, last, per_epoch):
    g = Geometry(n, b, w, drop_last)
    assert (g.dataloader_len, g.last_batch_size, g.samples_per_epoch) == (dataloader_len, last, per_epoch)


def test_an_empty_epoch_is_refused():
    with pytest.raises(GeometryError, match="every epoch would be empty"):
        Geometry(100, 64, 4, drop_last=True)  # 25 per device, less than one batch


@settings(max_examples=300, deadline=None)
@given(
    dataloader_len=st.integers(1, 50),
    batch_size=st.integers(1, 64),
    short=st.integers(0, 63),
    samples=st.integers(0, 10**6),
)
def test_first_batch_with_samples_inverts_samples_before(dataloader_len, batch_size, short, samples):
    last = max(1, batch_size - short)
    b = first_batch_with_samples(samples, dataloader_len, batch_size, last)
    assert samples_before(b, dataloader_len, batch_size, last) >= samples
    assert b == 0 or samples_before(b - 1, dataloader_len, batch_size, last) < samples


def test_samples_before_on_arrays_equals_ints():
    batches = np.arange(0, 40)
    counted = samples_before(batches, 7, 10, 3)
    assert counted.tolist() == [samples_before(int(b), 7, 10, 3) for b in batches]
    assert counted[7] == 63 and counted[14] == 126  # epochs of 6 x 10 + 3


# -- a batch size that changes with the batch index ------------------------------------------------
def test_batch_schedule_by_hand():
    # 16 per batch for batches 0-41, 32 for 42-62, 48 for 63-76, then 64: a Megatron ramp.
    schedule = BatchSchedule.of({0: 16, 42: 32, 63: 48, 77: 64})
    assert schedule.samples_before(0) == 0
    assert schedule.samples_before(42) == 42 * 16 == 672
    assert schedule.samples_before(63) == 672 + 21 * 32 == 1344
    assert schedule.samples_before(77) == 1344 + 14 * 48 == 2016
    assert schedule.samples_before(80) == 2016 + 3 * 64
    assert schedule.size_at(41) == 16 and schedule.size_at(42) == 32 and schedule.size_at(10**6) == 64
    assert schedule.final_size == 64
    assert schedule.first_batch_with_samples(672) == 42
    assert schedule.first_batch_with_samples(673) == 43
    assert schedule.first_batch_with_samples(2017) == 78
    assert samples_before(63, None, 64, None, schedule) == 1344


def test_batch_schedule_merges_equal_neighbours_and_refuses_bad_pieces():
    assert BatchSchedule.of([[0, 8], [5, 8], [9, 16]]) == BatchSchedule((0, 9), (8, 16))
    for bad in ({1: 8}, {0: 0}, [[0, 8], [0, 16]], {}):
        with pytest.raises(GeometryError):
            BatchSchedule.of(bad)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 50), st.integers(1, 9)), min_size=1, max_size=6),
    st.integers(0, 2000),
)
def test_batch_schedule_counts_like_a_loop(pieces, samples):
    """Arrays and ints agree with adding up every batch's size, and the inverse finds the first batch."""
    starts, sizes, at = [], [], 0
    for length, size in pieces:
        starts.append(at)
        sizes.append(size)
        at += length
    schedule = BatchSchedule.of(list(zip(starts, sizes, strict=True)))
    counted = [0]
    for batch in range(at + 20):
        counted.append(counted[-1] + schedule.size_at(batch))
    batches = np.arange(at + 20)
    assert schedule.samples_before(batches).tolist() == counted[:-1]
    assert [schedule.samples_before(int(b)) for b in batches] == counted[:-1]
    samples = min(samples, counted[-1])
    first = next(b for b, c in enumerate(counted) if c >= samples)
    assert schedule.first_batch_with_samples(samples) == first
