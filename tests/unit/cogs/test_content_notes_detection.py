"""Detection: the seed thread gets mental-health and trauma; neutral posts get nothing;
normalisation folds case, accents, plurals, hashtags, leetspeak and censoring; every auto
note names the words that triggered it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.models import Author, Post, Thread
from cogs.content_notes.annotate import annotate, text_notes
from cogs.content_notes.categories import CATEGORY_IDS
from cogs.content_notes.classifier import Classifier
from cogs.content_notes.lexicon import load_lexicon, parse_lexicon
from cogs.content_notes.normalize import tokenize
from tests.fixtures import seed_thread as seed

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier.default()


def categories(clf: Classifier, text: str) -> set[str]:
    return {n.category for n in clf.classify(text)}


def assert_named(clf: Classifier, text: str, category: str, words: str) -> None:
    """``text`` gets a ``category`` note whose reason names ``words``."""
    notes = {n.category: n.reason for n in clf.classify(text)}
    assert category in notes, notes
    assert words.lower() in notes[category].lower(), notes


def _thread(texts: list[str]) -> Thread:
    author = Author("x:1", "crys_tom", "crys_tom", "https://x.com/crys_tom")
    posts = tuple(
        Post(f"x:{i}", f"https://x.com/crys_tom/status/{i}", author, f"2020-12-14T01:{i:02d}Z", t)
        for i, t in enumerate(texts)
    )
    return Thread("x", posts[0].url, posts[0].id, author, posts)


def test_seed_thread_gets_mental_health_and_trauma(clf: Classifier) -> None:
    thread = annotate(_thread([p["text"] for p in seed.POSTS]), clf)
    notes = {n.category: n for n in thread.content_notes}
    assert set(notes) == {"mental-health", "trauma"}
    assert all(n.origin == "auto" for n in notes.values())
    # The reason quotes the post's own words.
    for word in ("mental health workers", "therapy", "therapist", "psychiatrist"):
        assert word in notes["mental-health"].reason
    assert notes["trauma"].reason == "trauma"
    # Per post: only the posts that talk about it carry the note.
    per_post = dict(thread.post_notes)
    assert 0 < len(per_post) < len(seed.POSTS)
    assert [n.category for n in per_post["x:0"]] == ["mental-health"]
    assert "x:1" not in per_post  # "hi, legal profession!": nothing there


def test_seed_file_as_given_gets_the_same_notes(clf: Classifier) -> None:
    text = Path("/work/shared/seed/seed-thread.txt").read_text("utf-8")
    assert categories(clf, text) == {"mental-health", "trauma"}


@pytest.mark.parametrize(
    "text",
    [
        "This is the killer feature nobody talks about.",
        "Good news: this bug is trauma-free to fix.",
        "I'm dying to see it!",
        "That cake is to die for.",
        "My laptop died last night, back tomorrow.",
        "Retail therapy after a long week.",
        "Report abuse with the button on the profile.",
        "A tropical depression is forming off the coast.",
        "Non-alcoholic beer is good now.",
        "Rapeseed fields in May.",
        "Read https://example.com/suicide-prevention/slides later",
        "@therapist_bot summarise this",
        "Write to abuse@example.com or @suicide@mastodon.example",
        "Ed from accounting brought cake; SH sounds are hard; MH370 tonight.",
        "The deadline moved to Friday.",
        "Release 2.3 fixes a memory leak.",
    ],
)
def test_neutral_texts_get_nothing(clf: Classifier, text: str) -> None:
    assert clf.classify(text) == ()


def test_neutral_thread_gets_nothing(clf: Classifier) -> None:
    thread = annotate(_thread(["Part 1: our new release", "Part 2: the killer feature"]), clf)
    assert thread.content_notes == () and thread.post_notes == ()


@pytest.mark.parametrize(
    ("text", "category", "reason"),
    [
        ("Sharing my story #MentalHealth", "mental-health", "mental health"),
        ("#mentalhealthawareness or #mentalhealth", "mental-health", "mentalhealth"),
        ("#PTSDAwareness day", "trauma", "ptsd"),
        ("Thread on how the news covers su1cide", "suicide", "su1cide"),
        ("The r*pe scene needed a warning", "sexual-violence", "r*pe"),
        ("Passive s*icidal thoughts", "suicide", "s*icidal"),
        # Censored words inside phrases, a star run hiding one letter more than it has.
        ("my m*ntal h*alth is bad", "mental-health", "m*ntal h*alth"),
        ("an ov*rd*se last year", "substance-use", "ov*rd*se"),
        ("she was r**ed at a party", "sexual-violence", "r**ed at a party"),
        ("People say unalive because of the filters", "suicide", "unalive"),
        ("SUICIDE prevention", "suicide", "suicide"),
        ("Ma thérapie commence", "mental-health", None),
        ("My therapists are great", "mental-health", "therapists"),
        ("Therapies differ", "mental-health", "therapies"),
        ("She was traumatised for years", "trauma", "traumatised"),
        ("#self_harm awareness", "self-harm", "self harm"),
        ("Talking about self-harm openly", "self-harm", "self-harm"),
    ],
)
def test_normalisation(
    clf: Classifier, text: str, category: str | None, reason: str | None
) -> None:
    notes = {n.category: n.reason for n in clf.classify(text)}
    if category is None:
        assert notes == {}
        return
    if reason is None:  # French "thérapie" is not in the English lexicon: accents fold only
        assert notes == {}
        return
    assert category in notes
    assert reason in notes[category]


def test_accents_fold_into_the_lexicon() -> None:
    clf = Classifier.default({"mental-health": ["thérapie"]})
    assert categories(clf, "Ma THERAPIE commence") == {"mental-health"}
    assert categories(clf, "Ma thérapie commence") == {"mental-health"}


def test_whole_words_only(clf: Classifier) -> None:
    assert categories(clf, "the therapeutic value of walks") == set()
    assert categories(clf, "traumaandlawyers is a blog") == set()
    assert categories(clf, "grape harvest") == set()


def test_longer_match_wins_over_the_word_inside_it(clf: Classifier) -> None:
    assert categories(clf, "substance abuse services") == {"substance-use"}
    assert categories(clf, "sexual abuse survivors") == {"sexual-violence"}
    assert categories(clf, "non-suicidal self-injury") == {"self-harm"}


def test_tokens_keep_their_place_in_the_original_text() -> None:
    text = "Hi #MentalHealth su1cide"
    words = [text[t.start : t.end] for t in tokenize(text)]
    assert words == ["Hi", "Mental", "Health", "su1cide"]
    assert [t.norm for t in tokenize(text)] == ["hi", "mental", "health", "suicide"]


def test_extra_terms_from_the_config_extend_one_server() -> None:
    base = Classifier.default()
    extended = Classifier.default({"substance-use": ["ketamine"], "trauma": ["moral injur*"]})
    assert categories(base, "ketamine") == set()
    assert categories(extended, "ketamine again") == {"substance-use"}
    assert categories(extended, "moral injuries in nursing") == {"trauma"}
    # The shipped lexicon's word groups ("{kin}") work in extra terms too.
    grieving = Classifier.default({"death-grief": ["still set a place for {my} {kin}"]})
    assert categories(grieving, "we still set a place for our grandad") == {"death-grief"}
    assert categories(extended, "we still set a place for our grandad") == set()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"bogus": ["x"]}, "unknown category 'bogus'"),
        ({"trauma": "flashback"}, "must be a list"),
        ({"trauma": [3]}, "is not text"),
        ({"trauma": ["a*b"]}, "only allowed at the end"),
        ({"trauma": ["ab*"]}, "at least 4 letters"),
        ({"trauma": ["{nope} x"]}, "unknown group"),
    ],
)
def test_bad_extra_terms_are_reported_with_their_key(extra: object, message: str) -> None:
    with pytest.raises(ConfigError, match=r"content_notes\.extra_terms") as info:
        load_lexicon(extra)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_shipped_lexicon_rejects_unknown_sections() -> None:
    with pytest.raises(ConfigError, match="unknown category"):
        parse_lexicon({"bogus": {"terms": ["x"]}})


def test_labelled_set_quality_floor() -> None:
    """A guard against regressions, not the measurement itself (see the benchmark)."""
    import sys

    sys.path.insert(0, str(ROOT))
    from benchmarks.content_notes_eval import DEFAULT_DATA, evaluate, load

    rows = load(*DEFAULT_DATA)
    assert len(rows) >= 1000 and 2 * sum(1 for r in rows if not r[1]) >= len(rows)
    rows = [r for r in rows if r[2] == "dev"]
    labelled = {c for _, labels, _, _ in rows for c in labels}
    assert labelled >= {
        "suicide", "self-harm", "eating-disorders", "sexual-violence", "abuse",
        "trauma", "substance-use", "mental-health", "death-grief",
    }  # fmt: skip
    result = evaluate(rows, Classifier.default())
    micro = result["micro"]
    assert isinstance(micro, dict)
    assert micro["precision"] >= 0.9 and micro["recall"] >= 0.85
    tricky = {r[0] for r in rows if not r[1]}
    assert "This is the killer feature nobody talks about." in tricky
    assert json.dumps(result["errors"])  # serialisable for --json


def test_every_split_keeps_neutral_posts_quiet() -> None:
    """A regression guard on every split the lexicon's authors have read: at most 2% of
    neutral posts get a note and notes stay precise (the figures themselves are the
    benchmark's). A split nobody has studied is measured, never guarded: a threshold here
    would make it something to tune against, and its figures stop being honest."""
    import sys

    sys.path.insert(0, str(ROOT))
    from benchmarks.content_notes_eval import DEFAULT_DATA, evaluate, load
    from benchmarks.content_notes_splits import GUARDED, SPLITS

    rows = load(*DEFAULT_DATA)
    classifier = Classifier.default()
    assert {r[2] for r in rows} == {s.name for s in SPLITS}
    for split in (s.name for s in GUARDED):
        result = evaluate([r for r in rows if r[2] == split], classifier)
        rate, macro = result["neutral_flagged_rate"], result["macro"]
        assert isinstance(rate, float) and isinstance(macro, dict)
        assert rate <= 0.02, (split, rate)
        assert macro["precision"] >= 0.9, (split, macro)


@pytest.mark.parametrize(
    ("text", "category", "words"),
    [
        ("tonight I cut again after 200 days clean", "self-harm", "i cut again"),
        (
            "restricting to 500 calories a day",
            "eating-disorders",
            "restricting … calories",
        ),
        ("I relapsed last night after 8 months", "substance-use", "i relapsed"),
        ("started prozac last month", "mental-health", "prozac"),
        ("some guy tried to grope me on the bus", "sexual-violence", "grope"),
        ("got catcalled on the way to work", "sexual-violence", "catcalled"),
        ("so sorry for your loss, she was lovely", "death-grief", "so sorry for your loss"),
        ("you lost your dad so young", "death-grief", "lost your dad"),
        ("my grandma passed away this morning", "death-grief", "my grandma passed away"),
        ("honestly so tired of living", "suicide", "tired of living"),
    ],
)
def test_phrase_patterns_name_their_words(
    clf: Classifier, text: str, category: str, words: str
) -> None:
    assert_named(clf, text, category, words)


@pytest.mark.parametrize(
    "text",
    [
        "lost my keys again, third time this week",
        "the new policy is restricting access to the API",
        "she killed it on stage last night",
        "dying to see the new season",
        "cut the onions thin and fry till golden",
        "overdosed on coffee again lol",
        "my plants are dying, too much water?",
        "restricting access to admin tools for the whole summer, then food trucks",
    ],
)
def test_negative_contexts_stay_quiet(clf: Classifier, text: str) -> None:
    assert clf.classify(text) == ()


def test_proximity_needs_the_words_close() -> None:
    clf = Classifier.default({"eating-disorders": ["skipping ~2 {meal|meals}"]})
    assert categories(clf, "skipping most meals") == {"eating-disorders"}
    assert categories(clf, "skipping class today because the meals at school are bad") == set()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("restricting ~ food", "number of words"),
        ("restricting ~99 food", "number of words"),
        ("~3 food", "reads 'phrase ~N phrase'"),
        ("a ~2 b ~2 c", "only two phrases"),
    ],
)
def test_malformed_pattern_in_config_is_reported(entry: str, message: str) -> None:
    with pytest.raises(ConfigError, match=r"content_notes\.extra_terms") as info:
        load_lexicon({"eating-disorders": [entry]})
    assert message in str(info.value)


def test_eval_runner_on_a_small_file(tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(ROOT))
    from benchmarks.content_notes_eval import evaluate, load

    data = tmp_path / "small.jsonl"
    rows_in = [
        {"text": "I relapsed last night", "labels": ["substance-use"], "split": "test"},
        {"text": "lost my keys", "labels": [], "split": "test"},
        {"text": "the game is killing me", "labels": ["suicide"], "split": "test"},
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows_in), "utf-8")
    result = evaluate(load(data), Classifier.default())
    per_cat = result["per_category"]
    assert isinstance(per_cat, dict)
    assert per_cat["substance-use"]["recall"] == 1.0
    assert per_cat["suicide"]["fn"] == 1
    assert result["neutral_flagged"] == 0 and result["neutral_posts"] == 1


def test_real_recorded_posts_rarely_get_a_note() -> None:
    """Posts real people wrote (the answers recorded from real servers, read where they
    lie) are mostly about everyday things: at most 2% may get a note."""
    import sys

    sys.path.insert(0, str(ROOT))
    from benchmarks.content_notes_real import RECORDINGS, real_posts

    if RECORDINGS is None:
        pytest.skip("the recorded answers (../shared/real_replay/data) are not on this machine")
    posts = real_posts(RECORDINGS)
    assert len(posts) >= 300  # Mastodon, Pleroma, Bluesky and X posts all read
    classifier = Classifier.default()
    flagged = [p for p in posts if text_notes(p, classifier)]
    assert len(flagged) <= 0.02 * len(posts), flagged


def test_splits_share_no_post() -> None:
    """Dev, test and the four held-out splits never hold the same post (case, punctuation
    and emoji ignored), and the held-out splits are broad: every category, about half
    neutral."""
    import sys

    sys.path.insert(0, str(ROOT))
    from benchmarks.content_notes_corpus import same_post
    from benchmarks.content_notes_eval import DEFAULT_DATA, load

    by_split: dict[str, set[str]] = {}
    for text, _, split, _ in load(*DEFAULT_DATA):
        by_split.setdefault(split, set()).add(same_post(text))
    from benchmarks.content_notes_splits import HELD_OUT, SPLITS

    assert set(by_split) == {s.name for s in SPLITS}
    for one in by_split:
        for two in by_split:
            if one < two:
                assert not by_split[one] & by_split[two], (one, two)
    # Training material may be one-sided (everyday neutral posts); splits that measure may not.
    for split in (s.name for s in HELD_OUT if s.guarded or not s.studied):
        rows = [r for r in load(*DEFAULT_DATA) if r[2] == split]
        assert len(rows) >= 300 and 0.4 <= sum(1 for r in rows if not r[1]) / len(rows) <= 0.6
        assert {c for _, labels, _, _ in rows for c in labels} == set(CATEGORY_IDS) - {"other"}


@pytest.mark.parametrize(
    ("text", "category", "words"),
    [
        (
            "always walking on eggshells at home because of his temper",
            "abuse",
            "walking on eggshells",
        ),
        ("my ex tracked my phone for a year", "abuse", "tracked my phone"),
        ("my stepmum slapped me for spilling milk", "abuse", "stepmum slapped me"),
        ("he takes my salary and gives me pocket money", "abuse", "he takes my salary"),
        ("a man flashed me outside the station", "sexual-violence", "flashed me"),
        ("she told me he forced himself on her", "sexual-violence", "forced himself on her"),
        ("we scattered dad's ashes off the pier", "death-grief", "scattered dad's ashes"),
        ("on a four day bender, send water", "substance-use", "bender"),
        (
            "the thunderstorm sent me right back to the war",
            "trauma",
            "sent me right back to the war",
        ),
        ("been stockpiling my meds and it scares me", "suicide", "stockpiling my meds"),
        (
            "my stepbrother would come into my room at night when i was little",
            "sexual-violence",
            "come into my room at night",
        ),
        (
            "the first thing the officer asked was what i was wearing when he assaulted me",
            "sexual-violence",
            "what i was wearing",
        ),
        (
            "a man keeps filming women in the changing room without asking",
            "sexual-violence",
            "filming women … changing",
        ),
        ("our daughter was born sleeping at 39 weeks", "death-grief", "born sleeping"),
        ("my husband of 40 years passed on monday", "death-grief", "passed on monday"),
        ("they switched off my dad's life support", "death-grief", "life support"),
        ("a student showed scars to the school nurse", "self-harm", "scars … school nurse"),
        ("since the break-in i check the locks every night", "trauma", "check the locks"),
        ("a month without a drink and still shaking", "substance-use", "without a drink"),
        ("took an overdose of paracetamol last night", "substance-use", "overdose"),
        ("she overdosed on tylenol after the breakup", "substance-use", "overdosed"),
        (
            "couldn't watch the funeral scene, it was my mum's funeral all over again",
            "death-grief",
            "funeral",
        ),
    ],
)
def test_everyday_and_reported_wording_names_its_words(
    clf: Classifier, text: str, category: str, words: str
) -> None:
    notes = {n.category: n.reason for n in clf.classify(text)}
    assert set(notes) == {category}
    assert words in notes[category]


@pytest.mark.parametrize(
    "text",
    [
        "my son passed his maths exam",
        "the cat passed out in the sun",
        "my nan still beats us all at scrabble",
        "my mum hit me with the classic we have food at home",
        "cut myself shaving this morning",
        "twitter is dying, come to mastodon",
        "purging old logs freed half the disk",
        "ran 8 kms before breakfast",
        "the printer finally died, rip",
        "this album hits me different",
        "our back line got abused all game",
        "she beat me in the semi final",
        "my sourdough starter died, rip",
        "this dedaline is killing me",  # a typo of deadline, not of "did a line"
        "the fan on my pc sounds like it's dying",
        "the build keeps dying on CI",
        "my boss gives me so much grief about my spreadsheets",
        "the grief over the cancelled season is real",
        "lost my son in the supermarket for five minutes",
        "we tried to end it in the second half but they equalised",
        "i want to dye my hair green",
        "fire alarm test at work, still get shaky hearing that thing",
        "the pharmacist lined up my pills in a weekly box",
        "the cat comes into my room at night and sits on my face",
        "new study says most adults eat 2000 calories a day",
        "took apart the pencil sharpener to clean the blade",
        "back on the bottle again, the baby refuses the breast",
        "the budget cuts went too deep, nurses say",
        "the funeral scene in the show had me in bits",
        "that funeral episode is the best thing on tv this year",
        "an overdose of vitamins lol, three smoothies today",
        "d*ing to see it, f*ck",
    ],
)
def test_alarming_idioms_stay_quiet(clf: Classifier, text: str) -> None:
    assert clf.classify(text) == ()


def test_an_ignore_can_be_a_proximity_rule() -> None:
    lexicon = parse_lexicon(
        {"abuse": {"terms": ["abused"], "ignore": ["{defence|keeper} ~3 abused"]}}
    )
    clf = Classifier(lexicon)
    assert categories(clf, "our defence got absolutely abused") == set()
    assert categories(clf, "he abused me for years") == {"abuse"}
    # Too far apart, the ignore no longer covers the match.
    assert categories(clf, "the defence said the boy was abused for years") == {"abuse"}


def test_extra_terms_do_not_leak_into_other_servers() -> None:
    """A server's extra terms sit in their own small index beside the shipped one: the
    shipped words still match there, and another server never sees the extra ones."""
    extra = Classifier.default({"abuse": ["silent treatment", "{ignored|blanked} ~3 for days"]})
    assert categories(extra, "weeks of the silent treatment") == {"abuse"}
    assert categories(extra, "he ignored me for days") == {"abuse"}
    assert categories(extra, "my ex tracked my phone") == {"abuse"}
    # The shipped proximity rules and ignores still apply beside the extra ones.
    assert categories(extra, "restricting food again") == {"eating-disorders"}
    assert categories(extra, "my laptop died") == set()
    assert categories(Classifier.default(), "weeks of the silent treatment") == set()
    assert categories(Classifier.default(), "he ignored me for days") == set()


def test_phrases_ending_inside_longer_ones_match_on_their_own() -> None:
    """A phrase that ends where a longer one goes on, in either order in the lexicon, and
    two categories ending on the same word: each is found by itself, and gives way to the
    longer one where that matches."""
    lexicon = parse_lexicon(
        {
            "trauma": {"patterns": ["panic attack", "night terror", "night terror again"]},
            "mental-health": {"terms": ["panic attack", "panic attack again"]},
            "abuse": {"patterns": ["night terror"]},
        }
    )
    clf = Classifier(lexicon)
    assert {d.category for d in clf.detect("a panic attack at work")} == {
        "trauma",
        "mental-health",
    }
    assert [(d.category, d.words) for d in clf.detect("a panic attack again today")] == [
        ("mental-health", "panic attack again")
    ]
    assert {d.category for d in clf.detect("one night terror")} == {"trauma", "abuse"}
    assert [(d.category, d.words) for d in clf.detect("the night terror again")] == [
        ("trauma", "night terror again")
    ]


@pytest.mark.parametrize(
    "text",
    [
        "that merge conflict was traumatising lol, three hours on one file",
        "the last boss fight in the expansion is traumatic, took our guild all week",
        "the trauma of debugging daylight saving bugs never leaves you",
        "we are abusing the borrow checker with this trick and it works",
        "abusing generics until the compiler gives up",
        "my sports therapist says the hamstring needs two more weeks",
        "booked a massage therapist for my back after the marathon",
        "our camp counselor taught us to paddle a canoe",
        "the careers counsellor said to apply for the apprenticeship",
        "pharmacies report a shortage of ADHD medication again this month",
        "the price of antidepressants is rising, says the trade body",
        "I need a grief counsellor after watching that penalty shootout",
        "her new haircut is so good I'm literally deceased",
        "the hospice fun run raised £12k this weekend, thank you all",
        "we're collecting for our local hospice at the school fair",
    ],
)
def test_jokes_tech_and_professions_stay_quiet(clf: Classifier, text: str) -> None:
    """Playful, technical and professional uses of a category's words: no note."""
    assert clf.classify(text) == ()


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("the crash left me traumatised, I still can't get in a car", "trauma"),
        ("my ex abused me for years and nobody believed it", "abuse"),
        ("my therapist says the panic will pass", "mental-health"),
        ("he is still grieving and barely eats", "death-grief"),
    ],
)
def test_the_words_still_count_outside_those_uses(
    clf: Classifier, text: str, category: str
) -> None:
    assert category in categories(clf, text)


@pytest.mark.parametrize(
    ("text", "category", "words"),
    [
        ("honestly wouldn't mind if i never wake up", "suicide", "never wake up"),
        ("i dont wanna be alive, not even a little", "suicide", "dont wanna be alive"),
        ("she survived her second attempt in march", "suicide", "second attempt"),
        ("keep rehearsing the goodbye letter in my head", "suicide", "goodbye letter in my head"),
        ("i can't trust myself near the tracks on the way home", "suicide", "trust myself"),
        ("sixty days self-harm free for the first time in years", "self-harm", "free for"),
        ("week 3 without sh and the urges are quieter", "self-harm", "without sh"),
        ("snapping a rubber band instead of the blade", "self-harm", "snapping a rubber band"),
        ("wore a hoodie to the beach so nobody could see my arms", "self-harm", "so nobody"),
        ("my ed voice says the apple was too much", "eating-disorders", "ed voice says"),
        ("he counts the calories in his chewing gum", "eating-disorders", "chewing gum"),
        ("i feel disgusting whenever i eat in public", "eating-disorders", "whenever i eat"),
        ("the b/p cycle is back and my teeth hurt", "eating-disorders", "b p cycle"),
        (
            "our ex-coach is accused of groping two swimmers at camp",
            "sexual-violence",
            "groping",
        ),
        (
            "her stepdad used to get into her bed when nobody was home",
            "sexual-violence",
            "nobody was home",
        ),
        ("my mother went a month without speaking to us as punishment", "abuse", "punishment"),
        ("the non-molestation order came through this morning", "abuse", "order came through"),
        ("my father never laid a hand on me but he screamed for hours", "abuse", "laid a hand"),
        ("she still dreams about the boy she couldn't reach in the water", "trauma", "couldn't"),
        ("my uncle came back from his third deployment and isn't the same", "trauma", "deployment"),
        ("the sound of sirens sends me straight back, every single time", "trauma", "sirens"),
        ("nicked my gran's codeine while she napped, again", "substance-use", "nicked … codeine"),
        ("ninety days drink free and my hands finally stopped", "substance-use", "drink free"),
        ("clean 12 weeks as of today, thank you NA", "substance-use", "clean 12 weeks"),
        ("coming off methadone, restless legs all night", "substance-use", "coming off"),
        ("she keeps vodka in a water bottle so nobody at work knows", "substance-use", "vodka"),
        ("I haven't left my bed for four days and the curtains stay shut", "mental-health", "bed"),
        ("the voices keep telling me I'm being watched", "mental-health", "the voices"),
        ("he sees people that aren't there since the new dose", "mental-health", "aren't there"),
        ("brushed my teeth today, a small win honestly", "mental-health", "small win"),
        (
            "my aunt killed herself in june and the house is so quiet",
            "death-grief",
            "killed herself",
        ),
        ("the vet helped us let him go, he was 15", "death-grief", "let him go"),
        ("mum's last voice note is saved in three places", "death-grief", "voice note"),
        ("cancer took our grandad before christmas", "death-grief", "cancer took … grandad"),
        ("counted out all my tablets and put them back, scared", "suicide", "counted out"),
        ("his last message reads like a goodbye note", "suicide", "reads like a goodbye note"),
        ("still purging after meals even in recovery", "eating-disorders", "purging after meals"),
        ("binged then did two spin classes to make up for it", "eating-disorders", "binged"),
        ("I can't walk past the bar where it happened", "trauma", "where it happened"),
        ("been so anxious I can't eat or sleep", "mental-health", "anxious"),
        ("her ashes are still in the hall cupboard", "death-grief", "her ashes"),
        ("blew all my wages on coke again", "substance-use", "on coke"),
        ("my son told his teacher he doesn't want to live", "suicide", "want to live"),
        ("scared of what I might do tonight, calling the hotline", "suicide", "scared of what"),
        ("I scratch until I bleed when the panic gets bad", "self-harm", "until i bleed"),
        ("she hasn't eaten properly in weeks and she's so thin", "eating-disorders", "thin"),
        ("my drink was spiked and I woke up somewhere else", "sexual-violence", "spiked"),
        ("dad screamed at us till we cried, every weekend", "abuse", "till we cried"),
        ("ever since the stabbing I can't be alone in the flat", "trauma", "stabbing"),
        ("I jump at every knock on the door now", "trauma", "jump at every knock"),
        ("took too many pills at a festival and woke up in a&e", "substance-use", "too many pills"),
        ("our dog was hit by a car and didn't make it", "death-grief", "didn't make it"),
    ],
)
def test_sixth_round_wording_names_its_words(
    clf: Classifier, text: str, category: str, words: str
) -> None:
    """Wording of the kind a different writer used: a note of the category, naming words of
    the phrase that matched."""
    assert_named(clf, text, category, words)


@pytest.mark.parametrize(
    "text",
    [
        "survived another attempt at homemade pasta, it held together",
        "I won't be around for my birthday, we're off to the coast",
        "tied the rope to the tent peg and sat there watching the sunset",
        "stood at the edge of the cliff path a bit too long, the view was unreal",
        "lowest weight class he has ever boxed at, still lost",
        "got my period back after the baby, recovery is slow but fine",
        "if I can see my collarbones in this top it's too low cut for work",
        "my friends pressured me into doing things like karaoke and I loved it",
        "my dad would come into my room when everyone was asleep to turn off the lamp",
        "she wouldn't let me eat dinner until my homework was done, fair",
        "she ignored me as punishment for spoiling the finale",
        "my son took her pension money to the bank for her",
        "hid in the bathroom until he left, worst party ever",
        "I flinch when someone raises their hand in class in case it's a question for me",
        "I dream about the penalty we couldn't save in the final",
        "the smell of smoke from the bonfire takes me right back to summers at my gran's",
        "I always sit facing the door in restaurants to catch the waiter's eye",
        "came back from his first tour with the band and he's not the same, he's famous now",
        "triggered the grounding fault in the circuit again",
        "the new charges are slapping patients with bigger bills",
        "30 days alcohol free for dry january, easy",
        "day 3 clean eating and I miss chips",
        "counting the hours till I can take my next holiday",
        "mulled wine in a flask at the christmas market, bliss",
        "haven't left my bed in three days, this flu is brutal",
        "the voices are back on the radio this morning",
        "seasonal slump in house prices as the nights draw in",
        "I feel nothing for him, not sad, not happy, just over it",
        "checked the oven 14 times for the cake to rise",
        "the vet said it was kinder to let her go back to the wild",
        "covid took my dad's sense of smell for months",
        "the storm took my dad's fence down",
        "binge watched the whole season then walked 10k to make up for it",
        "the earthquake drill went well, the kids still sleep with the lights on though",
        "the film's flashback structure is clever",
        "nobody would notice if I left the party early",
        "the grief over the finale of the show is real",
        "her last post sounds like a goodbye to the band",
        "I want to vanish forever into this book series",
        "we purge old tickets after every sprint",
        "two months since I last cut my fringe",
        "my dog stopped taking his meds and the vet is worried",
        "looked up how to drown out the noise from the neighbours",
        "I don't want to live in London anymore, rents are mad",
        "I scratch until I bleed when my eczema flares",
        "hasn't eaten properly in days because of the flu",
        "the punch was spiked with rum and everyone woke up with a headache",
        "she screams at me until I cry laughing at her jokes",
        "social services took my nephew to the park as part of the support plan",
        "I jump at every noise in horror films",
        "can't stop using this new app",
        "the bug fix didn't make it into the release",
        "I can't trust myself near the biscuits at the edge of the counter",
        "clean 30 days as of today: the codebase has zero lint warnings",
        "day 5 sober from social media, feels great",
        "held her paw until the end of the vet check, brave girl",
        "my sister killed herself laughing at the joke",
    ],
)
def test_sixth_round_lookalikes_stay_quiet(clf: Classifier, text: str) -> None:
    assert clf.classify(text) == ()


@pytest.mark.parametrize(
    "text",
    [
        "I have PTSD from that group project lol",
        "got ptsd from the last season finale",
        "my OCD could never, look at that wonky shelf",
        "the stock market is having a panic attack today",
        "gardening is my therapy",
        "he's manic about his lawn",
        "my meds for my blood pressure need a refill",
        "I'm going to kill myself if they cancel this show",
        "we got abused by their midfield all game",
        "I'm such an alcoholic for bubble tea",
        "my phone addiction is getting silly",
        "my knee relapsed after physio",
        "lost my dad's watch on the train, gutted",
        "the package got onto CRAN on the first attempt this time",
        "passed my driving test at second attempt!",
        "this raid boss fight is suicidal without a healer",
        "what a suicidal back pass from the keeper",
        "the council plans to cut waiting times for knee surgery",
        "the coach is cutting the squad down to 23",
        "the batch job overdosed on memory again and the OOM killer got it",
        "they finally patched the overdose bug with the healing potions",
    ],
)
def test_everyday_hyperbole_stays_quiet(clf: Classifier, text: str) -> None:
    """Hyperbole and borrowed words in everyday posts: no note."""
    assert clf.classify(text) == ()


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I have PTSD from the crash and still can't drive", "trauma"),
        ("I'll kill myself if nothing changes, I mean it", "suicide"),
        ("my meds are finally working, the fog is lifting", "mental-health"),
        ("relapsed after eight months sober", "substance-use"),
        ("lost my dad in march and the house is so quiet", "death-grief"),
        ("my first attempt was at fifteen and nobody noticed", "suicide"),
        ("the cutting is back and I hide my arms again", "self-harm"),
        ("he overdosed on heroin in the park bathroom", "substance-use"),
    ],
)
def test_the_same_words_in_earnest_still_count(clf: Classifier, text: str, category: str) -> None:
    assert category in categories(clf, text)


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("the odds are against us but it's an odd sort of hope", "substance-use"),
        ("feels a bit odd to be the odd one out at the party", "substance-use"),
        ("what's the best way to find out whether I have ADHD?", "mental-health"),
        ("back on adderall and ritalin for focus at school", "mental-health"),
        ("splitting the road trip costs three ways with friends", "mental-health"),
        ("bring snacks, water, sunscreen ect to the picnic", "mental-health"),
        ("she abused her xanax for a year before rehab", "abuse"),
        ("I heavily abuse MDMA at weekends", "abuse"),
        ("our daughter starts ABA therapy next month", "mental-health"),
        ("we're looking into couples therapy after the affair", "mental-health"),
        ("I've used music as a therapy for years", "mental-health"),
        ("started meditating at the advice of my therapist", "mental-health"),
        ("on therapy to get my vitamin D levels back up", "mental-health"),
        ("a meditation app to reduce stress and anxiety", "mental-health"),
        ("this tea is sold for focus and anxiety relief", "mental-health"),
        ("lost my girlfriend to another guy at uni", "death-grief"),
        ("a friend picked me up while my mom was gone", "death-grief"),
        ("my porn addiction is ruining my sleep", "substance-use"),
        ("been porn sober for 90 days now, proud of myself", "substance-use"),
        ("slept two hours and feel like I'm on meth", "substance-use"),
        ("used a small needle to get the splinter out", "substance-use"),
        ("the turbulence was awful and I really don't want to die in a plane", "suicide"),
        ("people get suicided when they know too much", "suicide"),
        ("the suicide scene in that show was hard to watch", "suicide"),
        ("vyvanse helps a lot, my SA is almost gone at work", "sexual-violence"),
        ("it was a nightmare to get the kids to bed, they were wired", "trauma"),
    ],
)
def test_eighth_round_lookalikes_stay_quiet(clf: Classifier, text: str, absent: str) -> None:
    """Wording seen in real posts that borrows a listed word: no note of that category."""
    assert absent not in categories(clf, text)


@pytest.mark.parametrize(
    ("text", "category", "words"),
    [
        ("my brother OD'd on fentanyl last spring", "substance-use", "OD'd"),
        ("he ODed twice before he got clean", "substance-use", "ODed"),
        ("she was abusing xanax to get through the day", "substance-use", "abusing xanax"),
        ("years of alcohol abuse wrecked his liver", "substance-use", "abuse"),
        ("he abused me for years and I'm still scared", "abuse", "abused"),
        ("had six sessions of ECT for my depression", "mental-health", "ECT"),
        ("splitting on my FP again, my BPD is loud today", "mental-health", "splitting"),
        ("my anxiety is so bad I can't leave the house", "mental-health", "anxiety"),
        ("I've been in therapy for my depression since May", "mental-health", "therapy"),
        ("I lost my dad last winter and I still can't talk about it", "death-grief", "lost my dad"),
        ("lost my boyfriend in a crash, the funeral is friday", "death-grief", "lost my boyfriend"),
        ("my mom is gone and the house is so quiet", "death-grief", "is gone"),
        ("I don't want to be alive anymore", "suicide", "be alive"),
        ("flashbacks of the crash wake me up every night", "trauma", "flashback"),
    ],
)
def test_eighth_round_wording_still_counts(
    clf: Classifier, text: str, category: str, words: str
) -> None:
    """The same words in earnest keep their note, naming the words that matched."""
    assert_named(clf, text, category, words)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("in my twenties I was addicted to hydrocodone for two years", "addicted"),
        ("she keeps relapsing on pills after six months clean", "relapsing"),
        ("I've been clean for almost 2 weeks now", "clean for"),
        ("does anyone stay sober without a 12 step program?", "12 step program"),
        ("woke up without a hangover for the first time in years", "without a hangover"),
        ("nine days of not drinking and the cravings are loud", "of not drinking"),
        ("honestly I could drink until I die at this point", "drink until i die"),
        ("got drunk off my ass again on a Tuesday", "drunk off my ass"),
        ("drinking helps but only for the moment", "drinking helps but"),
        ("my cousin turned up high on H at the wedding", "high on H"),
        ("he was arrested for a DWI last spring", "DWI"),
        ("my uncle says he will quit drinking after new year", "quit drinking"),
        ("I quit the drink two years ago", "quit the drink"),
        ("started drinking heavy after the divorce", "drinking heavy"),
        ("he kept getting drunk and high every weekend", "drunk and high"),
        ("watch out for the tweakers by the bus depot", "tweakers"),
        ("I was using drugs to escape everything", "using drugs to escape"),
        ("been smoking weed daily since I was 17", "smoking weed daily"),
    ],
)
def test_eighth_round_drinking_and_using_names_its_words(
    clf: Classifier, text: str, words: str
) -> None:
    notes = {n.category: n.reason for n in clf.classify(text)}
    assert "substance-use" in notes, notes
    assert words.lower() in notes["substance-use"].lower(), notes


@pytest.mark.parametrize(
    "text",
    [
        "I quit drinking soda in january and feel great",
        "my sister is a total adrenaline junkie",
        "the server stayed clean for 30 days without a reboot",
        "follow these 12 steps to set up your router",
        "we were drinking heavily caffeinated coffee all night to finish",
    ],
)
def test_eighth_round_drinking_lookalikes_stay_quiet(clf: Classifier, text: str) -> None:
    assert "substance-use" not in categories(clf, text)


def test_a_proximity_match_does_not_swallow_another_topics_word_between_its_halves(
    clf: Classifier,
) -> None:
    """A proximity match ("addicted ~8 {pills}") spans the words between its halves; a word
    of another category there still gets its own note."""
    notes = {
        n.category: n.reason
        for n in clf.classify("my brother is addicted, he is schizophrenic and takes pills")
    }
    assert "schizophrenic" in notes["mental-health"]
    assert "substance-use" in notes


@pytest.mark.parametrize(
    ("text", "category", "words"),
    [
        ("he grabbed me by the throat over a parking ticket", "abuse", "grabbed me by the throat"),
        ("my stepdad shoved me around when he was angry", "abuse", "shoved me around"),
        ("he'd hit my mum when she talked back", "abuse", "hit my mum"),
        ("he pulled my hair and punched me", "abuse", "punched me"),
        ("he slapped my daughter in the car park", "abuse", "slapped my daughter"),
        ("he smashed my head into the door frame", "abuse", "smashed my head into"),
        ("my boyfriend got physical with me last night", "abuse", "got physical with me"),
        ("the smell took me back to the night my ex attacked me", "abuse", "my ex attacked me"),
        ("I was always the family scapegoat growing up", "abuse", "scapegoat"),
        ("dad would fly into those rages over nothing", "abuse", "rages"),
        ("my mother constantly belittled me in front of guests", "abuse", "belittled"),
        ("he still lives near the child molester", "abuse", "child molester"),
        ("he still lives near the child molester", "sexual-violence", "child molester"),
        ("memories of sexual touching by my uncle as a child", "abuse", "sexual touching"),
        ("reported the inappropriate sexual comments to HR", "sexual-violence", "sexual comments"),
        ("she was forced to have sex with him for years", "sexual-violence", "forced to have sex"),
        ("my boss keeps hitting on me and it makes me sick", "sexual-violence", "hitting on me"),
        ("at eight you couldn't possibly consent to that", "sexual-violence", "possibly consent"),
        ("he kissed my neck even though I said no", "sexual-violence", "even though i said no"),
        ("counselling after the passing of my father", "death-grief", "passing of my father"),
        ("I lost someone dear to me in the spring", "death-grief", "lost someone dear"),
        ("we lost two friends to overdoses last year", "death-grief", "lost two friends"),
        ("her best friend of forty years just killed himself", "death-grief", "killed himself"),
        ("her best friend of forty years just killed himself", "suicide", "killed himself"),
        ("three family deaths in two years and I'm worn out", "death-grief", "family deaths"),
        ("he died 4 days later in the hospital", "death-grief", "days later"),
    ],
)
def test_eighth_round_abuse_assault_and_grief_name_their_words(
    clf: Classifier, text: str, category: str, words: str
) -> None:
    assert_named(clf, text, category, words)


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("I need to stop letting my boss push me around", "abuse"),
        ("the ref slapped me with a yellow card", "abuse"),
        ("he nearly killed himself laughing at the pub quiz", "death-grief"),
        ("he practically killed himself working double shifts", "death-grief"),
        ("I lost a few friends over the election arguments", "death-grief"),
        ("my cat grabbed the toy by the neck and ran", "abuse"),
    ],
)
def test_eighth_round_abuse_and_grief_lookalikes_stay_quiet(
    clf: Classifier, text: str, absent: str
) -> None:
    assert absent not in categories(clf, text)


@pytest.mark.parametrize(
    ("text", "category", "words"),
    [
        ("told my sister I wanted to kill my self", "suicide", "kill my self"),
        ("all I think about is hanging myself", "suicide", "hanging myself"),
        ("I don't know how much longer I can keep going, to be honest", "suicide", "keep going"),
        ("I wake up every day wishing I didn't", "suicide", "wishing i didn't"),
        ("I'm scared of what I might do to myself tonight", "suicide", "to myself"),
        ("they all moved on and it feels wrong that I'm still alive", "suicide", "still alive"),
        ("the intrusive memories come back every few days", "trauma", "intrusive memories"),
        ("third night this week I woke up from a nightmare shaking", "trauma", "nightmare shaking"),
        ("panic attacks from the nightmares every night", "trauma", "panic attacks from"),
        ("I got mugged on the walk home last month", "trauma", "mugged"),
        ("someone attacked me from behind in the car park", "trauma", "attacked me from behind"),
        ("we heard gunshots outside and ran inside", "trauma", "heard gunshots"),
        ("I was shot at while driving home", "trauma", "shot at"),
        ("sudden noises make me jump out of my skin", "trauma", "sudden noises"),
        ("my house burned down when I was twelve", "trauma", "burned down"),
    ],
)
def test_eighth_round_suicide_and_trauma_name_their_words(
    clf: Classifier, text: str, category: str, words: str
) -> None:
    assert_named(clf, text, category, words)


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("hanging myself upside down on the gym rings is harder than it looks", "suicide"),
        ("the shot at goal went wide", "trauma"),
        ("the fire drill at work ran long again", "trauma"),
        ("I wake up wishing I had bought the tickets earlier", "suicide"),
    ],
)
def test_eighth_round_suicide_and_trauma_lookalikes_stay_quiet(
    clf: Classifier, text: str, absent: str
) -> None:
    assert absent not in categories(clf, text)


@pytest.mark.parametrize(
    ("text", "category", "words"),
    [
        ("so I've started to cut again, most nights", "self-harm", "cut again"),
        ("she texted me that she cut herself tonight", "self-harm", "cut herself"),
        ("he dumped me and I'm back on the restriction train", "eating-disorders", "restriction"),
        ("when restricting I feel calmer and more in control", "eating-disorders", "restricting"),
        ("lost my grandad in the car crash on the bypass", "death-grief", "crash"),
        ("carving my arm with a safety pin again", "self-harm", "safety pin"),
    ],
)
def test_eighth_round_self_harm_and_eating_name_their_words(
    clf: Classifier, text: str, category: str, words: str
) -> None:
    assert_named(clf, text, category, words)


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("she cut herself a slice of cake", "self-harm"),
        ("he cut himself off from the group chat for a week", "self-harm"),
        ("when restricting access to the admin panel, log it", "eating-disorders"),
        ("the new restriction on train tickets starts monday", "eating-disorders"),
    ],
)
def test_eighth_round_self_harm_and_eating_lookalikes_stay_quiet(
    clf: Classifier, text: str, absent: str
) -> None:
    assert absent not in categories(clf, text)


@pytest.mark.parametrize(
    "text",
    [
        "I'm addicted to speed running this game",
        "totally addicted to this lean protein recipe",
        "I'm dependent on my meds for my thyroid",
    ],
)
def test_addicted_near_an_everyday_word_stays_quiet(clf: Classifier, text: str) -> None:
    """The word addicted counts next to a drug's name, not next to words that only can be one."""
    assert "substance-use" not in categories(clf, text)


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("my doctor gave me a script and told me not to abuse it", "abuse"),
        ("some patients abuse or resell their scripts, so the clinic tests", "abuse"),
        ("we split up but there was no cheating or abuse, just drifting apart", "abuse"),
        ("I try not to let things beat me down at work", "abuse"),
        ("she asked what was up and I told her nothing was wrong", "abuse"),
        ("the surgeon told us nothing more could be done", "abuse"),
        ("dad yelled at me because I threw out his old magazines", "abuse"),
        ("the voice in my head keeps telling me I'm worthless", "abuse"),
        ("she was cutting up the onions for dinner", "self-harm"),
        ("mum was cutting up a chicken in the kitchen", "self-harm"),
        ("I had a near death experience on a ski slope once", "death-grief"),
        ("I'd cry for days if my cat passed away", "death-grief"),
        ("grandpa has had a feeding tube since the stroke", "eating-disorders"),
        ("I relapsed last week and have been restricting again", "substance-use"),
        ("still getting flashbacks of that awkward speech at school", "trauma"),
        ("we start joint counseling sessions with the mediator next week", "mental-health"),
        ("our dog has terrible separation anxiety when we go to work", "mental-health"),
        ("the rheumatologist prescribed cymbalta for the fibromyalgia pain", "mental-health"),
        ("bills piling up, I'm on the verge of a mental breakdown lol", "mental-health"),
        ("a stranger in the shop accused me of abusing my son for saying no", "abuse"),
        ("try our new herbal supplement for stress and anxiety today", "mental-health"),
    ],
)
def test_ninth_round_lookalikes_stay_quiet(clf: Classifier, text: str, absent: str) -> None:
    """Real posts' everyday senses: a pill not misused, abuse denied, news of "nothing",
    the inner critic, food cut up, a death imagined, tube feeding in care, an eating-disorder
    relapse, cringe recalled, joint counselling, a pet's separation anxiety, pain medicine."""
    assert absent not in categories(clf, text)


@pytest.mark.parametrize(
    ("text", "category", "words"),
    [
        ("I was abused, it went on for years", "abuse", "abused"),
        ("he told me I was nothing but a burden", "abuse", "nothing"),
        ("he would scream at me and throw things", "abuse", "throw"),
        ("my ex hit me, so I left", "abuse", "hit me"),
        ("I was cutting my arm again last night", "self-harm", "cutting"),
        ("my grandma passed away in her sleep last night", "death-grief", "passed away"),
        ("back on a feeding tube, my weight is so low", "eating-disorders", "feeding tube"),
        ("I relapsed and drank a whole bottle of vodka", "substance-use", "relapsed"),
        ("flashbacks of the crash keep waking me up", "trauma", "flashbacks"),
        ("I've been in therapy for my depression for two years", "mental-health", "therapy"),
        ("my separation anxiety got so bad I had panic attacks", "mental-health", "panic attacks"),
        ("my psychiatrist switched me to cymbalta for my depression", "mental-health", "cymbalta"),
        ("I had a mental breakdown and was hospitalised", "mental-health", "mental breakdown"),
        ("my stepdad was abusing my little sister for years", "abuse", "abusing"),
        ("my anxiety is so bad I can't leave the house", "mental-health", "anxiety"),
    ],
)
def test_ninth_round_same_words_in_earnest_still_count(
    clf: Classifier, text: str, category: str, words: str
) -> None:
    assert_named(clf, text, category, words)


@pytest.mark.parametrize(
    ("text", "category", "words"),
    [
        ("nothing is getting better, I just want it all to end", "suicide", "want it all to end"),
        ("i just want it to be over, i'm so tired of fighting", "suicide", "want it to be over"),
        ("my cousin shot himself in his garage last spring", "suicide", "shot himself"),
        ("some days I don't want to have to wake up at all", "suicide", "have to wake up"),
        ("I wrote my goodbyes and put them in the drawer", "suicide", "wrote my goodbyes"),
        ("her grandpa past away on sunday night", "death-grief", "past away"),
        ("how do I explain to a five year old that daddy's dying", "death-grief", "dying"),
        ("I burned a cigarette on my wrist after the fight", "self-harm", "cigarette"),
        ("there are cigarette burns on my thigh nobody has seen", "self-harm", "cigarette burns"),
        ("I'm not a fan of it, but I started seeing a therapist", "mental-health", "therapist"),
        ("he was self-medicating his anxiety for years", "substance-use", "self-medicating"),
        ("I drank my way through my twenties", "substance-use", "drank my way through"),
        ("she swallowed a whole bottle of painkillers", "substance-use", "bottle of painkillers"),
        ("you hit me in front of our kids and called it nothing", "abuse", "you hit me"),
        ("my parents were always so controlling about my friends", "abuse", "controlling"),
        ("I was in a serious car accident at nineteen", "trauma", "accident"),
        ("last week I saw a cyclist get hit by a truck", "trauma", "hit by a truck"),
        ("I was finally diagnosed with C-PTSD in march", "mental-health", "diagnosed with"),
        ("I was finally diagnosed with C-PTSD in march", "trauma", "diagnosed with"),
        ("I get so depressed for no reason", "mental-health", "depressed for no reason"),
    ],
)
def test_ninth_round_phrases_name_their_words(
    clf: Classifier, text: str, category: str, words: str
) -> None:
    assert_named(clf, text, category, words)


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("the meeting dragged on and I just wanted it to be done", "suicide"),
        ("the minister shot himself in the foot with that interview", "suicide"),
        ("we left without saying our goodbyes to the hosts", "suicide"),
        ("the past away from home taught me a lot", "death-grief"),
        ("I'm not a therapist, but that sounds like a rough week at work", "mental-health"),
        ("someone claiming to be a psychologist keeps posting ads here", "mental-health"),
        ("honestly I'm self-medicating with chocolate this week", "substance-use"),
        ("we took the whole bottle of sunscreen to the beach", "substance-use"),
        ("you kicked me out of the group chat, rude", "abuse"),
        ("you hit me with that pun and I can't stop laughing", "abuse"),
        ("the new menus feel so controlling", "abuse"),
        ("the car was in a bad state after the winter", "trauma"),
        ("I saw the new trailer, it got hit by a wave of bad reviews", "trauma"),
        ("I get so depressed when my team loses lol", "mental-health"),
        ("my phone's dying, text me the address", "death-grief"),
        ("she burned the toast and set off the alarm", "self-harm"),
    ],
)
def test_ninth_round_phrases_lookalikes_stay_quiet(clf: Classifier, text: str, absent: str) -> None:
    assert absent not in categories(clf, text)


@pytest.mark.parametrize(
    ("text", "category", "words"),
    [
        ("my gums are wrecked because of my ed", "eating-disorders", "because of my ed"),
        ("weird ed perk: I stopped caring what he thinks", "eating-disorders", "ed perk"),
        ("trying to restrict to 600 cal", "eating-disorders", "restrict … cal"),
        ("day 9 of a binge-free streak, proud of me", "eating-disorders", "binge-free streak"),
        ("started keeping food from myself", "eating-disorders", "keeping food from myself"),
        ("a fifth of whiskey a night now", "substance-use", "a fifth of whiskey a night"),
        ("she has a toxic relationship with alcohol", "substance-use", "relationship with alcohol"),
        ("I need to be honest about my drinking", "substance-use", "about my drinking"),
        ("once I start drinking I just keep going", "substance-use", "once i start drinking"),
        ("they were taking cough syrup to get high", "substance-use", "taking … to get high"),
        ("should I be leaving a note behind or not", "suicide", "leaving a note behind"),
        ("does hanging hurt, asking for real", "suicide", "does hanging hurt"),
        ("death is better than living like this", "suicide", "death is better than living"),
        ("I find comfort in the thought of not existing", "suicide", "thought of not existing"),
        ("my brother shot himself two years ago today", "death-grief", "brother shot himself"),
        ("my brother shot himself two years ago today", "suicide", "brother shot himself"),
        ("we lost my uncle to suicide in the spring", "death-grief", "lost my … to suicide"),
        ("we lost my uncle to suicide in the spring", "suicide", "lost my … to suicide"),
        ("the paper says he ran a pedophile ring for years", "sexual-violence", "pedophile ring"),
        ("the paper says he ran a pedophile ring for years", "abuse", "pedophile ring"),
        ("the cult used its schools to groom children", "sexual-violence", "groom children"),
        ("my stepdad used to touch me inappropriately", "abuse", "touch me inappropriately"),
        ("I keep disassociating in meetings", "mental-health", "disassociating"),
        ("she suffers from PTSD since the deployment", "mental-health", "suffers from ptsd"),
        ("she suffers from PTSD since the deployment", "trauma", "suffers from ptsd"),
        ("I've felt so mentally unstable this month", "mental-health", "mentally unstable"),
        ("how to get out of black-and-white thinking", "mental-health", "black-and-white thinking"),
        ("too anxious to go to class again", "mental-health", "too anxious to go to class"),
        ("do the voices you hear ever say kind things", "mental-health", "the voices you hear"),
        ("honestly I wish I was never born", "suicide", "wish i was never born"),
        ("i want to fucking die, nothing works", "suicide", "want to fucking die"),
        ("some nights I want to close my eyes and never wake up", "suicide", "never wake up"),
        ("keeping death as an option is the only comfort", "suicide", "death as an option"),
        ("I don't see any point of being alive", "suicide", "point of being alive"),
        ("a man set himself on fire outside the court", "suicide", "set himself on fire"),
        ("my mum said she wished I was never born", "abuse", "she wished i was never born"),
        ("I think I'm starting to hallucinate again", "mental-health", "starting to hallucinate"),
        ("the auditory hallucinations came back this week", "mental-health", "hallucinations"),
        ("I have had PTSD since the crash", "mental-health", "had ptsd"),
        ("I have had PTSD since the crash", "trauma", "had ptsd"),
        ("how do you help an addict who won't admit it", "substance-use", "help an addict"),
        ("my ex is a heroine addict and keeps calling", "substance-use", "heroine addict"),
        ("drunk for the third day in a row", "substance-use", "day in a row"),
        ("I binged nearly 6000 calories last night", "eating-disorders", "binged … calories"),
        ("I'm worried he'll drink himself to death this winter", "substance-use", "drink himself"),
        ("my uncle drank himself to death at fifty", "death-grief", "drank himself to death"),
        ("my dad punched me and then he didn't stop", "abuse", "punched me"),
        ("walking on eggshells at home every time dad drinks", "abuse", "walking on eggshells"),
        ("she tried to kill herself last year and I still worry", "suicide", "kill herself"),
        ("my sister had a miscarriage last month", "death-grief", "miscarriage"),
        ("had less than 300 calories today and still feel huge", "eating-disorders", "calories"),
        ("honestly I'm ready to die at this point", "suicide", "ready to die"),
        ("some days I just want to not be here", "suicide", "want to not be here"),
        ("no interest in sticking around much longer", "suicide", "no interest in sticking around"),
        ("on bad days we wanna kill ourselves, that's the illness", "suicide", "kill ourselves"),
        ("not sure how much longer I can stay alive like this", "suicide", "stay alive"),
        # The words the tenth round quiets elsewhere, in earnest.
        ("I'm suicidal again tonight", "suicide", "suicidal"),
        ("it was a traumatic night for all of us", "trauma", "traumatic"),
        ("he's been doing rock again since march", "substance-use", "doing rock"),
        ("my smoking habit is an addiction now", "substance-use", "addiction"),
        ("my dad screams at me and throws things at me", "abuse", "screams at me"),
        ("the pills don't work, he hit me again", "abuse", "he hit me"),
        ("my grandma is dying and I can't visit", "death-grief", "dying"),
        ("still grieving my mum who died in may", "death-grief", "grieving"),
    ],
)
def test_tenth_round_phrases_name_their_words(
    clf: Classifier, text: str, category: str, words: str
) -> None:
    """Real posts' wording: the disorder by its short name, calorie limits, a bottle a night,
    a death by suicide as grief too, PTSD had or suffered, hallucinations as one's own, plain
    wishes not to be here; and the same words in earnest beside their look-alikes."""
    assert_named(clf, text, category, words)


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("just found out the THC gummies are legal here now", "substance-use"),
        ("honestly my smartphone addiction is out of hand", "substance-use"),
        ("it makes me feel stupid how long this form takes", "abuse"),
        ("the nurse told me it's nothing to worry about", "abuse"),
        ("coffee doesn't hit me like it used to", "abuse"),
        ("I'm not suicidal, just exhausted from the move", "suicide"),
        ("I can't settle when he's gone on a work trip, then my son misses him", "death-grief"),
        ("my ed sheeran tickets came in the post today", "eating-disorders"),
        ("she has a complicated relationship with her mother", "substance-use"),
        ("the chatbot hallucinated three citations in one answer", "mental-health"),
        ("I swear the model hallucinates more on long prompts", "mental-health"),
        ("she has a traumatic brain injury from the fall", "trauma"),
        ("we took the kids rock climbing at the leisure centre", "substance-use"),
        ("I'm addicted to music, headphones on all day", "substance-use"),
        ("with health anxiety I always think I'm dying of something", "death-grief"),
        ("still grieving the end of my marriage a year on", "death-grief"),
        ("I wish I was never born, she said, and then laughed at the joke", "abuse"),
        ("my brain screams at me to skip the gym every morning", "abuse"),
        ("new manager, and everyone at work is walking on eggshells", "abuse"),
        ("so glad he didn't punch me when I told him about the car", "abuse"),
        ("she drinks every day, she's slowly killing herself", "suicide"),
        ("I'm tired of his attempts to guilt me into staying late", "suicide"),
        ("he'd worry what would happen if she killed herself", "death-grief"),
        ("seven weeks pregnant and scared of a miscarriage every day", "death-grief"),
        ("any tips for driving anxiety before my second lesson?", "mental-health"),
        ("I'm worried he'll drink himself to death this winter", "death-grief"),
        ("I'm ready to die on this hill about tabs versus spaces", "suicide"),
        ("I am so ready to die of embarrassment right now", "suicide"),
        ("the drinks had less than 100 calories each, nice", "eating-disorders"),
    ],
)
def test_tenth_round_lookalikes_stay_quiet(clf: Classifier, text: str, absent: str) -> None:
    """Real posts' everyday senses: a cannabinoid named, a phone habit, a thing that makes one
    feel stupid, reassurance, suicide denied, someone away, a chatbot that makes things up, a
    head injury, climbing, health anxiety, one's own mind screaming, a blow that did not come,
    a habit's slow harm, a death feared or imagined, nerves before a lesson, a hill to die on."""
    assert absent not in categories(clf, text)


def test_abusing_substances_is_substance_use_not_abuse(clf: Classifier) -> None:
    found = categories(clf, "I have been abusing substances since I was fifteen")
    assert "substance-use" in found
    assert "abuse" not in found


def test_one_phrase_can_be_a_term_an_ignore_and_a_proximity_half_at_once() -> None:
    """Terms, ignores and proximity halves share one trie: a phrase that is several of them
    is found once and counts as each."""
    lexicon = parse_lexicon(
        {
            "substance-use": {"terms": ["relapse"], "ignore": ["relapse prevention"]},
            "self-harm": {"patterns": ["relapse ~3 cutting"]},
            "global": {"ignore": ["relapse ~2 diet"]},
        }
    )
    clf = Classifier(lexicon)
    assert categories(clf, "a relapse last night") == {"substance-use"}
    assert categories(clf, "relapse and cutting again") == {"substance-use", "self-harm"}
    # The ignore cancels its own category's term only; the other rule still fires.
    assert categories(clf, "relapse prevention, no cutting") == {"self-harm"}
    assert categories(clf, "a relapse on my diet") == set()
