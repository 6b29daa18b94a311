"""Does a patient's question read like an emergency? A pure function over a word list.

A question is not a triage form: this only catches wording that should never wait for a reply
("chest pain", "can't feel my legs", "bladder"), so the patient sees the urgent advice at once
and staff see the question first. It errs towards flagging: a false alarm costs a reader one
extra paragraph of advice; a miss could cost far more.
"""

import re
import unicodedata

# Phrases matched as whole words in the lower-cased question, after the spellings below are
# made one ("cannot" and "cant" read as "can't"). Back-pain red flags first (the clinic's own
# urgent flags in the intake form), then general emergencies.
EMERGENCY_PHRASES = (
    "bladder",
    "bowel",
    "incontinent",
    "incontinence",
    "wet myself",
    "can't pee",
    "can't wee",
    "can't urinate",
    "struggling to pee",
    "struggling to wee",
    "struggling to urinate",
    "trouble peeing",
    "can't pass urine",
    "can't control my bladder",
    "lost control",
    "saddle",
    "numb bottom",
    "numbness around",
    "numb around",
    "numb between my legs",
    "can't feel my legs",
    "can't feel my leg",
    "can't feel my feet",
    "can't move my legs",
    "can't move my leg",
    "legs are weak",
    "leg weakness",
    "legs giving way",
    "can't walk",
    "can't stand",
    "chest pain",
    "pain in my chest",
    "chest tightness",
    "can't breathe",
    "short of breath",
    "shortness of breath",
    "struggling to breathe",
    "fainted",
    "passed out",
    "collapsed",
    "unconscious",
    "stroke",
    "face drooping",
    "slurred speech",
    "severe bleeding",
    "coughing blood",
    "vomiting blood",
    "high fever",
    "fever",
    "suicidal",
    "kill myself",
    "end my life",
    "overdose",
)

_SPELLINGS = (
    (re.compile(r"\bcan\s*not\b"), "can't"),
    (re.compile(r"\bcant\b"), "can't"),
    (re.compile(r"\bcould\s*n[o']?t\b"), "can't"),
    (re.compile(r"\s+"), " "),
)
_PATTERNS = tuple(
    # A plural ending still counts ("chest pains"): the list errs towards flagging. Where the
    # list has the plural itself ("can't feel my legs" beside "...my leg"), that one names it.
    (
        phrase,
        re.compile(
            r"(?<![\w'])"
            + re.escape(phrase)
            + ("" if f"{phrase}s" in EMERGENCY_PHRASES else r"(?:e?s)?")
            + r"(?![\w'])"
        ),
    )
    for phrase in EMERGENCY_PHRASES
)


def normalise(text: str) -> str:
    """Lower case, curly apostrophes straightened, one spelling of "can't", single spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    for pattern, replacement in _SPELLINGS:
        text = pattern.sub(replacement, text)
    return text


def emergency_terms(text: str) -> list[str]:
    """The emergency phrases found in `text`, in list order (empty: none)."""
    normalised = normalise(text)
    return [phrase for phrase, pattern in _PATTERNS if pattern.search(normalised)]
