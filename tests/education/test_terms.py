from types import SimpleNamespace

from education.terms import TermLinker


def term(word, slug):
    return SimpleNamespace(term=word, slug=slug)


def test_each_word_is_linked_once_on_its_first_use_in_page_order():
    linker = TermLinker([term("catheter", "catheter")])
    first = linker("The catheter is thin. A catheter bends.")
    assert first.count('href="#term-catheter"') == 1
    assert 'href="#term-catheter"' not in linker("Later, the catheter again.")


def test_a_longer_term_wins_over_a_shorter_one_inside_it_even_after_it_is_linked():
    linker = TermLinker([term("spinal fluid", "spinal-fluid"), term("fluid", "fluid")])
    assert 'href="#term-spinal-fluid">spinal fluid</a>' in linker("Clear spinal fluid.")
    second = linker("More spinal fluid here. A fluid pocket.")
    assert 'href="#term-fluid">fluid</a> pocket' in second
    assert "spinal <a" not in second


def test_text_is_escaped_and_words_inside_other_words_are_left_alone():
    linker = TermLinker([term("trial", "trial")])
    html = linker("<b>Trials</b> & a trial.")
    assert "&lt;b&gt;Trials&lt;/b&gt; &amp; a " in html
    assert '<a class="term" href="#term-trial">trial</a>.' in html
