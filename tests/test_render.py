"""Tests for nerkit.render: exact fragments, escaping, colours, skipped entities and whole pages."""

from __future__ import annotations

import pytest

from nerkit.errors import NerkitError
from nerkit.render import label_colours, render_fragment, render_html
from nerkit.text.document import Document, Entity, parse_text

COLOURS = {"PER": "#ffd6a5", "LOC": "#caffbf"}


def entity_at(text: str, part: str, label: str, confidence: float | None = None) -> Entity:
    """An entity over the first occurrence of `part` in `text`."""
    start = text.index(part)
    return Entity(start, start + len(part), label, part, confidence)


def test_fragment_with_two_entities_is_exact():
    text = "Maria Voss visited Port Halvery.\nThen home."
    document = parse_text(text)
    document.entities += [entity_at(text, "Maria Voss", "PER", 0.971), entity_at(text, "Port Halvery", "LOC")]
    assert render_fragment(document, COLOURS) == (
        '<mark class="entity" style="background: #ffd6a5" title="PER 0.97">'
        'Maria Voss<span class="label">PER</span></mark>'
        " visited "
        '<mark class="entity" style="background: #caffbf" title="LOC">'
        'Port Halvery<span class="label">LOC</span></mark>'
        ".\nThen home."
    )


def test_text_is_escaped():
    document = Document("<script>alert(1)</script> & more")
    assert render_fragment(document, {}) == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"


def test_label_and_entity_text_are_escaped():
    text = 'say "A<B & C" now'
    document = Document(text, entities=[entity_at(text, '"A<B & C"', 'X<&"Y', 0.5)])
    assert render_fragment(document, {'X<&"Y': "#abc"}) == (
        'say <mark class="entity" style="background: #abc" title="X&lt;&amp;&quot;Y 0.50">'
        '&quot;A&lt;B &amp; C&quot;<span class="label">X&lt;&amp;&quot;Y</span></mark> now'
    )
    page = render_html([document])
    assert "<script" not in page
    assert '<span class="key" style="background: #ffadad">X&lt;&amp;&quot;Y</span>' in page


def test_common_labels_have_fixed_distinct_colours():
    colours = label_colours(["PER", "LOC", "ORG", "MISC"])
    assert colours == {"LOC": "#caffbf", "MISC": "#fdffb6", "ORG": "#a0c4ff", "PER": "#ffd6a5"}
    assert label_colours(["MISC"]) == {"MISC": "#fdffb6"}


def test_other_labels_take_the_palette_in_sorted_order_and_cycle():
    labels = [f"L{i:02d}" for i in range(10)]
    colours = label_colours(reversed(labels))
    assert list(colours) == labels
    assert colours["L00"] == "#ffadad"
    assert colours["L01"] == "#bdb2ff"
    assert colours["L08"] == colours["L00"]
    assert colours["L09"] == colours["L01"]
    assert len(set(colours.values())) == 8
    assert label_colours(labels) == colours
    assert label_colours(["PER", "DATE", "PER"]) == {"DATE": "#ffadad", "PER": "#ffd6a5"}


def test_user_colours_override():
    assert label_colours(["PER", "DATE"], {"PER": "tomato", "DATE": "#123456"}) == {
        "DATE": "#123456",
        "PER": "tomato",
    }
    assert label_colours(["LOC"], {"PER": "#fff"}) == {"LOC": "#caffbf"}


@pytest.mark.parametrize("value", ["red; color: x", "#12345", "#ggg", "", "url(x)", 'red" onclick="x'])
def test_bad_colour_raises(value):
    with pytest.raises(NerkitError) as error:
        label_colours(["PER"], {"PER": value})
    assert str(error.value) == f"colour {value!r} for PER is not a CSS colour; use #rrggbb or a colour name"


def test_render_html_rejects_bad_colour():
    with pytest.raises(NerkitError, match="is not a CSS colour"):
        render_html([parse_text("x")], colours={"PER": "red;"})


def test_overlapping_out_of_order_and_out_of_range_entities_are_skipped():
    text = "New York City"
    document = Document(
        text,
        entities=[
            Entity(9, 13, "LOC", "City"),
            Entity(0, 8, "LOC", "New York"),
            Entity(4, 13, "ORG", "York City"),  # overlaps "New York"
            Entity(0, 3, "MISC", "New"),  # same start as "New York": the longer one wins
            Entity(10, 20, "PER", "ity..."),  # past the end
            Entity(-1, 2, "PER", "?Ne"),  # before the start
            Entity(5, 5, "PER", ""),  # empty
        ],
    )
    assert render_fragment(document, COLOURS) == (
        '<mark class="entity" style="background: #caffbf" title="LOC">New York<span class="label">LOC</span></mark>'
        ' <mark class="entity" style="background: #caffbf" title="LOC">City<span class="label">LOC</span></mark>'
    )


def test_skipped_entities_are_not_counted_in_the_legend():
    document = Document(
        "ab", entities=[Entity(0, 2, "PER", "ab"), Entity(1, 2, "ORG", "b"), Entity(3, 4, "LOC", "")]
    )
    page = render_html([document])
    assert '<ul class="legend"><li><span class="key" style="background: #ffd6a5">PER</span>' in page
    assert '<span class="count">1</span></li></ul>' in page
    assert "ORG" not in page
    assert ">LOC<" not in page


def test_emoji_and_combining_characters_before_an_entity():
    text = "\U0001f469\u200d\U0001f52c Zoe\u0301 met Ren\u0303e in \U0001f1eb\U0001f1f7 Paris"
    document = parse_text(text)
    document.entities += [
        entity_at(text, "Zoe\u0301", "PER"),
        entity_at(text, "Ren\u0303e", "PER"),
        entity_at(text, "Paris", "LOC"),
    ]
    fragment = render_fragment(document, COLOURS)
    assert fragment == (
        "\U0001f469\u200d\U0001f52c "
        '<mark class="entity" style="background: #ffd6a5" title="PER">Zoe\u0301<span class="label">PER</span></mark>'
        ' met <mark class="entity" style="background: #ffd6a5" title="PER">Ren\u0303e<span class="label">PER</span>'
        "</mark> in \U0001f1eb\U0001f1f7 "
        '<mark class="entity" style="background: #caffbf" title="LOC">Paris<span class="label">LOC</span></mark>'
    )


def test_empty_document():
    document = Document("")
    assert render_fragment(document, {}) == ""
    page = render_html([document])
    assert '<p class="empty">no entities found</p>' in page
    assert '<div class="doc"><div class="caption">document 1</div><div class="text"></div></div>' in page


def test_empty_list_is_a_page_saying_no_documents():
    page = render_html([], title="Run <7>")
    assert page.startswith('<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n')
    assert "<title>Run &lt;7&gt;</title>" in page
    assert "<h1>Run &lt;7&gt;</h1>" in page
    assert '<p class="empty">no documents</p>' in page
    assert 'class="doc"' not in page
    assert "legend" not in page.split("</style>")[1]
    assert page.endswith("</body>\n</html>\n")


def test_page_has_legend_documents_and_no_external_assets():
    first = parse_text("Ada Lovelace worked in London.")
    first.entities += [
        entity_at(first.text, "Ada Lovelace", "PER", 0.9),
        entity_at(first.text, "London", "LOC"),
    ]
    second = parse_text("Acme Corp hired Ada Lovelace.")
    second.entities += [
        entity_at(second.text, "Acme Corp", "ORG"),
        entity_at(second.text, "Ada Lovelace", "PER"),
    ]
    page = render_html([first, second], colours={"ORG": "#eee"})
    assert (
        '<ul class="legend">'
        '<li><span class="key" style="background: #caffbf">LOC</span><span class="count">1</span></li>'
        '<li><span class="key" style="background: #eee">ORG</span><span class="count">1</span></li>'
        '<li><span class="key" style="background: #ffd6a5">PER</span><span class="count">2</span></li>'
        "</ul>"
    ) in page
    assert '<div class="caption">document 1</div>' in page
    assert '<div class="caption">document 2</div>' in page
    assert f'<div class="text">{render_fragment(second, {"ORG": "#eee"})}</div>' in page
    assert '<mark class="entity" style="background: #eee" title="ORG">Acme Corp' in page
    assert "<script" not in page
    assert "http" not in page
    assert "<link" not in page
    assert "no entities found" not in page
