"""Score how strongly one sentence asserts something about health: a small linear model.

The linter (`articles.lint`) asks this module two questions about a sentence that cites
nothing: does it assert something about health, and what kind of claim is it? Both answers come
from linear models over the same explainable features:

* words and word pairs (lower-cased, with a crude suffix stemmer), which carry most of the
  signal on prose like a clinic's website;
* lexicon features that generalise beyond the words seen in training: health topics (conditions,
  body parts and processes, treatments, supplements, energy and tradition words), what is
  asserted (effect verbs, evidence appeals, safety words, comparisons and superlatives, numbers,
  time courses, a first-person outcome), and what makes a sentence not assert (hedges,
  negation, disclaimers, booking, prices, what happens during a session);

The hand-written patterns of `articles.lint` then lower the bar for a sentence they match.

The weights are data (``claim_model.json`` beside this file), written by
``benchmarks/train_lint_model.py`` from the development corpus only; nothing is downloaded. A
finding's reason names the features that contributed most, so a reviewer can see why a sentence
was flagged. Scoring is a dictionary lookup per feature: linear in the sentence's length.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

MODEL_PATH = Path(__file__).with_name("claim_model.json")

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|%|\u00a3|\$|\u20ac")
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "edly", "ness", "ly", "es", "ed", "s")


@cache
def _stem(word: str) -> str:
    return stem(word)


def stem(word: str) -> str:
    """A crude stem, so that "relieves", "relieved" and "relieving" share a feature."""
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _lexicon(words: str) -> str:
    return words


# Each lexicon is a feature: its name is how a reason describes it.
LEXICONS: dict[str, str] = {
    "a condition or symptom": _lexicon(
        r"pain\w*|aches?|aching|sore\w*|stiff\w*|tight\w*|tension|knots?|spasms?|cramps?"
        r"|sciatica|migraines?|headaches?|arthritis|osteoarthritis|injur\w+|sprains?|strains?"
        r"|symptoms?|conditions?|disorders?|disease\w*|illness\w*|inflam\w+|swell\w*|fatigue"
        r"|insomnia|anxiety|anxious|depress\w+|stress\w*|nausea|colic|infertility|fertility"
        r"|incontinence|leak\w*|dizz\w+|vertigo|whiplash|tendin\w+|tendon\w*|fasciitis"
        r"|fibromyalgia|asthma|allerg\w+|hay\s+fever|ibs|bloating|constipation|reflux"
        r"|flare-?ups?|numbness|tingling|cravings?|cellulite|acne|eczema|psoriasis|wrinkles"
        r"|fine\s+lines|puffiness|fluid\s+retention|blood\s+pressure|cholesterol|obesity"
        r"|weight|menopaus\w*|perimenopaus\w*|hot\s+flushes|night\s+sweats|pms|period\s+pain"
        r"|immune\w*|infections?|colds?|flu|brain\s+fog|mood|sleep\w*|energy|discomfort"
        r"|complaints?|problems?|issues|damage|degenerat\w+|disabilit\w+|imbalances?"
    ),
    "the body": _lexicon(
        r"back|neck|spine|spinal|shoulders?|knees?|hips?|joints?|muscles?|muscular|nerves?"
        r"|nervous|brain|discs?|vertebra\w*|pelvi\w+|ligaments?|tendons?|fascia|tissues?|skin"
        r"|blood|lymph\w*|circulation|organs?|liver|kidneys?|gut|digest\w+|stomach|heart"
        r"|lungs?|breathing|hormon\w+|cortisol|serotonin|endorphins?|oxytocin|dopamine"
        r"|collagen|cells?|bones?|skull|jaw|feet|foot|ankles?|wrists?|elbows?|heel|hamstrings?"
        r"|glutes?|posture|body|bodies|mind|head|ribs?|abdomen|bladder|uterus|womb|immune"
        r"|metabolism|inflammation|healing|recovery|mobility|flexibility|range\s+of\s+motion"
    ),
    "a treatment": _lexicon(
        r"acupunctur\w*|needl\w*|chiropract\w*|adjustments?|manipulation|osteopath\w*|physio\w*"
        r"|massages?|cupping|hijama|cups|moxibustion|reflexology|reiki|homeopath\w*|naturopath\w*"
        r"|herbal|herbs?|supplements?|vitamins?|minerals?|magnesium|zinc|omega|probiotics?"
        r"|collagen|turmeric|curcumin|cbd|drips?|infusions?|iv|shockwave|ultrasound|tens"
        r"|taping|dry\s+needling|cranial|craniosacral|sacral|hydrotherapy|exercises?"
        r"|rehab\w*|treatments?|therap\w+|sessions?|care|remed\w+|medicines?|medication\w*"
        r"|painkillers?|drugs?|surgery|injections?|detox\w*|cleanse\w*|tonics?|tinctures?"
    ),
    "an effect verb": _lexicon(
        r"relie\w+|eas\w+|reduc\w+|lower\w*|improv\w+|boost\w*|enhanc\w+|restor\w+|heal\w*"
        r"|cure\w*|cures|curing|treat\w*|help\w*|fix\w*|resolv\w+|clear\w*|eliminat\w+"
        r"|remov\w+|releas\w+|stimulat\w+|activat\w+|trigger\w*|increas\w+|decreas\w+"
        r"|strengthen\w*|loosen\w*|free\w*|unlock\w*|unblock\w*|balanc\w+|rebalanc\w+"
        r"|regulat\w+|support\w*|promot\w+|speed\w*|accelerat\w+|calm\w*|sooth\w+|lift\w*"
        r"|prevent\w*|protect\w*|repair\w*|rebuild\w*|reset\w*|flush\w*|draw\w*|pull\w*"
        r"|break\w*\s+(?:up|down)|work\w*\s+out|gets?\s+rid|settl\w+|correct\w*|realign\w*"
        r"|addresses|tackles?|target\w*|alleviat\w+|soften\w*|plump\w*|tone\w*|detox\w*"
        r"|disappear\w*|vanish\w*|gone|stopped|sorted|transform\w*|works?|worked|effective"
    ),
    "a body process": _lexicon(
        r"causes?|caus\w+|leads?\s+to|results?\s+in|keeps?|makes?|forces?|puts?|compress\w*"
        r"|weaken\w*|disrupt\w*|affects?|interferes?|restricts?|limits?|blocks?|builds?\s+up"
        r"|loses?|adapts?|drives?|driver|responds?|signals?|messages?|flows?|circulat\w+"
        r"|tighten\w*|shorten\w*|contract\w*|produc\w+|becomes?|turns?\s+into|show\s+up"
    ),
    "an evidence appeal": _lexicon(
        r"stud(?:y|ies)|research\w*|trials?|evidence|science|scientific\w*|scientists?"
        r"|proven|prove[sd]?|clinically|meta-analys[ie]s|reviews?|journals?|data|nice"
        r"|guidelines?|who|nhs|recommend\w*|endors\w+|recogni[sz]\w+|backed|demonstrat\w+"
        r"|confirm\w*|shown|shows|found"
    ),
    "a safety word": _lexicon(
        r"safe\w*|risks?|risky|risk-free|harm\w*|side[- ]effects?|adverse|complications?"
        r"|gentle|non-invasive|natural\w*|toxic|non-toxic|sterile|infection|bruis\w+"
        r"|painless|hypoallergenic|dangers?|dangerous"
    ),
    "a comparison or superlative": _lexicon(
        r"better|best|more\s+effective|most|safest|leading|number\s+one|no\.\s*1|superior"
        r"|than|unlike|whereas|rather\s+than|instead\s+of|beats?|outperform\w*|top|award\w*"
        r"|rated|voted|only|first-line|gold\s+standard|far|just\s+as|as\s+well\s+as"
        r"|conventional|western|little\s+to\s+offer|mask"
    ),
    "a number": _lexicon(
        r"\d+(?:[.,]\d+)?\s*(?:%|per\s*cent|percent)?|one|two|three|four|five|six|seven"
        r"|eight|nine|ten|half|third|quarter|twice|double|triple|majority|most|many|millions?"
        r"|thousands?|everyone|almost\s+every\w*|nearly\s+every\w*"
    ),
    "a time course": _lexicon(
        r"within|weeks?|months?|years?|days?|sessions?|treatments?|visits?|course|usually"
        r"|typically|generally|often|normally|tends?\s+to|immediately|straight\s+away|soon"
        r"|after|until|long-term|lasting|last|left\s+untreated|without\s+treatment"
        r"|maintenance|chronic|acute|return\w*|come\s+back|get\s+worse|worsen\w*"
    ),
    "a prevalence word": _lexicon(
        r"common\w*|affects?|affecting|suffer\w*|widespread|prevalen\w+|experienc\w+"
        r"|on\s+the\s+rise|increasingly|epidemic|one\s+in|in\s+(?:ten|five|three|four|six"
        r"|seven|eight|twenty|\d+)|out\s+of|adults|people|population|worldwide|cause\s+of"
    ),
    "a personal outcome": _lexicon(
        r"i|i'm|i've|i'd|my|me|mine|our\s+son|our\s+daughter|she|he|his|her|thanks\s+to"
        r"|amazed|amazing|brilliant|couldn't\s+believe|life-changing|miracle|finally"
    ),
    "tradition or energy": _lexicon(
        r"qi|chi|meridians?|channels?|yin|yang|energy|energies|energetic|balance\w*|imbalance\w*"
        r"|detox\w*|toxins?|toxicity|stagna\w+|impure|humours?|chakras?|aura|vital\w*"
        r"|life\s+force|ancient|traditional|tradition|centuries|years\s+of|wisdom|holistic"
        r"|whole\s+person|innate|subluxations?|misalign\w+|blockages?|flow|heat|damp|wind"
        r"|cold|spleen|liver"
    ),
    "a hedge": _lexicon(
        r"may|might|could|possibl\w*|perhaps|some\s+people|some\s+patients|for\s+some"
        r"|mixed|limited|inconsistent|inconclusive|uncertain|unclear|unknown|unproven"
        r"|modest|small\s+at\s+best|hard\s+to\s+say|not\s+(?:yet\s+)?(?:clear|known|proven)"
        r"|results\s+vary|varies|vary|everyone\s+is\s+different|responds\s+differently"
        r"|no\s+guarantee|can't\s+guarantee|cannot\s+guarantee|cannot\s+promise|can't\s+promise"
        r"|although|though|however|still\s+developing|few|poor\s+quality|we\s+think|seems?"
        r"|appears?|suggests?|worth\s+trying|honestly|unlikely|not\s+everyone"
    ),
    "a negation": _lexicon(
        r"not|no|never|cannot|can't|won't|don't|doesn't|isn't|aren't|wasn't|didn't|nor"
        r"|neither|without|none|nothing"
    ),
    "a disclaimer": _lexicon(
        r"consult|gp|doctor|midwife|surgeon|emergency|999|111|a&e|advice|information\s+only"
        r"|educational|general\s+information|not\s+medical\s+advice|diagnos\w+|seek|stop"
        r"|tell\s+your|speak\s+to|talk\s+to|check\s+with|please|always|suitable|typical"
        r"|individual|guarantee|replace|substitute|concerns?"
    ),
    "booking or prices": _lexicon(
        r"book\w*|appointments?|call|phone|email|online|reception|opening|open|hours|parking"
        r"|price\w*|costs?|fees?|\u00a3|\$|\u20ac|pay\w*|discount\w*|offer|vouchers?|gift"
        r"|insur\w+|cancel\w*|reschedul\w*|deposit|minutes|consultation|packages?|floor"
        r"|walk|station|bus|tube|lift|access|located|address|website|newsletter|sign\s+up"
    ),
    "what happens in a session": _lexicon(
        r"will\s+ask|will\s+assess|will\s+check|will\s+explain|will\s+discuss|will\s+examine"
        r"|you'll\s+lie|you'll\s+be|you\s+may\s+be\s+asked|are\s+placed|are\s+removed"
        r"|are\s+left|is\s+applied|we\s+use|we\s+may|during\s+(?:your|the)\s+(?:first\s+)?"
        r"(?:visit|session|appointment)|at\s+the\s+end\s+of|involves|include\w*|wear|undress"
        r"|towels?|couch|gown|history|questionnaire|assessment|examination|forms?"
        r"|qualified|registered|member\w*|graduat\w+|trained|training|experience|team"
        r"|specialis\w+|interest|practis\w+|practic\w+|founded|welcome|since"
    ),
}


def _split_alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of a regular expression written as ``a|b(?:c|d)|e``."""
    items, depth, start = [], 0, 0
    for i, char in enumerate(pattern):
        if char == "(" and pattern[i - 1 : i] != "\\":
            depth += 1
        elif char == ")" and pattern[i - 1 : i] != "\\":
            depth -= 1
        elif char == "|" and depth == 0:
            items.append(pattern[start:i])
            start = i + 1
    items.append(pattern[start:])
    return items


# Matching eighteen long alternations against every sentence is slow in Python's re, so each
# lexicon is split: single words are matched against each word of the sentence (and the answer
# cached per word), and only the few multi-word entries are searched for in the sentence.
_ONE_WORD = re.compile(r"[a-z0-9\\w*?+():|\[\]\u00a3$\u20ac%]+")
_SINGLE: dict[str, re.Pattern[str]] = {}
_PHRASE_GROUPS: list[str] = []
_GROUP_NAMES: dict[str, str] = {}
for _number, (_name, _pattern) in enumerate(LEXICONS.items()):
    _single: list[str] = []
    _multi: list[str] = []
    for _item in _split_alternatives(_pattern):
        is_single = _ONE_WORD.fullmatch(_item) and "\\s" not in _item and "\\d" not in _item
        (_single if is_single else _multi).append(_item)
    _SINGLE[_name] = re.compile("(?:" + "|".join(_single) + ")")
    if _multi:
        _GROUP_NAMES[f"g{_number}"] = _name
        _PHRASE_GROUPS.append(f"(?P<g{_number}>" + "|".join(_multi) + ")")
# One search for every multi-word entry; where two overlap, the first lexicon wins.
_PHRASES = re.compile(r"\b(?:" + "|".join(_PHRASE_GROUPS) + r")\b")


@cache
def _word_lexicons(word: str) -> tuple[str, ...]:
    return tuple(name for name, pattern in _SINGLE.items() if pattern.fullmatch(word))


_QUOTED = re.compile(r"^\s*[\"\u201c]")
_EXCLAIM = re.compile(r"!\s*[\"\u201d']?\s*$")
_YOU_SHOULD = re.compile(r"\byou(?:'ll|\s+will|\s+should)\s+(?:\w+\s+)?(?:notice|feel|see)\b", re.I)


@dataclass(frozen=True)
class Score:
    """How claim-like a sentence reads; its category and reasons are worked out on demand,
    since most sentences are never flagged."""

    probability: float
    names: tuple[str, ...]
    contributions: list[tuple[float, str]]

    @cached_property
    def category(self) -> str:
        """The kind of claim whose model scores the sentence highest."""
        totals: dict[str, float] = dict.fromkeys(_model()["category"], 0.0)
        index = _category_index()
        for name in self.names:
            for category, weight in index.get(name, ()):
                totals[category] += weight
        return max(sorted(totals), key=totals.__getitem__)

    @property
    def because(self) -> tuple[str, ...]:
        """Up to three features that pushed the sentence most towards being a claim."""
        ranked = sorted(self.contributions, reverse=True)
        return tuple(_describe(name) for weight, name in ranked if weight > 0.3)[:3]


def features(sentence: str) -> list[str]:
    """The names of the features present in a sentence (each counts once)."""
    lowered = sentence.lower().replace("\u2019", "'")
    tokens = _WORD.findall(lowered)
    words = [_stem(word) for word in tokens]
    found = {f"w:{word}" for word in words}
    found.update(f"b:{a}_{b}" for a, b in itertools.pairwise(words))
    if words:
        found.add(f"first:{words[0]}")
    hits: dict[str, int] = {}
    for token in tokens:
        for name in _word_lexicons(token):
            hits[name] = hits.get(name, 0) + 1
    for match in _PHRASES.finditer(lowered):
        name = _GROUP_NAMES[match.lastgroup or ""]
        hits[name] = hits.get(name, 0) + 1
    for name, count in hits.items():
        found.add(f"L:{name}")
        if count > 1:
            found.add(f"L2:{name}")
    if _QUOTED.match(sentence):
        found.add("S:quoted")
    if _EXCLAIM.search(sentence):
        found.add("S:exclamation")
    if _YOU_SHOULD.search(sentence):
        found.add("S:you will notice")
    return list(found)


@cache
def _model() -> dict:
    with MODEL_PATH.open(encoding="utf-8") as handle:
        return json.load(handle)


def threshold() -> float:
    """The probability from which a sentence is flagged on the model's word alone."""
    return _model()["threshold"]


def rule_floor() -> float:
    """The lower probability from which a sentence that a claim pattern matches is flagged."""
    return _model()["rule_floor"]


def score(sentence: str) -> Score:
    """Score one sentence."""
    model = _model()
    names = features(sentence)
    weights = model["claim"]
    contributions = [(weights.get(name, 0.0), name) for name in names]
    total = sum(weight for weight, _ in contributions)
    probability = 1 / (1 + math.exp(-max(-30.0, min(30.0, total))))
    return Score(probability=probability, names=tuple(names), contributions=contributions)


@cache
def _category_index() -> dict[str, list[tuple[str, float]]]:
    """Feature name -> [(category, weight)], so a sentence's category takes one lookup a feature."""
    index: dict[str, list[tuple[str, float]]] = {}
    for category, weights in _model()["category"].items():
        for name, weight in weights.items():
            index.setdefault(name, []).append((category, weight))
    return index


def _describe(name: str) -> str:
    kind, _, value = name.partition(":")
    if kind in ("L", "L2"):
        return value
    if kind == "R":
        return "a claim pattern"
    if kind == "S":
        return value
    if kind == "b":
        return f'"{value.replace("_", " ")}"'
    return f'"{value}"'
