"""Builds the dev and test sets for the content-notes benchmark from hand-written posts.

    .venv/bin/python -m benchmarks.content_notes_corpus

Each hand-written post appears a few times, the way it could be posted on different
platforms: as written, lower-cased and unpunctuated, with a typo, with a platform's
decoration (hashtags, emoji, "thread 🧵"). Dev and test never share a written post; the
test posts were written before the lexicon was tuned on dev. The project's earlier
labelled set (explicit wording, tuned against) is folded into dev.

``data/content_notes_fresh.jsonl`` and ``data/content_notes_blind.jsonl`` are held-out
splits written by hand as they stand (one line per post, no generated variants), each
committed before the tuning that followed it; the blind one was written after the fresh one
had shaped the lexicon, in wording chosen apart from it. The build refuses to write dev or
test when any two splits share a post (folded for case and punctuation).
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
L = tuple[str, ...]
EARLIER = DATA / "content_notes_labelled.jsonl"
HELD_OUT = (DATA / "content_notes_fresh.jsonl", DATA / "content_notes_blind.jsonl")

TEST: dict[L, list[str]] = {
    ("suicide",): [
        "honestly im so tired of living, every day is the same fight",
        "Some nights I just don't want to wake up anymore. Not being dramatic, just tired.",
        "my sister told me she'd been thinking about ending it. i didnt know what to say",
        "Wrote a note last night. Tore it up this morning. Still here I guess",
        "If you ever feel like you want to end your life please reach out, the lines are open 24/7",
        "he tried to take his own life in march and nobody at work knows",
        "been having suicidal thoughts again since the breakup",
        "i keep thinking everyone would be better off without me",
    ],
    ("self-harm",): [
        "tonight I cut again after 200 days clean. im so angry at myself",
        "relapsed on sh last week, arms are a mess, wearing hoodies in july",
        "she used to burn herself with lighters in school, told me years later",
        "the urge to hurt myself is back and loud today",
        "my scars are white now. 3 years since i last self harmed",
        "found my kid's razor blades hidden in a pencil case. how do I talk to her",
        "my therapist asked if I'd been hurting myself and I lied",
        "clean from self harm for 1 year today!!! 🎉",
    ],
    ("eating-disorders",): [
        "been restricting again, like 500 calories a day, and i feel in control for once",
        "purging after every meal for two weeks now and my throat hurts",
        "my anorexia recovery has been so up and down this year",
        "she's been skipping meals and hiding food in her room, I think it's an ED",
        "binged and purged last night, back to day 1",
        "recovering from bulimia means eating 3 meals even when my brain screams",
        "stop posting 'what i eat in a day' with 900 cals, it's pro ana content",
        "ED voice is loud today. had breakfast anyway.",
    ],
    ("sexual-violence",): [
        "some guy on the bus tried to grope me and everyone just looked away",
        "got catcalled three times on the way to work today. at 8am.",
        "I was groomed by a teacher when I was 14 and only now understand it",
        "he raped me and my friends still hang out with him",
        "a man kept touching me at the bar even after i said no, security did nothing",
        "she was sexually assaulted at a party in first year",
        "the coach was grooming kids for years and the club covered it up",
        "reported the harassment to HR, he kept sending me pics I never asked for",
    ],
    ("abuse",): [
        "my ex used to scream at me and throw things, I thought it was normal",
        "growing up my dad hit us with a belt. took me 20 years to call it abuse",
        "she controls his money, his phone, who he sees. that's abuse",
        "left an abusive relationship 6 months ago and still flinch at loud voices",
        "my mom would lock me in my room without food for days",
        "he choked me during a fight and then cried and said sorry",
        "years of being told I was worthless by my own parents",
        "domestic violence shelters in my city are full again",
    ],
    ("trauma",): [
        "the flashbacks from the accident still hit me when i hear sirens",
        "my ptsd has been bad since the fireworks started",
        "got diagnosed with cptsd today, a lot of things make sense now",
        "started EMDR for childhood trauma, session 3 was rough",
        "I still can't sit with my back to a door after the deployment",
        "nightmares every night since the shooting at my school",
        "the trauma from that hospital stay lives in my body",
        "my startle response is so bad coworkers think im jumpy lol",
    ],
    ("substance-use",): [
        "I relapsed last night after 8 months. back to day one",
        "90 days sober today, never thought id make it",
        "my brother overdosed on fentanyl in his car",
        "drinking a bottle of wine every night alone isn't 'self care' i know",
        "went to my first AA meeting. didn't talk but i stayed",
        "been using again, hiding it from my wife",
        "pills got me through college, then they got me",
        "withdrawals are hell, day 3 of no opiates",
    ],
    ("mental-health",): [
        "started prozac last month and the fog is finally lifting",
        "upped my sertraline to 100mg, side effects are rough",
        "lexapro has made me so numb, talking to my doc next week",
        "my depression is kicking my ass this week, couldnt shower",
        "had a panic attack in the grocery store and left my cart",
        "diagnosed bipolar 2 at 30, relieved honestly",
        "first session with a new therapist tomorrow, wish me luck",
        "the psych ward was not like the movies",
    ],
    ("death-grief",): [
        "so sorry for your loss, your mum was a wonderful woman",
        "I lost my dad in October and christmas feels impossible",
        "my grandma passed away peacefully this morning",
        "it's been a year since we buried my brother",
        "we had to put our dog down today. house is so quiet",
        "lost your dad so young, I can't imagine. thinking of you",
        "my best friend died in a car crash last week",
        "rip to my uncle, gone too soon",
    ],
    ("suicide", "death-grief"): [
        "my cousin took his own life on sunday. we buried him today",
    ],
    ("substance-use", "mental-health"): [
        "on antidepressants and still drinking every night, my therapist is worried",
    ],
    (): [
        "this game is killing me, lost 5 ranked matches in a row",
        "I'm dead 😂 that video of the cat",
        "finally cut the cord, no more cable bills",
        "just a starving artist trying to pay rent with commissions",
        "double shot of espresso and I'm ready",
        "overdosed on coffee again, hands shaking at my desk lol",
        "she killed it on stage last night 🔥",
        "lost my keys again, third time this week",
        "the new policy is restricting access to the API for free accounts",
        "cut the onions thin and fry till golden",
        "dying to see the new season",
        "Arsenal absolutely murdered them in the second half",
        "new study: statins cut heart attack risk in older adults",
        "my tomatoes finally ripened, garden is going wild",
        "the bass drop on this track is insane",
        "parliament votes on the budget tomorrow",
        "my code is a disaster and the deploy just died",
        "that exam absolutely destroyed me",
        "planted garlic today, fingers crossed for spring",
        "new GPU drivers fixed the stutter finally",
        "he shot a 68 in the final round, incredible golf",
        "the referee robbed us of a penalty",
        "anyone know a good sourdough starter recipe",
        "our band plays the Roxy on friday, come through",
        "senate committee hearing on AI regulation today",
        "the battery on this phone is dead by noon",
        "cutting back on sugar this month, wish me luck",
        "i could eat a horse right now",
        "she's addicted to that new puzzle game",
        "went for a run in the rain, legs are gone",
        "this heat is unbearable, send ice",
        "our server crashed during the launch, fun times",
        "trying a new ramen place downtown",
        "the kids' soccer team won the final!",
        "finished the book, the ending wrecked me",
        "pruned the roses, hope they forgive me",
        "vote in the local elections, it matters",
        "my cat knocked my coffee onto the keyboard",
        "spent all day debugging a race condition",
        "new vinyl came in the mail today",
        "our flight got delayed 4 hours, airport pizza it is",
        "this meeting could've been an email",
        "the hospital opened a new cancer wing, great news for the town",
        "fed the sourdough, named him Gerald",
        "killing time before the concert",
        "bought a new drill, time to ruin some walls",
        "traffic on the M25 is dead stopped",
        "the boss fight in this game is brutal",
        "my knee rehab is going well, back to squats soon",
        "release notes: fixed a crash when the cache is empty",
    ],
}

DEV: dict[L, list[str]] = {
    ("suicide",): [
        "i dont want to be here anymore. not like leaving, like not existing",
        "He said he wanted to kill himself and laughed it off, I'm worried",
        "passive suicidal ideation is such a normal part of my week it scares me",
        "thinking about how nobody would notice if i was gone",
        "Called the crisis line at 3am. The woman was so kind.",
        "my friend attempted last year and we never talk about it",
        "sometimes i wish i could just not wake up",
        "what's the point of living if it's always this",
    ],
    ("self-harm",): [
        "cut myself again last night, first time since january",
        "how do i hide self harm scars for a wedding",
        "the urge to cut is so strong after fights with my mom",
        "I used to scratch myself until I bled when I was anxious",
        "teen self-harm rates up again according to the new report",
        "been clean from sh for 40 days",
        "she was hurting herself and none of us noticed",
        "first summer in shorts since i stopped cutting",
    ],
    ("eating-disorders",): [
        "restricting food again, I know, I know",
        "my anorexia told me I didn't deserve lunch today",
        "bulimia recovery day 12, kept dinner down",
        "binge eating at midnight and crying after, every night",
        "starving myself before the wedding like it's normal",
        "I throw up after I eat when I'm stressed",
        "eating disorder treatment waitlists are 9 months here",
        "still counting calories in my head years after recovery",
    ],
    ("sexual-violence",): [
        "he groped me at the work party and my boss laughed",
        "I was raped at 19 and it took me a decade to say it",
        "catcalling isn't a compliment, it's harassment",
        "my uncle molested me and the family chose him",
        "she was drugged and assaulted on a night out",
        "survivor of sexual assault here, the trial starts monday",
        "he kept grooming her online pretending to be 15",
        "someone spiked my drink at the club last weekend",
    ],
    ("abuse",): [
        "my stepdad beat me when he was drunk",
        "emotional abuse doesn't leave bruises but it's real",
        "my ex isolated me from all my friends, took years to see it",
        "child abuse reports spike in the holidays",
        "he'd punch walls next to my head so he 'never hit me'",
        "I grew up with an abusive father and an absent mother",
        "narcissistic abuse recovery is a lonely road",
        "she hit me in front of the kids again",
    ],
    ("trauma",): [
        "ptsd from the war never really leaves you",
        "flashbacks every time someone raises their voice",
        "trauma therapy is exhausting but it's working",
        "the crash left me traumatised, can't drive on motorways",
        "childhood trauma shows up in the weirdest ways",
        "hypervigilant all the time, can't relax in crowds",
        "nightmares about the fire every night this week",
        "c-ptsd diagnosis at 35, finally some answers",
    ],
    ("substance-use",): [
        "six months clean from heroin today",
        "my dad's alcoholism ruined every holiday",
        "relapsed after a year sober, starting over",
        "coke every weekend is not a personality, trust me",
        "detox was the worst 5 days of my life",
        "blacked out again, can't remember getting home",
        "been drinking to sleep for months now",
    ],
    ("mental-health",): [
        "new to zoloft, does the nausea go away",
        "my anxiety is through the roof today",
        "on wellbutrin and lamotrigine now, feeling more stable",
        "depressed for weeks, can't get out of bed",
        "got my ADHD diagnosis at 28",
        "started therapy finally, first step",
        "mental health days should be normal at work",
        "the side effects of my meds are awful, gained 10kg",
    ],
    ("death-grief",): [
        "my mom passed last tuesday, still can't believe it",
        "sorry for your loss, he was a good man",
        "lost my grandpa to covid in 2020",
        "the funeral is on friday, writing the eulogy now",
        "grief comes in waves, today was a big one",
        "our cat died in her sleep last night",
        "rest in peace to my neighbour, what a gentle soul",
        "a year without my husband today",
    ],
    ("suicide", "death-grief"): [
        "lost my best friend to suicide in may",
    ],
    ("substance-use", "trauma"): [
        "drank to forget the flashbacks for years",
    ],
    ("substance-use", "death-grief"): [
        "lost my brother to an overdose in 2019",
    ],
    (): [
        "this level is killing me, 40 attempts",
        "lmaooo I'm dying at this thread",
        "cut the cord with my old phone plan",
        "starving, what's for dinner",
        "extra shot of espresso please",
        "I think I overdosed on caffeine today lol",
        "you killed it at the presentation!",
        "lost my wallet on the train",
        "restricting access to admin tools for contractors",
        "cut the carrots into batons",
        "our striker shot from 30 yards and scored",
        "new vaccine trial results look promising",
        "harvested the first zucchini of the year",
        "this album is so good it hurts",
        "the election results are in",
        "python 3.13 is out, benchmarks look good",
        "recipe: roast chicken with lemon and thyme",
        "that movie was a total bomb",
        "dead tired after the double shift",
        "the wifi died during my call",
        "knee surgery went fine, physio next week",
        "my plants are dying, too much water?",
        "gym day, legs destroyed",
        "new keyboard smells like plastic",
        "match tonight, we need a win",
        "the economy added 200k jobs",
        "sowing seeds for the allotment",
        "band practice ran late again",
        "team standup in 5",
        "I'm obsessed with this new show",
        "baking bread on a sunday morning",
        "lost the game in overtime, gutted",
        "drinking a coffee watching the rain",
        "my dog ate a sock again",
        "my laptop died mid-save",
        "fantasy football draft tonight",
        "new bike lane opened downtown",
        "I literally can't with this weather",
        "overtime pay finally came through",
        "the hospital parking fees are outrageous",
    ],
}

# Everyday wording added for the second round: reported speech, coercive control,
# euphemisms, slang and the idioms that look alarming (new posts, none from test or the
# held-out splits; the build checks).
DEV_EVERYDAY: dict[L, list[str]] = {
    ("suicide",): [
        "my flatmate keeps saying she won't be around much longer and gives me her stuff",
        "been hoarding my pills for weeks and i think that means something",
        "thinking about ending things a lot this month, reaching out like you all said",
        "he texted me 'i'm done, tell mum i love her' and we called for a welfare check",
        "ngl the unalive thoughts are loud today",
        "no point in going on when every morning is the same grey",
        "trying so hard not to kms rn",
    ],
    ("self-harm",): [
        "covering the scars on my arms with makeup for the graduation photos",
        "hiding my cuts from my mum is getting harder in summer",
        "he punches himself in the face when he gets overwhelmed, he's 9",
        "I took a razor to my thighs again last night after months of nothing",
        "the marks on her forearms looked like a cat had scratched her, she said",
    ],
    ("eating-disorders",): [
        "made myself throw it all up after the family dinner again",
        "bingeing at night then fasting all day, it's a loop i can't break",
        "weighing myself five times a day and eating less each time the number moves",
        "my mum noticed i only eat when people are watching",
        "started my meal plan again with the ED team this week",
        "under 600 cals a day and still think i'm too big",
    ],
    ("sexual-violence",): [
        "my ex forced himself on me when i was asleep and i only called it rape this year",
        "a stranger put his hand up my dress at the festival",
        "he slipped the condom off halfway and didn't tell me",
        "the coach made the girls sit on his lap after training, we knew it was wrong",
        "a guy on the train was filming up women's skirts, nobody stopped him",
        "my boss said sleeping with him was 'part of the job'",
    ],
    ("abuse",): [
        "my partner won't let me see my friends without him there",
        "he takes my wages every friday and gives me an allowance for food",
        "she reads all my texts and screams if i delete anything",
        "walked on eggshells my whole childhood, dad's moods ran the house",
        "my aunt turned up with a black eye and said she walked into a door",
        "he tells me nobody else would ever love me so I should be grateful",
        "my mother slapped me every time i cried, until i stopped crying",
        "i'm scared to go home, he's been drinking all afternoon",
        "the neighbours' kids are neglected, no food in the house for days",
    ],
    ("trauma",): [
        "since the break-in i can't sleep without checking every window",
        "a car backfired outside the shop and i was on the floor, shaking",
        "the hurricane was 3 years ago and rain on the roof still puts me right back there",
        "my grandad woke up screaming about the war until the day he died",
        "I zone out completely when someone raises their voice, ever since the attack",
    ],
    ("substance-use",): [
        "three day bender and i've lost my phone and my job",
        "fell off the wagon after 9 months sober, telling my sponsor tonight",
        "spent the grocery money on coke again",
        "taking way more than my prescription says, the painkillers are the only thing that helps",
        "started drinking before work this week, that's new",
        "my uncle's been sober 10 years, we had cake",
    ],
    ("mental-health",): [
        "can't get out of bed for days at a time and I don't know why",
        "waiting 9 months for a psych assessment is ridiculous",
        "my thoughts race all night, the GP mentioned generalised anxiety",
        "finally on a mood stabiliser after the last manic episode",
        "my mum has been sectioned again",
    ],
    ("death-grief",): [
        "we scattered mum's ashes at the beach she grew up by",
        "happy heavenly birthday grandad, miss you every day",
        "my aunt slipped away peacefully in her sleep",
        "ordering a headstone for my dad is the strangest errand",
        "our old dog went to sleep for the last time this morning, the vet was so gentle",
        "my cousin was killed on the motorway on friday",
    ],
    ("suicide", "death-grief"): [
        "my neighbour's son died by suicide at 19, the street is in shock",
    ],
    ("self-harm", "mental-health"): [
        "six weeks since i last hurt myself and my therapist is proud",
    ],
    ("abuse", "substance-use"): [
        "my stepdad got drunk and hit my mum again and the police came",
    ],
    (): [
        "my mum passed me the phone so I could say happy birthday to grandma",
        "my daughter passed her driving theory, so proud",
        "we lost the cat for an hour, she was in the wardrobe",
        "said goodbye to my old car today, 200k miles",
        "banging my head against the wall over this flaky test",
        "died to the same boss 20 times, time for bed",
        "my plant died while i was away, rip little guy",
        "the old laptop finally died, rest in peace",
        "fell off the wagon with my diet this weekend, pizza won",
        "dad controls the tv remote like a dictator",
        "the kids screamed at me because the ice cream fell",
        "I'm addicted to crosswords",
        "got locked out of my account again",
        "she beat me in the final, fair play",
        "the neighbours' dog wakes us up every morning",
        "Chelsea got slaughtered at home, what a collapse",
        "binge watched the whole series in a weekend",
        "this deadline is killing me",
        "abusing the free trial until they notice",
        "the zombie processes are eating all the RAM",
        "the keeper choked on the easiest save of the season",
        "sober october starts tomorrow, wish me luck with the mocktails",
        "took a blade to the old wallpaper, two rooms done",
        "i nearly died laughing at my nephew's school play",
        "cut the chicken into strips and marinate overnight",
        "purging the old logs from the server freed 40 gigs",
        "twitter is dying and the replies prove it",
        "my kettle finally gave out, rip",
        "the cricket commentators abused the word 'unbelievable' today",
        "my husband passed the kids a note from the tooth fairy",
        "we lost to the worst team in the league, embarrassing",
        "killed two hours in the airport bookshop",
        "my toddler hit me with a toy truck, she has an arm on her",
        "the hospital car park is the real villain here",
        "ran 12 kms this morning, legs are toast",
    ],
}


# A third round: the indirect wording that stays hardest for phrase rules (new posts).
DEV_INDIRECT: dict[L, list[str]] = {
    ("suicide",): [
        "wrote my will at 25 and it wasn't for paperwork reasons",
        "if i'm gone tomorrow, i'm sorry to everyone",
        "so tired of fighting to stay alive every single day",
        "my friend found me before the pills kicked in",
    ],
    ("sexual-violence",): [
        "he kept pouring me drinks and i woke up in his bed with no memory",
        "my first boyfriend would pressure me until i said yes just to make it stop",
        "a teacher at my school used to message girls late at night, everyone knew",
        "someone touched me on the crowded tram and i froze",
        "he wouldn't take no for an answer and i stopped fighting",
        "i was 12 and he was 30 and everyone called it a relationship",
        "my cousin's husband cornered me at the wedding and kissed me against my will",
        "somebody spiked my drink on my birthday and my friends got me home",
        "a colleague cornered me in the stockroom and wouldn't let me leave until i kissed him",
        "my ex used to make me do things in bed i said no to",
        "he sent me three explicit photos after i said i wasn't interested",
    ],
    ("eating-disorders",): [
        "ate a normal lunch today without doing the maths first, small win",
        "living on diet coke and air, down another 3 kilos",
        "i have to earn every meal by running it off first",
        "hid my dinner in a napkin again and nobody noticed",
        "my son's been dropping weight and hiding food in his room",
        "scared to eat in restaurants because i can't count it",
    ],
    ("death-grief",): [
        "the house is so quiet since we lost him",
        "putting flowers on my dad's grave for father's day",
        "my grandma didn't make it through the night",
        "she lost her fight with cancer on sunday",
        "saying goodbye to my best friend at the crematorium today",
        "our thoughts are with the family at this time",
    ],
    ("substance-use",): [
        "i need a few drinks just to feel normal around people",
        "mum's been on the bottle again since christmas",
        "my boyfriend's been smoking crack and stealing from me",
        "it's always 'just one' and then it's 2am and the bottle's empty",
        "got my 1 year chip at the meeting today",
        "scored some pills off a guy at work, i know, i know",
    ],
    ("sexual-violence", "trauma"): [
        "i was assaulted at a party in my first week of uni and still can't go to parties",
    ],
    ("sexual-violence", "abuse"): [
        "the choir master molested boys for twenty years before anyone listened",
    ],
    (): [
        "good grief, the queue at the post office",
        "my sister gives me grief for still using a flip phone",
        "it's your funeral if you skip leg day",
        "dying of boredom in this lecture",
        "rip to my sleep schedule",
        "mourning the end of summer with one last ice lolly",
        "that speedrun abuses a glitch to skip the whole level",
        "I abuse ctrl+z way too much",
        "need therapy after that season finale lol",
        "my mouse died mid-match, rip my rank",
        "the villain dies in the first episode, no spoilers",
        "headshot, he's dead, push b",
        "my grandad's stories about the war are the best",
        "we buried a time capsule in the garden",
        "killed it at karaoke, zero regrets",
        "our team got massacred in the pub quiz",
        "this is my drug of choice: cold brew",
        "i'm dying for a cuppa",
        "the ending of that book destroyed me",
        "my phone fell in the bath, it's dead dead",
    ],
}

_EMOJI = [" 😭", " 💔", " 🙃", " 😂", " 🙏", " 💀", ""]
_TAGS = {
    "suicide": "#mentalhealthmatters",
    "self-harm": "#recovery",
    "eating-disorders": "#edrecovery",
    "sexual-violence": "#metoo",
    "abuse": "#survivor",
    "trauma": "#healing",
    "substance-use": "#sobriety",
    "mental-health": "#mentalhealth",
    "death-grief": "#grief",
}


def _typo(text: str, rng: random.Random) -> str:
    words = text.split()
    long = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    if not long:
        return text
    i = rng.choice(long)
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    words[i] = w[:j] + w[j + 1 :] if rng.random() < 0.5 else w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def variants(text: str, labels: L, rng: random.Random, n: int) -> list[tuple[str, str]]:
    """The same post as it might appear on a few platforms, each with its form's name
    (the benchmark reports the generated typos apart: the typo reader undoes exactly
    this kind of slip, so their recall says little about wording)."""
    out = [("written", text)]
    casual = re.sub(r"[.,!?']", "", text.lower())
    out.append(("casual", casual + rng.choice(_EMOJI)))
    out.append(("typo", _typo(text, rng)))
    tag = " ".join(_TAGS[c] for c in labels[:1]) if labels and rng.random() < 0.5 else ""
    out.append(("decorated", f"{text} {tag}".strip() if tag else f"thread 🧵 {text}"))
    out.append(("shouted", text.upper() if len(text) < 60 else text + " ..."))
    out.append(("quoted", f"> {text}\n\nsame tbh"))
    seen: list[tuple[str, str]] = []
    for form, v in out[: n + 1]:
        if v not in {t for _, t in seen}:
            seen.append((form, v))
    return seen[:n]


def build(written: dict[L, list[str]], split: str, seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    for labels, texts in written.items():
        per_post = 6 if not labels else 3
        for text in texts:
            for form, v in variants(text, labels, rng, per_post):
                rows.append({"text": v, "labels": list(labels), "split": split, "form": form})
    rng.shuffle(rows)
    return rows


def same_post(text: str) -> str:
    """A post folded for comparison: case, punctuation, emoji and spacing ignored."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def shared_posts(one: list[str], two: list[str]) -> list[str]:
    """Posts of ``one`` that are also in ``two`` (folded by ``same_post``)."""
    keys = {same_post(t) for t in two}
    return sorted(t for t in one if same_post(t) in keys)


def posts_in(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [json.loads(line)["text"] for line in path.read_text("utf-8").splitlines() if line]


def main() -> int:
    test = [t for ts in TEST.values() for t in ts]
    for more in (DEV_EVERYDAY, DEV_INDIRECT):
        for labels, texts in more.items():
            DEV.setdefault(labels, []).extend(texts)
    dev = [t for ts in DEV.values() for t in ts]
    splits = {"dev": dev + posts_in(EARLIER), "test": test}
    splits.update((path.stem.rsplit("_", 1)[-1], posts_in(path)) for path in HELD_OUT)
    names = list(splits)
    for i, one in enumerate(names):
        for two in names[i + 1 :]:
            shared = shared_posts(splits[one], splits[two])
            if shared:
                raise SystemExit(f"{one} and {two} share posts: {shared}")
    for split, written, seed in (("test", TEST, 13), ("dev", DEV, 31)):
        rows = build(written, split, seed)
        if split == "dev":
            for line in EARLIER.read_text("utf-8").splitlines():
                if line.strip():
                    item = json.loads(line)
                    rows.append({"text": item["text"], "labels": item["labels"], "split": "dev"})
        path = DATA / f"content_notes_{split}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
        neutral = sum(1 for r in rows if not r["labels"])
        print(f"{path.name}: {len(rows)} posts, {neutral} neutral")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
