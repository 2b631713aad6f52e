import numpy as np

from core.arrays import pack_f16_matrix, pack_f32, unpack_f16_matrix, unpack_f32
from core.lexical import sparse_vector, term_id, tokenize


def test_tokenize_folds_case_and_drops_stopwords_and_punctuation():
    assert tokenize("The Cat, on the MAT!") == ["cat", "mat"]


def test_tokenize_keeps_non_latin_words():
    assert tokenize("café 東京 кот") == ["café", "東京", "кот"]


def test_sparse_vector_weights_repeated_words_higher():
    v = sparse_vector("espresso espresso coffee")
    weights = dict(zip(v.indices, v.values, strict=True))
    assert weights[term_id("espresso")] > weights[term_id("coffee")]
    assert v.indices == sorted(v.indices)


def test_sparse_vector_of_nothing_is_empty():
    assert sparse_vector("the and of").is_empty()


def test_term_ids_are_stable_across_processes():
    assert term_id("cat") == 2656977832  # crc32, not Python's salted hash()


def test_vector_blobs_round_trip():
    v = np.random.default_rng(0).normal(size=384).astype(np.float32)
    assert np.array_equal(unpack_f32(pack_f32(v)), v)
    m = np.random.default_rng(1).normal(size=(3, 1280)).astype(np.float32)
    back = unpack_f16_matrix(pack_f16_matrix(m))
    assert back.shape == (3, 1280)
    assert np.allclose(back, m, atol=1e-2)


def test_a_captions_labels_are_no_words_of_it():
    from core.lexical import caption_vector, term_id

    vector = caption_vector("a tram\n[on screen: NO PARKING]\n[seen: streetcar]")
    assert term_id("screen") not in vector.indices and term_id("seen") not in vector.indices
    assert {term_id(w) for w in ("tram", "parking", "streetcar")} <= set(vector.indices)
