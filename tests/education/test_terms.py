from types import SimpleNamespace

from education.terms import TermLinker


def term(word, slug, definition="A meaning."):
    return SimpleNamespace(term=word, slug=slug, definition=definition)


def test_each_word_is_explained_once_on_its_first_use_in_page_order():
    linker = TermLinker([term("catheter", "catheter", "A thin, soft tube.")])
    first = str(linker("The catheter is thin. A catheter bends."))
    assert first.count('popovertarget="def-catheter"') == 2  # the word, and "Close"
    assert '<span class="term-definition" id="def-catheter" popover>' in first
    assert "A thin, soft tube." in first
    assert "def-catheter" not in linker("Later, the catheter again.")


def test_a_longer_term_wins_over_a_shorter_one_inside_it_even_after_it_is_explained():
    linker = TermLinker([term("spinal fluid", "spinal-fluid"), term("fluid", "fluid")])
    assert 'popovertarget="def-spinal-fluid">spinal fluid</button>' in linker("Clear spinal fluid.")
    second = linker("More spinal fluid here. A fluid pocket.")
    assert 'popovertarget="def-fluid">fluid</button>' in second
    assert "spinal <button" not in second


def test_text_and_definitions_are_escaped_and_words_inside_other_words_are_left_alone():
    linker = TermLinker([term("trial", "trial", "A <test> & more.")])
    html = str(linker("<b>Trials</b> & a trial."))
    assert "&lt;b&gt;Trials&lt;/b&gt; &amp; a " in html
    assert 'popovertarget="def-trial">trial</button>' in html
    assert "A &lt;test&gt; &amp; more." in html
