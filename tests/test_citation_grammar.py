"""One grammar for the body parser and the linter: what one cites, the other cites."""

from hypothesis import given, settings
from hypothesis import strategies as st

from articles.body import parse
from articles.lint import CITED_MARK, cited_sentences, uncited_claims

# Pieces of Markdown with every bracket-at variant, well formed or not, in prose and in code.
PIECES = [
    "Acupuncture relieves back pain",
    "Needling cures sciatica",
    " most people feel better",
    "[@k]",
    "[@a; @b]",
    "[@k, p. 3]",
    "[ @k]",
    "[-@k]",
    "[ - @k]",
    "[@ k]",
    "\\[@k]",
    "[@k",
    "[@]",
    "[@a, @b]",
    "`[@k]`",
    "[link](http://x.y)",
    "![alt [@k]](i.png)",
    "<b>",
    "<script>[@k]</script>",
    ". ",
    "! ",
    "? ",
    ", ",
    " e.g. ",
    " Dr. ",
    " 2.5 ",
    "\n",
    "\n\n",
    "  \n",
    "\n- ",
    "\n> ",
    "\n## ",
    "\n| a | b |\n|---|---|\n| ",
    " | ",
    "\n```\n",
    "\\",
    "[",
    "]",
    "@",
    " ",
]
bodies = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)
settings_ = settings(max_examples=300, deadline=None)


def squash(text):
    # Code spans are a placeholder for the linter and literal code for the parser.
    text = text.replace("\ufffc", "").replace("[@k]", "").replace(CITED_MARK, " ")
    return " ".join(text.split())


def markers(parsed):
    return sum(len(claim.cites) > 0 for claim in parsed.claims)


@settings_
@given(bodies)
def test_linter_and_parser_agree_on_what_is_cited(text):
    parsed = parse(text)
    cited = cited_sentences(text)
    # Every marker parse() cites sits in a sentence the linter treats as cited ...
    assert sum(sentence.count(CITED_MARK) for sentence in cited) == markers(parsed)
    # ... and every such sentence yields a cited claim whose text it contains.
    if "`" in text:
        return  # code spans are a placeholder for the linter and literal text in claims
    sentences = [squash(sentence) for sentence in cited]
    for claim in parsed.claims:
        if claim.text:
            assert any(squash(claim.text) in sentence for sentence in sentences)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["[ @k]", "[-@k]", "[ - @k]", "\\[@k]", "[@ k]", "[@k", "[@]", "[@a, @b]"]),
    st.sampled_from(["Acupuncture cures back pain for good", "Needling eases sciatica"]),
)
def test_no_bracket_at_variant_is_silently_uncited(marker, claim):
    text = f"{claim} {marker}."
    parsed = parse(text)
    assert parsed.claims == ()
    assert [error.line for error in parsed.errors] == [1]
    assert cited_sentences(text) == []
    assert uncited_claims(text)  # the linter still warns about the claim itself
