"""The held-out clips (bench/quality_held_out.py): the same clips for a seed, other clips for
another, drawn across the suite's parts (jump cuts among them)."""

from __future__ import annotations

import itertools

from bench.quality_clips import sprite
from bench.quality_held_out import BACKGROUNDS, held_out


def test_a_seed_draws_the_same_clips_every_time_and_another_seed_other_clips() -> None:
    assert held_out(7, 10) == held_out(7, 10)
    assert [c.shots for c in held_out(7, 10)] != [c.shots for c in held_out(8, 10)]


def test_held_out_clips_are_made_of_the_suite_s_parts_with_jump_cuts_among_them() -> None:
    clips = held_out(1, 40)

    assert len({c.name for c in clips}) == 40
    assert {c.aspect for c in clips} == {"9:16", "1:1", "4:5"}
    jump_cuts = 0
    for clip in clips:
        assert 1 <= len(clip.shots) <= 3
        for before, shot in itertools.pairwise(clip.shots):
            jump_cuts += before.background == shot.background
        for shot in clip.shots:
            assert shot.background in BACKGROUNDS
            (subject,) = shot.subjects
            assert sprite(subject.sprite).image.size  # a sprite the generator can paste
    assert jump_cuts >= 3
