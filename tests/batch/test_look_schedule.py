"""The sparse detectors' schedule: a few looks a second, none on samples with a face."""

from __future__ import annotations

from batch.reframer.look_schedule import LookSchedule


def test_it_looks_on_the_first_sample_then_every_few() -> None:
    schedule = LookSchedule(samples_per_second=10, looks_per_second=2)

    looked = [i for i in range(20) if schedule.due(faces_found=False)]

    assert schedule.every == 5
    assert looked == [0, 5, 10, 15]
    assert schedule.looks == 4


def test_a_look_due_on_a_sample_with_faces_waits_for_the_next_sample() -> None:
    schedule = LookSchedule(samples_per_second=10, looks_per_second=2)
    faces = {0, 1, 5}

    looked = [i for i in range(12) if schedule.due(faces_found=i in faces)]

    assert looked == [2, 7]
