from builders import random_sequences
from medna_interp.data.tokenize import KmerTokenizer, kmer_vocabulary, train_bpe_tokenizer


def test_41bp_window_gives_36_real_6mers_never_unk(kmer_dir):
    tokenizer = KmerTokenizer.from_file(kmer_dir / "vocab.txt")
    assert tokenizer.k == 6 and len(tokenizer) == 4101
    batch = tokenizer.encode(random_sequences(5))
    ids = batch.input_ids
    assert ids.shape == (5, 38)
    assert (ids[:, 0] == tokenizer.cls_id).all() and (ids[:, -1] == tokenizer.sep_id).all()
    inner = ids[:, 1:-1]
    assert inner.shape[1] == 36
    assert not (inner == tokenizer.unk_id).any()
    assert (inner >= len(tokenizer) - 4 ** 6).all()  # all are k-mer entries, none special


def test_kmer_spans_cover_the_kmer(sequences):
    tokenizer = KmerTokenizer(kmer_vocabulary(4), 4)
    batch = tokenizer.encode(sequences[:2])
    for row, sequence in enumerate(sequences[:2]):
        for (start, end), token in zip(batch.spans[row], batch.tokens[row]):
            if start >= 0:
                assert sequence[start:end] == token
    assert batch.is_sequence_token[0].sum() == 41 - 4 + 1


def test_bpe_spans_map_tokens_to_bases():
    seqs = random_sequences(200, seed=7)
    tokenizer = train_bpe_tokenizer(seqs, vocab_size=80)
    assert (tokenizer.unk_id, tokenizer.cls_id, tokenizer.sep_id, tokenizer.pad_id) == (0, 1, 2, 3)
    batch = tokenizer.encode(seqs[:8])
    for row, sequence in enumerate(seqs[:8]):
        covered = []
        for (start, end), token in zip(batch.spans[row], batch.tokens[row]):
            if start >= 0:
                assert sequence[start:end] == token
                covered.extend(range(start, end))
        assert covered == list(range(41))  # every base exactly once, in order
    lengths = batch.attention_mask.sum(1)
    assert (batch.input_ids[batch.attention_mask == 0] == tokenizer.pad_id).all()
    assert lengths.max() == batch.input_ids.shape[1]
