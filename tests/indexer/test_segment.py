import numpy as np
import pytest

from indexer.segment import Segmenter, colour_signature, signature_distance


def _frame(colour, shift=0):
    f = np.zeros((64, 64, 3), np.uint8)
    f[:] = colour
    f[:, shift % 64 : shift % 64 + 4] = 255 - np.array(colour, np.uint8)
    return f


def _run(segmenter, frames):
    clips = []
    for t, f in frames:
        clips += segmenter.push(t, colour_signature(f), t)
    clips += segmenter.finish(frames[-1][0] + 0.25)
    return clips


def _shots(spec, fps=4.0):
    """[(colour, seconds), ...] -> [(t, frame)] sampled at fps."""
    out, t0 = [], 0.0
    for colour, seconds in spec:
        for i in range(int(seconds * fps)):
            out.append((t0 + i / fps, _frame(colour, i)))
        t0 += seconds
    return out


def test_signature_distance_is_zero_for_the_same_picture_and_large_for_a_cut():
    red, blue = _frame((200, 30, 30)), _frame((30, 30, 200))
    assert signature_distance(colour_signature(red), colour_signature(red)) == 0
    assert signature_distance(colour_signature(red), colour_signature(blue)) > 0.8


def test_a_colour_change_starts_a_new_shot_and_segment():
    clips = _run(Segmenter(), _shots([((200, 30, 30), 3.0), ((30, 30, 200), 3.0)]))
    shots = {c.shot_index for c in clips}
    assert shots == {0, 1}
    first_blue = min(c.start for c in clips if c.shot_index == 1)
    assert first_blue == pytest.approx(3.0)
    assert len({c.segment_index for c in clips}) == 2


def test_no_clip_straddles_a_cut_and_clips_are_at_most_clip_seconds():
    clips = _run(Segmenter(clip_seconds=1.5), _shots([((200, 30, 30), 2.0), ((30, 200, 30), 4.0)]))
    for c in clips:
        assert c.end - c.start <= 1.5 + 1e-6
        assert len({c.shot_index}) == 1
    cut = 2.0
    assert not any(c.start < cut < c.end for c in clips)


def test_every_sample_lands_in_exactly_one_clip_in_time_order():
    frames = _shots([((200, 30, 30), 5.0), ((30, 200, 30), 2.5), ((30, 30, 200), 4.0)])
    clips = _run(Segmenter(), frames)
    samples = [s for c in clips for s in c.samples]
    assert samples == [t for t, _ in frames]
    for c in clips:
        assert all(c.start - 1e-9 <= s < c.end + 1e-9 for s in c.samples)


def test_a_long_shot_is_split_into_segments_of_at_most_the_maximum():
    clips = _run(
        Segmenter(clip_seconds=1.5, max_segment_seconds=6.0), _shots([((120, 120, 120), 20.0)])
    )
    assert {c.shot_index for c in clips} == {0}
    by_segment = {}
    for c in clips:
        by_segment.setdefault(c.segment_index, []).append(c)
    for seg in by_segment.values():
        assert seg[-1].end - seg[0].start <= 6.0 + 1e-6
    assert len(by_segment) == 4  # 20 s in 6 s pieces


def test_a_flash_shorter_than_the_minimum_shot_does_not_cut():
    clips = _run(
        Segmenter(min_shot_seconds=1.0),
        _shots([((200, 30, 30), 2.0), ((250, 250, 250), 0.25), ((200, 30, 30), 0.25)]),
    )
    assert {c.shot_index for c in clips} <= {0, 1}


def test_sparse_frames_leave_no_empty_clips():
    frames = [(0.0, _frame((10, 10, 10))), (5.0, _frame((10, 10, 10)))]
    clips = _run(Segmenter(), frames)
    assert all(c.samples for c in clips)
    assert [s for c in clips for s in c.samples] == [0.0, 5.0]


def test_bad_configuration_is_refused_with_the_values():
    with pytest.raises(ValueError, match="0.5"):
        Segmenter(clip_seconds=1.5, max_segment_seconds=0.5)
