"""Builds the dev and test sets for the content-notes benchmark from hand-written posts.

    .venv/bin/python -m benchmarks.content_notes_corpus

Each hand-written post appears a few times, the way it could be posted on different
platforms: as written, lower-cased and unpunctuated, with a typo, with a platform's
decoration (hashtags, emoji, "thread 🧵"). Dev and test never share a written post; the
test posts were written before the lexicon was tuned on dev. The project's earlier
labelled set (explicit wording, tuned against) is folded into dev.

The held-out splits (fresh, blind, ahead: ``content_notes_splits.HELD_OUT``) are written by
hand as they stand (one line per post, no generated variants), each committed before the
tuning that followed it. The build refuses to write dev or test when any two splits share a
post (folded for case and punctuation).
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from benchmarks.content_notes_splits import BY_NAME, DATA, HELD_OUT

L = tuple[str, ...]
EARLIER = DATA / "content_notes_labelled.jsonl"

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


# A fourth round, written after the ahead split was committed: new posts of the kinds the
# earlier splits missed (reported and indirect sexual violence, grief euphemisms) and
# everyday posts that share their words.
DEV_ROUND4: dict[L, list[str]] = {
    ("sexual-violence",): [
        "he dragged me into the back room at work and i froze, i keep thinking it was my fault",
        "the director told her the part was hers if she came up to his hotel room",
        "police say a man assaulted a teenage girl near the station on friday night",
        "caught a guy recording girls in the changing room at the pool",
        "some 40 year old keeps asking my little sister for pics on snapchat, she's 14",
        "my grandad would come into my room at night when we stayed over. i was 7",
        "the first thing the officer asked when i reported my attacker was what i was wearing",
        "our scout leader made me keep it a secret when i was little, at 30 i am finally talking",
        "my supervisor keeps stroking my hair and making remarks about my figure, HR shrugged",
        "a stranger pressed himself against me on the packed train and i couldn't move",
        "someone slipped something in her drink at the bar and she doesn't remember getting home",
        "he wouldn't stop even when i was crying. i didn't call it what it was for years",
        "he pinned me down and i just went somewhere else until it was over",
        "my date got handsy in the taxi after i said no, driver kicked him out",
        "my stepdad touching me at night when mum worked lates. she never knew",
        "the youth pastor abused boys at the summer camp for a decade",
    ],
    ("death-grief",): [
        "our son was born still at 38 weeks. we held him for hours",
        "five years since we said goodbye to our dad and the house still feels wrong",
        "my wife of 30 years passed last week and i don't know how to cook for one",
        "mum went peacefully this morning with all of us holding her hands",
        "picked out a casket for my nan today. the man was so kind",
        "visiting my brother's grave on his birthday with a cake",
        "my daughter's ashes are in a little urn on the mantelpiece",
        "a 12 year old boy drowned at the quarry yesterday, the whole village is numb",
        "the singer has died aged 71, his family said",
        "they switched off my dad's life support this afternoon",
        "my gran is dying of cancer and i can't get a flight home in time",
        "we lost my uncle in a car accident on christmas eve",
        "the coroner's report came back and i still don't understand",
    ],
    ("suicide",): [
        "keep thinking about how to end my life and it terrifies me",
        "my brother attempted last month and we're all walking on glass",
        "found her pills lined up on the bathroom shelf and called the crisis team",
        "i've got a plan and a date, just wanted someone to know",
        "i stare at the platform edge way too long every morning",
        "i don't see the point in going on since the diagnosis",
    ],
    ("self-harm",): [
        "banged my head against the door until it bruised, didn't know what else to do",
        "carved a word into my thigh with a compass in year 9",
        "the school nurse saw the cuts and called safeguarding",
        "my son has been wearing hoodies all summer and i found plasters with blood on them",
        "new marks on her wrists again and she says it's the dog",
    ],
    ("eating-disorders",): [
        "calorie counting took over my whole life, it's how my relapse started",
        "trying to stay under 600 a day before the wedding",
        "haven't eaten since yesterday morning and it feels like being in control",
        "my ana voice is so loud at dinner time",
    ],
    ("substance-use",): [
        "need a line just to get through the weekend shifts now",
        "a month without a drink, hands finally steady",
        "my dad's back on the bottle again, third time this year",
        "mum turned up high to my recital and everyone could tell",
        "relapse after 18 months clean and i'm ashamed",
    ],
    ("abuse", "substance-use"): [
        "my father came home drunk and hit my brother again",
    ],
    ("substance-use", "death-grief"): [
        "my cousin drank himself to death at 40",
    ],
    ("trauma",): [
        "since the burglary i check the locks three times before bed",
        "the crash was two years ago and i still get shaky at roundabouts",
        "had that dream again, back in that flat where it happened",
        "i still smell the smoke when i close my eyes, years after the fire",
        "after the flood my kids can't sleep indoors when it rains, they cry until morning",
    ],
    ("abuse",): [
        "i wear scarves in summer to cover what he did",
        "the twins next door are being neglected, no food in the house again",
        "used to get hit with a wooden spoon for answering back",
        "he says nobody else would ever love me with my temper",
    ],
    (): [
        "banging my head against the wall with this bug until 2am",
        "lost my son in the supermarket for five minutes and aged ten years",
        "lost my daughter in the crowd at the parade, found her by the ice cream van",
        "the exam board has died a death, nobody uses it",
        "the pipeline has died again after the upgrade",
        "she's dying her hair blue for the gig",
        "the wifi went peacefully at midnight and never came back lol",
        "pick a coffin-shaped nail design, they're trending",
        "the new season of the show was cancelled and the grief is real",
        "my boss gives me so much grief about my spreadsheets",
        "my team drowned in paperwork this quarter",
        "that ball was a little too long, out by a mile",
        "i wrote a note to my landlord about the boiler, still no answer",
        "we tried to end it in the second half but they equalised",
        "i want to dye my hair green this summer",
        "he attempted in the last minute but the keeper saved it",
        "lined up my vitamins and coffee for the week",
        "punched the wall by accident moving the sofa",
        "scratching my skin like mad, eczema is back",
        "wearing long sleeves in the heat because of the sunburn",
        "ran a safeguarding training for new staff today",
        "my manager keeps touching my code without telling me",
        "filming women's football for the local channel this weekend",
        "asking for pics of the lost dog so we can share them",
        "without a drink in hand at the party I never know what to do with my hands",
        "back on the bottle again, baby refuses the breast this week",
        "stayed under 800 a month on groceries, proud",
        "ana's brain is amazing at chess",
        "fire alarm test at work, still get shaky hearing that thing lol",
        "since the flood we check the weather every day, new habit",
        "cant be indoors on a day this sunny",
        "we lost power in the storm and our freezer thawed",
        "lost two friends to the city when they moved for work",
        "the band's drummer has died his hair pink",
        "rest easy king, you earned that nap after the shift",
        "the deaths in the show rose every season",
        "relapse after 2 years of remission is common, oncologists say",
        "being neglected by the council, our road has potholes everywhere",
        "he got hit with a ball in the face at cricket",
        "no one else loves me like my dog",
        "got drunk and smashed it at karaoke",
        "reported my assault rifle stolen from the gun club",
        "what I was wearing at the wedding got so many compliments",
        "he held me down in the wrestling match and I tapped out",
        "the kid kept going even when she cried, she finished the race",
        "the toddler got handsy with the birthday cake",
        "the harm reduction library for our database migrations is great",
    ],
}


# Everyday wording of the same topics, and everyday posts sharing its words (fourth round).
DEV_ROUND4_COMMON: dict[L, list[str]] = {
    ("self-harm",): [
        "went too deep last night and probably needed stitches, used steri strips instead",
        "down to styro again, i'm scared",
        "broke my clean streak after 80 days, the urge won",
        "took apart a sharpener to get the blade out",
        "snapping a hair tie on my wrist till it welts, instead of the other thing",
        "my cuts are healing into ugly pink lines",
        "cat scratches is the excuse everyone uses and we all know",
        "burned my arm with a lighter so i could feel something",
        "i keep my tools in a box under my bed, throwing them out tomorrow",
        "hurting myself is the only thing that makes the noise stop",
    ],
    ("eating-disorders",): [
        "purged twice today, my teeth are wrecked",
        "ate 300 calories today and i still feel huge",
        "skipped dinner again, told mum i ate at a friend's",
        "my goal weight keeps getting lower",
        "i'm on day 4 of a water fast and my ed brain loves it",
        "used laxatives after the party, feel awful",
        "my bones are showing and i still want to lose more",
        "every bite i take i calculate how long to burn it off",
        "checked my collarbones in the mirror 20 times today",
        "my doctor says my heart rate is too low from not eating",
    ],
    ("suicide",): [
        "i just want to go to sleep and not wake up",
        "i'm a burden to everyone and they'd be relieved if i was gone",
        "making my peace with everything, tying up loose ends, giving my dog to my sister",
        "i'm planning to take all my pills on friday",
        "the rope is in my closet",
        "i've been looking at bridges a lot",
        "my friend has been posting goodbye messages, what do i do",
    ],
    ("sexual-violence",): [
        "he raped me in my sleep",
        "my uncle did things to me when i was small",
        "i was molested as a kid by a babysitter",
        "he forced me, i didn't want it",
        "I didn't consent and he did it anyway",
        "my boss groped me at the party",
        "got felt up on the bus",
        "he exposed himself to me on the train",
        "my brother's friend assaulted me when i was 13",
        "my teacher sexually abused me for two years",
        "he wouldn't stop touching me even though i pushed him away",
    ],
    ("death-grief",): [
        "my grandfather passed this morning",
        "lost my mum to cancer last year",
        "my dog crossed the rainbow bridge today",
        "we had to put our cat to sleep",
        "i miss my dad so much it hurts",
        "she was taken from us too soon",
        "RIP grandpa, love you forever",
        "the funeral is on thursday",
        "it's been a year since he died and it doesn't get easier",
        "my best friend died in a car crash",
        "we lost the baby at 12 weeks",
        "her dad was killed in the attack",
    ],
    ("suicide", "death-grief"): [
        "my brother killed himself last year",
    ],
    (): [
        "the budget cuts went too deep, nurses say the wards are bleeding staff",
        "my mum forced me to go to the party even though i said no, had fun in the end",
        "put the baby to sleep and finally sat down",
        "my cuts of beef from the butcher are amazing",
        "the cat scratches the sofa every night",
        "burned my hand on the oven tray again",
        "skipped lunch, back to back meetings",
        "my goal weight for the marathon is 70kg",
        "took laxatives for the colonoscopy prep, never again",
        "every bite of this cake is heaven",
        "check my wrists after the fall, nurse said they're fine",
        "from not eating breakfast I get headaches",
        "went to sleep and didn't wake up till noon, bliss",
        "tying up loose ends before my holiday, out of office from friday",
        "goodbye messages for Sarah's leaving card, sign by 3",
        "he did things to me on the pitch today, what a player",
        "my uncle did stuff to my car, it runs great now",
        "the rookie was assaulted by criticism when he was 19, says coach",
        "miss you mum, see you at christmas",
        "she was taken from us in the draft, gutted",
        "we lost a player to injury today",
        "down to beans, need to go shopping",
        "took apart the pencil sharpener to clean the blade",
    ],
}


# More everyday wording and the everyday posts that share it (fourth round, second probe).
DEV_ROUND4_MORE: dict[L, list[str]] = {
    ("substance-use",): [
        "been using again and i hate myself",
        "my husband's drinking is out of control, he finishes a bottle of whisky most nights",
        "i'm 60 days clean today",
        "my son is addicted to fentanyl and i don't know how to help him",
        "can't stop drinking, i've tried everything",
        "woke up hungover again, third time this week, i need to stop",
        "smoking weed every night to fall asleep, can't sleep without it",
        "my mom is a functioning alcoholic",
        "got out of rehab last week, one day at a time",
        "my brother's in withdrawal and it's awful to watch",
        "i'm high right now and i don't even enjoy it anymore",
        "spent my whole paycheck on coke again",
        "drinking alone in my car before going home",
    ],
    ("substance-use", "mental-health"): [
        "i've been taking xanax every day to get through work",
    ],
    ("trauma",): [
        "ever since the accident i can't get in a car without panicking",
        "loud noises make me hit the floor, the army did that",
        "i have nightmares about the night he attacked me every week",
        "my therapist thinks i have ptsd from the crash",
        "i still can't walk past that street where it happened",
        "the shooting replays in my head every time i close my eyes",
        "i froze when i heard the helicopter, it took me back to afghanistan",
        "war veteran here, fourth of july is the worst night of the year for me",
    ],
    ("abuse",): [
        "my boyfriend grabbed my arm so hard it left bruises",
        "my dad used to beat my mum in front of us",
        "my husband controls all the money and gives me an allowance",
        "grew up with a mother who screamed at us every day",
        "he strangled me last night and i'm scared to go home",
        "my parents locked me out of the house when i was 10 as punishment",
        "he punched a hole in the wall next to my head",
        "my partner monitors my phone and deletes my contacts",
        "my stepmom starved us as punishment",
        "she threatens to kill herself if i leave her",
    ],
    ("mental-health",): [
        "started antidepressants today, fingers crossed",
        "my psychiatrist increased my dose",
        "i've been so depressed i can't get out of bed",
        "panic attack in the middle of the meeting, had to leave",
        "diagnosed with bipolar disorder at 22",
        "my anxiety is through the roof today",
        "spent a week in the psych ward, home now",
        "my therapist says i'm making progress",
        "i've been having really dark thoughts lately and i'm scared",
        "my OCD makes me wash my hands until they crack",
    ],
    ("sexual-violence",): [
        "my ex raped me and i only realised it years later",
        "i was sexually abused by my grandfather",
        "a man masturbated at me on the train",
        "he sent me unsolicited pictures of his privates",
        "my coach kissed me when i was 15 and told me not to tell anyone",
        "woke up to him touching me",
        "a coworker keeps making sexual comments about me",
        "i was trafficked when i was 16",
        "he raped my best friend at a party and everyone took his side",
        "guy at the club put his hand down my pants",
    ],
    ("death-grief",): [
        "my father died last night",
        "we said goodbye to our beautiful girl today, 14 years of love",
        "my mum's funeral was yesterday",
        "today would have been my brother's 30th birthday",
        "my husband died suddenly of a heart attack at 45",
        "my son was stillborn",
        "i can't believe she's gone",
        "the anniversary of my dad's death is tomorrow",
        "rest in peace to my best friend",
        "grieving my grandma and can't focus on anything",
        "my aunt lost her battle with cancer this morning",
        "first christmas without dad",
    ],
    (): [
        "the traffic is out of control on the ring road this morning",
        "my spending is out of control since the sales started",
        "finished a whole bottle of wine with my sister at her birthday dinner, lovely night",
        "30 days clean eating challenge, feeling great",
        "can't stop drinking this new iced tea",
        "going through caffeine withdrawal, day 3, head is pounding",
        "i'm high right now on the climbing wall, scared of heights lol",
        "spent my whole paycheck on concert tickets again",
        "ever since the accident at work they've changed all the safety rules",
        "fireworks at the stadium made the dog hide under the table",
        "nightmares about my exam that day, classic stress dream",
        "the crash replays on every sports channel tonight",
        "veteran's day parade with fireworks this evening",
        "my wife controls all the money in our house and thank god, i'm useless with it",
        "my dad gives me an allowance for doing chores",
        "the coach screamed at us every day of preseason, we won the league",
        "monitors my phone battery with this app",
        "deleted my contacts by accident, help",
        "as a punishment the team was locked out of the training ground for a week",
        "so depressed the holidays are over, back to work all day tomorrow",
        "having some dark thoughts about the finale, no spoilers",
        "he was trafficked into the country, says the drugs case",
        "told me not to tell anyone about the surprise party, oops",
        "said goodbye to our old car today, 12 years of love",
        "today would have been our tenth anniversary of opening the shop",
        "can't believe she's gone to australia for a year",
        "the unsolicited pictures of my neighbour's cat continue",
        "put his hand up in class for the first time, proud mum",
        "i'm high on life this week",
        "my brother is in withdrawal from his phone at camp",
        "the government is monitoring our phones now? politics is wild",
        "the budget shortfall replays the crisis of 2008",
        "the doctor says I'm high risk for diabetes",
        "a veteran striker, he scored twice",
        "drinking alone in my room, tea and a book, perfect",
        "my sister controls all the finances for the club",
        "he punched the wall in the dressing room after the loss",
        "hand down my pants pocket for the keys",
        "carved a pumpkin with the kids, it looks terrifying",
        "the surgeon carved the turkey like a pro",
        "we went too deep into the cave tour and needed a guide to get out",
        "this lighter is useless in the wind",
        "burned my fingers on the lighter lighting the candles",
        "ate 400 calories of popcorn at the cinema, no regrets",
        "new study says most adults eat 2000 calories a day",
        "my knees and bones are showing their age after the hike",
        "my baby sleeps through the night and never wakes up before 7 now",
        "take all my pills with breakfast, doctor's orders",
        "the pharmacist lined up my pills in a weekly box, so helpful",
        "goodbye message from our retiring head teacher made everyone cry",
        "the referee forced me to take the penalty again",
        "felt the earthquake from my office, everyone is fine",
        "the striker was assaulted by the crowd's boos when he was subbed",
        "grandpa passed the salt and the whole table went quiet",
        "the old tree passed peacefully into firewood this winter",
        "a roman urn found in the field behind the school",
        "a grave error by the goalkeeper cost us the match",
        "nail in the coffin for the government's housing plan",
        "my phone drowned in the bath, rice time",
        "the patient was taken off life support in the trial, doctors say he is recovering",
        "the movie keeps its secret until the last scene",
        "we stayed at his hotel room party after the gig",
        "filming the wedding this weekend, two cameras",
        "he held me down in a tickle fight",
        "our puppy kept going even when we said stop, she loves the ball",
        "the cat comes into my room at night and sits on my face",
        "my dentist kept touching my jaw, said it's clicking",
        "comments about my body from the gym bros, apparently my squat form is great",
        "baby won't take the bottle again, day 3",
        "i'm clean shaven for the first time in years",
        "the cancer relapse rate after treatment is falling",
        "without a drink of water for hours in the heat, dizzy",
        "still get shaky before exams",
        "i still smell the smoke from the barbecue on my jacket",
        "can't stay indoors on a day this nice",
        "check the locks before leaving, the landlord said",
        "had a nightmare about being late for my exam again",
        "the park is being neglected by the council",
        "got hit with a water balloon at the fair",
        "nobody else would have fixed it that fast, thanks team",
        "scratch my back and I'll scratch yours",
        "long sleeves in summer because of the sun, my dermatologist insisted",
        "banged my head on the cupboard door again, this kitchen hates me",
        "the school's safeguarding policy was updated this term",
        "i froze when the teacher asked me a question in front of everyone",
        "my dad drinks a whole bottle of water before every run",
        "i need a drink after this week, who's coming to the pub",
        "relapsed into my old habit of buying too many books",
        "went to his grave concert, amazing goth band",
        "my grandmother is dying to see the baby",
        "she's dying her hair red for halloween",
        "the server room is dying of heat",
    ],
}


# Indirect suicide, self-harm and eating-disorder wording and its everyday lookalikes
# (fourth round, third probe).
DEV_ROUND4_INDIRECT: dict[L, list[str]] = {
    ("suicide",): [
        "i don't think i'll be here much longer and honestly that feels like relief",
        "everyone would be happier if i just disappeared for good",
        "i've started writing letters to my family, just in case",
        "researched how many pills it would take",
        "been standing on the bridge tonight for an hour",
        "i don't want to exist anymore",
        "i keep thinking about stepping in front of a bus",
        "my sister tried to overdose last night and she's in icu",
        "my best friend took her life three weeks ago and i keep rereading our texts",
        "life isn't worth living anymore",
        "i feel like the world would keep spinning fine without me in it",
        "texted my ex goodbye, put my phone away",
        "i wish i could just go to sleep forever",
        "got out of hospital after my attempt and nobody at school knows",
        "thinking of ending everything tonight",
        "i've been collecting my pills for months",
    ],
    ("self-harm",): [
        "i started hurting myself again after 2 years, i feel like such a failure",
        "there's blood on my sheets again and i have to wash them before mum sees",
        "i hide razors in my makeup bag",
        "my arms look like a barcode",
        "the urge to cut is so strong tonight",
        "i slice my thighs where nobody can see",
        "i dig my nails into my arms until they bleed",
        "found out my 13 year old is cutting and i don't know what to do",
        "i keep hitting myself in the head when i get overwhelmed",
        "haven't self harmed in 6 months!!!",
        "i burn my skin with a hot knife",
        "i used to pull my hair out and punch myself when i was stressed",
        "my scars are so visible in summer, how do you cope",
        "day 30 without hurting myself",
        "i relapsed last night after 4 months, the blade was right there",
        "my girlfriend found my stash of razors and cried",
        "cut deeper than i meant to and now i'm scared to go to a&e",
        "i hurt myself whenever i mess up at work",
        "i keep picking at my scabs until they scar, on purpose",
        "i bruise myself so no one can see",
        "my wrists are covered in plasters and my mum thinks it's eczema",
        "what do i tell the nurse about the cuts on my legs",
        "self-destructive again, punched myself in the face in the mirror",
        "had the urge to hurt myself all day but i held ice instead",
        "my teen has been self-injuring and the school just told me",
        "wearing a bandage over my forearm and telling people i fell",
        "sh is the only way i can cope right now",
        "just clean a week and already want to relapse",
        "i carve into my skin when the panic gets too much",
        "my arms are a mess again, summer is going to be hard",
    ],
    ("eating-disorders",): [
        "i've been throwing up after every meal for a month",
        "i'm terrified of gaining weight, i weigh myself 10 times a day",
        "only ate an apple and a coffee today, proud of myself",
        "i haven't had a proper meal in weeks",
        "i binge until i feel sick and then hate myself",
        "the dietitian wants me to gain 5kg and i'm panicking",
        "my sister is wasting away and won't admit she has a problem",
        "i feel disgusting after eating anything",
        "my period stopped because i lost so much weight",
        "i chew gum all day so i don't eat",
        "i have to run 10k to earn dinner",
        "i'm in recovery from anorexia and today was hard",
        "trying to get back under 45kg",
        "i count every single calorie and panic if i go over 500",
        "my nutritionist says i'm underweight but i still see fat",
        "i make myself vomit when i eat too much",
        "i've lost 10kg in a month by barely eating and everyone says i look great",
        "can't stop bingeing at night then starving all day",
        "my daughter has stopped eating and only drinks water",
        "feeling huge after one slice of pizza, i'll skip tomorrow",
        "purge thoughts are so loud after dinner",
        "my ribs are finally showing and i want more",
        "i lie to my family about eating",
        "day 1 of recovery meal plan, terrified",
        "i'm scared of food. every meal feels like a test",
        "my weight is the only thing i can control right now",
        "hid food in my napkin at my aunt's so she'd think i ate",
        "i'm at my lowest weight ever and it's still not enough",
    ],
    (): [
        "i won't be here much longer, moving to berlin in june",
        "the team would be better off if i just disappeared from the group chat lol",
        "letters to my kids for when they turn 18, just in case i forget what i wanted to say",
        "how many pills it takes to make a difference for hay fever, asking for a friend",
        "standing on the bridge tonight watching the fireworks, almost froze",
        "i don't want to exist in a world without tacos",
        "thinking about walking to the bus station instead of driving",
        "my grandmother took her life savings to the casino",
        "life isn't worth living without coffee lol",
        "collecting my pills from the pharmacy for the month",
        "sliced my thumb on the mandoline, six stitches",
        "dig my nails into the dough until it comes together",
        "burned my arm with a hot knife making pizza",
        "throwing up after every meal this week, stomach bug going round",
        "only had a coffee today, busy busy, proud of how much i got done",
        "haven't had a proper meal in weeks since we moved, living on takeaway",
        "binge until sick of it, the new season is long",
        "my dietitian says i need more fibre and to gain some weight after the illness",
        "my old dog is wasting away, vet says it's his kidneys",
        "i feel so fat after eating at grandma's, christmas done right",
        "period stopped for two months after the stress of the move, doctor says normal",
        "i drink coffee so i don't feel hungry before the gym",
        "earn your dinner: our 30 minute hiit workout",
        "my suitcase has to be under 23kg",
        "found a stash of razor blades in the old shed, careful with the kids around",
        "cut deeper than i meant to into the cake, now it's lopsided",
        "picking at the wounds of the last election on purpose, the pundits love it",
        "bruise myself every time i walk past that coffee table",
        "my wrists are covered in bracelets from the festival",
        "my legs are a mess again after the mud run",
        "sh is the only thing i type in my terminal all day",
        "barely eating at the wedding because the food was late, lost track of time",
        "stopped eating meat and only drinks oat milk now, my vegan sister",
        "feel huge after one beer, lightweight",
        "lied to my mum about eating the last biscuit",
        "my athlete recovery meal plan is mostly pasta",
        "my dog is scared of food bowls that move",
        "the budget is the only thing i can control this month",
        "lowest weight class he has ever fought at, still not enough to win",
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
    for more in (
        DEV_EVERYDAY,
        DEV_INDIRECT,
        DEV_ROUND4,
        DEV_ROUND4_COMMON,
        DEV_ROUND4_MORE,
        DEV_ROUND4_INDIRECT,
    ):
        for labels, texts in more.items():
            DEV.setdefault(labels, []).extend(texts)
    dev = [t for ts in DEV.values() for t in ts]
    earlier = [json.loads(ln) for ln in EARLIER.read_text("utf-8").splitlines() if ln.strip()]
    splits = {"dev": dev + [item["text"] for item in earlier], "test": test}
    splits.update((split.name, posts_in(split.path)) for split in HELD_OUT)
    names = list(splits)
    for i, one in enumerate(names):
        for two in names[i + 1 :]:
            shared = shared_posts(splits[one], splits[two])
            if shared:
                raise SystemExit(f"{one} and {two} share posts: {shared}")
    for name, written in (("test", TEST), ("dev", DEV)):
        split = BY_NAME[name]
        assert split.seed is not None
        rows = build(written, name, split.seed)
        if name == "dev":
            rows.extend(
                {"text": item["text"], "labels": item["labels"], "split": "dev"} for item in earlier
            )
        split.path.write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8"
        )
        neutral = sum(1 for r in rows if not r["labels"])
        print(f"{split.path.name}: {len(rows)} posts, {neutral} neutral")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
