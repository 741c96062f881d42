"""annotation.neardup.algorithm and .images, pure: no database. datasketch and imagehash are the oracles."""

import random
import string

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from annotation.neardup import algorithm, images

datasketch = pytest.importorskip("datasketch")
imagehash = pytest.importorskip("imagehash")

WORDS = [
    "".join(random.Random(n).choices(string.ascii_lowercase, k=random.Random(-n).randint(2, 9)))
    for n in range(3000)
]


def document(rng: random.Random, words: int = 40) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def edited(rng: random.Random, text: str, edits: int) -> str:
    """`text` with `edits` words replaced by others."""
    words = text.split()
    for _ in range(edits):
        words[rng.randrange(len(words))] = rng.choice(WORDS)
    return " ".join(words)


def reference_signature(
    text: str, num_perm: int = algorithm.NUM_PERM, seed: int = algorithm.PERMUTATION_SEED
):
    """datasketch's MinHash over our reference shingles and shingle hash."""
    minhash = datasketch.MinHash(num_perm=num_perm, seed=seed, hashfunc=lambda value: value)
    values = [algorithm.shingle_hash(shingle) for shingle in algorithm.shingles(text)]
    if values:
        minhash.update_batch(values)
    return minhash


# --- Normalisation and shingles ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("Hello,  World!", "hello world"),
        ("  --- leading and trailing ...  ", "leading and trailing"),
        ("“Quoted” — dash\u00a0nbsp", "quoted dash nbsp"),
        ("日本語のテキスト。テスト", "日本語のテキスト テスト"),
        ("Ünïcödé CAFÉ", "ünïcödé café"),
        ("tabs\tand\nnewlines", "tabs and newlines"),
        ("!!!", ""),
        ("", ""),
        ("emoji 🙂 stays", "emoji 🙂 stays"),
    ],
)
def test_normalisation_lowercases_and_collapses_separators(text, normal):
    assert algorithm.normalise_for_shingles(text) == normal


def test_shingles_are_five_character_windows_and_short_texts_are_one_shingle():
    assert algorithm.shingles("Hello, world") == {
        "hello",
        "ello ",
        "llo w",
        "lo wo",
        "o wor",
        " worl",
        "world",
    }
    assert algorithm.shingles("Hi!") == {"hi"}
    assert algorithm.shingles("...") == set()


def shingle_sets_from_vectorised(texts: list[str]) -> list[set[int]]:
    hashes, counts = algorithm.text_shingle_hashes(texts)
    ends = np.cumsum(counts)
    return [set(hashes[end - count : end].tolist()) for end, count in zip(ends, counts, strict=True)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=40), max_size=8))
def test_vectorised_shingle_hashes_equal_the_reference(texts):
    expected = [{algorithm.shingle_hash(shingle) for shingle in algorithm.shingles(text)} for text in texts]

    assert shingle_sets_from_vectorised(texts) == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet=" ab-.C\u00e9\u3000\u2014x", max_size=12), max_size=10))
def test_vectorised_shingles_handle_separator_runs_and_short_texts(texts):
    expected = [{algorithm.shingle_hash(shingle) for shingle in algorithm.shingles(text)} for text in texts]

    assert shingle_sets_from_vectorised(texts) == expected


# --- MinHash against datasketch ------------------------------------------------------------------------


def test_permutations_are_drawn_as_datasketch_draws_them():
    a, b = algorithm.permutations(128, 1)
    theirs = datasketch.MinHash(num_perm=128, seed=1).permutations

    assert np.array_equal(a, theirs[0])
    assert np.array_equal(b, theirs[1])


def test_signatures_equal_datasketch_bit_for_bit():
    rng = random.Random(3)
    texts = [document(rng, rng.randint(1, 60)) for _ in range(150)] + ["", "ab", "!!", "Hello"]

    signatures = algorithm.minhash_signatures(texts)

    for text, signature in zip(texts, signatures, strict=True):
        assert np.array_equal(signature, reference_signature(text).hashvalues), text
    assert (signatures[texts.index("")] == algorithm.EMPTY).all()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=5), st.integers(min_value=1, max_value=2**31))
def test_signatures_equal_datasketch_for_any_text_and_seed(texts, seed):
    signatures = algorithm.minhash_signatures(texts, num_perm=16, seed=seed)

    for text, signature in zip(texts, signatures, strict=True):
        assert np.array_equal(signature, reference_signature(text, 16, seed).hashvalues)


def test_jaccard_estimates_agree_with_datasketch_and_the_truth_within_sampling_error():
    """Against datasketch's own MinHash (SHA-1 of each shingle, other permutations): both estimate the
    true Jaccard similarity of the shingle sets with standard error sqrt(J(1-J)/128)."""
    rng = random.Random(11)
    pairs = []
    for edits in [0, 1, 2, 3, 5, 8, 12, 20, 40] * 12:
        base = document(rng)
        pairs.append((base, edited(rng, base, edits)))
    firsts, seconds = zip(*pairs, strict=True)
    ours_a, ours_b = algorithm.minhash_signatures(list(firsts)), algorithm.minhash_signatures(list(seconds))
    ours = algorithm.jaccard_estimates(ours_a, ours_b)
    truth, theirs = [], []
    for first, second in pairs:
        set_a, set_b = algorithm.shingles(first), algorithm.shingles(second)
        truth.append(len(set_a & set_b) / len(set_a | set_b))
        minhash_a, minhash_b = (
            datasketch.MinHash(num_perm=128, seed=7),
            datasketch.MinHash(num_perm=128, seed=7),
        )
        minhash_a.update_batch([s.encode() for s in set_a])
        minhash_b.update_batch([s.encode() for s in set_b])
        theirs.append(minhash_a.jaccard(minhash_b))
    truth, theirs = np.array(truth), np.array(theirs)
    error = np.sqrt(truth * (1 - truth) / 128) + 1e-9

    assert np.all(np.abs(ours - truth) <= 4.5 * error + 1 / 128)
    assert np.all(np.abs(theirs - truth) <= 4.5 * error + 1 / 128)
    assert abs(np.mean(ours - truth)) < 0.01  # unbiased
    assert abs(np.mean(ours - theirs)) < 0.01
    assert np.mean(np.abs(ours - theirs)) < 0.05


# --- LSH against datasketch ----------------------------------------------------------------------------


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.8, 0.9, 0.95])
@pytest.mark.parametrize("false_negative_weight", [0.5, 0.95])
def test_lsh_params_minimise_the_same_objective_as_datasketch(threshold, false_negative_weight):
    theirs = datasketch.MinHashLSH(
        threshold=threshold, num_perm=128, weights=(1 - false_negative_weight, false_negative_weight)
    )

    assert algorithm.lsh_params(threshold, 128, false_negative_weight) == (theirs.b, theirs.r)


def test_default_bands_and_rows_and_their_s_curve():
    bands, rows = algorithm.lsh_params()

    assert (bands, rows) == (16, 8)
    assert round(algorithm.candidate_probability(0.8, bands, rows), 3) == 0.947
    assert round(algorithm.candidate_probability(0.9, bands, rows), 4) == 0.9999
    assert round(algorithm.candidate_probability(0.5, bands, rows), 3) == 0.061


def planted_corpus(seed: int, size: int) -> list[str]:
    """`size` documents; a third of them edited copies (1-12 words of 40) of an earlier one."""
    rng = random.Random(seed)
    texts: list[str] = []
    for _ in range(size):
        if texts and rng.random() < 0.33:
            texts.append(edited(rng, rng.choice(texts), rng.randint(1, 12)))
        else:
            texts.append(document(rng))
    return texts


def test_lsh_candidates_are_exactly_the_pairs_datasketch_finds():
    """Same signatures, same (b, r): datasketch's MinHashLSH finds the same candidate pairs. Ours
    could only ever have more (a 32-bit band-key collision, chance ~1e-2 here, caught by
    verification), and fewer only in buckets over WINDOW + 1 items (none here)."""
    texts = planted_corpus(5, 1500)
    signatures = algorithm.minhash_signatures(texts)
    bands, rows = algorithm.lsh_params(0.8, 128)
    index = datasketch.MinHashLSH(num_perm=128, params=(bands, rows))
    minhashes = [datasketch.MinHash(hashvalues=row, scheme="affine32", seed=1) for row in signatures]
    for number, minhash in enumerate(minhashes):
        index.insert(number, minhash)
    theirs = {
        (min(number, other), max(number, other))
        for number, minhash in enumerate(minhashes)
        for other in index.query(minhash)
        if other != number
    }

    low, high = algorithm.lsh_candidate_pairs(algorithm.lsh_band_keys(signatures, bands=bands, rows=rows))
    ours = set(zip(low.tolist(), high.tolist(), strict=True))

    assert len(theirs) > 250
    assert ours == theirs


def test_text_pairs_keep_candidates_whose_estimate_reaches_the_threshold():
    texts = planted_corpus(9, 800)
    signatures = algorithm.minhash_signatures(texts)

    low, high, similarity = algorithm.text_pairs(signatures, threshold=0.8)

    assert len(low) > 50
    assert np.all(similarity >= 0.8)
    assert np.allclose(similarity, algorithm.jaccard_estimates(signatures[low], signatures[high]))
    assert np.all(low < high)


def test_group_texts_finds_planted_near_duplicates_and_nothing_else():
    rng = random.Random(21)
    originals = [document(rng) for _ in range(300)]
    copies = [edited(rng, text, 1) for text in originals[:40]]
    copies[0] = originals[0].upper() + "!!!"  # case and punctuation only: the same shingles
    texts = originals + copies + ["", "", "short", "short."]

    groups = algorithm.group_texts(texts)

    found = {tuple(group.members.tolist()) for group in groups}
    expected = {(index, 300 + index) for index in range(40)} | {(342, 343)}
    assert found == expected
    assert all(0.8 <= group.similarity <= 1.0 for group in groups)
    assert next(g for g in groups if g.members[0] == 0).similarity == 1.0


# --- Buckets and groups --------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=6), max_size=60), st.integers(min_value=1, max_value=5))
def test_bucket_pairs_pair_each_item_with_the_next_window_items_of_its_bucket(keys, window):
    values = np.array(keys, dtype=np.int64)
    order = np.argsort(values, kind="stable")

    first, second = algorithm.bucket_pairs(values[order], order, window=window)

    position = {int(item): rank for rank, item in enumerate(order)}
    expected = {
        (int(order[i]), int(order[j]))
        for i in range(len(keys))
        for j in range(i + 1, min(i + window, len(keys) - 1) + 1)
        if values[order[i]] == values[order[j]]
    }
    assert set(zip(first.tolist(), second.tolist(), strict=True)) == expected
    assert len(first) == len(expected)
    assert all(0 < position[b] - position[a] <= window for a, b in expected)


def union_find_labels(size: int, edges) -> list[int]:
    parent = list(range(size))

    def find(node):
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a, b in edges:
        root_a, root_b = find(a), find(b)
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)
    return [find(node) for node in range(size)]


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=1, max_value=80).flatmap(
        lambda size: st.tuples(
            st.just(size),
            st.lists(st.tuples(st.integers(0, size - 1), st.integers(0, size - 1)), max_size=120),
        )
    )
)
def test_connected_components_match_a_plain_union_find(graph):
    size, edges = graph
    first = np.array([a for a, _ in edges], dtype=np.int64)
    second = np.array([b for _, b in edges], dtype=np.int64)

    labels = algorithm.connected_components(size, first, second)

    assert labels.tolist() == union_find_labels(size, edges)


def test_connected_components_of_a_long_path_and_groups_from_labels():
    order = np.random.default_rng(0).permutation(10_000)
    labels = algorithm.connected_components(10_000, order[:-1], order[1:])

    assert (labels == 0).all()
    assert [g.tolist() for g in algorithm.groups_from_labels(np.array([3, 1, 3, 1, 4, 3]))] == [
        [0, 2, 5],
        [1, 3],
    ]


# --- Images --------------------------------------------------------------------------------------------


def sample_images() -> list[Image.Image]:
    rng = np.random.default_rng(4)
    gradient = np.tile(np.linspace(0, 255, 64, dtype=np.uint8), (48, 1))
    samples = [
        Image.fromarray(gradient),
        Image.fromarray(gradient[:, ::-1]).convert("RGB"),
        Image.fromarray(rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)),
        Image.fromarray(rng.integers(0, 256, (300, 200, 4), dtype=np.uint8), "RGBA"),
        Image.new("RGB", (40, 40), "white"),
        Image.new("L", (1, 1), 128),
    ]
    drawn = Image.new("RGB", (120, 90), "white")
    pen = ImageDraw.Draw(drawn)
    pen.ellipse((10, 10, 70, 60), fill="red")
    pen.rectangle((60, 30, 110, 85), fill="navy")
    samples += [drawn, drawn.convert("P"), drawn.rotate(7), drawn.resize((61, 45))]
    return samples


@pytest.mark.parametrize("index", range(10))
def test_dhash_equals_imagehash_bit_for_bit(index):
    image = sample_images()[index]

    ours = images.dhash(image)

    assert ours == int(str(imagehash.dhash(image)), 16)
    assert 0 <= ours < 2**64


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 64), st.integers(1, 64), st.integers(0, 2**32 - 1))
def test_dhash_equals_imagehash_on_random_images(width, height, seed):
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)

    assert images.dhash(image) == int(str(imagehash.dhash(image)), 16)


def test_resized_copies_stay_within_a_few_bits():
    drawn = sample_images()[6]

    assert images.hamming_distance(images.dhash(drawn), images.dhash(drawn.resize((61, 45)))) <= 6


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_signed_storage_keeps_the_bits(value):
    signed = images.to_signed64(value)

    assert -(2**63) <= signed < 2**63
    assert images.to_unsigned64(signed) == value


def planted_hashes(seed: int, size: int, near: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 2**64, size=size, dtype=np.uint64)
    sources = rng.integers(0, size, near)
    targets = rng.integers(0, size, near)
    for source, target in zip(sources, targets, strict=True):
        flips = rng.choice(64, size=rng.integers(0, 10), replace=False)
        values[target] = values[source] ^ np.uint64(sum(1 << int(bit) for bit in flips))
    return values


def brute_force_pairs(values: np.ndarray, max_distance: int) -> set[tuple[int, int]]:
    pairs = set()
    for index in range(len(values) - 1):
        distances = np.bitwise_count(values[index + 1 :] ^ values[index])
        pairs.update((index, index + 1 + int(j)) for j in np.flatnonzero(distances <= max_distance))
    return pairs


@pytest.mark.parametrize("max_distance", [0, 1, 3, 6, 8, 10])
def test_hamming_pairs_equal_brute_force(max_distance):
    values = planted_hashes(max_distance, 3000, 400)

    low, high, distance = images.hamming_pairs(values, max_distance=max_distance)

    assert set(zip(low.tolist(), high.tolist(), strict=True)) == brute_force_pairs(values, max_distance)
    assert np.array_equal(distance, np.bitwise_count(values[low] ^ values[high]))


def test_hamming_pairs_take_signed_hashes_as_stored():
    values = planted_hashes(1, 500, 100)

    signed_low, signed_high, _ = images.hamming_pairs(values.view(np.int64))
    low, high, _ = images.hamming_pairs(values)

    assert np.array_equal(signed_low, low) and np.array_equal(signed_high, high)


def test_hamming_blocks_follow_the_cost_model():
    assert images.hamming_blocks(1000, 0) == 1
    assert images.hamming_blocks(1000, 6) == 7
    assert images.hamming_blocks(1_000_000, 6) == 8
    assert images.hamming_blocks(100_000, 3) == 4  # 4 tables of 16 bits: the classic layout
    with pytest.raises(ValueError):
        images.hamming_pairs(np.zeros(3, dtype=np.uint64), max_distance=17)


def test_thousands_of_identical_images_form_one_group_without_quadratic_pairs():
    values = np.concatenate(
        [np.full(5000, 0x0F0F_0F0F_0F0F_0F0F, dtype=np.uint64), planted_hashes(2, 1000, 0)]
    )

    low, _, _ = images.hamming_pairs(values)
    groups = images.group_image_hashes(values)

    assert len(low) < 5000 * algorithm.WINDOW * 40  # bounded per table, not 5000**2 / 2
    assert groups[0].members.tolist() == list(range(5000))
    assert groups[0].similarity == 1.0


def test_group_image_hashes_with_similarity_from_the_largest_distance():
    base = 0x1234_5678_9ABC_DEF0
    values = np.array([base, base ^ 0b111, base ^ 0b111000, 0, 2**64 - 1], dtype=np.uint64)

    groups = images.group_image_hashes(values, max_distance=3)

    assert [group.members.tolist() for group in groups] == [[0, 1, 2]]
    assert groups[0].similarity == 1 - 6 / 64
