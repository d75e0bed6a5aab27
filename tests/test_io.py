import numpy as np
import pytest

from builders import random_sequences
from medna_interp.core.errors import MednaError
from medna_interp.data.io import read_sequences


def test_reads_idna_ms_tsv_and_uppercases(tmp_path):
    seqs = random_sequences(4)
    path = tmp_path / "d.tsv"
    path.write_text("index\tlabel\ttext\n" + "".join(f"{i}\t{i % 2}\t{s.lower()}\n" for i, s in enumerate(seqs)))
    data = read_sequences(path)
    assert data.sequences == seqs
    assert data.labels.tolist() == [0, 1, 0, 1]
    assert data.ids == ["0", "1", "2", "3"]


def test_reads_unlabelled_tsv(tmp_path):
    path = tmp_path / "d.tsv"
    path.write_text("index\ttext\n" + "".join(f"{i}\t{s}\n" for i, s in enumerate(random_sequences(3))))
    data = read_sequences(path)
    assert data.labels is None
    with pytest.raises(MednaError, match="no labels"):
        data.require_labels()


def test_reads_fasta_with_labels_in_headers(tmp_path):
    seqs = random_sequences(2)
    path = tmp_path / "d.fa"
    path.write_text(f">a label=1\n{seqs[0][:20]}\n{seqs[0][20:]}\n>b label=0\n{seqs[1]}\n")
    data = read_sequences(path)
    assert data.ids == ["a", "b"] and data.sequences == seqs and data.labels.tolist() == [1, 0]


def test_reads_one_fasta_per_class(tmp_path):
    pos, neg = tmp_path / "pos.fa", tmp_path / "neg.fa"
    seqs = random_sequences(5)
    pos.write_text("".join(f">p{i}\n{s}\n" for i, s in enumerate(seqs[:2])))
    neg.write_text("".join(f">n{i}\n{s}\n" for i, s in enumerate(seqs[2:])))
    data = read_sequences(pos, negatives=neg)
    assert data.labels.tolist() == [1, 1, 0, 0, 0]
    assert data.sequences == seqs


def test_reads_plain_lines_and_any_length(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("ACGTACGT\n\nacgtacgt\n")
    data = read_sequences(path, length=None)
    assert data.sequences == ["ACGTACGT"] * 2 and data.labels is None


@pytest.mark.parametrize("body, message", [
    ("index\tlabel\ttext\n0\t1\t" + "A" * 41 + "\n1\t0\t" + "A" * 20 + "X" + "A" * 20 + "\n",
     r"d\.tsv:3: invalid base 'X'"),
    ("index\tlabel\ttext\n0\t1\t" + "A" * 40 + "\n", r"d\.tsv:2: sequence has length 40, expected 41"),
    ("", r"d\.tsv: no sequences found"),
    ("index\tlabel\tseqq\n0\t1\t" + "A" * 41 + "\n", r"d\.tsv:1: missing column 'text'"),
    ("index\tlabel\ttext\n0\t2\t" + "A" * 41 + "\n", r"d\.tsv:2: label must be 0 or 1, got '2'"),
    ("index\tlabel\ttext\n0\t1\n", r"d\.tsv:2: expected 3 columns"),
])
def test_bad_input_names_file_and_line(tmp_path, body, message):
    path = tmp_path / "d.tsv"
    path.write_text(body)
    with pytest.raises(MednaError, match=message):
        read_sequences(path)


def test_missing_file(tmp_path):
    with pytest.raises(MednaError, match="no such file"):
        read_sequences(tmp_path / "absent.tsv")


def test_subset_keeps_labels_aligned(labelled_tsv):
    data = read_sequences(labelled_tsv)
    part = data.subset(np.array([3, 0]))
    assert part.ids == ["3", "0"] and part.labels.tolist() == [1, 0]


def test_gzipped_files_are_read_transparently(tmp_path):
    import gzip

    seqs = random_sequences(3)
    body = "index\tlabel\ttext\n" + "".join(f"w{i}\t{i % 2}\t{s}\n" for i, s in enumerate(seqs))
    (tmp_path / "d.tsv.gz").write_bytes(gzip.compress(body.encode()))
    (tmp_path / "d.fa.gz").write_bytes(gzip.compress("".join(f">w{i} label={i % 2}\n{s}\n"
                                                             for i, s in enumerate(seqs)).encode()))
    for name in ("d.tsv.gz", "d.fa.gz"):
        data = read_sequences(tmp_path / name)
        assert data.sequences == seqs and data.ids == ["w0", "w1", "w2"] and data.labels.tolist() == [0, 1, 0]
    (tmp_path / "broken.tsv.gz").write_bytes(gzip.compress(body.encode())[:30])
    with pytest.raises(MednaError, match="damaged gzip file"):
        read_sequences(tmp_path / "broken.tsv.gz")
    (tmp_path / "binary.tsv").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(MednaError, match="not a text file"):
        read_sequences(tmp_path / "binary.tsv")


def test_duplicate_ids_are_refused_with_both_lines(tmp_path):
    s = random_sequences(2)
    path = tmp_path / "d.tsv"
    path.write_text(f"index\tlabel\ttext\nx\t1\t{s[0]}\ny\t0\t{s[1]}\nx\t0\t{s[1]}\n")
    with pytest.raises(MednaError, match=r"d.tsv:4: duplicate window id 'x' \(first at line 2\)"):
        read_sequences(path)
    positives, negatives = tmp_path / "p.fa", tmp_path / "n.fa"
    positives.write_text(f">a\n{s[0]}\n>b\n{s[1]}\n")
    negatives.write_text(f">c\n{s[0]}\n>a\n{s[1]}\n")
    with pytest.raises(MednaError, match=r"n.fa:3: id 'a' is also used in .*p.fa:1"):
        read_sequences(positives, negatives=negatives)


def test_numbered_plain_files_combine_into_unique_ids(tmp_path):
    s = random_sequences(4)
    (tmp_path / "p.txt").write_text(f"{s[0]}\n{s[1]}\n")
    (tmp_path / "n.txt").write_text(f"{s[2]}\n{s[3]}\n")
    data = read_sequences(tmp_path / "p.txt", negatives=tmp_path / "n.txt")
    assert data.ids == ["pos_0", "pos_1", "neg_0", "neg_1"] and data.labels.tolist() == [1, 1, 0, 0]
