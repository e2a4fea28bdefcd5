"""The held-out clips (bench/quality_held_out.py): the same clips for a seed, other clips for
another, drawn across the suite's parts (jump cuts among them) or across foreign ones, and the
same clips in other formats."""

from __future__ import annotations

import itertools

from bench.quality_clips import sprite
from bench.quality_held_out import (
    FOREIGN_PARTS,
    LONGEST_4K_SECONDS,
    SUITE_PARTS,
    held_out,
    in_other_formats,
)


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
            assert shot.background in SUITE_PARTS.backgrounds
            (subject,) = shot.subjects
            assert sprite(subject.sprite).image.size  # a sprite the generator can paste
    assert jump_cuts >= 3


def test_foreign_clips_are_made_of_foreign_parts_alone_faces_among_them() -> None:
    clips = held_out(1, 40, foreign=True)

    assert held_out(1, 40, foreign=True) == clips
    assert all(c.name.startswith("foreign-1-") for c in clips)
    sprites = {s.sprite for c in clips for shot in c.shots for s in shot.subjects}
    backgrounds = {shot.background for c in clips for shot in c.shots}
    assert sprites == {*FOREIGN_PARTS.faces, *FOREIGN_PARTS.others}
    assert backgrounds <= set(FOREIGN_PARTS.backgrounds)
    # Nothing the suite was tuned on but a flat colour.
    suite = {*SUITE_PARTS.faces, *SUITE_PARTS.others, *SUITE_PARTS.backgrounds}
    assert not (sprites | backgrounds) & suite
    assert in_other_formats(clips, 1)[0].name == "fmt-foreign-1-0"


def test_other_formats_are_the_same_clips_in_the_sizes_rates_and_turns_customers_bring() -> None:
    clips = held_out(5, 40)

    other = in_other_formats(clips, 5)

    assert other == in_other_formats(clips, 5)
    assert [c.shots for c in other] == [c.shots for c in clips]
    assert [c.aspect for c in other] == [c.aspect for c in clips]
    assert len({(c.width, c.height) for c in other}) >= 6
    assert {c.width / c.height for c in other} >= {4 / 3, 16 / 9, 2560 / 1080}
    assert len({c.fps for c in other}) >= 3
    assert {c.rotation for c in other} == {0, 90, 270}
    assert {c.brightness for c in other} == {1.0, 0.35}
    # 4K only where a clip is short enough to draw in seconds.
    assert all(sum(s.seconds for s in c.shots) <= LONGEST_4K_SECONDS
               for c in other if c.width >= 3840)  # fmt: skip
