import pytest

from search.fusion import Calibration, fuse_scores, reciprocal_rank_fusion, saturate, top

CAL = {"a": Calibration(1.0, floor=0.3, ceiling=0.7), "b": Calibration(0.5, floor=0.0, ceiling=1.0)}


def test_a_weak_match_adds_nothing_and_a_strong_one_its_full_weight():
    assert CAL["a"].evidence(0.29) == 0 and CAL["a"].evidence(0.9) == 1
    assert CAL["a"].evidence(0.5) == pytest.approx(0.5)


def test_fusion_sums_evidence_over_signals():
    fused = fuse_scores({"a": {"x": 0.7, "y": 0.2}, "b": {"x": 1.0, "z": 0.5}}, CAL)
    assert fused == pytest.approx({"x": 1.5, "z": 0.25})  # y was below a's floor


def test_fusion_of_nothing_is_empty():
    assert fuse_scores({}, CAL) == {} and fuse_scores({"a": {}}, CAL) == {}


def test_one_sided_matches_keep_their_own_strength():
    fused = fuse_scores({"a": {"strong": 0.7, "weak": 0.35}}, CAL)
    assert fused["strong"] > 5 * fused["weak"]


def test_rrf_promotes_a_weak_match_as_much_as_a_strong_one():
    # The reason score fusion is the default: ranks forget how strong a match was.
    rrf = reciprocal_rank_fusion({"a": ["weak"], "b": ["strong"]})
    assert rrf["weak"] == rrf["strong"]


def test_unknown_signals_and_bad_calibrations_are_refused():
    with pytest.raises(KeyError, match="c"):
        fuse_scores({"c": {"x": 1.0}}, CAL)
    with pytest.raises(ValueError, match="ceiling"):
        Calibration(1.0, floor=0.5, ceiling=0.5)


def test_saturate_is_monotone_and_bounded():
    values = [saturate(x) for x in (0, 0.5, 3, 30, 3000)]
    assert values == sorted(values) and values[0] == 0 and values[-1] < 1


def test_top_breaks_ties_by_id():
    assert top({"b": 1.0, "a": 1.0, "c": 2.0}) == [("c", 2.0), ("a", 1.0), ("b", 1.0)]


def test_an_unreadable_upload_is_refused_in_words_a_person_reads():
    import pytest

    from search.service import decode_image
    from search.types import QueryError

    with pytest.raises(QueryError) as exc:
        decode_image(b"GIF89a not really a picture")
    message = str(exc.value)
    assert "not a readable image" in message and "JPEG, PNG" in message
    assert "BytesIO" not in message and " at 0x" not in message
