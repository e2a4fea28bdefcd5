"""The sparse detectors' schedule: a few looks a second, none on samples with a face."""

from __future__ import annotations

from batch.reframer.look_schedule import LookSchedule


def test_it_looks_on_the_first_sample_then_every_few() -> None:
    schedule = LookSchedule(fps=30, step=3, looks_per_second=2)

    looked = [i for i in range(0, 60, 3) if schedule.due(i, faces_found=False)]

    assert schedule.every == 15
    assert looked == [0, 15, 30, 45]
    assert schedule.looks == 4


def test_looks_are_spaced_in_time_whichever_samples_were_taken() -> None:
    """Samples come 10 or 5 times a second (sample_rate.py): the looks come as often."""
    schedule = LookSchedule(fps=30, step=3, looks_per_second=2)
    samples = [*range(0, 30, 3), *range(30, 60, 6)]

    looked = [i for i in samples if schedule.due(i, faces_found=False)]

    assert looked == [0, 15, 30, 48]


def test_a_look_due_on_a_sample_with_faces_waits_for_the_next_sample() -> None:
    schedule = LookSchedule(fps=10, step=1, looks_per_second=2)
    faces = {0, 1, 5}

    looked = [i for i in range(12) if schedule.due(i, faces_found=i in faces)]

    assert looked == [2, 7]
