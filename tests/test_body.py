import gc
import re
import string
import time
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles.body import ALLOWED_TAGS, Cite, parse
from articles.citation_grammar import HIDDEN_CONTENT_TAGS
from articles.lint import uncited_claims


def sup(number):
    return f'<sup><a href="#ref-{number}">{number}</a></sup>'


# Numbering and rendering


def test_marker_renders_as_numbered_link():
    parsed = parse("Acupuncture beat usual care at 8 weeks [@cherkin2009].")

    assert parsed.html == f"<p>Acupuncture beat usual care at 8 weeks {sup(1)}.</p>\n"
    assert parsed.errors == ()


def test_keys_are_numbered_by_first_appearance_and_reused():
    parsed = parse("One [@b]. Two [@a]. Three [@b]. Four [@c; @a].")

    assert parsed.references == ("b", "a", "c")
    assert parsed.keys == frozenset({"a", "b", "c"})
    assert [sup(1), sup(2), sup(1), sup(3)] == re.findall(r"<sup><a.*?</sup>", parsed.html)[:4]


def test_multi_key_marker_renders_one_sup_per_key_separated_by_commas():
    parsed = parse("Both trials agree [@haake2007; @cherkin2009].")

    assert f"agree {sup(1)}<sup>,</sup>{sup(2)}." in parsed.html
    assert parsed.claims[0].keys == ("haake2007", "cherkin2009")


def test_locators_are_kept_per_key():
    parsed = parse("Fewer days off work [@haake2007, p. 1895; @cherkin2009, table 2; @x_y-9].")

    assert parsed.claims[0].cites == (
        Cite(key="haake2007", locator="p. 1895"),
        Cite(key="cherkin2009", locator="table 2"),
        Cite(key="x_y-9", locator=""),
    )


def test_marker_may_wrap_across_lines():
    parsed = parse("Both agree [@haake2007;\n@cherkin2009, p.\n12].")

    assert parsed.errors == ()
    assert parsed.claims[0].cites == (
        Cite(key="haake2007", locator=""),
        Cite(key="cherkin2009", locator="p. 12"),
    )


def test_markdown_headings_sit_below_the_page_title():
    html = parse("# One\n\n## Two\n\n### Three\n\n###### Six").html

    assert html == "<h2>One</h2>\n<h2>Two</h2>\n<h3>Three</h3>\n<h6>Six</h6>\n"


def test_lists_tables_blockquotes_emphasis_and_links_render():
    html = parse(
        "- *one*\n- **two**\n\n3. three\n\n> quoted ~~old~~\n\n"
        "| a | b |\n|:--|--:|\n| c | d |\n\n[home](/) ![Knee X-ray](knee.png)\n\n---"
    ).html

    assert "<ul>\n<li><em>one</em></li>\n<li><strong>two</strong></li>\n</ul>" in html
    assert '<ol start="3">' in html
    assert "<blockquote>\n<p>quoted <del>old</del></p>\n</blockquote>" in html
    assert "<th>a</th>" in html
    assert "<td>d</td>" in html
    assert "style=" not in html
    assert '<a href="/">home</a>' in html
    assert '<img src="knee.png" alt="Knee X-ray">' in html
    assert "<hr>" in html


def test_links_to_other_sites_get_noopener_and_local_links_do_not():
    html = parse(
        "[NICE](https://www.nice.org.uk/) [us](/about/) [call](tel:+441234) [#](#top)"
    ).html

    assert '<a href="https://www.nice.org.uk/" rel="noopener noreferrer">NICE</a>' in html
    assert '<a href="/about/">us</a>' in html
    assert '<a href="tel:+441234">call</a>' in html
    assert '<a href="#top">#</a>' in html


# Claim text


def test_claim_runs_from_the_start_of_its_sentence():
    parsed = parse("Back pain is common. Acupuncture beat *usual care* at 8 weeks [@cherkin2009].")

    assert parsed.claims[0].text == "Acupuncture beat usual care at 8 weeks"


def test_claim_runs_from_the_previous_marker_in_the_same_sentence():
    parsed = parse("Pain fell [@a], and function improved [@b; @c].")

    assert [(claim.text, claim.keys) for claim in parsed.claims] == [
        ("Pain fell", ("a",)),
        ("and function improved", ("b", "c")),
    ]


def test_marker_after_a_full_stop_supports_the_sentence_just_ended():
    parsed = parse("It helps. [@a] Does it last? Yes [@b].")

    assert [claim.text for claim in parsed.claims] == ["It helps.", "Yes"]


@pytest.mark.parametrize(
    "sentence",
    [
        "Cherkin et al. found less pain at 8 weeks",
        "Some treatments, e.g. acupuncture, help",
        "Some treatments (i.e. needling) help",
        "Pain fell by 2.5 points",
        "Results differ (see p. 1895 and Fig. 2)",
        "Dr. Smith and J. Jones agree",
        "Scores fell vs. placebo",
    ],
)
def test_abbreviations_and_decimals_do_not_split_sentences(sentence):
    parsed = parse(f"An earlier sentence ends here. {sentence} [@a].")

    assert parsed.claims[0].text == sentence


def test_whitespace_and_markup_are_collapsed_into_plain_text():
    parsed = parse("A *claim*\nspanning  `two` [lines](/x)   of text [@a].")

    assert parsed.claims[0].text == "A claim spanning two lines of text"


def test_list_items_table_cells_and_headings_start_new_claims():
    parsed = parse(
        "Intro text\n\n- first item [@a]\n- second item [@b]\n\n"
        "| Outcome | Effect |\n|---|---|\n| pain relief [@c] | moderate [@d] |\n\n"
        "## Heading claim [@e]\n"
    )

    assert [(claim.text, claim.line) for claim in parsed.claims] == [
        ("first item", 3),
        ("second item", 4),
        ("pain relief", 8),
        ("moderate", 8),
        ("Heading claim", 10),
    ]


def test_claim_line_is_the_line_of_the_marker():
    parsed = parse("Title\n\nA long sentence\nwrapped over\nthree lines [@a].")

    assert parsed.claims[0].line == 5


@pytest.mark.parametrize(
    ("source", "column"),
    [
        ("[@a] opens the paragraph.", 1),
        ("- [@a] opens the item.", 3),
        ("One claim [@a] [@b].", 16),
        ("One claim [@a]; [@b].", 17),
    ],
)
def test_marker_without_claim_text_is_reported_and_still_listed(source, column):
    parsed = parse(source)

    assert [(error.code, error.line, error.column) for error in parsed.errors] == [
        ("marker_without_claim", 1, column)
    ]
    assert parsed.claims[-1].text == ""
    assert sup(len(parsed.references)) in parsed.html


# Malformed markers


@pytest.mark.parametrize(
    ("source", "code", "marker"),
    [
        ("Pain fell [@cherkin2009 at 8 weeks.", "unclosed_marker", "[@cherkin2009"),
        ("Pain fell [@", "unclosed_marker", "[@"),
        ("Pain fell [@]", "empty_marker", "[@]"),
        ("Pain fell [@;]", "empty_marker", "[@;]"),
        ("Pain fell [@ key]", "empty_key", "[@ key]"),
        ("Pain fell [@key;]", "empty_key", "[@key;]"),
        ("Pain fell [@a;; @b]", "empty_key", "[@a;; @b]"),
        ("Pain fell [@a; @, p. 3]", "empty_key", "[@a; @, p. 3]"),
        ("Pain fell [@a; b]", "missing_at", "[@a; b]"),
        ("Pain fell [@bad key!]", "bad_key", "[@bad key!]"),
        ("Pain fell [@café]", "bad_key", "[@café]"),
        ("Pain fell [@smith.2009]", "bad_key", "[@smith.2009]"),
        ("Pain fell [@key p. 3]", "bad_key", "[@key p. 3]"),
        ("Pain fell [@a, @b]", "comma_between_keys", "[@a, @b]"),
        ("Pain fell [@a; @a]", "duplicate_key", "[@a; @a]"),
    ],
)
def test_malformed_marker_is_reported_at_its_position_and_rendered_literally(source, code, marker):
    parsed = parse(f"First line.\n\n{source} and more.")

    [error] = parsed.errors
    assert (error.code, error.line, error.column, error.marker) == (code, 3, 11, marker)
    assert error.message.startswith("Line 3: ")
    assert f'"{marker}"' in error.message
    assert f"{marker.replace('&', '&amp;')}" in parsed.html
    assert parsed.claims == ()
    assert "<sup>" not in parsed.html


def test_unclosed_marker_message_reads_plainly():
    [error] = parse("\n\n\nPain fell [@cherkin2009 at 8 weeks.").errors

    assert error.message == 'Line 4: citation marker "[@cherkin2009" is not closed with "]".'


def test_unclosed_marker_does_not_swallow_the_next_marker():
    parsed = parse("Pain fell [@a at 8 weeks. Function improved [@b].")

    assert [error.code for error in parsed.errors] == ["unclosed_marker"]
    assert [(claim.text, claim.keys) for claim in parsed.claims] == [("Function improved", ("b",))]


@pytest.mark.parametrize(
    ("source", "line", "column"),
    [
        ("> - nested item [@bad key!]", 1, 17),
        ("Para\ncontinued and [@x y]", 2, 15),
        ("  Indented start [@x y]", 1, 18),
        ("## Heading [@x y] ##", 1, 12),
        ("| a | b |\n|---|---|\n| same [@x y] | same [@x y] |", 3, 22),
        ("Setext [@x y]\n===", 1, 8),
        ("- a\n\n  second paragraph [@x y]", 3, 20),
    ],
)
def test_error_columns_account_for_container_prefixes(source, line, column):
    parsed = parse(source)

    assert (parsed.errors[-1].line, parsed.errors[-1].column) == (line, column)


def test_error_positions_survive_windows_line_endings():
    [error] = parse("One.\r\nTwo [@x y].\r\n").errors

    assert (error.line, error.column) == (2, 5)


def test_markers_in_code_are_neither_citations_nor_errors():
    parsed = parse("Use `[@key]` inline.\n\n    [@indented\n\n```\n[@fenced; @x]\n```\n")

    assert parsed.claims == ()
    assert parsed.errors == ()
    assert "<code>[@key]</code>" in parsed.html


def test_email_addresses_are_not_markers():
    parsed = parse("Write to a@b.com or [a@b.com], or type `[@key]` literally.")

    assert parsed.claims == ()
    assert parsed.errors == ()
    assert "[@key]" in parsed.html


@pytest.mark.parametrize(
    ("text", "code", "column"),
    [
        ("Acupuncture cures back pain for good [ @cherkin2009].", "bad_opening", 38),
        ("Acupuncture cures back pain for good [-@cherkin2009].", "bad_opening", 38),
        ("Acupuncture cures back pain for good [ - @cherkin2009].", "bad_opening", 38),
        ("Acupuncture cures back pain for good [\n@cherkin2009].", "bad_opening", 38),
        ("Acupuncture cures back pain for good \\[@cherkin2009].", "escaped_marker", 38),
        ("Acupuncture cures back pain for good \\[ @cherkin2009].", "escaped_marker", 38),
        ("Acupuncture cures back pain for good [@ cherkin2009].", "empty_key", 38),
        ("Acupuncture cures back pain for good [@cherkin2009 .", "unclosed_marker", 38),
    ],
)
def test_every_bracket_at_variant_is_a_citation_or_an_error_with_its_position(text, code, column):
    parsed = parse(text)

    assert parsed.claims == ()
    assert [(error.code, error.line, error.column) for error in parsed.errors] == [
        (code, 1, column)
    ]
    assert "Line 1: " in parsed.errors[0].message


def test_marker_inside_raw_html_block_is_reported_but_not_in_a_comment():
    parsed = parse("<div>\nclaim [@a] here\n</div>\n\n<!-- dropped [@b] -->\n")

    assert [(error.code, error.line, error.column) for error in parsed.errors] == [
        ("marker_in_html", 2, 7)
    ]
    assert parsed.claims == ()
    assert "<div" not in parsed.html


def test_marker_inside_image_description_is_reported():
    [error] = parse("See ![chart [@a]](chart.png).").errors

    assert (error.code, error.column) == ("marker_in_image", 5)


# Images


def test_image_without_alt_text_is_reported():
    parsed = parse("Intro.\n\nSee ![](knee.png) and ![   ](hip.png) and ![Knee X-ray](knee.png).")

    assert [(error.code, error.line, error.column) for error in parsed.errors] == [
        ("image_without_alt", 3, 5),
        ("image_without_alt", 3, 23),
    ]
    assert "knee.png" in parsed.errors[0].message


# Hostile input


class _Elements(HTMLParser):
    def __init__(self, html):
        super().__init__()
        self.tags = []
        self.attributes = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend((tag, name, value or "") for name, value in attrs)


def assert_safe(html):
    elements = _Elements(html)
    assert set(elements.tags) <= ALLOWED_TAGS
    for tag, name, value in elements.attributes:
        assert not name.startswith("on"), (tag, name)
        assert name in {"href", "src", "alt", "title", "rel", "start"}, (tag, name)
        if name in {"href", "src"}:
            scheme = re.match(r"\s*([a-z][a-z0-9+.-]*):", value, re.IGNORECASE)
            assert scheme is None or scheme.group(1).lower() in {"http", "https", "mailto", "tel"}
    assert "<script" not in html.lower()


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert('xss')</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<img src=x onerror=alert(1)>",
        "Inline <img src=x onerror=alert(1)> image",
        "<img src=x onerror=alert('xss')>",
        '<a href="javascript:alert(1)">click</a>',
        "Inline <a href='javascript:alert(1)'>click</a> link",
        "[click](javascript:alert(1))",
        "[click](JAVASCRIPT:alert(1))",
        "[click](&#106;avascript:alert(1))",
        "[click](java&#x09;script:alert(1))",
        "[click](vbscript:msgbox)",
        "[click][evil]\n\n[evil]: javascript:alert(1)",
        "[x](<javascript:alert(1)>)",
        "<javascript:alert(1)>",
        "![x](javascript:alert(1))",
        "![x](data:image/png;base64,iVBORw0KGgo=)",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<img src="data:image/svg+xml;base64,PHN2Zz4=" alt="x">',
        "<svg onload=alert(1)><circle/></svg>",
        "<svg><a xlink:href='javascript:alert(1)'><text>x</text></a></svg>",
        "<iframe src='https://evil.example/'></iframe>",
        '<p style="position:fixed" onclick="alert(1)">hi</p>',
        "Inline <b style=color:red onmouseover=alert(1)>bold</b> text",
        "<object data='x.swf'></object><embed src='x.swf'>",
        "<math><mi xlink:href='javascript:alert(1)'>x</mi></math>",
        '<form action="https://evil.example/"><input name="q"></form>',
        "<h1>Second page title</h1>",
    ],
)
def test_hostile_html_never_reaches_the_output(source):
    html = parse(f"Before.\n\n{source}\n\nAfter [@a].").html

    assert_safe(html)
    for live in ["<img src=x", "<svg", "<iframe", "<object", "<embed", "<form", "<input", "<h1"]:
        assert live not in html
    assert "style=" not in html
    assert "After " + sup(1) in html


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert('xss')</script>",
        "Text <script>alert('xss')</script> more",
        "<svg><script>alert('xss')</script></svg>",
        "Inline <svg><script>alert('xss')</script></svg> svg",
        "<style>body { alert('xss') }</style>",
        "Inline <style>p { alert('xss') }</style> style",
        "Inline <iframe src='https://evil.example/'>alert('xss')</iframe> frame",
        "<!--<script>alert('xss')</script>-->",
    ],
)
def test_script_and_style_contents_do_not_appear_as_text(source):
    html = parse(f"Before.\n\n{source}\n\nAfter [@a].").html

    assert_safe(html)
    assert "alert" not in html
    assert "After " + sup(1) in html


def test_dangerous_link_is_reported_and_its_text_kept():
    parsed = parse("Read [this page](javascript:alert(1)) now.")

    assert parsed.html == "<p>Read this page now.</p>\n"
    assert [(error.code, error.column) for error in parsed.errors] == [("unsafe_link", 6)]


# Text encoding


def test_non_ascii_round_trips():
    source = (
        "L'acupuncture réduit la douleur [@cherkin2009]. 针灸可以减轻疼痛。疼痛减少[@haake2007]。"
        " الوخز بالإبر يخفف الألم [@a-1]. Less pain 😀 [@b]."
    )
    parsed = parse(source)

    assert parsed.errors == ()
    assert [claim.text for claim in parsed.claims] == [
        "L'acupuncture réduit la douleur",
        "疼痛减少",
        "الوخز بالإبر يخفف الألم",
        "Less pain 😀",
    ]
    assert "针灸可以减轻疼痛。疼痛减少" in parsed.html
    assert "الوخز بالإبر يخفف الألم" in parsed.html
    assert "😀" in parsed.html


def test_nul_bytes_and_lone_surrogates_are_replaced():
    parsed = parse("Pain\x00 fell \ud800 a lot [@a].\udfff")

    assert "\x00" not in parsed.html
    assert "\ufffd" in parsed.html
    assert parsed.claims[0].text == "Pain\ufffd fell \ufffd a lot"
    parsed.html.encode("utf-8")


# Growth with input size: the CPU time of a large input against one an eighth of its size, in
# the same run. Linear work gives a ratio near 8 (about 12 measured: caches), quadratic work 64;
# the bound sits between. CPU time, not wall time, so other processes on the machine do not count.

GROWTH = 8
LINEAR_BOUND = 4 * GROWTH


def cpu_seconds(function, *args, repeat=1):
    """The least CPU time this process spent on one of `repeat` calls of `function(*args)`,
    and what the last call returned.

    The garbage collector waits meanwhile: a collection would charge one of the sizes with
    objects earlier tests left (collecting first instead cost seconds of CPU on a full heap).
    """
    best, result = float("inf"), None
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            started = time.process_time()
            result = function(*args)
            best = min(best, time.process_time() - started)
    finally:
        if was_enabled:
            gc.enable()
    return best, result


def cited_body(sentences, size):
    """A body of `sentences` cited claims, 40 to a paragraph, padded to `size` characters."""
    claims = [f"Claim {i} holds [@study{i % 700}]." for i in range(sentences)]
    body = "\n\n".join(" ".join(claims[i : i + 40]) for i in range(0, len(claims), 40))
    return body + "\n\n" + "x" * max(0, size - len(body))


@pytest.mark.slow
def test_large_body_parses_in_linear_time():
    large_body = cited_body(20_000, 250_000)
    assert len(large_body.encode()) >= 250_000
    small, _ = cpu_seconds(parse, cited_body(20_000 // GROWTH, 250_000 // GROWTH), repeat=3)
    large, parsed = cpu_seconds(parse, large_body)

    assert len(parsed.claims) == 20_000
    assert parsed.errors == ()
    assert large / small < LINEAR_BOUND, (small, large)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("unit", "times"), [("[@a ", 10_000), ("[@", 20_000), ("a. ", 15_000), ("<!--", 10_000)]
)
def test_pathological_input_grows_linearly(unit, times):
    small, _ = cpu_seconds(parse, unit * (times // GROWTH) + "[@a]", repeat=3)
    large, _ = cpu_seconds(parse, unit * times + "[@a]")
    assert large / small < LINEAR_BOUND, (small, large)


# Properties

markdownish = st.lists(
    st.one_of(
        st.text(max_size=8),
        st.sampled_from(
            [
                "[@", "]", ";", ", p. ", "@", "key", "[@a]", "[@b; @c, p. 2]", "\n", "\n\n",
                "- ", "> ", "# ", "| a | b |\n|---|---|\n", "`", "```\n", "*", "_", "\\",
                "![", "](", ")", "<", ">", "<script>", "</script>", "<img src=x onerror=alert(1)>",
                "javascript:alert(1)", "data:text/html,x", "<a href='javascript:x'>", "<svg>",
                "<!--", "-->", "&#106;", "\x00", "\r\n", "\t", "é", "🙂", ". ", "e.g. ",
            ]
        ),
    ),
    max_size=40,
).map("".join)  # fmt: skip


@pytest.mark.slow
@given(st.text())
def test_parse_never_raises_on_arbitrary_text(text):
    parsed = parse(text)

    assert_safe(parsed.html)


@pytest.mark.slow
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(markdownish)
def test_output_is_safe_for_markdown_like_noise(text):
    parsed = parse(text)

    assert_safe(parsed.html)
    for error in parsed.errors:
        assert error.line >= 1
        assert error.column >= 1


keys = st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=1, max_size=12)
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéüßø中文", min_size=1)
locators = st.sampled_from(["", "p. 3", "pp. 10-12", "table 2", "fig. 1", "chap. 4, para 2"])
markers = st.lists(st.tuples(keys, locators), min_size=1, max_size=3, unique_by=lambda kl: kl[0])


@st.composite
def cited_sentences(draw):
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        cites = draw(markers)
        marker = "; ".join(
            f"@{key}" + (f", {locator}" if locator else "") for key, locator in cites
        )
        text = " ".join(draw(st.lists(words, min_size=1, max_size=5)))
        parts.append((f"{text} [{marker}]", [key for key, _ in cites]))
    ending = draw(st.sampled_from([".", "!", "?"]))
    return " ".join(part for part, _ in parts) + ending, [keys for _, keys in parts]


@st.composite
def cited_bodies(draw):
    lines = []
    expected = []
    for sentence, sentence_keys in draw(st.lists(cited_sentences(), min_size=1, max_size=8)):
        joiner = draw(st.sampled_from([" ", "\n", "\n\n", "\n\n- ", "\n\n> "]))
        lines.append(joiner + sentence)
        expected.extend(sentence_keys)
    return "".join(lines).lstrip(), expected


@pytest.mark.slow
@given(cited_bodies())
def test_every_well_formed_marker_is_found(body_and_keys):
    body, expected = body_and_keys
    parsed = parse(body)

    assert parsed.errors == ()
    assert [list(claim.keys) for claim in parsed.claims] == expected
    assert all(claim.text for claim in parsed.claims)
    first_seen = list(dict.fromkeys(key for keys in expected for key in keys))
    assert parsed.references == tuple(first_seen)
    assert parsed.html.count('<sup><a href="#ref-') == sum(len(keys) for keys in expected)


@pytest.mark.parametrize(
    "tag", sorted(HIDDEN_CONTENT_TAGS | {"div", "span", "p", "section", "details", "em"})
)
@pytest.mark.parametrize("inline", [False, True], ids=["block", "inline"])
def test_raw_html_text_reaches_patients_only_if_the_linter_reads_it(tag, inline):
    claim = "Acupuncture cures cancer and diabetes in most patients."
    body = (
        f"Needling helped [@a]. <{tag}>{claim}</{tag}> Then."
        if inline
        else f"Needling helped [@a].\n\n<{tag}>\n{claim}\n</{tag}>\n"
    )
    shown = claim in parse(body).html
    flagged = any(claim in finding.sentence for finding in uncited_claims(body))
    assert shown == flagged, (tag, shown, flagged)
    assert shown == (tag not in HIDDEN_CONTENT_TAGS)


@pytest.mark.parametrize(
    "html",
    [
        # A ">" inside a quoted attribute: a browser reads the tag to its real end.
        '<div data-x="a>b<textarea>">{claim}</div>',
        # "<!-->" is a whole (empty) comment to a browser.
        "<div><!-->{claim}<!-- --></div>",
        '<div title="<!--">{claim}</div><!-- -->',
        "<div><textarea/>{claim}</div>",
        "<div><TEXTAREA >x</textarea >{claim}</div>",
    ],
)
@pytest.mark.parametrize("inline", [False, True], ids=["block", "inline"])
def test_html_a_browser_reads_differently_never_hides_a_claim_from_the_linter(html, inline):
    claim = "Acupuncture cures cancer and diabetes in most patients."
    raw = html.format(claim=claim)
    body = f"Needling helped [@a]. {raw} Then." if inline else f"Needling helped [@a].\n\n{raw}\n"
    shown = claim in parse(body).html
    flagged = any(claim in finding.sentence for finding in uncited_claims(body))
    assert flagged or not shown, parse(body).html


HTML_PIECES = st.sampled_from(
    [
        "<div>", "</div>", "<textarea>", "</textarea>", "<span title=\"a>b\">", "</span>",
        "<!--", "-->", "<!-->", "<p>", "</p>", "<noscript>", "</noscript>", "<br/>", "\"", ">",
        "<", " ",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(HTML_PIECES, max_size=8), st.lists(HTML_PIECES, max_size=8))
def test_no_raw_html_around_a_claim_shows_it_to_patients_unlinted(before, after):
    claim = "Acupuncture cures cancer and diabetes in most patients."
    raw = "".join(before) + claim + "".join(after)
    for body in (f"Needling helped [@a].\n\n<div>{raw}\n", f"Needling helped [@a]. {raw}"):
        shown = claim in parse(body).html
        flagged = any(claim in finding.sentence for finding in uncited_claims(body))
        assert flagged or not shown, (body, parse(body).html)
