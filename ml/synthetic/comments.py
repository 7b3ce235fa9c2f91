"""User-written text: comments with a latent sentiment, and search queries.

The sentiment classifier trained later must learn from wording, so the text is varied on purpose: many
templates per class, negation ("not bad at all"), mixed opinions where the clause after "but" carries the
overall verdict, neutral chatter, emoji, typos, and now and then personal data (e-mail, phone) that staging
has to mask.
"""

from __future__ import annotations

import random

import numpy as np

from .world import TOPICS

SENTIMENTS = ("negative", "neutral", "positive")
NEGATIVE, NEUTRAL, POSITIVE = 0, 1, 2

TYPO_SHARE = 0.12
EMOJI_SHARE = 0.15
PII_SHARE = 0.015
SEARCH_EMAIL_SHARE = 0.004

# Opinion thresholds: below NEG_CUT negative, above POS_CUT positive; gives about 32/26/42 % of comments.
NEG_CUT, POS_CUT = -0.7, 0.45

NOUNS = {
    "sports": ["match", "game", "highlight reel", "goal", "race", "play", "comeback"],
    "music": ["song", "track", "album", "cover", "remix", "live set", "music video"],
    "gaming": ["stream", "run", "build", "game", "patch", "speedrun", "let's play"],
    "news": ["report", "story", "update", "coverage", "interview", "segment", "briefing"],
    "tech": ["review", "phone", "laptop", "setup", "unboxing", "tutorial", "comparison"],
    "fashion": ["outfit", "look", "collection", "haul", "fit", "lookbook", "style guide"],
    "food": ["recipe", "dish", "cake", "meal", "pasta", "burger", "street food tour"],
    "travel": ["trip", "vlog", "hotel tour", "beach day", "city guide", "hike", "road trip"],
    "finance": ["analysis", "tip", "breakdown", "market update", "budget plan", "explainer", "deep dive"],
    "comedy": ["sketch", "bit", "skit", "joke", "stand-up set", "prank", "parody"],
    "beauty": ["tutorial", "routine", "look", "palette review", "skincare routine", "makeover", "GRWM"],
    "education": ["lesson", "explainer", "lecture", "tutorial", "course", "walkthrough", "crash course"],
}
ASPECTS = {
    "sports": ["the commentary", "the defence", "that last goal", "the camera work", "the referee", "the finish"],
    "music": ["the vocals", "the beat", "the chorus", "the mixing", "the lyrics", "the bass line"],
    "gaming": ["the graphics", "the gameplay", "the boss fight", "the frame rate", "the map design", "the loot"],
    "news": ["the reporting", "the sources", "the headline", "the interview", "the analysis", "the fact-checking"],
    "tech": ["the battery life", "the screen", "the camera", "the build quality", "the performance", "the price"],
    "fashion": ["the colours", "the fabric", "the styling", "the shoes", "the fit", "the accessories"],
    "food": ["the seasoning", "the sauce", "the texture", "the plating", "the portion", "the crust"],
    "travel": ["the views", "the drone shots", "the itinerary", "the hotel", "the editing", "the tips"],
    "finance": ["the advice", "the numbers", "the charts", "the explanation", "the risk section", "the examples"],
    "comedy": ["the punchline", "the timing", "the ending", "the delivery", "the writing", "the acting"],
    "beauty": ["the blending", "the foundation", "the lighting", "the product picks", "the eyeliner", "the shades"],
    "education": ["the explanation", "the examples", "the pacing", "the diagrams", "the voice-over", "the exercises"],
}
SEARCH_KEYWORDS = {
    "sports": ["football highlights", "nba scores", "champions league", "marathon training", "tennis open",
               "f1 race", "cricket world cup", "transfer news"],
    "music": ["new album", "live concert", "lofi beats", "guitar cover", "festival lineup", "top hits",
              "piano tutorial", "karaoke"],
    "gaming": ["speedrun", "patch notes", "walkthrough", "esports final", "minecraft build", "open world games",
               "gaming setup", "boss guide"],
    "news": ["election results", "breaking news", "weather storm", "economy news", "press conference",
             "local news", "world news today", "climate summit"],
    "tech": ["phone review", "laptop deals", "ai tools", "smartwatch", "unboxing", "gpu benchmark",
             "budget earbuds", "home server"],
    "fashion": ["summer outfits", "sneaker drop", "thrift haul", "capsule wardrobe", "streetwear", "fashion week",
                "winter coat", "vintage jeans"],
    "food": ["pasta recipe", "easy dinner", "vegan burger", "sourdough", "street food", "meal prep",
             "chocolate cake", "ramen"],
    "travel": ["cheap flights", "beach resort", "city guide", "backpacking", "hiking trails", "road trip",
               "travel hacks", "hidden gems"],
    "finance": ["index funds", "stock market today", "budgeting tips", "crypto news", "mortgage rates",
                "side hustle", "retirement plan", "tax tips"],
    "comedy": ["stand up comedy", "funny fails", "prank video", "sketch comedy", "memes", "roast",
               "improv", "parody song"],
    "beauty": ["skincare routine", "makeup tutorial", "nail art", "hair color", "drugstore makeup", "sunscreen",
               "eyeliner tricks", "glow up"],
    "education": ["calculus explained", "learn python", "history documentary", "study tips", "spanish lesson",
                  "physics lecture", "essay writing", "exam prep"],
}
SEARCH_MODIFIERS = ["best", "how to", "2026", "live", "near me", "review", "cheap", "top 10", "tutorial",
                    "latest", "vs", "explained", "for beginners", "today"]

POSITIVE_WORDS = ["amazing", "great", "awesome", "brilliant", "fantastic", "incredible", "so good", "beautiful",
                  "perfect", "excellent", "super helpful", "impressive", "top notch", "wholesome", "fire"]
NEGATIVE_WORDS = ["awful", "terrible", "boring", "cringe", "bad", "disappointing", "painful", "a mess",
                  "mediocre", "annoying", "unwatchable", "overrated", "misleading", "lazy", "trash"]
INTENSIFIERS = ["really", "so", "absolutely", "honestly", "totally", "super", "genuinely", "pretty", "just"]
NAMES = ["sam", "alex", "maria", "jo", "kim", "lena", "omar", "priya", "tom", "yuki", "chris", "ana"]

TEMPLATES = {
    POSITIVE: [
        "{intens} {pos} {noun}",
        "{aspect} is {intens} {pos}",
        "love {aspect}",
        "love this {noun} so much",
        "this {noun} is {pos}",
        "best {noun} I've seen in a while",
        "not bad at all",
        "not {neg} at all, {aspect} is {pos}",
        "can't stop watching this",
        "{pos}! {aspect} is on point",
        "wow, {aspect} is {pos}",
        "{aspect} could be better but overall {intens} {pos}",
        "{aspect} is {neg} but I still love this {noun}",
        "didn't expect much but this {noun} is {pos}",
        "never disappoints",
        "10/10 would watch again",
        "this made my day",
        "saved it, {intens} {pos}",
        "thank you for this {noun}",
        "how is this so {pos}",
        "{pos} as always",
        "no complaints, {aspect} is {pos}",
        "nothing {neg} about this, {pos} {noun}",
        "not gonna lie, {aspect} is {pos}",
        "more of this please",
    ],
    NEGATIVE: [
        "{aspect} is {neg}",
        "{intens} {neg} {noun}",
        "not worth it",
        "waste of time",
        "not {pos} at all",
        "this {noun} is {neg}",
        "love {aspect} but {aspect2} is {intens} {neg}",
        "{aspect} was {pos} but the rest is {neg}",
        "{aspect} was {neg}, {aspect2} too",
        "I want my time back",
        "worst {noun} this week",
        "why is {aspect} so {neg}",
        "not good, {aspect} ruins it",
        "could not finish it, {intens} {neg}",
        "clickbait",
        "{neg}. just {neg}.",
        "nothing {pos} about this",
        "not even close to {pos}",
        "expected more, {aspect} is {neg}",
        "don't bother with this {noun}",
        "who thought {aspect} was a good idea",
        "unfollowing after this {noun}",
        "no, just no",
        "this is not it",
        "I don't recommend this {noun}",
    ],
    NEUTRAL: [
        "where is this?",
        "what's the name of this {noun}?",
        "first",
        "anyone here in 2026?",
        "watching this on my lunch break",
        "saving this for later",
        "ok",
        "it's fine I guess",
        "not sure how I feel about {aspect}",
        "{aspect} is okay, nothing special",
        "part 2?",
        "same {noun} as last week?",
        "who else came from the search page",
        "how long did this take?",
        "which {noun} is this",
        "@{name} check this",
        "interesting {noun}",
        "hmm",
        "does anyone know when the next {noun} comes out?",
        "{aspect}: decent. {aspect2}: average",
        "not bad, not great",
        "can you do one about {keyword}?",
        "is this the {noun} from yesterday",
        "commenting for the algorithm",
        "{aspect} reminds me of the old days",
    ],
}
EMOJI = {
    POSITIVE: ["😍", "🔥", "👏", "❤️", "😂", "🙌", "✨"],
    NEGATIVE: ["👎", "😡", "🙄", "💀", "😒", "🤦"],
    NEUTRAL: ["🤔", "👀", "🙂", "😐"],
}
EMAIL_DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "web.de", "proton.me", "icloud.com"]
PII_TEMPLATES = ["{text} - email me at {email}", "{text}, contact: {email}", "{text} dm me on {phone}",
                 "{text} call me {phone}", "{email} {text}"]


def sentiment_from_score(score: np.ndarray) -> np.ndarray:
    """Map the latent sentiment score to a class index (NEGATIVE/NEUTRAL/POSITIVE)."""
    return np.where(score < NEG_CUT, NEGATIVE, np.where(score > POS_CUT, POSITIVE, NEUTRAL)).astype(np.int8)


def comment_texts(rnd: random.Random, sentiments: np.ndarray, topics: np.ndarray) -> list[str]:
    return [_comment(rnd, int(s), TOPICS[t]) for s, t in zip(sentiments.tolist(), topics.tolist())]


def search_queries(rnd: random.Random, topics: np.ndarray) -> list[str]:
    return [_query(rnd, TOPICS[t]) for t in topics.tolist()]


def _comment(rnd: random.Random, sentiment: int, topic: str) -> str:
    aspect, aspect2 = rnd.sample(ASPECTS[topic], 2)
    text = rnd.choice(TEMPLATES[sentiment]).format(
        noun=rnd.choice(NOUNS[topic]),
        aspect=aspect,
        aspect2=aspect2,
        pos=rnd.choice(POSITIVE_WORDS),
        neg=rnd.choice(NEGATIVE_WORDS),
        intens=rnd.choice(INTENSIFIERS),
        name=rnd.choice(NAMES),
        keyword=rnd.choice(SEARCH_KEYWORDS[topic]),
    )
    text = _vary_style(rnd, text, sentiment)
    if rnd.random() < TYPO_SHARE:
        text = _typo(rnd, text)
    if rnd.random() < EMOJI_SHARE:
        text = f"{text} {rnd.choice(EMOJI[sentiment]) * rnd.randint(1, 3)}"
    if rnd.random() < PII_SHARE:
        text = rnd.choice(PII_TEMPLATES).format(text=text, email=_email(rnd), phone=_phone(rnd))
    return text


def _vary_style(rnd: random.Random, text: str, sentiment: int) -> str:
    r = rnd.random()
    if r < 0.30:
        text = text[0].upper() + text[1:]
    elif r < 0.35 and sentiment != NEUTRAL:
        text = text.upper()
    r = rnd.random()
    if r < 0.10:
        text += "!!" if sentiment != NEUTRAL else "..."
    elif r < 0.18:
        text += "."
    return text


def _typo(rnd: random.Random, text: str) -> str:
    """One keyboard slip: swap two neighbouring letters, drop one, or double one."""
    if len(text) < 4:
        return text
    i = rnd.randrange(1, len(text) - 2)
    kind = rnd.randrange(3)
    if kind == 0:
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    if kind == 1:
        return text[:i] + text[i + 1:]
    return text[:i] + text[i] + text[i:]


def _query(rnd: random.Random, topic: str) -> str:
    keyword = rnd.choice(SEARCH_KEYWORDS[topic])
    r = rnd.random()
    if r < SEARCH_EMAIL_SHARE:
        return _email(rnd)
    if r < 0.45:
        return keyword
    if r < 0.80:
        return f"{rnd.choice(SEARCH_MODIFIERS)} {keyword}"
    if r < 0.92:
        return f"{keyword} {rnd.choice(SEARCH_MODIFIERS)}"
    return f"{keyword} {rnd.choice(SEARCH_KEYWORDS[topic])}"


def _email(rnd: random.Random) -> str:
    sep = rnd.choice([".", "_", ""])
    return f"{rnd.choice(NAMES)}{sep}{rnd.choice(NAMES)}{rnd.randint(1, 99)}@{rnd.choice(EMAIL_DOMAINS)}"


def _phone(rnd: random.Random) -> str:
    return rnd.choice([
        f"+1 {rnd.randint(200, 989)} 555 {rnd.randint(1000, 9999)}",
        f"0{rnd.randint(150, 179)} {rnd.randint(1000000, 9999999)}",
        f"+44 7700 {rnd.randint(900000, 900999)}",
        f"({rnd.randint(200, 989)}) 555-{rnd.randint(1000, 9999)}",
    ])
