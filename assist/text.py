"""One spelling per word, for comparing what was said with what was written or heard before.

tiny.en writes "gonna" in one pass and "going to" in the next, "alright" or "all right",
"can't" or "cannot": the rules' phrases are matched, and a window's words are checked
against those already committed, after contractions and slang are expanded on both sides.
"""

from __future__ import annotations

import re

_EXPANSIONS: dict[str, str] = {
    "gonna": "going to", "wanna": "want to", "gotta": "got to", "kinda": "kind of",
    "lemme": "let me", "gimme": "give me", "cannot": "can not", "cant": "can not",
    "wont": "will not", "dont": "do not", "doesnt": "does not", "didnt": "did not",
    "isnt": "is not", "arent": "are not", "wasnt": "was not", "werent": "were not",
    "havent": "have not", "hasnt": "has not", "hadnt": "had not", "couldnt": "could not",
    "wouldnt": "would not", "shouldnt": "should not", "im": "i am", "ive": "i have",
    "youre": "you are", "youve": "you have",
    "youll": "you will", "youd": "you would", "weve": "we have",
    "theyre": "they are", "theyve": "they have", "its": "it is", "thats": "that is",
    "theres": "there is", "whats": "what is", "lets": "let us", "okay": "ok", "alright": "all right",
}
_TOKEN = re.compile(r"[a-z0-9]+")
_CONTRACTIONS = [(re.compile(p), r) for p, r in (
    (r"\bcan't\b", "can not"), (r"\bwon't\b", "will not"), (r"n't\b", " not"),
    (r"'ll\b", " will"), (r"'re\b", " are"), (r"'ve\b", " have"), (r"\bi'm\b", "i am"),
    (r"'d\b", " would"),
)]


def canonical_tokens(text: str) -> list[str]:
    """Lower-case word tokens with punctuation dropped and contractions expanded."""
    text = text.lower().replace("\u2019", "'")
    if "'" in text:
        for pattern, replacement in _CONTRACTIONS:
            text = pattern.sub(replacement, text)
    out: list[str] = []
    for raw in _TOKEN.findall(text.replace("'", "")):
        out.extend(_EXPANSIONS.get(raw, raw).split())
    return out
