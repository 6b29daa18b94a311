import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from articles import lint
from articles.body import parse
from articles.lint import Finding, article_findings, uncited_claims

FLAGGED = [
    ("Acupuncture relieves long-standing low back pain.", "efficacy_word"),
    ("Studies show that acupuncture eases sciatica.", "evidence_appeal"),
    ("Research has found that needling reduces back pain within a week.", "evidence_appeal"),
    ("Acupuncture is clinically proven to help back pain.", "evidence_appeal"),
    ("Our treatments are evidence-based.", "evidence_appeal"),
    ("Smith et al. found that needling lowered pain scores by 2.5 points.", "evidence_appeal"),
    ("Acupuncture is more effective than painkillers for back pain.", "comparison"),
    ("For lower back pain, acupuncture works better than physiotherapy.", "comparison"),
    ("Acupuncture outperforms usual care for chronic back pain.", "comparison"),
    ("About 70% of patients report less pain after four sessions.", "percentage"),
    ("One in three people with back pain feel better after acupuncture.", "statistic"),
    ("Patients who had acupuncture were twice as likely to return to work.", "statistic"),
    ("Most people feel better after their second session.", "most_people"),
    ("The majority of patients with back pain respond well to needling.", "most_people"),
    ("Many of our patients report feeling less stiff after their first visit.", "most_people"),
    ("One session of our signature massage melts away stress and tension.", "efficacy_word"),
    ("A few sessions can help you come off your medication.", "efficacy_word"),
    ("Chiropractic care boosts athletic performance.", "efficacy_word"),
    ("Cupping marks show where toxins were stuck.", "efficacy_word"),
    ("Acupuncture has no downsides.", "safety_claim"),
    ("Acupuncture is completely safe.", "safety_claim"),
    ("Acupuncture has no side effects.", "safety_claim"),
    ("Relief from back pain is guaranteed.", "guarantee"),
    ("Acupuncture cures sciatica.", "cure_claim"),
    ("Acupuncture improves mobility in the lower back.", "efficacy_word"),
    ("It eliminates the need for painkillers.", "efficacy_word"),
    ("Acupuncture works.", "efficacy_word"),
    ("Acupuncture treats sciatica and neck pain.", "efficacy_word"),
    ("Acupuncture is an effective treatment for chronic low back pain.", "efficacy_word"),
    ("Many of our patients are pain-free after a few sessions.", "most_people"),
    ("Acupuncture is not a miracle cure, but it relieves back pain.", "efficacy_word"),
    ("We cannot promise results, but most patients notice a real difference.", "most_people"),
    ("Did you know that acupuncture relieves back pain?", "efficacy_word"),
    ("Book today: three out of four patients are pain-free within a month.", "statistic"),
    ("Studies show acupuncture relieves back pain in 80% of patients.", "evidence_appeal"),
    ("\u201cIt cured my back pain,\u201d says one of our patients.", "cure_claim"),
    ("After six sessions, my back pain had gone.", "efficacy_word"),
    ("Serious side effects from needling are rare.", "safety_claim"),
    ("Our clinic has helped thousands of patients with back pain.", "efficacy_word"),
    ("Painkillers work for some people, but acupuncture works for most.", "efficacy_word"),
    ("Chronic back pain can be relieved by acupuncture.", "efficacy_word"),
    ("Patients treated with needling needed fewer painkillers.", "efficacy_word"),
    ("Say goodbye to back pain.", "efficacy_word"),
    ("The World Health Organization recognises acupuncture for back pain.", "evidence_appeal"),
]

NOT_FLAGGED = [
    "Many patients ask where to park.",
    "Please avoid toxins such as cigarette smoke before your visit.",
    "We melt away the stress of booking with online appointments.",
    "Is acupuncture effective for sciatica?",
    "Does acupuncture work for everyone?",
    "Book an appointment online or by phone.",
    "Call us on 0161 496 0000 to arrange your first session.",
    "Fill in our intake form before your first visit.",
    "We are open from 8am until 7pm on weekdays.",
    "An initial consultation costs \u00a365 and takes about an hour.",
    "Each follow-up session lasts around 40 minutes.",
    "We cannot promise that acupuncture will work for you.",
    "Acupuncture is not a cure.",
    "Acupuncture is not a miracle cure for back pain.",
    "Acupuncture does not work for everyone with back pain.",
    "Acupuncture doesn\u2019t work for everyone.",
    "There is no guarantee that acupuncture will relieve your back pain.",
    "There is little good evidence that acupuncture helps sciatica.",
    "It is not yet known whether acupuncture helps sudden back pain.",
    "Your acupuncturist will ask about your medical history and any medicines you take.",
    "The needles are single-use and about as thin as a hair.",
    "You may feel a dull ache or tingling when a needle is placed.",
    "Ask your practitioner whether acupuncture is likely to help your back pain.",
    "If acupuncture works for you, we will agree a plan for follow-up sessions.",
    "New patients get 10% off their first session.",
    "Here is how acupuncture works.",
    "We will find an appointment time that works for you.",
    "Our receptionist works on Mondays and Wednesdays.",
    "Booking online is quicker than phoning.",
    "Many patients come to us hoping for a cure.",
    "Please wear loose clothing so we can reach your lower back.",
    "This page explains what recent studies found about needling and back pain.",
    "Some reviews do not agree on how much acupuncture helps.",
    "One good result cannot show that acupuncture is safe for everyone.",
    "Get urgent help if your back pain comes with numbness in both legs.",
    "Tell us if your back pain has eased since your last visit.",
    "The fee will go on your invoice, and we work with most insurers.",
    "In a 2009 trial, needling reduced back pain more than usual care [@cherkin2009].",
    "Dr. Patel et al. found that acupuncture eased back pain in 600 adults [@patel2015].",
]


# Claims the issue-7 linter judges by what they assert rather than by a fixed phrase.
ASSERTIONS = [
    ("Needling sets off a release of the body's own pain-killing chemicals.", "mechanism"),
    ("A tight lower back pulls the pelvis out of line and strains the knees.", "bodyprocess"),
    ("For a stiff neck, chiropractic does far more good than painkillers.", "comparison"),
    ("Most patients need around six weekly visits before the pain settles.", "prognosis"),
    ("After two visits with Anna my shoulder moves freely again.", "testimonial"),
    ("Needling the wrist clears blocked qi and rebalances the meridians.", "tradition"),
    ("Fire cupping is a very safe procedure with no chance of burns.", "safety"),
]

NOT_ASSERTIONS = [
    "We see many patients with lower back pain.",
    "Our osteopath will ask about your health and watch how you move.",
    "A half-hour massage costs \u00a345, and gift vouchers are available.",
    "Some people find cupping relaxing, although the evidence is limited and mixed.",
    "This website gives general information and is not medical advice.",
    "Could acupuncture help your headaches?",
]


@pytest.mark.parametrize(("sentence", "category"), ASSERTIONS)
def test_flags_what_a_sentence_asserts_with_its_category(sentence, category):
    [finding] = uncited_claims(sentence)
    assert finding.category == category
    assert finding.reason


@pytest.mark.parametrize("sentence", NOT_ASSERTIONS)
def test_leaves_questions_logistics_hedges_and_disclaimers_alone(sentence):
    assert uncited_claims(sentence) == []


def test_titles_and_summaries_are_linted_as_well_as_the_body():
    findings = article_findings(
        "Acupuncture cures sciatica for good",
        "Needling releases endorphins that switch off back pain.",
        "Book online.",
    )
    assert [(f.field, f.where) for f in findings] == [("title", "Title"), ("summary", "Summary")]
    assert article_findings("Does acupuncture help back pain?", "What the trials found.", "") == []


@pytest.mark.parametrize(("sentence", "code"), FLAGGED)
def test_flags_claim(sentence, code):
    findings = uncited_claims(sentence)
    assert [(f.sentence, f.code) for f in findings] == [(sentence, code)]


@pytest.mark.parametrize("sentence", NOT_FLAGGED)
def test_does_not_flag(sentence):
    assert uncited_claims(sentence) == []


def test_tables_have_enough_cases():
    assert len(FLAGGED) >= 20
    assert len(NOT_FLAGGED) >= 20


def test_reason_quotes_the_words():
    [finding] = uncited_claims("Studies show that acupuncture eases sciatica.")
    assert finding.reason == 'Says "Studies show" without a citation.'


def test_most_specific_reason_wins():
    [finding] = uncited_claims("Acupuncture works for 80% of people with back pain.")
    assert finding.code == "percentage"
    assert finding.reason == 'Gives a percentage ("80%") without a citation.'


def test_the_sentence_before_says_what_it_refers_to():
    assert [f.sentence for f in uncited_claims("## Acupuncture\n\nIt works for most.")] == [
        "It works for most."
    ]
    assert uncited_claims("## Booking\n\nIt works on any phone or tablet.") == []


def test_empty_body():
    assert uncited_claims("") == []
    assert uncited_claims("  \n\n\t\n") == []


def test_line_is_where_the_sentence_starts():
    text = (
        "# Back pain\n"
        "\n"
        "Back pain is common. Acupuncture\n"
        "relieves it for many people.\n"
        "\n"
        "- Book online.\n"
        "- Needling eases stiffness.\n"
        "\n"
        "> Acupuncture cured my sciatica!\n"
    )
    assert [(f.line, f.sentence) for f in uncited_claims(text)] == [
        (3, "Back pain is common."),  # a prevalence claim
        (3, "Acupuncture relieves it for many people."),
        (7, "Needling eases stiffness."),
        (9, "Acupuncture cured my sciatica!"),
    ]


def test_line_after_a_line_of_no_break_spaces():
    assert [f.line for f in uncited_claims("Book online.\n\n\u00a0\nAcupuncture cures.")] == [4]


def test_line_counts_crlf_line_endings():
    text = "Book online.\r\n\r\nAcupuncture cures sciatica.\r\n"
    assert [f.line for f in uncited_claims(text)] == [3]


@pytest.mark.parametrize(
    "text",
    [
        "[@cherkin2009] Acupuncture relieves back pain.",
        "Acupuncture [@cherkin2009] relieves back pain.",
        "Acupuncture relieves back pain [@cherkin2009].",
        "Acupuncture relieves back pain. [@cherkin2009]",
        "Acupuncture relieves back pain [@cherkin2009; @haake2007].",
        "Acupuncture relieves back pain [@cherkin2009, table 2].",
        "Acupuncture *relieves* back pain [@cherkin-2009_b].",
    ],
)
def test_marker_anywhere_in_the_sentence_suppresses(text):
    assert uncited_claims(text) == []


def test_marker_covers_only_its_own_sentence():
    text = "Acupuncture relieves back pain [@cherkin2009]. It also improves sleep."
    assert [f.sentence for f in uncited_claims(text)] == ["It also improves sleep."]


def test_a_source_note_cites_the_figures_before_it():
    text = (
        "In our survey of patients with back pain:\n\n"
        "- about 1 in 4 felt drowsy after needling\n"
        "- 12% had mild back pain where a needle went in\n"
        "- acupuncture cured their sciatica\n\n"
        "These figures come from a survey of 3,000 patients [@white2001].\n"
    )
    assert [f.code for f in uncited_claims(text)] == ["cure_claim"]


def test_a_source_note_does_not_reach_past_a_heading():
    text = "## Side effects\n\n12% had back pain.\n\n## Survey\n\nThese figures are ours [@x]."
    assert [f.code for f in uncited_claims(text)] == ["percentage"]


def test_marker_in_a_code_span_does_not_cite():
    findings = uncited_claims("Acupuncture relieves back pain `[@cherkin2009]`.")
    assert [f.code for f in findings] == ["efficacy_word"]


def test_code_blocks_are_ignored():
    text = (
        "```\nAcupuncture cures sciatica.\n```\n\n"
        "    Acupuncture cures sciatica.\n\n"
        "Use the `acupuncture cures` tag.\n"
    )
    assert uncited_claims(text) == []


def test_a_block_of_html_is_read_as_the_text_patients_see():
    # The page shows the text inside raw HTML (articles.body), where no marker can cite.
    text = (
        "Intro.\n\n"
        "<div>\n<p>Cupping draws out toxins.</p><p>Book at reception &amp; save.</p>\n</div>\n\n"
        "<p>Ice <b>cures</b> sprains.<script>acupuncture cures all</script></p>\n\n"
        "<!-- Needling cures everything. -->\n"
    )
    assert [(f.line, f.sentence) for f in uncited_claims(text)] == [
        (4, "Cupping draws out toxins."),
        (7, "Ice <b>cures</b> sprains."),
    ]


def test_link_and_image_urls_are_ignored():
    text = (
        "Directions are on [our map](https://example.org/acupuncture-cures-pain.html).\n\n"
        "![Treatment room](https://example.org/studies-show-it-works.jpg)\n\n"
        "Email <https://example.org/relieves-back-pain> for the leaflet.\n"
    )
    assert uncited_claims(text) == []


def test_link_text_is_prose_and_is_quoted_as_written():
    text = "Acupuncture [relieves back pain](https://example.org/a.b) quickly. Book now."
    [finding] = uncited_claims(text)
    assert finding.sentence == "Acupuncture [relieves back pain](https://example.org/a.b) quickly."


def test_emphasis_inside_a_sentence():
    text = "Acupuncture *really* works. **Studies show** it eases sciatica."
    assert [(f.sentence, f.code) for f in uncited_claims(text)] == [
        ("Acupuncture *really* works.", "efficacy_word"),
        ("**Studies show** it eases sciatica.", "evidence_appeal"),
    ]


def test_sentence_split_keeps_abbreviations_and_decimals_together():
    text = (
        "Smith et al. reported a fall of 2.5 points, i.e. a 12.5% drop in back pain scores, "
        "e.g. in older adults seen by Dr. Jones."
    )
    [finding] = uncited_claims(text)
    assert finding.sentence == text


def test_table_cells_are_read_and_a_row_cites_as_one():
    text = (
        "| Treatment | Result |\n"
        "|-----------|--------|\n"
        "| Acupuncture | 45% less back pain |\n"
        "| Massage [@furlan2015] | 30% less back pain |\n"
    )
    assert [(f.line, f.sentence) for f in uncited_claims(text)] == [(3, "45% less back pain")]


@pytest.mark.parametrize(
    ("heading", "flagged"),
    [
        ("# Is acupuncture effective?", False),
        ("## How acupuncture works", False),
        ("## What the research shows", False),
        ("## Does acupuncture work for back pain", False),
        ("## Acupuncture relieves back pain", True),
        ("Safe and effective\n==================", True),
    ],
)
def test_headings_are_flagged_only_when_declarative(heading, flagged):
    assert bool(uncited_claims(heading)) is flagged


def test_non_ascii_text():
    text = (
        "Acupuncture relieves back pain for caf\u00e9 owners in Z\u00fcrich \u2014 na\u00efvely "
        "or not.\n\n\u201cStudies show\u201d it helps sciatica, says our leaflet.\n\n"
        "\u9488\u7078\u5f88\u597d\u3002 We are open on Saturdays."
    )
    assert [(f.line, f.code) for f in uncited_claims(text)] == [
        (1, "efficacy_word"),
        (3, "evidence_appeal"),
    ]


def test_fingerprint_survives_unrelated_edits():
    [before] = uncited_claims("Acupuncture relieves back pain.")
    [after] = uncited_claims("Book online.\n\nAcupuncture *relieves*  back\npain!")
    [other] = uncited_claims("Acupuncture relieves neck pain.")
    assert before.line != after.line
    assert before.fingerprint == after.fingerprint
    assert before.fingerprint != other.fingerprint


def test_finding_is_frozen():
    finding = Finding(sentence="s", reason="r", line=1, code="c")
    with pytest.raises(AttributeError):
        finding.line = 2  # type: ignore[misc]


def test_work_grows_linearly_with_the_body(monkeypatch):
    # Counting the sentences scored and the patterns tried, not timing: the benchmark
    # (benchmarks/lint_benchmark.py) measures the time for 250 KB.
    paragraph = (
        "Acupuncture relieves back pain for many people. Most people feel better after "
        "three sessions [@cherkin2009]. Book an appointment online, e.g. on a weekday. "
        "See [our prices](https://example.org/prices.html) and `code spans` too.\n\n"
        "| Treatment | Result |\n|---|---|\n| Acupuncture | 45% less pain |\n\n"
        "- Needling eases stiffness.\n- Call us on 0161 496 0000.\n\n"
    )
    calls = {"score": 0, "patterns": 0}
    score, verdict = lint.claim_model.score, lint._rule_verdict

    def counting_score(sentence):
        calls["score"] += 1
        return score(sentence)

    def counting_verdict(sentence, previous):
        calls["patterns"] += 1
        return verdict(sentence, previous)

    monkeypatch.setattr(lint.claim_model, "score", counting_score)
    monkeypatch.setattr(lint, "_rule_verdict", counting_verdict)
    counts = []
    for copies in (50, 200):
        calls.update(score=0, patterns=0)
        findings = uncited_claims(paragraph * copies)
        counts.append((calls["score"], calls["patterns"], len(findings)))
    (small_scores, small_patterns, small_findings), (scores, patterns, found) = counts
    assert small_findings > 0
    assert scores <= 4 * small_scores + 4 and patterns <= 4 * small_patterns + 4
    assert found == 4 * small_findings


# -- Properties ---------------------------------------------------------------------------------

WORDS = [
    "acupuncture",
    "needling",
    "relieves",
    "works",
    "effective",
    "cures",
    "back",
    "pain",
    "sciatica",
    "most",
    "people",
    "patients",
    "studies",
    "show",
    "better",
    "than",
    "safe",
    "guaranteed",
    "not",
    "no",
    "side",
    "effects",
    "30%",
    "1",
    "in",
    "5",
    "times",
    "more",
    "e.g.",
    "Dr.",
    "2.5",
    "*really*",
    "**often**",
    "`code`",
    "caf\u00e9",
    "book",
    "online",
    "we",
    "our",
    "clinic",
    "the",
    "and",
    "with",
    "after",
    "sessions",
    ",",
    "improves",
    "sleep",
]
SUBJECTS = ["Acupuncture", "Needling", "It", "Studies", "Most", "Our", "We", "Patients", "Book"]
MARKER = "[@smith2020]"

sentences = st.builds(
    lambda first, rest: " ".join([first, *rest]) + ".",
    st.sampled_from(SUBJECTS),
    st.lists(st.sampled_from(WORDS), max_size=12),
)
# Pieces of Markdown, so that generated bodies have lists, quotes, tables, links and code.
markdownish = st.lists(
    st.sampled_from(
        [
            *"aAeEs .,!?;:%-*_`[]()@<>#|\\&~\n\t0123456789\u00e9\u2019\u201c\u00a0",
            *["Acupuncture relieves pain", "Studies show", "works", "cures", " most people"],
            *["[@k]", "[a](<b c> 'title')", "](http://x.y/a.b)", "![alt](i.png)", "<http://q.r>"],
            *["\n> ", "\n- ", "\n1. ", "\n\n", "\n    ", "\n```\n", "  \n", "\r\n", "\r"],
            *["\n| a | b |\n|---|---|\n| ", " \\| ", "<b>", "</b>", "&amp;", "\\*"],
            *["e.g.", "Dr.", "2.5", "30%", "\n[r]: http://z\n", "[r]"],
        ]
    ),
    max_size=80,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), markdownish))
def test_never_raises(text):
    for finding in uncited_claims(text):
        assert finding.sentence.strip()
        assert finding.line >= 1
        assert finding.fingerprint


@settings(max_examples=300, deadline=None)
@given(sentences)
def test_citing_a_flagged_sentence_unflags_it(sentence):
    assume(uncited_claims(sentence))
    assert uncited_claims(sentence[:-1] + " " + MARKER + ".") == []


@settings(max_examples=200, deadline=None)
@given(st.lists(sentences, min_size=1, max_size=6))
def test_citing_every_flagged_sentence_leaves_nothing(paragraph):
    # One sentence a line, so a finding's line says which sentence (or run of sentences) it is.
    lines = list(paragraph)
    for finding in uncited_claims("\n".join(lines)):
        first = finding.line - 1
        last = next(
            end
            for end in range(first, len(lines))
            if " ".join(paragraph[first : end + 1]) == finding.sentence
        )
        lines[last] = lines[last][:-1] + " " + MARKER + "."
    assert uncited_claims("\n".join(lines)) == []


def squash(text: str) -> str:
    # Whitespace normalisation; blockquote markers count as layout, like the indentation that
    # markdown also strips from continuation lines.
    return " ".join(text.replace(">", " ").split())


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(alphabet=st.characters(blacklist_characters="\x00")), markdownish))
def test_sentences_are_taken_from_the_input(text):
    # NUL is left out: markdown-it turns it into U+FFFD and Django's forms reject it anyway.
    source = squash(text)
    for finding in uncited_claims(text):
        assert squash(finding.sentence) in source


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(alphabet=st.characters(blacklist_characters="\x00")), markdownish))
def test_line_is_where_the_sentence_is(text):
    lines = re.split(r"\r\n|\r|\n", text)
    for finding in uncited_claims(text):
        assert finding.sentence.split()[0] in lines[finding.line - 1]


def test_pasted_bullet_points_are_sentences_of_their_own():
    # Markdown joins these lines into one paragraph; the bullets still end each item.
    text = (
        "What we offer:\n"
        "• Massage relieves neck pain\n"
        "• Needling improves posture [@smith2020]\n"
        "• Free parking on site\n"
    )
    assert [(f.line, f.sentence) for f in uncited_claims(text)] == [
        (2, "• Massage relieves neck pain")
    ]
    assert [claim.text for claim in parse(text).claims] == ["• Needling improves posture"]


def test_column_labels_are_not_claims():
    text = "| Group | Share who improved |\n|---|---|\n| Needling | 48% [@haake2007] |\n"
    assert uncited_claims(text) == []


def test_a_table_of_figures_is_covered_by_the_citing_sentence_after_it():
    table = (
        "| Group | Share who improved |\n|---|---|\n"
        "| Real acupuncture | 47.6% (about 1 in 2) |\n| Standard care | 27.4% |\n\n"
    )
    cited = table + "Both needle groups did better than standard care [@haake2007].\n"
    assert uncited_claims(cited) == []
    # With a citation later in the paragraph only, the figures stay uncited.
    uncited = table + "Both did better. Trials vary [@haake2007].\n"
    assert [f.sentence for f in uncited_claims(uncited)] == ["47.6% (about 1 in 2)"]
