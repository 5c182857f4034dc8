"""The real-posts benchmark reads the public datasets in the form they are published, and its
labels file names only posts it can find there."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from benchmarks.content_notes_public import (
    CATS,
    LABELS,
    RMHD_IN_WHEEL,
    copies,
    half,
    kappa,
    neutral_by_source,
    read_labels,
    read_posts,
    score,
)

DREADDIT = (
    ",id,subreddit,post_id,sentence_range,text,label,confidence\n"
    '1,896,relationships,7nu7as,"[50, 55]","She said ""fine"", then left, again.",0,0.8\n'
    '2,7977,ptsd,8eeu1t,"(5, 10)",Plain words,1,1\n'
)
GOEMOTIONS = 'So sorry for your loss.\t16,25\teduqa1\n"""Quoted"" words"\t27\tedw2k0\n'
RMHD = (
    ",subreddit,author,date,post,automated_readability_index\n"
    '0,EDAnonymous,someone,2019/05/26,"Restricting again, 600 a day",3.1\n'
)

TOP_POSTS = (
    "created_utc,score,domain,id,title,author,selftext,is_self\n"
    '1,900,self.offmychest,1abc,My news,someone,"Line one\nline ""two""",True\n'
    "2,800,imgur.com,2def,A picture,someone,,False\n"
)


def test_each_published_format_gives_source_id_and_text(tmp_path: Path) -> None:
    dreaddit = tmp_path / "dreaddit-test.csv"
    dreaddit.write_text(DREADDIT, "utf-8")
    goemotions = tmp_path / "dev.tsv"
    goemotions.write_text(GOEMOTIONS, "utf-8")
    wheel = tmp_path / "package.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr(RMHD_IN_WHEEL, RMHD)
    top = tmp_path / "offmychest.csv"
    top.write_text(TOP_POSTS, "utf-8")
    jsonl = tmp_path / "posts.jsonl"
    jsonl.write_text(json.dumps({"source": "dreaddit-test", "id": 5, "text": "x"}) + "\n")

    assert list(read_posts(dreaddit)) == [
        ("dreaddit-test", "896", 'She said "fine", then left, again.'),
        ("dreaddit-test", "7977", "Plain words"),
    ]
    assert list(read_posts(goemotions)) == [
        ("goemotions-dev", "eduqa1", "So sorry for your loss."),
        ("goemotions-dev", "edw2k0", '"Quoted" words'),
    ]
    assert list(read_posts(wheel)) == [("rmhd-test", "0", "Restricting again, 600 a day")]
    # Self posts only, as a reader sees them: the title, then the text.
    assert list(read_posts(top)) == [("offmychest-top", "1abc", 'My news\n\nLine one\nline "two"')]
    assert list(read_posts(jsonl)) == [("dreaddit-test", "5", "x")]


def test_an_unknown_file_is_refused_by_name(tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("just some text\n", "utf-8")
    with pytest.raises(SystemExit, match=r"notes\.txt: not a dataset file"):
        list(read_posts(other))


def test_the_committed_labels_name_known_posts_with_both_readers() -> None:
    labelled = read_labels(LABELS)
    assert len(labelled) >= 2000
    assert {source for source, _ in labelled} == {
        "dreaddit-test",
        "goemotions-dev",
        "offmychest-top",
        "rmhd-test",
    }
    for item in labelled.values():
        # A settled label is one at least one reader gave: the third reader only chooses.
        assert set(item["labels"]) <= set(item["a"]) | set(item["b"])
    halves = [half(source, post_id) for source, post_id in labelled]
    assert 0.45 < halves.count("dev") / len(halves) < 0.55


def test_scores_average_only_categories_with_enough_posts() -> None:
    gold = [{"suicide"}] * 10 + [set()] * 10 + [{"abuse"}]
    found = [{"suicide"}] * 5 + [set()] * 5 + [{"abuse"}] + [set()] * 9 + [set()]
    figures = score(gold, found)
    assert figures["recall"] == 0.5  # suicide alone: abuse has one post
    assert figures["precision"] == 1.0
    assert figures["neutral_flagged"] == 0.1
    assert figures["per_category"]["abuse"]["support"] == 1


def test_kappa_is_one_for_agreement_and_zero_for_chance() -> None:
    a = [{"trauma"}, set(), {"trauma"}, set()]
    assert kappa(a, a, "trauma") == 1.0
    assert kappa(a, [{"trauma"}, {"trauma"}, set(), set()], "trauma") == 0.0
    assert set(CATS) >= {"trauma"}


def test_a_real_posts_words_copied_into_the_project_are_found(tmp_path: Path) -> None:
    post = "Long story short the landlord kept the deposit and never fixed the boiler at all"
    (tmp_path / "copied.py").write_text(f'TEXT = "{post[:70]}"\n', "utf-8")
    (tmp_path / "common.py").write_text('TEXT = "the landlord kept the deposit"\n', "utf-8")
    (tmp_path / "untracked.py").write_text(f'TEXT = "{post}"\n', "utf-8")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "copied.py", "common.py"], cwd=tmp_path, check=True)

    found = copies([post], root=tmp_path)

    assert {name for name, _ in found} == {"copied.py"}  # a short common run is not a copy
    assert found[0][1].startswith("long story short the landlord")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not a label line"),
        ('{"source": "x", "id": "1", "labels": []}', "not a label line"),
        ('{"source": "x", "id": "1", "labels": ["grief"], "a": [], "b": []}', "unknown categories"),
    ],
)
def test_a_bad_labels_line_is_named_by_its_line(tmp_path: Path, line: str, message: str) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text("\n" + line + "\n", "utf-8")
    with pytest.raises(SystemExit, match=rf"labels\.jsonl:2: {message}"):
        read_labels(labels)


def test_a_missing_or_wrong_posts_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"gone\.csv: no such file"):
        list(read_posts(tmp_path / "gone.csv"))
    other = tmp_path / "other.whl"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("something/else.csv", "a,b\n")
    with pytest.raises(SystemExit, match=r"other\.whl: a zip without construct_tracker/"):
        list(read_posts(other))
    latin = tmp_path / "latin.csv"
    latin.write_bytes("caf\xe9,1\n".encode("latin-1"))
    with pytest.raises(SystemExit, match=r"latin\.csv: not UTF-8 text"):
        list(read_posts(latin))


def test_neutral_posts_flagged_are_counted_per_dataset() -> None:
    part: list[tuple[str, str, str, dict[str, list[str]]]] = [
        ("everyday", "1", "t", {"labels": []}),
        ("everyday", "2", "t", {"labels": []}),
        ("support", "3", "t", {"labels": []}),
        ("support", "4", "t", {"labels": ["trauma"]}),  # not neutral: not counted
    ]
    found = [set(), {"mental-health"}, {"mental-health"}, {"trauma"}]
    assert neutral_by_source(part, found) == {"everyday": (1, 2), "support": (1, 1)}
